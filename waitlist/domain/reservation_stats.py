"""The owner's reservation numbers (issue 23): covers by source, bookings' no-show and cancel rates,
and lead time, folded from the restaurant's event stream like the rest of waitlist.domain.stats.

Definitions (what the owner sees):

* Covers by source: guests seated, split by how the party came: a reservation (its party carries the
  ``reservation`` flag from check-in), a remote join (the join page or a text), else a walk-in added at
  the stand. They add up to "covers seated" and count, like it, on the day the party joined the list;
  an undone seat takes them back with the rest of the seat's counts.
* Bookings count on the service day they are *for* (a booking made on Monday for Friday is Friday's),
  and so do their cancels, no-shows and check-ins: the rates are of that day's bookings. A guest marked
  no-show who then arrives is taken back out of the no-shows. A booking moved to another day stays
  counted on its first day (the stream's "changed" event does not say where it was).
* No-show rate and cancel rate: no-shows and cancels over bookings made. Lead time: hours from making the
  booking to its time, the mean over the day's bookings.

Plain Python, no Flask or Redis: tested with hand-made events.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any
from zoneinfo import ZoneInfo

SOURCES = ("walk_in", "remote", "reservation")
RESERVATION_FIELDS = ("cov_walk_in", "cov_remote", "cov_reservation", "rbooked", "rcancelled", "rno_show",
                      "rarrived", "rlead")
"""Per-day counters (scalars, so a long range's days carry them too); rlead is the sum of lead seconds."""


def covers_field(event: Mapping[str, str]) -> str:
    """Which covers counter a seated party's status event adds to."""
    if event.get("reservation"):
        return "cov_reservation"
    return "cov_remote" if event.get("remote") else "cov_walk_in"


def _num(value: str | None) -> float | None:
    try:
        return float(value) if value not in (None, "") else None
    except ValueError:
        return None


def reservation_fields(event: Mapping[str, str], zone: ZoneInfo,
                       service_day: Callable[[float, ZoneInfo], str]) -> dict[str, dict[str, int]]:
    """The counter increments of one ``reservation`` event, by the service day of the booking's time."""
    at = _num(event.get("at"))
    if at is None:
        return {}
    start = _num(event.get("start"))
    day = service_day(start if start is not None else at, zone)
    kind, source = event.get("event", ""), event.get("from", "")
    if kind == "booked":
        return {day: {"rbooked": 1, "rlead": max(0, round((start or at) - at))}}
    if kind == "cancelled":
        return {day: {"rcancelled": 1}}
    if kind == "no_show":
        return {day: {"rno_show": 1}}
    if kind == "arrived":
        fields = {"rarrived": 1}
        if source == "no_show":
            fields["rno_show"] = -1
        return {day: fields}
    return {}


def _ratio(part: int, whole: int) -> float | None:
    return round(part / whole, 3) if whole else None


def reservation_summary(c: Mapping[str, int]) -> dict[str, Any]:
    """What the stats API and the dashboard show of one day's (or a range's) counters."""
    booked = c.get("rbooked", 0)
    return {
        "covers_by_source": {source: c.get(f"cov_{source}", 0) for source in SOURCES},
        "booked": booked, "cancelled": c.get("rcancelled", 0), "no_shows": c.get("rno_show", 0),
        "arrived": c.get("rarrived", 0),
        "cancel_rate": _ratio(c.get("rcancelled", 0), booked),
        "no_show_rate": _ratio(c.get("rno_show", 0), booked),
        "mean_lead_hours": round(c.get("rlead", 0) / 3600 / booked, 1) if booked else None,
    }


CSV_HEADER = ("date", "covers_walk_in", "covers_remote", "covers_reservation", "bookings", "cancelled",
              "no_shows", "cancel_rate", "no_show_rate", "mean_lead_hours")


def csv_rows(days: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
    """One row per day of a stats report (``report(...)["days"]``), blanks for rates with no bookings."""
    rows = []
    for day in days:
        r = day["reservations"]
        cov = r["covers_by_source"]
        rows.append((day["date"], cov["walk_in"], cov["remote"], cov["reservation"], r["booked"], r["cancelled"],
                     r["no_shows"], "" if r["cancel_rate"] is None else r["cancel_rate"],
                     "" if r["no_show_rate"] is None else r["no_show_rate"],
                     "" if r["mean_lead_hours"] is None else r["mean_lead_hours"]))
    return rows
