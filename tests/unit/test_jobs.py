"""The worker's jobs, called directly over fakeredis with a fake sender: exactly once, or not at all."""
from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from twilio.base.exceptions import TwilioRestException, TwilioServiceException

from config import Config
from tests.conftest import add_party, make_config
from tests.fakes import FakeSender, RecordingDispatcher
from waitlist.domain.phones import phone_digest
from waitlist.texting.sms import (
    AmbiguousSendError,
    PermanentSendError,
    TransientSendError,
    is_retryable,
)
from workers import jobs

SLUG = "noodle-bar"
PERMANENT_CODES = ["21211", "21214", "21408", "21610", "21612", "21614", "21635", "30005", "30006"]


@pytest.fixture
def config() -> Config:
    """Twilio credentials set, so send jobs ask for status callbacks."""
    return make_config(twilio_account_sid="AC" + "1" * 32, twilio_auth_token="token")


class CountingSender(FakeSender):
    """FakeSender that also counts how often the job looked for an earlier send."""

    def __init__(self) -> None:
        super().__init__()
        self.lookups = 0

    def find_sent(self, *, to: str, from_: str, body: str, since: float) -> str | None:
        self.lookups += 1
        return super().find_sent(to=to, from_=from_, body=body, since=since)


@pytest.fixture
def counting(sender: FakeSender, app: Flask) -> CountingSender:
    """Swaps the installed fake for one that counts lookups (same job context otherwise)."""
    from workers import context

    fake = CountingSender()
    context.use(context.JobContext(waitlist=app.extensions["waitlist"], sender=fake))
    return fake


def messages(app: Flask) -> Any:
    return app.extensions["waitlist"].messages


def party_flags(client: FlaskClient, headers: dict[str, str], party_id: str) -> list[str]:
    response = client.get(f"/api/v1/restaurants/{SLUG}/parties/{party_id}", headers=headers)
    return list(response.get_json()["flags"])


def party_status(client: FlaskClient, headers: dict[str, str], party_id: str) -> str:
    return str(client.get(f"/api/v1/restaurants/{SLUG}/parties/{party_id}", headers=headers).get_json()["status"])


def joined(client: FlaskClient, headers: dict[str, str], dispatcher: RecordingDispatcher,
           **overrides: Any) -> tuple[dict[str, Any], str]:
    """Adds a party; returns it and the id of its 'joined' text, as the web process enqueued it."""
    party = add_party(client, headers, **overrides)
    slug, message_id = dispatcher.sent[-1]
    assert slug == SLUG
    return party, message_id


# --- send_text ---------------------------------------------------------------------------------------

def test_a_queued_text_is_sent_once_with_its_status_callback(
        app: Flask, client: FlaskClient, headers: dict[str, str], dispatcher: RecordingDispatcher,
        sender: FakeSender) -> None:
    party, message_id = joined(client, headers, dispatcher)

    assert jobs.send_text(SLUG, message_id) == "sent"

    message = messages(app).get(SLUG, message_id)
    assert sender.sent[party["phone"]] == [message["body"]]
    assert sender.requests[0]["status_callback"] == "https://wait.example.com/sms/status"
    assert sender.requests[0]["from"] == "+14155550100"
    assert message["sid"].startswith("SM")
    assert message["status"] == "queued"
    assert messages(app).locate_sid(message["sid"]) == (SLUG, message_id)


def test_running_the_job_again_after_a_send_does_nothing(
        app: Flask, client: FlaskClient, headers: dict[str, str], dispatcher: RecordingDispatcher,
        counting: CountingSender) -> None:
    party, message_id = joined(client, headers, dispatcher)
    jobs.send_text(SLUG, message_id)

    assert jobs.send_text(SLUG, message_id) == "done"
    assert jobs.send_text(SLUG, message_id) == "done"

    assert len(counting.sent[party["phone"]]) == 1
    assert counting.lookups == 0


def test_a_job_for_a_message_that_no_longer_exists_returns_quietly(sender: FakeSender, app: Flask) -> None:
    assert jobs.send_text(SLUG, "nosuchmessage") == "missing"
    assert sender.requests == []


