"""The guests' booking page (/book/<slug>, confirmed by the guest's own text) and manage page (/r/<token>)."""
from __future__ import annotations

import re
from typing import Any

import fakeredis
import pytest
from flask.testing import FlaskClient

from tests.unit.test_isolation import csrf_of
from tests.unit.test_reservations_api import BASE, DAY, SLUG, book, config, staff, status_of, text_in  # noqa: F401
from waitlist.store import keys

GUEST = "+14155550188"


def outbound(redis: fakeredis.FakeRedis) -> list[dict[str, str]]:
    found = [redis.hgetall(key) for key in redis.scan_iter(keys.message_key(SLUG, "*"))]
    return [m for m in found if m.get("direction") == "out"]


def open_booking(client: FlaskClient, time: str = f"{DAY}T19:30", size: str = "2",
                 address: str = "203.0.113.9") -> tuple[str, str]:
    """The booking form sent: (the code page's path, the code it shows)."""
    page = client.get(f"/book/{SLUG}?date={DAY}&party_size={size}").get_data(as_text=True)
    response = client.post(f"/book/{SLUG}", data={"name": "Mei Chen", "party_size": size, "time": time,
                                                  "csrf_token": csrf_of(page), "language": "en"},
                           environ_base={"REMOTE_ADDR": address})
    assert response.status_code == 303, response.get_data(as_text=True)
    path = response.headers["Location"].split("?")[0]
    code_page = client.get(path).get_data(as_text=True)
    found = re.search(r'id="join-code"[^>]*>([A-Z0-9]+)<', code_page)
    assert found and "BOOK" in code_page
    return path, found.group(1)


def test_the_booking_page_lists_the_open_slots_of_the_day(client: FlaskClient, staff: dict[str, str]) -> None:
    book(client, staff, party_size=8)  # 19:30 is full
    page = client.get(f"/book/{SLUG}?date={DAY}&party_size=2").get_data(as_text=True)
    assert f'value="{DAY}T19:45"' in page and f'value="{DAY}T19:30"' not in page


def test_the_booking_page_says_so_when_bookings_are_off(client: FlaskClient, staff: dict[str, str]) -> None:
    client.patch(f"{BASE}/reservations/settings", json={"enabled": False}, headers=staff)
    page = client.get(f"/book/{SLUG}").get_data(as_text=True)
    assert "takes no bookings online" in page and 'name="time"' not in page


def test_a_booking_from_the_page_texts_nobody_until_the_guest_texts_the_code(
        client: FlaskClient, staff: dict[str, str], redis: fakeredis.FakeRedis) -> None:
    path, code = open_booking(client)
    assert outbound(redis) == []
    assert client.get(f"{BASE}/reservations?date={DAY}", headers=staff).get_json()["reservations"] == []
    text_in(client, GUEST, f"BOOK {code}", "SMbook1")
    listed = client.get(f"{BASE}/reservations?date={DAY}", headers=staff).get_json()["reservations"]
    assert [(r["name"], r["phone"], r["source"]) for r in listed] == [("Mei Chen", GUEST, "guest")]
    assert [m["to"] for m in outbound(redis)] == [GUEST]
    state = client.get(f"{path}/state").get_json()
    assert state["state"] == "joined" and state["status_url"].startswith("/r/")
    text_in(client, "+14155550189", f"BOOK {code}", "SMbook2")  # the same code from another number
    assert len(client.get(f"{BASE}/reservations?date={DAY}", headers=staff).get_json()["reservations"]) == 1


def test_a_slot_taken_while_the_guest_was_texting_is_refused_by_text(
        client: FlaskClient, staff: dict[str, str], redis: fakeredis.FakeRedis) -> None:
    _path, code = open_booking(client, size="4")
    book(client, staff, party_size=6)  # 6 + 4 > the 8 covers of the slot
    text_in(client, GUEST, f"BOOK {code}", "SMlate")
    bodies = [m["body"] for m in outbound(redis) if m["to"] == GUEST]
    assert len(bodies) == 1 and "was just taken" in bodies[0]


def test_a_full_slot_or_a_bad_form_is_refused_on_the_page(client: FlaskClient, staff: dict[str, str]) -> None:
    book(client, staff, party_size=8)
    page = client.get(f"/book/{SLUG}?date={DAY}").get_data(as_text=True)
    full = client.post(f"/book/{SLUG}", data={"name": "Mei", "party_size": "2", "time": f"{DAY}T19:30",
                                              "csrf_token": csrf_of(page)})
    assert full.status_code == 409
    blank = client.post(f"/book/{SLUG}", data={"name": "", "party_size": "2", "time": f"{DAY}T19:45",
                                               "csrf_token": csrf_of(page)})
    assert blank.status_code == 400
    assert client.post(f"/book/{SLUG}", data={"name": "Mei", "party_size": "2", "time": f"{DAY}T19:45"}
                       ).status_code in (400, 403)  # no CSRF token


@pytest.fixture
def manage_path(client: FlaskClient, staff: dict[str, str]) -> tuple[str, dict[str, Any]]:
    booking = book(client, staff, party_size=2).get_json()
    return "/r/" + booking["manage_url"].rsplit("/", 1)[1], booking


def test_the_manage_page_changes_time_and_size_within_the_caps(
        client: FlaskClient, staff: dict[str, str], manage_path: tuple[str, dict[str, Any]]) -> None:
    path, booking = manage_path
    page = client.get(path).get_data(as_text=True)
    assert "Ana Lima" in page and f'value="{DAY}T20:00"' in page
    moved = client.post(path, data={"party_size": "3", "time": f"{DAY}T20:00", "csrf_token": csrf_of(page)})
    assert moved.status_code == 303
    now = client.get(f"{BASE}/reservations/{booking['id']}", headers=staff).get_json()
    assert (now["time"], now["party_size"]) == (f"{DAY}T20:00", 3)
    assert book(client, staff, party_size=5, time=f"{DAY}T20:00").status_code == 201  # 3 + 5: the 8 covers
    page = client.get(path).get_data(as_text=True)
    too_big = client.post(path, data={"party_size": "4", "csrf_token": csrf_of(page)})
    assert too_big.status_code == 409 and "full" in too_big.get_data(as_text=True)


def test_the_manage_page_cancels_and_then_offers_no_change(
        client: FlaskClient, staff: dict[str, str], manage_path: tuple[str, dict[str, Any]]) -> None:
    path, booking = manage_path
    page = client.get(path).get_data(as_text=True)
    assert client.post(f"{path}/cancel", data={"csrf_token": csrf_of(page)}).status_code == 303
    assert status_of(client, staff, booking) == "cancelled"
    page = client.get(path).get_data(as_text=True)
    assert "This booking is cancelled." in page and "Cancel my booking" not in page


@pytest.mark.parametrize("token", ["nope", "zzzAAAAAAAAAAAAAAAAAAAAAA", ""])
def test_an_unknown_manage_link_is_404(client: FlaskClient, staff: dict[str, str], token: str) -> None:
    assert client.get(f"/r/{token}").status_code == 404


def test_a_manage_link_names_its_restaurant_and_escapes_the_guests_name(
        client: FlaskClient, staff: dict[str, str]) -> None:
    booking = book(client, staff, name="<b>Bo</b>").get_json()
    token = booking["manage_url"].rsplit("/", 1)[1]
    code = client.get(f"{BASE}", headers=staff).get_json().get("code")
    assert code is None or token.startswith(code)
    page = client.get(f"/r/{token}").get_data(as_text=True)
    assert "&lt;b&gt;Bo&lt;/b&gt;" in page and "<b>Bo</b>" not in page
