"""The owner's numbers: how events of the restaurant's stream fold into per-day aggregates, and how
those aggregates answer "how long did people wait, how good were our quotes, who walked away".

The rules are plain Python (no Flask, no Redis) so they are tested with hand-made event lists. The
store keeps, per restaurant and service day, one hash of integer counters (waitlist.store.stats);
folding a batch of events yields increments to add to those hashes, so folding is incremental and a
year of history is read back as 365 small hashes. The use cases over them are
waitlist.services.owner_stats.

Definitions (what the owner sees):

* Service day: the restaurant's local date, with the day starting at 04:00, like the host stand's
  "today" (a party joining at 00:30 on Saturday belongs to Friday's service).
* A party counts on the day and hour it joined the list (a remote join once the guest confirmed it;
  an unconfirmed one never counts). Its outcome counts on that day too.
* Seated: left the list to a table. Covers: guests seated (sum of seated party sizes).
* Cancelled: removed from the list, by the host or by the guest (link or text). Guest-cancelled are
  the part the guest did themselves. No-show: notified, then never came (hold timer or host).
* Walk-away: a party that left the list without being seated, i.e. cancelled or no-show. The
  walk-away rate is walk-aways over parties that finished.
* Wait: minutes from joining to being seated (seated parties only). Mean is exact (sums of seconds);
  median and p90 come from histograms in minute buckets (five-minute buckets from 60 to 180, then one
  "180+" bucket): nearest-rank percentiles reported at the bucket's middle.
* Quote accuracy (seated parties with a quote): error = waited - quoted. Within +-5 min, under-quoted
  (waited more than 5 min longer than told) and over-quoted (more than 5 min shorter) add up to 1.
  The estimator's quotes and the host's ("tell them 45", quote_source "host") are counted apart
  ("quote" and "quote_host"), so each says how good that source is. A host's quote counts from when
  the host gave it (quote_at: the join, or a later override): waited = seated - quote_at.
* Texts: sent = reached the carrier (sent, delivered or undelivered), delivered, failed = failed or
  undelivered; received = texts from guests. A text counts on the day its status changed.
* Reply rate: parties that texted back at least once that day over parties that were sent a text
  that day.
* Feedback: ratings (1-5) and follow-up comments count on the day they arrived; 1-2 is a low rating.

An undone seat or removal (the host's one-minute undo) takes its counts back: a finished party's
increments are remembered for a day so the undo event can subtract them. An undone notify takes back
its "notified".
"""
from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from waitlist.domain.messages import FAILED, SENT_RANK, STATUS_RANK
from waitlist.domain.model import ACTIVE, LEFT_LINE, QUOTE_BY_HOST, UNDO_NOTIFY, Status
from waitlist.domain.reservation_stats import RESERVATION_FIELDS, covers_field, reservation_fields, reservation_summary
from waitlist.domain.table_stats import table_fields

SERVICE_DAY_STARTS_HOUR = 4
MAX_SIZE_BUCKET = 8
"""Party sizes 1-7 each have their own wait histogram; 8 and more share the "8+" one."""
GUEST_ACTORS = ("guest", "sms")
LOW_RATING = 2
QUOTE_TOLERANCE_MINUTES = 5

Event = tuple[str, Mapping[str, str]]


# --- days, hours and buckets ---------------------------------------------------------------------------

def service_day(at: float, zone: ZoneInfo) -> str:
    """The service day (YYYY-MM-DD) an instant belongs to."""
    local = datetime.fromtimestamp(at, tz=zone) - timedelta(hours=SERVICE_DAY_STARTS_HOUR)
    return local.date().isoformat()


def local_hour(at: float, zone: ZoneInfo) -> int:
    return datetime.fromtimestamp(at, tz=zone).hour


def day_bounds(day: str, zone: ZoneInfo) -> tuple[float, float]:
    """Epoch seconds of a service day's start and end (04:00 local to 04:00 the next day)."""
    start = datetime.combine(date.fromisoformat(day), datetime.min.time(), tzinfo=zone)
    start = start.replace(hour=SERVICE_DAY_STARTS_HOUR)
    end = (start + timedelta(days=1)).replace(hour=SERVICE_DAY_STARTS_HOUR)
    return start.timestamp(), end.timestamp()


def split_range(days: Sequence[str]) -> tuple[list[str], list[str]]:
    """The calendar months a run of consecutive days covers completely, and the days left over."""
    by_month: dict[str, list[str]] = {}
    for day in days:
        by_month.setdefault(day[:7], []).append(day)
    months, loose = [], []
    for month, members in by_month.items():
        first = date.fromisoformat(f"{month}-01")
        following = (first + timedelta(days=32)).replace(day=1)
        if len(members) == (following - first).days:
            months.append(month)
        else:
            loose.extend(members)
    return months, loose


