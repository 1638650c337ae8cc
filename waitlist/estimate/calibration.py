"""Self-calibration: every quote is corrected by how the restaurant's own recent quotes turned out.

The estimator's model (dining times, drop-outs, the replay of the line) is right only as far as the
restaurant is like the ones it was tuned on. Tables that are cleared for minutes, guests who take their
time to walk up, big parties at pushed-together tables, a kitchen that slows mid-evening: each leaves a
systematic error that no fixed constant can know. What the service does know, for every party it
seated, is the estimator's own figure at the join (the *raw* quote) and the actual wait. So:

- each seated party that waited gives a scaled residual ``z = (wait - raw) / (raw + SCALE_OFFSET)``
  (scaled so that one correction fits short and long waits alike: an error that is a fixed number of
  minutes and one that grows with the wait both come out about constant);
- the quantiles of ``z`` are read from the newest records of the same table class and hour-of-day band,
  shrunk towards the same table class at any hour, that towards all of the restaurant's recent parties,
  and that towards a prior (``PRIOR``) measured on simulated worlds, so that thin data moves little;
- the quote is ``raw + max(median, 80th percentile - 5 minutes)`` of the corrected distribution:
  about 4 in 5 parties wait no longer than quote + 5 minutes, and where the spread is narrow the median
  (the least absolute error) already does that;
- the range told is its 6th to 94th percentile, which covers about 4 in 5 actual waits.

The records are the recent seatings list the estimator already reads (each seating carries the raw quote
the party was given at its join): bounded (its last 200), in the restaurant's own keys, written by the
seat transition in the same atomic step, and holding only parties seated before the quote is made, so
the backtest's replay calibrates exactly as the live service does, with no look-ahead.

Plain Python, no Flask, no Redis: ``correction`` is a function of the records and the party's class.
"""
from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

SCALE_OFFSET = 30.0
"""Minutes added to the raw quote before scaling a residual: errors at a table about to free are minutes
(a table being cleared, a guest walking up), errors on long waits grow with the wait."""
MIN_WAITED_MINUTES = 1.0
"""Parties seated at once never heard a quote that mattered (and are not scored): they are left out."""
BAND_HOURS = 3
"""Hour-of-day bands (lunch, afternoon, dinner, late): the recent window holds the last evening or two,
so bands by hour of the week would hold nothing; the weekly pattern of dining times is already in the
estimator's hour-of-week history."""
NEWEST = (30, 60, 120)
"""How many of the newest records count, at class and band, at class, and for all classes: recent
enough that a kitchen slowing down is followed within the hour."""
SHRINK = 6.0
"""Records it takes for one level to weigh as much as the level above it."""
QUANTILES = (0.06, 0.5, 0.8, 0.94)
"""The range's ends, the median, and the quote's level: quote = max(median, 80th percentile - 5 min), so
about 4 in 5 wait no longer than quote + 5 minutes where the restaurant is steady; an evening that turns
(a rush, a slow kitchen) is seen only as its parties are seated, so there more are late (the 75th
percentile gave 3% lower error but up to 32% late on a fitting world, the 85th cost 5% more error for 2
points fewer late). The range covers the middle 88% of recent residuals, which covers about 3 in 4 to
4 in 5 of the next ones."""
LATE_MINUTES = 5.0
FREE_TABLE_HIGH_MINUTES = 5.0
"""The top of the range, before the restaurant has any record, for a party with nobody ahead and a free
table that fits. The prior's spread scales with a floor of SCALE_OFFSET minutes, which made a new, empty
restaurant text "~0-15 min" to a guest who sits down at once; once records exist, their own spread
decides (capping it there too cost 2 points of range coverage on the evaluation's worlds)."""
PRIOR = (-0.35, 0.0, 0.15, 0.5)
"""Scaled residual quantiles (6th, median, 80th, 94th) before the restaurant has any history: the model's
quote as it stands (it was fitted to about 1 in 5 late on bench.simulate), with a range of about
-10 to +15 minutes around a short quote; the restaurant's own records outweigh it after SHRINK parties."""
FLOOR_Z = -0.9
"""No quantile below this, so a corrected quote still grows with the raw one (a longer line never quotes
less)."""
BUSY_FLOOR_MINUTES = 5
WEIGHTS: tuple[tuple[float, float, float], ...] = (
    (1.0, 0.0, 0.0), (0.75, 0.25, 0.0), (0.75, 0.0, 0.25), (0.5, 0.5, 0.0), (0.5, 0.0, 0.5),
    (0.5, 0.25, 0.25), (0.25, 0.75, 0.0), (0.25, 0.0, 0.75), (0.0, 1.0, 0.0), (0.0, 0.0, 1.0), (0.0, 0.5, 0.5))
