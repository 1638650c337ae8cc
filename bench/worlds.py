"""Worlds: the project's simulated restaurants with switches for each way real restaurants differ.

The estimator was once fitted to ``bench.simulate`` alone and scored well there, and worse than a plain
queue-length rule on restaurants simulated by others. So it is judged here on many worlds, each a
restaurant type (cafe, casual, dinner) with one or more of these switches on:

- ``clearing_minutes``: a table is bussed and reset for this long (lognormal, mean) before it is free;
- ``walkup_minutes``: a called party takes this long to reach the stand (the table waits for them);
- ``joins``: there is no 8-top; the biggest parties sit at two 4-tops pushed together;
- ``pairs``: the restaurant keeps one 8-top (any other becomes two 4-tops; a type with none gets one)
  and also pushes two 4-tops together for its 8-top's parties: each takes the 8-top or a pair of
  4-tops, whichever is free first;
- ``greedy``: the host seats by the line alone, not by table class: whenever a table is free, the first
  party in line that fits any free table sits at the smallest of them (so a 2 takes a free 6-top ahead of
  a 5 behind it, where ``bench.simulate``'s host keeps it for the 5); the estimator's replay assumes the
  other rule, so this world asks how far calibration carries a host who works differently;
- ``dining_cv``: parties' dining times spread this much around their mean (``bench.simulate`` uses 0.35,
  which is also what the estimator assumes);
- ``hold_for_big``: with ``joins``, the host holds freed 4-tops for a waiting big party until two are free
  (without it the big party gets a pair only when two happen to be free);
- ``silent_share``: this share of the parties that give up leave without telling anyone and become
  no-shows when called (their table is held in vain);
- ``slowdown``: from the middle of service the kitchen is 50% slower (dining times x1.5);
- ``big_rush``: an hour of extra large parties (5-8) after the first peak;
- ``no_inventory``: the restaurant gave no table inventory (the estimator falls back to its rule);
- ``no_history``: every evening is a restaurant's first (each day simulated and replayed alone);
- ``logs_calls``: the log records the host calling each party (``notify`` rows, as a restaurant that
  uses the service's notify has), so the replay holds the called party's table as the live service does;
- ``booked``: a share of the parties book ahead (``BOOKED_SHARE``: 5% at the cafe, 15% of the casual
  place's evening, 30% at dinner) for a 15-minute slot near when they would have come; they arrive a few
  minutes early or late (``BOOKED_NO_SHOW`` of them never), go to the head of their table class, and a
  host holds a fitting table from ``BOOKING_HELD_MINUTES`` before the booked time until they come or
  the grace period ends. The bookings (not the arrivals or no-shows) are known to the replay in advance.

Beside the simulator's three restaurant types, ``STRESS_TYPES`` are restaurants unlike them (long
dinners, mostly big parties, only 2- and 4-tops, ...), for ``bench.evaluate_worlds --types``; none is in
its default run, and none was used to choose a constant.

``python -m bench.worlds dinner --world turnover --days 3 --seed 1 --out events.csv`` writes an EVENTS.csv.
"""
from __future__ import annotations

import argparse
import heapq
import math
import random
from dataclasses import dataclass, field, replace
from typing import Any

from bench.simulate import DAY, RESTAURANTS, Event, RestaurantType, _Day, table_class, write_events
from waitlist.estimate.estimator import BOOKING_HELD_MINUTES


def _long_dinner(seats: int, hour: float) -> float:
    return {2: 100.0, 4: 120.0, 6: 140.0}.get(seats, 150.0)


def _quick_cafe(seats: int, hour: float) -> float:
    return {2: 20.0, 4: 25.0}.get(seats, 35.0)


