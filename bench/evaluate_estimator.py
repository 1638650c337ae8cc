"""Compare the live estimator with the real-time delay predictors of Ibrahim & Whitt on simulated days.

For each restaurant type and seed, ``bench.simulate`` writes a stream of days; the estimator's quotes come
from ``waitlist.services.backtest.replay`` (the live ``Waitlist``/``Store`` code over fakeredis), the baselines'
from a plain replay of the same events. Only parties seated after actually waiting are scored.

    python -m bench.evaluate_estimator [--seeds 3] [--first-seed 1] [--days 7] [--types cafe,casual,dinner]

Seeds first..first+N-1 run: the estimator's constants are fitted on seeds 4-6 (``--first-seed 4``) and
docs/estimator.md reports seeds 1-3, which took no part in the fit.

Prints one markdown table per restaurant type plus a pooled one.
"""
from __future__ import annotations

import argparse
import statistics
import time
from collections import defaultdict, deque
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor

from bench.simulate import RESTAURANTS, simulate, table_class
from waitlist.services.backtest import Accuracy, Event, actual_waits, replay, score

ESTIMATOR = "estimator (this service)"
BASELINES = (
    "rule of thumb (k min per party ahead)",
    "last to enter service (LES)",
    "head of line (HOL)",
    "moving average of waits, same size",
    "queue length per class, drop-corrected (QL)",
)
DEFAULT_DINING = {2: 45.0, 4: 60.0, 6: 75.0, 8: 90.0}


def baseline_quotes(events: Sequence[Event], tables: dict[int, int]) -> dict[str, dict[str, float]]:
    """Each baseline's quote at each join, from the events before it (the rule of thumb per party ahead
    is scaled afterwards, with the k that suits the restaurant best, to give it every chance)."""
    sizes = sorted(tables)
    waiting: dict[str, tuple[int, float]] = {}  # insertion order = queue order
    seated_at: dict[str, tuple[float, int]] = {}
    last_wait: dict[int, float] = {}
    waits_by_size: dict[int, deque[float]] = defaultdict(lambda: deque(maxlen=10))
    turns: dict[int, deque[float]] = defaultdict(lambda: deque(maxlen=50))
    outcomes: deque[int] = deque(maxlen=200)  # 1 = dropped out, 0 = seated after waiting
    quotes: dict[str, dict[str, float]] = {name: {} for name in BASELINES}
    for event in events:
        if event.event == "join":
            cls = table_class(event.size, sizes)
            same_class = [(pid, t) for pid, (size, t) in waiting.items() if table_class(size, sizes) == cls]
            quotes[BASELINES[0]][event.party] = float(len(waiting))
            quotes[BASELINES[1]][event.party] = last_wait.get(cls, 0.0)
            quotes[BASELINES[2]][event.party] = (event.t - same_class[0][1]) / 60 if same_class else 0.0
            recent = waits_by_size[event.size]
            quotes[BASELINES[3]][event.party] = statistics.fmean(recent) if recent else 0.0
            dining = statistics.fmean(turns[cls]) if turns[cls] else DEFAULT_DINING.get(cls, 90.0)
            drop = (sum(outcomes) + 1) / (len(outcomes) + 10)
            quotes[BASELINES[4]][event.party] = (len(same_class) * (1 - drop) + 1) * dining / tables[cls]
            waiting[event.party] = (event.size, event.t)
        elif event.event == "seat" and event.party in waiting:
            size, joined = waiting.pop(event.party)
            wait = (event.t - joined) / 60
            cls = table_class(size, sizes)
            last_wait[cls] = wait
            waits_by_size[size].append(wait)
            seated_at[event.party] = (event.t, size)
            if wait > 0:
                outcomes.append(0)
        elif event.event in ("cancel", "no_show") and event.party in waiting:
            waiting.pop(event.party)
            outcomes.append(1)
        elif event.event == "complete" and event.party in seated_at:
            start, size = seated_at.pop(event.party)
            turns[table_class(size, sizes)].append((event.t - start) / 60)
    return quotes


