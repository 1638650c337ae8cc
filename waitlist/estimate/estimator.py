"""Wait estimates in plain Python: the one estimator used by joins, the estimate endpoint and pages.

Input is a ``Snapshot``: the waiting line plus a bounded window of recent seatings, table turns and
drop-outs and a constant-size hour-of-week history, read in one round trip. Cost is O(waiting parties +
tables + window), independent of how long the restaurant has used the service.

How a quote is made, when the restaurant gave its table inventory (``tables``):

1. Tables now in use are the seatings not yet completed (when hosts record completions), each at the table
   class the host's rule gave it (the recent seatings and turns replayed in time order: a party takes the
   smallest free table that seats it), or, when hosts record no completions, the most recent seatings of
   each table class, as many as it has tables.
2. Each busy table frees after its *expected remaining* dining time: a lognormal dining time whose mean
   comes from the restaurant's own history for that hour of that weekday, shrunk towards the same hour on
   other days, then towards recent turns, then towards a default by party size.
3. The line is replayed forward in time the way hosts seat it: each freed table goes to the first
   waiting party of its class, or, when none waits, to the first party of the class just below. A party
   ahead is skipped with the probability that it gives up before its turn (the drop-out rate measured
   from recent waits, as a hazard per minute waited), so drop-outs shorten the waits behind them.
3b. The line is replayed SAMPLES times (waitlist.estimate.replay) with fresh dining times (common random
   numbers, so estimates are repeatable and a longer line never quotes less).
4. The quote is a quantile of the replays just below their median (QUOTE_QUANTILE), blended with the
   queue-length rule of the party's class (see QUEUE_WEIGHT), then recalibrated by a fixed concave map
   (see QUOTE_POWER) that lifts short waits by a minute or three. Both are deterministic functions of the
   snapshot, so the live service and the backtest give the same quote from the same history.

Without an inventory the tables are read off the log (``dining.inferred_tables``: the most parties of
each class or bigger that dined at once), and until the log shows enough turns the estimator falls back
to the queue-length rule per table class, with the class's seating cadence and the same drop-out
correction. Tables the restaurant pushes together for parties bigger than every table (``joins``) are
replayed as such: the party waits for all of them and keeps them all busy. Where the restaurant names its
tables, their live states correct the replay's tables (``dining.live_floor``: blocked, being cleared,
occupied since when).

Everything is capped, so no answer is negative or absurd, and a party added to the line never shortens
the quote of the parties behind it.
"""
from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from waitlist.estimate import calibration
from waitlist.estimate.dining import (
    DEFAULT_DINING_MINUTES,
    MIN_TURN_MINUTES,
    SHRINK_TURNS,
    DiningModel,
    DropOuts,
    Joins,
    Placement,
    busy_tables,
    drop_outs,
    holds_for_joins,
    inferred_tables,
    joined_route,
    live_floor,
    placements,
    same_class_count,
    still_dining,
    table_class,
    table_need,
    table_turnover_gaps,
    turnover_gap,
)
from waitlist.estimate.replay import MAX_MINUTES, replay_line
from waitlist.estimate.snapshot import Quoted, Snapshot

