"""Reservation rules without Redis: states, settings, slots in the restaurant's time zone (daylight-saving
days, hours past midnight) and pacing (covers per slot, tables held, walk-in share)."""
from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from waitlist.domain.errors import InvalidInput
from waitlist.domain.reservations import (
    TRANSITIONS,
    Booked,
    ReservationStatus,
    Rules,
    allowed_from,
    can_transition,
    fits_tables,
    hold_minutes,
    parse_local,
    parse_rules,
    refusal,
    slot_at,
    slots_for_day,
)

NY = ZoneInfo("America/New_York")
EVENINGS = {day: [["17:00", "22:00"]] for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}


def rules(**overrides: object) -> Rules:
    return Rules(**{"enabled": True, "hours": EVENINGS, **overrides})  # type: ignore[arg-type]


# --- states ---------------------------------------------------------------------------------------------

def test_a_booking_goes_booked_confirmed_arrived_seated_completed() -> None:
    path = ["booked", "confirmed", "arrived", "seated", "completed"]
    for source, target in zip(path, path[1:]):
        assert can_transition(ReservationStatus(source), ReservationStatus(target))


@pytest.mark.parametrize("source", ["completed", "cancelled"])
def test_finished_bookings_go_nowhere(source: str) -> None:
    assert not TRANSITIONS[ReservationStatus(source)]


def test_a_seated_booking_cannot_be_cancelled_and_a_no_show_may_still_arrive() -> None:
    assert "seated" not in allowed_from(ReservationStatus.CANCELLED)
    assert "no_show" in allowed_from(ReservationStatus.ARRIVED)


# --- settings -------------------------------------------------------------------------------------------

def test_settings_default_to_15_minute_slots_and_a_15_minute_grace() -> None:
    assert Rules().slot_minutes == 15 and Rules().grace_minutes == 15


@pytest.mark.parametrize("patch, field", [
    ({"slot_minutes": 3}, "slot_minutes"),
    ({"hours": {"fri": [["17:00", "25:00"]]}}, "hours"),
    ({"hours": {"someday": [["17:00", "22:00"]]}}, "hours"),
    ({"hold_minutes": {"two": 90}}, "hold_minutes"),
    ({"enabled": "yes"}, "enabled"),
    ({"colour": "red"}, "colour"),
    ({"covers_per_slot": True}, "covers_per_slot"),
])
def test_bad_settings_are_named_field_by_field(patch: dict[str, object], field: str) -> None:
    with pytest.raises(InvalidInput) as raised:
        parse_rules(patch)
    assert raised.value.fields is not None and field in raised.value.fields


def test_hold_takes_the_next_size_up_then_learned_dining_then_90_minutes() -> None:
    given = rules(hold_minutes={"2": 75, "6": 120})
    assert hold_minutes(given, 1) == 75 and hold_minutes(given, 4) == 120
    assert hold_minutes(given, 8) == 120
    assert hold_minutes(given, 8, learned={8: 140.4}) == 140
    assert hold_minutes(rules(), 4) == 90
    assert hold_minutes(rules(), 4, learned={4: 66.0}) == 66


# --- slots ----------------------------------------------------------------------------------------------

def test_an_evening_has_a_slot_every_15_minutes_up_to_the_close() -> None:
    slots = slots_for_day(rules(), date(2026, 12, 24), NY)
    assert [s.label[11:] for s in slots[:3]] == ["17:00", "17:15", "17:30"]
    assert slots[-1].label.endswith("21:45") and len(slots) == 20


def test_slots_are_epochs_of_the_restaurants_local_time() -> None:
    first = slots_for_day(rules(), date(2026, 12, 24), NY)[0]
    assert first.start == datetime(2026, 12, 24, 22, 0, tzinfo=ZoneInfo("UTC")).timestamp()


def test_hours_past_midnight_belong_to_the_day_the_service_started() -> None:
    late = rules(hours={"thu": [["22:00", "01:00"]]})
    slots = slots_for_day(late, date(2026, 12, 24), NY)  # a Thursday
    assert [s.label for s in slots][-1] == "2026-12-25T00:45"
    day, slot = slot_at(late, parse_local("2026-12-25T00:30", NY)) or (None, None)
    assert day == date(2026, 12, 24) and slot is not None
    assert slot_at(late, parse_local("2026-12-25T01:00", NY)) is None


def test_the_spring_forward_night_skips_the_missing_hour() -> None:
    night = rules(hours={"sun": [["01:00", "04:00"]]})
    labels = [s.label[11:] for s in slots_for_day(night, date(2026, 3, 8), NY)]
    assert "02:00" not in labels and "02:30" not in labels
    assert labels[:4] == ["01:00", "01:15", "01:30", "01:45"] and labels[4] == "03:00"
    starts = [s.start for s in slots_for_day(night, date(2026, 3, 8), NY)]
    assert starts[4] - starts[3] == 15 * 60  # 01:45 EST and 03:00 EDT are a quarter hour apart


