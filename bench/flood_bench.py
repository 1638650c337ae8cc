"""Flood benchmark: N open public live pages while staff add parties at a fixed rate (issue 26).

    .venv/bin/python bench/flood_bench.py --redis-url redis://127.0.0.1:6379/12          # N = 0, 1,000, 5,000
    .venv/bin/python bench/flood_bench.py --pages 5000 --repeat 3 --redis-url ...          # the spread of 3 runs

For each N it starts the Procfile's web command as it is (gevent, config/gunicorn.py, default caps, rate
limits on) on a free loopback port over a Redis database of its own (flushed before and after; never 0),
then:

1. a pages process (this file, ``--pages-client``) opens N event streams, half lobby boards and half
   guest pages, spread over the restaurants, each from its own loopback address (127.x.y.z, bound as
   the client's source address: no proxy headers involved), and a flood of ``--one-address`` more
   board streams from the single address 127.0.0.77 (which its cap must refuse past 20 per process);
2. bench/loadgen.py (its own process, open loop) adds parties at ``--rate`` per second through the staff
   API, round-robin over the restaurants, for ``--duration`` seconds: its p50/p99 are the staff's add
   latency while the pages are open;
3. page update latency: for every push a page received during the run and every stream entry it
   covers (entries after the page's previous push, up to the pushed id), the time from the entry's
   commit (its Redis stream id is Redis's clock in ms, same machine) to the push reaching the page.

Each run gets a fresh server, so pages of the previous run are not counted against the caps. Results:
a markdown table on stdout and in bench/results/flood_bench.md, raw numbers in flood_bench.json.
"""
from __future__ import annotations

import argparse
import asyncio
import bisect
import json
import os
import re
import resource
import shlex
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
sys.path.insert(0, str(ROOT / "bench"))
sys.path.insert(0, str(ROOT))

from loadgen import call, stop_process_group  # noqa: E402

DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/12"
ADMIN_TOKEN = "flood-bench-admin"
ONE_ADDRESS = "127.0.0.77"
SLOW_ADDRESS = "127.0.0.88"
OPEN_CONCURRENCY = 200
DATA = re.compile(rb"data: (\d+-\d+)\n")


# --- the pages process ---------------------------------------------------------------------------------

def page_address(index: int) -> str:
    """The index-th of many distinct loopback addresses (never 127.0.0.x, where the bench's own traffic is)."""
    return f"127.{1 + index // 62_500}.{(index // 250) % 250}.{1 + index % 250}"


async def open_page(port: int, path: str, source: str, record: dict[str, Any]) -> None:
    """One page: the answer's status and, for an open stream, each pushed id with when it arrived."""
    try:
        reader, writer = await asyncio.open_connection("127.0.0.1", port, local_addr=(source, 0))
        writer.write(f"GET {path} HTTP/1.1\r\nHost: bench\r\nAccept: text/event-stream\r\n\r\n".encode())
        head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 30)
    except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, TimeoutError) as exc:
        record["status"] = type(exc).__name__
        return
    record["status"] = int(head.split(b" ", 2)[1])
    if record["status"] != 200:
        writer.close()
        return
    events: list[tuple[float, str]] = record.setdefault("events", [])
    events.extend((time.time(), match.decode()) for match in DATA.findall(head))
    try:
        while chunk := await reader.read(65536):
            arrived = time.time()
            events.extend((arrived, match.decode()) for match in DATA.findall(chunk))
    except (OSError, asyncio.CancelledError):
        pass
    finally:
        writer.close()


