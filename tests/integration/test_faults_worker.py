"""Timers outlive the worker: a hold expiry and a feedback request scheduled, the worker SIGKILLed before
they are due, a new worker started: each fires exactly once.

A worker killed mid-send still texts the guest exactly once: that is
``test_texts_e2e.py::test_a_worker_killed_while_twilio_is_answering_still_texts_the_guest_exactly_once``
(both when Twilio took the message and when it never got it), not repeated here.

Timers live in RQ's scheduled-job registry in Redis, not in the worker, so a worker's death loses none.
What the death costs is time: the dead worker's scheduler lock (``rq:scheduler-lock:<queue>``, 61 s TTL)
keeps the new worker's scheduler idle until it expires and the new worker's next maintenance run
(``--maintenance-interval``) takes the lock. This test waits that out, as production would, instead of
deleting the lock. The Redis is the test's own (tests/redis_servers.py).
"""
from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from rq import Queue

from config import Config
from tests.conftest import auth, create_restaurant, make_config
from tests.integration.test_texts_e2e import ROOT, RQ, WorkerProcess, eventually, worker_env
from tests.redis_servers import RedisServer
from tests.twilio_server import TwilioServer
from waitlist.store.connections import rq_redis, waitlist_redis
from waitlist.texting.dispatch import TEXTS_QUEUE, TIMERS_QUEUE, RQDispatcher
from waitlist.web.app import create_app
from workers.relay import OutboxRelay

pytestmark = [pytest.mark.integration, pytest.mark.slow]

SLUG = "noodle-bar"
PUBLIC_BASE_URL = "https://wait.example.com"
TIMER_MINUTES = 0.1  # six seconds: time to see the first texts out before the kill
MAINTENANCE_INTERVAL = 2
"""How often a worker retries for the scheduler lock (the Procfile should set this: RQ's default is 600 s)."""
WORKER_TTL = 16
"""An idle worker blocks on its queues for worker-ttl - 15 s between maintenance checks (RQ's default
420 s): without this a replacement worker sleeps through the lock's expiry for minutes."""
LOCK_TTL = 61
"""RQ's scheduler lock: interval (1 s) + 60 s."""


class RQWorker(WorkerProcess):
    """``rq worker`` as the Procfile runs it, on a given RQ Redis URL, waitlist settings in ``env``."""

    def __init__(self, env: dict[str, str], log_path: Path, rq_url: str,
                 maintenance_interval: int = MAINTENANCE_INTERVAL):
        super().__init__(env, log_path)
        self.rq_url = rq_url
        self.maintenance_interval = maintenance_interval

    def start(self) -> RQWorker:
        command = [str(RQ), "worker", "--with-scheduler", "-w", self.worker_class, "--url", self.rq_url,
                   "--maintenance-interval", str(self.maintenance_interval), "--worker-ttl", str(WORKER_TTL),
                   TEXTS_QUEUE, TIMERS_QUEUE]
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(command, cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT,
                                            start_new_session=True)
        return self


@pytest.fixture
def server(tmp_path: Path) -> Iterator[RedisServer]:
    with RedisServer(tmp_path) as server:
        yield server


@pytest.fixture
def twilio() -> Iterator[TwilioServer]:
    with TwilioServer() as server:
        yield server


@pytest.fixture
def config(server: RedisServer, twilio: TwilioServer) -> Config:
    return make_config(redis_url=server.url, public_base_url=PUBLIC_BASE_URL, twilio_account_sid=twilio.account_sid,
                       twilio_auth_token=twilio.auth_token, twilio_api_url=twilio.url,
                       text_retry_intervals=(1, 1, 1), text_job_timeout_seconds=3)


@pytest.fixture
def rq(server: RedisServer) -> Iterator[Any]:
    client = rq_redis(server.url)
    yield client
    client.close()


@pytest.fixture
def app(server: RedisServer, rq: Any, config: Config) -> Iterator[Flask]:
    redis = waitlist_redis(server.url)
    app = create_app(config, redis=redis, rq_connection=rq, dispatcher=RQDispatcher(rq, config))
    app.testing = True
    yield app
    redis.close()


@pytest.fixture
def start_worker(server: RedisServer, rq: Any, config: Config, twilio: TwilioServer,
                 tmp_path: Path) -> Iterator[Callable[[], RQWorker]]:
    started: list[RQWorker] = []

    def start() -> RQWorker:
        env = {**worker_env(config, twilio), "REDIS_URL": server.url}
        worker = RQWorker(env, tmp_path / f"worker-{len(started)}.log", server.url).start()
        started.append(worker)
        return worker

    yield start
    for worker in started:
        worker.stop()