STRESS_TYPES: dict[str, RestaurantType] = {
    "long_dinner": replace(RESTAURANTS["dinner"], name="dinner (long: a tasting menu)", dining=_long_dinner),
    "impatient_cafe": replace(RESTAURANTS["cafe"], name="cafe (impatient, quick)", patience_minutes=20.0,
                              dining=_quick_cafe),
    "big_casual": replace(RESTAURANTS["casual"], name="casual (big parties)",
                          size_mix={1: 0.02, 2: 0.25, 3: 0.1, 4: 0.25, 5: 0.12, 6: 0.12, 7: 0.07, 8: 0.07}),
    "twofour": replace(RESTAURANTS["casual"], name="casual (2- and 4-tops only)", tables={2: 12, 4: 14}),
    "noshow_dinner": replace(RESTAURANTS["dinner"], name="dinner (15% no-shows)", no_show_rate=0.15),
    "busy_cafe": replace(RESTAURANTS["cafe"], name="cafe (busy)", base_rate=9.0),
}
KINDS: dict[str, RestaurantType] = {**RESTAURANTS, **STRESS_TYPES}
"""Every restaurant type a world can be run with."""

JOINED = 8
"""The class a joined pair of 4-tops serves, as the estimator's ``--joins 4+4=8`` names it."""

BOOKED_SHARE = {"cafe": 0.05, "casual": 0.15, "dinner": 0.30}
"""Share of parties that book ahead, by restaurant type (the casual place takes bookings from 17:00)."""
BOOKED_FROM_HOUR = {"casual": 17.0}
BOOKED_NO_SHOW = 0.08
"""Share of bookings that never come (the host marks them no-show when the grace period ends)."""
BOOKED_GRACE_MINUTES = 15.0
"""How long after the booked time the host holds the table; every arrival falls inside it."""
SLOT_SECONDS = 15 * 60

Booking = tuple[str, float, int]
"""(party id, booked start in seconds like ``Event.t``, size): what the service knows in advance."""


@dataclass(frozen=True)
class World:
    name: str
    clearing_minutes: float = 0.0
    walkup_minutes: float = 0.0
    joins: bool = False
    pairs: bool = False
    greedy: bool = False
    dining_cv: float = 0.0
    """0: the restaurant type's own (0.35)."""
    hold_for_big: bool = False
    silent_share: float = 0.0
    slowdown: bool = False
    big_rush: bool = False
    no_inventory: bool = False
    no_history: bool = False
    booked: bool = False
    logs_calls: bool = False


WORLDS: dict[str, World] = {w.name: w for w in (
    World("base"),
    World("clearing", clearing_minutes=6.0),
    World("walkup", walkup_minutes=4.0),
    World("turnover", clearing_minutes=5.0, walkup_minutes=3.5),
    World("joins", joins=True, hold_for_big=True, clearing_minutes=3.0),
    World("joins_nohold", joins=True, clearing_minutes=3.0),
    World("pairs", pairs=True, clearing_minutes=3.0),
    World("pairs_hold", pairs=True, hold_for_big=True, clearing_minutes=3.0),
    World("greedy", greedy=True, clearing_minutes=3.0),
    World("spread", dining_cv=0.6, clearing_minutes=3.0),
    World("leavers", silent_share=0.5, walkup_minutes=2.0),
    World("slowdown", slowdown=True, clearing_minutes=3.0),
    World("big_rush", big_rush=True, clearing_minutes=3.0),
    World("no_inventory", no_inventory=True, clearing_minutes=4.0, walkup_minutes=3.0),
    World("no_history", no_history=True, clearing_minutes=4.0, walkup_minutes=3.0),
    World("everything", clearing_minutes=5.0, walkup_minutes=3.5, joins=True, hold_for_big=True,
          silent_share=0.4, slowdown=True, big_rush=True),
    World("reservations", booked=True, clearing_minutes=4.0, walkup_minutes=3.0),
    World("called", logs_calls=True, clearing_minutes=4.0, walkup_minutes=3.0),
)}