def run_one(kind_name: str, seed: int, days: int) -> list[tuple[str, int, float, dict[str, float]]]:
    """(party, size, actual wait, {predictor: quote}) for every party that waited."""
    kind = RESTAURANTS[kind_name]
    raw = simulate(kind, days, seed)
    events = [Event(t, e, p, s) for t, e, p, s in raw]
    ours = {q.party: float(q.quote_minutes) for q in replay(events, {str(k): v for k, v in kind.tables.items()})}
    baselines = baseline_quotes(events, kind.tables)
    rows = []
    for party, wait in actual_waits(events).items():
        if wait > 0:
            quotes = {ESTIMATOR: ours[party], **{name: quotes[party] for name, quotes in baselines.items()}}
            size = next(e.size for e in events if e.party == party)
            rows.append((party, size, wait, quotes))
    return rows


def fit_rule_of_thumb(rows: list[tuple[str, int, float, dict[str, float]]]) -> float:
    """The minutes per party ahead that gives the rule of thumb its lowest error on these very days."""
    best = min(range(1, 31), key=lambda k: sum(abs(k * (q[BASELINES[0]] + 1) - w) for _p, _s, w, q in rows))
    return float(best)


def table(rows: list[tuple[str, int, float, dict[str, float]]], k: float) -> tuple[str, list[Accuracy]]:
    results = []
    for name in (ESTIMATOR, *BASELINES):
        if name == BASELINES[0]:
            pairs = [(k * (q[name] + 1), w) for _p, _s, w, q in rows]
            label = f"rule of thumb ({k:g} min per party ahead, best k)"
        else:
            pairs = [(q[name], w) for _p, _s, w, q in rows]
            label = name
        results.append(score(label, pairs))
    best = min(results[1:], key=lambda r: r.mae)
    lines = ["| predictor | MAE (min) | vs best baseline | within ±5 min | under-quoted (wait > quote + 5) |",
             "|---|---:|---:|---:|---:|"]
    for r in results:
        lines.append(f"| {r.label} | {r.mae:.1f} | {r.mae / best.mae:.0%} | {r.within_five:.0%} "
                     f"| {r.under_quoted:.0%} |")
    return "\n".join(lines), results


def main() -> None:
    parser = argparse.ArgumentParser(description="Estimator vs Ibrahim & Whitt baselines on simulated days.")
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--first-seed", type=int, default=1, help="seeds first..first+N-1 run")
    parser.add_argument("--days", type=int, default=7)
    parser.add_argument("--types", default="cafe,casual,dinner")
    parser.add_argument("--workers", type=int, default=4)
    args = parser.parse_args()
    started = time.monotonic()
    kinds = args.types.split(",")
    jobs = [(kind, seed, args.days) for kind in kinds for seed in range(args.first_seed, args.first_seed + args.seeds)]
    with ProcessPoolExecutor(max_workers=args.workers) as pool:
        outputs = list(pool.map(run_one, *zip(*jobs)))
    pooled: list[tuple[str, int, float, dict[str, float]]] = []
    for kind in kinds:
        rows = [row for (k, _s, _d), out in zip(jobs, outputs) if k == kind for row in out]
        pooled.extend(rows)
        spec = RESTAURANTS[kind]
        last = args.first_seed + args.seeds - 1
        print(f"\n### {spec.name}: tables {spec.tables_arg()}, seeds {args.first_seed}-{last} x {args.days} days, "
              f"{len(rows)} parties waited\n")
        print(table(rows, fit_rule_of_thumb(rows))[0])
    print(f"\n### all restaurants pooled ({len(pooled)} parties waited)\n")
    print(table(pooled, fit_rule_of_thumb(pooled))[0])
    print(f"\n({time.monotonic() - started:.0f} s)")


if __name__ == "__main__":
    main()
