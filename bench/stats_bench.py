"""How fast the stats answer over a year of history, and how fast events fold.

Writes a year of simulated service days (about 150 parties a day: joins, notifies, seats, cancels,
no-shows, texts, replies, ratings) into a restaurant's event stream, folding after each day as the
periodic job would, then times the stats report for the whole year (365 per-day hashes read and
summarised) the way the API computes it.

    python -m bench.stats_bench            # a private redis-server on a free port, or REDIS_URL
A private server, because tests running meanwhile flush the shared databases. With REDIS_URL it touches
only the keys of the restaurant "bench-stats" and deletes them afterwards.
"""
from __future__ import annotations

import os
import random
import socket
import statistics
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from redis import Redis
from redis.exceptions import ConnectionError as RedisConnectionError

from waitlist.domain import stats
from waitlist.store import StatsStore, events_key, tag

SLUG = "bench-stats"
ZONE = ZoneInfo("America/New_York")


def simulate_day(redis: Redis, day: date, rng: random.Random, slug: str = SLUG, zone: ZoneInfo = ZONE) -> int:
    """XADD one evening's events, in time order; returns how many."""
    events: list[tuple[float, dict[str, Any]]] = []
    opening = datetime(day.year, day.month, day.day, 11, 0, tzinfo=zone).timestamp()
    for n in range(rng.randint(100, 200)):
        pid = f"{day.isoformat()}-{n}"
        joined = opening + rng.betavariate(2, 2) * 11 * 3600
        size = rng.choice([1, 2, 2, 2, 3, 4, 4, 5, 6, 8])
        quote = rng.choice([5, 10, 15, 20, 25, 30, 45])
        wait = max(0.0, rng.gauss(quote, 8)) * 60
        events.append((joined, {"type": "status", "party": pid, "from": "", "to": "waiting", "size": str(size)}))
        events.append((joined + 1, {"type": "sms", "party": pid, "message": pid, "kind": "joined", "from": "queued",
                                    "to": "sent"}))
        events.append((joined + 5, {"type": "sms", "party": pid, "message": pid, "kind": "joined", "from": "sent",
                                    "to": "delivered" if rng.random() < 0.97 else "undelivered"}))
        if rng.random() < 0.3:
            events.append((joined + 60, {"type": "sms_in", "party": pid, "message": "in"}))
        outcome = rng.choices(["seated", "cancelled", "no_show"], [0.82, 0.12, 0.06])[0]
        common = {"type": "status", "party": pid, "size": str(size), "joined": repr(joined), "quote": str(quote),
                  "notified": "", "actor": "host"}
        if outcome != "cancelled":
            events.append((joined + wait - 120, {**common, "from": "waiting", "to": "notified"}))
        events.append((joined + wait, {**common, "from": "notified" if outcome != "cancelled" else "waiting",
                                       "to": outcome}))
        if outcome == "seated" and rng.random() < 0.25:
            events.append((joined + wait + 3600, {"type": "feedback", "party": pid,
                                                  "rating": str(rng.choice([1, 2, 3, 4, 4, 5, 5, 5]))}))
    events.sort(key=lambda e: e[0])
    pipe = redis.pipeline(transaction=False)
    for at, fields in events:
        entry: Any = {**fields, "at": repr(at)}
        pipe.xadd(events_key(slug), entry, maxlen=10_000, approximate=True)
    pipe.execute()
    return len(events)


@contextmanager
def redis_url() -> Iterator[str]:
    if os.environ.get("REDIS_URL"):
        yield os.environ["REDIS_URL"]
        return
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    server = subprocess.Popen(["redis-server", "--port", str(port), "--save", "", "--appendonly", "no"],
                              stdout=subprocess.DEVNULL)
    try:
        client = Redis(port=port)
        for _ in range(100):
            try:
                client.ping()
                break
            except RedisConnectionError:
                time.sleep(0.05)
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        server.terminate()
        server.wait()


def main() -> None:
    with redis_url() as url:
        run(Redis.from_url(url, decode_responses=True))


def run(redis: Redis) -> None:
    store = StatsStore(redis)
    rng = random.Random(7)
    last = date(2026, 11, 22)
    days = [last - timedelta(days=n) for n in range(364, -1, -1)]
    cleanup(redis)
    try:
        events, fold_seconds = 0, 0.0
        for day in days:
            events += simulate_day(redis, day, rng)
            started = time.perf_counter()
            store.fold(SLUG, ZONE, 30)
            fold_seconds += time.perf_counter() - started
        names = [d.isoformat() for d in days]
        fields = sum(redis.hlen(f"{tag(SLUG)}:stats:day:{d}") for d in names)
        print(f"folded {events} events of 365 days in {fold_seconds:.1f} s ({events / fold_seconds:,.0f} events/s)")
        print(f"per-day hashes: 365, {fields} fields in all ({fields / 365:.0f} a day)")
        for label, breakdown in (("year report, API default (days' counts only, total from 12 monthly rollups)", None),
                                 ("year report, every day broken down by hour and size", True)):
            timings, reads, cpu = [], [], []
            per_day = stats.wants_breakdown(len(names), breakdown)
            for _ in range(20):
                started, started_cpu = time.perf_counter(), time.process_time()
                raw, total = store.range(SLUG, names, per_day)
                read = time.perf_counter()
                result = stats.report(raw, per_day, total)
                timings.append(time.perf_counter() - started)
                cpu.append(time.process_time() - started_cpu)
                reads.append(read - started)
            print(f"{label}: median {statistics.median(timings) * 1000:.0f} ms (reading "
                  f"{statistics.median(reads) * 1000:.0f} ms; CPU time of this process "
                  f"{statistics.median(cpu) * 1000:.0f} ms), max {max(timings) * 1000:.0f} ms over 20 runs")
        print(f"load average during the run: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
        print(f"check: {result['total']['parties']['joined']} parties, median wait "
              f"{result['total']['wait']['overall']['median']} min")
    finally:
        cleanup(redis)


def cleanup(redis: Redis) -> None:
    for key in redis.scan_iter(match=f"{tag(SLUG)}:*", count=1000):
        redis.delete(key)


if __name__ == "__main__":
    main()