def inventory(kind: RestaurantType, world: World) -> dict[int, int]:
    """The tables the restaurant has (and tells the estimator, unless ``no_inventory``)."""
    if world.pairs:
        tables = dict(kind.tables)
        tables[4] = tables.get(4, 0) + 2 * (tables.get(JOINED, 1) - 1)  # 8-tops beyond the first: two 4-tops each
        tables[JOINED] = 1
        return tables
    if not world.joins:
        return dict(kind.tables)
    tables = {seats: count for seats, count in kind.tables.items() if seats < JOINED}
    tables[4] = tables.get(4, 0) + 2 * kind.tables.get(JOINED, 0)  # each 8-top becomes two 4-tops
    return tables


@dataclass
class _WorldDay(_Day):
    """One day of ``bench.simulate``'s restaurant with a world's switches (same seating rule)."""

    world: World = field(default_factory=lambda: WORLDS["base"])

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.world.dining_cv:  # bench.simulate draws the dining times with the type's spread
            self.kind = replace(self.kind, dining_cv=self.world.dining_cv)
        self.free = inventory(self.kind, self.world)
        self.sizes = sorted(self.free)
        self.silent: set[str] = set()
        span = self.kind.closes - self.kind.opens
        self.slow_from = self.start + (self.kind.opens + 0.5 * span) * 3600
        self.bookings: list[Booking] = []
        self.pending: dict[str, tuple[float, int]] = {}  # booked, neither arrived nor given up: start, class
        self.booked_ids: set[str] = set()
        kind_key = self.kind.name.split()[0]
        self.booked_share = BOOKED_SHARE.get(kind_key, 0.0) if self.world.booked else 0.0
        self.booked_from = self.start + BOOKED_FROM_HOUR.get(kind_key, 0.0) * 3600

    def lognormal(self, mean_minutes: float) -> float:
        if mean_minutes <= 0:
            return 0.0
        sigma = 0.5
        return 60.0 * mean_minutes * math.exp(self.rng.gauss(-sigma * sigma / 2, sigma))

    def dining_seconds(self, seats: int, at: float) -> float:
        slow = 1.5 if self.world.slowdown and at >= self.slow_from else 1.0
        return super().dining_seconds(seats, at) * slow

    def needs_pair(self, cls: int) -> bool:
        return (self.world.joins and cls > self.sizes[-1]) or (self.world.pairs and cls == JOINED)

    def arrive(self, now: float, size: int | None = None) -> None:  # type: ignore[override]
        if size is None:
            sizes, weights = zip(*self.kind.size_mix.items())
            size = self.rng.choices(sizes, weights)[0]
        self._n += 1
        pid = f"{self.prefix}{self._n}"
        self.events.append((now, "join", pid, size))
        cls = JOINED if self.world.joins and size > self.sizes[-1] else table_class(size, self.sizes)
        self.queue.append((pid, size, cls))
        self.push(now + self.rng.expovariate(1.0 / (self.kind.patience_minutes * 60)), "patience", pid)
        self.assign(now)

    def assign(self, now: float) -> None:
        """``bench.simulate``'s rule, plus joined pairs of 4-tops for the biggest parties."""
        if self.world.greedy:
            self.seat_in_line_order(now)
            return
        progress = True
        while progress and self.queue:
            progress = False
            big = next((p for p in self.queue if self.needs_pair(p[2])), None)
            pair_free = self.free.get(4, 0) >= 2 and not (self.world.pairs and self.free.get(JOINED, 0))
            if big is not None and pair_free:  # (with ``pairs``, a free 8-top goes to it first)
                self.queue.remove(big)
                self.call(now, big, 4, tables=2)
                progress = True
                continue
            held = 1 if big is not None and self.world.hold_for_big else 0
            booked = self.held_for_bookings(now)
            for i, seats in enumerate(self.sizes):
                spare = self.free[seats] - (held if seats == 4 else 0)
                if spare <= 0:
                    continue
                below = self.sizes[i - 1] if i else None
                pick = next((p for p in self.queue if p[2] == seats), None)
                if pick is None and below is not None:
                    pick = next((p for p in self.queue if p[2] == below), None)
                if pick is None or (pick[0] not in self.booked_ids and spare <= booked.get(seats, 0)):
                    continue  # a walk-in does not take a table held for a booking about to arrive
                self.queue.remove(pick)
                self.call(now, pick, seats)
                progress = True

    def seat_in_line_order(self, now: float) -> None:
        """The ``greedy`` host: down the line, each party that fits a free table takes the smallest one."""
        for party in list(self.queue):
            seats = next((s for s in self.sizes if s >= party[2] and self.free[s] > 0), None)
            if seats is not None:
                self.queue.remove(party)
                self.call(now, party, seats)

    def held_for_bookings(self, now: float) -> dict[int, int]:
        """Tables held per class for bookings due within BOOKING_HELD_MINUTES and not yet come."""
        held: dict[int, int] = {}
        for start, cls in self.pending.values():
            if start - BOOKING_HELD_MINUTES * 60 <= now:
                held[cls] = held.get(cls, 0) + 1
        return held

    def book(self, t: float, size: int) -> None:
        """A party that would have walked in at ``t`` booked the nearest slot ahead instead."""
        self._n += 1
        pid = f"{self.prefix}r{self._n}"
        start = math.ceil(t / SLOT_SECONDS) * SLOT_SECONDS
        self.bookings.append((pid, start, size))
        self.pending[pid] = (start, table_class(size, self.sizes))
        self.booked_ids.add(pid)
        self.push(start - BOOKING_HELD_MINUTES * 60, "booking_due", pid)
        self.push(start + BOOKED_GRACE_MINUTES * 60, "booking_grace", pid)
        if self.rng.random() >= BOOKED_NO_SHOW:
            early_late = max(-20.0, min(BOOKED_GRACE_MINUTES - 1, self.rng.gauss(-3.0, 6.0)))
            self.push(start + early_late * 60, "booking_arrive", (pid, size))

    def booking_arrives(self, now: float, pid: str, size: int) -> None:
        """The booked party checks in: first in line of its class, behind bookings already here."""
        self.pending.pop(pid, None)
        self.events.append((now, "join", pid, size))
        cls = table_class(size, self.sizes)
        at = max((i + 1 for i, p in enumerate(self.queue) if p[0] in self.booked_ids), default=0)
        self.queue.insert(at, (pid, size, cls))
        self.assign(now)

    def call(self, now: float, party: tuple[str, int, int], seats: int, tables: int = 1) -> None:  # type: ignore[override]
        pid, size, cls = party
        self.free[seats] -= tables
        if pid in self.booked_ids:  # here already: seated as soon as the table is (no walk-up)
            self.push(now, "seat", (pid, size, seats, tables, cls))
            return
        if self.world.logs_calls:
            self.events.append((now, "notify", pid, size))
        if pid in self.silent or self.rng.random() < self.kind.no_show_rate:
            self.push(now + self.kind.hold_minutes * 60, "no_show", (pid, size, seats, tables))
            return
        self.push(now + self.lognormal(self.world.walkup_minutes), "seat", (pid, size, seats, tables, cls))

    def run(self) -> list[Event]:
        t = self.start + self.kind.opens * 3600
        end = self.start + self.kind.closes * 3600
        top = max(self.kind.rate(h / 4, self.weekday) for h in range(96)) or 1.0
        while True:
            t += self.rng.expovariate(top / 3600.0)
            if t >= end:
                break
            if self.rng.random() * top < self.kind.rate((t - self.start) / 3600.0, self.weekday):
                if self.booked_share and t >= self.booked_from and self.rng.random() < self.booked_share:
                    sizes, weights = zip(*self.kind.size_mix.items())
                    self.book(t, self.rng.choices(sizes, weights)[0])
                else:
                    self.push(t, "arrive", None)
        if self.world.big_rush:
            first_peak = self.kind.peaks[0][0]
            t = self.start + (first_peak + 0.25) * 3600
            while True:
                t += self.rng.expovariate(8.0 / 3600.0)
                if t >= self.start + (first_peak + 1.25) * 3600:
                    break
                self.push(t, "arrive", self.rng.choice((5, 6, 6, 7, 8)))
        while self.timers:
            now, _n, kind, popped = heapq.heappop(self.timers)
            payload: Any = popped
            if kind == "arrive":
                self.arrive(now, payload)
            elif kind == "booking_arrive":
                self.booking_arrives(now, *payload)
            elif kind in ("booking_due", "booking_grace"):
                if kind == "booking_grace":
                    self.pending.pop(str(payload), None)  # a no-show: the held table is free again
                self.assign(now)
            elif kind == "patience":
                pid = str(payload)
                entry = next((p for p in self.queue if p[0] == pid), None)
                if entry is None or pid in self.silent:
                    continue
                if self.rng.random() < self.world.silent_share:
                    self.silent.add(pid)  # gone, but still on the host's list until called
                    continue
                self.queue.remove(entry)
                self.events.append((now, "cancel", pid, entry[1]))
            elif kind == "no_show":
                pid, size, seats, tables = payload
                self.events.append((now, "no_show", pid, size))
                self.free[seats] += tables
                self.assign(now)
            elif kind == "seat":
                pid, size, seats, tables, cls = payload
                self.events.append((now, "seat", pid, size))
                dining_class = min(cls, 8)
                self.push(now + self.dining_seconds(dining_class, now), "complete", (pid, size, seats, tables))
            elif kind == "complete":
                pid, size, seats, tables = payload
                self.events.append((now, "complete", pid, size))
                self.push(now + self.lognormal(self.world.clearing_minutes), "cleared", (seats, tables))
            elif kind == "cleared":
                seats, tables = payload
                self.free[seats] += tables
                self.assign(now)
        return self.events


