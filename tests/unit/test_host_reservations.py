"""The host stand's reservations view (waitlist/web/host_reservations.py) and its sorting rule
(waitlist/domain/host_bookings.py): late, due within the hour and arrived bookings, one-tap check-in and
no-show as CSRF forms, roles (a viewer sees, a host acts), isolation, escaping, and the floor strip's
bookings about to need tables."""
from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

import pytest
from flask.testing import FlaskClient

from tests.conftest import auth, create_restaurant
from tests.fakes import Clock
from tests.people import person
from tests.unit.test_isolation import sign_in
from tests.unit.test_reservations_api import BASE, DAY, SLUG, book, config, staff  # noqa: F401
from waitlist.domain.host_bookings import service_day, sort_day
from waitlist.store import keys

PAGE = f"/host/{SLUG}/reservations"
NOW = datetime(2026, 10, 1, 23, 10, tzinfo=UTC).timestamp()  # 19:10 in New York on DAY


@pytest.fixture
def day(client: FlaskClient, staff: dict[str, str], clock: Clock) -> dict[str, str]:  # noqa: F811
    """Four bookings on DAY, then the clock at 19:10 there: 18:45 is late, 19:30 and 20:00 due, 21:00 later."""
    ids = {}
    for label, time in (("late", "18:45"), ("soon", "19:30"), ("due", "20:00"), ("later", "21:00")):
        made = book(client, staff, name=f"Guest {label}", party_size=2, time=f"{DAY}T{time}")
        assert made.status_code == 201, made.get_json()
        ids[label] = made.get_json()["id"]
    clock.now = NOW
    return ids


def group_ids(html: str, group: str) -> list[str]:
    section = re.search(rf'<section class="resv-group"[^>]*id="{group}">(.*?)</section>', html, re.S)
    assert section, f"no {group} group"
    return re.findall(r'data-reservation="([^"]+)"', section.group(1))


def status(client: FlaskClient, headers: dict[str, str], reservation_id: str) -> str:
    return str(client.get(f"{BASE}/reservations/{reservation_id}", headers=headers).get_json()["status"])


# --- the rule ------------------------------------------------------------------------------------------

def row(id_: str, status: str, at: str, size: int = 2) -> dict[str, Any]:
    return {"id": id_, "status": status, "starts_at": at, "time": "2026-10-01T" + at[11:16], "party_size": size}


def test_the_rule_sorts_late_due_arrived_later_and_counts_the_closed() -> None:
    rows = [row("b", "confirmed", "2026-10-01T23:50:00Z"), row("a", "booked", "2026-10-01T23:30:00Z", 4),
            row("l", "booked", "2026-10-01T22:45:00Z"), row("x", "booked", "2026-10-02T00:10:00Z"),
            row("s", "seated", "2026-10-01T22:30:00Z"), row("n", "no_show", "2026-10-01T22:00:00Z"),
            row("c", "cancelled", "2026-10-01T23:30:00Z"), row("h", "arrived", "2026-10-01T23:30:00Z")]
    day = sort_day(rows, NOW)
    assert [b.id for b in day.late] == ["l"] and day.late[0].minutes == -25
    assert [b.id for b in day.due] == ["a", "b"] and day.due[0].minutes == 20
    assert [b.id for b in day.arrived] == ["s", "h"] and [b.id for b in day.later] == ["x"]
    assert day.closed == {"no_show": 1, "cancelled": 1} and day.soon_covers == 8


def test_the_service_day_runs_past_midnight() -> None:
    one_am = datetime(2026, 10, 2, 5, 0, tzinfo=UTC).timestamp()  # 01:00 on the 2nd in New York
    assert service_day(one_am, "America/New_York").isoformat() == DAY
    assert service_day(NOW, "America/New_York").isoformat() == DAY


# --- the view ------------------------------------------------------------------------------------------

def test_the_view_groups_the_day_and_offers_check_in_and_no_show(
        client: FlaskClient, staff: dict[str, str], day: dict[str, str]) -> None:  # noqa: F811
    sign_in(client, staff["Authorization"].split()[1], SLUG)
    html = client.get(PAGE).get_data(as_text=True)
    assert group_ids(html, "late") == [day["late"]]
    assert group_ids(html, "due") == [day["soon"], day["due"]]
    assert group_ids(html, "later") == [day["later"]] and group_ids(html, "arrived") == []
    assert "25 min late" in html and "in 20 min" in html
    assert f'{PAGE}/{day["late"]}/no-show' in html and f'{PAGE}/{day["late"]}/check-in' in html
    assert f'{PAGE}/{day["soon"]}/no-show' not in html  # not late yet: no no-show button
    assert 'name="csrf_token"' in html