DEFAULT_TABLES_PER_CLASS = 4
RATE_WINDOW_SECONDS = 90 * 60
MIN_SEATINGS_FOR_RATE = 3
BURST_SECONDS = 60.0
ARRIVAL_WINDOW_SECONDS = 3600
QUOTE_QUANTILE = 0.375
"""Below the replays' median: only parties that stay are seated and scored, and a long replayed wait is
the one a party is likelier to give up on, so the waits of those who stay sit low in the spread."""
RANGE_QUANTILES = (0.2, 0.9)
QUEUE_WEIGHT = 0.1
QUEUE_WEIGHT_FEW_TABLES = 0.0
FEW_TABLES = 3
"""Share of the queue-length rule (parties of the class ahead x mean dining time / tables of the class) in
the quote. The replay knows which table frees when, the rule does not; with FEW_TABLES or fewer the wait
hangs on exactly that, so the rule gets QUEUE_WEIGHT_FEW_TABLES. Since the replay places diners at the
right tables and lets the class above seat its own arrivals, the rule adds little: with 64 replays any
share from 0 to 0.15 came within 0.03 minutes of the best pooled MAE on the fitting seeds."""
QUOTE_OFFSET_MINUTES = 0.5
QUOTE_SCALE = 1.75
QUOTE_POWER = 0.875
"""The quote is 0.5 + 1.75 x blend^0.875 minutes (0 when a table is free), with blend the replays'
QUOTE_QUANTILE mixed with the queue-length rule: 2 -> 4 min, 5 -> 8, 10 -> 14, 30 -> 35, 60 -> 63,
100 -> 99. The quantile alone is about the median wait of the parties that stay, which under-quotes a
quarter of them by more than 5 minutes; lifting short waits by a minute or three is the cheapest way to
bring that back to 1 in 5, as a short wait's spread is narrow. The quantile, both weights, offset, scale
and power were fitted together by grid search on simulated days with seeds 4-6 (replays and waits at
every scored join from bench/evaluate_estimator.py --first-seed 4): the lowest pooled MAE (6.90 minutes
there) with at most 20% of parties waiting more than 5 minutes past the quote at every restaurant type
(cafe 10.0%, casual 19.2%, dinner 19.8% there). docs/estimator.md reports seeds 1-3, which took no part in the
fit."""


@dataclass(frozen=True)
class Estimate:
    minutes: int
    low: int
    high: int
    parties_ahead: int
    raw: float = -1.0
    """The model's own figure before self-calibration (waitlist.estimate.calibration): stored with a
    joining party, so that once it is seated its actual wait calibrates later quotes. -1: none."""
    same_ahead: int = 0
    """Parties of the same table class ahead (stored with ``raw``)."""
    stretch: float = calibration.STRETCH_START
    lean: float = 0.0
    """The range's stretch and the lean towards the queue-length rule this quote was told with (stored
    with ``raw``: the calibration judges later how the told quotes and ranges held)."""


def minutes_per_seating(snapshot: Snapshot, seats: int, table_sizes: list[int], tables: dict[str, int] | None,
                        now: float) -> float:
    """How many minutes pass, on average, between two seatings at tables of this class."""
    recent = sorted(s[0] for s in snapshot.seatings
                    if 0 <= now - s[0] <= RATE_WINDOW_SECONDS and table_class(s[1], table_sizes) == seats)
    if len(recent) >= MIN_SEATINGS_FOR_RATE:
        span = max(now - recent[0], 15 * 60)
        # A seating right after another counts for the share of BURST_SECONDS between them: a host
        # seating 25 parties in seconds (clearing the list) is one event, not a sudden speed-up.
        count = 1.0 + sum(min(1.0, (b - a) / BURST_SECONDS) for a, b in zip(recent, recent[1:]))
        return max(1.0, span / 60.0 / count)
    dining = DEFAULT_DINING_MINUTES.get(seats, 90.0)
    count = (tables or {}).get(str(seats), DEFAULT_TABLES_PER_CLASS)
    return dining / max(1, count)


def _queue_length_minutes(snapshot: Snapshot, ahead: list[int], party_size: int, table_sizes: list[int],
                          tables: dict[str, int] | None, drops: DropOuts, now: float) -> float:
    seats = table_class(party_size, table_sizes)
    per_seating = minutes_per_seating(snapshot, seats, table_sizes, tables, now)
    survivors = 0.0
    # One turn per party ahead on every add: the constants are worked out once.
    decay, stays, exp = -drops.hazard * per_seating, 1 - drops.no_show_rate, math.exp
    for _ in range(same_class_count(ahead, seats, table_sizes)):
        survivors += exp(decay * survivors) * stays
    # Nobody ahead (the party itself may be in the line already: the guest page asks for its place).
    if survivors == 0 and not ahead and not snapshot.notified_sizes:
        return 0.0
    return (survivors + 0.5) * per_seating


