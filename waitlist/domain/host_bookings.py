"""How the host stand sorts a service day's bookings (issue 23): late, due within the hour, arrived.

Plain Python over the reservation dicts the service returns (``Reservations.to_dict``), so the view and
the floor strip read one rule. A booking still to arrive (booked or confirmed) is *late* once its time
has passed and *due* when it starts within the hour; later ones wait in *later*. Guests checked in are
*arrived* (seated ones too, so the host sees who came); cancelled, no-show and completed bookings are
only counted, as nothing more is done with them at the stand.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

SOON_SECONDS = 3600
"""How far ahead the stand and the floor strip show bookings as tables about to be needed."""
SERVICE_DAY_STARTS = timedelta(hours=4)
"""A service runs past midnight: before 4 am it is still the previous day's (as Reservations.day)."""
TO_ARRIVE = frozenset({"booked", "confirmed"})
HERE = frozenset({"arrived", "seated"})


@dataclass(frozen=True)
class Booking:
    """One row at the stand: the reservation's fields plus its start and minutes from now."""
    row: Mapping[str, Any]
    start: float
    minutes: int
    """Whole minutes until its time (negative when late)."""

    @property
    def id(self) -> str:
        return str(self.row["id"])

    @property
    def clock(self) -> str:
        """Its local time of day, "19:30"."""
        return str(self.row["time"])[11:16]


@dataclass(frozen=True)
class HostDay:
    late: list[Booking] = field(default_factory=list)
    due: list[Booking] = field(default_factory=list)
    arrived: list[Booking] = field(default_factory=list)
    later: list[Booking] = field(default_factory=list)
    closed: dict[str, int] = field(default_factory=dict)
    """Counts of the day's cancelled, no-show and completed bookings."""

    @property
    def soon_covers(self) -> int:
        """Covers of the late and due bookings: the seats the floor will need within the hour."""
        return sum(int(b.row["party_size"]) for b in (*self.late, *self.due))


def epoch(text: str) -> float:
    """An API time ("2026-12-24T19:30:00Z") to epoch seconds."""
    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


def service_day(now: float, timezone: str) -> date:
    """The service day ``now`` falls in, in the restaurant's zone."""
    return (datetime.fromtimestamp(now, ZoneInfo(timezone)) - SERVICE_DAY_STARTS).date()


def sort_day(rows: Iterable[Mapping[str, Any]], now: float) -> HostDay:
    """Sort a service day's bookings for the stand, each group by time (earliest first)."""
    day = HostDay()
    for row in rows:
        start = epoch(str(row["starts_at"]))
        booking = Booking(row, start, int((start - now) // 60))
        status = str(row["status"])
        if status in HERE:
            day.arrived.append(booking)
        elif status not in TO_ARRIVE:
            day.closed[status] = day.closed.get(status, 0) + 1
        elif start < now:
            day.late.append(booking)
        elif start < now + SOON_SECONDS:
            day.due.append(booking)
        else:
            day.later.append(booking)
    for group in (day.late, day.due, day.arrived, day.later):
        group.sort(key=lambda b: (b.start, b.id))
    return day
