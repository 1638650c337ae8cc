"""The owner's table numbers, folded from the table events (see docs/architecture.md, "Named tables").

Plain Python. An event ``occupied -> anything`` closes one table's occupied interval [since, at] of
``seats`` seats: it is a turn of that table (timed from when it was occupied), and its seat-seconds
count towards occupancy in every local hour the interval spans. A seat taken back by an undo (``undo``)
counts for neither. Increments are day counters, like the other owner's counters
(waitlist.domain.stats), under these names (``h`` is the local hour 0-23, ``s`` the table's seats):

    ttn:<s>:<h>   turns of tables of s seats occupied in hour h
    tts:<s>:<h>   their seconds, summed
    occ:<h>       occupied seat-seconds within hour h
    tturns        all turns of the day (a day field the owner's range reads cheaply: the days the floor
                  was in use are the denominator of occupancy, so closed days do not dilute it)

``table_report`` turns summed counters into the turn times by table size and by hour, and occupancy by
hour: the share of the floor's seats in use over the range's days on which tables turned.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

OCCUPIED = "occupied"


def _num(value: str | None) -> float | None:
    try:
        return float(value) if value not in (None, "") else None
    except ValueError:
        return None


def hour_slices(start: float, end: float, zone: ZoneInfo) -> list[tuple[float, int]]:
    """[start, end) cut at local hour boundaries: (the slice's start, its seconds)."""
    out: list[tuple[float, int]] = []
    at = start
    while at < end:
        local = datetime.fromtimestamp(at, zone)
        next_hour = (local.replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)).timestamp()
        cut = min(end, next_hour)
        out.append((at, round(cut - at)))
        at = cut
    return out


def table_fields(event: Mapping[str, str], zone: ZoneInfo,
                 service_day: Callable[[float, ZoneInfo], str]) -> dict[str, dict[str, int]]:
    """A table event's counter increments by service day ({} for events that close no occupied interval).
    ``service_day`` is the owner's day of an instant (waitlist.domain.stats, which folds these in)."""
    if event.get("type") != "table" or event.get("from") != OCCUPIED or event.get("undo"):
        return {}
    since, at, seats = _num(event.get("since")), _num(event.get("at")), _num(event.get("seats"))
    if since is None or at is None or not seats or at < since:
        return {}
    s = int(seats)
    hour = datetime.fromtimestamp(since, zone).hour
    turn = {"tturns": 1, f"ttn:{s}:{hour}": 1, f"tts:{s}:{hour}": round(at - since)}
    out: dict[str, dict[str, int]] = {service_day(since, zone): turn}
    for start, seconds in hour_slices(since, at, zone):
        day = out.setdefault(service_day(start, zone), {})
        key = f"occ:{datetime.fromtimestamp(start, zone).hour}"
        day[key] = day.get(key, 0) + seconds * s
    return out


def table_report(counters: Mapping[str, int], *, floor_seats: int, days: int) -> dict[str, Any]:
    """From counters summed over ``days`` days: turns and mean turn minutes by table seats and by the hour
    tables were occupied, and occupancy by hour (occupied seat-seconds over floor_seats x the hour's
    seconds of those days; None without named tables)."""
    by_seats: dict[int, list[int]] = {}
    by_hour: dict[int, list[int]] = {}
    occupancy: dict[int, float | None] = {}
    for name, value in counters.items():
        kind, _, rest = name.partition(":")
        if kind in ("ttn", "tts"):
            seats, hour = (int(x) for x in rest.split(":"))
            index = 0 if kind == "ttn" else 1
            by_seats.setdefault(seats, [0, 0])[index] += value
            by_hour.setdefault(hour, [0, 0])[index] += value
        elif kind == "occ":
            capacity = floor_seats * 3600 * max(1, days)
            occupancy[int(rest)] = round(value / capacity, 3) if floor_seats else None

    def turns(pairs: Mapping[int, list[int]]) -> dict[str, dict[str, Any]]:
        return {str(key): {"turns": n, "mean_minutes": round(seconds / n / 60, 1) if n else None}
                for key, (n, seconds) in sorted(pairs.items())}

    return {"turns_by_seats": turns(by_seats), "turns_by_hour": turns(by_hour),
            "occupancy_by_hour": {str(hour): share for hour, share in sorted(occupancy.items())}}
