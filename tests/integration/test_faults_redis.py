"""Redis killed and restarted under a stream of adds: acknowledged adds survive, the API says 503, never
500, while Redis is down, and comes back by itself.

The Redis is the test's own (tests/redis_servers.py), with the documented production settings: AOF with
``appendfsync everysec`` and ``maxmemory-policy noeviction``. The app is built exactly as production
builds its client (``waitlist.store.connections.waitlist_redis``: fail-fast retries, short timeouts). Texts go
to a recording dispatcher: RQ's own Redis is not the subject here.
"""
from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from flask import Flask

from tests.conftest import auth, create_restaurant, make_config
from tests.fakes import RecordingDispatcher
from tests.redis_servers import PRODUCTION_SETTINGS, RedisServer
from waitlist.store.connections import waitlist_redis
from waitlist.web.app import create_app

pytestmark = [pytest.mark.integration, pytest.mark.slow]

SLUG = "noodle-bar"
RUN_BEFORE_KILL = 3.0
DOWN_FOR = 2.0
RUN_AFTER_RESTART = 3.0
FSYNC_WINDOW = 1.0
"""appendfsync everysec: an add acknowledged more than a second before the kill is on disk."""


@pytest.fixture
def server(tmp_path: Path) -> Iterator[RedisServer]:
    with RedisServer(tmp_path, settings=PRODUCTION_SETTINGS) as server:
        yield server


@pytest.fixture
def app(server: RedisServer) -> Iterator[Flask]:
    client = waitlist_redis(server.url)
    app = create_app(make_config(redis_url=server.url), redis=client, dispatcher=RecordingDispatcher())
    app.testing = True
    yield app
    client.close()


@dataclass
class Run:
    acknowledged: list[tuple[str, float]] = field(default_factory=list)
    """(party id, time.time() when its 201 arrived)"""
    statuses: Counter[int] = field(default_factory=Counter)
    down_statuses: Counter[int] = field(default_factory=Counter)
    """Answers to requests sent and answered while Redis was down (after the kill, before the restart)."""
    health_while_down: list[int] = field(default_factory=list)
    first_201_after_restart: float | None = None
    killed_at: float = 0.0
    restarted_at: float = 0.0


AREA_CODES = ("415", "212", "646", "312", "718", "213", "617", "206")


def phone(worker: int, n: int) -> str:
    """The n-th valid (555-xxxx) number of a thread's two area codes."""
    area, line = divmod(n % 20_000, 10_000)
    return f"+1{AREA_CODES[2 * worker + area]}555{line:04d}"


def add_at_full_speed(app: Flask, headers: dict[str, str], run: Run, stop: threading.Event,
                      redis_down: threading.Event, worker: int) -> None:
    client = app.test_client()
    n = 0
    while not stop.is_set():
        n += 1
        down = redis_down.is_set()
        response = client.post(f"/api/v1/restaurants/{SLUG}/parties", headers=headers,
                               json={"name": "Ana Lima", "phone": phone(worker, n), "party_size": 2})
        answered = time.time()
        run.statuses[response.status_code] += 1
        if down and redis_down.is_set():
            run.down_statuses[response.status_code] += 1
        if response.status_code == 201:
            run.acknowledged.append((response.get_json()["id"], answered))
            if run.restarted_at and run.first_201_after_restart is None:
                run.first_201_after_restart = answered
        elif response.status_code == 503:
            assert response.headers.get("Retry-After") == "1"
            assert response.get_json()["error"]["code"] == "store_unavailable"


