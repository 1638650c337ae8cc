"""Shared fixtures: an app over fakeredis with a recording dispatcher and a hand-moved clock."""
from __future__ import annotations

import os
import socket
import subprocess
import time
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import fakeredis
import pytest
from flask import Flask
from flask.testing import FlaskClient

from config import Config
from tests.fakes import Clock, FakeSender, RecordingDispatcher
from tests.twilio_server import twilio_server  # noqa: F401  (a fixture for every test module)
from waitlist.web.app import create_app
from workers import context as job_context
from workers.relay import OutboxRelay

ADMIN_TOKEN = "admin-test-token"


def make_config(**overrides: Any) -> Config:
    base = Config(secret_key="test-secret", admin_token=ADMIN_TOKEN, public_base_url="https://wait.example.com",
                  ratelimit_storage_uri="memory://")
    return base.with_overrides(**overrides)


@pytest.fixture
def redis() -> fakeredis.FakeRedis:
    return fakeredis.FakeRedis(decode_responses=True)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def dispatcher() -> RecordingDispatcher:
    return RecordingDispatcher()


@pytest.fixture
def config() -> Config:
    return make_config()


@pytest.fixture
def app(redis: fakeredis.FakeRedis, dispatcher: RecordingDispatcher, clock: Clock, config: Config) -> Flask:
    app = create_app(config, redis=redis, dispatcher=dispatcher, clock=clock)
    app.testing = True
    waitlist = app.extensions["waitlist"]
    dispatcher.relay = OutboxRelay(waitlist.messages, waitlist.store, dispatcher, clock=clock)
    return app


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def sender(app: Flask) -> Iterator[FakeSender]:
    """Installs a job context over the app's store, so job functions run against the same data."""
    fake = FakeSender()
    job_context.use(job_context.JobContext(waitlist=app.extensions["waitlist"], sender=fake))
    yield fake
    job_context.use(None)


def wait_until(check: Any, timeout: float = 5.0) -> None:
    """Poll ``check`` until it is true (work done by another thread); fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, f"timed out after {timeout} s"
        time.sleep(0.01)


REPO = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def served_by(command: Callable[[int], list[str]], env: dict[str, str] | None = None,
              stop_within: float = 10.0) -> Iterator[str]:
    """Run ``command(port)`` (a server: gunicorn, mostly) from the repository on a free loopback port,
    with the test Redis and the usual test settings plus ``env``; yield its URL once /healthz answers;
    stop it at the end (SIGTERM, then SIGKILL after ``stop_within`` seconds)."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    settings = {**os.environ, "REDIS_URL": redis_test_url(), "SECRET_KEY": "gunicorn-test", "ADMIN_TOKEN": ADMIN_TOKEN,
                "PUBLIC_BASE_URL": url, "RATE_LIMITS_DISABLED": "1", **(env or {})}
    process = subprocess.Popen(command(port), cwd=REPO, env=settings, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
    try:
        wait_until_serving(url, process)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=stop_within)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def wait_until_serving(url: str, process: Any, timeout: float = 20.0) -> None:
    """Wait for a server we started (a ``subprocess.Popen``) to answer ``/healthz``; fail if it exits
    or takes longer than ``timeout`` seconds."""
    import requests

    deadline = time.monotonic() + timeout
    while True:
        try:
            if requests.get(f"{url}/healthz", timeout=3).status_code == 200:
                return
        except requests.RequestException:
            pass  # still starting
        assert process.poll() is None and time.monotonic() < deadline, "the server did not start"
        time.sleep(0.1)


def create_restaurant(client: FlaskClient, **overrides: Any) -> dict[str, Any]:
    body = {"slug": "noodle-bar", "name": "Noodle Bar", "sms_from": "+14155550100", **overrides}
    response = client.post("/api/v1/restaurants", json=body, headers={"Authorization": f"Bearer {ADMIN_TOKEN}"})
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def auth(api_key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {api_key}"}


@pytest.fixture
def restaurant(client: FlaskClient) -> dict[str, Any]:
    return create_restaurant(client)


@pytest.fixture
def headers(restaurant: dict[str, Any]) -> dict[str, str]:
    return auth(restaurant["api_key"])


_phone_counter = iter(range(10_000))


def next_phone() -> str:
    return f"+1415555{next(_phone_counter) + 2000:04d}"


def add_party(client: FlaskClient, headers: dict[str, str], slug: str = "noodle-bar",
              **overrides: Any) -> dict[str, Any]:
    body = {"name": "Ana Lima", "phone": next_phone(), "party_size": 2, **overrides}
    response = client.post(f"/api/v1/restaurants/{slug}/parties", json=body, headers=headers)
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def guest_token(party: dict[str, Any]) -> str:
    """The token at the end of a party's guest link."""
    return str(party["status_url"].rsplit("/", 1)[1])


@pytest.fixture(autouse=True)
def _warnings_are_errors() -> Iterator[None]:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        warnings.filterwarnings("ignore", category=DeprecationWarning, module="rq.*")
        yield


# --- Real Redis (integration tests) -------------------------------------------------------------------
# Integration tests own one database of the machine's Redis (REDIS_TEST_URL, default db 11): they flush
# that database before and after each test and touch no other.

REDIS_TEST_URL_DEFAULT = "redis://127.0.0.1:6379/11"


def redis_test_url() -> str:
    import os

    return os.environ.get("REDIS_TEST_URL", REDIS_TEST_URL_DEFAULT)


@pytest.fixture
def real_redis() -> Iterator[Any]:
    """The service's own client (``waitlist_redis``: per-thread connections, fail-fast retries) on the
    test database, emptied before and after the test."""
    from waitlist.store.connections import waitlist_redis

    client = waitlist_redis(redis_test_url())
    try:
        client.ping()
    except Exception as exc:  # pragma: no cover - a broken environment, not a test outcome
        pytest.fail(f"integration tests need Redis at {redis_test_url()}: {exc}")
    client.flushdb()
    yield client
    client.flushdb()
    client.close()


@pytest.fixture
def real_rq_redis(real_redis: Any) -> Iterator[Any]:
    """The same database through a bytes client, as RQ needs."""
    from redis import Redis

    client = Redis.from_url(redis_test_url())
    yield client
    client.close()
