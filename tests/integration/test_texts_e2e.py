"""Texts end to end: the app on a real Redis, the real ``rq worker`` as a subprocess, and a
Twilio-compatible server on loopback that sees exactly what a phone would get.

Every wait polls against a generous deadline; nothing asserts on how fast something happened.
"""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from rq import Queue
from rq.exceptions import NoSuchJobError
from rq.job import Job

from config import Config
from tests.conftest import add_party, make_config, redis_test_url
from tests.twilio_server import (
    Reply,
    TwilioServer,
    accepted,
    html_error,
    rate_limited,
    server_error,
    stalled,
    twilio_error,
)
from waitlist.store import DevOutbox, dev_outbox_key
from waitlist.texting import texts
from waitlist.texting.dispatch import TEXTS_QUEUE, TIMERS_QUEUE, RQDispatcher
from waitlist.web.app import create_app

pytestmark = [pytest.mark.integration, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[2]
RQ = Path(sys.executable).parent / "rq"
"""The rq command of the environment running the tests (.ci/run's .venv, or any other)."""
SLUG = "noodle-bar"
SMS_FROM = "+14155550100"
PUBLIC_BASE_URL = "https://wait.example.com"
STATUS_CALLBACK = f"{PUBLIC_BASE_URL}/sms/status"
TWILIO_TIMEOUT = 1.0
JOB_TIMEOUT = 3
"""Seconds per try of a send job (a list check and a send, 1 s each at most); RQ calls a killed
worker's job abandoned 10 s after that."""


def eventually(check: Callable[[], Any], timeout: float = 20.0, what: str = "") -> Any:
    """Poll ``check`` until it returns something truthy; fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout:.0f} s waiting for {what or check}")
        time.sleep(0.05)


class WorkerProcess:
    """``rq worker`` exactly as the Procfile runs it, plus short maintenance and dequeue intervals so a
    killed worker's job is found abandoned within a second of its registry entry expiring."""

    def __init__(self, env: dict[str, str], log_path: Path, worker_class: str = "workers.worker.TextWorker"):
        self.env = env
        self.log_path = log_path
        self.worker_class = worker_class
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> WorkerProcess:
        command = [str(RQ), "worker", "--with-scheduler", "-w", self.worker_class, "--url", redis_test_url(),
                   "--maintenance-interval", "1", "--worker-ttl", "16",
                   "--max-idle-time", "60",  # a worker orphaned by a killed test run does not linger
                   TEXTS_QUEUE, TIMERS_QUEUE]
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(command, cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT,
                                            start_new_session=True)
        return self

    def wait_ready(self, rq_redis: Any) -> None:
        """Up, and its scheduler holds the locks (retries and hold timers need it)."""
        def ready() -> bool:
            self._check_alive()
            return all(rq_redis.exists(f"rq:scheduler-lock:{q}") for q in (TEXTS_QUEUE, TIMERS_QUEUE))
        eventually(ready, 20, "the worker's scheduler")

    def _check_alive(self) -> None:
        assert self.process is not None
        if self.process.poll() is not None:
            pytest.fail(f"the worker exited with {self.process.returncode}:\n{self.log()}")

    def kill(self) -> None:
        """SIGKILL the worker and its scheduler process, as an OOM killer or a host failure would."""
        assert self.process is not None
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        os.killpg(self.process.pid, signal.SIGTERM)  # warm shutdown: the current job finishes first
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")[-4000:]


@pytest.fixture
def twilio() -> Iterator[TwilioServer]:
    with TwilioServer() as server:
        yield server


@pytest.fixture
def config(twilio: TwilioServer) -> Config:
    return make_config(public_base_url=PUBLIC_BASE_URL, twilio_account_sid=twilio.account_sid,
                       twilio_auth_token=twilio.auth_token, twilio_api_url=twilio.url,
                       text_retry_intervals=(1, 1, 1, 1, 1), text_job_timeout_seconds=JOB_TIMEOUT)


@pytest.fixture
def app(real_redis: Any, real_rq_redis: Any, config: Config) -> Flask:
    """The app on the test database with the real RQ dispatcher (retries shortened to 1 s), its queues
    in the same Redis as deployed by default; texts reach them through the workers' outbox relay."""
    app = create_app(config, redis=real_redis, rq_connection=real_rq_redis,
                     dispatcher=RQDispatcher(real_rq_redis, config))
    app.testing = True
    return app


def worker_env(config: Config, twilio: TwilioServer | None) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items()
           if not key.startswith(("TWILIO_", "REDIS_", "RQ_", "TEXT_"))}
    env.update({
        "PYTHONPATH": str(ROOT), "REDIS_URL": redis_test_url(), "SECRET_KEY": config.secret_key,
        "PUBLIC_BASE_URL": PUBLIC_BASE_URL, "TWILIO_TIMEOUT_SECONDS": str(TWILIO_TIMEOUT), "LOG_LEVEL": "INFO",
        # The worker's relay queues the send jobs, so their retries and timeout are the worker's settings.
        "TEXT_RETRY_INTERVALS": ",".join(str(s) for s in config.text_retry_intervals),
        "TEXT_JOB_TIMEOUT_SECONDS": str(config.text_job_timeout_seconds),
    })
    if twilio is not None:
        env.update(twilio.env())
    return env


