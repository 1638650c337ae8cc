"""A Twilio outage: 500s, HTML 503s and timeouts (some after Twilio took the message, some not) for a
while, then recovery. Every text goes out exactly once after it; while it lasts a host sees the text
still queued with its last error; a text whose retries run out is marked failed and its party flagged
sms_failed, never dropped silently.

The retry schedule is shortened through Config.text_retry_intervals (TEXT_RETRY_INTERVALS in production,
default 10, 30, 60, 90, 120 s). The real ``rq worker`` runs on a Redis of the test's own.
"""
from __future__ import annotations

import itertools
import random
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from twilio.request_validator import RequestValidator
from werkzeug.wrappers import Request, Response

from config import Config
from tests.conftest import auth, create_restaurant, make_config
from tests.integration.test_faults_worker import RQWorker
from tests.integration.test_texts_e2e import eventually, worker_env
from tests.redis_servers import RedisServer
from tests.twilio_server import AUTH_TOKEN, Reply, TwilioServer, html_error, server_error
from waitlist.store import STATUS_RANK
from waitlist.store.connections import rq_redis, waitlist_redis
from waitlist.texting.dispatch import RQDispatcher
from waitlist.web.app import create_app

pytestmark = [pytest.mark.integration, pytest.mark.slow]

SLUG = "noodle-bar"
PUBLIC_BASE_URL = "https://wait.example.com"
TWILIO_TIMEOUT = 1.0
PHONES = [f"+1415555{n:04d}" for n in range(2671, 2677)]


class FlakyTwilio(TwilioServer):
    """While ``down`` is set, every call fails in turn: a 500, a timeout Twilio never acted on, an HTML
    503 from its load balancer, a timeout after Twilio took the message; message lists answer 500."""

    def __init__(self) -> None:
        super().__init__()
        self.down = threading.Event()
        self.outage_posts = 0
        self._outage = itertools.cycle([
            server_error(500),
            Reply(delay=TWILIO_TIMEOUT + 0.5, accept=False),
            html_error(503),
            Reply(delay=TWILIO_TIMEOUT + 0.5, accept=True),
        ])

    def _create(self, request: Request) -> Response:
        if self.down.is_set():
            with self._lock:
                self.outage_posts += 1
                self._script.appendleft(next(self._outage))
        return super()._create(request)

    def _list(self, request: Request, base: str) -> Response:
        if self.down.is_set():
            return Response('{"code": 20500, "message": "down", "status": 500}', status=500,
                            content_type="application/json")
        return super()._list(request, base)


@pytest.fixture
def server(tmp_path: Path) -> Iterator[RedisServer]:
    with RedisServer(tmp_path) as server:
        yield server


@pytest.fixture
def twilio() -> Iterator[FlakyTwilio]:
    with FlakyTwilio() as server:
        yield server


def build(server: RedisServer, twilio: TwilioServer, retries: tuple[int, ...]) -> tuple[Flask, Config, Any]:
    config = make_config(redis_url=server.url, public_base_url=PUBLIC_BASE_URL,
                         twilio_account_sid=twilio.account_sid, twilio_auth_token=twilio.auth_token,
                         twilio_api_url=twilio.url, text_retry_intervals=retries, text_job_timeout_seconds=3)
    rq = rq_redis(server.url)
    app = create_app(config, redis=waitlist_redis(server.url), rq_connection=rq, dispatcher=RQDispatcher(rq, config))
    app.testing = True
    return app, config, rq


@pytest.fixture
def start_worker(server: RedisServer, twilio: TwilioServer, tmp_path: Path) -> Iterator[Callable[..., RQWorker]]:
    started: list[RQWorker] = []

    def start(config: Config, rq: Any) -> RQWorker:
        env = {**worker_env(config, twilio), "REDIS_URL": server.url,
               "TWILIO_TIMEOUT_SECONDS": str(TWILIO_TIMEOUT)}
        worker = RQWorker(env, tmp_path / f"worker-{len(started)}.log", server.url).start()
        started.append(worker)
        worker.wait_ready(rq)
        return worker

    yield start
    for worker in started:
        worker.stop()


def add_parties(app: Flask) -> tuple[Any, dict[str, str], list[dict[str, Any]]]:
    client = app.test_client()
    headers = auth(create_restaurant(client, slug=SLUG)["api_key"])
    parties = [client.post(f"/api/v1/restaurants/{SLUG}/parties", headers=headers,
                           json={"name": "Ana Lima", "phone": phone, "party_size": 2}).get_json() for phone in PHONES]
    return client, headers, parties


def joined_message(server: RedisServer, client: Any, headers: dict[str, str], party_id: str) -> dict[str, str]:
    [message] = [m for m in client.get(f"/api/v1/restaurants/{SLUG}/parties/{party_id}/messages",
                                       headers=headers).get_json()["messages"] if m["kind"] == "joined"]
    redis = server.client()
    try:
        return dict(redis.hgetall(f"wl:{{{SLUG}}}:msg:{message['id']}"))
    finally:
        redis.close()