async def pages_client(spec: dict[str, Any]) -> dict[str, Any]:
    port, pages, flood = int(spec["port"]), spec["pages"], int(spec["one_address"])
    records: list[dict[str, Any]] = [{"slug": page["slug"], "kind": page["kind"]} for page in pages]
    flood_records: list[dict[str, Any]] = [{} for _ in range(flood)]
    gate = asyncio.Semaphore(OPEN_CONCURRENCY)
    tasks = []

    async def opened(path: str, source: str, record: dict[str, Any]) -> None:
        async with gate:
            task = asyncio.ensure_future(open_page(port, path, source, record))
            while "status" not in record and not task.done():
                await asyncio.sleep(0.005)
        await task

    started = time.monotonic()
    for index, (page, record) in enumerate(zip(pages, records)):
        tasks.append(asyncio.ensure_future(opened(page["path"], page_address(index), record)))
    while any("status" not in record for record in records):
        await asyncio.sleep(0.05)
    open_seconds = time.monotonic() - started
    for record in flood_records:
        tasks.append(asyncio.ensure_future(opened(spec["flood_path"], ONE_ADDRESS, record)))
    while any("status" not in record for record in flood_records):
        await asyncio.sleep(0.05)
    slow_lifetimes: list[float] = []
    tasks += [asyncio.ensure_future(slow_client(port, slow_lifetimes)) for _ in range(int(spec.get("slow", 0)))]
    print("ready", flush=True)
    cpu_before, wall_before = _cpu(), time.monotonic()
    await asyncio.get_running_loop().run_in_executor(None, sys.stdin.readline)  # "stop"
    own_cpu = (_cpu() - cpu_before) / (time.monotonic() - wall_before)
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    return {"open_seconds": round(open_seconds, 2), "pages": records, "cpu_share": round(own_cpu, 3),
            "one_address": _count(record["status"] for record in flood_records),
            "many_addresses": _count(record["status"] for record in records),
            "slow_closed": len(slow_lifetimes), "slow_lifetime_s": _spread(slow_lifetimes)}