@pytest.mark.parametrize(("kind", "validity"), [("joined", None), ("table_ready", 600)])
def test_table_ready_texts_expire_at_twilio_but_joined_texts_do_not(
        client: FlaskClient, headers: dict[str, str], dispatcher: RecordingDispatcher, sender: FakeSender,
        kind: str, validity: int | None) -> None:
    party, message_id = joined(client, headers, dispatcher)
    if kind == "table_ready":
        client.post(f"/api/v1/restaurants/{SLUG}/parties/{party['id']}/notify", headers=headers)
        message_id = dispatcher.sent[-1][1]

    jobs.send_text(SLUG, message_id)

    assert sender.requests[-1]["validity_period"] == validity


def test_without_twilio_credentials_no_status_callback_is_asked_for(
        app: Flask, client: FlaskClient, headers: dict[str, str], dispatcher: RecordingDispatcher,
        sender: FakeSender) -> None:
    waitlist = app.extensions["waitlist"]
    waitlist.config = make_config()
    _party, message_id = joined(client, headers, dispatcher)

    jobs.send_text(SLUG, message_id)

    assert sender.requests[0]["status_callback"] is None


# --- opt-outs and permanent failures ---------------------------------------------------------------

def test_a_number_that_opted_out_after_the_text_was_queued_is_not_texted_and_the_party_is_flagged(
        app: Flask, client: FlaskClient, headers: dict[str, str], dispatcher: RecordingDispatcher,
        sender: FakeSender, config: Config) -> None:
    party, message_id = joined(client, headers, dispatcher)
    messages(app).opt_out(SLUG, phone_digest(config.secret_key, party["phone"]))

    assert jobs.send_text(SLUG, message_id) == "opted_out"

    assert sender.requests == []
    assert messages(app).get(SLUG, message_id)["status"] == "suppressed"
    assert "opted_out" in party_flags(client, headers, party["id"])


@pytest.mark.parametrize("code", PERMANENT_CODES)
def test_a_permanent_twilio_error_fails_the_message_with_its_code_and_flags_the_party(
        app: Flask, client: FlaskClient, headers: dict[str, str], dispatcher: RecordingDispatcher,
        counting: CountingSender, code: str) -> None:
    party, message_id = joined(client, headers, dispatcher)
    counting.fail_with = [PermanentSendError(f"twilio refused: code {code}", code)]

    assert jobs.send_text(SLUG, message_id) == "failed"
    assert jobs.send_text(SLUG, message_id) == "done"

    message = messages(app).get(SLUG, message_id)
    assert (message["status"], message["error_code"]) == ("failed", code)
    assert "sms_failed" in party_flags(client, headers, party["id"])
    assert len(counting.requests) == 1
    assert counting.lookups == 0


def test_error_21610_marks_the_number_opted_out_so_later_texts_are_never_sent(
        app: Flask, client: FlaskClient, headers: dict[str, str], dispatcher: RecordingDispatcher,
        sender: FakeSender, config: Config) -> None:
    party, message_id = joined(client, headers, dispatcher)
    sender.fail_with = [PermanentSendError("twilio refused: code 21610", "21610")]
    jobs.send_text(SLUG, message_id)
    queued_before = len(dispatcher.sent)

    response = client.post(f"/api/v1/restaurants/{SLUG}/parties/{party['id']}/notify", headers=headers)

    assert response.status_code == 200
    assert messages(app).is_opted_out(SLUG, phone_digest(config.secret_key, party["phone"]))
    assert len(dispatcher.sent) == queued_before
    assert {"opted_out", "sms_failed"} <= set(party_flags(client, headers, party["id"]))
    conversation = messages(app).conversation(SLUG, party["id"])
    assert [m["status"] for m in conversation] == ["failed", "suppressed"]


@pytest.mark.parametrize(("status", "code", "retryable"), [
    (429, 20429, True),
    (500, 20500, True),
    (502, 502, True),
    (503, None, True),
    (400, 30500, True),
    *[(400, int(code), False) for code in PERMANENT_CODES],
    (400, 21602, False),
])
def test_twilio_errors_are_retried_only_when_a_later_try_may_succeed(status: int, code: int | None,
                                                                     retryable: bool) -> None:
    legacy = TwilioRestException(status, "https://api.twilio.com/x", "error", code)
    problem = TwilioServiceException("https://www.twilio.com/docs/errors/x", "error", status, code or status)
    assert is_retryable(legacy) is retryable
    assert is_retryable(problem) is retryable


