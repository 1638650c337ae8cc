"""How long one estimate takes with 100 waiting parties, next to a trivial baseline in the same process.

    python -m bench.estimate_latency [--waiting 100] [--runs 2000] [--rate 200 --seconds 10]

Times (a) ``estimate_wait`` alone on a snapshot, (a') its self-calibration alone (the part issue 27 added),
(b) the whole ``Waitlist.estimate`` use case, snapshot read included (Lua over fakeredis, which is slower
than a real Redis round trip), and (c) the queue-length rule of thumb as the floor of what any estimate
costs in Python. Then (d) the public estimate endpoint, ``GET /api/v1/restaurants/<slug>/estimate``,
called through the whole Flask app (WSGI, in process, over the same fakeredis) at a paced ``--rate``
requests per second: its latency median and p99 (the 5 ms goal) and how many requests fell behind pace.
"""
from __future__ import annotations

import argparse
import dataclasses
import random
import time
from collections.abc import Callable

import fakeredis

from bench.simulate import RESTAURANTS, simulate
from config import Config
from waitlist.estimate import calibration
from waitlist.estimate.dining import table_class
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

    def send_mail(self, *args: object) -> None:
        pass


def paced_endpoint(redis: fakeredis.FakeRedis, now: float, rate: float, seconds: float) -> tuple[float, float, int]:
    """(median ms, p99 ms, requests late to start) for the public estimate endpoint called at ``rate``/s."""
    from waitlist.web.app import create_app

    app = create_app(Config(secret_key="bench"), redis=redis, clock=lambda: now)
    client = app.test_client()
    path = "/api/v1/restaurants/bench/estimate?party_size=2"
    assert client.get(path).status_code == 200, client.get(path).text
    times, late = [], 0
    start = time.perf_counter()
    for n in range(int(rate * seconds)):
        due = start + n / rate
        wait = due - time.perf_counter()
        if wait > 0:
            time.sleep(wait)
        else:
            late += 1
        began = time.perf_counter()
        # Guests from many addresses, as in service (the endpoint allows 120 a minute per address).
        client.get(path, environ_base={"REMOTE_ADDR": f"10.{n // 62500 % 250}.{n // 250 % 250}.{n % 250}"})
        times.append((time.perf_counter() - began) * 1000)
    times.sort()
    return times[len(times) // 2], times[int(len(times) * 0.99)], late


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


def calibration_alone(snapshot: Snapshot, table_sizes: list[int], now: float) -> object:
    """What issue 27 added to every estimate: the records read and the correction for one class."""
    history = calibration.records(snapshot.quoted)
    same = [table_class(r.size, table_sizes) == 2 for r in history]
    return calibration.correction(history, same, now)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--waiting", type=int, default=100)
    parser.add_argument("--runs", type=int, default=2000)
    parser.add_argument("--rate", type=float, default=200.0, help="requests per second to the endpoint")
    parser.add_argument("--seconds", type=float, default=10.0)
    args = parser.parse_args()
    waitlist, restaurant, snapshot, now = busy_restaurant(args.waiting)
    tables = restaurant.settings.tables  # type: ignore[attr-defined]
    # A booked evening: 24 bookings of 2, 4 and 6 due over the next two hours, one every 5 minutes.
    booked = dataclasses.replace(snapshot, reservations=tuple((now + 300 * (i + 1), (2, 4, 6)[i % 3])
                                                              for i in range(24)))
    rows = [
        ("estimate_wait(snapshot) — the estimator alone",
         lambda: estimate_wait(snapshot, 2, tables=tables, now=now)),
        ("estimate_wait with 24 bookings due in the next two hours (bookings put ahead: up to 3 more replays)",
         lambda: estimate_wait(booked, 2, tables=tables, now=now)),
        ("estimate_wait for a party of 8 (waits for an 8-top)",
         lambda: estimate_wait(snapshot, 8, tables=tables, now=now)),
        ("... with joins 4+4=8 beside the 8-tops (whichever frees first: two replays)",
         lambda: estimate_wait(snapshot, 8, tables=tables, now=now, joins={8: (4, 2)})),
        ("the self-calibration worked out afresh (once per class after each seating; cached between)",
         lambda: calibration_alone(snapshot, sorted(int(k) for k in tables), now)),
        ("Waitlist.estimate — snapshot over fakeredis + estimator",
         lambda: waitlist.estimate(restaurant, 2)),  # type: ignore[arg-type]
        ("baseline: (parties ahead + 1) x 5 min",
         lambda: (len(snapshot.waiting_sizes) + 1) * 5),
    ]
    print(f"{len(snapshot.waiting_sizes)} waiting, {len(snapshot.seatings)} recent seatings "
          f"({len(calibration.records(snapshot.quoted))} calibration records), "
          f"{len(snapshot.history)} history fields, {args.runs} runs each\n")
    print("| what | median (ms) | p99 (ms) | CPU median (ms) | CPU p99 (ms) |\n|---|---:|---:|---:|---:|")
    for label, fn in rows:
        median, p99, cpu_median, cpu_p99 = percentiles(fn, args.runs)
        print(f"| {label} | {median:.3f} | {p99:.3f} | {cpu_median:.3f} | {cpu_p99:.3f} |")
    if args.rate > 0:
        median, p99, late = paced_endpoint(waitlist.store.redis, now, args.rate, args.seconds)
        print(f"\nGET /api/v1/restaurants/<slug>/estimate at {args.rate:g}/s for {args.seconds:g} s "
              f"(whole Flask app, in process): median {median:.2f} ms, p99 {p99:.2f} ms, "
              f"{late} of {int(args.rate * args.seconds)} started behind pace")


if __name__ == "__main__":
    main()
