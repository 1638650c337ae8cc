"""Inbound texts and status callbacks through the signed Twilio webhooks (fakeredis, fake dispatcher)."""
from __future__ import annotations

import itertools
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from twilio.request_validator import RequestValidator

from config import Config
from tests.conftest import add_party, make_config
from tests.fakes import Clock, RecordingDispatcher

AUTH_TOKEN = "twilio-test-token"
RESTAURANT_NUMBER = "+14155550100"
GUEST = "+14155550177"
BASE = "/api/v1/restaurants/noodle-bar/parties"
_sids = itertools.count(1)


@pytest.fixture
def config() -> Config:
    return make_config(twilio_account_sid="ACtest", twilio_auth_token=AUTH_TOKEN)


def signed_post(client: FlaskClient, path: str, form: dict[str, str], token: str = AUTH_TOKEN) -> Any:
    signature = RequestValidator(token).compute_signature(f"https://wait.example.com{path}", form)
    return client.post(path, data=form, headers={"X-Twilio-Signature": signature})


def text_in(client: FlaskClient, body: str, from_: str = GUEST, sid: str | None = None) -> Any:
    form = {"From": from_, "To": RESTAURANT_NUMBER, "Body": body, "MessageSid": sid or f"SMin{next(_sids):030d}",
            "AccountSid": "ACtest", "NumMedia": "0"}
    response = signed_post(client, "/sms/inbound", form)
    assert response.status_code == 200
    assert response.mimetype == "text/xml" and "<Response></Response>" in response.get_data(as_text=True)
    return response


def kinds(client: FlaskClient, headers: dict[str, str], party_id: str) -> list[str]:
    messages = client.get(f"{BASE}/{party_id}/messages", headers=headers).get_json()["messages"]
    return [m["kind"] for m in messages]


def party(client: FlaskClient, headers: dict[str, str], party_id: str) -> dict[str, Any]:
    return client.get(f"{BASE}/{party_id}", headers=headers).get_json()


@pytest.fixture
def guest(client: FlaskClient, headers: dict[str, str]) -> dict[str, Any]:
    return add_party(client, headers, phone=GUEST)


def test_a_missing_signature_is_refused_before_anything_happens(client: FlaskClient, headers: dict[str, str],
                                                                guest: dict[str, Any]) -> None:
    response = client.post("/sms/inbound", data={"From": GUEST, "To": RESTAURANT_NUMBER, "Body": "9",
                                                 "MessageSid": "SMx"})
    assert response.status_code == 403
    assert party(client, headers, guest["id"])["status"] == "waiting"


def test_a_forged_signature_is_refused(client: FlaskClient, headers: dict[str, str], guest: dict[str, Any]) -> None:
    form = {"From": GUEST, "To": RESTAURANT_NUMBER, "Body": "9", "MessageSid": "SMforged"}
    assert signed_post(client, "/sms/inbound", form, token="not-the-token").status_code == 403
    assert party(client, headers, guest["id"])["status"] == "waiting"
    assert kinds(client, headers, guest["id"]) == ["joined"]


def test_a_tampered_form_is_refused(client: FlaskClient, headers: dict[str, str], guest: dict[str, Any]) -> None:
    form = {"From": GUEST, "To": RESTAURANT_NUMBER, "Body": "S", "MessageSid": "SMtamper"}
    signature = RequestValidator(AUTH_TOKEN).compute_signature("https://wait.example.com/sms/inbound", form)
    response = client.post("/sms/inbound", data={**form, "Body": "9"}, headers={"X-Twilio-Signature": signature})
    assert response.status_code == 403
    assert party(client, headers, guest["id"])["status"] == "waiting"


@pytest.mark.parametrize("body", ["9", "LEAVE", "x", "取消"])
def test_leave_words_cancel_the_party_and_confirm(client: FlaskClient, headers: dict[str, str],
                                                  guest: dict[str, Any], body: str) -> None:
    text_in(client, body)
    assert party(client, headers, guest["id"])["status"] == "cancelled"
    assert kinds(client, headers, guest["id"]) == ["joined", "inbound", "left"]


@pytest.mark.parametrize("body", ["1", "Y", "OMW", "coming", "来了"])
def test_coming_after_table_ready_flags_on_the_way(client: FlaskClient, headers: dict[str, str],
                                                   guest: dict[str, Any], body: str) -> None:
    client.post(f"{BASE}/{guest['id']}/notify", headers=headers)
    text_in(client, body)
    assert "on_the_way" in party(client, headers, guest["id"])["flags"]
    assert kinds(client, headers, guest["id"])[-1] == "on_the_way_ack"