def estimate_wait(snapshot: Snapshot, party_size: int, *, tables: dict[str, int] | None, now: float,
                  position: int | None = None, joins: Joins | None = None, clearing_minutes: float = 0.0) -> Estimate:
    """Estimate for a new party of ``party_size`` (or, with ``position``, for the party already there)."""
    return estimate_waits(snapshot, [party_size], tables=tables, now=now, position=position, joins=joins,
                          clearing_minutes=clearing_minutes)[party_size]


BOOKING_HELD_MINUTES = 15
"""A booking due within this long keeps its table even from a walk-in who could sit down at once (hosts
hold a table for a guest about to arrive); later ones count only if due before the walk-in is seated."""


BOOKING_ROUNDS = 3
"""A booking takes a table before a walk-in when it is due before the walk-in's quote plus the
BOOKING_HELD_MINUTES its table is held: those are put ahead, which lengthens the quote, which may bring
more bookings in; repeated until none is added, at most this many rounds. It used to take every booking
due before the top of the walk-in's range (its 94th percentile, stretched), which put bookings due long
after the walk-in would sit down ahead of it: held out, dinner with bookings went from 1.03 x QL to 0.90
(seeds 1-2) and 0.99 to 0.91 (seeds 3-4) with this rule; 1 round gave 0.84 and 3 gave 0.83 over seeds
1-4 and 101-102 together."""


def estimate_waits(snapshot: Snapshot, sizes: Iterable[int], *, tables: dict[str, int] | None, now: float,
                   position: int | None = None, joins: Joins | None = None,
                   clearing_minutes: float = 0.0) -> dict[int, Estimate]:
    """Estimates for several party sizes from one snapshot (the join page shows 8, the lobby screen 4).

    What does not depend on the party's size (drop-out rates, the dining model, who sits at which table)
    is worked out once; only the replay of the line is per size. ``joins``: the tables the restaurant
    pushes together for parties bigger than every table (``dining.Joins``). ``clearing_minutes``: how long
    a named table being cleared stays unready (the restaurant's setting; see ``dining.live_floor``).

    Bookings still to arrive (``snapshot.reservations``) are checked in at the head of the line, so those
    due before a party would be seated are put ahead of it, and its estimate worked out again (see
    BOOKING_ROUNDS)."""
    ahead = snapshot.waiting_sizes if position is None else snapshot.waiting_sizes[: max(0, position - 1)]
    first = _estimates_behind(snapshot, sizes, ahead, tables, now, joins, clearing_minutes)
    if not snapshot.reservations:
        return first
    bookings = sorted(snapshot.reservations)
    found = {}
    for size, estimate in first.items():
        counted = 0
        for _round in range(BOOKING_ROUNDS):
            horizon = now + (estimate.minutes + BOOKING_HELD_MINUTES) * 60
            due = [booked for start, booked in bookings if start <= horizon]
            if len(due) == counted:
                break
            counted = len(due)
            estimate = _estimates_behind(snapshot, [size], [*due, *ahead], tables, now, joins, clearing_minutes)[size]
        found[size] = estimate
    return found