def transitions_to(server: RedisServer, party_id: str, status: str) -> int:
    client = server.client()
    try:
        return sum(1 for _, fields in client.xrange(f"wl:{{{SLUG}}}:events")
                   if fields.get("party") == party_id and fields.get("type") == "status" and fields.get("to") == status)
    finally:
        client.close()


def test_hold_expiry_and_feedback_timers_fire_once_after_the_worker_is_killed_and_replaced(
        app: Flask, server: RedisServer, rq: Any, twilio: TwilioServer,
        start_worker: Callable[[], RQWorker]) -> None:
    client = app.test_client()
    headers = auth(create_restaurant(client, slug=SLUG)["api_key"])
    base = f"/api/v1/restaurants/{SLUG}"
    settings = {"hold_minutes": TIMER_MINUTES, "feedback": True, "feedback_delay_minutes": TIMER_MINUTES}
    assert client.patch(f"{base}/settings", json=settings, headers=headers).status_code == 200

    first = start_worker()
    first.wait_ready(rq)
    held = client.post(f"{base}/parties", json={"name": "Ana Lima", "phone": "+14155552671", "party_size": 2},
                       headers=headers).get_json()
    seated = client.post(f"{base}/parties", json={"name": "Bo Chen", "phone": "+14155552672", "party_size": 2},
                         headers=headers).get_json()
    assert client.post(f"{base}/parties/{held['id']}/notify", headers=headers).status_code == 200
    assert client.post(f"{base}/parties/{seated['id']}/seat", headers=headers).status_code == 200
    timers = Queue(TIMERS_QUEUE, connection=rq).scheduled_job_registry.get_job_ids()
    assert {t.split("-")[0] for t in timers} >= {"hold", "feedback"}, timers

    # Kill an idle worker: a text job caught between RQ's dequeue and its start would wait a minute in
    # RQ's intermediate queue (the mid-send kill is test_texts_e2e's), blurring what this test times.
    assert twilio.wait_for(lambda s: len(s.bodies_to(held["phone"])) == 2 and len(s.bodies_to(seated["phone"])) == 1,
                           timeout=20), first.log()
    first.kill()  # SIGKILL before either timer is due; its scheduler lock stays behind
    killed_at = time.monotonic()
    time.sleep(TIMER_MINUTES * 60 + 2)
    assert client.get(f"{base}/parties/{held['id']}", headers=headers).get_json()["status"] == "notified"

    second = start_worker()

    def fired() -> bool:
        second._check_alive()
        party = client.get(f"{base}/parties/{held['id']}", headers=headers).get_json()
        messages = client.get(f"{base}/parties/{seated['id']}/messages", headers=headers).get_json()["messages"]
        return party["status"] == "no_show" and any(m["kind"] == "feedback_request" for m in messages)

    eventually(fired, LOCK_TTL + MAINTENANCE_INTERVAL * 3 + 20, "both timers after the restart")
    late_by = time.monotonic() - killed_at
    # Let the timers' texts go out, then look for duplicates.
    assert twilio.wait_for(lambda s: len(s.bodies_to(held["phone"])) >= 3 and len(s.bodies_to(seated["phone"])) >= 2,
                           timeout=20), (twilio.accepted, first.log(), second.log())
    time.sleep(2)

    print(f"timers fired {late_by:.0f} s after the kill (lock TTL {LOCK_TTL} s)")
    assert transitions_to(server, held["id"], "no_show") == 1
    held_kinds = [m["kind"] for m in client.get(f"{base}/parties/{held['id']}/messages",
                                                headers=headers).get_json()["messages"]]
    assert held_kinds == ["joined", "table_ready", "hold_expired"]
    seated_kinds = [m["kind"] for m in client.get(f"{base}/parties/{seated['id']}/messages",
                                                  headers=headers).get_json()["messages"]]
    assert seated_kinds.count("feedback_request") == 1
    assert len(twilio.bodies_to(held["phone"])) == 3
    assert len(twilio.bodies_to(seated["phone"])) == len(seated_kinds)


