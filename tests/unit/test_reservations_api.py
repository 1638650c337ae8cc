"""The reservations API on fakeredis: booking, the day's list, changes, cancel / no-show / check-in,
availability, every refusal in the one error shape, timers scheduled with their version, and isolation."""
from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from config import Config
from tests.conftest import auth, create_restaurant, make_config, next_phone
from tests.fakes import Clock, RecordingDispatcher
from tests.unit.test_webhooks import AUTH_TOKEN, signed_post
from waitlist.store import keys

SLUG = "noodle-bar"
BASE = f"/api/v1/restaurants/{SLUG}"
DAY = "2026-10-01"  # a Thursday, ten days after the test clock's now (2026-09-21)
EVENINGS = {day: [["17:00", "22:00"]] for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}


@pytest.fixture
def config() -> Config:
    """Twilio configured, so the inbound webhook checks signatures as in production."""
    return make_config(twilio_account_sid="ACtest", twilio_auth_token=AUTH_TOKEN)


@pytest.fixture
def staff(client: FlaskClient) -> dict[str, str]:
    made = create_restaurant(client, timezone="America/New_York")
    headers = auth(made["api_key"])
    response = client.patch(f"{BASE}/reservations/settings", headers=headers, json={
        "enabled": True, "hours": EVENINGS, "covers_per_slot": 8, "reminder_hours": 24})
    assert response.status_code == 200, response.get_json()
    return headers


def book(client: FlaskClient, headers: dict[str, str], **overrides: Any) -> Any:
    body = {"name": "Ana Lima", "phone": next_phone(), "party_size": 4, "time": f"{DAY}T19:30", **overrides}
    return client.post(f"{BASE}/reservations", json=body, headers=headers)


