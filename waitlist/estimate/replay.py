"""The replay of the line: when will the party at ``target`` be seated, in SAMPLES replays of the host's
seating rule (``replay_line``). The estimator (waitlist.estimate.estimator) turns these samples into a quote.

Plain Python over plain values: the tables busy and their dining times (waitlist.estimate.dining), the
drop-out rates, and the line. The random draws are common random numbers made once per process, so a
quote is repeatable and a party added to the line changes no draw of the parties before it.
"""
from __future__ import annotations

import heapq
import itertools
import math
import random
from collections.abc import Mapping
from statistics import NormalDist

from waitlist.estimate.dining import (
    DINING_SIGMA,
    DiningModel,
    DropOuts,
    Joins,
    normal_cdf,
    same_class_count,
    table_need,
)

MAX_MINUTES = 240.0
"""The replay's horizon: a party not seated within it is quoted this (every quote is capped at it)."""
NO_SHOW_HOLD_MINUTES = 5.0
"""A no-show's table waits for them this long; hosts tend to give it away well before a hold runs out."""
SAMPLES = 32
"""Replays per estimate: each draws dining times afresh, so the quote reads off a distribution. With 16 the
quantile read off them wandered by a few minutes from one line to the next. On the fitting seeds 4-6, each
with its best calibration (the estimator's QUOTE_POWER), 16 replays gave a pooled MAE of 7.23 minutes, 32
gave 6.90 and 64 gave 6.84; 64 cost twice the time (2.5 ms for a party of 2 behind 100 waiting, which put
the estimate endpoint's p99 over its 5 ms goal) for 0.06 minutes, so 32 it is."""
DRAW_COLUMNS = 512


_normal_inv = NormalDist().inv_cdf


def _draws(seed: int, rows: int, cols: int) -> list[list[float]]:
    rng = random.Random(seed)
    return [[rng.random() for _ in range(cols)] for _ in range(rows)]


# Common random numbers, drawn once: sample k of every replay uses row k, and each table and each party
# in the line its own column, so a party added to the line changes no draw of the parties before it.
def _dining_factors(seed: int) -> list[list[float]]:
    """Dining times of mean 1, exp(-sigma^2/2 + sigma z) for standard normal z: worked out once, not per
    replayed seating."""
    sigma = DINING_SIGMA
    return [[math.exp(-sigma * sigma / 2 + sigma * _normal_inv(min(max(u, 1e-9), 1 - 1e-9))) for u in row]
            for row in _draws(seed, SAMPLES, DRAW_COLUMNS)]


_TABLE_U = _draws(1, SAMPLES, DRAW_COLUMNS)
_DINE_F = _dining_factors(2)
_DROP_U = _draws(3, SAMPLES, DRAW_COLUMNS)
_NO_SHOW_U = _draws(4, SAMPLES, DRAW_COLUMNS)
# Arrivals of parties needing the class above, a Poisson process at one per minute (scaled by the rate).
_ARRIVALS = [list(itertools.accumulate(-math.log(1.0 - u) for u in row)) for row in _draws(5, SAMPLES, DRAW_COLUMNS)]
_UPPER_F = _dining_factors(6)


