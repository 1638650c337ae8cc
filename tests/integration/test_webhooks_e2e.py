"""Outbound webhooks end to end: the app on a real Redis, the real ``rq worker`` (its webhook relay
follows the events stream and its jobs deliver), and a receiving server on loopback that checks every
signature, answers the first try of each event with a 500, and de-duplicates by event id.

Every wait polls against a generous deadline; nothing asserts on how fast something happened.
"""
from __future__ import annotations

import json
import subprocess
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from config import Config
from tests.conftest import add_party, make_config, redis_test_url
from tests.integration.test_texts_e2e import ROOT, RQ, WorkerProcess, eventually, worker_env
from waitlist.domain.webhooks import EVENT_ID_HEADER, SIGNATURE_HEADER, verify
from waitlist.store import keys
from waitlist.texting.dispatch import QUEUES, RQDispatcher
from waitlist.web.app import create_app

pytestmark = [pytest.mark.integration, pytest.mark.slow]

SLUG = "noodle-bar"


class Receiver:
    """A webhook receiver as a restaurant's POS would run one: checks the signature with the secret,
    fails the first try of every event (a 500), then accepts and keeps each event id once."""

    def __init__(self) -> None:
        self.secret = ""
        self.tries: list[dict[str, Any]] = []
        self.accepted: dict[str, dict[str, Any]] = {}
        self.duplicates = 0
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (http.server's name)
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                status = receiver.receive(dict(self.headers), body)
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                """Quiet."""

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/waitlist-hook"

    def receive(self, headers: dict[str, str], body: bytes) -> int:
        signed = verify(self.secret, headers.get(SIGNATURE_HEADER, ""), body, now=time.time())
        event = json.loads(body)
        with self.lock:
            first_try = not any(t["id"] == event["id"] for t in self.tries)
            self.tries.append({"id": event["id"], "header_id": headers.get(EVENT_ID_HEADER), "signed": signed,
                               "type": event["type"]})
            if not signed:
                return 401
            if first_try:
                return 500
            if event["id"] in self.accepted:
                self.duplicates += 1
            else:
                self.accepted[event["id"]] = event
            return 200

    def __enter__(self) -> Receiver:
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with Receiver() as server:
        yield server


@pytest.fixture
def config() -> Config:
    return make_config(public_base_url="https://wait.example.com", webhooks_allow_private=True)


@pytest.fixture
def app(real_redis: Any, real_rq_redis: Any, config: Config) -> Flask:
    app = create_app(config, redis=real_redis, rq_connection=real_rq_redis,
                     dispatcher=RQDispatcher(real_rq_redis, config))
    app.testing = True
    return app


class HookWorker(WorkerProcess):
    """``rq worker`` as the Procfile runs it, on every queue (the webhooks queue too)."""

    def start(self) -> HookWorker:
        command = [str(RQ), "worker", "--with-scheduler", "-w", self.worker_class, "--url", redis_test_url(),
                   "--maintenance-interval", "1", "--worker-ttl", "16", "--max-idle-time", "120", *QUEUES]
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(command, cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT,
                                            start_new_session=True)
        return self


def every_queue_worker(env: dict[str, str], log_path: Path, rq_redis: Any) -> HookWorker:
    """A started ``HookWorker`` whose scheduler holds every queue's lock (so it is taking jobs)."""
    process = HookWorker(env, log_path).start()
    eventually(lambda: all(rq_redis.exists(f"rq:scheduler-lock:{q}") for q in QUEUES), 20,
               "the worker's scheduler on every queue")
    return process


@pytest.fixture
def worker(real_rq_redis: Any, config: Config, tmp_path: Path) -> Iterator[WorkerProcess]:
    env = {**worker_env(config, None), "WEBHOOKS_ALLOW_PRIVATE": "1", "WEBHOOK_RETRY_INTERVALS": "1,1,1,1",
           "WEBHOOK_TIMEOUT_SECONDS": "3"}
    process = every_queue_worker(env, tmp_path / "worker.log", real_rq_redis)
    yield process
    process.stop()


def test_events_reach_the_receiver_signed_retried_after_a_500_and_once_per_id(
        client: FlaskClient, headers: dict[str, str], receiver: Receiver, worker: WorkerProcess,
        real_redis: Any) -> None:
    made = client.post(f"/api/v1/restaurants/{SLUG}/webhooks", headers=headers,
                       json={"url": receiver.url, "events": ["party.created", "party.seated", "party.left"]})
    assert made.status_code == 201, made.get_json()
    receiver.secret = made.get_json()["secret"]

    seated, leaving = add_party(client, headers, name="Mei"), add_party(client, headers, name="Ana")
    assert client.post(f"/api/v1/restaurants/{SLUG}/parties/{seated['id']}/seat", headers=headers).status_code == 200
    assert client.post(f"/api/v1/restaurants/{SLUG}/parties/{leaving['id']}/cancel",
                       headers=headers).status_code == 200

    eventually(lambda: len(receiver.accepted) == 4, 60, f"4 events accepted; log:\n{worker.log()}")
    by_type = sorted((e["type"], e["data"]["party"]["name"]) for e in receiver.accepted.values())
    assert by_type == [("party.created", "Ana"), ("party.created", "Mei"), ("party.left", "Ana"),
                       ("party.seated", "Mei")]
    assert all(t["signed"] and t["header_id"] == t["id"] for t in receiver.tries)
    for event_id in receiver.accepted:  # each event: a 500 first, then the retry with the same id
        assert [t["id"] for t in receiver.tries].count(event_id) >= 2

    def outcomes() -> list[tuple[str, bool, int | None]]:
        log = client.get(f"/api/v1/restaurants/{SLUG}/webhooks/deliveries", headers=headers).get_json()
        return [(d["event"], d["ok"], d["status"]) for d in reversed(log["deliveries"])]

    # A job logs its try after the receiver answered: wait for the four successes to be logged.
    eventually(lambda: sum(ok for _, ok, _ in outcomes()) >= 4, 30, "the successes in the delivery log")
    logged = outcomes()
    for event_id in receiver.accepted:
        mine = [(ok, status) for e, ok, status in logged if e == event_id]
        assert mine[0] == (False, 500) and mine[-1] == (True, 200)

    # A relay that died after queueing but before moving its cursor: the same events go again, with
    # the same ids, and the receiver drops them as repeats.
    real_redis.set(keys.hooks_cursor_key(SLUG), "0-0")
    eventually(lambda: receiver.duplicates >= 4, 60, "the repeated deliveries")
    assert len(receiver.accepted) == 4


def test_a_private_address_is_refused_when_the_deployment_is_in_production(
        app: Flask, client: FlaskClient, headers: dict[str, str]) -> None:
    app.extensions["webhooks"].config = make_config()  # production mode: no loopback, no plain http
    response = client.post(f"/api/v1/restaurants/{SLUG}/webhooks", headers=headers,
                           json={"url": "https://127.0.0.1:8443/hook", "events": ["party.seated"]})
    assert response.status_code == 400
    assert "private or local" in response.get_json()["error"]["fields"]["url"][0]
