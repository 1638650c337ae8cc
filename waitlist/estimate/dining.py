"""What the restaurant's own data says: dining times by party size and hour of the week, how often
parties ahead give up or do not show, and which tables are busy now.

Each part is learned from the estimator's ``Snapshot`` (the recent seatings, turns and drop-outs and the
hour-of-week history) and shrunk towards a default where the data is thin.
"""
from __future__ import annotations

import bisect
import heapq
import math
from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass

from waitlist.estimate.snapshot import Snapshot, SnapshotTable

DEFAULT_DINING_MINUTES = {2: 45.0, 4: 60.0, 6: 75.0, 8: 90.0}
DEFAULT_TABLE_CLASSES = sorted(DEFAULT_DINING_MINUTES)
DINING_CV = 0.35
"""Spread of one party's dining time around its mean (lognormal); restaurants report 0.3-0.4."""
SHRINK_TURNS = 5.0
"""How many observed turns it takes for one level of history to outweigh the level above it."""
PRIOR_PATIENCE_MINUTES = 120.0
PRIOR_EXPOSURE_MINUTES = 240.0
"""Before any drop-out was seen: parties give up after two hours on average, worth four hours of data."""
PRIOR_NO_SHOW_RATE = 0.05
PRIOR_CALLED = 20.0
COMPLETES_RECENT_SECONDS = 4 * 3600
"""Hosts "record completions" unless a party has been seated this long with none recorded since."""
MIN_TURN_MINUTES = 5.0
"""A turn shorter than this is a host clearing the list in bulk (seated and completed within seconds),
not a meal: it frees its table but says nothing about dining times."""
STALE_FACTOR = 3.0
"""A seating older than this many mean dining times was surely finished and not recorded."""


def table_class(party_size: int, table_sizes: list[int]) -> int:
    """The smallest table that seats the party; without an inventory, the usual 2/4/6/8+ tops."""
    sizes = table_sizes or DEFAULT_TABLE_CLASSES
    for seats in sizes:
        if party_size <= seats:
            return seats
    return sizes[-1]


Joins = Mapping[int, tuple[int, int]]
"""Tables pushed together for big parties: seats of the join -> (seats of each of its tables, how many),
e.g. {8: (4, 2)} for two 4-tops seating up to 8. For parties bigger than every table it is their table
(``table_need``); beside a table as big (an 8-top), the other way to one (``joined_route``)."""


def table_need(party_size: int, table_sizes: list[int], joins: Joins | None = None) -> tuple[int, int]:
    """(table class, tables of it) a party needs: one table, the smallest that seats it, or, when the
    party is bigger than every table and the restaurant pushes tables together, the smallest join that
    seats it (so a party of 8 at two 4-tops waits for 4-tops, and keeps two of them busy). A join of
    tables the inventory lacks (the setting names 4-tops, the named floor or the log has none) is left
    out."""
    if joins and table_sizes and party_size > table_sizes[-1]:
        usable = sorted(seats for seats, (each, _count) in joins.items() if each in table_sizes)
        for seats in usable:
            if party_size <= seats:
                return joins[seats]
        if usable:
            return joins[usable[-1]]
    return table_class(party_size, table_sizes), 1


def joined_route(party_size: int, table_sizes: list[int], joins: Joins | None = None) -> int | None:
    """The seats of a join that is the party's other way to a table, or None. Where the restaurant has
    tables as big as a join too (a single 8-top, and two 4-tops pushed together for the 7-8s when it is
    taken), a party whose own table is of that size sits at whichever frees first: the replay runs it
    both ways (``table_need`` gives its own table; with the tables of that size and bigger left out, the
    join)."""
    if not joins or not table_sizes or party_size > table_sizes[-1]:
        return None
    seats = table_class(party_size, table_sizes)
    pieces = joins.get(seats)
    return seats if pieces and pieces[0] < party_size and pieces[0] in table_sizes else None


def same_class_count(sizes: list[int], seats: int, table_sizes: list[int], joins: Joins | None = None) -> int:
    """How many tables of ``seats`` the parties of ``sizes`` need (a party at joined tables needs each).
    A line holds a few distinct sizes many times over, and every add reads the whole line, so each
    distinct size is classed once."""
    total = 0
    for size, count in Counter(sizes).items():
        own, tables = table_need(size, table_sizes, joins)
        if own == seats:
            total += count * tables
    return total