def test_after_an_outage_every_text_goes_out_once_and_hosts_saw_it_waiting_meanwhile(
        server: RedisServer, twilio: FlakyTwilio, start_worker: Callable[..., RQWorker]) -> None:
    app, config, rq = build(server, twilio, retries=(1, 2, 2, 3, 3, 4, 5))
    start_worker(config, rq)
    twilio.down.set()
    client, headers, parties = add_parties(app)

    # While Twilio is down: each text has been tried, and stays queued with the error a host can read.
    def all_tried_and_waiting() -> bool:
        messages = [joined_message(server, client, headers, p["id"]) for p in parties]
        return all(m.get("last_error") and m["status"] == "queued" and not m.get("sid") for m in messages)

    eventually(all_tried_and_waiting, 20, "every text to fail at least once")
    time.sleep(3)
    assert all(joined_message(server, client, headers, p["id"])["status"] == "queued" for p in parties)
    outage_posts = twilio.outage_posts
    twilio.down.clear()
    recovered_at = time.monotonic()

    def all_sent() -> bool:
        return all(joined_message(server, client, headers, p["id"]).get("sid") for p in parties)

    eventually(all_sent, 40, "every text after the outage")
    recovery_seconds = time.monotonic() - recovered_at
    time.sleep(2)  # a stray retry would arrive now

    print(f"{len(parties)} texts, {outage_posts} failed tries during the outage, all sent "
          f"{recovery_seconds:.1f} s after recovery")
    for party in parties:
        assert len(twilio.bodies_to(party["phone"])) == 1, party["phone"]
        message = joined_message(server, client, headers, party["id"])
        assert message["sid"] in {m["sid"] for m in twilio.accepted if m["to"] == party["phone"]}
        shown = client.get(f"/api/v1/restaurants/{SLUG}/parties/{party['id']}", headers=headers).get_json()
        assert "sms_failed" not in shown["flags"]
    assert outage_posts >= len(parties)


def test_a_text_whose_retries_run_out_is_marked_failed_and_its_party_flagged(
        server: RedisServer, twilio: FlakyTwilio, start_worker: Callable[..., RQWorker]) -> None:
    twilio._outage = itertools.cycle([server_error(500), Reply(delay=TWILIO_TIMEOUT + 0.5, accept=False),
                                      html_error(503)])
    app, config, rq = build(server, twilio, retries=(1, 1))
    start_worker(config, rq)
    twilio.down.set()
    client, headers, parties = add_parties(app)

    def all_failed() -> bool:
        return all(joined_message(server, client, headers, p["id"])["status"] == "failed" for p in parties)

    eventually(all_failed, 40, "the retries to run out")
    twilio.down.clear()
    time.sleep(2)

    for party in parties:
        [message] = [m for m in client.get(f"/api/v1/restaurants/{SLUG}/parties/{party['id']}/messages",
                                           headers=headers).get_json()["messages"] if m["kind"] == "joined"]
        assert (message["status"], message["error_code"]) == ("failed", "retries_exhausted")
        shown = client.get(f"/api/v1/restaurants/{SLUG}/parties/{party['id']}", headers=headers).get_json()
        assert "sms_failed" in shown["flags"]
        assert twilio.bodies_to(party["phone"]) == []
        assert int(joined_message(server, client, headers, party["id"])["attempts"]) == 3


# --- duplicate and reordered webhooks, over real Redis ------------------------------------------------

def signed_post(client: Any, path: str, form: dict[str, str]) -> Any:
    signature = RequestValidator(AUTH_TOKEN).compute_signature(f"{PUBLIC_BASE_URL}{path}", form)
    return client.post(path, data=form, headers={"X-Twilio-Signature": signature})


def in_threads(app: Flask, posts: list[tuple[str, dict[str, str]]], threads: int = 8) -> list[int]:
    """Send every (path, form) from ``threads`` threads at once, each with its own test client."""
    codes: list[int] = []
    barrier = threading.Barrier(threads)

    def run(part: list[tuple[str, dict[str, str]]]) -> None:
        client = app.test_client()
        barrier.wait()
        for path, form in part:
            codes.append(signed_post(client, path, form).status_code)

    workers = [threading.Thread(target=run, args=(posts[i::threads],)) for i in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=60)
    return codes


def test_duplicated_and_reordered_webhooks_act_once_and_never_move_a_text_backwards(
        server: RedisServer, twilio: FlakyTwilio, start_worker: Callable[..., RQWorker]) -> None:
    app, config, rq = build(server, twilio, retries=(1, 1))
    start_worker(config, rq)
    client, headers, parties = add_parties(app)
    party = parties[0]
    eventually(lambda: joined_message(server, client, headers, party["id"]).get("sid"), 20, "the joined text")
    message = joined_message(server, client, headers, party["id"])
    assert client.post(f"/api/v1/restaurants/{SLUG}/parties/{party['id']}/notify", headers=headers).status_code == 200

    callbacks = [("/sms/status", {"MessageSid": message["sid"], "MessageStatus": status, "To": party["phone"]})
                 for status in ("queued", "sending", "sent", "delivered", "sent", "queued") for _ in range(3)]
    inbound = {"MessageSid": "SM" + "7" * 32, "From": party["phone"], "To": "+14155550100", "Body": "1"}
    posts = callbacks + [("/sms/inbound", inbound)] * 6
    random.Random(8).shuffle(posts)

    codes = in_threads(app, posts)

    assert sorted(set(codes)) == [200, 204], codes
    assert joined_message(server, client, headers, party["id"])["status"] == "delivered"
    redis = server.client()
    try:
        events = [fields for _, fields in redis.xrange(f"wl:{{{SLUG}}}:events")]
    finally:
        redis.close()
    moves = [(e["from"], e["to"]) for e in events if e.get("type") == "sms" and e.get("message") == message["id"]]
    assert all(STATUS_RANK[to] > STATUS_RANK[frm] for frm, to in moves), moves
    assert len({to for _, to in moves}) == len(moves), moves  # each status reached once
    shown = client.get(f"/api/v1/restaurants/{SLUG}/parties/{party['id']}", headers=headers).get_json()
    assert "on_the_way" in shown["flags"]
    conversation = client.get(f"/api/v1/restaurants/{SLUG}/parties/{party['id']}/messages",
                              headers=headers).get_json()["messages"]
    assert sum(1 for m in conversation if m["direction"] == "in") == 1, conversation