def test_check_in_moves_a_booking_to_arrived_and_no_show_closes_it(
        client: FlaskClient, staff: dict[str, str], day: dict[str, str]) -> None:  # noqa: F811
    csrf = sign_in(client, staff["Authorization"].split()[1], SLUG)
    checked = client.post(f"{PAGE}/{day['soon']}/check-in", data={"csrf_token": csrf})
    assert checked.status_code == 303 and checked.headers["Location"].endswith(PAGE)
    assert status(client, staff, day["soon"]) == "arrived"
    parties = client.get(f"{BASE}/parties", headers=staff).get_json()["parties"]
    assert [p["name"] for p in parties] == ["Guest soon"]  # on the one list
    assert client.post(f"{PAGE}/{day['late']}/no-show", data={"csrf_token": csrf}).status_code == 303
    assert status(client, staff, day["late"]) == "no_show"
    html = client.get(PAGE).get_data(as_text=True)
    assert group_ids(html, "arrived") == [day["soon"]] and group_ids(html, "late") == []
    assert "1 no-show" in html


def test_every_action_needs_the_csrf_token(
        client: FlaskClient, staff: dict[str, str], day: dict[str, str]) -> None:  # noqa: F811
    sign_in(client, staff["Authorization"].split()[1], SLUG)
    assert client.post(f"{PAGE}/{day['soon']}/check-in").status_code == 403
    assert client.post(f"{PAGE}/{day['soon']}/check-in", data={"csrf_token": "forged"}).status_code == 403
    assert status(client, staff, day["soon"]) == "booked"


def test_a_viewer_sees_the_day_but_cannot_act(
        client: FlaskClient, staff: dict[str, str], day: dict[str, str]) -> None:  # noqa: F811
    csrf = person(client, staff, "vi@example.com", "viewer", "Vi", slug=SLUG)
    html = client.get(PAGE).get_data(as_text=True)
    assert group_ids(html, "due") == [day["soon"], day["due"]] and "/check-in" not in html
    assert client.post(f"{PAGE}/{day['soon']}/check-in", data={"csrf_token": csrf}).status_code == 403
    assert status(client, staff, day["soon"]) == "booked"


def test_a_host_person_may_act(client: FlaskClient, staff: dict[str, str], day: dict[str, str]) -> None:  # noqa: F811
    csrf = person(client, staff, "ho@example.com", "host", "Ho", slug=SLUG)
    assert client.post(f"{PAGE}/{day['late']}/no-show", data={"csrf_token": csrf}).status_code == 303
    assert status(client, staff, day["late"]) == "no_show"


def test_the_view_needs_a_session_and_restaurants_are_isolated(
        client: FlaskClient, staff: dict[str, str], day: dict[str, str]) -> None:  # noqa: F811
    assert client.get(PAGE).status_code == 401
    assert client.get(PAGE, headers=staff).status_code == 401  # an API key is not a session
    other = create_restaurant(client, slug="taco-stand", name="Taco Stand", sms_from="+14155550199")
    theirs = sign_in(client, other["api_key"], "taco-stand")
    assert client.get(PAGE).status_code == 401
    assert client.post(f"{PAGE}/{day['soon']}/check-in", data={"csrf_token": theirs}).status_code == 401
    # their own view cannot reach our booking by its id
    assert client.post(f"/host/taco-stand/reservations/{day['soon']}/check-in",
                       data={"csrf_token": theirs}).status_code == 404
    assert status(client, staff, day["soon"]) == "booked"
    assert group_ids(client.get("/host/taco-stand/reservations").get_data(as_text=True), "due") == []
    assert auth(other["api_key"])  # (their key stays theirs)


def test_an_unknown_booking_is_a_404_and_a_second_check_in_a_409(
        client: FlaskClient, staff: dict[str, str], day: dict[str, str]) -> None:  # noqa: F811
    csrf = sign_in(client, staff["Authorization"].split()[1], SLUG)
    assert client.post(f"{PAGE}/nope/check-in", data={"csrf_token": csrf}).status_code == 404
    assert client.post(f"{PAGE}/{day['soon']}/check-in", data={"csrf_token": csrf}).status_code == 303
    assert client.post(f"{PAGE}/{day['soon']}/check-in", data={"csrf_token": csrf}).status_code == 409