def size_bucket(party_size: int) -> int:
    """Dining times are learned per party size bucket (1-2, 3-4, 5-6, 7+), whatever the tables."""
    return table_class(party_size, [])


def hour_of_week(ts: float) -> int:
    return int(ts // 3600) % 168


def normal_cdf(z: float) -> float:
    return 0.5 * math.erfc(-z / math.sqrt(2.0))


DINING_SIGMA = math.sqrt(math.log(1 + DINING_CV ** 2))


def remaining_fraction(elapsed_fraction: float) -> float:
    """E[D - x | D > x] for a lognormal dining time D of mean 1, x in mean dining times."""
    if elapsed_fraction <= 0:
        return 1.0
    mu = -DINING_SIGMA * DINING_SIGMA / 2
    log_x = math.log(elapsed_fraction)
    survive = normal_cdf((mu - log_x) / DINING_SIGMA)
    if survive < 1e-9:
        return 0.05
    partial = normal_cdf((mu + DINING_SIGMA * DINING_SIGMA - log_x) / DINING_SIGMA)
    return max(0.05, partial / survive - elapsed_fraction)


class DiningModel:
    """Mean dining minutes by party size and seating time, from the restaurant's own data."""

    def __init__(self, snapshot: Snapshot, still_dining: Sequence[tuple[float, int]] = (), now: float = 0.0):
        """``still_dining``: (seated_at, size) of parties seated and not yet completed, when hosts record
        completions. A table still busy after longer than the mean says the mean is too short (on a first
        evening nothing has finished yet), so each such table counts as a turn of its expected length.
        In the history of the hour it was seated, every table still busy counts so: an hour whose parties
        are still at table has only its quickest finishers recorded, and alone they put its mean 5-15%
        short (measured on the simulated days)."""
        self.history = snapshot.history
        sums: dict[int, list[float]] = {}
        # Minutes dined against the defaults' minutes for the same parties (a prior of five 3-4 turns).
        dined = by_default = SHRINK_TURNS * DEFAULT_DINING_MINUTES[4]
        for seated_at, completed_at, size in snapshot.turns:
            minutes = (completed_at - seated_at) / 60.0
            if MIN_TURN_MINUTES <= minutes < 600:
                entry = sums.setdefault(size_bucket(size), [0.0, 0.0])
                entry[0] += 1
                entry[1] += minutes
                dined += minutes
                by_default += DEFAULT_DINING_MINUTES[size_bucket(size)]
        # Parties dine longer or shorter than the defaults at every size alike (a cafe, a dinner house):
        # a size seldom seen is shrunk towards its default scaled by how the others compare to theirs.
        self.defaults = {bucket: minutes * dined / by_default for bucket, minutes in DEFAULT_DINING_MINUTES.items()}
        first = {bucket: (total + SHRINK_TURNS * self.defaults[bucket]) / (n + SHRINK_TURNS)
                 for bucket, (n, total) in sums.items()}
        censored: dict[int, dict[int, list[float]]] = {}
        usual: dict[tuple[int, int], float] = {}  # many parties still dining share a bucket and an hour
        for seated_at, size in still_dining:
            bucket = size_bucket(size)
            # Its expected length is what its hour of the day usually runs: the recent turns alone are, at
            # dinner, mostly lunch's. A kitchen slow every evening was read as lunch-length meals: the
            # slowdown world of held-out seeds 3-4 was 26% late, 24% this way (no world got worse by more
            # than a point of lateness or 0.01 x QL).
            key = (bucket, hour_of_week(seated_at))
            if key not in usual:
                usual[key] = self._hour_of_day_mean(bucket, key[1], first.get(bucket, self.defaults[bucket]))
            mean = usual[key]
            elapsed = (now - seated_at) / 60.0
            if not 0 <= elapsed < 600:
                continue
            expected_minutes = elapsed + mean * remaining_fraction(elapsed / mean)
            hour = censored.setdefault(hour_of_week(seated_at), {}).setdefault(bucket, [0.0, 0.0])
            hour[0] += 1
            hour[1] += expected_minutes
            if mean < elapsed:
                entry = sums.setdefault(bucket, [0.0, 0.0])
                entry[0] += 1
                entry[1] += expected_minutes
        self.recent = sums
        self.censored = censored
        self._cache: dict[tuple[int, int], float] = {}

    def _by_day(self, bucket: int, how: int, censored: dict[int, dict[int, list[float]]]) -> list[tuple[float, float]]:
        """(turns, minutes dined) of the bucket at this hour of the day on each day of the week, this
        hour of the week first; ``censored`` adds the tables still dining counted by the hour seated."""
        i = DEFAULT_TABLE_CLASSES.index(bucket)
        days = []
        for day in range(7):
            hour = self.history.get((how + 24 * day) % 168)
            n, total = hour.dining(i) if hour else (0.0, 0.0)
            dining = censored.get((how + 24 * day) % 168, {}).get(bucket)
            days.append((n + dining[0], total + dining[1]) if dining else (n, total))
        return days

    def _hour_of_day_mean(self, bucket: int, how: int, prior: float) -> float:
        """The bucket's mean at this hour of the day on every day of the history, shrunk towards ``prior``
        (finished turns only)."""
        return _shrunk_mean(self._by_day(bucket, how, {}), prior)

    def mean(self, party_size: int, seated_at: float) -> float:
        bucket = size_bucket(party_size)
        how = hour_of_week(seated_at)
        key = (bucket, how)
        cached = self._cache.get(key)
        if cached is not None:
            return cached
        n, total = self.recent.get(bucket, (0.0, 0.0))
        prior = (total + SHRINK_TURNS * self.defaults[bucket]) / (n + SHRINK_TURNS)
        days = self._by_day(bucket, how, self.censored)
        value = _shrunk_mean(days[:1], _shrunk_mean(days, prior))  # this hour of the week, then of the day
        self._cache[key] = value
        return value

    def remaining(self, party_size: int, seated_at: float, now: float) -> float:
        mean = self.mean(party_size, seated_at)
        return mean * remaining_fraction((now - seated_at) / 60.0 / mean)


def _shrunk_mean(counts: Sequence[tuple[float, float]], prior: float) -> float:
    """The mean of (turns, minutes dined) counts, shrunk towards ``prior`` as if it had SHRINK_TURNS turns."""
    return (sum(s for _n, s in counts) + SHRINK_TURNS * prior) / (sum(n for n, _s in counts) + SHRINK_TURNS)


@dataclass(frozen=True)
class DropOuts:
    """How parties ahead leave without being seated: giving up while they wait (a hazard per minute
    waited) and not showing up when called (a share of called parties, whose table then sits held)."""

    hazard: float
    no_show_rate: float


def drop_outs(snapshot: Snapshot) -> DropOuts:
    exposure = PRIOR_EXPOSURE_MINUTES
    cancels = PRIOR_EXPOSURE_MINUTES / PRIOR_PATIENCE_MINUTES
    called, no_shows = PRIOR_CALLED, PRIOR_CALLED * PRIOR_NO_SHOW_RATE
    for seated_at, _size, joined_at in snapshot.seatings:
        exposure += max(0.0, seated_at - joined_at) / 60.0
        if seated_at - joined_at > 60:
            called += 1
    # The lists keep the last RECENT_MAXLEN entries each, so drop-outs reach much further back than
    # seatings: count only those in the span the seatings cover, or the rates would creep up day by day.
    since = min((seated_at for seated_at, _s, _j in snapshot.seatings), default=-math.inf)
    for left_at, _size, joined_at, source, target in snapshot.drops:
        if left_at < since:
            continue
        exposure += max(0.0, left_at - joined_at) / 60.0
        if target == "no_show" or (not target and source == "notified"):
            called += 1
            no_shows += 1
        else:
            cancels += 1
    return DropOuts(hazard=cancels / exposure, no_show_rate=no_shows / called)


GAP_SAMPLES = 40
MAX_GAP_MINUTES = 20.0


def turnover_gap(snapshot: Snapshot) -> float:
    """Minutes from a table freeing to the next party sitting down (clearing it, and the called party's
    walk to the stand), learned from the log: for each recent party seated after waiting, the time since
    the last completion before its seating (a party that waited got the first table to free). The median,
    so a no-show's held table or a quiet spell does not count; 0 when hosts record no completions."""
    ends = sorted(completed_at for _s, completed_at, _z in snapshot.turns)
    if not ends:
        return 0.0
    gaps = []
    for seated_at, _size, joined_at in snapshot.seatings[:GAP_SAMPLES * 2]:
        if seated_at - joined_at < 60:
            continue
        i = bisect.bisect_right(ends, seated_at)
        if i and ends[i - 1] >= joined_at:
            gaps.append(min(MAX_GAP_MINUTES, (seated_at - ends[i - 1]) / 60.0))
        if len(gaps) >= GAP_SAMPLES:
            break
    if len(gaps) < 5:
        return 0.0
    gaps.sort()
    return gaps[len(gaps) // 2]


def table_turnover_gaps(snapshot: Snapshot) -> dict[int, float]:
    """The turnover gap of each table size, where the restaurant names its tables: the median of the
    newest GAP_SAMPLES gaps measured at tables of that size (``Snapshot.table_gaps``: from the table's
    last party leaving to the next sitting down there, for a party already waiting as it left). Measured
    at the very table, unlike ``turnover_gap``, which can only take the last completion anywhere. Sizes
    with fewer than 5 measured are left out (``turnover_gap`` stands for them)."""
    by_size: dict[int, list[float]] = {}
    for seats, minutes in snapshot.table_gaps:  # newest first
        kept = by_size.setdefault(seats, [])
        if len(kept) < GAP_SAMPLES:
            kept.append(min(MAX_GAP_MINUTES, minutes))
    return {seats: sorted(gaps)[len(gaps) // 2] for seats, gaps in by_size.items() if len(gaps) >= 5}


AT_ONCE_SECONDS = 60
"""A party seated within a minute of joining found its tables free: it says nothing of a host's habits."""


def holds_for_joins(placements_made: Sequence[Placement], table_sizes: list[int], joins: Joins | None) -> bool:
    """Whether the host holds tables for parties at pushed-together tables, read off the log: of the recent
    such parties who joined while a party needing one of those tables was waiting, most were seated before
    it. A host who holds keeps each table that frees for the big party until it has enough, whatever its
    place in line; one who does not seats it when enough happen to be free at once, which is when nobody
    waits for one of them or when another big party leaves tables pushed together (kept together for the
    next: that serves big parties first too, and counts). With no such party seen, or as many each way,
    it is taken not to (line order). Who sat at pushed-together tables is ``placements``' (a party that
    could also take a table of its own took the join only when every such table was taken)."""
    if not joins or not table_sizes:
        return False
    needs = {placed.size: table_need(placed.size, table_sizes, joins) for placed in placements_made}  # each once
    singles: dict[int, list[tuple[float, float]]] = {}  # class -> (joined, seated) of single parties who waited
    for placed in placements_made:
        seats, tables = needs[placed.size]
        if tables == 1 and placed.seated_at > placed.joined_at and not joined_route(placed.size, table_sizes, joins):
            singles.setdefault(seats, []).append((placed.joined_at, placed.seated_at))
    held = seen = 0
    for placed in placements_made:
        if placed.tables < 2 or not placed.waited:
            continue
        before = [seated for came, seated in singles.get(placed.seats, ()) if came < placed.joined_at < seated]
        if before:
            seen += 1
            held += any(seated > placed.seated_at for seated in before)
    return 2 * held > seen


def completes_recorded(snapshot: Snapshot, now: float) -> bool:
    """Hosts record completions: no party seated since the newest one recorded has been at table longer
    than COMPLETES_RECENT_SECONDS. Counted from the first seating after it, not from the completion
    itself: the morning after a busy night, yesterday's last completion is hours old while today's first
    parties are still at their first meal (read as "not recorded", the first hour of every day of a
    restaurant without an inventory was quoted by the fallback rule, its tables unread)."""
    newest = max((completed_at for _s, completed_at, _z in snapshot.turns), default=None)
    if newest is None:
        return False
    # Nobody seated since: nothing is at table unrecorded (a restaurant opening in the morning).
    since = min((seated_at for seated_at, _z, _j in snapshot.seatings if newest < seated_at <= now), default=now)
    return now - since <= COMPLETES_RECENT_SECONDS


def still_dining(snapshot: Snapshot, now: float) -> list[tuple[float, int]] | None:
    """(seated_at, size) of seatings with no completion recorded, newest first; None when hosts do not
    record completions (then nothing tells a finished table from a busy one)."""
    if not completes_recorded(snapshot, now):
        return None
    done = Counter((seated_at, size) for seated_at, _c, size in snapshot.turns)
    out = []
    for seated_at, size, _joined in snapshot.seatings:  # newest first
        if done[(seated_at, size)]:
            done[(seated_at, size)] -= 1
        elif seated_at <= now:
            out.append((seated_at, size))
    return out


def busy_tables(snapshot: Snapshot, table_sizes: list[int], counts: dict[int, int], dining: DiningModel,
                dining_now: list[tuple[float, int]] | None, now: float, joins: Joins | None = None,
                placed: Sequence[Placement] | None = None) -> dict[int, list[tuple[float, float]]]:
    """(mean dining minutes, minutes seated so far) of each busy table, as a best guess of who sits where.

    When hosts record completions (``dining_now`` given), ``placements`` knows who sits where (``placed``:
    them, when already made). When they do not, nothing tells a finished table from a busy one: the most
    recent seatings of each class that are younger than two mean dining times are taken to be at its
    tables."""
    if dining_now is not None:
        if placed is None:
            placed = list(placements(snapshot, table_sizes, counts, dining, now, joins))
        return tables_in_use(placed, table_sizes, counts, dining, now)
    by_class: dict[int, list[tuple[float, int]]] = {seats: [] for seats in table_sizes}
    for seated_at, size, _joined in snapshot.seatings:
        if seated_at <= now and now - seated_at <= 2.0 * 60 * dining.mean(size, seated_at):
            seats, tables = table_need(size, table_sizes, joins)
            by_class[seats] += [(seated_at, size)] * tables
    return {seats: [(dining.mean(size, seated_at), (now - seated_at) / 60.0)
                    for seated_at, size in sorted(by_class[seats], reverse=True)[: counts[seats]]]
            for seats in table_sizes}


@dataclass(frozen=True)
class Placement:
    """Where the host's rule put one recent seating (``placements``)."""

    seated_at: float
    size: int
    seats: int
    """The table class it sat at."""
    tables: int
    """How many tables of it: more than one for tables pushed together."""
    gone: bool
    """It has left (its completion is recorded, or it is stale) by now."""
    joined_at: float
    """When its party joined the line."""

    @property
    def waited(self) -> bool:
        """Seated a minute or more after joining: it waited for its tables, so its seating can tell a
        host's habits (AT_ONCE_SECONDS)."""
        return self.seated_at - self.joined_at >= AT_ONCE_SECONDS


def placements(snapshot: Snapshot, table_sizes: list[int], counts: dict[int, int], dining: DiningModel,
               now: float, joins: Joins | None = None) -> Iterator[Placement]:
    """Who sat at which class of table: the recent seatings and turns are replayed in time order with the
    host's rule, each party taking the smallest free table that seats it.

    A party of 2 seated while every 2-top was taken sits at a 4-top and frees a 4-top when it leaves; which
    parties those are follows from when each was seated and when the others left, so no guess is needed.
    A party at joined tables (``joins``) keeps each of them busy; one that could take its own table or a
    join (``joined_route``) takes the join when every table of its own that seats it is taken. A seating
    older than STALE_FACTOR mean dining times with no completion counts as finished then."""
    ends: dict[tuple[float, int], list[float]] = {}
    for seated_at, completed_at, size in snapshot.turns:
        ends.setdefault((seated_at, size), []).append(completed_at)
    in_use = dict.fromkeys(table_sizes, 0)
    leaving: list[tuple[float, int]] = []  # (leaves at, table class), a heap
    need_of = {size: table_need(size, table_sizes, joins) for _s, size, _j in snapshot.seatings}  # each size once
    pair_of = {size: joins[route] for size in need_of if joins and (route := joined_route(size, table_sizes, joins))}
    for seated_at, size, joined_at in sorted(seating for seating in snapshot.seatings if seating[0] <= now):
        while leaving and leaving[0][0] <= seated_at:
            in_use[heapq.heappop(leaving)[1]] -= 1
        own, tables = need_of[size]
        seats = next((t for t in table_sizes if t >= own and in_use[t] + tables <= counts[t]), 0)
        if not seats:  # every table that seats it taken: tables pushed together (``joined_route``), if free
            each, count = pair_of.get(size, (own, tables))
            seats, tables = (each, count) if in_use[each] + count <= counts[each] else (own, tables)
        in_use[seats] += tables
        done = ends.get((seated_at, size))
        if done:
            leaves: float | None = done.pop()
        else:
            stale_at = seated_at + STALE_FACTOR * 60 * dining.mean(size, seated_at)
            leaves = stale_at if now > stale_at else None
        if leaves is not None:
            for _ in range(tables):
                heapq.heappush(leaving, (leaves, seats))
        yield Placement(seated_at, size, seats, tables, gone=leaves is not None, joined_at=joined_at)


def tables_in_use(placements_made: Sequence[Placement], table_sizes: list[int], counts: dict[int, int],
                  dining: DiningModel, now: float) -> dict[int, list[tuple[float, float]]]:
    """(mean dining minutes, minutes seated so far) of each busy table, by class, from ``placements``."""
    busy: dict[int, list[tuple[float, float]]] = {seats: [] for seats in table_sizes}
    for placed in placements_made:
        if not placed.gone:
            busy[placed.seats] += [(dining.mean(placed.size, placed.seated_at),
                                    (now - placed.seated_at) / 60.0)] * placed.tables
    # Seatings from before the window can make the replay put too many parties at one class: keep the newest.
    return {seats: sorted(tables, key=lambda t: t[1])[: counts[seats]] for seats, tables in busy.items()}


@dataclass(frozen=True)
class Floor:
    """The tables as the replay takes them, once the floor's live states are read (``live_floor``)."""

    counts: dict[int, int]
    """Tables by seats that can take a party (blocked ones left out)."""
    busy: dict[int, list[tuple[float, float]]]
    """(mean dining minutes, minutes seated so far) of each busy table, by seats."""
    freeing: dict[int, list[float]]
    """Minutes until each table being cleared is ready, by seats."""


def live_floor(tables: Sequence[SnapshotTable], counts: dict[int, int], busy: dict[int, list[tuple[float, float]]],
               snapshot: Snapshot, dining: DiningModel, now: float, clearing_minutes: float) -> Floor:
    """The replay's tables corrected by the named tables' live states, where the restaurant tracks them.

    A blocked table seats nobody. A table being cleared is ready ``clearing_minutes`` after its party
    left. Where hosts seat parties at tables, the occupied tables are who sits where, exactly: the party
    at the 6-top is at the 6-top, which the log's replay of the host's rule (``busy``) can only guess.
    They replace that guess when they account for at least as many busy tables as it does; a host who
    seats some parties without a table leaves the floor short of them, and the guess stands."""
    blocked = Counter(t.seats for t in tables if t.state == "blocked")
    left = {seats: count - blocked[seats] for seats, count in counts.items()}
    if not any(left.values()):  # every table blocked: the floor says nothing to quote by
        left = dict(counts)
    sizes = {seated_at: size for seated_at, size, _joined in snapshot.seatings}
    occupied: dict[int, list[tuple[float, float]]] = {seats: [] for seats in counts}
    freeing: dict[int, list[float]] = {seats: [] for seats in counts}
    for table in tables:
        if table.seats not in counts:
            continue
        if table.state == "occupied":
            since = now if table.since is None else min(table.since, now)
            size = sizes.get(since, table.seats)  # the seating and the table share the transition's time
            occupied[table.seats].append((dining.mean(size, since), (now - since) / 60.0))
        elif table.state == "clearing":
            ready = (table.ready_at(clearing_minutes) - now) / 60.0
            if ready > 0:
                freeing[table.seats].append(ready)
    if sum(map(len, occupied.values())) >= sum(map(len, busy.values())):
        busy = occupied
    return Floor(counts={seats: n for seats, n in left.items() if n > 0},
                 busy={seats: sorted(b, key=lambda t: t[1])[: left[seats]] for seats, b in busy.items()
                       if left.get(seats, 0) > 0},
                 freeing={seats: f for seats, f in freeing.items() if left.get(seats, 0) > 0})


MIN_TURNS_TO_INFER = 20
"""Completed turns in the window before the inventory is read off the log (``inferred_tables``)."""
INFERRED_FOR_SECONDS = 600
"""A reading is kept this long at most (a party dining long enough counts as done meanwhile)."""
INFERRED_KEPT = 512
_INFERRED: dict[tuple[object, ...], dict[str, int] | None] = {}


def inferred_tables(snapshot: Snapshot, now: float) -> dict[str, int] | None:
    """Tables by seats read off the log, for a restaurant that gave no inventory, in the usual classes
    of 2/4/6/8-tops. A party needs a table of its class or a bigger one, so the most parties of class k
    or bigger that dined at once is a lower bound on the tables of k seats or more, and it is reached
    whenever those tables were all taken: the 8-tops are the most 7-8s dining at once, the 6-tops the
    most 5-8s less the 8-tops, and so on; the 2-tops are the rest of the most parties dining at once.
    (Counting each class's own peak instead would count a 2 seated at a 4-top as a 2-top, and add up
    peaks of different hours: the cafe's 12 tables read as 17.) A party seated with no completion
    recorded dines until now, or until it is surely done. None when hosts record no completions, or
    too few yet to tell."""
    if len(snapshot.turns) < MIN_TURNS_TO_INFER or not completes_recorded(snapshot, now):
        return None
    # Every add and estimate of such a restaurant asks, and the answer changes only with a seating or a
    # turn (or a party dining long enough to count as done): worked out once for each.
    key = (len(snapshot.seatings), tuple(snapshot.seatings[:1]), tuple(snapshot.seatings[-1:]),
           len(snapshot.turns), tuple(snapshot.turns[:1]), tuple(snapshot.turns[-1:]), int(now // INFERRED_FOR_SECONDS))
    if key not in _INFERRED:
        if len(_INFERRED) >= INFERRED_KEPT:
            _INFERRED.pop(next(iter(_INFERRED)))
        _INFERRED[key] = _tables_from_log(snapshot, now)
    return _INFERRED[key]


def _tables_from_log(snapshot: Snapshot, now: float) -> dict[str, int] | None:
    ends: dict[tuple[float, int], list[float]] = {}
    for seated_at, completed_at, size in snapshot.turns:
        ends.setdefault((seated_at, size), []).append(completed_at)
    classes = DEFAULT_TABLE_CLASSES
    changes: list[tuple[float, int, int]] = []  # (when, -1 left / +1 seated, index of the class)
    for seated_at, size, _joined in snapshot.seatings:
        if seated_at > now:
            continue
        done = ends.get((seated_at, size))
        seats = size_bucket(size)
        left = done.pop() if done else min(now, seated_at + STALE_FACTOR * 60 * DEFAULT_DINING_MINUTES[seats])
        changes += [(seated_at, 1, classes.index(seats)), (left, -1, classes.index(seats))]
    dining = [0] * len(classes)
    most = [0] * len(classes)  # most[i]: most parties of class i or bigger dining at once
    for _when, step, i in sorted(changes):  # at a tie, a party leaving frees its table first
        dining[i] += step
        at_least = sum(dining[i + 1:])
        for j in range(i, -1, -1):  # the count of class j or bigger moved for every class j up to i
            at_least += dining[j]
            most[j] = max(most[j], at_least)
    tables = {str(seats): most[i] - (most[i + 1] if i + 1 < len(classes) else 0) for i, seats in enumerate(classes)}
    return {seats: count for seats, count in tables.items() if count > 0} or None
