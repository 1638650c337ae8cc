"""A simulator of restaurant days that writes the event streams the backtest replays.

The world it models, kept deliberately simple but not kind to estimators:

- arrivals follow a time-varying Poisson process with breakfast/lunch/dinner peaks, busier at weekends;
- party sizes 1-8 with a realistic mix per restaurant type, each needing the smallest table that fits
  (the largest class when none does: the host pushes tables together);
- dining times are lognormal, longer for larger parties and at dinner than at lunch;
- waiting parties give up (cancel) after an exponential patience; a called party does not show with
  some probability and the table is held for a few minutes before going to the next party;
- seating is FIFO among parties that fit a free table: a table goes to the first waiting party of its
  class, or, when none waits, to the first party of the class just below (a 4-top seats a 2 only when no
  3-4 waits). Parties that find a table free are seated at once (join and seat at the same second).

Run ``python -m bench.simulate casual --days 7 --seed 1 --out events.csv`` to write an EVENTS.csv.
"""
from __future__ import annotations

import argparse
import csv
import heapq
import math
import random
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

DAY = 86_400.0
Event = tuple[float, str, str, int]
"""(t seconds from the start of the first day, event, party id, party size)."""


@dataclass(frozen=True)
class RestaurantType:
    name: str
    tables: dict[int, int]
    opens: float  # hour of day
    closes: float  # last arrival, hour of day
    peaks: tuple[tuple[float, float, float], ...]  # (hour, width in hours, parties per hour at the top)
    base_rate: float  # parties per hour outside the peaks
    size_mix: dict[int, float]
    dining: Callable[[int, float], float]  # (table class, hour of day) -> mean minutes
    dining_cv: float = 0.35
    patience_minutes: float = 75.0
    no_show_rate: float = 0.05
    hold_minutes: float = 5.0
    weekend_factor: float = 1.25

    @property
    def seats(self) -> int:
        return sum(size * count for size, count in self.tables.items())

    def tables_arg(self) -> str:
        return ",".join(f"{size}:{count}" for size, count in sorted(self.tables.items()))

    def rate(self, hour: float, weekday: int) -> float:
        if not self.opens <= hour < self.closes:
            return 0.0
        peak = sum(top * math.exp(-0.5 * ((hour - at) / width) ** 2) for at, width, top in self.peaks)
        return (self.base_rate + peak) * (self.weekend_factor if weekday >= 5 else 1.0)


def _cafe_dining(seats: int, hour: float) -> float:
    return {2: 30.0, 4: 40.0}.get(seats, 50.0) * (0.85 if hour < 11 else 1.0)


def _casual_dining(seats: int, hour: float) -> float:
    lunch = {2: 40.0, 4: 50.0, 6: 60.0}.get(seats, 70.0)
    return lunch if hour < 16 else lunch * 1.35


def _dinner_dining(seats: int, hour: float) -> float:
    return {2: 75.0, 4: 90.0, 6: 105.0}.get(seats, 115.0)


RESTAURANTS: dict[str, RestaurantType] = {
    "cafe": RestaurantType(
        name="cafe (40 seats)", tables={2: 6, 4: 5, 8: 1}, opens=7.0, closes=16.0,
        peaks=((8.75, 0.8, 14.0), (12.75, 1.0, 22.0)), base_rate=6.0,
        size_mix={1: 0.22, 2: 0.45, 3: 0.12, 4: 0.13, 5: 0.04, 6: 0.03, 7: 0.005, 8: 0.005},
        dining=_cafe_dining, patience_minutes=45.0,
    ),
    "casual": RestaurantType(
        name="casual (90 seats)", tables={2: 11, 4: 10, 6: 3, 8: 1}, opens=11.0, closes=21.5,
        peaks=((12.5, 0.9, 24.0), (19.0, 1.2, 26.0)), base_rate=6.0,
        size_mix={1: 0.06, 2: 0.42, 3: 0.14, 4: 0.22, 5: 0.06, 6: 0.06, 7: 0.02, 8: 0.02},
        dining=_casual_dining,
    ),
    "dinner": RestaurantType(
        name="dinner (150 seats)", tables={2: 14, 4: 16, 6: 6, 8: 3}, opens=17.0, closes=22.5,
        peaks=((19.5, 1.1, 40.0),), base_rate=8.0,
        size_mix={1: 0.03, 2: 0.44, 3: 0.12, 4: 0.23, 5: 0.06, 6: 0.07, 7: 0.025, 8: 0.025},
        dining=_dinner_dining, patience_minutes=90.0,
    ),
}


def table_class(size: int, table_sizes: list[int]) -> int:
    for seats in table_sizes:
        if size <= seats:
            return seats
    return table_sizes[-1]