def simulate_world(kind: RestaurantType, world: World, days: int, seed: int) -> list[list[Event]]:
    """The world's event streams: one stream of ``days`` days, or with ``no_history`` one per day (each
    day a restaurant's first), with t counted from midnight of its first day."""
    return [stream for stream, _bookings in simulate_booked_world(kind, world, days, seed)]


def simulate_booked_world(kind: RestaurantType, world: World, days: int,
                          seed: int) -> list[tuple[list[Event], list[Booking]]]:
    """``simulate_world``'s streams, each with the bookings made for it (empty unless ``booked``)."""
    rng = random.Random(seed)
    streams: list[tuple[list[Event], list[Booking]]] = []
    events: list[Event] = []
    bookings: list[Booking] = []
    order = {"complete": 0, "no_show": 1, "cancel": 2, "join": 3, "notify": 4, "seat": 5}
    for day in range(days):
        start = 0.0 if world.no_history else day * DAY
        sim = _WorldDay(kind, rng, start, day % 7, f"d{day}p", world=world)
        day_events = sim.run()
        if world.no_history:
            streams.append((day_events, sim.bookings))
        else:
            events.extend(day_events)
            bookings.extend(sim.bookings)
    if not world.no_history:
        streams = [(events, bookings)]
    return [([(round(t, 1), e, p, s) for t, e, p, s in sorted(stream, key=lambda e: (e[0], order[e[1]]))], booked)
            for stream, booked in streams]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("kind", choices=sorted(KINDS))
    parser.add_argument("--world", choices=sorted(WORLDS), default="base")
    parser.add_argument("--days", type=int, default=3)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--out", required=True)
    args = parser.parse_args()
    kind, world = KINDS[args.kind], WORLDS[args.world]
    streams = simulate_world(replace(kind), world, args.days, args.seed)
    write_events(args.out, [e for stream in streams[:1] for e in stream])
    tables = ",".join(f"{s}:{n}" for s, n in sorted(inventory(kind, world).items()))
    joins = " --joins 4+4=8" if world.joins or world.pairs else ""
    print(f"wrote {args.out}; replay with --tables {tables}{joins}" + (" (first day only)" if world.no_history else ""))


if __name__ == "__main__":
    main()