@pytest.fixture
def start_worker(real_rq_redis: Any, config: Config, twilio: TwilioServer,
                 tmp_path: Path) -> Iterator[Callable[..., WorkerProcess]]:
    """Starts workers on demand (``twilio=False``: no credentials, texts go to the outbox); all are
    stopped after the test, before the database is flushed."""
    started: list[WorkerProcess] = []

    def start(with_twilio: bool = True) -> WorkerProcess:
        env = worker_env(config, twilio if with_twilio else None)
        worker = WorkerProcess(env, tmp_path / f"worker-{len(started)}.log").start()
        started.append(worker)
        worker.wait_ready(real_rq_redis)
        return worker

    yield start
    for worker in started:
        worker.stop()


@pytest.fixture
def worker(start_worker: Callable[..., WorkerProcess]) -> WorkerProcess:
    return start_worker()


# --- helpers ------------------------------------------------------------------------------------------

def conversation(client: FlaskClient, headers: dict[str, str], party_id: str) -> list[dict[str, Any]]:
    response = client.get(f"/api/v1/restaurants/{SLUG}/parties/{party_id}/messages", headers=headers)
    assert response.status_code == 200, response.get_json()
    return list(response.get_json()["messages"])


def show_party(client: FlaskClient, headers: dict[str, str], party_id: str) -> dict[str, Any]:
    return dict(client.get(f"/api/v1/restaurants/{SLUG}/parties/{party_id}", headers=headers).get_json())


def job_done(rq_redis: Any, job_id: str) -> bool:
    """The job ran to an end: finished (whatever it returned) or failed for good."""
    try:
        status = Job.fetch(job_id, connection=rq_redis).get_status()
    except NoSuchJobError:
        return False
    return status in ("finished", "failed")


def wait_for_send(rq_redis: Any, message_id: str, timeout: float = 20.0) -> None:
    eventually(lambda: job_done(rq_redis, f"send-{SLUG}-{message_id}"), timeout, f"the send of {message_id}")


def message_hash(real_redis: Any, message_id: str) -> dict[str, str]:
    return dict(real_redis.hgetall(f"wl:{{{SLUG}}}:msg:{message_id}"))


def the_only_text(client: FlaskClient, headers: dict[str, str], party_id: str, kind: str) -> dict[str, Any]:
    found = [m for m in conversation(client, headers, party_id) if m["kind"] == kind]
    assert len(found) == 1, found
    return found[0]


# --- the happy path ----------------------------------------------------------------------------------

