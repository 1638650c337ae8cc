"""The owner's reservation numbers (waitlist.domain.reservation_stats): covers by source, bookings'
cancel and no-show rates and lead time, by day, over hand-made events; then through the app, the
dashboard's tiles and the reservations CSV."""
from __future__ import annotations

import csv
import io
from typing import Any

from flask.testing import FlaskClient

from tests.conftest import create_restaurant
from tests.fakes import Clock
from tests.unit.test_isolation import sign_in
from tests.unit.test_reservations_api import BASE, DAY, SLUG, book, config, staff  # noqa: F401
from tests.unit.test_stats import ZONE, Events, at
from waitlist.domain import stats
from waitlist.domain.host_bookings import epoch
from waitlist.domain.reservation_stats import CSV_HEADER, csv_rows


def booking(events: Events, rid: str, made: str, start: str, size: int = 2) -> Events:
    return events.add(type="reservation", event="booked", reservation=rid, at=at(made), start=at(start), size=size)


def status(events: Events, rid: str, target: str, source: str, when: str, start: str) -> Events:
    return events.add(type="reservation", event=target, reservation=rid, at=at(when), start=at(start),
                      actor="host", **{"from": source})


def seated(events: Events, party: str, joined: str, when: str, size: int, **flags: str) -> Events:
    return events.add(type="status", party=party, to="seated", at=at(when), actor="host", size=size,
                      joined=at(joined), quote=10, notified="", **{"from": "waiting"}, **flags)


def summary(events: Events) -> dict[str, dict[str, Any]]:
    folded = stats.fold(events.entries, ZONE)
    return {day: stats.summarize(c)["reservations"] for day, c in folded.counters.items()}


def test_covers_split_by_source_and_add_up_to_the_covers_seated() -> None:
    events = Events()
    seated(events, "w", "2026-03-06 18:00", "2026-03-06 18:20", 2)
    seated(events, "r", "2026-03-06 18:05", "2026-03-06 18:30", 3, remote="1")
    seated(events, "b", "2026-03-06 19:00", "2026-03-06 19:01", 4, reservation="1", remote="")
    seated(events, "b2", "2026-03-06 19:00", "2026-03-06 19:05", 6, reservation="1", remote="1")
    folded = stats.fold(events.entries, ZONE)
    day = stats.summarize(folded.counters["2026-03-06"])
    assert day["reservations"]["covers_by_source"] == {"walk_in": 2, "remote": 3, "reservation": 10}
    assert sum(day["reservations"]["covers_by_source"].values()) == day["parties"]["covers"] == 15


def test_an_undone_seat_takes_its_covers_by_source_back() -> None:
    events = Events()
    seated(events, "b", "2026-03-06 19:00", "2026-03-06 19:01", 4, reservation="1")
    events.undo("b", "seated", "2026-03-06 19:02")
    folded = stats.fold(events.entries, ZONE)
    assert stats.summarize(folded.counters["2026-03-06"])["reservations"]["covers_by_source"]["reservation"] == 0


def test_bookings_count_on_the_day_they_are_for_with_rates_and_lead_time() -> None:
    events = Events()
    booking(events, "a", "2026-03-02 12:00", "2026-03-06 19:00")  # 103 hours ahead
    booking(events, "b", "2026-03-05 19:00", "2026-03-06 19:00")  # 24 hours ahead
    booking(events, "c", "2026-03-06 17:00", "2026-03-06 20:00")  # 3 hours ahead
    booking(events, "d", "2026-03-06 17:30", "2026-03-06 20:30")  # 3 hours ahead
    status(events, "a", "cancelled", "booked", "2026-03-04 10:00", "2026-03-06 19:00")  # cancelled days before
    status(events, "b", "no_show", "booked", "2026-03-06 19:20", "2026-03-06 19:00")
    status(events, "c", "arrived", "confirmed", "2026-03-06 19:55", "2026-03-06 20:00")
    status(events, "d", "no_show", "booked", "2026-03-06 20:50", "2026-03-06 20:30")
    status(events, "d", "arrived", "no_show", "2026-03-06 20:55", "2026-03-06 20:30")  # late, not a no-show
    days = summary(events)
    assert set(days) == {"2026-03-06"}  # all on the booked day, none on the days they were made or cancelled
    day = days["2026-03-06"]
    assert (day["booked"], day["cancelled"], day["no_shows"], day["arrived"]) == (4, 1, 1, 2)
    assert day["cancel_rate"] == day["no_show_rate"] == 0.25
    assert day["mean_lead_hours"] == round((103 + 24 + 3 + 3) / 4, 1)