def _estimates_behind(snapshot: Snapshot, sizes: Iterable[int], ahead: list[int], tables: dict[str, int] | None,
                      now: float, joins: Joins | None, clearing_minutes: float = 0.0) -> dict[int, Estimate]:
    """Estimates for parties of ``sizes`` behind the parties of ``ahead``."""
    if not tables:
        tables = inferred_tables(snapshot, now)
    table_sizes = sorted(int(s) for s, n in (tables or {}).items() if n > 0)
    drops = drop_outs(snapshot)
    counts = {int(s): int(n) for s, n in (tables or {}).items() if n > 0}
    full: dict[int, bool] = {}
    if not table_sizes:
        waits = {size: _queue_length_minutes(snapshot, ahead, size, table_sizes, tables, drops, now) for size in sizes}
        raw = {size: _estimate(wait, wait * 0.7, wait * 1.4, len(ahead)) for size, wait in waits.items()}
    else:
        dining_now = still_dining(snapshot, now)
        dining = DiningModel(snapshot, dining_now or [], now)
        # A big party, or a party with one ahead that could take its tables pushed together, is quoted by
        # the host's habit with such parties, read off who sat where (the pass that places the busy
        # tables, made once for all).
        big = joins is not None and any(table_need(size, table_sizes, joins)[1] > 1
                                        or joined_route(size, table_sizes, joins) for size in sizes)
        routed_ahead = joins is not None and any(joined_route(size, table_sizes, joins) for size in set(ahead))
        placed = list(placements(snapshot, table_sizes, counts, dining, now, joins)) \
            if dining_now is not None or big or routed_ahead else None
        busy = busy_tables(snapshot, table_sizes, counts, dining, dining_now, now, joins, placed)
        holds = (big or routed_ahead) and holds_for_joins(placed or [], table_sizes, joins)
        pushed_share = _pushed_together_share(placed or [], table_sizes, joins) if holds else 0.0
        freeing: dict[int, list[float]] = {}
        if snapshot.tables:
            floor = live_floor(snapshot.tables, counts, busy, snapshot, dining, now, clearing_minutes)
            counts, busy, freeing = floor.counts, floor.busy, floor.freeing
            table_sizes = sorted(counts)
        in_use = {seats: len(busy.get(seats, ())) >= counts[seats] for seats in table_sizes}
        # Every table that could seat the class (its own and the larger ones) is in use.
        full = {seats: all(in_use[t] for t in table_sizes if t >= seats) for seats in table_sizes}
        for seats, (each, count) in (joins or {}).items():  # or the tables it can push together are free
            if full.get(seats) and counts.get(each, 0) - len(busy.get(each, ())) >= count:
                full[seats] = False
        gap, table_gaps = turnover_gap(snapshot), table_turnover_gaps(snapshot)
        raw = {size: _replayed_estimate(snapshot, ahead, size, table_sizes, counts, busy, dining, drops, now, gap,
                                        joins, freeing, table_gaps, holds, pushed_share) for size in sizes}
    return _calibrated(snapshot, raw, ahead, table_sizes, full, now, joins, clearing_minutes)


def _calibrated(snapshot: Snapshot, raw: dict[int, Estimate], ahead: list[int], table_sizes: list[int],
                full: dict[int, bool], now: float, joins: Joins | None = None,
                clearing_minutes: float = 0.0) -> dict[int, Estimate]:
    """Each model estimate corrected by how the restaurant's recent quotes of its class turned out
    (waitlist.estimate.calibration); never below a few minutes while a party of the class waits ahead
    (or was called) or every table that fits is in use. A party at joined tables is judged with the
    other joined parties (their waits are longer than those of one table of the same size)."""
    # Every add pays this: each distinct size in line is classed once, and with no records yet (a new
    # restaurant) the prior needs no key.
    ahead_sizes = Counter(ahead)
    called = set(snapshot.notified_sizes)
    late_now = calibration.overdue(snapshot.head, now)
    out = {}
    for size, model in raw.items():
        need = table_need(size, table_sizes, joins)
        seats = need[0]
        fix = _correction(snapshot.quoted, late_now, table_sizes, need, now, joins) \
            if snapshot.quoted or late_now else _PRIOR
        same = sum(n for s, n in ahead_sizes.items() if table_need(s, table_sizes, joins)[0] == seats)
        busy = (same > 0 or full.get(seats, False) or any(table_need(s, table_sizes, joins)[0] == seats for s in called)
                or not _free_table_fits(snapshot, size, now, clearing_minutes))
        minutes, low, high = calibration.corrected(model.raw, model.parties_ahead, same, fix, busy, MAX_MINUTES)
        out[size] = Estimate(minutes, low, high, model.parties_ahead, raw=round(model.raw, 1), same_ahead=same,
                             stretch=fix.stretch, lean=fix.lean)
    return out