@dataclass
class _Day:
    kind: RestaurantType
    rng: random.Random
    start: float
    weekday: int
    prefix: str
    events: list[Event] = field(default_factory=list)
    queue: list[tuple[str, int, int]] = field(default_factory=list)  # (party, size, class), FIFO
    free: dict[int, int] = field(default_factory=dict)
    timers: list[tuple[float, int, str, object]] = field(default_factory=list)
    cancelled: set[str] = field(default_factory=set)
    _n: int = 0

    def __post_init__(self) -> None:
        self.sizes = sorted(self.kind.tables)
        self.free = dict(self.kind.tables)

    def push(self, at: float, kind: str, payload: object) -> None:
        self._n += 1
        heapq.heappush(self.timers, (at, self._n, kind, payload))

    def dining_seconds(self, seats: int, at: float) -> float:
        mean = self.kind.dining(seats, (at - self.start) / 3600.0)
        sigma = math.sqrt(math.log(1 + self.kind.dining_cv ** 2))
        return 60.0 * mean * math.exp(self.rng.gauss(-sigma * sigma / 2, sigma))

    def assign(self, now: float) -> None:
        """Give every free table to the first party that fits it, own class first, until none fits."""
        progress = True
        while progress and self.queue:
            progress = False
            for i, seats in enumerate(self.sizes):
                if not self.free[seats]:
                    continue
                below = self.sizes[i - 1] if i else None
                pick = next((p for p in self.queue if p[2] == seats), None)
                if pick is None and below is not None:
                    pick = next((p for p in self.queue if p[2] == below), None)
                if pick is None:
                    continue
                self.queue.remove(pick)
                self.call(now, pick, seats)
                progress = True

    def call(self, now: float, party: tuple[str, int, int], seats: int) -> None:
        pid, size, _cls = party
        self.free[seats] -= 1
        if self.rng.random() < self.kind.no_show_rate:
            self.push(now + self.kind.hold_minutes * 60, "no_show", (pid, size, seats))
            return
        self.events.append((now, "seat", pid, size))
        # How long a party dines depends on the party, not on the table it was given.
        self.push(now + self.dining_seconds(_cls, now), "complete", (pid, size, seats))

    def run(self) -> list[Event]:
        t = self.start + self.kind.opens * 3600
        end = self.start + self.kind.closes * 3600
        top = max(self.kind.rate(h / 4, self.weekday) for h in range(96)) or 1.0
        while True:  # thinning: a non-homogeneous Poisson process from a homogeneous one
            t += self.rng.expovariate(top / 3600.0)
            if t >= end:
                break
            if self.rng.random() * top < self.kind.rate((t - self.start) / 3600.0, self.weekday):
                self.push(t, "arrive", None)
        while self.timers:
            now, _n, kind, payload = heapq.heappop(self.timers)
            if kind == "arrive":
                self.arrive(now)
            elif kind == "patience":
                pid = str(payload)
                entry = next((p for p in self.queue if p[0] == pid), None)
                if entry is not None:
                    self.queue.remove(entry)
                    self.events.append((now, "cancel", pid, entry[1]))
            elif kind == "no_show":
                pid, size, seats = payload  # type: ignore[misc]
                self.events.append((now, "no_show", pid, size))
                self.free[seats] += 1
                self.assign(now)
            elif kind == "complete":
                pid, size, seats = payload  # type: ignore[misc]
                self.events.append((now, "complete", pid, size))
                self.free[seats] += 1
                self.assign(now)
        return self.events

    def arrive(self, now: float) -> None:
        sizes, weights = zip(*self.kind.size_mix.items())
        size = self.rng.choices(sizes, weights)[0]
        self._n += 1
        pid = f"{self.prefix}{self._n}"
        self.events.append((now, "join", pid, size))
        self.queue.append((pid, size, table_class(size, self.sizes)))
        self.push(now + self.rng.expovariate(1.0 / (self.kind.patience_minutes * 60)), "patience", pid)
        self.assign(now)


def simulate(kind: RestaurantType, days: int, seed: int, first_weekday: int = 0) -> list[Event]:
    """``days`` consecutive days of one restaurant, t counted from midnight of the first day."""
    rng = random.Random(seed)
    events: list[Event] = []
    for day in range(days):
        weekday = (first_weekday + day) % 7
        events.extend(_Day(kind, rng, day * DAY, weekday, f"d{day}p").run())
    order = {"complete": 0, "no_show": 1, "cancel": 2, "seat": 4, "join": 3}
    events.sort(key=lambda e: (e[0], order[e[1]]))
    return [(round(t, 1), event, pid, size) for t, event, pid, size in events]


def write_events(path: str, events: Iterable[Event]) -> None:
    with open(path, "w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["t", "event", "party", "size"])
        for t, event, pid, size in events:
            writer.writerow([f"{t:.1f}", event, pid, size])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("kind", choices=sorted(RESTAURANTS))
    parser.add_argument("--days", type=int, default=7)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--out", required=True)
    args = parser.parse_args()
    kind = RESTAURANTS[args.kind]
    write_events(args.out, simulate(kind, args.days, args.seed))
    print(f"wrote {args.out}; replay with --tables {kind.tables_arg()}")


if __name__ == "__main__":
    main()