def test_a_booking_after_midnight_belongs_to_the_service_day_before() -> None:
    events = booking(Events(), "late", "2026-03-06 12:00", "2026-03-07 00:30")
    assert list(summary(events)) == ["2026-03-06"]


def test_no_bookings_means_no_rates_and_the_csv_leaves_them_blank() -> None:
    day = stats.summarize({})
    assert day["reservations"]["no_show_rate"] is None and day["reservations"]["mean_lead_hours"] is None
    assert csv_rows([{"date": "2026-03-06", **day}]) == [("2026-03-06", 0, 0, 0, 0, 0, 0, "", "", "")]


# --- through the app -----------------------------------------------------------------------------------

def test_the_dashboard_and_csv_show_covers_by_source_and_booking_rates(
        client: FlaskClient, staff: dict[str, str], clock: Clock) -> None:  # noqa: F811
    floor = [{"name": "T1", "seats": 4}] + [{"name": f"T{n}", "seats": 2} for n in (2, 3, 4)]
    assert client.put(f"{BASE}/tables", json={"tables": floor}, headers=staff).status_code == 200
    kept = book(client, staff, party_size=4, time=f"{DAY}T19:30").get_json()
    gone = book(client, staff, party_size=2, time=f"{DAY}T19:45").get_json()
    missed = book(client, staff, party_size=2, time=f"{DAY}T20:00").get_json()
    assert client.post(f"{BASE}/reservations/{gone['id']}/cancel", headers=staff).status_code == 200
    assert client.post(f"{BASE}/reservations/{missed['id']}/no-show", headers=staff).status_code == 200
    assert client.post(f"{BASE}/reservations/{kept['id']}/check-in", headers=staff).get_json()["status"] == "seated"
    walk_in = client.post(f"{BASE}/parties", json={"name": "Walk", "phone": "+14155550111", "party_size": 2},
                          headers=staff).get_json()
    assert client.post(f"{BASE}/parties/{walk_in['id']}/seat", headers=staff).status_code == 200
    today = client.get(f"{BASE}/stats?from={DAY}&to={DAY}", headers=staff).get_json()
    booked_day = today["total"]["reservations"]
    assert (booked_day["booked"], booked_day["cancelled"], booked_day["no_shows"]) == (3, 1, 1)
    lead = sum(epoch(b["starts_at"]) - clock.now for b in (kept, gone, missed)) / 3 / 3600
    assert booked_day["no_show_rate"] == 0.333 and booked_day["mean_lead_hours"] == round(lead, 1)

    sign_in(client, staff["Authorization"].split()[1], SLUG)
    first = "2026-09-20"
    page = client.get(f"/owner/{SLUG}?from={first}&to={DAY}").get_data(as_text=True)
    assert 'id="tile-cov-reservation">4<' in page and 'id="tile-cov-walk-in">2<' in page
    assert 'id="tile-bookings">3<' in page and "reservations.csv" in page
    sheet = client.get(f"/owner/{SLUG}/reservations.csv?from={first}&to={DAY}")
    assert sheet.status_code == 200 and sheet.mimetype == "text/csv"
    rows = list(csv.reader(io.StringIO(sheet.get_data(as_text=True))))
    assert tuple(rows[0]) == CSV_HEADER
    by_day = {row[0]: row for row in rows[1:]}
    assert by_day[DAY][4:9] == ["3", "1", "1", "0.333", "0.333"]
    seated_day = [row for row in rows[1:] if row[3] == "4"]
    assert len(seated_day) == 1 and seated_day[0][1:4] == ["2", "0", "4"]  # on the day they joined the list


def test_the_reservations_csv_needs_a_manager_of_this_restaurant(
        client: FlaskClient, staff: dict[str, str]) -> None:  # noqa: F811
    assert client.get(f"/owner/{SLUG}/reservations.csv").status_code == 401
    assert client.get(f"/owner/{SLUG}/reservations.csv", headers=staff).status_code == 401
    other = create_restaurant(client, slug="taco-stand", name="Taco Stand", sms_from="+14155550199")
    sign_in(client, other["api_key"], "taco-stand")
    assert client.get(f"/owner/{SLUG}/reservations.csv").status_code == 401