def _replayed_estimate(snapshot: Snapshot, ahead: list[int], party_size: int, table_sizes: list[int],
                       counts: dict[int, int], busy: dict[int, list[tuple[float, float]]], dining: DiningModel,
                       drops: DropOuts, now: float, gap: float = 0.0, joins: Joins | None = None,
                       freeing: dict[int, list[float]] | None = None,
                       table_gaps: Mapping[int, float] | None = None, holds: bool = False,
                       pushed_share: float = 0.0) -> Estimate:
    """The model's estimate for a party of ``party_size`` behind ``ahead`` (and the parties called), from
    replays of the line; ``holds``: the host serves parties at pushed-together tables first
    (``holds_for_joins``), so such a party waits behind those ahead only, and a party waiting for one of
    those tables waits, in ``pushed_share`` of the replays, for the big parties ahead that could also
    have a table of their own to take two of its tables."""
    called = list(snapshot.notified_sizes)
    line = [*called, *ahead, party_size]

    def replayed(parties: list[int], sizes: list[int]) -> list[float]:
        """The replays of ``parties`` (the quoted one last) at the tables of ``sizes``."""
        upper_arrivals = arrivals_per_minute(snapshot, sizes, party_size, now, joins)
        return replay_line(parties, len(parties) - 1, sizes, counts, busy, dining, drops, now, upper_arrivals, gap,
                           joins, freeing, table_gaps)

    route = joined_route(party_size, table_sizes, joins)
    joined = table_need(party_size, table_sizes, joins)[1] > 1
    samples = replayed(_held_first(called, ahead, party_size, table_sizes, joins) if holds and joined else line,
                       table_sizes)
    if route:  # its own table or tables pushed together, whichever frees first: the sooner in each replay
        # Without the tables of the join's size and bigger, the parties too big for the join are left out
        # too (they are not waiting for those tables, and would otherwise read as needing the join).
        smaller = [s for s in table_sizes if s < route]
        fits = [s for s in called if s <= route], [s for s in ahead if s <= route]
        pushed_line = _held_first(*fits, party_size, smaller, joins) if holds else [*fits[0], *fits[1], party_size]
        samples = [min(a, b) for a, b in zip(samples, replayed(pushed_line, smaller))]
    elif holds and pushed_share > 0 and not joined:
        # Big parties ahead with two ways to a table (the 8-top, or two of this party's tables pushed
        # together) take the pushed-together way about as often as they lately did, and then before it.
        seats = table_need(party_size, table_sizes, joins)[0]
        tops = {r for size in set(ahead) if (r := joined_route(size, table_sizes, joins)) and joins
                and joins[r][0] == seats}
        if tops:
            top = min(tops)
            smaller = [s for s in table_sizes if s < top]
            pushed = replayed([*(s for s in called if s <= top), *(s for s in ahead if s <= top), party_size], smaller)
            # The replays' draws do not depend on their order, so the first share of them is a fair pick.
            samples = [b if (k + 0.5) / len(samples) < pushed_share else a
                       for k, (a, b) in enumerate(zip(samples, pushed))]
    samples.sort()
    rule = queue_rule_minutes(snapshot, ahead, party_size, table_sizes, counts, dining, now, joins)
    seats = table_need(party_size, table_sizes, joins)[0]
    # With two ways to a table the wait hangs on which frees first, which the rule cannot know.
    weight = QUEUE_WEIGHT if counts[seats] > FEW_TABLES and not route else QUEUE_WEIGHT_FEW_TABLES
    low, high = (calibrated_quote(_quantile(samples, q), rule, weight) for q in RANGE_QUANTILES)
    return _estimate(calibrated_quote(_quantile(samples, QUOTE_QUANTILE), rule, weight), low, high, len(ahead))


def _pushed_together_share(placed: list[Placement], table_sizes: list[int], joins: Joins | None) -> float:
    """Of the recent parties with two ways to a table who waited, the share seated at tables pushed
    together."""
    routed = [p for p in placed if p.waited and joined_route(p.size, table_sizes, joins)]
    return sum(p.tables > 1 for p in routed) / len(routed) if routed else 0.0


