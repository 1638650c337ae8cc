"""Visit records: one row per party that left the list, with its name and phone, kept retention_days
for the owner's CSV export and the list of low ratings. Unlike the anonymous counters in
waitlist.domain.stats, these are personal data: the CSV masks phones unless asked, and guest-typed text
cannot start a spreadsheet formula."""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from waitlist.domain.phones import mask_phone
from waitlist.domain.stats import LOW_RATING

VISIT_COLUMNS = ("date", "name", "phone", "size", "joined", "seated", "quote_minutes", "waited_minutes",
                 "outcome", "rating", "comment")


def _cell(value: Any) -> str:
    """Guest-typed text cannot start a spreadsheet formula."""
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def visit_row(day: str, visit: Mapping[str, Any], zone: ZoneInfo, include_phone: bool) -> list[str]:
    def clock(ts: Any) -> str:
        return datetime.fromtimestamp(float(ts), tz=zone).isoformat(timespec="minutes") if ts else ""

    phone = visit.get("phone") or ""
    return [
        day, _cell(visit.get("name")), phone if include_phone else mask_phone(phone),
        str(visit.get("size", "")), clock(visit.get("joined")), clock(visit.get("seated")),
        "" if visit.get("quote") is None else str(visit["quote"]),
        "" if visit.get("waited") is None else str(visit["waited"]), str(visit.get("outcome", "")),
        "" if visit.get("rating") is None else str(visit["rating"]), _cell(visit.get("comment")),
    ]


def low_ratings(visits: Iterable[tuple[str, Mapping[str, Any]]]) -> list[dict[str, Any]]:
    """Visits rated 1 or 2, newest first, with the guest's follow-up text when there is one."""
    flagged = [
        {"date": day, "name": v.get("name") or "", "size": v.get("size"), "rating": v["rating"],
         "comment": v.get("comment") or "", "joined": v.get("joined")}
        for day, v in visits if v.get("rating") is not None and int(v["rating"]) <= LOW_RATING
    ]
    return sorted(flagged, key=lambda v: v.get("joined") or 0, reverse=True)