def days_between(first: str, last: str) -> list[str]:
    start, end = date.fromisoformat(first), date.fromisoformat(last)
    return [(start + timedelta(days=n)).isoformat() for n in range((end - start).days + 1)]


def wait_bucket(minutes: float) -> int:
    """Lower bound of a wait's histogram bucket: whole minutes below an hour, then five minutes."""
    m = max(0.0, minutes)
    if m < 60:
        return int(m)
    if m < 180:
        return int(m // 5 * 5)
    return 180


SCALAR_FIELDS = (
    "joined", "notified", "seated", "covers", "cancelled", "guest_cancelled", "no_show", "walk_away", "wt",
    "qn", "qerr", "qsum", "qact", "qin5", "qunder", "qover",
    "qhn", "qherr", "qhsum", "qhact", "qhin5", "qhunder", "qhover", "sent", "delivered", "failed", "suppressed",
    "received", "texted", "replied", "fbn", "fbsum", "fbc", "fb:1", "fb:2", "fb:3", "fb:4", "fb:5",
    "tturns", *RESERVATION_FIELDS,
)
DAY_FIELDS = SCALAR_FIELDS
"""What a long range reads of each day: its counts and sums, not its histograms (so its days have a
mean wait but no median or p90; the range's total has them all)."""


def bucket_middle(bucket: int) -> float:
    if bucket < 60:
        return bucket + 0.5
    if bucket < 180:
        return bucket + 2.5
    return float(bucket)


def size_bucket(size: int) -> str:
    return f"{MAX_SIZE_BUCKET}+" if size >= MAX_SIZE_BUCKET else str(max(1, size))


# --- folding events into increments ------------------------------------------------------------------

@dataclass
class Folded:
    """What one batch of events changes: counter increments per day, visit records and fold state."""

    counters: dict[str, Counter[str]] = field(default_factory=dict)
    visits: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)
    """(day, party) -> visit record written when the party finished."""
    visit_updates: dict[str, tuple[str, dict[str, Any]]] = field(default_factory=dict)
    """party -> (day of the feedback, fields) for visits finished in an earlier batch."""
    removed_visits: set[tuple[str, str]] = field(default_factory=set)
    finishes: dict[str, dict[str, Any]] = field(default_factory=dict)
    """party -> {"day", "fields"}: the increments of its finish, kept so an undo can subtract them."""
    undone: set[str] = field(default_factory=set)
    seen: dict[str, set[str]] = field(default_factory=dict)
    """day -> tokens ("t:<party>" texted, "r:<party>" replied) newly counted."""
    last_id: str = ""
    events: int = 0

    def add(self, day: str, fields: Mapping[str, int]) -> None:
        counter = self.counters.setdefault(day, Counter())
        for name, value in fields.items():
            counter[name] += value


QUOTE_PREFIXES = {"": "q", QUOTE_BY_HOST: "qh"}
"""The counters' prefix by the quote's source: the estimator's quotes ("q...") and the host's ("qh...")."""


def finish_fields(outcome: str, *, size: int, joined: float, at: float, quote: int | None, actor: str,
                  zone: ZoneInfo, quote_source: str = "", quote_at: float | None = None) -> dict[str, int]:
    """The counter increments of one party leaving the list."""
    fields: dict[str, int] = {}
    if outcome == "seated":
        waited_s = max(0, round(at - joined))
        minutes = waited_s / 60
        hour, sb, bucket = local_hour(joined, zone), size_bucket(size), wait_bucket(minutes)
        fields.update({
            "seated": 1, "covers": size, "wt": waited_s, f"w:{bucket}": 1,
            f"wth:{hour}": waited_s, f"wh:{hour}:{bucket}": 1,
            f"wts:{sb}": waited_s, f"ws:{sb}:{bucket}": 1,
        })
        if quote is not None:
            q = QUOTE_PREFIXES.get(quote_source, "q")
            quoted_s = max(0, round(at - quote_at)) if q == "qh" and quote_at is not None else waited_s
            error = quoted_s / 60 - quote
            fields.update({f"{q}n": 1, f"{q}err": round(abs(error) * 60), f"{q}sum": quote * 60,
                           f"{q}act": quoted_s})
            if error > QUOTE_TOLERANCE_MINUTES:
                fields[f"{q}under"] = 1
            elif error < -QUOTE_TOLERANCE_MINUTES:
                fields[f"{q}over"] = 1
            else:
                fields[f"{q}in5"] = 1
    else:
        fields.update({outcome: 1, "walk_away": 1})
        if outcome == "cancelled" and actor in GUEST_ACTORS:
            fields["guest_cancelled"] = 1
    return fields