# --- transient and ambiguous failures ---------------------------------------------------------------

def test_a_transient_error_releases_the_claim_and_raises_so_rq_retries_without_a_lookup(
        app: Flask, client: FlaskClient, headers: dict[str, str], dispatcher: RecordingDispatcher,
        counting: CountingSender) -> None:
    party, message_id = joined(client, headers, dispatcher)
    counting.fail_with = [TransientSendError("twilio 429 code 20429", "20429")]

    with pytest.raises(TransientSendError):
        jobs.send_text(SLUG, message_id)
    message = messages(app).get(SLUG, message_id)
    assert (message["status"], message["claimed_at"], message.get("sid", "")) == ("queued", "", "")
    assert "20429" in message["last_error"]

    assert jobs.send_text(SLUG, message_id) == "sent"
    assert len(counting.sent[party["phone"]]) == 1
    assert counting.lookups == 0


def test_after_an_ambiguous_failure_a_rerun_finds_the_accepted_text_and_does_not_resend(
        app: Flask, client: FlaskClient, headers: dict[str, str], dispatcher: RecordingDispatcher,
        counting: CountingSender) -> None:
    _party, message_id = joined(client, headers, dispatcher)
    body = messages(app).get(SLUG, message_id)["body"]
    counting.fail_with = [AmbiguousSendError("no answer from twilio: ReadTimeout")]

    with pytest.raises(AmbiguousSendError):
        jobs.send_text(SLUG, message_id)
    assert messages(app).get(SLUG, message_id)["claimed_at"] != ""
    counting.already_sent[body] = "SM" + "f" * 32  # Twilio took it before the connection broke

    assert jobs.send_text(SLUG, message_id) == "found"

    message = messages(app).get(SLUG, message_id)
    assert (message["sid"], message["status"]) == ("SM" + "f" * 32, "sent")
    assert len(counting.requests) == 1
    assert counting.lookups == 1
    assert jobs.send_text(SLUG, message_id) == "done"


def test_after_an_ambiguous_failure_a_rerun_sends_when_twilio_never_got_the_text(
        app: Flask, client: FlaskClient, headers: dict[str, str], dispatcher: RecordingDispatcher,
        counting: CountingSender) -> None:
    party, message_id = joined(client, headers, dispatcher)
    counting.fail_with = [AmbiguousSendError("no answer from twilio: ConnectionError")]
    with pytest.raises(AmbiguousSendError):
        jobs.send_text(SLUG, message_id)

    assert jobs.send_text(SLUG, message_id) == "sent"

    assert len(counting.sent[party["phone"]]) == 1
    assert counting.lookups == 1
    assert messages(app).get(SLUG, message_id)["attempts"] == "2"


def test_a_worker_that_died_mid_send_leaves_a_claim_the_next_run_checks_before_sending(
        app: Flask, client: FlaskClient, headers: dict[str, str], dispatcher: RecordingDispatcher,
        counting: CountingSender) -> None:
    _party, message_id = joined(client, headers, dispatcher)
    messages(app).claim(SLUG, message_id, now=1.0, recipient_digest="not-opted-out")  # then SIGKILL

    assert jobs.send_text(SLUG, message_id) == "sent"
    assert counting.lookups == 1


# --- the failure callback ------------------------------------------------------------------------------

def rq_job(message_id: str, retries_left: int | None) -> Any:
    """What RQ hands a failure callback: only ``args`` and ``retries_left`` are read."""
    return SimpleNamespace(args=(SLUG, message_id), retries_left=retries_left)


def test_a_failed_try_with_retries_left_leaves_the_message_queued(
        app: Flask, client: FlaskClient, headers: dict[str, str], dispatcher: RecordingDispatcher,
        sender: FakeSender) -> None:
    party, message_id = joined(client, headers, dispatcher)

    jobs.send_text_failed(rq_job(message_id, 3), None, TransientSendError, TransientSendError("x"), None)

    assert messages(app).get(SLUG, message_id)["status"] == "queued"
    assert "sms_failed" not in party_flags(client, headers, party["id"])


