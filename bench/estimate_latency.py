"""How long one estimate takes with 100 waiting parties, next to a trivial baseline in the same process.

    python -m bench.estimate_latency [--waiting 100] [--runs 2000]

Times (a) ``estimate_wait`` alone on a snapshot, (b) the whole ``Waitlist.estimate`` use case, snapshot
read included (Lua over fakeredis, which is slower than a real Redis round trip), and (c) the queue-length
rule of thumb as the floor of what any estimate costs in Python.
"""
from __future__ import annotations

import argparse
import random
import time
from collections.abc import Callable

import fakeredis

from bench.simulate import RESTAURANTS, simulate
from config import Config
from waitlist.estimate.estimator import Snapshot, estimate_wait
from waitlist.services.backtest import EPOCH, Event
from waitlist.services.waitlist import Waitlist
from waitlist.store import MessageStore, Store


def percentiles(fn: Callable[[], object], runs: int) -> tuple[float, float, float, float]:
    """Wall-clock median and p99, then CPU-time median and p99 (CPU time ignores a busy machine)."""
    wall, cpu = [], []
    for _ in range(runs):
        start, start_cpu = time.perf_counter(), time.thread_time()
        fn()
        cpu.append((time.thread_time() - start_cpu) * 1000)
        wall.append((time.perf_counter() - start) * 1000)
    wall.sort()
    cpu.sort()
    p99 = int(runs * 0.99)
    return wall[runs // 2], wall[p99], cpu[runs // 2], cpu[p99]


class _Quiet:
    def send_texts(self, *args: object) -> None:
        pass

    def expire_hold_at(self, *args: object) -> None:
        pass

    def feedback_at(self, *args: object) -> None:
        pass

    def expire_pending_at(self, *args: object) -> None:
        pass

    def reservation_timer_at(self, *args: object) -> None:
        pass


def busy_restaurant(waiting: int) -> tuple[Waitlist, object, Snapshot, float]:
    """A dinner restaurant mid-service (recent lists and history full), then ``waiting`` parties in line."""
    kind = RESTAURANTS["dinner"]
    tables = {str(k): v for k, v in kind.tables.items()}
    events = [Event(*e) for e in simulate(kind, 3, seed=7)]
    redis = fakeredis.FakeRedis(decode_responses=True)
    clock = [EPOCH]
    waitlist = Waitlist(Store(redis), MessageStore(redis), _Quiet(), Config(secret_key="bench"),
                        clock=lambda: clock[0])
    restaurant, _key = waitlist.create_restaurant("bench", "Bench", "+14155550100")
    restaurant.settings = waitlist.update_settings(restaurant, {"tables": tables})
    # Replay a few days through this very waitlist so recent lists and history are as in production.
    ids: dict[str, str] = {}
    for n, event in enumerate(events):
        clock[0] = EPOCH + event.t
        if event.event == "join":
            ids[event.party] = waitlist.join(restaurant, name="G", phone=f"+1415{2000000 + n:07d}",
                                             party_size=event.size).id
        elif event.party in ids:
            action = {"seat": waitlist.seat, "complete": waitlist.complete, "no_show": waitlist.no_show,
                      "cancel": waitlist.cancel}[event.event]
            action(restaurant, ids[event.party])
    rng = random.Random(1)
    for n in range(waiting):
        waitlist.join(restaurant, name="G", phone=f"+1415{3000000 + n:07d}",
                      party_size=rng.choices(list(kind.size_mix), list(kind.size_mix.values()))[0])
    return waitlist, restaurant, waitlist.store.snapshot("bench"), clock[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--waiting", type=int, default=100)
    parser.add_argument("--runs", type=int, default=2000)
    args = parser.parse_args()
    waitlist, restaurant, snapshot, now = busy_restaurant(args.waiting)
    tables = restaurant.settings.tables  # type: ignore[attr-defined]
    rows = [
        ("estimate_wait(snapshot) — the estimator alone",
         lambda: estimate_wait(snapshot, 2, tables=tables, now=now)),
        ("Waitlist.estimate — snapshot over fakeredis + estimator",
         lambda: waitlist.estimate(restaurant, 2)),  # type: ignore[arg-type]
        ("baseline: (parties ahead + 1) x 5 min",
         lambda: (len(snapshot.waiting_sizes) + 1) * 5),
    ]
    print(f"{len(snapshot.waiting_sizes)} waiting, {len(snapshot.seatings)} recent seatings, "
          f"{len(snapshot.history)} history fields, {args.runs} runs each\n")
    print("| what | median (ms) | p99 (ms) | CPU median (ms) | CPU p99 (ms) |\n|---|---:|---:|---:|---:|")
    for label, fn in rows:
        median, p99, cpu_median, cpu_p99 = percentiles(fn, args.runs)
        print(f"| {label} | {median:.3f} | {p99:.3f} | {cpu_median:.3f} | {cpu_p99:.3f} |")


if __name__ == "__main__":
    main()