def test_one_before_table_ready_is_just_a_message_for_the_host(client: FlaskClient, headers: dict[str, str],
                                                               guest: dict[str, Any]) -> None:
    text_in(client, "1")
    body = party(client, headers, guest["id"])
    assert "on_the_way" not in body["flags"] and "new_message" in body["flags"]


def test_late_extends_a_notified_partys_hold_and_restarts_the_timer(
        client: FlaskClient, headers: dict[str, str], guest: dict[str, Any], dispatcher: RecordingDispatcher) -> None:
    notified = client.post(f"{BASE}/{guest['id']}/notify", headers=headers).get_json()
    text_in(client, "late 15")
    after = party(client, headers, guest["id"])
    assert "running_late" in after["flags"]
    assert after["hold_until"] > notified["hold_until"]
    assert len(dispatcher.holds) == 2 and dispatcher.holds[1][3] - dispatcher.holds[0][3] == pytest.approx(900)
    messages = client.get(f"{BASE}/{guest['id']}/messages", headers=headers).get_json()["messages"]
    assert messages[-1]["kind"] == "late_ack" and "hold your table until" in messages[-1]["body"]


def test_late_extensions_add_up_to_thirty_minutes_at_most(client: FlaskClient, headers: dict[str, str],
                                                         guest: dict[str, Any],
                                                         dispatcher: RecordingDispatcher) -> None:
    client.post(f"{BASE}/{guest['id']}/notify", headers=headers)
    first_hold = dispatcher.holds[0][3]
    for _ in range(4):
        text_in(client, "late 20")
    assert dispatcher.holds[-1][3] - first_hold == pytest.approx(1800)


def test_late_while_waiting_only_flags_the_party(client: FlaskClient, headers: dict[str, str],
                                                 guest: dict[str, Any], dispatcher: RecordingDispatcher) -> None:
    text_in(client, "L")
    assert "running_late" in party(client, headers, guest["id"])["flags"]
    assert dispatcher.holds == []


@pytest.mark.parametrize("body", ["S", "status", "?", "where", "状态"])
def test_status_words_get_place_and_estimate(client: FlaskClient, headers: dict[str, str], guest: dict[str, Any],
                                             body: str) -> None:
    text_in(client, body)
    messages = client.get(f"{BASE}/{guest['id']}/messages", headers=headers).get_json()["messages"]
    assert messages[-1]["kind"] == "status_reply" and "#1" in messages[-1]["body"]


def test_a_status_reply_quotes_what_is_left_of_the_hosts_quote(client: FlaskClient, headers: dict[str, str],
                                                               clock: Any) -> None:
    guest = add_party(client, headers, phone=GUEST, quote_minutes=45)
    clock.advance(20 * 60)
    text_in(client, "STATUS")
    messages = client.get(f"{BASE}/{guest['id']}/messages", headers=headers).get_json()["messages"]
    assert messages[-1]["kind"] == "status_reply" and "20-30" in messages[-1]["body"]


@pytest.mark.parametrize("body", ["HELP", "info", "帮助"])
def test_help_lists_the_commands_without_advertising_cancel(client: FlaskClient, headers: dict[str, str],
                                                            guest: dict[str, Any], body: str) -> None:
    text_in(client, body)
    reply = client.get(f"{BASE}/{guest['id']}/messages", headers=headers).get_json()["messages"][-1]
    assert reply["kind"] == "help" and "CANCEL" not in reply["body"].upper()


@pytest.mark.parametrize("body", ["STOP", "stopall", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "REVOKE", "OPTOUT"])
def test_stop_words_opt_out_cancel_and_silence_the_number(client: FlaskClient, headers: dict[str, str],
                                                          guest: dict[str, Any], dispatcher: RecordingDispatcher,
                                                          body: str) -> None:
    text_in(client, body)
    after = party(client, headers, guest["id"])
    assert after["status"] == "cancelled" and "opted_out" in after["flags"]
    assert kinds(client, headers, guest["id"]) == ["joined", "inbound"]
    sent_before = len(dispatcher.sent)
    again = add_party(client, headers, phone=GUEST)
    client.post(f"{BASE}/{again['id']}/notify", headers=headers)
    assert len(dispatcher.sent) == sent_before
    messages = client.get(f"{BASE}/{again['id']}/messages", headers=headers).get_json()["messages"]
    assert {m["status"] for m in messages} == {"suppressed"}
    assert "opted_out" in party(client, headers, again["id"])["flags"]