def test_adding_a_party_sends_twilio_exactly_one_text_with_the_exact_fields(
        client: FlaskClient, headers: dict[str, str], twilio: TwilioServer, worker: WorkerProcess,
        real_redis: Any, real_rq_redis: Any) -> None:
    party = add_party(client, headers)
    message = the_only_text(client, headers, party["id"], "joined")

    wait_for_send(real_rq_redis, message["id"])

    posts = twilio.posts_to(party["phone"])
    assert len(posts) == 1, worker.log()
    assert posts[0].form == {"To": party["phone"], "From": SMS_FROM, "Body": message["body"],
                             "StatusCallback": STATUS_CALLBACK}
    assert message["body"] == texts.joined("en", "Noodle Bar", 1, "0-5", party["status_url"], True)
    assert message_hash(real_redis, message["id"])["sid"] == twilio.accepted[0]["sid"]


def send_results(rq_redis: Any, at_least: int) -> list[Any]:
    """What every finished send job returned, once ``at_least`` have finished and the texts queue is
    drained (a job between the queue and the started registry is in neither)."""
    queue = Queue(TEXTS_QUEUE, connection=rq_redis)

    def finished() -> list[str]:
        return [i for i in queue.finished_job_registry.get_job_ids() if i.startswith("send-")]
    eventually(lambda: len(finished()) >= at_least and queue.count == 0 and queue.started_job_registry.count == 0,
               what=f"{at_least} send jobs finished and the texts queue drained")
    return [Job.fetch(i, connection=rq_redis).return_value() for i in finished()]


def test_a_refused_join_queues_nothing_and_the_outbox_empties(
        client: FlaskClient, headers: dict[str, str], twilio: TwilioServer, worker: WorkerProcess,
        real_redis: Any, real_rq_redis: Any) -> None:
    """The join script records its text, and puts it in the outbox, only when the join stands; a
    refused one (the phone is already waiting) leaves nothing for the relay."""
    party = add_party(client, headers)
    again = client.post(f"/api/v1/restaurants/{SLUG}/parties", headers=headers,
                        json={"name": "Ana Lima", "phone": party["phone"], "party_size": 2})
    assert again.status_code == 409
    eventually(lambda: real_redis.zcard(f"wl:{{{SLUG}}}:outbox") == 0, what="the relay to empty the outbox")
    assert send_results(real_rq_redis, 1) == ["sent"]
    assert len(twilio.posts_to(party["phone"])) == 1


def test_a_join_texts_its_real_place_when_another_join_lands_first(
        client: FlaskClient, headers: dict[str, str], twilio: TwilioServer, worker: WorkerProcess,
        real_rq_redis: Any, app: Flask, monkeypatch: pytest.MonkeyPatch) -> None:
    """The joined text is recorded with the join only for the place read just before; when another
    join takes that place first, the text is rendered again for the real place and sent once."""
    waitlist = app.extensions["waitlist"]
    store_join = waitlist.store.join

    def a_racing_join_lands_first(slug: str, *args: Any, **kwargs: Any) -> Any:
        monkeypatch.setattr(waitlist.store, "join", store_join)
        add_party(client, headers, name="Racer")
        return store_join(slug, *args, **kwargs)

    monkeypatch.setattr(waitlist.store, "join", a_racing_join_lands_first)
    party = add_party(client, headers, name="Slow")
    assert party["position"] == 2
    assert send_results(real_rq_redis, 2) == ["sent", "sent"]
    [post] = twilio.posts_to(party["phone"])
    assert "#2" in post.form["Body"]


def test_a_table_ready_text_asks_twilio_to_drop_it_when_stale(
        client: FlaskClient, headers: dict[str, str], twilio: TwilioServer, worker: WorkerProcess,
        real_rq_redis: Any) -> None:
    party = add_party(client, headers)
    client.post(f"/api/v1/restaurants/{SLUG}/parties/{party['id']}/notify", headers=headers)
    message = the_only_text(client, headers, party["id"], "table_ready")

    wait_for_send(real_rq_redis, message["id"])

    [post] = [p for p in twilio.posts_to(party["phone"]) if p.form["Body"] == message["body"]]
    assert post.form["ValidityPeriod"] == "600"
    assert post.form["StatusCallback"] == STATUS_CALLBACK


