"""A booking's hold defaults from the restaurant's learned dining times (issue 23): with no hold set for
its size, a booking holds its table for 90 minutes until tables have turned here, then for the
estimator's mean dining time of that size; a hold the rules set still wins."""
from __future__ import annotations

from flask.testing import FlaskClient

from tests.conftest import next_phone
from tests.fakes import Clock
from tests.unit.test_reservations_api import BASE, DAY, book, config, staff  # noqa: F401
from waitlist.domain.host_bookings import epoch


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
