"""A Twilio error on a party's text raises its ``sms_failed`` flag; a later text that reaches the carrier
clears it, whether the status callback or the sender's own answer says so. A late report about an older
text never clears a newer failure, and an opted-out number keeps its flags."""
from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.fakes import Clock, FakeSender, PermanentSendError, RecordingDispatcher
from tests.unit.test_jobs import joined
from tests.unit.test_webhooks import BASE, config, deliver, guest, party  # noqa: F401  (fixtures)
from waitlist.texting.sms import Sent
from workers import jobs

SLUG = "noodle-bar"


def text_party(client: FlaskClient, headers: dict[str, str], app: Flask, clock: Clock, party_id: str,
               sid: str) -> str:
    """A host's text to the party, a minute later, handed to Twilio as ``sid``; returns its id."""
    clock.advance(60)
    response = client.post(f"{BASE}/{party_id}/messages", json={"body": "are you near?"}, headers=headers)
    assert response.status_code < 300, response.get_json()
    message_id = response.get_json()["id"]
    app.extensions["waitlist"].messages.record_sid(SLUG, message_id, sid, "queued", now=clock())
    return str(message_id)


def first_text(client: FlaskClient, headers: dict[str, str], app: Flask, clock: Clock, party_id: str,
               sid: str) -> str:
    message_id = client.get(f"{BASE}/{party_id}/messages", headers=headers).get_json()["messages"][0]["id"]
    app.extensions["waitlist"].messages.record_sid(SLUG, message_id, sid, "queued", now=clock())
    return str(message_id)


def flags(client: FlaskClient, headers: dict[str, str], party_id: str) -> set[str]:
    return set(party(client, headers, party_id)["flags"])


@pytest.mark.parametrize("reached", ["sent", "delivered"])
def test_a_later_text_that_reaches_the_carrier_clears_the_error(client: FlaskClient, headers: dict[str, str],
                                                                app: Flask, clock: Clock, guest: dict[str, Any],
                                                                reached: str) -> None:
    first_text(client, headers, app, clock, guest["id"], "SMfirst")
    deliver(client, "SMfirst", "undelivered", "30003")
    assert "sms_failed" in flags(client, headers, guest["id"])
    text_party(client, headers, app, clock, guest["id"], "SMlater")
    deliver(client, "SMlater", "queued")
    assert "sms_failed" in flags(client, headers, guest["id"])  # queued proves nothing yet
    deliver(client, "SMlater", reached)
    assert "sms_failed" not in flags(client, headers, guest["id"])


def test_a_late_report_about_an_older_text_does_not_clear_a_newer_failure(
        client: FlaskClient, headers: dict[str, str], app: Flask, clock: Clock, guest: dict[str, Any]) -> None:
    first_text(client, headers, app, clock, guest["id"], "SMolder")
    text_party(client, headers, app, clock, guest["id"], "SMnewer")
    deliver(client, "SMnewer", "failed", "30005")
    deliver(client, "SMolder", "delivered")
    assert "sms_failed" in flags(client, headers, guest["id"])


def test_an_opted_out_party_keeps_its_flags_after_a_delivery_report(
        client: FlaskClient, headers: dict[str, str], app: Flask, clock: Clock, guest: dict[str, Any]) -> None:
    first_text(client, headers, app, clock, guest["id"], "SMfirst")
    deliver(client, "SMfirst", "failed", "21610")
    app.extensions["waitlist"].set_flags(app.extensions["waitlist"].restaurant(SLUG), guest["id"], opted_out=True)
    text_party(client, headers, app, clock, guest["id"], "SMlater")
    deliver(client, "SMlater", "delivered")
    assert {"sms_failed", "opted_out"} <= flags(client, headers, guest["id"])


class AnsweringSender(FakeSender):
    """A sender that reports the text delivered at once (as the development sender does)."""

    def send(self, **kwargs: Any) -> Sent:
        sent = super().send(**kwargs)
        return Sent(sid=sent.sid, status="delivered")


def test_a_worker_send_answered_delivered_clears_the_error_a_failed_send_left(
        app: Flask, client: FlaskClient, headers: dict[str, str], dispatcher: RecordingDispatcher,
        clock: Clock, sender: FakeSender) -> None:
    """(``sender`` installs the job context and takes it down after; this test swaps in its own.)"""
    from workers import context
    fake = AnsweringSender()
    context.use(context.JobContext(waitlist=app.extensions["waitlist"], sender=fake))
    guest, first = joined(client, headers, dispatcher)
    fake.fail_with = [PermanentSendError("twilio refused: code 30006", "30006")]
    assert jobs.send_text(SLUG, first) == "failed"
    assert "sms_failed" in flags(client, headers, guest["id"])
    clock.advance(60)
    client.post(f"{BASE}/{guest['id']}/messages", json={"body": "are you near?"}, headers=headers)
    _slug, later = dispatcher.sent[-1]
    assert jobs.send_text(SLUG, later) == "sent"
    assert "sms_failed" not in flags(client, headers, guest["id"])