def error(response: Any, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.get_json()
    body = response.get_json()
    assert set(body) == {"error"} and body["error"]["code"] == code
    return body["error"]  # type: ignore[no-any-return]


def test_a_booking_answers_201_with_its_manage_link_and_is_on_the_days_list(
        client: FlaskClient, staff: dict[str, str]) -> None:
    response = book(client, staff, notes="window please", tags=["vip"])
    assert response.status_code == 201, response.get_json()
    booking = response.get_json()
    assert booking["status"] == "booked" and booking["time"] == f"{DAY}T19:30"
    assert booking["starts_at"] == "2026-10-01T23:30:00Z"  # EDT
    assert booking["manage_url"].startswith("https://wait.example.com/r/")
    listed = client.get(f"{BASE}/reservations?date={DAY}", headers=staff).get_json()["reservations"]
    assert [r["id"] for r in listed] == [booking["id"]] and listed[0]["tags"] == ["vip"]


def test_the_booked_text_carries_the_manage_link(client: FlaskClient, staff: dict[str, str], app: Flask) -> None:
    booking = book(client, staff).get_json()
    redis = app.extensions["waitlist"].messages.redis
    bodies = [redis.hget(key, "body") for key in redis.scan_iter(keys.message_key(SLUG, "*"))]
    assert len(bodies) == 1 and any(booking["manage_url"] in body and "Reply 9 to cancel" in body for body in bodies)


def test_reminder_and_grace_timers_are_scheduled_with_the_bookings_version(
        client: FlaskClient, staff: dict[str, str], dispatcher: RecordingDispatcher) -> None:
    booking = book(client, staff).get_json()
    timers = [t for t in dispatcher.reservation_timers if t[1] == booking["id"]]
    start = Clock().now
    kinds = {kind: (version, at) for _slug, _id, kind, version, at in timers}
    assert set(kinds) == {"reminder", "grace"} and kinds["reminder"][0] == kinds["grace"][0] == "1"
    assert kinds["grace"][1] - kinds["reminder"][1] == 24 * 3600 + 15 * 60
    assert start < kinds["reminder"][1]
    moved = client.patch(f"{BASE}/reservations/{booking['id']}", json={"time": f"{DAY}T20:00"}, headers=staff)
    assert moved.status_code == 200 and moved.get_json()["time"] == f"{DAY}T20:00"
    assert {t[3] for t in dispatcher.reservation_timers if t[1] == booking["id"]} == {"1", "2"}


@pytest.mark.parametrize("overrides, status, code, field", [
    ({"time": "2026-09-01T19:30"}, 400, "invalid_input", "time"),  # in the past
    ({"time": f"{DAY}T12:00"}, 400, "invalid_input", "time"),  # outside hours
    ({"time": f"{DAY}T19:10"}, 400, "invalid_input", "time"),  # off the slot grid
    ({"time": "someday"}, 400, "invalid_input", "time"),
    ({"time": "2027-09-01T19:30"}, 400, "invalid_input", "time"),  # beyond the horizon
    ({"party_size": 99}, 400, "invalid_input", "party_size"),  # over the maximum
    ({"party_size": 0}, 400, "invalid_input", "party_size"),
    ({"phone": "not a phone"}, 400, "invalid_input", "phone"),
    ({"force": "yes"}, 400, "invalid_input", "force"),
])
def test_bad_bookings_get_the_one_error_shape(client: FlaskClient, staff: dict[str, str], overrides: dict[str, Any],
                                              status: int, code: str, field: str) -> None:
    refused = error(book(client, staff, **overrides), status, code)
    assert field in refused["fields"]


def test_a_full_slot_is_refused_409_unless_staff_force_it(client: FlaskClient, staff: dict[str, str]) -> None:
    assert book(client, staff, party_size=6).status_code == 201
    refused = error(book(client, staff, party_size=4), 409, "slot_full")
    assert "covers" in refused["message"]
    forced = book(client, staff, party_size=4, force=True)
    assert forced.status_code == 201 and forced.get_json()["forced"] is True
    error(book(client, staff, party_size=1), 409, "slot_full")  # a forced booking counts like any other


def test_availability_is_public_and_leaves_out_full_slots(client: FlaskClient, staff: dict[str, str]) -> None:
    book(client, staff, party_size=8)
    response = client.get(f"/api/v1/restaurants/{SLUG}/availability?date={DAY}&party_size=2")
    assert response.status_code == 200
    times = [slot["time"] for slot in response.get_json()["slots"]]
    assert f"{DAY}T19:30" not in times and f"{DAY}T19:45" in times and times[0] == f"{DAY}T17:00"


@pytest.mark.parametrize("query", ["date=tomorrow&party_size=2", "date=2026-10-01&party_size=two", "party_size=2"])
def test_availability_refuses_bad_queries(client: FlaskClient, staff: dict[str, str], query: str) -> None:
    error(client.get(f"{BASE}/availability?{query}"), 400, "invalid_input")


def test_an_unknown_reservation_is_404(client: FlaskClient, staff: dict[str, str]) -> None:
    error(client.get(f"{BASE}/reservations/nope", headers=staff), 404, "reservation_not_found")
    error(client.post(f"{BASE}/reservations/nope/cancel", headers=staff), 404, "reservation_not_found")
    error(client.patch(f"{BASE}/reservations/nope", json={"notes": "x"}, headers=staff), 404,
          "reservation_not_found")


def test_cancel_frees_the_slot_and_cannot_be_undone_by_a_check_in(client: FlaskClient, staff: dict[str, str]) -> None:
    first = book(client, staff, party_size=8).get_json()
    error(book(client, staff, party_size=2), 409, "slot_full")
    cancelled = client.post(f"{BASE}/reservations/{first['id']}/cancel", headers=staff)
    assert cancelled.get_json()["status"] == "cancelled"
    assert book(client, staff, party_size=2).status_code == 201
    error(client.post(f"{BASE}/reservations/{first['id']}/check-in", headers=staff), 409, "invalid_transition")
    error(client.patch(f"{BASE}/reservations/{first['id']}", json={"party_size": 2}, headers=staff), 409,
          "invalid_transition")


def test_no_show_then_a_late_arrival_still_checks_in(client: FlaskClient, staff: dict[str, str], clock: Clock) -> None:
    booking = book(client, staff).get_json()
    assert client.post(f"{BASE}/reservations/{booking['id']}/no-show", headers=staff).get_json()["status"] == "no_show"
    arrived = client.post(f"{BASE}/reservations/{booking['id']}/check-in", headers=staff)
    assert arrived.status_code == 200 and arrived.get_json()["status"] == "arrived"


def test_check_in_puts_the_guests_first_in_line_flagged_as_a_reservation(
        client: FlaskClient, staff: dict[str, str]) -> None:
    walk_in = client.post(f"{BASE}/parties", json={"name": "Walk In", "phone": next_phone(), "party_size": 2},
                          headers=staff)
    assert walk_in.status_code == 201
    booking = book(client, staff).get_json()
    arrived = client.post(f"{BASE}/reservations/{booking['id']}/check-in", headers=staff).get_json()
    assert arrived["status"] == "arrived" and arrived["party_id"]
    party = client.get(f"{BASE}/parties/{arrived['party_id']}", headers=staff).get_json()
    assert party["position"] == 1 and "reservation" in party["flags"]
    error(client.post(f"{BASE}/reservations/{booking['id']}/check-in", headers=staff), 409, "invalid_transition")


def test_check_in_seats_at_once_at_a_free_table_that_fits(client: FlaskClient, staff: dict[str, str]) -> None:
    floor = {"tables": [{"name": "T1", "seats": 2}, {"name": "T2", "seats": 4}]}
    assert client.put(f"{BASE}/tables", json=floor, headers=staff).status_code == 200
    booking = book(client, staff, party_size=3).get_json()
    seated = client.post(f"{BASE}/reservations/{booking['id']}/check-in", headers=staff).get_json()
    assert seated["status"] == "seated"
    tables = {t["name"]: t for t in client.get(f"{BASE}/tables", headers=staff).get_json()["tables"]}
    assert tables["T2"]["state"] == "occupied" and tables["T1"]["state"] == "free"


def test_settings_refuse_bad_fields_and_need_a_manager(client: FlaskClient, staff: dict[str, str]) -> None:
    refused = error(client.patch(f"{BASE}/reservations/settings", json={"slot_minutes": 1}, headers=staff),
                    400, "invalid_input")
    assert "slot_minutes" in refused["fields"]
    assert client.get(f"{BASE}/reservations/settings", headers=staff).get_json()["slot_minutes"] == 15


def test_another_restaurants_key_reaches_no_reservation(client: FlaskClient, staff: dict[str, str]) -> None:
    booking = book(client, staff).get_json()
    other = create_restaurant(client, slug="other-place", name="Other", sms_from="+14155550199")
    theirs = auth(other["api_key"])
    assert client.get(f"{BASE}/reservations/{booking['id']}", headers=theirs).status_code == 403
    assert client.post(f"{BASE}/reservations/{booking['id']}/cancel", headers=theirs).status_code == 403
    error(client.get(f"/api/v1/restaurants/other-place/reservations/{booking['id']}", headers=theirs), 404,
          "reservation_not_found")
    assert client.get(f"{BASE}/reservations?date={DAY}").status_code == 401


# --- replies by text -----------------------------------------------------------------------------------

def text_in(client: FlaskClient, phone: str, body: str, sid: str) -> None:
    form = {"From": phone, "To": "+14155550100", "Body": body, "MessageSid": sid, "AccountSid": "ACtest",
            "NumMedia": "0"}
    assert signed_post(client, "/sms/inbound", form).status_code == 200


def status_of(client: FlaskClient, headers: dict[str, str], booking: dict[str, Any]) -> str:
    return str(client.get(f"{BASE}/reservations/{booking['id']}", headers=headers).get_json()["status"])


@pytest.mark.parametrize("word", ["C", "yes", "确认", " c. "])
def test_a_guest_confirms_by_text(client: FlaskClient, staff: dict[str, str], word: str) -> None:
    phone = next_phone()
    booking = book(client, staff, phone=phone).get_json()
    text_in(client, phone, word, f"SMc{abs(hash(word))}")
    assert status_of(client, staff, booking) == "confirmed"


@pytest.mark.parametrize("word", ["9", "x", "取消"])
def test_a_guest_cancels_by_text_and_the_slot_opens_again(client: FlaskClient, staff: dict[str, str],
                                                          word: str) -> None:
    phone = next_phone()
    booking = book(client, staff, phone=phone, party_size=8).get_json()
    text_in(client, phone, word, f"SMx{abs(hash(word))}")
    assert status_of(client, staff, booking) == "cancelled"
    assert book(client, staff, party_size=8).status_code == 201


def test_cancel_the_word_is_an_opt_out_not_a_reservation_reply(client: FlaskClient, staff: dict[str, str]) -> None:
    phone = next_phone()
    booking = book(client, staff, phone=phone).get_json()
    text_in(client, phone, "CANCEL", "SMcancelword")
    assert status_of(client, staff, booking) == "booked"


def test_a_reply_from_another_number_touches_no_booking(client: FlaskClient, staff: dict[str, str]) -> None:
    booking = book(client, staff).get_json()
    text_in(client, next_phone(), "9", "SMstranger")
    assert status_of(client, staff, booking) == "booked"


def test_a_timer_scheduled_before_a_cancel_texts_nothing(client: FlaskClient, staff: dict[str, str], app: Flask,
                                                         dispatcher: RecordingDispatcher) -> None:
    booking = book(client, staff).get_json()
    reminder = next(t for t in dispatcher.reservation_timers if t[1] == booking["id"] and t[2] == "reminder")
    client.post(f"{BASE}/reservations/{booking['id']}/cancel", headers=staff)
    service = app.extensions["reservations"]
    assert service.fire_timer(SLUG, booking["id"], "reminder", reminder[3]) == "stale"


def test_check_in_of_a_guest_already_on_the_list_takes_that_party(client: FlaskClient, staff: dict[str, str]) -> None:
    phone = next_phone()
    walked_in = client.post(f"{BASE}/parties", json={"name": "Ana Lima", "phone": phone, "party_size": 4},
                            headers=staff).get_json()
    booking = book(client, staff, phone=phone).get_json()
    arrived = client.post(f"{BASE}/reservations/{booking['id']}/check-in", headers=staff)
    assert arrived.status_code == 200 and arrived.get_json()["party_id"] == walked_in["id"]
    assert len(client.get(f"{BASE}/parties", headers=staff).get_json()["parties"]) == 1


def test_availability_is_rate_limited_per_address(client: FlaskClient, staff: dict[str, str]) -> None:
    url = f"{BASE}/availability?date={DAY}&party_size=2"
    answers = [client.get(url, environ_base={"REMOTE_ADDR": "198.51.100.4"}).status_code for _ in range(121)]
    assert answers[:120] == [200] * 120 and answers[120] == 429