@pytest.mark.parametrize("body", ["START", "unstop", "YES"])
def test_start_words_opt_back_in(client: FlaskClient, headers: dict[str, str], dispatcher: RecordingDispatcher,
                                 body: str) -> None:
    text_in(client, "STOP")
    text_in(client, body)
    sent_before = len(dispatcher.sent)
    add_party(client, headers, phone=GUEST)
    assert len(dispatcher.sent) == sent_before + 1


def test_yes_after_table_ready_also_flags_on_the_way(client: FlaskClient, headers: dict[str, str],
                                                     guest: dict[str, Any]) -> None:
    client.post(f"{BASE}/{guest['id']}/notify", headers=headers)
    text_in(client, "YES")
    assert "on_the_way" in party(client, headers, guest["id"])["flags"]


def test_join_by_text_works_only_with_remote_join_on(client: FlaskClient, headers: dict[str, str]) -> None:
    text_in(client, "JOIN 4 Ana")
    assert client.get(BASE, headers=headers).get_json()["parties"] == []
    client.patch("/api/v1/restaurants/noodle-bar/settings", json={"remote_join": True}, headers=headers)
    text_in(client, "JOIN 4 Ana", sid="SMjoin1")
    text_in(client, "排队 3", from_="+14155550178")
    parties = client.get(BASE, headers=headers).get_json()["parties"]
    assert [(p["name"], p["party_size"]) for p in parties] == [("Ana", 4), ("Guest", 3)]
    assert kinds(client, headers, parties[0]["id"])[-1] == "joined"


def test_other_text_is_kept_for_the_host_with_one_acknowledgement(client: FlaskClient, headers: dict[str, str],
                                                                 guest: dict[str, Any]) -> None:
    text_in(client, "Can we sit <b>outside</b>?")
    text_in(client, "Also a high chair please")
    assert "new_message" in party(client, headers, guest["id"])["flags"]
    assert kinds(client, headers, guest["id"]) == ["joined", "inbound", "host_will_see", "inbound"]
    messages = client.get(f"{BASE}/{guest['id']}/messages", headers=headers).get_json()["messages"]
    assert messages[1]["body"] == "Can we sit <b>outside</b>?" and messages[1]["direction"] == "in"
    assert "new_message" not in party(client, headers, guest["id"])["flags"]


def test_a_number_not_on_the_list_hears_so_once_an_hour(client: FlaskClient, restaurant: dict[str, Any],
                                                        dispatcher: RecordingDispatcher, clock: Clock,
                                                        app: Flask) -> None:
    for body in ("hello?", "hello??", "S"):
        text_in(client, body, from_="+14155550190")
    assert len(dispatcher.sent) == 1
    app.extensions["redis"].delete("wl:{noodle-bar}:once:notonlist:" +
                                   app.extensions["waitlist"].digest("+14155550190"))  # the hour has passed
    text_in(client, "still there?", from_="+14155550190")
    assert len(dispatcher.sent) == 2


def test_a_replayed_message_sid_acts_once(client: FlaskClient, headers: dict[str, str],
                                          guest: dict[str, Any]) -> None:
    text_in(client, "S", sid="SMreplayed")
    text_in(client, "S", sid="SMreplayed")
    assert kinds(client, headers, guest["id"]) == ["joined", "inbound", "status_reply"]


def test_a_texting_loop_is_stored_but_stops_getting_replies(client: FlaskClient, headers: dict[str, str],
                                                           guest: dict[str, Any]) -> None:
    for _ in range(30):
        text_in(client, "S")
    found = kinds(client, headers, guest["id"])
    assert found.count("inbound") == 30
    assert found.count("status_reply") == 20


def test_an_unknown_restaurant_number_is_ignored(client: FlaskClient, restaurant: dict[str, Any]) -> None:
    form = {"From": GUEST, "To": "+14155550999", "Body": "9", "MessageSid": "SMnowhere"}
    assert signed_post(client, "/sms/inbound", form).status_code == 200


def deliver(client: FlaskClient, sid: str, status: str, error: str = "") -> None:
    form = {"MessageSid": sid, "MessageStatus": status, "AccountSid": "ACtest"}
    if error:
        form["ErrorCode"] = error
    assert signed_post(client, "/sms/status", form).status_code == 204