def test_without_twilio_credentials_texts_land_in_the_local_outbox(
        client: FlaskClient, headers: dict[str, str], twilio: TwilioServer,
        start_worker: Callable[..., WorkerProcess], real_redis: Any, real_rq_redis: Any) -> None:
    start_worker(with_twilio=False)
    party = add_party(client, headers)
    message = the_only_text(client, headers, party["id"], "joined")

    wait_for_send(real_rq_redis, message["id"])

    [entry] = DevOutbox(real_redis).sent()
    assert (entry["to"], entry["from"], entry["body"]) == (party["phone"], SMS_FROM, message["body"])
    assert real_redis.llen(dev_outbox_key()) == 1
    assert twilio.posts == []


# --- Twilio's answers ----------------------------------------------------------------------------------

ERROR_MATRIX = [
    pytest.param([accepted()], 1, 1, ("queued", None), set(), id="201"),
    pytest.param([rate_limited(), accepted()], 2, 1, ("queued", None), set(), id="429-then-201"),
    pytest.param([server_error(500), accepted()], 2, 1, ("queued", None), set(), id="500-then-201"),
    pytest.param([html_error(502), accepted()], 2, 1, ("queued", None), set(), id="html-502-then-201"),
    pytest.param([accepted(delay=TWILIO_TIMEOUT + 1.5)], 1, 1, ("sent", None), set(),
                 id="timeout-after-twilio-took-it"),
    pytest.param([twilio_error(400, 21211)], 1, 0, ("failed", "21211"), {"sms_failed"}, id="21211-invalid-to"),
    pytest.param([twilio_error(400, 21610)], 1, 0, ("failed", "21610"), {"sms_failed", "opted_out"},
                 id="21610-unsubscribed"),
]


@pytest.mark.parametrize(("replies", "posts", "delivered", "outcome", "flags"), ERROR_MATRIX)
def test_each_twilio_answer_ends_in_one_text_at_most_and_an_honest_status(
        client: FlaskClient, headers: dict[str, str], twilio: TwilioServer, worker: WorkerProcess,
        real_rq_redis: Any, replies: list[Reply], posts: int, delivered: int, outcome: tuple[str, str | None],
        flags: set[str]) -> None:
    twilio.script(*replies)
    party = add_party(client, headers)
    message_id = the_only_text(client, headers, party["id"], "joined")["id"]

    wait_for_send(real_rq_redis, message_id)

    message = the_only_text(client, headers, party["id"], "joined")
    assert len(twilio.posts_to(party["phone"])) == posts, worker.log()
    assert len(twilio.bodies_to(party["phone"])) == delivered
    assert (message["status"], message["error_code"]) == outcome
    assert flags <= set(show_party(client, headers, party["id"])["flags"])


def test_a_number_twilio_reports_unsubscribed_is_never_texted_again_by_that_restaurant(
        client: FlaskClient, headers: dict[str, str], twilio: TwilioServer, worker: WorkerProcess,
        real_rq_redis: Any) -> None:
    twilio.script(twilio_error(400, 21610))
    party = add_party(client, headers)
    wait_for_send(real_rq_redis, the_only_text(client, headers, party["id"], "joined")["id"])

    response = client.post(f"/api/v1/restaurants/{SLUG}/parties/{party['id']}/notify", headers=headers)

    assert response.status_code == 200
    assert "opted_out" in response.get_json()["flags"]
    table_ready = the_only_text(client, headers, party["id"], "table_ready")
    assert (table_ready["status"], table_ready["error_code"]) == ("suppressed", "opted_out")
    assert not Job.exists(f"send-{SLUG}-{table_ready['id']}", connection=real_rq_redis)
    assert len(twilio.posts_to(party["phone"])) == 1


# --- a worker killed mid-send --------------------------------------------------------------------------

