"""Reservations as plain rules: their states, the restaurant's booking rules, the slots of a service day
in the restaurant's own time zone, and pacing (covers per slot, tables held, tables kept for walk-ins).

No Flask, no Redis: the store keeps reservations and checks, atomically, that nothing changed between
the pacing read here and the booking (waitlist.store.reservations), so these rules decide and the
script only guards.

Times: a guest books wall-clock time at the restaurant ("2026-12-24T19:30"). Slots are made in local
time and kept as epoch seconds. On a daylight-saving day a slot whose wall-clock time does not exist
(02:30 on the spring-forward night) is skipped, and one that exists twice (01:30 on the fall-back
night) is offered once, at its first occurrence. A service day's hours may run past midnight
("18:00"-"01:00"): those slots belong to the day the service started, as a host thinks of them.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo

from waitlist.domain.errors import InvalidInput, WaitlistError


class ReservationStatus(StrEnum):
    BOOKED = "booked"
    CONFIRMED = "confirmed"
    ARRIVED = "arrived"
    SEATED = "seated"
    COMPLETED = "completed"
    CANCELLED = "cancelled"
    NO_SHOW = "no_show"


R = ReservationStatus
TRANSITIONS: dict[ReservationStatus, frozenset[ReservationStatus]] = {
    R.BOOKED: frozenset({R.CONFIRMED, R.ARRIVED, R.CANCELLED, R.NO_SHOW}),
    R.CONFIRMED: frozenset({R.ARRIVED, R.CANCELLED, R.NO_SHOW}),
    R.ARRIVED: frozenset({R.SEATED, R.CANCELLED}),
    R.SEATED: frozenset({R.COMPLETED}),
    R.NO_SHOW: frozenset({R.ARRIVED}),  # a guest marked no-show who walks in late is still welcome
    R.COMPLETED: frozenset(),
    R.CANCELLED: frozenset(),
}
"""Every allowed change of a reservation's status. The store's script is given the allowed sources."""

HOLDS_TABLE = frozenset({R.BOOKED, R.CONFIRMED, R.ARRIVED, R.SEATED})
"""States in which a reservation counts against pacing; the others free their slot."""
CHANGEABLE = frozenset({R.BOOKED, R.CONFIRMED})
"""States in which the time, size and notes may still change (by staff or on the manage page)."""


class SlotFull(WaitlistError):
    """The slot's covers or the tables held at that time are taken (staff may force it)."""

    code = "slot_full"
    status = 409


class ReservationNotFound(WaitlistError):
    code = "reservation_not_found"
    status = 404


class ReservationsOff(WaitlistError):
    """The restaurant takes no bookings from guests (its rules' ``enabled`` is false)."""

    code = "reservations_off"
    status = 409


def allowed_from(target: ReservationStatus) -> list[str]:
    return sorted(source.value for source, targets in TRANSITIONS.items() if target in targets)


def can_transition(source: ReservationStatus, target: ReservationStatus) -> bool:
    return target in TRANSITIONS[source]


# --- the restaurant's booking rules ------------------------------------------------------------------

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
DEFAULT_HOLD_MINUTES = 90
"""A table's hold when neither the rules nor the learned dining times say otherwise."""


@dataclass(frozen=True)
class Rules:
    """The restaurant's reservation settings (stored as JSON beside the restaurant)."""

    enabled: bool = False
    """Guests may book on /book/{slug}; staff may always book."""
    hours: dict[str, list[list[str]]] = field(default_factory=dict)
    """Reservable hours per weekday, e.g. {"fri": [["17:00", "22:00"]]}: the last slot starts before the end."""
    slot_minutes: int = 15
    covers_per_slot: int = 0
    """Most guests starting in one slot (0: no cap)."""
    hold_minutes: dict[str, int] = field(default_factory=dict)
    """How long a booking holds a table, by party size ("2": 75, "6": 120: a size takes the entry of
    the next size up given); sizes without one use the learned dining time, else 90."""
    walkin_tables: int = 0
    """Tables never booked, kept for walk-ins (the smallest ones: walk-ins are mostly twos and fours)."""
    walkin_seats: int = 0
    """Seats never booked, kept for walk-ins (a restaurant without named tables counts seats only)."""
    max_party_size: int = 8
    """Largest party guests may book themselves (staff book larger ones)."""
    reminder_hours: float = 24.0
    grace_minutes: int = 15
    horizon_days: int = 60
    """How far ahead a guest may book."""

    def to_dict(self) -> dict[str, Any]:
        return {"enabled": self.enabled, "hours": self.hours, "slot_minutes": self.slot_minutes,
                "covers_per_slot": self.covers_per_slot, "hold_minutes": self.hold_minutes,
                "walkin_tables": self.walkin_tables, "walkin_seats": self.walkin_seats,
                "max_party_size": self.max_party_size, "reminder_hours": self.reminder_hours,
                "grace_minutes": self.grace_minutes, "horizon_days": self.horizon_days}


