"""The owner's table numbers folded from table events: turn times by table size and hour, occupancy by
hour, an undone seat left out."""
from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

from flask import Flask
from flask.testing import FlaskClient

from tests.conftest import add_party
from tests.fakes import Clock
from waitlist.domain.stats import fold, service_day
from waitlist.domain.table_stats import hour_slices, table_fields, table_report

UTC = ZoneInfo("UTC")
T = 1_790_002_800.0  # 2026-09-21 15:00:00 UTC


def occupied_until(since: float, at: float, seats: int = 4, **extra: str) -> dict[str, str]:
    return {"type": "table", "table": "12", "party": "p1", "from": "occupied", "to": "cleared", "at": repr(at),
            "since": repr(since), "seats": str(seats), "floor_seats": "10", **extra}


def test_an_occupied_interval_is_one_turn_by_the_hour_it_began_and_seat_seconds_in_each_hour() -> None:
    fields = table_fields(occupied_until(T + 1800, T + 5400), UTC, service_day)
    assert fields == {"2026-09-21": {"tturns": 1, "ttn:4:15": 1, "tts:4:15": 3600, "occ:15": 1800 * 4,
                                     "occ:16": 1800 * 4}}


def test_events_that_close_no_occupied_interval_count_nothing() -> None:
    assert table_fields(occupied_until(T, T + 60, undo="1"), UTC, service_day) == {}
    assert table_fields({**occupied_until(T, T + 60), "from": "held"}, UTC, service_day) == {}
    assert table_fields({"type": "status", "from": "occupied", "at": repr(T)}, UTC, service_day) == {}


def test_hours_are_local_and_cut_at_hour_boundaries() -> None:
    zone = ZoneInfo("America/New_York")
    assert hour_slices(T - 60, T + 3660, zone) == [(T - 60, 60), (T, 3600), (T + 3600, 60)]
    fields = table_fields(occupied_until(T, T + 600), zone, service_day)
    assert fields == {"2026-09-21": {"tturns": 1, "ttn:4:11": 1, "tts:4:11": 600, "occ:11": 2400}}


def test_the_report_gives_turns_by_seats_and_hour_and_the_share_of_seats_in_use() -> None:
    counters = {"ttn:4:18": 2, "tts:4:18": 2 * 3000, "ttn:2:19": 1, "tts:2:19": 1800, "occ:18": 10 * 3600}
    assert table_report(counters, floor_seats=20, days=2) == {
        "turns_by_seats": {"2": {"turns": 1, "mean_minutes": 30.0}, "4": {"turns": 2, "mean_minutes": 50.0}},
        "turns_by_hour": {"18": {"turns": 2, "mean_minutes": 50.0}, "19": {"turns": 1, "mean_minutes": 30.0}},
        "occupancy_by_hour": {"18": 0.25},
    }


def test_the_stats_fold_counts_table_events_on_their_service_day() -> None:
    folded = fold([("1-0", occupied_until(T, T + 3000))], UTC)
    assert folded.counters["2026-09-21"]["tts:4:15"] == 3000


def test_a_cleared_table_shows_in_the_owners_table_numbers(app: Flask, client: FlaskClient,
                                                          headers: dict[str, str], clock: Clock) -> None:
    base = "/api/v1/restaurants/noodle-bar"
    floor = [{"name": "12", "seats": 4, "joins_with": ["13"]}, {"name": "13", "seats": 2}, {"name": "B", "seats": 2}]
    client.put(f"{base}/tables", json={"tables": floor}, headers=headers)
    four, undone = add_party(client, headers, party_size=5), add_party(client, headers)
    client.post(f"{base}/parties/{four['id']}/seat", json={"tables": ["12", "13"]}, headers=headers)
    client.post(f"{base}/parties/{undone['id']}/seat", json={"tables": ["B"]}, headers=headers)
    client.post(f"{base}/parties/{undone['id']}/undo", headers=headers)
    clock.advance(45 * 60)
    client.post(f"{base}/tables/12/clear", headers=headers)
    owner = app.extensions["owner_stats"]
    restaurant = app.extensions["waitlist"].restaurant("noodle-bar")
    day = service_day(clock.now, UTC)
    numbers: dict[str, Any] = owner.tables(restaurant, day, day)
    assert numbers["floor_seats"] == 8
    assert numbers["turns_by_seats"] == {"2": {"turns": 1, "mean_minutes": 45.0},
                                         "4": {"turns": 1, "mean_minutes": 45.0}}
    assert sum(numbers["occupancy_by_hour"].values()) == round(6 * 45 * 60 / (8 * 3600), 3)
