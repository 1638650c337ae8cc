"""Tables as things: a restaurant's floor, each table's live state, and who a freed table suits.

Plain Python. The store keeps a table's state as (raw state, party, since) and enforces the rules that
must be atomic (a table holds one party, a party sits at one set of joinable tables) in its scripts;
this module says what a floor may look like, how a stored state reads live (a cleared table stays
``clearing`` for the restaurant's ``clearing_minutes``, derived from its timestamp, so no timer runs),
and the routing rule of ``GET .../tables/{name}/next``.
"""
from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from types import MappingProxyType
from typing import Any

from waitlist.domain.errors import InvalidInput
from waitlist.domain.model import SEATING_CHOICES, Party, Restaurant, Status, iso, join_fits, parse_join

NAME_MAX = 12
MOST_TABLES = 200
MOST_JOINED = 8
"""The most tables one party may be seated at (pushed together)."""

FREE, HELD, OCCUPIED, CLEARING, BLOCKED = "free", "held", "occupied", "clearing", "blocked"
STATES = (FREE, HELD, OCCUPIED, CLEARING, BLOCKED)
"""A table's live state: free, held for a called party, occupied, being cleared, blocked by the host."""
CLEARED = "cleared"
"""The stored state of a table cleared at ``since``: live it is ``clearing`` for the restaurant's
clearing_minutes, then ``free``."""
TAKEN = (HELD, OCCUPIED)
"""States in which a table belongs to a party."""

FITS, NEEDS_JOIN, SMALLER_PARTY = "fits", "needs_join", "smaller_party"
REASONS = (FITS, NEEDS_JOIN, SMALLER_PARTY)


@dataclass(frozen=True)
class Table:
    name: str
    seats: int
    min_seats: int = 1
    section: str = "any"
    """One of the seating choices a party may ask for; "any" suits every party."""
    joins_with: tuple[str, ...] = ()
    """Tables that can be pushed together with this one (kept symmetric by ``validate_floor``)."""

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "seats": self.seats, "min_seats": self.min_seats, "section": self.section,
                "joins_with": list(self.joins_with)}

    def suits_seating(self, seating: str) -> bool:
        """A party asking for ``seating`` may sit here: either side saying "any" matches."""
        return seating == "any" or self.section == "any" or seating == self.section


@dataclass(frozen=True)
class TableState:
    """A table with its live state: ``party_id`` is the party holding or occupying it, ``since`` when the
    state began (None for a table free since before anything was recorded)."""

    table: Table
    state: str = FREE
    party_id: str | None = None
    since: float | None = None

    @property
    def name(self) -> str:
        return self.table.name

    def to_dict(self) -> dict[str, Any]:
        return {**self.table.to_dict(), "state": self.state, "party_id": self.party_id, "since": iso(self.since)}


@dataclass(frozen=True)
class Occupant:
    """Who holds or occupies a table, as the floor strip labels it."""

    name: str
    party_size: int
    tables: tuple[str, ...] = ()


@dataclass(frozen=True)
class Suggestion:
    party_id: str
    name: str
    party_size: int
    position: int | None
    reason: str
    join_with: tuple[str, ...] = ()
    """The free neighbours to push together with the table (``needs_join``)."""

    def to_dict(self) -> dict[str, Any]:
        return {"party_id": self.party_id, "name": self.name, "party_size": self.party_size,
                "position": self.position, "reason": self.reason, "join_with": list(self.join_with)}


# --- the floor ------------------------------------------------------------------------------------------

def validate_floor(tables: Sequence[Mapping[str, Any]], max_party_size: int) -> tuple[Table, ...]:
    """A whole floor from type-checked dicts, or InvalidInput naming every problem at once (under
    ``tables``). ``joins_with`` is made symmetric: naming 13 on table 12 joins 13 with 12 too."""
    problems: list[str] = []
    names = [str(t["name"]) for t in tables]
    seen: set[str] = set()
    for name in names:
        if name in seen:
            problems.append(f"table {name}: the name is used twice")
        seen.add(name)
    if len(tables) > MOST_TABLES:
        problems.append(f"at most {MOST_TABLES} tables")
    joins: dict[str, set[str]] = {name: set() for name in names}
    for t in tables:
        name, seats, min_seats = str(t["name"]), int(t["seats"]), int(t.get("min_seats", 1))
        if not 1 <= len(name) <= NAME_MAX:
            problems.append(f"table {name}: a name has 1 to {NAME_MAX} characters")
        if not 1 <= seats <= max_party_size:
            problems.append(f"table {name}: seats must be between 1 and {max_party_size} (max_party_size)")
        if not 1 <= min_seats <= seats:
            problems.append(f"table {name}: min_seats must be between 1 and its seats")
        if t.get("section", "any") not in SEATING_CHOICES:
            problems.append(f"table {name}: section must be one of {', '.join(SEATING_CHOICES)}")
        for other in t.get("joins_with", ()):
            if other == name:
                problems.append(f"table {name}: joins_with names the table itself")
            elif other not in joins:
                problems.append(f"table {name}: joins_with names no table {other}")
            else:
                joins[name].add(other)
                joins[other].add(name)
    if problems:
        raise InvalidInput("the floor is not valid", fields={"tables": problems})
    return tuple(Table(name=str(t["name"]), seats=int(t["seats"]), min_seats=int(t.get("min_seats", 1)),
                       section=str(t.get("section", "any")), joins_with=tuple(sorted(joins[str(t["name"])])))
                 for t in tables)


