"""The worker rides out a Redis restart: Redis (AOF on, production settings) is SIGKILLed while guests are
added and their joined texts sent, stays down a few seconds, and comes back on the same port and
directory. The SAME worker process (its main loop, its scheduler and its outbox relay) resumes by
itself: every acknowledged party's joined text goes out exactly once, and a hold timer set after the
restart still fires.

Parties acknowledged in the last second before the kill may be lost with Redis (appendfsync everysec,
test_faults_redis.py): only adds acknowledged more than a second before the kill, or after the restart,
are owed a text.
"""
from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from tests.conftest import auth, create_restaurant
from tests.integration.test_faults_worker import (  # noqa: F401  (fixtures)
    RQWorker,
    app,
    config,
    rq,
    start_worker,
    twilio,
)
from tests.integration.test_texts_e2e import eventually
from tests.redis_servers import PRODUCTION_SETTINGS, RedisServer
from tests.twilio_server import TwilioServer

pytestmark = [pytest.mark.integration, pytest.mark.slow]

SLUG = "noodle-bar"
FSYNC_WINDOW = 1.0
DOWN_FOR = 4.0
HOLD_MINUTES = 0.05  # three seconds
RUN_BEFORE_KILL = 2.5


@pytest.fixture
def server(tmp_path: Path) -> Iterator[RedisServer]:
    with RedisServer(tmp_path, settings=PRODUCTION_SETTINGS) as server:
        yield server


def test_the_same_worker_sends_every_acknowledged_text_once_and_fires_timers_after_redis_restarts(
        app: Flask, server: RedisServer, rq: Any, twilio: TwilioServer,  # noqa: F811
        start_worker: Callable[[], RQWorker]) -> None:  # noqa: F811
    client = app.test_client()
    headers = auth(create_restaurant(client, slug=SLUG)["api_key"])
    base = f"/api/v1/restaurants/{SLUG}"
    assert client.patch(f"{base}/settings", json={"hold_minutes": HOLD_MINUTES},
                        headers=headers).status_code == 200
    worker = start_worker()
    worker.wait_ready(rq)
    assert worker.process is not None
    pid = worker.process.pid

    acknowledged: list[tuple[str, float]] = []  # (phone, when its 201 arrived)
    n = 0

    def add() -> None:
        nonlocal n
        n += 1
        phone = f"+1415555{n:04d}"
        response = client.post(f"{base}/parties", headers=headers,
                               json={"name": f"Guest {n}", "phone": phone, "party_size": 2})
        assert response.status_code in (201, 503), response.get_json()
        if response.status_code == 201:
            acknowledged.append((phone, time.time()))

    # Redis dies while the worker is inside a send (Twilio has the request, the job has yet to record
    # the SID and finish), with more sends queued behind it: the case that used to end the worker.
    armed, killed = threading.Event(), threading.Event()
    killed_at = 0.0

    def kill_mid_send(post: Any) -> None:
        nonlocal killed_at
        if armed.is_set() and not killed.is_set():
            killed_at = time.time()
            server.kill()
            killed.set()

    twilio.on_post = kill_mid_send
    started = time.monotonic()
    while not killed.is_set():
        add()
        if time.monotonic() - started > RUN_BEFORE_KILL:
            armed.set()  # the next send to reach Twilio kills Redis
        assert time.monotonic() - started < RUN_BEFORE_KILL + 20, worker.log()
    down_until = time.monotonic() + DOWN_FOR
    while time.monotonic() < down_until:
        add()  # 503s: the API keeps answering
        time.sleep(0.1)
    worker._check_alive()
    server.start()  # same port and directory: it replays its AOF
    restarted_at = time.time()
    for _ in range(50):  # more adds after the restart
        add()

    owed = [phone for phone, at in acknowledged if at < killed_at - FSYNC_WINDOW or at > restarted_at]
    assert len(owed) > 50, (len(acknowledged), len(owed))

    def all_sent() -> bool:
        worker._check_alive()
        return all(twilio.bodies_to(phone) for phone in owed)

    eventually(all_sent, 60, f"every acknowledged joined text; worker log:\n{worker.log()}")

    # A hold timer set after the restart fires (the scheduler is back too).
    held = client.post(f"{base}/parties", json={"name": "Ana Lima", "phone": "+14155559999", "party_size": 2},
                       headers=headers).get_json()
    assert client.post(f"{base}/parties/{held['id']}/notify", headers=headers).status_code == 200

    def expired() -> bool:
        worker._check_alive()
        party = client.get(f"{base}/parties/{held['id']}", headers=headers).get_json()
        return party["status"] == "no_show"

    eventually(expired, 40, f"the hold timer after the restart; worker log:\n{worker.log()}")
    time.sleep(2)  # any duplicate send would be out by now
    duplicated = {phone: len(twilio.bodies_to(phone)) for phone, _ in acknowledged if len(twilio.bodies_to(phone)) > 1}
    print(f"adds acknowledged {len(acknowledged)}, owed {len(owed)}, texts {len(twilio.accepted)}")
    assert duplicated == {}
    worker._check_alive()
    assert worker.process.pid == pid