def test_status_callbacks_move_forward_only(client: FlaskClient, headers: dict[str, str], app: Flask,
                                            guest: dict[str, Any], clock: Clock) -> None:
    messages = app.extensions["waitlist"].messages
    message_id = client.get(f"{BASE}/{guest['id']}/messages", headers=headers).get_json()["messages"][0]["id"]
    messages.record_sid("noodle-bar", message_id, "SMabc", "queued", now=clock())
    deliver(client, "SMabc", "sent")
    deliver(client, "SMabc", "delivered")
    deliver(client, "SMabc", "sent")
    deliver(client, "SMabc", "delivered")
    assert messages.get("noodle-bar", message_id)["status"] == "delivered"


def test_an_undelivered_text_flags_the_party(client: FlaskClient, headers: dict[str, str], app: Flask,
                                             guest: dict[str, Any], clock: Clock) -> None:
    messages = app.extensions["waitlist"].messages
    message_id = client.get(f"{BASE}/{guest['id']}/messages", headers=headers).get_json()["messages"][0]["id"]
    messages.record_sid("noodle-bar", message_id, "SMdef", "queued", now=clock())
    deliver(client, "SMdef", "undelivered", "30005")
    stored = messages.get("noodle-bar", message_id)
    assert stored["status"] == "undelivered" and stored["error_code"] == "30005"
    assert "sms_failed" in party(client, headers, guest["id"])["flags"]


def test_a_status_callback_needs_a_valid_signature(client: FlaskClient) -> None:
    assert client.post("/sms/status", data={"MessageSid": "SMabc", "MessageStatus": "failed"}).status_code == 403


def test_webhooks_refuse_everything_without_a_twilio_token(restaurant: dict[str, Any]) -> None:
    import fakeredis

    from waitlist.web.app import create_app

    app = create_app(make_config(), redis=fakeredis.FakeRedis(decode_responses=True),
                     dispatcher=RecordingDispatcher())
    form = {"From": GUEST, "To": RESTAURANT_NUMBER, "Body": "9", "MessageSid": "SMz"}
    assert signed_post(app.test_client(), "/sms/inbound", form).status_code == 403


def test_feedback_is_asked_once_and_a_low_rating_keeps_the_guests_comment(
        client: FlaskClient, headers: dict[str, str], guest: dict[str, Any], app: Flask,
        dispatcher: RecordingDispatcher, redis: Any) -> None:
    client.patch("/api/v1/restaurants/noodle-bar/settings", json={"feedback": True, "feedback_delay_minutes": 30},
                 headers=headers)
    client.post(f"{BASE}/{guest['id']}/seat", headers=headers)
    assert [(slug, pid) for slug, pid, _at in dispatcher.feedback] == [("noodle-bar", guest["id"])]
    service = app.extensions["waitlist"]
    assert service.request_feedback("noodle-bar", guest["id"]) is True
    assert service.request_feedback("noodle-bar", guest["id"]) is False
    text_in(client, "2")
    text_in(client, "Waited too long for drinks")
    stored = redis.hgetall(f"wl:{{noodle-bar}}:party:{guest['id']}")
    assert stored["rating"] == "2" and stored["comment"] == "Waited too long for drinks"
    found = kinds(client, headers, guest["id"])
    assert found.count("feedback_request") == 1 and found.count("feedback_thanks") == 1
    events = [fields for _id, fields in redis.xrange("wl:{noodle-bar}:events") if fields["type"] == "feedback"]
    assert [e.get("rating") or e.get("comment") for e in events] == ["2", "Waited too long for drinks"]


def test_no_feedback_is_asked_when_the_restaurant_did_not_turn_it_on(
        client: FlaskClient, headers: dict[str, str], guest: dict[str, Any], app: Flask,
        dispatcher: RecordingDispatcher) -> None:
    client.post(f"{BASE}/{guest['id']}/seat", headers=headers)
    assert dispatcher.feedback == []
    assert app.extensions["waitlist"].request_feedback("noodle-bar", guest["id"]) is False


def test_a_sid_is_kept_even_when_twilio_answers_with_a_status_we_do_not_know(
        client: FlaskClient, headers: dict[str, str], app: Flask, guest: dict[str, Any], clock: Clock) -> None:
    messages = app.extensions["waitlist"].messages
    message_id = client.get(f"{BASE}/{guest['id']}/messages", headers=headers).get_json()["messages"][0]["id"]
    messages.record_sid("noodle-bar", message_id, "SMnew", "partially_delivered", now=clock())
    stored = messages.get("noodle-bar", message_id)
    assert stored["sid"] == "SMnew" and stored["status"] == "queued"
    assert messages.locate_sid("SMnew") == ("noodle-bar", message_id)
