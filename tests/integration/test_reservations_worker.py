"""A reservation's reminder outlives the worker: booked with a real worker and the Twilio-compatible test
server, the worker SIGKILLed between scheduling and firing, a new worker started: the guest gets the
booked text and exactly one reminder, end to end (issue 23).

With test_faults_worker.py's fixtures; as there, the dead worker's scheduler lock (61 s) is waited out, not deleted."""
from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from rq import Queue

from config import Config
from tests.conftest import auth, create_restaurant, make_config
from tests.integration.test_faults_worker import (  # noqa: F401  (the fixtures: a Redis, Twilio, app, workers)
    LOCK_TTL,
    MAINTENANCE_INTERVAL,
    RQWorker,
    app,
    config,
    rq,
    server,
    start_worker,
    twilio,
)
from tests.integration.test_texts_e2e import eventually, worker_env
from tests.redis_servers import RedisServer
from tests.twilio_server import TwilioServer
from waitlist.store.connections import rq_redis, waitlist_redis
from waitlist.texting.dispatch import TIMERS_QUEUE, RQDispatcher
from waitlist.web.app import create_app

pytestmark = [pytest.mark.integration, pytest.mark.slow]

SLUG = "noodle-bar"
GUEST = "+14155552681"
REMINDER_IN_SECONDS = 8
EVERY_DAY = {day: [["00:00", "12:00"], ["12:00", "00:00"]] for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}
"""The whole day (noon to midnight is a span past midnight): a span ending at 23:55 has no 23:55 slot."""


def test_a_reminder_fires_once_after_the_worker_is_killed_between_scheduling_and_firing(
        app: Flask, rq: Any, twilio: TwilioServer, start_worker: Callable[[], RQWorker]) -> None:
    client = app.test_client()
    headers = auth(create_restaurant(client, slug=SLUG)["api_key"])
    base = f"/api/v1/restaurants/{SLUG}"
    now = time.time()
    slot = math.ceil((now + 120) / 300) * 300  # a 5-minute slot at least two minutes ahead (UTC)
    reminder_hours = (slot - now - REMINDER_IN_SECONDS) / 3600
    rules = {"enabled": True, "hours": EVERY_DAY, "slot_minutes": 5, "reminder_hours": reminder_hours,
             "grace_minutes": 240}
    assert client.patch(f"{base}/reservations/settings", json=rules, headers=headers).status_code == 200

    first = start_worker()
    first.wait_ready(rq)
    when = datetime.fromtimestamp(slot, tz=UTC).strftime("%Y-%m-%dT%H:%M")
    booked = client.post(f"{base}/reservations", json={"name": "Ana Lima", "phone": GUEST, "party_size": 2,
                                                       "time": when}, headers=headers)
    assert booked.status_code == 201, booked.get_json()
    timers = Queue(TIMERS_QUEUE, connection=rq).scheduled_job_registry.get_job_ids()
    assert any(t.startswith(f"resv-reminder-{SLUG}-") for t in timers), timers
    assert twilio.wait_for(lambda s: len(s.bodies_to(GUEST)) == 1, timeout=20), first.log()
    assert "Reply 9 to cancel" in twilio.bodies_to(GUEST)[0]

    first.kill()  # SIGKILL before the reminder is due; its scheduler lock stays behind
    time.sleep(REMINDER_IN_SECONDS + 2)
    assert len(twilio.bodies_to(GUEST)) == 1  # nobody fired it while no worker ran

    second = start_worker()

    def reminded() -> bool:
        second._check_alive()
        return len(twilio.bodies_to(GUEST)) >= 2

    eventually(reminded, LOCK_TTL + MAINTENANCE_INTERVAL * 3 + 20, "the reminder after the restart")
    time.sleep(3)  # time for a duplicate to show
    bodies = twilio.bodies_to(GUEST)
    assert len(bodies) == 2 and "Reply C to confirm, 9 to cancel" in bodies[1], bodies