def _spread(values: list[float]) -> dict[str, float]:
    ordered = sorted(values)
    return {"min": round(ordered[0], 2), "p50": round(ordered[len(ordered) // 2], 2),
            "max": round(ordered[-1], 2)} if ordered else {}


async def slow_client(port: int, lifetimes: list[float]) -> None:
    """A connection that never finishes its headers, opened again each time the server closes it; each
    connection's life until the server closed it goes to ``lifetimes``."""
    while True:
        started = time.monotonic()
        try:
            reader, writer = await asyncio.open_connection("127.0.0.1", port, local_addr=(SLOW_ADDRESS, 0))
            writer.write(b"GET /healthz HTTP/1.1\r\nHost: bench\r\nX-Slow: ")
            await asyncio.wait_for(reader.read(4096), 120)
            lifetimes.append(time.monotonic() - started)
            writer.close()
        except (OSError, TimeoutError):
            await asyncio.sleep(0.1)


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _count(statuses: Any) -> dict[str, int]:
    counted: dict[str, int] = {}
    for status in statuses:
        counted[str(status)] = counted.get(str(status), 0) + 1
    return counted


# --- the server and one run ----------------------------------------------------------------------------

def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def procfile_web(port: int) -> list[str]:
    line = next(line for line in (ROOT / "Procfile").read_text().splitlines() if line.startswith("web:"))
    command = shlex.split(line.removeprefix("web:").replace("$PORT", str(port)).replace("0.0.0.0", "127.0.0.1"))
    return [str(Path(sys.executable).parent / command[0]), *command[1:]]


def start_server(redis_url: str) -> tuple[subprocess.Popen[bytes], int]:
    port = free_port()
    env = {**os.environ, "REDIS_URL": redis_url, "ADMIN_TOKEN": ADMIN_TOKEN, "SECRET_KEY": "flood-bench",
           "PUBLIC_BASE_URL": f"http://127.0.0.1:{port}", "LOG_LEVEL": "WARNING"}
    process = subprocess.Popen(procfile_web(port), cwd=ROOT, env=env, start_new_session=True,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if call(port, "GET", "/healthz")[0] == 200:
                return process, port
        except OSError:
            pass
        time.sleep(0.2)
    stop_process_group(process)
    raise RuntimeError("the web command did not start")


def cpu_seconds(root_pid: int) -> float:
    """CPU time of the gunicorn master and its workers so far, from /proc."""
    total = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if root_pid in (int(stat.parent.name), int(fields[1])):
            total += int(fields[11]) + int(fields[12])
    return total / os.sysconf("SC_CLK_TCK")


def set_up(port: int, restaurants: int) -> list[dict[str, Any]]:
    """The restaurants, each with its staff key and two guests' status-page tokens."""
    made = []
    for n in range(restaurants):
        slug = f"flood-{n}"
        status, body = call(port, "POST", "/api/v1/restaurants", {"slug": slug, "name": f"Flood {n}",
                                                                  "sms_from": f"+1212555{n:04d}"}, ADMIN_TOKEN)
        assert status == 201, body
        key = body["api_key"]
        tokens = []
        for guest in range(2):  # 206-555 numbers: loadgen's adds below stay clear of them
            status, party = call(port, "POST", f"/api/v1/restaurants/{slug}/parties", {
                "name": "Page Guest", "phone": f"+1206555{n * 2 + guest:04d}", "party_size": 2}, key)
            assert status == 201, party
            tokens.append(party["status_url"].rsplit("/", 1)[1])
        made.append({"slug": slug, "key": key, "tokens": tokens})
    return made


def page_plan(restaurants: list[dict[str, Any]], count: int) -> list[dict[str, str]]:
    pages = []
    for index in range(count):
        restaurant = restaurants[index % len(restaurants)]
        guest = index % 2 == 1 and restaurant["tokens"]
        path = f"/s/{restaurant['tokens'][index % len(restaurant['tokens'])]}/events" if guest \
            else f"/board/{restaurant['slug']}/events"
        pages.append({"slug": restaurant["slug"], "kind": "guest" if guest else "board", "path": path})
    return pages


def run_once(args: argparse.Namespace, restaurants: list[dict[str, Any]], pages: int, run: int) -> dict[str, Any]:
    from redis import Redis

    from waitlist.store.keys import events_key

    server, port = start_server(args.redis_url)
    pages_process = None
    try:
        spec = {"port": port, "pages": page_plan(restaurants, pages), "one_address": args.one_address,
                "slow": args.slow,
                "flood_path": f"/board/{restaurants[0]['slug']}/events"}
        pages_process = subprocess.Popen([sys.executable, __file__, "--pages-client"], stdin=subprocess.PIPE,
                                         stdout=subprocess.PIPE, start_new_session=True)
        assert pages_process.stdin is not None and pages_process.stdout is not None
        pages_process.stdin.write((json.dumps(spec) + "\n").encode())
        pages_process.stdin.flush()
        ready = pages_process.stdout.readline().decode().strip()
        assert ready == "ready", ready
        time.sleep(1.0)
        cpu_before, window_start = cpu_seconds(server.pid), time.time()
        load = {"host": "127.0.0.1", "port": port, "mode": "open", "rate": args.rate, "duration": args.duration,
                "connections": 16, "phone_offset": run * 2_000, "uvloop": False,
                "templates": [{"method": "POST", "path": f"/api/v1/restaurants/{r['slug']}/parties",
                               "headers": {"Authorization": f"Bearer {r['key']}"},
                               "body": json.dumps({"name": "Bench Guest", "phone": "{phone}", "party_size": 2})}
                              for r in restaurants]}
        done = subprocess.run([sys.executable, str(ROOT / "bench" / "loadgen.py")], input=json.dumps(load).encode(),
                              capture_output=True, timeout=args.duration + 60, check=True)
        adds = json.loads(done.stdout)
        time.sleep(2.0)  # the last pushes arrive
        cpu = cpu_seconds(server.pid) - cpu_before
        window_end = time.time()
        pages_process.stdin.write(b"stop\n")
        pages_process.stdin.flush()
        client = json.loads(pages_process.stdout.read())
        pages_process.wait(timeout=30)
        redis = Redis.from_url(args.redis_url, decode_responses=True)
        since = f"{int(window_start * 1000)}-0"
        entries = {r["slug"]: [_key(str(eid)) for eid, _ in redis.xrange(events_key(r["slug"]), since, "+") or []]
                   for r in restaurants}
        latencies = update_latencies(client["pages"], entries, window_start, window_end)
        heard = sum(1 for page in client["pages"] if len(page.get("events", [])) > 1)
        return {"pages": pages, "open_seconds": client["open_seconds"], "many_addresses": client["many_addresses"],
                "one_address": client["one_address"], "slow_closed": client["slow_closed"],
                "slow_lifetime_s": client["slow_lifetime_s"], "add_ms": adds["ms"], "adds": adds["statuses"],
                "add_errors": adds["errors"], "achieved_rps": adds.get("achieved_rps"),
                "update_ms": summary(latencies), "pages_updated": heard,
                "server_cpu_share": round(cpu / (window_end - window_start), 3),
                "pages_client_cpu_share": client["cpu_share"], "load": os.getloadavg()[0]}
    finally:
        if pages_process is not None and pages_process.poll() is None:
            stop_process_group(pages_process, grace=5)
        stop_process_group(server)


def _key(entry_id: str) -> tuple[int, int]:
    ms, seq = entry_id.split("-")
    return int(ms), int(seq)


def update_latencies(pages: list[dict[str, Any]], entries: dict[str, list[tuple[int, int]]],
                     window_start: float, window_end: float) -> list[float]:
    """Seconds from each entry's commit to each push covering it, on every page, within the window."""
    seconds: list[float] = []
    for page in pages:
        events = page.get("events", [])
        stream = entries.get(page["slug"], [])
        for (_, previous), (arrived, pushed) in zip(events, events[1:]):
            if not window_start <= arrived <= window_end:
                continue
            low, high = bisect.bisect_right(stream, _key(previous)), bisect.bisect_right(stream, _key(pushed))
            seconds.extend(arrived - ms / 1000 for ms, _ in stream[low:high])
    return seconds


def summary(values: list[float]) -> dict[str, float]:
    if not values:
        return {}
    ordered = sorted(values)
    pick = lambda q: ordered[min(len(ordered) - 1, int(q / 100 * len(ordered)))]  # noqa: E731
    return {"n": len(ordered), "p50": round(pick(50) * 1000, 1), "p99": round(pick(99) * 1000, 1),
            "max": round(ordered[-1] * 1000, 1)}


def table(results: list[dict[str, Any]], args: argparse.Namespace) -> str:
    lines = [f"Flood bench ({time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}): the Procfile's web command, "
             f"{args.restaurants} restaurants, adds at {args.rate:g}/s for {args.duration:g} s, "
             f"{args.one_address} more streams from one address, {args.slow} connections that never finish their "
             "headers kept open throughout; machine shared (load average at the end shown).",
             "",
             "| open pages | opened in | add p50 | add p99 | adds ok | page update p50 | p99 | max | pages updated "
             "| one address: 200 / 429 | header-less connections closed after | server CPU | pages' CPU | load |",
             "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in results:
        update, slow = r["update_ms"], r["slow_lifetime_s"]
        lines.append(
            f"| {r['pages']:,} | {r['open_seconds']} s | {r['add_ms'].get('p50')} ms | {r['add_ms'].get('p99')} ms "
            f"| {r['adds'].get('201', 0)} | {update.get('p50', '-')} ms | {update.get('p99', '-')} ms "
            f"| {update.get('max', '-')} ms | {r['pages_updated']:,} | {r['one_address'].get('200', 0)} / "
            f"{r['one_address'].get('429', 0)} | {slow.get('p50', '-')}-{slow.get('max', '-')} s "
            f"({r['slow_closed']}) | {r['server_cpu_share']:.0%} | {r['pages_client_cpu_share']:.0%} "
            f"| {r['load']:.1f} |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--redis-url", default=os.environ.get("BENCH_REDIS_URL", DEFAULT_REDIS_URL))
    parser.add_argument("--pages", default="0,1000,5000", help="comma-separated numbers of open pages")
    parser.add_argument("--repeat", type=int, default=1, help="runs per number of pages")
    parser.add_argument("--restaurants", type=int, default=100)
    parser.add_argument("--rate", type=float, default=50.0, help="staff adds per second")
    parser.add_argument("--duration", type=float, default=20.0, help="seconds of adds per run")
    parser.add_argument("--one-address", type=int, default=500, help="streams tried from one address")
    parser.add_argument("--slow", type=int, default=100,
                        help="connections that never finish their headers, kept open throughout (reopened when closed)")
    parser.add_argument("--out", type=Path, default=RESULTS / "flood_bench.md")
    parser.add_argument("--pages-client", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.pages_client:
        signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
        spec = json.loads(sys.stdin.readline())
        result = asyncio.run(pages_client(spec))
        sys.stdout.write(json.dumps(result))
        return 0
    if (urlparse(args.redis_url).path.strip("/") or "0") == "0":
        parser.error("use a Redis database of the benchmark's own (e.g. /12): it is flushed")
    from redis import Redis

    redis = Redis.from_url(args.redis_url)
    redis.flushdb()
    results: list[dict[str, Any]] = []
    try:
        server, port = start_server(args.redis_url)
        try:
            restaurants = set_up(port, args.restaurants)
        finally:
            stop_process_group(server)
        counts = [int(n) for n in args.pages.split(",")]
        if len(counts) * args.repeat * 2_000 > 70_000:
            parser.error("too many runs for distinct phone numbers")  # loadgen's 206 numbers start at 70,000
        for count in counts:
            for _ in range(args.repeat):
                results.append(run_once(args, restaurants, count, len(results)))
                print(json.dumps({k: v for k, v in results[-1].items()}), flush=True)
    finally:
        redis.flushdb()
    text = table(results, args)
    print(text)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text)
    args.out.with_suffix(".json").write_text(json.dumps(results, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