def _num(value: str | None) -> float | None:
    try:
        return float(value) if value not in (None, "") else None
    except ValueError:
        return None


def fold(
    entries: Iterable[Event],
    zone: ZoneInfo,
    *,
    finish_of: Callable[[str], Mapping[str, Any] | None] = lambda party: None,
    seen: Callable[[str, str], bool] = lambda day, token: False,
    party_info: Callable[[str], Mapping[str, str]] = lambda party: {},
) -> Folded:
    """Fold stream entries, oldest first. The callables read fold state kept from earlier batches: a
    party's remembered finish (for undo), whether a reply/text token was already counted that day, and
    the party's hash (name and phone for its visit record)."""
    out = Folded()
    for entry_id, event in entries:
        out.events += 1
        out.last_id = entry_id
        kind = event.get("type")
        at = _num(event.get("at"))
        if at is None:
            continue
        if kind == "status":
            _fold_status(out, event, at, zone, finish_of, party_info)
        elif kind == "sms":
            _fold_sms(out, event, at, zone, seen)
        elif kind == "sms_in":
            day = service_day(at, zone)
            out.add(day, {"received": 1})
            if event.get("party") and _first(out, seen, day, f"r:{event['party']}"):
                out.add(day, {"replied": 1})
        elif kind == "feedback":
            _fold_feedback(out, event, at, zone)
        elif kind == "reservation":  # bookings, cancels, no-shows, lead time (reservation_stats.py)
            for day, fields in reservation_fields(event, zone, service_day).items():
                out.add(day, fields)
        elif kind == "table":  # turn times by table size and hour, occupancy by hour (table_stats.py)
            for day, fields in table_fields(event, zone, service_day).items():
                out.add(day, fields)
    return out


def _first(out: Folded, seen: Callable[[str, str], bool], day: str, token: str) -> bool:
    tokens = out.seen.setdefault(day, set())
    if token in tokens or seen(day, token):
        return False
    tokens.add(token)
    return True


def _fold_status(out: Folded, event: Mapping[str, str], at: float, zone: ZoneInfo,
                 finish_of: Callable[[str], Mapping[str, Any] | None],
                 party_info: Callable[[str], Mapping[str, str]]) -> None:
    party, source, target = event.get("party", ""), event.get("from", ""), event.get("to", "")
    joined = _num(event.get("joined")) or at
    if event.get("undo") and (source, target) == UNDO_NOTIFY:
        out.add(service_day(joined, zone), {"notified": -1})
        return
    if event.get("undo"):
        finish = out.finishes.pop(party, None) or finish_of(party)
        if finish is None or party in out.undone:
            return
        out.undone.add(party)
        out.add(finish["day"], {name: -value for name, value in finish["fields"].items()})
        out.visits.pop((finish["day"], party), None)
        out.removed_visits.add((finish["day"], party))
        return
    if source in ("", Status.PENDING) and target == Status.WAITING:
        joins = {"joined": 1, f"jh:{local_hour(at, zone)}": 1}
        if event.get("remote"):
            joins["remote"] = 1
        joins.update({f"tag:{tag}": 1 for tag in event.get("tags", "").split(",") if tag})
        out.add(service_day(at, zone), joins)
    elif source == Status.WAITING and target == Status.NOTIFIED:
        out.add(service_day(joined, zone), {"notified": 1})
    elif target in LEFT_LINE and source in ACTIVE:
        day = service_day(joined, zone)
        size = int(_num(event.get("size")) or 0)
        quote_value = _num(event.get("quote"))
        quote = int(quote_value) if quote_value is not None else None
        fields = finish_fields(target, size=size, joined=joined, at=at, quote=quote,
                               actor=event.get("actor", ""), zone=zone, quote_source=event.get("quote_source", ""),
                               quote_at=_num(event.get("quote_at")))
        if target == "seated":
            fields[covers_field(event)] = size  # covers by source: part of the seat, so an undo takes it back
        out.add(day, fields)
        out.undone.discard(party)
        out.removed_visits.discard((day, party))
        out.finishes[party] = {"day": day, "fields": fields}
        info = party_info(party)
        out.visits[(day, party)] = {
            "party": party, "name": info.get("name", ""), "phone": info.get("phone", ""), "size": size,
            "joined": joined, "seated": at if target == "seated" else None, "quote": quote,
            "waited": round(max(0.0, at - joined) / 60, 1), "outcome": target, "actor": event.get("actor", ""),
            "rating": _int_or_none(info.get("rating")), "comment": info.get("comment") or None,
        }