def test_names_and_notes_are_escaped(client: FlaskClient, staff: dict[str, str], clock: Clock) -> None:  # noqa: F811
    assert book(client, staff, name="<b>Bo</b>", notes="<script>x()</script>", time=f"{DAY}T19:30").status_code == 201
    clock.now = NOW
    sign_in(client, staff["Authorization"].split()[1], SLUG)
    html = client.get(PAGE).get_data(as_text=True)
    assert "&lt;b&gt;Bo&lt;/b&gt;" in html and "&lt;script&gt;x()&lt;/script&gt;" in html
    assert "<b>Bo</b>" not in html and "<script>x()" not in html


# --- the floor strip -----------------------------------------------------------------------------------

def test_the_floor_strip_shows_bookings_late_or_due_within_the_hour(
        client: FlaskClient, staff: dict[str, str], day: dict[str, str]) -> None:  # noqa: F811
    put = client.put(f"{BASE}/tables", json={"tables": [{"name": "1", "seats": 2}, {"name": "2", "seats": 4}]},
                     headers=staff)
    assert put.status_code == 200, put.get_json()
    sign_in(client, staff["Authorization"].split()[1], SLUG)
    strip = client.get(f"/host/{SLUG}/floor").get_data(as_text=True)
    due = re.search(r'<p class="floor-due".*?</p>', strip, re.S)
    assert due, strip
    shown = re.findall(r'data-reservation="([^"]+)"', due.group(0))
    assert shown == [day["late"], day["soon"], day["due"]]  # not the 21:00 one
    assert "18:45 Guest late (2) late" in due.group(0) and "6 covers" in due.group(0)
    assert f'href="{PAGE}"' in client.get(f"/host/{SLUG}").get_data(as_text=True)


# --- the arrival text ----------------------------------------------------------------------------------

def texts_to(redis: Any, phone: str) -> list[tuple[str, str]]:
    """(kind, body) of every text recorded for ``phone``, oldest first."""
    found = [redis.hgetall(key) for key in redis.scan_iter(keys.message_key(SLUG, "*"))]
    mine = sorted((m for m in found if m.get("direction") == "out" and m.get("to") == phone),
                  key=lambda m: float(m["created_at"]))
    return [(m["kind"], m["body"]) for m in mine]


def check_in(client: FlaskClient, staff: dict[str, str], reservation_id: str) -> str:  # noqa: F811
    """Check in through the stand; returns the guest's phone."""
    csrf = sign_in(client, staff["Authorization"].split()[1], SLUG)
    assert client.post(f"{PAGE}/{reservation_id}/check-in", data={"csrf_token": csrf}).status_code == 303
    return str(client.get(f"{BASE}/reservations/{reservation_id}", headers=staff).get_json()["phone"])


def test_guests_early_with_no_table_free_get_only_the_arrived_early_text(
        client: FlaskClient, staff: dict[str, str], day: dict[str, str], redis: Any) -> None:  # noqa: F811
    phone = check_in(client, staff, day["soon"])  # 19:10, booked for 19:30, no named tables at all
    sent = [kind for kind, _ in texts_to(redis, phone)]
    assert sent == ["reservation_booked", "reservation_arrived_early"]
    assert "we'll text when your table is ready" in texts_to(redis, phone)[-1][1]


def test_guests_after_their_time_get_the_joined_text_alone(
        client: FlaskClient, staff: dict[str, str], day: dict[str, str], redis: Any) -> None:  # noqa: F811
    phone = check_in(client, staff, day["late"])  # booked for 18:45, here at 19:10
    assert [kind for kind, _ in texts_to(redis, phone)] == ["reservation_booked", "joined"]


def test_guests_early_with_a_table_free_are_seated_without_the_early_text(
        client: FlaskClient, staff: dict[str, str], day: dict[str, str], redis: Any) -> None:  # noqa: F811
    assert client.put(f"{BASE}/tables", json={"tables": [{"name": "1", "seats": 2}]}, headers=staff).status_code == 200
    phone = check_in(client, staff, day["soon"])
    assert status(client, staff, day["soon"]) == "seated"
    assert "reservation_arrived_early" not in [kind for kind, _ in texts_to(redis, phone)]