_INTS = {"slot_minutes": (5, 120), "covers_per_slot": (0, 10_000), "walkin_tables": (0, 1000),
         "walkin_seats": (0, 10_000), "max_party_size": (1, 100), "grace_minutes": (0, 240),
         "horizon_days": (1, 366)}


def _clock(text: Any) -> bool:
    if not isinstance(text, str) or len(text) != 5:
        return False
    try:
        time.fromisoformat(text)
    except ValueError:
        return False
    return True


def parse_rules(data: Mapping[str, Any], current: Rules | None = None) -> Rules:
    """Rules from a (partial) JSON object over ``current``; every bad field is named in InvalidInput."""
    base = (current or Rules()).to_dict()
    errors: dict[str, list[str]] = {}
    for name, value in data.items():
        if name not in base:
            errors[name] = ["unknown field"]
        elif name == "enabled" and not isinstance(value, bool):
            errors[name] = ["must be true or false"]
        elif name in _INTS:
            low, high = _INTS[name]
            if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
                errors[name] = [f"must be a whole number from {low} to {high}"]
        elif name == "reminder_hours":
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= 168:
                errors[name] = ["must be a number of hours from 0 (no reminder) to 168"]
        elif name == "hours":
            if not isinstance(value, dict) or any(
                    day not in WEEKDAYS or not isinstance(spans, list)
                    or any(not isinstance(span, list) or len(span) != 2 or not all(_clock(t) for t in span)
                           or span[0] == span[1] for span in spans)
                    for day, spans in value.items()):
                errors[name] = ['e.g. {"fri": [["17:00", "22:00"]]}: weekdays mon-sun, HH:MM, start != end']
        elif name == "hold_minutes":
            if not isinstance(value, dict) or any(
                    not (str(size).isascii() and str(size).isdigit()) or isinstance(minutes, bool)
                    or not isinstance(minutes, int) or not 15 <= minutes <= 480 for size, minutes in value.items()):
                errors[name] = ['e.g. {"2": 75, "6": 120}: party size -> 15 to 480 minutes']
    if errors:
        raise InvalidInput("invalid reservation settings", fields=errors)
    return Rules(**{**base, **data})


def rules_from_json(data: Mapping[str, Any] | None) -> Rules:
    """Stored rules, trusted (they were checked when saved)."""
    return Rules(**{k: v for k, v in (data or {}).items() if k in Rules.__dataclass_fields__})


def hold_minutes(rules: Rules, party_size: int, learned: Mapping[int, float] | None = None) -> int:
    """How long a booking of ``party_size`` holds its table: the rules' entry for the smallest size given
    at or above it, else the learned mean dining time for the size, else 90 minutes."""
    sized = sorted((int(size), minutes) for size, minutes in rules.hold_minutes.items())
    for size, minutes in sized:
        if party_size <= size:
            return minutes
    if learned and learned.get(party_size):
        return max(15, round(learned[party_size]))
    return sized[-1][1] if sized else DEFAULT_HOLD_MINUTES


# --- slots --------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Slot:
    start: float
    """Epoch seconds."""
    local: datetime
    """Wall-clock time at the restaurant (aware)."""

    @property
    def label(self) -> str:
        return self.local.strftime("%Y-%m-%dT%H:%M")


def _exists(naive: datetime, zone: ZoneInfo) -> bool:
    """Whether a wall-clock time happens in ``zone`` (not skipped by a spring-forward)."""
    aware = naive.replace(tzinfo=zone)
    return aware.astimezone(ZoneInfo("UTC")).astimezone(zone).replace(tzinfo=None) == naive