@pytest.mark.parametrize("retries_left", [0, None])
def test_when_retries_are_exhausted_the_message_fails_and_the_party_is_flagged(
        app: Flask, client: FlaskClient, headers: dict[str, str], dispatcher: RecordingDispatcher,
        sender: FakeSender, retries_left: int | None) -> None:
    party, message_id = joined(client, headers, dispatcher)

    jobs.send_text_failed(rq_job(message_id, retries_left), None, TransientSendError, TransientSendError("x"), None)

    message = messages(app).get(SLUG, message_id)
    assert (message["status"], message["error_code"]) == ("failed", "retries_exhausted")
    assert "sms_failed" in party_flags(client, headers, party["id"])


def test_the_failure_callback_leaves_a_message_twilio_accepted_alone(
        app: Flask, client: FlaskClient, headers: dict[str, str], dispatcher: RecordingDispatcher,
        sender: FakeSender) -> None:
    party, message_id = joined(client, headers, dispatcher)
    jobs.send_text(SLUG, message_id)

    jobs.send_text_failed(rq_job(message_id, 0), None, RuntimeError, RuntimeError("late"), None)

    assert messages(app).get(SLUG, message_id)["status"] == "queued"
    assert "sms_failed" not in party_flags(client, headers, party["id"])


# --- expire_hold -----------------------------------------------------------------------------------------

def notify(client: FlaskClient, headers: dict[str, str], dispatcher: RecordingDispatcher, party_id: str) -> str:
    """Notifies the party; returns the hold version its timer was scheduled with."""
    response = client.post(f"/api/v1/restaurants/{SLUG}/parties/{party_id}/notify", headers=headers)
    assert response.status_code == 200, response.get_json()
    slug, held_party, version, _at = dispatcher.holds[-1]
    assert (slug, held_party) == (SLUG, party_id)
    return version


def kinds(app: Flask, party_id: str) -> list[str]:
    return [m["kind"] for m in messages(app).conversation(SLUG, party_id)]


def test_a_hold_timer_makes_a_notified_party_a_no_show_and_texts_it_once(
        app: Flask, client: FlaskClient, headers: dict[str, str], dispatcher: RecordingDispatcher,
        sender: FakeSender) -> None:
    party = add_party(client, headers)
    version = notify(client, headers, dispatcher, party["id"])

    assert jobs.expire_hold(SLUG, party["id"], version) is True
    assert jobs.expire_hold(SLUG, party["id"], version) is False  # RQ ran the timer twice

    assert party_status(client, headers, party["id"]) == "no_show"
    assert kinds(app, party["id"]) == ["joined", "table_ready", "hold_expired"]


@pytest.mark.parametrize(("action", "status"), [
    ("seat", "seated"),
    ("cancel", "cancelled"),
    ("no-show", "no_show"),
    ("notify", "notified"),  # re-notified: a newer timer owns the hold
])
def test_a_hold_timer_that_fires_after_the_host_acted_does_nothing(
        app: Flask, client: FlaskClient, headers: dict[str, str], dispatcher: RecordingDispatcher,
        sender: FakeSender, action: str, status: str) -> None:
    party = add_party(client, headers)
    version = notify(client, headers, dispatcher, party["id"])
    response = client.post(f"/api/v1/restaurants/{SLUG}/parties/{party['id']}/{action}", headers=headers)
    assert response.status_code == 200, response.get_json()
    kinds_before = kinds(app, party["id"])

    assert jobs.expire_hold(SLUG, party["id"], version) is False

    assert party_status(client, headers, party["id"]) == status
    assert kinds(app, party["id"]) == kinds_before


def test_the_timer_of_a_renotified_party_still_expires_the_new_hold(
        app: Flask, client: FlaskClient, headers: dict[str, str], dispatcher: RecordingDispatcher,
        sender: FakeSender) -> None:
    party = add_party(client, headers)
    first = notify(client, headers, dispatcher, party["id"])
    second = notify(client, headers, dispatcher, party["id"])
    assert first != second

    assert jobs.expire_hold(SLUG, party["id"], first) is False
    assert jobs.expire_hold(SLUG, party["id"], second) is True

    assert party_status(client, headers, party["id"]) == "no_show"
    assert kinds(app, party["id"]).count("hold_expired") == 1