def test_a_killed_workers_scheduler_swallows_no_send_and_leaves_with_it(
        app: Flask, server: RedisServer, rq: Any, twilio: TwilioServer,
        start_worker: Callable[[], RQWorker]) -> None:
    """``kill -9`` of the worker's main process while it blocks popping the texts queue. RQ's forked
    scheduler child used to keep that socket open, so Redis handed the next send job to a connection
    nobody read. The scheduler is a spawned process now (workers.scheduler): it holds no socket of its
    parent, so no job is swallowed, and it exits once its worker is gone."""
    client = app.test_client()
    headers = auth(create_restaurant(client, slug=SLUG)["api_key"])
    waitlist = app.extensions["waitlist"]
    relay = OutboxRelay(waitlist.messages, waitlist.store, waitlist.dispatcher, lost_after=1.0,
                        live_sends=waitlist.dispatcher.live_sends)
    first = start_worker()
    first.wait_ready(rq)
    assert first.process is not None
    group = first.process.pid  # started in a session of its own: its scheduler is in its group
    scheduler_pid = eventually(lambda: spawned_child(group), 20, "the worker's scheduler process")
    assert not socket_inodes(scheduler_pid) & socket_inodes(group), "the scheduler shares a socket with its worker"
    time.sleep(1.5)  # idle: blocked on its queues
    os.kill(first.process.pid, signal.SIGKILL)  # the main process only
    first.process.wait(timeout=10)
    try:
        eventually(lambda: not processes_in_group(group), 20, "the orphaned scheduler to leave")  # and RQ's
        # multiprocessing resource tracker, which leaves when its last user has gone
        phones = [f"+1415555267{n}" for n in range(3)]
        for n, phone in enumerate(phones):
            assert client.post(f"/api/v1/restaurants/{SLUG}/parties", headers=headers,
                               json={"name": f"Guest {n}", "phone": phone, "party_size": 2}).status_code == 201
        assert relay.relay(SLUG) == 3  # the dead worker's relay thread is gone with its main process
        time.sleep(0.5)
        assert Queue(TEXTS_QUEUE, connection=rq).count == 3, "a send job went to a dead connection"
        second = start_worker()
        eventually(lambda: all(len(twilio.bodies_to(p)) == 1 for p in phones), 20, second.log())
        time.sleep(1.5)
        assert relay.requeue_lost() == 0
        assert [len(twilio.bodies_to(p)) for p in phones] == [1, 1, 1]
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(group, signal.SIGKILL)


def test_a_send_job_lost_after_it_was_queued_is_requeued_and_sent_once(
        app: Flask, server: RedisServer, rq: Any, twilio: TwilioServer,
        start_worker: Callable[[], RQWorker]) -> None:
    """Whatever loses a queued send job (here a consumer that popped it and died), the lost-text sweep
    (a relay with a 1 s bound instead of 3 minutes) sees that RQ holds no live job for the text,
    queues it again, and the worker sends it once."""
    client = app.test_client()
    headers = auth(create_restaurant(client, slug=SLUG)["api_key"])
    waitlist = app.extensions["waitlist"]
    relay = OutboxRelay(waitlist.messages, waitlist.store, waitlist.dispatcher, lost_after=1.0,
                        live_sends=waitlist.dispatcher.live_sends)
    phone = "+14155552680"
    assert client.post(f"/api/v1/restaurants/{SLUG}/parties", headers=headers,
                       json={"name": "Guest", "phone": phone, "party_size": 2}).status_code == 201
    assert relay.relay(SLUG) == 1
    queue = Queue(TEXTS_QUEUE, connection=rq)
    assert rq.lpop(queue.key) is not None  # popped by a consumer that died before running it
    time.sleep(1.5)
    assert relay.requeue_lost() == 1
    worker = start_worker()
    eventually(lambda: len(twilio.bodies_to(phone)) == 1, 20, worker.log())
    time.sleep(1.5)
    assert relay.requeue_lost() == 0
    assert len(twilio.bodies_to(phone)) == 1


def processes_in_group(group: int) -> list[int]:
    """Live (not zombie) processes whose process group is ``group``."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        with contextlib.suppress(OSError):
            fields = (entry / "stat").read_text().rpartition(")")[2].split()
            if fields[0] != "Z" and int(fields[2]) == group:
                found.append(int(entry.name))
    return found


def spawned_child(group: int) -> int | None:
    """The process of ``group`` started by multiprocessing's spawn (the scheduler), if any."""
    for pid in processes_in_group(group):
        with contextlib.suppress(OSError):
            if b"spawn_main" in Path(f"/proc/{pid}/cmdline").read_bytes():
                return pid
    return None


def socket_inodes(pid: int) -> set[str]:
    """The sockets a process holds open (``socket:[inode]`` links in /proc/<pid>/fd)."""
    inodes = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        with contextlib.suppress(OSError):
            target = os.readlink(fd)
            if target.startswith("socket:"):
                inodes.add(target)
    return inodes