def test_the_fall_back_night_offers_the_repeated_hour_once() -> None:
    night = rules(hours={"sun": [["00:00", "03:00"]]})
    slots = slots_for_day(night, date(2026, 11, 1), NY)
    labels = [s.label[11:] for s in slots]
    assert labels.count("01:30") == 1 and len(labels) == len(set(labels))
    assert all(b.start > a.start for a, b in zip(slots, slots[1:]))


def test_a_time_the_clocks_skip_is_refused() -> None:
    with pytest.raises(InvalidInput) as raised:
        parse_local("2026-03-08T02:30", NY)
    assert raised.value.fields == {"time": ["skipped by a daylight-saving change"]}


@pytest.mark.parametrize("text", ["tomorrow", "2026-12-24T19:30+01:00", "", "2026-13-01T10:00"])
def test_times_that_are_not_local_times_are_refused(text: str) -> None:
    with pytest.raises(InvalidInput):
        parse_local(text, NY)


def test_a_time_off_the_slot_grid_or_outside_hours_has_no_slot() -> None:
    assert slot_at(rules(), parse_local("2026-12-24T19:10", NY)) is None
    assert slot_at(rules(), parse_local("2026-12-24T12:00", NY)) is None
    assert slot_at(rules(), parse_local("2026-12-24T19:15", NY)) is not None


def test_a_day_in_another_zone_has_its_own_slots() -> None:
    tokyo = slots_for_day(rules(), date(2026, 12, 24), ZoneInfo("Asia/Tokyo"))[0]
    new_york = slots_for_day(rules(), date(2026, 12, 24), NY)[0]
    assert new_york.start - tokyo.start == 14 * 3600


# --- pacing ---------------------------------------------------------------------------------------------

T0 = 1_800_000_000.0


def booked(start_minutes: int, size: int, hold: int = 90, ident: str = "x") -> Booked:
    start = T0 + start_minutes * 60
    return Booked(id=ident, start=start, end=start + hold * 60, size=size)


def check(given: Rules, size: int, others: list[Booked], tables: list[int] | None = None, at: int = 0,
          hold: int = 90) -> str | None:
    start = T0 + at * 60
    return refusal(given, start=start, end=start + hold * 60, size=size, slot_start=start,
                   slot_end=start + given.slot_minutes * 60, others=others, tables=tables,
                   total_seats=sum(tables) if tables else None)


def test_covers_per_slot_cap_the_guests_starting_together() -> None:
    given = rules(covers_per_slot=10)
    assert check(given, 4, [booked(0, 6)]) is None
    assert check(given, 5, [booked(0, 6)]) is not None
    assert check(given, 5, [booked(15, 6)]) is None  # the next slot is its own


def test_a_table_held_until_the_booking_ends_is_not_booked_twice() -> None:
    tables = [4, 4]
    others = [booked(0, 4, ident="a"), booked(30, 3, ident="b")]
    assert check(rules(), 2, others, tables, at=60) is not None  # both still held at 19:00
    assert check(rules(), 2, others, tables, at=90) is None  # the first table is free again
    assert check(rules(), 2, others, tables, at=-90) is None  # ends as the first starts


def test_a_large_party_needs_a_large_table_even_when_small_ones_are_free() -> None:
    assert check(rules(), 6, [booked(0, 6)], [2, 2, 2, 6]) is not None
    assert check(rules(), 2, [booked(0, 6)], [2, 2, 2, 6]) is None


def test_tables_kept_for_walk_ins_are_never_booked() -> None:
    assert check(rules(walkin_tables=1), 2, [booked(0, 2)], [2, 2]) is not None
    assert check(rules(walkin_tables=0), 2, [booked(0, 2)], [2, 2]) is None


def test_seats_kept_for_walk_ins_cap_the_seats_booked() -> None:
    assert check(rules(walkin_seats=8), 4, [booked(0, 4)], [4, 4, 4, 4]) is None
    assert check(rules(walkin_seats=8), 4, [booked(0, 4), booked(0, 4)], [4, 4, 4, 4]) is not None


def test_a_later_booking_inside_the_new_hold_counts() -> None:
    # a new 19:00 booking would still be at its table when the 19:45 booking needs the only table
    assert check(rules(), 2, [booked(45, 2)], [2]) is not None


def test_fitting_parties_to_tables_finds_a_seating_whenever_one_exists() -> None:
    assert fits_tables([2, 4, 6], [6, 4, 2])
    assert fits_tables([2, 2], [6, 2])
    assert not fits_tables([5, 5], [6, 4])
    assert fits_tables([], [])


def test_a_slot_on_the_fall_back_night_is_an_hour_and_a_quarter_after_the_one_before_the_repeat() -> None:
    night = rules(hours={"sun": [["00:00", "03:00"]]})
    slots = {s.label[11:]: s.start for s in slots_for_day(night, date(2026, 11, 1), NY)}
    assert slots["02:00"] - slots["01:45"] == timedelta(hours=1, minutes=15).total_seconds()