"""Shares of (the model, the all-ahead rule, the class rule) tried on the recent records."""
MIN_FOR_BLEND = 10
"""Records before the blend may leave the model: until then the model alone, corrected."""
PRIOR_MINUTES_PER_PARTY = 3.0
"""The least quote while a party of the same class waits ahead or every table that fits is busy: a
table has to be cleared and the party walk up, however soon it frees."""


@dataclass(frozen=True)
class Record:
    """One seated party: when it joined, its size, the raw quote it was given, how many parties were
    ahead of it then (all, and of its own table class), and the minutes it waited."""

    joined_at: float
    size: int
    raw: float
    ahead: int
    waited: float
    same: int = 0


@dataclass(frozen=True)
class Correction:
    """How to turn the model's figure into the quote: blend it with two queue-length rules (all parties
    ahead x the restaurant's learned minutes per party; parties of the class ahead x the class's), with
    ``weights`` (model, all, class), then shift by the quantiles of the scaled residual (QUANTILES order)."""

    q: tuple[float, ...] = PRIOR
    weights: tuple[float, float, float] = (1.0, 0.0, 0.0)
    per_party: float = PRIOR_MINUTES_PER_PARTY
    per_class_party: float = PRIOR_MINUTES_PER_PARTY
    samples: int = 0

    def base(self, raw: float, ahead: int, same: int) -> float:
        model, everyone, own = self.weights
        return (model * max(0.0, raw) + everyone * (ahead + 1) * self.per_party
                + own * (same + 1) * self.per_class_party)

    def quote(self, raw: float, ahead: int, same: int) -> tuple[float, float, float]:
        """(minutes, low, high) for a raw quote with ``ahead`` parties ahead, ``same`` of its class."""
        base = self.base(raw, ahead, same)
        scale = base + SCALE_OFFSET
        low, median, level, high = (max(FLOOR_Z, z) for z in self.q)
        minutes = base + max(median * scale, level * scale - LATE_MINUTES)
        return max(0.0, minutes), max(0.0, base + low * scale), max(0.0, base + high * scale)


