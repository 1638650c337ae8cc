"""A booking's hold defaults from the restaurant's learned dining times (issue 23): with no hold set for
its size, a booking holds its table for 90 minutes until tables have turned here, then for the
estimator's mean dining time of that size; a hold the rules set still wins. And the reservation texts
in the restaurant's own words."""
from __future__ import annotations

from flask.testing import FlaskClient

from tests.conftest import next_phone
from tests.fakes import Clock
from tests.unit.test_reservations_api import BASE, DAY, book, config, staff  # noqa: F401
from waitlist.domain.host_bookings import epoch
from waitlist.store import keys


def held_minutes(booking: dict[str, str]) -> float:
    return (epoch(booking["ends_at"]) - epoch(booking["starts_at"])) / 60


def short_turns(client: FlaskClient, staff: dict[str, str], clock: Clock, n: int = 12) -> None:  # noqa: F811
    """Parties of 2 seated and done in 25 minutes, one after another."""
    for _ in range(n):
        party = client.post(f"{BASE}/parties", json={"name": "Quick", "phone": next_phone(), "party_size": 2},
                            headers=staff).get_json()
        assert client.post(f"{BASE}/parties/{party['id']}/seat", headers=staff).status_code == 200
        clock.advance(25 * 60)
        assert client.post(f"{BASE}/parties/{party['id']}/complete", headers=staff).status_code == 200


def test_the_hold_follows_the_learned_dining_time_once_tables_have_turned(
        client: FlaskClient, staff: dict[str, str], clock: Clock) -> None:  # noqa: F811
    before = book(client, staff, party_size=2, time=f"{DAY}T19:00").get_json()
    assert held_minutes(before) == 90
    short_turns(client, staff, clock)
    after = book(client, staff, party_size=2, time=f"{DAY}T19:30").get_json()
    assert 25 <= held_minutes(after) < 90


def test_a_hold_the_rules_set_still_wins(client: FlaskClient, staff: dict[str, str], clock: Clock) -> None:  # noqa: F811
    assert client.patch(f"{BASE}/reservations/settings", json={"hold_minutes": {"4": 100}},
                        headers=staff).status_code == 200
    short_turns(client, staff, clock)
    assert held_minutes(book(client, staff, party_size=2, time=f"{DAY}T19:30").get_json()) == 100


# --- reservation texts in the restaurant's own words (waitlist.texting.templates) -----------------------

def _bodies(client: FlaskClient, kind: str) -> list[str]:
    redis = client.application.extensions["waitlist"].messages.redis
    found = [redis.hgetall(key) for key in redis.scan_iter(keys.message_key("noodle-bar", "*"))]
    return [m["body"] for m in found if m.get("kind") == kind]


def test_a_saved_template_words_the_booked_and_arrived_early_texts(
        client: FlaskClient, staff: dict[str, str], clock: Clock) -> None:  # noqa: F811
    put = client.put(f"{BASE}/templates/en/reservation_booked", headers=staff,
                     json={"body": "{restaurant}: table for {size} on {time}. Manage: {link}"})
    assert put.status_code == 200, put.get_json()
    assert client.put(f"{BASE}/templates/en/reservation_arrived_early", headers=staff,
                      json={"body": "{restaurant}: welcome in! We'll text you."}).status_code == 200
    made = book(client, staff, party_size=3, time=f"{DAY}T19:30").get_json()
    booked = _bodies(client, "reservation_booked")
    assert len(booked) == 1 and booked[0].startswith("Noodle Bar: table for 3 on "), booked
    assert made["manage_url"] in booked[0] and "Booked for" not in booked[0]
    assert client.post(f"{BASE}/reservations/{made['id']}/check-in", headers=staff).status_code == 200
    assert [b.split(" STOP")[0] for b in _bodies(client, "reservation_arrived_early")] == [
        "Noodle Bar: welcome in! We'll text you."]


def test_a_reservation_template_must_keep_its_link_and_knows_only_its_placeholders(
        client: FlaskClient, staff: dict[str, str]) -> None:  # noqa: F811
    no_link = client.put(f"{BASE}/templates/en/reservation_booked", headers=staff, json={"body": "{time} ok"})
    assert no_link.status_code == 400
    odd = client.put(f"{BASE}/templates/en/reservation_confirmed", headers=staff, json={"body": "{size} ok"})
    assert odd.status_code == 400