def slots_for_day(rules: Rules, day: date, zone: ZoneInfo) -> list[Slot]:
    """Every slot of the service day ``day`` in time order, epoch-keyed, each once."""
    spans = rules.hours.get(WEEKDAYS[day.weekday()], [])
    step = timedelta(minutes=rules.slot_minutes)
    seen: set[float] = set()
    found: list[Slot] = []
    for start_text, end_text in spans:
        start = datetime.combine(day, time.fromisoformat(start_text))
        end = datetime.combine(day, time.fromisoformat(end_text))
        if end <= start:
            end += timedelta(days=1)  # past midnight: still this service day
        naive = start
        while naive < end:  # wall-clock steps: on a DST day a slot is the same local time as any other day
            if _exists(naive, zone):
                aware = naive.replace(tzinfo=zone, fold=0)
                epoch = aware.timestamp()
                if epoch not in seen:
                    seen.add(epoch)
                    found.append(Slot(epoch, aware))
            naive += step
    return sorted(found, key=lambda slot: slot.start)


def parse_local(text: str, zone: ZoneInfo) -> datetime:
    """A guest's or host's "YYYY-MM-DDTHH:MM" at the restaurant, as an aware time. Raises InvalidInput
    for a malformed time, one with its own offset, or one the clocks skip on a daylight-saving day."""
    try:
        naive = datetime.fromisoformat(text)
    except (TypeError, ValueError):
        raise InvalidInput("time must look like 2026-12-24T19:30",
                           fields={"time": ["not a local date and time"]}) from None
    if naive.tzinfo is not None:
        raise InvalidInput("time is the restaurant's local time, without an offset",
                           fields={"time": ["give local time without an offset"]})
    if not _exists(naive, zone):
        raise InvalidInput("that time does not exist here (the clocks change)",
                           fields={"time": ["skipped by a daylight-saving change"]})
    return naive.replace(tzinfo=zone, fold=0)


def slot_at(rules: Rules, when: datetime) -> tuple[date, Slot] | None:
    """The service day and slot starting exactly at ``when``, or None (outside hours or off the grid).
    A time after midnight may belong to the previous day's service."""
    epoch = when.timestamp()
    for day in (when.date(), when.date() - timedelta(days=1)):
        for slot in slots_for_day(rules, day, when.tzinfo):  # type: ignore[arg-type]
            if slot.start == epoch:
                return day, slot
    return None


# --- pacing -------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Booked:
    """A reservation as pacing sees it."""

    id: str
    start: float
    end: float
    """When its table is free again (start + hold)."""
    size: int


def fits_tables(sizes: Iterable[int], tables: Sequence[int]) -> bool:
    """Whether parties of ``sizes`` can each have a table of ``tables`` (seat counts) at once. Largest
    party first, each to the smallest table that seats it: since a bigger table seats whoever a smaller
    one does, this finds a seating whenever one exists."""
    free = sorted(tables)
    for size in sorted(sizes, reverse=True):
        for index, seats in enumerate(free):
            if seats >= size:
                del free[index]
                break
        else:
            return False
    return True


def bookable_tables(rules: Rules, tables: Sequence[int]) -> list[int]:
    """The tables bookings may take: all but the ``walkin_tables`` smallest."""
    ordered = sorted(tables)
    return ordered[rules.walkin_tables:]


def refusal(rules: Rules, *, start: float, end: float, size: int, slot_start: float,
            slot_end: float, others: Iterable[Booked], tables: Sequence[int] | None,
            total_seats: int | None) -> str | None:
    """Why a booking of ``size`` from ``start`` to ``end`` breaks the caps, or None when it fits.
    ``others``: the restaurant's bookings holding tables (not this one). ``tables``: seat counts of
    the floor (None: the restaurant gave no tables, so only covers and seats count)."""
    others = list(others)
    if rules.covers_per_slot:
        covers = sum(b.size for b in others if slot_start <= b.start < slot_end)
        if covers + size > rules.covers_per_slot:
            return f"the {rules.covers_per_slot} covers of this slot are booked"
    overlapping = [b for b in others if b.start < end and start < b.end]
    if tables:
        # the tables taken at the busiest moment: pacing checks each start inside the new hold
        moments = [start] + [b.start for b in overlapping if start < b.start < end]
        usable = bookable_tables(rules, tables)
        for moment in moments:
            at_once = [b.size for b in overlapping if b.start <= moment < b.end]
            if not fits_tables([*at_once, size], usable):
                return "no table is left to hold at that time"
    if total_seats is not None and total_seats > 0:
        moments = [start] + [b.start for b in overlapping if start < b.start < end]
        for moment in moments:
            seats = sum(b.size for b in overlapping if b.start <= moment < b.end)
            if seats + size > total_seats - rules.walkin_seats:
                return "the seats bookable at that time are taken"
    return None