def _int_or_none(value: str | None) -> int | None:
    number = _num(value)
    return int(number) if number is not None else None


def _fold_sms(out: Folded, event: Mapping[str, str], at: float, zone: ZoneInfo,
              seen: Callable[[str, str], bool]) -> None:
    source, target = event.get("from", ""), event.get("to", "")
    day = service_day(at, zone)
    fields: dict[str, int] = {}
    if STATUS_RANK.get(source, 0) < SENT_RANK and target in ("sent", "delivered", "undelivered", "read"):
        fields["sent"] = 1
        if event.get("party") and _first(out, seen, day, f"t:{event['party']}"):
            fields["texted"] = 1
    if target == "delivered" or (target == "read" and source not in ("delivered",)):
        fields["delivered"] = 1
    if target in FAILED:
        fields["failed"] = 1
    if target == "suppressed":
        fields["suppressed"] = 1
    if fields:
        out.add(day, fields)


def _fold_feedback(out: Folded, event: Mapping[str, str], at: float, zone: ZoneInfo) -> None:
    day, party = service_day(at, zone), event.get("party", "")
    update: dict[str, Any] = {}
    rating = _int_or_none(event.get("rating"))
    if rating is not None and 1 <= rating <= 5:
        out.add(day, {"fbn": 1, "fbsum": rating, f"fb:{rating}": 1})
        update["rating"] = rating
    elif "comment" in event:
        out.add(day, {"fbc": 1})
        update["comment"] = event.get("comment", "")
    if not update or not party:
        return
    for (_day, visit_party), record in out.visits.items():
        if visit_party == party:
            record.update(update)
            return
    previous = out.visit_updates.get(party)
    out.visit_updates[party] = (day, {**(previous[1] if previous else {}), **update})


# --- answering: aggregates to numbers ------------------------------------------------------------------

def parse_day(raw: Mapping[str, Any]) -> Counter[str]:
    """A day's hash as Redis returns it (strings) into integer counters."""
    return Counter({name: int(value) for name, value in raw.items()})


def merge(days: Iterable[Mapping[str, int]]) -> Counter[str]:
    total: Counter[str] = Counter()
    for day in days:
        total.update(day)
    return total


def percentile(histogram: Mapping[int, int], share: float) -> float | None:
    """Nearest-rank percentile of a bucketed histogram, at the bucket's middle."""
    n = sum(histogram.values())
    if n <= 0:
        return None
    rank = max(1, math.ceil(share * n))
    running = 0
    for bucket in sorted(histogram):
        running += histogram[bucket]
        if running >= rank:
            return bucket_middle(bucket)
    return bucket_middle(max(histogram))  # pragma: no cover - counts are positive


def wait_summary(histogram: Mapping[int, int], total_seconds: int) -> dict[str, Any]:
    """n, exact mean, and the median and p90 of one histogram (one sorted pass for both)."""
    n = sum(histogram.values())
    if not n:
        return {"n": 0, "mean": None, "median": None, "p90": None}
    median_rank, p90_rank = max(1, math.ceil(0.5 * n)), max(1, math.ceil(0.9 * n))
    median = p90 = None
    running = 0
    for bucket in sorted(histogram):
        running += histogram[bucket]
        if median is None and running >= median_rank:
            median = bucket_middle(bucket)
        if running >= p90_rank:
            p90 = bucket_middle(bucket)
            break
    return {"n": n, "mean": round(total_seconds / 60 / n, 1), "median": median, "p90": p90}


def _ratio(part: int, whole: int, digits: int = 3) -> float | None:
    return round(part / whole, digits) if whole else None


def quote_summary(c: Mapping[str, int], q: str) -> dict[str, Any]:
    """Quote accuracy of one source: the estimator's ("q") or the host's ("qh"; waited counts from
    when the host gave the quote)."""
    n = c.get(f"{q}n", 0)
    return {
        "n": n,
        "mean_abs_error": round(c.get(f"{q}err", 0) / 60 / n, 1) if n else None,
        "within_5_min": _ratio(c.get(f"{q}in5", 0), n),
        "under_quote_rate": _ratio(c.get(f"{q}under", 0), n),
        "over_quote_rate": _ratio(c.get(f"{q}over", 0), n),
        "mean_quoted": round(c.get(f"{q}sum", 0) / 60 / n, 1) if n else None,
        "mean_waited": round(c.get(f"{q}act", 0) / 60 / n, 1) if n else None,
    }