def _held_first(called: list[int], ahead: list[int], party_size: int, table_sizes: list[int],
                joins: Joins | None) -> list[int]:
    """The line a party at pushed-together tables waits behind when the host holds tables for such
    parties (``holds_for_joins``): the called, and those ahead needing the same tables pushed together or
    another class; the parties waiting for a single one of its tables do not come before it."""
    seats = table_need(party_size, table_sizes, joins)[0]
    waits_for_one = {size for size in set(ahead) if table_need(size, table_sizes, joins) == (seats, 1)}  # once
    return [*called, *(size for size in ahead if size not in waits_for_one), party_size]


def queue_rule_minutes(snapshot: Snapshot, ahead: list[int], party_size: int, table_sizes: list[int],
                        counts: dict[int, int], dining: DiningModel, now: float, joins: Joins | None = None) -> float:
    """Ibrahim & Whitt's queue-length predictor per table class: (parties of the class ahead x the share
    that stays + 1) x the class's mean dining time / its tables. The share that stays is measured over
    the span of the recent seatings, like the drop-out rates. A party at joined tables counts as the
    tables it needs."""
    seats, own_tables = table_need(party_size, table_sizes, joins)
    same = same_class_count(ahead, seats, table_sizes, joins)
    since = min((seated_at for seated_at, _s, _j in snapshot.seatings), default=-math.inf)
    waited = sum(1 for seated_at, _s, joined_at in snapshot.seatings if seated_at > joined_at)
    dropped = sum(1 for left_at, *_rest in snapshot.drops if left_at >= since)
    stays = 1.0 - (dropped + 1.0) / (dropped + waited + 10.0)
    # The class's own recent turns (parties of 5-8 share one 8-top in a cafe), shrunk towards the model.
    of_class = {size for size in {size for _s, _c, size in snapshot.turns}
                if table_need(size, table_sizes, joins)[0] == seats}  # each size classed once
    turns = [(completed_at - seated_at) / 60.0 for seated_at, completed_at, size in snapshot.turns
             if size in of_class and 60 * MIN_TURN_MINUTES <= completed_at - seated_at < 36000]
    mean = (sum(turns) + SHRINK_TURNS * dining.mean(seats, now)) / (len(turns) + SHRINK_TURNS)
    return (same * stays + own_tables) * mean / counts[seats]


def calibrated_quote(replayed: float, rule: float, weight: float = QUEUE_WEIGHT) -> float:
    """Minutes to quote from the replays' wait and the queue-length rule's (see QUOTE_POWER)."""
    if replayed >= MAX_MINUTES:
        return MAX_MINUTES  # not seated within the horizon of the replay: quote the cap
    if replayed <= 0:
        return 0.0  # a table is free for the party now
    blend = (1.0 - weight) * replayed + weight * rule
    return QUOTE_OFFSET_MINUTES + QUOTE_SCALE * blend ** QUOTE_POWER


def arrivals_per_minute(snapshot: Snapshot, table_sizes: list[int], party_size: int, now: float,
                        joins: Joins | None = None) -> float:
    """Parties per minute that joined in the last hour needing the class just above this party's."""
    own = table_sizes.index(table_need(party_size, table_sizes, joins)[0])
    if own + 1 >= len(table_sizes):
        return 0.0
    upper = table_sizes[own + 1]
    sizes = {size for _s, size, _j in snapshot.seatings} | {size for _l, size, *_rest in snapshot.drops}
    needing = {size for size in sizes if table_need(size, table_sizes, joins)[0] == upper}  # each size once
    joined = [j for _s, size, j in snapshot.seatings if size in needing]
    joined += [j for _l, size, j, _f, _t in snapshot.drops if size in needing]
    return sum(1 for j in joined if 0 <= now - j <= ARRIVAL_WINDOW_SECONDS) / (ARRIVAL_WINDOW_SECONDS / 60)