def floor_to_json(floor: Iterable[Table]) -> str:
    return json.dumps([t.to_dict() for t in floor], ensure_ascii=False, separators=(",", ":"))


@lru_cache(maxsize=1024)
def floor_from_json(raw: str) -> tuple[Table, ...]:
    """The floor as stored (every staff request's restaurant carries it; parsed once per process)."""
    if not raw:
        return ()
    return tuple(Table(name=t["name"], seats=int(t["seats"]), min_seats=int(t.get("min_seats", 1)),
                       section=t.get("section", "any"), joins_with=tuple(t.get("joins_with", ())))
                 for t in json.loads(raw))


def table_joins(restaurant: Restaurant) -> Mapping[int, tuple[int, int]] | None:
    """The tables pushed together for big parties, as the estimator takes them (waitlist.estimate.dining.Joins:
    seats of the join -> (seats of each table, how many)): the ``joins`` setting, else, with named tables,
    each pair of same-size tables that join with each other and together seat more than every table or
    as many as one (``join_fits``)."""
    return _joins(restaurant.floor, tuple(restaurant.settings.joins or ())) or None


@lru_cache(maxsize=1024)
def _joins(raw_floor: str, texts: tuple[str, ...]) -> Mapping[int, tuple[int, int]]:
    """Worked out once per floor and setting, not on every add and quote; read-only, as every caller
    shares the one cached answer."""
    found: dict[int, tuple[int, int]] = {}
    for text in texts:
        pieces, seats = parse_join(text)
        found[seats] = (pieces[0], len(pieces))  # the setting holds tables of one size only
    if texts:
        return MappingProxyType(found)
    floor = floor_from_json(raw_floor)
    seats_of = {t.name: t.seats for t in floor}
    sizes = set(seats_of.values())
    for table in floor:
        for other in table.joins_with:
            if seats_of.get(other) == table.seats and join_fits(2 * table.seats, sizes):
                found.setdefault(2 * table.seats, (table.seats, 2))
    return MappingProxyType(found)


def floor_of(restaurant: Restaurant) -> tuple[Table, ...]:
    """The restaurant's named tables; () while it still describes its tables by count (settings.tables)."""
    return floor_from_json(restaurant.floor)


def table_counts(restaurant: Restaurant) -> dict[str, int] | None:
    """Tables by seat count as the estimator takes them: the named floor's once there is one, else the
    old count-by-size setting (``settings.tables``), so that setting keeps working until tables are named."""
    counts = _counts_of_floor(restaurant.floor)
    return dict(counts) if counts else restaurant.settings.tables


@lru_cache(maxsize=1024)
def _counts_of_floor(raw: str) -> tuple[tuple[str, int], ...]:
    """Counted once per floor version, not on every add and quote: for a 40-table floor the count was
    about 105,000 instructions a call under callgrind (docs/performance.md, "The add with named tables")."""
    counts: dict[str, int] = {}
    for table in floor_from_json(raw):
        counts[str(table.seats)] = counts.get(str(table.seats), 0) + 1
    return tuple(counts.items())


def by_name(floor: Iterable[Table]) -> dict[str, Table]:
    return {t.name: t for t in floor}


def joinable(floor: Iterable[Table], names: Sequence[str]) -> bool:
    """Whether the tables can be pushed together: each reachable from the others through joins_with.
    (The store checks the same atomically; this lets a caller say so before asking.)"""
    tables = by_name(floor)
    wanted = set(names)
    if not wanted or not wanted <= tables.keys():
        return False
    start = names[0]
    seen, stack = {start}, [start]
    while stack:
        for other in tables[stack.pop()].joins_with:
            if other in wanted and other not in seen:
                seen.add(other)
                stack.append(other)
    return seen == wanted


def groups(floor: Iterable[Table]) -> list[tuple[Table, ...]]:
    """The floor's joinable groups (connected through joins_with)."""
    tables = by_name(floor)
    seen: set[str] = set()
    out: list[tuple[Table, ...]] = []
    for name in tables:
        if name in seen:
            continue
        group, stack = [], [name]
        seen.add(name)
        while stack:
            table = tables[stack.pop()]
            group.append(table)
            for other in table.joins_with:
                if other in tables and other not in seen:
                    seen.add(other)
                    stack.append(other)
        out.append(tuple(group))
    return out


def can_hold(floor: Iterable[Table], party_size: int) -> bool:
    """Whether any table, or tables pushed together, seats a party this size; True without named tables
    (the count-by-size setting says nothing about joins)."""
    most = most_seats(floor)
    return most is None or party_size <= most