def test_adds_acknowledged_a_second_before_a_sigkill_survive_and_the_api_says_503_meanwhile(
        app: Flask, server: RedisServer) -> None:
    restaurant = create_restaurant(app.test_client(), slug=SLUG)
    headers = auth(restaurant["api_key"])
    run, stop, redis_down = Run(), threading.Event(), threading.Event()
    threads = [threading.Thread(target=add_at_full_speed, args=(app, headers, run, stop, redis_down, w))
               for w in range(2)]
    for thread in threads:
        thread.start()
    try:
        time.sleep(RUN_BEFORE_KILL)
        run.killed_at = time.time()
        server.kill()  # SIGKILL: no shutdown, no final fsync
        redis_down.set()  # only now: an add sent while the kill was on its way may still succeed
        health = app.test_client()
        deadline = time.monotonic() + DOWN_FOR
        while time.monotonic() < deadline:
            run.health_while_down.append(health.get("/healthz").status_code)
            time.sleep(0.1)
        redis_down.clear()  # before the restart: an add retried into the restarted server may succeed
        server.start()  # same port and directory: it replays its AOF
        run.restarted_at = time.time()
        time.sleep(RUN_AFTER_RESTART)
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=30)

    durable = [(pid, at) for pid, at in run.acknowledged if at < run.killed_at - FSYNC_WINDOW]
    last_second = [(pid, at) for pid, at in run.acknowledged
                   if run.killed_at - FSYNC_WINDOW <= at < run.killed_at]
    client = app.test_client()

    def present(party_id: str) -> bool:
        response = client.get(f"/api/v1/restaurants/{SLUG}/parties/{party_id}", headers=headers)
        assert response.status_code in (200, 404), response.get_json()
        return response.status_code == 200

    lost = [pid for pid, _ in durable if not present(pid)]
    lost_last_second = [pid for pid, _ in last_second if not present(pid)]
    report = (f"adds acknowledged {len(run.acknowledged)} (before kill-1s {len(durable)}, last second "
              f"{len(last_second)}), lost {len(lost)} + {len(lost_last_second)} of the last second, "
              f"answers {dict(run.statuses)}, while down {dict(run.down_statuses)}, healthz while down "
              f"{Counter(run.health_while_down)}, first 201 {_after(run)} after restart")
    print(report)

    assert len(durable) > 50, report
    assert lost == [], report
    assert 500 not in run.statuses, report
    assert set(run.down_statuses) <= {503}, report
    assert run.down_statuses[503] > 0, report
    assert set(run.health_while_down) == {503}, report
    assert run.first_201_after_restart is not None, report  # recovered without a restart of the app
    assert client.get("/healthz").status_code == 200
    after_restart = [pid for pid, at in run.acknowledged if at >= run.killed_at]
    assert all(present(pid) for pid in after_restart), report
    # An add whose answer was lost with the connection (a 503) may still have been written: never more
    # than one per 503 answered, and a retry of it finds the guest already waiting (409), not a twin.
    listed = {p["id"] for p in client.get(f"/api/v1/restaurants/{SLUG}/parties", headers=headers)
              .get_json()["parties"]}
    acknowledged = {pid for pid, _ in run.acknowledged}
    assert len(listed - acknowledged) <= run.statuses[503], report

def _after(run: Run) -> str:
    if run.first_201_after_restart is None:
        return "never"
    return f"{run.first_201_after_restart - run.restarted_at:.2f} s"


def test_a_full_redis_refuses_adds_with_503_and_keeps_every_party(server: RedisServer, app: Flask) -> None:
    """noeviction: at maxmemory a write is refused (OOM error), nothing already stored is evicted."""
    client = app.test_client()
    restaurant = create_restaurant(client, slug=SLUG)
    headers = auth(restaurant["api_key"])
    admin = server.client()
    added: list[str] = []
    for n in range(20):
        response = client.post(f"/api/v1/restaurants/{SLUG}/parties", headers=headers,
                               json={"name": "Ana Lima", "phone": f"+1415555{n + 3000:04d}", "party_size": 2})
        assert response.status_code == 201
        added.append(response.get_json()["id"])
    used = int(admin.info("memory")["used_memory"])
    admin.config_set("maxmemory", str(used))
    try:
        answers: Counter[int] = Counter()
        for n in range(20):
            response = client.post(f"/api/v1/restaurants/{SLUG}/parties", headers=headers,
                                   json={"name": "Bo Chen", "phone": f"+1415555{n + 4000:04d}", "party_size": 2})
            answers[response.status_code] += 1
        assert 500 not in answers, answers
        assert answers[503] > 0, answers
        listed = {p["id"] for p in client.get(f"/api/v1/restaurants/{SLUG}/parties",
                                              headers=headers).get_json()["parties"]}
        assert set(added) <= listed
    finally:
        admin.config_set("maxmemory", "0")
        admin.close()

