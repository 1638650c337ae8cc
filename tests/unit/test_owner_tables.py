"""The owner's table numbers: the stats fold over hand-made table event lists, the charts and the CSV
built from them, and the dashboard's Tables section behind the staff session."""
from __future__ import annotations

import csv
import io
from typing import Any
from zoneinfo import ZoneInfo

from flask import Flask
from flask.testing import FlaskClient

from tests.conftest import add_party, create_restaurant
from tests.fakes import Clock
from tests.unit.test_isolation import sign_in
from waitlist.domain.stats import fold, merge, service_day
from waitlist.domain.table_stats import table_report
from waitlist.web import table_charts

UTC = ZoneInfo("UTC")
T = 1_790_002_800.0  # 2026-09-21 15:00:00 UTC
HOUR = 3600.0


def event(table: str, seats: int, since: float, at: float, frm: str = "occupied", to: str = "cleared",
          **extra: str) -> dict[str, str]:
    return {"type": "table", "table": table, "party": "p", "from": frm, "to": to, "at": repr(at),
            "since": repr(since), "seats": str(seats), "floor_seats": "10", **extra}


def folded(events: list[dict[str, str]], floor_seats: int = 10, zone: ZoneInfo = UTC) -> dict[str, Any]:
    out = fold([(f"{i}-0", e) for i, e in enumerate(events)], zone)
    return table_report(merge(out.counters.values()), floor_seats=floor_seats, days=len(out.counters) or 1)


# --- the fold over hand-made event lists -------------------------------------------------------------

def test_turns_are_timed_from_seating_to_leaving_by_table_size_and_the_hour_seated() -> None:
    numbers = folded([
        event("12", 4, T + 3 * HOUR, T + 3 * HOUR + 40 * 60),           # 18:00, 40 min
        event("14", 4, T + 3 * HOUR + 600, T + 3 * HOUR + 600 + 3600),  # 18:10, 60 min
        event("2", 2, T + 4 * HOUR, T + 4 * HOUR + 30 * 60, to="free"),  # 19:00, 30 min, freed without clearing
    ])
    assert numbers["turns_by_seats"] == {"2": {"turns": 1, "mean_minutes": 30.0},
                                         "4": {"turns": 2, "mean_minutes": 50.0}}
    assert numbers["turns_by_hour"] == {"18": {"turns": 2, "mean_minutes": 50.0},
                                        "19": {"turns": 1, "mean_minutes": 30.0}}


def test_holds_blocks_clearing_and_undone_seats_count_for_nothing() -> None:
    numbers = folded([
        event("12", 4, T, T + 600, frm="held", to="occupied"),
        event("12", 4, T, T + 600, frm="held", to="free"),
        event("12", 4, T, T + 600, frm="cleared", to="free"),
        event("12", 4, T, T + 600, frm="blocked", to="free"),
        event("12", 4, T, T + 600, to="free", undo="1"),
        {"type": "status", "party": "p", "from": "occupied", "at": repr(T)},
    ])
    assert numbers == {"turns_by_seats": {}, "turns_by_hour": {}, "occupancy_by_hour": {}}


def test_occupancy_is_the_share_of_the_floors_seats_in_use_hour_by_hour() -> None:
    """A 4-top from 18:30 to 19:30 and a 2-top all of 19:00 on a 10-seat floor: 18h is 4 x 0.5 / 10 = 20%,
    19h is (4 x 0.5 + 2) / 10 = 40%."""
    numbers = folded([event("12", 4, T + 3.5 * HOUR, T + 4.5 * HOUR), event("2", 2, T + 4 * HOUR, T + 5 * HOUR)])
    assert numbers["occupancy_by_hour"] == {"18": 0.2, "19": 0.4}


def test_a_turn_across_the_4_am_day_boundary_counts_once_on_the_day_it_was_seated() -> None:
    late = T + 12.5 * HOUR  # 03:30 on the 22nd, still the 21st's service day
    out = fold([("1-0", event("12", 4, late, late + HOUR))], UTC)
    assert out.counters[service_day(late, UTC)]["ttn:4:3"] == 1
    assert out.counters["2026-09-21"]["occ:3"] == 1800 * 4 and out.counters["2026-09-22"]["occ:4"] == 1800 * 4
    assert sum(v for day in out.counters.values() for k, v in day.items() if k.startswith("ttn:")) == 1


def test_occupancy_is_averaged_over_the_days_it_is_given() -> None:
    numbers = folded([event("12", 4, T + 3 * HOUR, T + 4 * HOUR)], floor_seats=4)
    assert numbers["occupancy_by_hour"] == {"18": 1.0}
    report = table_report({"occ:18": 4 * 3600}, floor_seats=4, days=4)
    assert report["occupancy_by_hour"] == {"18": 0.25}


# --- charts and CSV ---------------------------------------------------------------------------------------

NUMBERS = {"floor_seats": 10,
           "turns_by_seats": {"2": {"turns": 1, "mean_minutes": 30.0}, "4": {"turns": 2, "mean_minutes": 50.0}},
           "turns_by_hour": {"18": {"turns": 2, "mean_minutes": 50.0}, "20": {"turns": 1, "mean_minutes": 30.0}},
           "occupancy_by_hour": {"18": 0.2, "19": 0.4, "20": 0.05}}