def summarize(c: Mapping[str, int], breakdown: bool = True) -> dict[str, Any]:
    """Everything the stats API answers, from one day's (or a merged range's) counters; without
    ``breakdown``, waits and joins are not broken down by hour and party size (much less work)."""
    overall: dict[int, int] = {}
    by_hour: dict[str, dict[int, int]] = {}
    by_size: dict[str, dict[int, int]] = {}
    joined_by_hour: dict[str, int] = {}
    ratings: dict[str, int] = {}
    tags: dict[str, int] = {}
    for name, value in c.items():
        if not value or ":" not in name:
            continue
        kind, _, rest = name.partition(":")
        if not breakdown and kind in ("wh", "ws", "jh"):
            continue
        if kind == "wh":
            hour, _, bucket = rest.partition(":")
            by_hour.setdefault(hour.zfill(2), {})[int(bucket)] = value
        elif kind == "ws":
            size, _, bucket = rest.partition(":")
            by_size.setdefault(size, {})[int(bucket)] = value
        elif kind == "w":
            overall[int(rest)] = value
        elif kind == "jh":
            joined_by_hour[rest.zfill(2)] = value
        elif kind == "fb":
            ratings[rest] = value
        elif kind == "tag":
            tags[rest] = value
    finished = c.get("seated", 0) + c.get("walk_away", 0)
    return {
        "parties": {
            "joined": c.get("joined", 0), "covers": c.get("covers", 0), "notified": c.get("notified", 0),
            "seated": c.get("seated", 0), "cancelled": c.get("cancelled", 0),
            "guest_cancelled": c.get("guest_cancelled", 0), "no_shows": c.get("no_show", 0),
            "walk_aways": c.get("walk_away", 0), "finished": finished,
            "walk_away_rate": _ratio(c.get("walk_away", 0), finished),
            "cancel_rate": _ratio(c.get("cancelled", 0), finished),
            "no_show_rate": _ratio(c.get("no_show", 0), finished),
            "joined_by_hour": dict(sorted(joined_by_hour.items())),
            "remote": c.get("remote", 0),
            "tags": dict(sorted(tags.items())),
        },
        "wait": {
            "overall": wait_summary(overall, c.get("wt", 0)) if overall or not c.get("seated") else {
                "n": c["seated"], "mean": round(c.get("wt", 0) / 60 / c["seated"], 1), "median": None, "p90": None},
            "by_hour": {h: wait_summary(hist, c.get(f"wth:{int(h)}", 0)) for h, hist in sorted(by_hour.items())},
            "by_size": {s: wait_summary(hist, c.get(f"wts:{s}", 0))
                        for s, hist in sorted(by_size.items(), key=lambda kv: int(kv[0].rstrip("+")))},
        },
        "quote": quote_summary(c, "q"),
        "quote_host": quote_summary(c, "qh"),
        "texts": {
            "sent": c.get("sent", 0), "delivered": c.get("delivered", 0), "failed": c.get("failed", 0),
            "suppressed": c.get("suppressed", 0), "received": c.get("received", 0),
            "parties_texted": c.get("texted", 0), "parties_replied": c.get("replied", 0),
            "reply_rate": _ratio(c.get("replied", 0), c.get("texted", 0)),
        },
        "feedback": {
            "count": c.get("fbn", 0),
            "average_rating": round(c.get("fbsum", 0) / c["fbn"], 2) if c.get("fbn") else None,
            "ratings": {str(r): ratings.get(str(r), 0) for r in range(1, 6)},
            "low_ratings": ratings.get("1", 0) + ratings.get("2", 0),
            "comments": c.get("fbc", 0),
        },
        "reservations": reservation_summary(c),
    }


BREAKDOWN_DAYS = 31
"""Ranges up to a month break each day down by hour and party size (and give its median and p90);
longer ones only their total, unless asked: a year of per-day hour tables is megabytes nobody reads,
and most of the work."""


def wants_breakdown(n_days: int, breakdown: bool | None) -> bool:
    return n_days <= BREAKDOWN_DAYS if breakdown is None else breakdown


def report(days: Sequence[tuple[str, Mapping[str, int]]], breakdown: bool | None = None,
           total: Mapping[str, int] | None = None) -> dict[str, Any]:
    """Per-day summaries and the range's total (always broken down by hour and party size). ``total``
    is the range's counters when the caller read them some cheaper way (monthly rollups)."""
    per_day = wants_breakdown(len(days), breakdown)
    return {
        "days": [{"date": day, **summarize(counters, per_day)} for day, counters in days],
        "total": summarize(total if total is not None else merge(counters for _day, counters in days)),
    }
