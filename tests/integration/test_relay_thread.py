"""A relay running in its thread on the real Redis: an announced text is queued at once, without
waiting for the next sweep."""
from __future__ import annotations

from typing import Any

import pytest
from flask import Flask

from tests.conftest import add_party, create_restaurant, make_config, wait_until
from tests.fakes import Clock, RecordingDispatcher
from waitlist.store import OUTBOX_CHANNEL
from waitlist.web.app import create_app
from workers.relay import OutboxRelay

pytestmark = pytest.mark.integration


@pytest.fixture
def dispatcher() -> RecordingDispatcher:
    return RecordingDispatcher()


@pytest.fixture
def app(real_redis: Any, dispatcher: RecordingDispatcher) -> Flask:
    """The app on the real Redis; the only relay is the one the test starts."""
    app = create_app(make_config(), redis=real_redis, dispatcher=dispatcher, clock=Clock())
    app.testing = True
    return app


def test_a_running_relay_queues_an_announced_text_without_waiting_for_a_sweep(
        app: Flask, dispatcher: RecordingDispatcher, real_redis: Any) -> None:
    client = app.test_client()
    headers = {"Authorization": f"Bearer {create_restaurant(client)['api_key']}"}
    waitlist = app.extensions["waitlist"]
    relay = OutboxRelay(waitlist.messages, waitlist.store, dispatcher, clock=waitlist.clock, sweep_seconds=3600)
    thread, stop = relay.start()
    try:
        wait_until(lambda: real_redis.pubsub_numsub(OUTBOX_CHANNEL)[0][1] == 1)
        add_party(client, headers)
        wait_until(lambda: len(dispatcher.sent) == 1)  # announced, or found by the sweep a relay starts with
        add_party(client, headers)
        wait_until(lambda: len(dispatcher.sent) == 2)  # the next sweep is an hour away: announced
    finally:
        stop.set()
        thread.join(timeout=5)
    assert not thread.is_alive()