@pytest.mark.parametrize("twilio_took_it", [True, False], ids=["twilio-took-it", "twilio-never-got-it"])
def test_a_worker_killed_while_twilio_is_answering_still_texts_the_guest_exactly_once(
        client: FlaskClient, headers: dict[str, str], twilio: TwilioServer,
        start_worker: Callable[..., WorkerProcess], real_redis: Any, real_rq_redis: Any,
        twilio_took_it: bool) -> None:
    first = start_worker()
    twilio.script(stalled(accept=twilio_took_it))
    party = add_party(client, headers)
    message_id = the_only_text(client, headers, party["id"], "joined")["id"]
    eventually(twilio.stalled.is_set, 20, "the send to reach Twilio")

    first.kill()
    twilio.release()  # the answer goes to a dead socket
    # The dead scheduler's locks would keep the next one idle for a minute; expire them now.
    real_rq_redis.delete(*(f"rq:scheduler-lock:{q}" for q in (TEXTS_QUEUE, TIMERS_QUEUE)))
    second = start_worker()

    wait_for_send(real_rq_redis, message_id, timeout=JOB_TIMEOUT + 40)

    assert len(twilio.bodies_to(party["phone"])) == 1, second.log()
    assert len(twilio.posts_to(party["phone"])) == (1 if twilio_took_it else 2)
    message = message_hash(real_redis, message_id)
    assert message["sid"] == twilio.accepted[0]["sid"]
    assert message["attempts"] == "2"


# --- hold timers -----------------------------------------------------------------------------------------

HOLD_MINUTES = 0.05  # three seconds


def short_holds(client: FlaskClient, headers: dict[str, str]) -> None:
    response = client.patch(f"/api/v1/restaurants/{SLUG}/settings", json={"hold_minutes": HOLD_MINUTES},
                            headers=headers)
    assert response.status_code == 200, response.get_json()


def notify_and_find_timer(client: FlaskClient, headers: dict[str, str], real_rq_redis: Any,
                          party_id: str) -> str:
    response = client.post(f"/api/v1/restaurants/{SLUG}/parties/{party_id}/notify", headers=headers)
    assert response.status_code == 200, response.get_json()
    [job_id] = [j for j in Queue(TIMERS_QUEUE, connection=real_rq_redis).scheduled_job_registry.get_job_ids()
                if party_id in j]
    return job_id


def test_a_party_not_seated_within_its_hold_becomes_a_no_show_and_gets_one_text(
        client: FlaskClient, headers: dict[str, str], twilio: TwilioServer, worker: WorkerProcess,
        real_rq_redis: Any) -> None:
    short_holds(client, headers)
    party = add_party(client, headers)
    timer = notify_and_find_timer(client, headers, real_rq_redis, party["id"])

    eventually(lambda: show_party(client, headers, party["id"])["status"] == "no_show", 20, "the no-show")
    eventually(lambda: job_done(real_rq_redis, timer), 10, "the timer job")
    expired = the_only_text(client, headers, party["id"], "hold_expired")
    wait_for_send(real_rq_redis, expired["id"])

    assert twilio.bodies_to(party["phone"]).count(expired["body"]) == 1
    assert expired["body"] == texts.hold_expired("en", "Noodle Bar")


def test_a_party_seated_within_its_hold_is_left_alone_when_the_timer_fires(
        client: FlaskClient, headers: dict[str, str], twilio: TwilioServer, worker: WorkerProcess,
        real_rq_redis: Any) -> None:
    short_holds(client, headers)
    party = add_party(client, headers)
    timer = notify_and_find_timer(client, headers, real_rq_redis, party["id"])
    client.post(f"/api/v1/restaurants/{SLUG}/parties/{party['id']}/seat", headers=headers)

    eventually(lambda: job_done(real_rq_redis, timer), 20, "the timer job")

    assert show_party(client, headers, party["id"])["status"] == "seated"
    assert [m["kind"] for m in conversation(client, headers, party["id"])] == ["joined", "table_ready"]