def test_each_chart_has_a_bar_per_group_and_the_same_numbers_in_its_table() -> None:
    by_size, by_hour, occupancy = table_charts.charts(NUMBERS)
    assert [b["label"] for b in by_size.bars] == ["2-seat tables: 30 min average over 1 turns",
                                                  "4-seat tables: 50 min average over 2 turns"]
    assert by_size.table == [["2", "1", "30 min"], ["4", "2", "50 min"]]
    assert [x["text"] for x in by_hour.x_labels] == ["18", "19", "20"]  # an hour without turns keeps its place
    assert len(by_hour.bars) == 2 and by_hour.table == [["18:00", "2", "50 min"], ["20:00", "1", "30 min"]]
    assert occupancy.table == [["18:00", "20%"], ["19:00", "40%"], ["20:00", "5%"]]
    assert by_size.bars[1]["h"] > by_size.bars[0]["h"] and occupancy.bars[1]["h"] == 2 * occupancy.bars[0]["h"]
    assert [t["text"] for t in occupancy.y_ticks][-1] == "40%"


def test_no_turns_yet_draws_empty_charts() -> None:
    empty = {"floor_seats": 10, "turns_by_seats": {}, "turns_by_hour": {}, "occupancy_by_hour": {}}
    assert all(chart.empty for chart in table_charts.charts(empty))
    assert table_charts.has_tables(empty) and not table_charts.has_tables({**empty, "floor_seats": 0})


def test_the_csv_has_every_number_behind_the_charts() -> None:
    rows = list(csv.reader(io.StringIO(table_charts.csv_text(NUMBERS))))
    assert rows == [["breakdown", "value", "turns", "mean_turn_minutes", "occupancy"],
                    ["table_seats", "2", "1", "30", ""], ["table_seats", "4", "2", "50", ""],
                    ["hour", "18", "2", "50", "0.2"], ["hour", "19", "0", "", "0.4"], ["hour", "20", "1", "30", "0.05"]]


# --- the dashboard ------------------------------------------------------------------------------------------

def seat_and_clear(client: FlaskClient, headers: dict[str, str], clock: Clock) -> None:
    base = "/api/v1/restaurants/noodle-bar"
    client.put(f"{base}/tables", json={"tables": [{"name": "12", "seats": 4}, {"name": "2", "seats": 2}]},
               headers=headers)
    party = add_party(client, headers, party_size=4)
    client.post(f"{base}/parties/{party['id']}/seat", json={"tables": ["12"]}, headers=headers)
    clock.advance(45 * 60)
    assert client.post(f"{base}/tables/12/clear", headers=headers).status_code == 200


def test_the_dashboard_shows_the_tables_charts_and_their_csv(
        app: Flask, client: FlaskClient, restaurant: dict[str, Any], headers: dict[str, str], clock: Clock) -> None:
    seat_and_clear(client, headers, clock)
    sign_in(client, restaurant["api_key"], "noodle-bar")
    page = client.get("/owner/noodle-bar").text
    assert 'id="tables-title"' in page and "Table turn time by table size" in page and "Occupancy by hour" in page
    assert "<td>4</td><td>1</td><td>45 min</td>" in page
    assert "the floor&#39;s 6 seats in use in each hour, averaged over the day of these dates" in page
    link = page.split('id="tables-csv" href="')[1].split('"')[0].replace("&amp;", "&")
    response = client.get(link)
    assert response.status_code == 200 and response.mimetype == "text/csv"
    rows = list(csv.reader(io.StringIO(response.text)))
    assert ["table_seats", "4", "1", "45", ""] in rows
    assert sum(float(r[4]) for r in rows if r[0] == "hour" and r[4]) > 0


def test_without_named_tables_the_dashboard_has_no_tables_section(
        client: FlaskClient, restaurant: dict[str, Any]) -> None:
    sign_in(client, restaurant["api_key"], "noodle-bar")
    page = client.get("/owner/noodle-bar").text
    assert "Owner" in page or "owner" in page
    assert 'id="tables-title"' not in page


def test_the_tables_csv_needs_this_restaurants_staff_session(
        client: FlaskClient, headers: dict[str, str], clock: Clock) -> None:
    seat_and_clear(client, headers, clock)
    assert client.get("/owner/noodle-bar/tables.csv").status_code == 401
    assert client.get("/owner/noodle-bar/tables.csv", headers=headers).status_code == 401
    other = create_restaurant(client, slug="taco-stand", name="Taco Stand", sms_from="+14155550199")
    sign_in(client, other["api_key"], "taco-stand")
    assert client.get("/owner/noodle-bar/tables.csv").status_code == 401
    theirs = client.get("/owner/taco-stand/tables.csv")
    assert theirs.status_code == 200 and "table_seats" not in theirs.text.splitlines()[-1]


def test_a_day_without_turns_does_not_dilute_occupancy(
        app: Flask, client: FlaskClient, headers: dict[str, str], clock: Clock) -> None:
    """Tables turned on one day of a 14-day range: occupancy is that day's, not a fourteenth of it."""
    seat_and_clear(client, headers, clock)
    owner, restaurant = app.extensions["owner_stats"], app.extensions["waitlist"].restaurant("noodle-bar")
    first, last = owner.date_range(restaurant, None, None)
    numbers = owner.tables(restaurant, first, last)
    assert numbers["days_with_turns"] == 1 and first != last
    assert sum(numbers["occupancy_by_hour"].values()) == round(4 * 45 * 60 / (6 * 3600), 3)
