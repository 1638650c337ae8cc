"""One restaurant's long list against everyone else (issue 26): list reads at 10, 100, 1,000 and 3,000
parties, the longest single script Redis ran meanwhile, and a neighbour restaurant's add p99 while the
3,000-party list is read twice a second.

    .venv/bin/python bench/list_bench.py                          # this tree, about 2 minutes
    git worktree add /tmp/before <commit> && .venv/bin/python bench/list_bench.py --compare-root /tmp/before \
        [--rounds 3 --reads 30 --seconds 10]     # interleaved rounds on a busy machine

Each target runs in a process of its own (its own ``sys.path``, so the compare root's code is what
runs), one after the other on a redis-server the benchmark starts for itself on a free port (so its slow
log and settings are its own, and no other tenant's commands queue in front of its own; or ``--redis-
url``, a database it flushes before and after each target). The app is called as WSGI through Flask's
test client: no HTTP server, so what is measured is the app and Redis, not gunicorn. The reads are the
whole list without ``limit`` or ``cursor`` (what an existing client asks, and all the old code could
answer) and, where the tree has paging, the first page of 100.

Script times come from Redis's SLOWLOG (its own clock; a shared server's settings are put back after): every
script over 20 us of the first five whole-list reads at each size: how many a read runs, their median, and
the longest of a read (the median over the five reads; a busy machine pauses Redis mid-script now and
then, and a read of 60 scripts is likelier to meet a pause than a read of one), and, while the reader
runs, every script over 100 us. The neighbour adds 20 parties a second from this
process while a second process reads the big list every 0.5 s; its p99 is compared with the same adds
with no reader, in the same run. Two shared cores make absolute figures noisy: read the ratios.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
SIZES = (10, 100, 1000, 3000)
ADMIN = "bench-admin"
SLOW_US = 100
READ_US = 20
"""Over a read, scripts over 20 us are logged: every list script, but not the commands inside one (at 0,
logging each of a slice's 100 HGETALLs would add its own time to the script's)."""
BIG, NEIGHBOUR = "bench-big-list", "bench-neighbour"


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else 0.0


def build(root: Path, url: str) -> tuple[Any, Any]:
    """The app of the tree at ``root`` over the Redis at ``url``, and that Redis."""
    sys.path.insert(0, str(root))
    from config import Config

    try:
        from waitlist.store.connections import waitlist_redis
        redis = waitlist_redis(url)
    except ImportError:  # an older tree
        import redis as redis_py
        redis = redis_py.Redis.from_url(url, decode_responses=True)
    from waitlist.web.app import create_app

    config = Config(secret_key="bench", admin_token=ADMIN, public_base_url="https://bench.example.com",
                    ratelimit_storage_uri="memory://")
    return create_app(config, redis=redis), redis


def create(client: Any, slug: str, number: str) -> dict[str, str]:
    body = {"slug": slug, "name": slug.title(), "sms_from": number}
    answer = client.post("/api/v1/restaurants", json=body, headers={"Authorization": f"Bearer {ADMIN}"})
    assert answer.status_code == 201, answer.get_json()
    return {"Authorization": f"Bearer {answer.get_json()['api_key']}"}


def add(client: Any, slug: str, headers: dict[str, str], i: int, prefix: str) -> float:
    started = time.perf_counter()
    answer = client.post(f"/api/v1/restaurants/{slug}/parties", headers=headers,
                         json={"name": f"Guest {i}", "party_size": 1 + i % 6, "phone": f"+1{prefix}{2_000_000 + i}"})
    assert answer.status_code == 201, answer.get_json()
    return (time.perf_counter() - started) * 1000


def is_script(entry: dict[str, Any]) -> bool:
    """A script on one of this benchmark's restaurants (the slow log is the server's: other databases'
    scripts are in it too)."""
    command = entry.get("command", b"")
    text = command if isinstance(command, bytes) else str(command).encode()
    return text.upper().startswith((b"EVALSHA", b"EVAL ")) and (BIG.encode() in text or NEIGHBOUR.encode() in text)


class SlowLog:
    """Scripts' run times by Redis's own clock (microseconds), from its SLOWLOG."""

    def __init__(self, redis: Any):
        self.redis = redis
        self.saved = {k: redis.config_get(k)[k] for k in ("slowlog-log-slower-than", "slowlog-max-len")}
        redis.config_set("slowlog-max-len", 8192)
        self.threshold(SLOW_US)

    def threshold(self, us: int) -> None:
        self.redis.config_set("slowlog-log-slower-than", us)
        self.redis.slowlog_reset()

    def scripts(self) -> list[float]:
        """The run times (ms) of the scripts logged since the last call, longest first."""
        entries = self.redis.slowlog_get(8192)
        self.redis.slowlog_reset()
        return sorted((e["duration"] / 1000 for e in entries if is_script(e)), reverse=True)

    def close(self) -> None:
        for key, value in self.saved.items():
            self.redis.config_set(key, value)


def run_target(root: Path, url: str, reads: int, seconds: float) -> dict[str, Any]:
    app, redis = build(root, url)
    redis.flushdb()
    client = app.test_client()
    big, neighbour = create(client, BIG, "+14155550100"), create(client, NEIGHBOUR, "+14155550101")
    add(client, NEIGHBOUR, neighbour, 0, "510")
    slow = SlowLog(redis)
    out: dict[str, Any] = {"sizes": {}}
    try:
        joined = 0
        for size in SIZES:
            while joined < size:
                add(client, BIG, big, joined, "415")
                joined += 1
            whole, page, longest, scripts = [], [], [], []
            for n in range(reads if size < 3000 else max(20, reads // 5)):
                slow.threshold(READ_US if n < 5 else SLOW_US)  # every script of the first 5 reads
                started = time.perf_counter()
                answer = client.get(f"/api/v1/restaurants/{BIG}/parties", headers=big)
                whole.append((time.perf_counter() - started) * 1000)
                assert answer.status_code == 200 and len(answer.get_json()["parties"]) == size
                if n < 5:
                    logged = slow.scripts() or [0.0]
                    longest.append(logged[0])
                    scripts += logged
                started = time.perf_counter()
                answer = client.get(f"/api/v1/restaurants/{BIG}/parties?limit=100", headers=big)
                if answer.status_code == 200:
                    page.append((time.perf_counter() - started) * 1000)
            out["sizes"][size] = {"whole_p50": statistics.median(whole), "whole_p99": percentile(whole, 0.99),
                                  "page_p99": percentile(page, 0.99) if page else None,
                                  "longest_script_ms": statistics.median(longest),
                                  "script_p50_ms": statistics.median(scripts), "scripts_per_read": len(scripts) / 5}
        slow.threshold(SLOW_US)
        out["neighbour_alone"] = neighbour_adds(client, neighbour, seconds, 1)
        slow.scripts()
        reader = subprocess.Popen([sys.executable, __file__, "--reader", "--root", str(root), "--redis-url", url],
                                  stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        reader.stdin.write(json.dumps(big) + "\n")
        reader.stdin.flush()
        assert reader.stdout.readline().strip() == "reading"
        out["neighbour_with_reader"] = neighbour_adds(client, neighbour, seconds, 100_000)
        reader.stdin.close()
        out["reads_done"] = int(reader.stdout.readline() or 0)
        reader.wait(timeout=30)
        during = slow.scripts()
        out["scripts_over_1ms_with_reader"] = sum(1 for ms in during if ms > 1)
        out["longest_ms_with_reader"] = during[0] if during else 0.0
    finally:
        slow.close()
        redis.flushdb()
    return out


def neighbour_adds(client: Any, headers: dict[str, str], seconds: float, first: int) -> dict[str, float]:
    """Adds at 20 a second for ``seconds``; latency p50/p99 in ms."""
    took: list[float] = []
    started = time.monotonic()
    i = first
    while time.monotonic() - started < seconds:
        due = started + len(took) / 20
        if time.monotonic() < due:
            time.sleep(due - time.monotonic())
        took.append(add(client, NEIGHBOUR, headers, i, "510"))
        i += 1
    return {"adds": len(took), "p50": statistics.median(took), "p99": percentile(took, 0.99)}


def reader(root: Path, url: str) -> None:
    """Reads the big list every 0.5 s (as an old client: the whole list) until stdin closes."""
    app, _redis = build(root, url)
    client = app.test_client()
    headers = json.loads(sys.stdin.readline())
    stop = threading.Event()
    threading.Thread(target=lambda: (sys.stdin.read(), stop.set()), daemon=True).start()
    print("reading", flush=True)
    done = 0
    while not stop.is_set():
        due = time.monotonic() + 0.5
        assert client.get(f"/api/v1/restaurants/{BIG}/parties", headers=headers).status_code == 200
        done += 1
        stop.wait(max(0.0, due - time.monotonic()))
    print(done, flush=True)


def report(name: str, result: dict[str, Any]) -> None:
    print(f"\n{name}")
    print("  parties   whole list p50 / p99 ms   first page of 100, p99 ms   a whole-list read's scripts: count, "
          "median, longest")
    for size, row in result["sizes"].items():
        page = f"{row['page_p99']:.1f}" if row["page_p99"] is not None else "(no paging)"
        print(f"  {int(size):>7}   {row['whole_p50']:8.1f} / {row['whole_p99']:6.1f}        {page:>11}"
              f"                 {row['scripts_per_read']:4.0f}, {row['script_p50_ms']:6.2f} ms, "
              f"{row['longest_script_ms']:6.2f} ms")
    alone, busy = result["neighbour_alone"], result["neighbour_with_reader"]
    print(f"  neighbour add p50/p99: {alone['p50']:.1f} / {alone['p99']:.1f} ms alone, {busy['p50']:.1f} / "
          f"{busy['p99']:.1f} ms while the 3,000-party list is read twice a second ({result['reads_done']} reads); "
          f"scripts over 1 ms meanwhile: {result['scripts_over_1ms_with_reader']}, longest "
          f"{result['longest_ms_with_reader']:.2f} ms")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--redis-url", default=os.environ.get("BENCH_REDIS_URL"),
                        help="a Redis database to use and flush (default: a redis-server of its own)")
    parser.add_argument("--reads", type=int, default=100, help="list reads per size (a fifth at 3,000)")
    parser.add_argument("--seconds", type=float, default=20.0, help="neighbour adds per phase")
    parser.add_argument("--compare-root", type=Path, default=None, help="a checkout of an earlier commit")
    parser.add_argument("--rounds", type=int, default=1, help="run the targets this many times, interleaved")
    parser.add_argument("--root", type=Path, default=ROOT, help=argparse.SUPPRESS)
    parser.add_argument("--target", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--reader", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.reader:
        reader(args.root, args.redis_url)
        return 0
    if args.target:
        print(json.dumps(run_target(args.root, args.redis_url, args.reads, args.seconds)))
        return 0
    targets = [("this tree", ROOT)] + ([("compare root", args.compare_root)] if args.compare_root else [])
    if args.redis_url:
        return run_all(targets, args, args.redis_url)
    sys.path.insert(0, str(ROOT))
    from tests.redis_servers import RedisServer

    with RedisServer() as server:  # its own server: its slow log and settings are the benchmark's alone
        return run_all(targets, args, server.url)


def run_all(targets: list[tuple[str, Path]], args: argparse.Namespace, url: str) -> int:
    for n in range(args.rounds):  # interleaved: each round runs every target, so both see the same hours
        if args.rounds > 1:
            print(f"\n--- round {n + 1} of {args.rounds}")
        code = run_round(targets, args, url)
        if code:
            return code
    return 0


def run_round(targets: list[tuple[str, Path]], args: argparse.Namespace, url: str) -> int:
    for name, root in targets:
        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=root, capture_output=True, text=True,
                                check=False).stdout.strip()
        done = subprocess.run([sys.executable, __file__, "--target", "--root", str(root), "--redis-url",
                               url, "--reads", str(args.reads), "--seconds", str(args.seconds)],
                              capture_output=True, text=True, check=False)
        if done.returncode != 0:
            print(done.stderr[-3000:], file=sys.stderr)
            return done.returncode
        report(f"{name} ({commit})", json.loads(done.stdout.strip().splitlines()[-1]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