def band(ts: float) -> int:
    return int(ts // 3600) % 24 // BAND_HOURS


def records(quoted: Sequence[tuple[float, int, float, float, int, int]]) -> list[Record]:
    """Records from the snapshot's (seated_at, size, joined_at, raw, ahead, same-class ahead) seatings,
    newest first; seatings with no raw quote (a host's quote, or before this was recorded) have raw < 0
    and are skipped."""
    out = []
    for seated_at, size, joined_at, raw, ahead, same in quoted:
        waited = (seated_at - joined_at) / 60.0
        if raw >= 0 and MIN_WAITED_MINUTES <= waited < 600:
            out.append(Record(joined_at, size, raw, ahead, waited, same))
    return out


def _quantile(ordered: list[float], q: float) -> float:
    position = q * (len(ordered) - 1)
    i = int(position)
    if i + 1 >= len(ordered):
        return ordered[-1]
    return ordered[i] + (ordered[i + 1] - ordered[i]) * (position - i)


def _shrunk(sample: list[float], prior: tuple[float, ...]) -> tuple[float, ...]:
    if not sample:
        return prior
    ordered = sorted(sample)
    weight = len(sample) / (len(sample) + SHRINK)
    return tuple(weight * _quantile(ordered, q) + (1 - weight) * p for q, p in zip(QUANTILES, prior))


def _blend_error(rows: Sequence[tuple[float, float, float, float]], weights: tuple[float, float, float]) -> float:
    """Mean absolute error of a blend of (model, all-ahead rule, class rule) predictions once its median
    bias is taken out (as the quote will do); ``rows`` hold the three predictions and the wait."""
    a, b, c = weights
    errors = sorted(w - (a * m + b * e + c * o) for m, e, o, w in rows)
    middle = _quantile(errors, 0.5)
    return sum(abs(e - middle) for e in errors) / len(errors)


def correction(history: Sequence[Record], same_class: Sequence[bool], now: float) -> Correction:
    """The correction for a party whose class is marked in ``same_class`` (one flag per record), quoted at
    ``now``. ``history`` is newest first.

    The blend is the one of WEIGHTS whose recent error is least (the class's records, shrunk towards
    everyone's): where the model knows the restaurant it keeps the quote, where it does not (no
    inventory, tables pushed together that it cannot see) the plain rules take over."""
    recent = list(history[: NEWEST[2]])
    mine = [r for r, same in zip(history, same_class) if same][: NEWEST[1]]
    if not recent:
        return Correction()
    per_party = sum(r.waited for r in recent) / sum(r.ahead + 1 for r in recent)
    # The class's own minutes per party of the class ahead, shrunk towards everyone's.
    everyone_per_same = sum(r.waited for r in recent) / sum(r.same + 1 for r in recent)
    per_class = ((sum(r.waited for r in mine) + SHRINK * everyone_per_same)
                 / (sum(r.same + 1 for r in mine) + SHRINK))
    weights = (1.0, 0.0, 0.0)
    if len(recent) >= MIN_FOR_BLEND:
        def rows(group: Sequence[Record]) -> list[tuple[float, float, float, float]]:
            return [(max(0.0, r.raw), (r.ahead + 1) * per_party, (r.same + 1) * per_class, r.waited) for r in group]

        pooled_rows, mine_rows = rows(recent), rows(mine)
        share = len(mine) / (len(mine) + SHRINK)

        def error(w: tuple[float, float, float]) -> float:
            pooled = _blend_error(pooled_rows, w)
            return pooled if not mine_rows else share * _blend_error(mine_rows, w) + (1 - share) * pooled

        weights = min(WEIGHTS, key=error)
    fix = Correction(weights=weights, per_party=per_party, per_class_party=per_class)

    def z(r: Record) -> float:
        base = fix.base(r.raw, r.ahead, r.same)
        return (r.waited - base) / (base + SCALE_OFFSET)

    hour = band(now)
    q = _shrunk([z(r) for r in recent], PRIOR)
    q = _shrunk([z(r) for r in mine], q)
    q = _shrunk([z(r) for r in mine if band(r.joined_at) == hour][: NEWEST[0]], q)
    return Correction(q, weights, per_party, per_class, len(recent))


def corrected(raw: float, ahead: int, same: int, fix: Correction, busy: bool, cap: float) -> tuple[int, int, int]:
    """Whole minutes (minutes, low, high), low <= minutes <= high, none above ``cap``; never below
    BUSY_FLOOR_MINUTES when ``busy`` (a same-class party ahead, or every fitting table in use)."""
    minutes, low, high = fix.quote(raw, ahead, same) if raw < cap else (cap, cap, cap)
    if busy:
        minutes = max(minutes, BUSY_FLOOR_MINUTES)
    elif ahead == 0 and not fix.samples:  # a new restaurant: nobody ahead and a fitting table free
        high = min(high, max(minutes, FREE_TABLE_HIGH_MINUTES))
    minutes = min(minutes, cap) if math.isfinite(minutes) else cap
    low = min(low, minutes)
    high = min(max(high, minutes), cap) if math.isfinite(high) else cap
    return round(minutes), round(low), round(high)