def _free_table_fits(snapshot: Snapshot, size: int, now: float, clearing_minutes: float) -> bool:
    """With named tables (their live states in the snapshot), whether one that seats the party is free
    now: a table held for a called party, still being cleared or blocked is not. True without named
    tables."""
    if not snapshot.tables:
        return True
    return any(t.seats >= size and (t.state == "free" or t.state == "clearing" and t.ready_at(clearing_minutes) <= now)
               for t in snapshot.tables)


_CORRECTIONS: dict[tuple[object, ...], calibration.Correction] = {}
_PRIOR = calibration.Correction()
CORRECTIONS_KEPT = 512


def _correction(quoted: list[Quoted], late_now: list[calibration.Record], table_sizes: list[int],
                need: tuple[int, int], now: float, joins: Joins | None = None) -> calibration.Correction:
    """The class's correction, remembered until the records change: every estimate and every add asks for
    it, and it is the same for all of them between two seatings (it depends on ``now`` only through its
    hour band and the parties at the head of the line already waiting past their quote, ``late_now``).
    Keyed by the newest and oldest record and their count, which a seating always changes, and by those
    parties' waits so far (in steps of calibration.OVERDUE_STEP minutes); bounded to CORRECTIONS_KEPT
    entries per process."""
    key = (quoted[0] if quoted else None, quoted[-1] if quoted else None, len(quoted), tuple(table_sizes),
           tuple(sorted((joins or {}).items())), need, calibration.band(now),
           tuple((r.joined_at, r.waited) for r in late_now))
    fix = _CORRECTIONS.get(key)
    if fix is None:
        history = calibration.records(quoted, late_now)
        fix = calibration.correction(history, [table_need(r.size, table_sizes, joins) == need for r in history], now)
        if len(_CORRECTIONS) >= CORRECTIONS_KEPT:
            _CORRECTIONS.pop(next(iter(_CORRECTIONS)))
        _CORRECTIONS[key] = fix
    return fix


SETTLE_MINUTES = 10.0
"""How long a party's quote keeps half the say in what its guest page shows (see ``settled``)."""


def settled(fresh: Estimate, minutes: int | None, low: int | None, high: int | None, joined_at: float,
            now: float) -> Estimate:
    """What a waiting party is shown: the fresh estimate for its place, blended with what is left of the
    quote it was given at the join, the fresh one's share growing as elapsed / (elapsed + SETTLE_MINUTES).
    At the join it is exactly the quote (the host's row, the joined text and the guest page agree), and
    one noisy event moves it only part of the way."""
    if minutes is None:
        return fresh
    elapsed = max(0.0, now - joined_at) / 60.0
    share = elapsed / (elapsed + SETTLE_MINUTES)

    def mix(given: int | None, new: int) -> float:
        left = max(0.0, (minutes if given is None else given) - elapsed)
        return share * new + (1.0 - share) * left

    # Never under the fresh estimate's floor while a same-class party is ahead (calibration.BUSY_FLOOR_MINUTES).
    shown = max(round(mix(minutes, fresh.minutes)), min(fresh.minutes, calibration.BUSY_FLOOR_MINUTES))
    return Estimate(shown, min(shown, round(mix(low, fresh.low))), max(shown, round(mix(high, fresh.high))),
                    fresh.parties_ahead, fresh.raw, fresh.same_ahead)


def _quantile(ordered: list[float], q: float) -> float:
    position = q * (len(ordered) - 1)
    i = int(position)
    if i + 1 >= len(ordered):
        return ordered[-1]
    return ordered[i] + (ordered[i + 1] - ordered[i]) * (position - i)


def _estimate(minutes: float, low: float, high: float, parties_ahead: int) -> Estimate:
    """Whole minutes, none negative, none beyond MAX_MINUTES, and low <= minutes <= high."""
    def clamp(value: float) -> float:
        return min(max(0.0, value), MAX_MINUTES) if math.isfinite(value) else MAX_MINUTES

    minutes = clamp(minutes)
    return Estimate(
        minutes=round(minutes),
        low=round(min(clamp(low), minutes)),
        high=round(max(clamp(high), minutes)),
        parties_ahead=parties_ahead,
        raw=minutes,
    )