def replay_line(line: list[int], target: int, table_sizes: list[int], counts: dict[int, int],
                busy: dict[int, list[tuple[float, float]]], dining: DiningModel, drops: DropOuts,
                now: float, upper_arrivals: float = 0.0, gap: float = 0.0, joins: Joins | None = None,
                freeing: dict[int, list[float]] | None = None, table_gaps: Mapping[int, float] | None = None
                ) -> list[float]:
    """Minutes until ``line[target]`` is seated, in SAMPLES replays of hosts' seating rule.

    Hosts give a freed table to the first waiting party of its class, else to the first of the class
    just below. While the quoted party waits, its own class always has someone waiting, so smaller
    parties never take its tables, and parties of other classes matter only through the class above:
    each of its tables that frees goes to a party of its own class when one is waiting (those in the
    line now, then those arriving at ``upper_arrivals`` per minute), who then dines there, and otherwise
    to the quoted party's class. Only the quoted party's class and those tables are replayed, which
    makes the replay exact and cheap. ``gap``: minutes from a table freeing to the next party sitting at
    it (clearing and the called party's walk up), learned from the restaurant's log (``turnover_gap``),
    or, for a table size with its own in ``table_gaps`` (measured at named tables), that one.
    A party at joined tables (``joins``) is of the class of the tables pushed together: the host holds
    the tables that free for it until it has enough, and it frees them all when it leaves. ``freeing``:
    minutes until each table being cleared is ready (named tables, ``dining.live_floor``); a party takes
    one when it is ready or after the learned gap, whichever is later.
    """
    own, _tables = table_need(line[target], table_sizes, joins)
    position = table_sizes.index(own)
    upper = table_sizes[position + 1] if position + 1 < len(table_sizes) else None
    need_of = {size: table_need(size, table_sizes, joins) for size in set(line)}  # a few sizes, many parties
    rivals, needs = [], []
    for i in range(target + 1):
        seats, tables_needed = need_of[line[i]]
        if seats == own:
            rivals.append(i)
            needs.append(tables_needed)
    classes = [own] if upper is None else [own, upper]
    own_gap = (table_gaps or {}).get(own, gap)
    upper_gap = (table_gaps or {}).get(upper, gap) if upper is not None else gap
    upper_waiting = same_class_count(line[:target], upper, table_sizes, joins) if upper is not None else 0
    upper_mean = dining.mean(upper, now) if upper is not None else 0.0
    # Each busy table's remaining time is drawn from its dining time conditioned on having lasted so far.
    # (log-mean, P(done by now), elapsed, upper); a table not dining: (minutes until it can be given, -1, 0, upper)
    tables: list[tuple[float, float, float, bool]] = []
    for seats in classes:
        seated = busy.get(seats, [])
        for mean, elapsed in seated:
            mu = math.log(mean) - DINING_SIGMA * DINING_SIGMA / 2
            done = normal_cdf((math.log(elapsed) - mu) / DINING_SIGMA) if elapsed > 0 else 0.0
            tables.append((mu, done, elapsed, seats != own))
        idle = max(0, counts[seats] - len(seated))
        ready = sorted((freeing or {}).get(seats, ()))[:idle]
        tables += [(0.0, -1.0, 0.0, seats != own)] * (idle - len(ready))
        tables += [(max(0.0, minutes - (own_gap if seats == own else upper_gap)), -1.0, 0.0, seats != own)
                   for minutes in ready]
    means = [dining.mean(line[i], now) for i in rivals]
    columns = [i % DRAW_COLUMNS for i in rivals]
    last = len(rivals) - 1
    # Checked once, not per table freed: the branch for joined parties cost the estimate 7% when it was
    # taken for every table (bench.estimate_latency, a party of 2 behind 100 waiting: 1.71 ms against 1.60).
    joined = max(needs) > 1
    hazard, no_show_rate = drops.hazard, drops.no_show_rate
    heappop, heappush, exp = heapq.heappop, heapq.heappush, math.exp  # the loop below is the estimate's cost
    results = []
    for k in range(SAMPLES):
        table_u, dine_f, drop_u, no_show_u = _TABLE_U[k], _DINE_F[k], _DROP_U[k], _NO_SHOW_U[k]
        arrivals, upper_f = _ARRIVALS[k], _UPPER_F[k]
        arrived = served = 0
        heap: list[tuple[float, int, bool]] = []
        for n, (mu, done, elapsed, is_upper) in enumerate(tables):
            if done < 0:
                heap.append((mu, n, is_upper))
                continue
            p = min(done + table_u[n % DRAW_COLUMNS] * (1.0 - done), 1 - 1e-9)
            heap.append((max(0.5, exp(mu + DINING_SIGMA * _normal_inv(p)) - elapsed), n, is_upper))
        heapq.heapify(heap)
        n = len(heap)
        seated_at = MAX_MINUTES
        head = 0
        held: list[bool] = []  # tables the host holds for the party at the head (is each of the class above)
        while heap:
            at, _order, is_upper = heappop(heap)
            if at >= MAX_MINUTES:
                break
            if is_upper:
                while arrived < DRAW_COLUMNS and arrivals[arrived] <= at * upper_arrivals:
                    arrived += 1
                if served < upper_waiting + arrived:  # a party of its own size is waiting: it dines there
                    heappush(heap, (at + upper_gap + upper_mean * upper_f[served % DRAW_COLUMNS], n, True))
                    served += 1
                    n += 1
                    continue
            if head < last:
                gone = 1.0 - exp(-hazard * at)
                while head < last and drop_u[columns[head]] < gone:
                    head += 1  # gave up before this table freed (what was held for them goes to the next)
            if joined:  # a party at joined tables in line: the host holds tables for it until it has enough
                need = needs[head]
                held.append(is_upper)
                if len(held) < need:
                    continue
            table_gap = upper_gap if is_upper else own_gap
            if head == last:
                seated_at = at + table_gap
                break
            column = columns[head]
            if no_show_u[column] < no_show_rate:
                release = at + NO_SHOW_HOLD_MINUTES  # held for them in vain
            else:
                release = at + table_gap + means[head] * dine_f[column]
            head += 1
            if not joined:
                heappush(heap, (release, n, is_upper))
                n += 1
                continue
            for was_upper in held[:need]:
                heappush(heap, (release, n, was_upper))
                n += 1
            for was_upper in held[need:]:  # more than the party needed (the one it was held for gave up)
                heappush(heap, (at, n, was_upper))
                n += 1
            held.clear()
        results.append(seated_at)
    return results