def most_seats(floor: Iterable[Table]) -> int | None:
    """The most seats one table or one joinable group gives; None without named tables. (Work it out
    once for a list: each party is then one comparison.)"""
    return max((sum(t.seats for t in group) for group in groups(floor)), default=None)


def most_seats_of(restaurant: Restaurant) -> int | None:
    """``most_seats`` of the restaurant's floor, worked out once per floor version: every add flags a
    party no table fits, and walking a 40-table floor's groups was about 205,000 instructions of it
    under callgrind (docs/performance.md, "The add with named tables")."""
    return _most_seats_of_floor(restaurant.floor)


@lru_cache(maxsize=1024)
def _most_seats_of_floor(raw: str) -> int | None:
    return most_seats(floor_from_json(raw))


# --- live states -----------------------------------------------------------------------------------------

def live_state(table: Table, raw: str | None, party_id: str, since: float | None, *, now: float,
               clearing_minutes: float) -> TableState:
    """The live state of a stored one: a table cleared at ``since`` is clearing for clearing_minutes, then
    free from the moment that ended."""
    state = raw or FREE
    if state == CLEARED:
        ends = (since or 0.0) + clearing_minutes * 60
        if now < ends:
            return TableState(table, CLEARING, None, since)
        return TableState(table, FREE, None, ends)
    if state not in STATES:
        state = FREE
    return TableState(table, state, party_id if state in TAKEN else None, since)


def floor_states(floor: Iterable[Table], stored: Mapping[str, tuple[str, str, float | None]], *, now: float,
                 clearing_minutes: float) -> list[TableState]:
    """Every table of the floor with its live state, in the floor's order (``stored``: name -> (raw state,
    party, since) as the store keeps them; a table with none is free)."""
    out = []
    for table in floor:
        raw, party, since = stored.get(table.name, (FREE, "", None))
        out.append(live_state(table, raw, party, since, now=now, clearing_minutes=clearing_minutes))
    return out


# --- who gets this table -----------------------------------------------------------------------------------

def candidates(parties: Iterable[Party]) -> list[Party]:
    """The parties a table may go to, earliest in line first: called parties not yet at a table (in the
    order they were called, they were at the head of the line), then the waiting line."""
    free_called = [p for p in parties if p.status == Status.NOTIFIED and not p.tables]
    waiting = [p for p in parties if p.status == Status.WAITING]
    free_called.sort(key=lambda p: p.notified_at or 0.0)
    waiting.sort(key=lambda p: (p.position or 0, p.joined_at))
    return free_called + waiting


def join_for(table: Table, states: Mapping[str, TableState], party_size: int,
             most_extra: int = MOST_JOINED - 1) -> tuple[str, ...] | None:
    """The fewest free neighbours (then the fewest seats) that pushed together with ``table`` seat
    ``party_size``: a connected set grown from the table through joins_with; None when none does."""
    tables = {name: s.table for name, s in states.items()}
    level: set[frozenset[str]] = {frozenset()}
    for _ in range(most_extra):
        grown: set[frozenset[str]] = set()
        for extra in level:
            for member in (table.name, *extra):
                for other in tables.get(member, table).joins_with:
                    if other != table.name and other not in extra and other in states \
                            and states[other].state == FREE:
                        grown.add(extra | {other})
        if not grown:
            return None
        fitting = [g for g in grown if table.seats + sum(tables[n].seats for n in g) >= party_size]
        if fitting:
            best = min(fitting, key=lambda g: (sum(tables[n].seats for n in g), sorted(g)))
            return tuple(sorted(best))
        level = set(sorted(grown, key=sorted)[:500])  # a floor is small; bound the search anyway
    return None


def next_for_table(table: Table, states: Mapping[str, TableState], parties: Iterable[Party]) -> list[Suggestion]:
    """The waiting and called parties ``table`` suits, best first:

    1. ``fits``: earliest in line whose size is within min_seats..seats and whose seating preference the
       table's section matches;
    2. ``needs_join``: parties too big for it alone that it seats pushed together with free neighbours;
    3. ``smaller_party``: when nobody fits, the first party small enough (a big table may take a small
       party), flagged as such.

    ``states``: every table of the floor by name with its live state (neighbours must be free)."""
    line = [p for p in candidates(parties) if table.suits_seating(p.seating)]
    fits = [p for p in line if table.min_seats <= p.party_size <= table.seats]
    out = [_suggest(p, FITS) for p in fits]
    for party in line:
        if party.party_size > table.seats:
            join = join_for(table, states, party.party_size)
            if join is not None:
                out.append(_suggest(party, NEEDS_JOIN, join))
    if not fits:
        smaller = next((p for p in line if p.party_size < table.min_seats), None)
        if smaller is not None:
            out.append(_suggest(smaller, SMALLER_PARTY))
    return out


def _suggest(party: Party, reason: str, join_with: tuple[str, ...] = ()) -> Suggestion:
    return Suggestion(party_id=party.id, name=party.name, party_size=party.party_size, position=party.position,
                      reason=reason, join_with=join_with)
