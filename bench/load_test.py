"""Friday-rush load test: 200 restaurants' hosts, guests and owners on one 2-core machine, texts really sent.

    .venv/bin/python bench/load_test.py                      # 10 minutes (the figure of record)
    .venv/bin/python bench/load_test.py --duration 60        # a development run

Starts, on free loopback ports and in a temporary directory, everything production runs:

* two ``redis-server`` processes of its own (tests/redis_servers.py): the waitlist's, with the production
  settings (AOF everysec, noeviction), so INFO memory counts waitlist data only; and RQ's (RQ_REDIS_URL);
* gunicorn ``wsgi:app`` as the Procfile runs it (gthread), rate limits off (RATE_LIMITS_DISABLED=1: the
  generator comes from one address, and the limiter keys by remote address);
* ``rq worker --with-scheduler`` processes (workers.worker.TextWorker) sending to a Twilio-compatible server
  (tests/twilio_server.py) in a process of its own, so every text goes through the real twilio client;

then drives it open-loop (request ``i`` is due at ``start + i / rate``; latency counts from the due time,
so a server falling behind shows its queueing instead of slowing the generator down) with a mix, per
second at the default 300 requests/s, of: hosts adding (24), listing (40), notifying (22) and seating (20)
parties; guests polling ``GET /api/v1/status/{token}`` (70) and ``GET /s/{token}`` (50) and texting
replies (14, signed ``POST /sms/inbound``: STATUS or 1, each answered by a text); owners polling the
public estimate (60).

Before the rush every restaurant gets ``--prefill`` waiting parties; INFO used_memory before and after
(texts sent, queues drained) gives the memory per waiting party. Prints and writes a markdown table
(bench/results/load_test.md, raw numbers in load_test.json): sustained requests/s, p50/p99 per endpoint,
texts per second through the workers, memory per party, and every answer that was not 2xx. Goal: p99
under 50 ms for every staff endpoint at 300 requests/s. Every process it starts is stopped on the way out.
"""
from __future__ import annotations

import argparse
import asyncio
import http.client
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from loadgen import Connection, call, phone_number, stop_process_group  # noqa: E402
from redis import Redis  # noqa: E402

from tests.redis_servers import PRODUCTION_SETTINGS, RedisServer, free_ports  # noqa: E402

RESULTS = ROOT / "bench" / "results"
BIN = Path(sys.executable).parent
ADMIN_TOKEN = "load-admin-token"
PUBLIC_BASE_URL = "https://wait.example.com"
TWILIO_AUTH_TOKEN = "load-auth-token"
REQUEST_TIMEOUT_SECONDS = 10.0
STAFF_P99_GOAL_MS = 50.0
GRACE_SECONDS = 15.0
"""Requests due in the rush but not sent this long after it are dropped and counted, not sent late."""
SLOW_SECONDS = STAFF_P99_GOAL_MS / 1000
"""Answers slower than the staff goal are counted per second of the rush, to tell steady queueing from
stalls: a few seconds holding most of them point at something that stops the world now and then."""

MIX: dict[str, int] = {
    "host add party": 24,
    "host list parties": 40,
    "host notify": 22,
    "host seat": 20,
    "guest GET /api/v1/status": 70,
    "guest GET /s/{token}": 50,
    "guest text reply (POST /sms/inbound)": 14,
    "owner GET estimate": 60,
}
"""Relative weights; at 300 requests/s each is about its number per second."""
STAFF = {"host add party", "host list parties", "host notify", "host seat"}


# --- the Twilio-compatible server in a process of its own ------------------------------------------


def twilio_server_main() -> None:
    """``load_test.py --twilio-server``: serve until stdin closes; GET /_count answers how many were taken."""
    from werkzeug.wrappers import Request, Response

    from tests.twilio_server import TwilioServer

    class CountingServer(TwilioServer):
        def _dispatch(self, request: Request) -> Response:
            if request.path == "/_count":
                with self._lock:
                    return Response(json.dumps({"accepted": len(self.accepted), "posts": len(self.posts)}),
                                    content_type="application/json")
            return super()._dispatch(request)

        def _list(self, request: Request, base: str) -> Response:
            # The senders ask before a retry whether a message was taken; keep that cheap at 20k messages.
            with self._lock:
                self.accepted = self.accepted[-5000:]
            return super()._list(request, base)

    with CountingServer(auth_token=TWILIO_AUTH_TOKEN) as server:
        print(server.url, flush=True)
        sys.stdin.read()


# --- processes -------------------------------------------------------------------------------------


@dataclass
class Process:
    name: str
    process: subprocess.Popen[bytes]
    log_path: Path

    def stop(self) -> None:
        stop_process_group(self.process)


def spawn(name: str, command: list[str], env: dict[str, str], log_dir: Path, **kwargs: Any) -> Process:
    log_path = log_dir / f"{name}.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=kwargs.pop("stdout", log),
                                   stderr=subprocess.STDOUT if "stdout" not in kwargs else log,
                                   start_new_session=True, **kwargs)
    return Process(name, process, log_path)


def wait_for(check: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if check():
                return
        except OSError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"timed out waiting for {what}")


# --- the simulated people --------------------------------------------------------------------------


@dataclass
class Guest:
    party_id: str
    token: str
    phone: str


@dataclass
class RestaurantState:
    slug: str
    api_key: str
    sms_from: str
    waiting: deque[Guest] = field(default_factory=deque)
    notified: deque[Guest] = field(default_factory=deque)
    recent: deque[Guest] = field(default_factory=lambda: deque(maxlen=40))
    """Guests still looking at their status page: waiting ones and the last few seated."""


@dataclass
class Tally:
    latencies: dict[str, list[float]] = field(default_factory=dict)
    statuses: dict[str, dict[str, int]] = field(default_factory=dict)
    errors: dict[str, dict[str, int]] = field(default_factory=dict)
    bad_samples: list[str] = field(default_factory=list)
    unsent: int = 0
    """Requests still waiting for a free connection GRACE_SECONDS after the rush ended (a server behind)."""
    slow_by_second: dict[int, int] = field(default_factory=dict)
    """Answers over SLOW_SECONDS by the second of the rush they were due in."""

    def record(self, name: str, status: int, seconds: float, body: bytes, second: int = 0) -> None:
        self.latencies.setdefault(name, []).append(seconds)
        if seconds > SLOW_SECONDS:
            self.slow_by_second[second] = self.slow_by_second.get(second, 0) + 1
        counts = self.statuses.setdefault(name, {})
        counts[str(status)] = counts.get(str(status), 0) + 1
        if not 200 <= status < 300 and status != 429 and len(self.bad_samples) < 20:
            self.bad_samples.append(f"{name}: {status} {body[:200]!r}")

    def error(self, name: str, exc: BaseException) -> None:
        counts = self.errors.setdefault(name, {})
        counts[type(exc).__name__] = counts.get(type(exc).__name__, 0) + 1


def http_request(method: str, path: str, *, token: str | None = None, json_body: Any = None,
                 form: dict[str, str] | None = None, headers: dict[str, str] | None = None) -> bytes:
    lines = [f"{method} {path} HTTP/1.1", "Host: 127.0.0.1", "Connection: keep-alive"]
    body = b""
    if token:
        lines.append(f"Authorization: Bearer {token}")
    if json_body is not None:
        body = json.dumps(json_body).encode()
        lines.append("Content-Type: application/json")
    elif form is not None:
        body = urlencode(form).encode()
        lines.append("Content-Type: application/x-www-form-urlencoded")
    if method in ("POST", "PATCH", "PUT"):
        lines.append(f"Content-Length: {len(body)}")
    lines += [f"{name}: {value}" for name, value in (headers or {}).items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


class Rush:
    """Chooses each due request from the mix and the restaurants' current state, and acts on the answer."""

    def __init__(self, restaurants: list[RestaurantState], phone_offset: int, seed: int = 8):
        from twilio.request_validator import RequestValidator

        self.restaurants = restaurants
        self.rng = random.Random(seed)
        self.names = list(MIX)
        self.weights = [MIX[n] for n in self.names]
        self.next_phone = phone_offset
        self.sids = 0
        self.validator = RequestValidator(TWILIO_AUTH_TOKEN)

    def pick(self) -> RestaurantState:
        return self.restaurants[self.rng.randrange(len(self.restaurants))]

    def pick_with(self, attr: str) -> RestaurantState | None:
        for _ in range(20):
            restaurant = self.pick()
            if getattr(restaurant, attr):
                return restaurant
        return None

    def next_request(self) -> tuple[str, bytes, Callable[[int, bytes], None]]:
        name = self.rng.choices(self.names, self.weights)[0]
        noop: Callable[[int, bytes], None] = lambda status, body: None  # noqa: E731
        base = "/api/v1/restaurants"
        if name == "host notify":
            restaurant = self.pick_with("waiting")
            if restaurant is not None:
                guest = restaurant.waiting.popleft()
                def notified(status: int, body: bytes, r: RestaurantState = restaurant, g: Guest = guest) -> None:
                    if status == 200:
                        r.notified.append(g)
                return name, http_request("POST", f"{base}/{restaurant.slug}/parties/{guest.party_id}/notify",
                                          token=restaurant.api_key), notified
            name = "host add party"
        if name == "host seat":
            restaurant = self.pick_with("notified")
            if restaurant is not None:
                guest = restaurant.notified.popleft()
                return name, http_request("POST", f"{base}/{restaurant.slug}/parties/{guest.party_id}/seat",
                                          token=restaurant.api_key), noop
            name = "host list parties"
        if name == "host add party":
            restaurant = self.pick()
            phone = phone_number(self.next_phone)
            self.next_phone += 1
            body = {"name": "Friday Guest", "phone": phone, "party_size": self.rng.choice((2, 2, 2, 3, 4, 4, 6))}
            def added(status: int, answer: bytes, r: RestaurantState = restaurant, p: str = phone) -> None:
                if status == 201:
                    party = json.loads(answer)
                    guest = Guest(party["id"], party["status_url"].rsplit("/", 1)[1], p)
                    r.waiting.append(guest)
                    r.recent.append(guest)
            return name, http_request("POST", f"{base}/{restaurant.slug}/parties", token=restaurant.api_key,
                                      json_body=body), added
        if name == "host list parties":
            restaurant = self.pick()
            return name, http_request("GET", f"{base}/{restaurant.slug}/parties", token=restaurant.api_key), noop
        if name == "owner GET estimate":
            restaurant = self.pick()
            size = self.rng.choice((2, 4, 6))
            return name, http_request("GET", f"{base}/{restaurant.slug}/estimate?party_size={size}"), noop
        restaurant = self.pick_with("recent") or self.pick()
        if not restaurant.recent:
            return "owner GET estimate", http_request("GET", f"{base}/{restaurant.slug}/estimate"), noop
        guest = restaurant.recent[self.rng.randrange(len(restaurant.recent))]
        if name == "guest GET /api/v1/status":
            return name, http_request("GET", f"/api/v1/status/{guest.token}"), noop
        if name == "guest GET /s/{token}":
            return name, http_request("GET", f"/s/{guest.token}", headers={"Accept": "text/html"}), noop
        self.sids += 1
        form = {"MessageSid": f"SM{self.sids:032x}", "AccountSid": "AC" + "0" * 32, "From": guest.phone,
                "To": restaurant.sms_from, "Body": self.rng.choice(("STATUS", "1")), "NumMedia": "0"}
        signature = self.validator.compute_signature(f"{PUBLIC_BASE_URL}/sms/inbound", form)
        return name, http_request("POST", "/sms/inbound", form=form,
                                  headers={"X-Twilio-Signature": signature}), noop


async def drive(port: int, rush: Rush, rate: float, duration: float, connections: int, tally: Tally) -> float:
    """Open loop: request ``i`` is due at ``start + i / rate``; its latency runs from when it was due."""
    due: asyncio.Queue[float | None] = asyncio.Queue()
    start = time.perf_counter() + 0.1
    total = int(rate * duration)

    async def schedule() -> None:
        for i in range(total):
            at = start + i / rate
            delay = at - time.perf_counter() - 0.0015
            if delay > 0:
                await asyncio.sleep(delay)
            due.put_nowait(at)
        for _ in range(connections):
            due.put_nowait(None)

    async def send() -> None:
        conn = Connection("127.0.0.1", port)
        while (at := await due.get()) is not None:
            if time.perf_counter() > start + duration + GRACE_SECONDS:
                tally.unsent += 1  # the server fell this far behind: stop offering, count what was not sent
                continue
            name, payload, on_answer = rush.next_request()
            began = min(at, time.perf_counter())
            try:
                status, body = await asyncio.wait_for(conn.request(payload), REQUEST_TIMEOUT_SECONDS)
            except (TimeoutError, OSError, asyncio.IncompleteReadError, ValueError) as exc:
                conn.close()
                tally.error(name, exc)
                continue
            tally.record(name, status, time.perf_counter() - began, body, int(at - start))
            on_answer(status, body)
        conn.close()

    await asyncio.gather(schedule(), *(send() for _ in range(connections)))
    return time.perf_counter() - start


# --- the run ---------------------------------------------------------------------------------------


def percentile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q / 100 * len(ordered)) - 1))]


def twilio_count(url: str) -> int:
    host, port = url.rsplit(":", 1)
    conn = http.client.HTTPConnection("127.0.0.1", int(port), timeout=5)
    try:
        conn.request("GET", "/_count")
        return int(json.loads(conn.getresponse().read())["posts"])
    finally:
        conn.close()


def queues_drained(rq: Redis) -> bool:
    return all(rq.llen(f"rq:queue:{q}") == 0 for q in ("texts",)) and rq.zcard("rq:wip:texts") == 0


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--duration", type=float, default=600.0, help="seconds of rush (default 600)")
    parser.add_argument("--rate", type=float, default=300.0, help="requests per second (default 300)")
    parser.add_argument("--restaurants", type=int, default=200)
    parser.add_argument("--prefill", type=int, default=10, help="waiting parties per restaurant before the rush")
    parser.add_argument("--web-workers", type=int, default=3, help="gunicorn worker processes")
    parser.add_argument("--threads", type=int, default=4, help="threads per gunicorn worker")
    parser.add_argument("--rq-workers", type=int, default=2)
    parser.add_argument("--connections", type=int, default=64, help="generator connections")
    parser.add_argument("--out", default=str(RESULTS / "load_test"), help="results path without extension")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    if argv is None and sys.argv[1:2] == ["--twilio-server"]:
        twilio_server_main()
        return 0
    args = parse_args(argv)
    try:
        import uvloop

        asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())
    except ImportError:
        pass
    workdir = Path(tempfile.mkdtemp(prefix="load-test-"))
    logs = workdir / "logs"
    logs.mkdir()
    print(f"working in {workdir}", flush=True)
    waitlist_redis = RedisServer(workdir, settings=PRODUCTION_SETTINGS, name="waitlist-redis")
    rq_redis = RedisServer(workdir, name="rq-redis")
    processes: list[Process] = []
    twilio: Process | None = None
    try:
        waitlist_redis.start()
        rq_redis.start()
        base_env = {k: v for k, v in os.environ.items()
                    if not k.startswith(("TWILIO_", "REDIS_", "RQ_", "RATE", "TEXT_", "WAITLIST_"))}
        base_env["PYTHONPATH"] = str(ROOT)
        twilio = spawn("twilio", [sys.executable, str(Path(__file__).resolve()), "--twilio-server"], base_env, logs,
                       stdout=subprocess.PIPE, stdin=subprocess.PIPE)
        assert twilio.process.stdout is not None
        twilio_url = twilio.process.stdout.readline().decode().strip()
        if not twilio_url.startswith("http"):
            raise RuntimeError(f"the Twilio-compatible server did not start: see {twilio.log_path}")
        env = {**base_env, "REDIS_URL": waitlist_redis.url, "RQ_REDIS_URL": rq_redis.url,
               "ADMIN_TOKEN": ADMIN_TOKEN, "SECRET_KEY": "load-secret-key", "PUBLIC_BASE_URL": PUBLIC_BASE_URL,
               "RATE_LIMITS_DISABLED": "1", "TWILIO_ACCOUNT_SID": "AC" + "0" * 31 + "1",
               "TWILIO_AUTH_TOKEN": TWILIO_AUTH_TOKEN, "TWILIO_API_URL": twilio_url,
               "TWILIO_TIMEOUT_SECONDS": "5", "LOG_LEVEL": "WARNING"}
        [port] = free_ports(1)
        web = spawn("gunicorn", [str(BIN / "gunicorn"), "wsgi:app", "-b", f"127.0.0.1:{port}",
                                 "-w", str(args.web_workers), "-k", "gthread", "--threads", str(args.threads),
                                 "--log-level", "warning", "--timeout", "60"], env, logs)
        processes.append(web)
        for n in range(args.rq_workers):
            processes.append(spawn(f"worker-{n}", [str(BIN / "rq"), "worker", "--with-scheduler", "-w",
                                                   "workers.worker.TextWorker", "--url", rq_redis.url,
                                                   "--logging_level", "WARNING", "texts", "timers"], env, logs))
        wait_for(lambda: call(port, "GET", "/healthz")[0] == 200, 30, "gunicorn")

        # Restaurants, then the memory a waiting party costs (measured with the workers' texts sent).
        restaurants = []
        for i in range(args.restaurants):
            slug, sms_from = f"rush-{i:03d}", phone_number(90_000 + i)
            status, answer = call(port, "POST", "/api/v1/restaurants",
                                  {"slug": slug, "name": f"Rush {i}", "sms_from": sms_from}, ADMIN_TOKEN)
            if status != 201:
                raise RuntimeError(f"creating {slug}: {status} {answer}")
            restaurants.append(RestaurantState(slug, answer["api_key"], sms_from))
        redis = waitlist_redis.client()
        rq = rq_redis.client()
        wait_for(lambda: queues_drained(rq), 60, "set-up texts")
        memory_before = int(redis.info("memory")["used_memory"])
        next_phone = 0
        for restaurant in restaurants:
            for _ in range(args.prefill):
                phone = phone_number(next_phone)
                next_phone += 1
                status, party = call(port, "POST", f"/api/v1/restaurants/{restaurant.slug}/parties",
                                     {"name": "Early Guest", "phone": phone, "party_size": 2}, restaurant.api_key)
                if status != 201:
                    raise RuntimeError(f"prefill: {status} {party}")
                guest = Guest(party["id"], party["status_url"].rsplit("/", 1)[1], phone)
                restaurant.waiting.append(guest)
                restaurant.recent.append(guest)
        prefilled = args.prefill * len(restaurants)
        wait_for(lambda: queues_drained(rq) and twilio_count(twilio_url) >= prefilled, 120, "prefill texts")
        memory_after = int(redis.info("memory")["used_memory"])
        sample = restaurants[0].waiting[0]
        party_hash_bytes = redis.memory_usage(f"wl:{{{restaurants[0].slug}}}:party:{sample.party_id}")

        # The rush.
        rush = Rush(restaurants, next_phone)
        tally = Tally()
        samples: list[dict[str, Any]] = []
        stop_sampling = threading.Event()

        def sample_loop() -> None:
            while not stop_sampling.wait(10):
                samples.append({"t": round(time.time() - started_at, 1),
                                "texts_queued": int(rq.llen("rq:queue:texts")),
                                "used_memory": int(redis.info("memory")["used_memory"]),
                                "texts_sent": twilio_count(twilio_url)})

        texts_before = twilio_count(twilio_url)
        load_before = os.getloadavg()[0]
        cpu_before = resource.getrusage(resource.RUSAGE_SELF)
        started_at = time.time()
        sampler = threading.Thread(target=sample_loop, daemon=True)
        sampler.start()
        print(f"rush: {args.rate:g} requests/s for {args.duration:g} s over {len(restaurants)} restaurants",
              flush=True)
        elapsed = asyncio.run(drive(port, rush, args.rate, args.duration, args.connections, tally))
        texts_after = twilio_count(twilio_url)
        load_after = os.getloadavg()[0]
        stop_sampling.set()
        cpu_after = resource.getrusage(resource.RUSAGE_SELF)
        backlog_at_end = int(rq.llen("rq:queue:texts"))
        drained_at = time.time()
        try:
            wait_for(lambda: queues_drained(rq), 120, "texts after the rush")
            drain_seconds: float | None = round(time.time() - drained_at, 1)
        except RuntimeError:
            drain_seconds = None
        texts_total = twilio_count(twilio_url)
        failed_jobs = int(rq.zcard("rq:failed:texts")) + int(rq.zcard("rq:failed:timers"))
        waiting_now = sum(int(redis.zcard(f"wl:{{{r.slug}}}:waiting")) for r in restaurants)

        result = summarize(args, tally, elapsed, texts_before, texts_after, texts_total, backlog_at_end,
                           drain_seconds, failed_jobs, memory_before, memory_after, prefilled, party_hash_bytes,
                           samples, waiting_now, cpu_before, cpu_after)
        result["load_average_1m"] = [round(load_before, 1), round(load_after, 1)]
        for process in processes:
            if process.process.poll() is not None:
                result["problems"].append(f"{process.name} exited with {process.process.returncode}")
        table = render(result)
        print(table)
        out = Path(args.out)
        out.parent.mkdir(parents=True, exist_ok=True)
        out.with_suffix(".md").write_text(table)
        out.with_suffix(".json").write_text(json.dumps(result, indent=2))
        print(f"logs in {logs}")
        return 0 if not result["problems"] else 1
    finally:
        for process in reversed(processes):
            process.stop()
        if twilio is not None:
            if twilio.process.stdin is not None:
                twilio.process.stdin.close()
            twilio.stop()
        waitlist_redis.stop()
        rq_redis.stop()


def summarize(args: argparse.Namespace, tally: Tally, elapsed: float, texts_before: int, texts_after: int,
              texts_total: int, backlog: int, drain_seconds: float | None, failed_jobs: int, memory_before: int,
              memory_after: int, prefilled: int, party_hash_bytes: int | None, samples: list[dict[str, Any]],
              waiting_now: int, cpu_before: Any, cpu_after: Any) -> dict[str, Any]:
    endpoints = {}
    problems: list[str] = []
    answered = 0
    for name in MIX:
        latencies = tally.latencies.get(name, [])
        statuses = tally.statuses.get(name, {})
        answered += len(latencies)
        p50, p99 = percentile(latencies, 50), percentile(latencies, 99)
        bad = {code: n for code, n in statuses.items() if not code.startswith("2") and code != "429"}
        endpoints[name] = {
            "requests": len(latencies), "rps": round(len(latencies) / elapsed, 1),
            "p50_ms": None if p50 is None else round(p50 * 1000, 1),
            "p99_ms": None if p99 is None else round(p99 * 1000, 1),
            "max_ms": round(max(latencies) * 1000, 1) if latencies else None,
            "statuses": statuses, "errors": tally.errors.get(name, {}),
        }
        if bad or tally.errors.get(name):
            problems.append(f"{name}: unexpected answers {bad} errors {tally.errors.get(name, {})}")
        if name in STAFF and p99 is not None and p99 * 1000 >= STAFF_P99_GOAL_MS:
            problems.append(f"{name}: p99 {p99 * 1000:.1f} ms is not under {STAFF_P99_GOAL_MS:g} ms")
    all_latencies = [v for values in tally.latencies.values() for v in values]
    cpu = (cpu_after.ru_utime - cpu_before.ru_utime) + (cpu_after.ru_stime - cpu_before.ru_stime)
    if failed_jobs:
        problems.append(f"{failed_jobs} RQ jobs failed")
    if tally.unsent:
        problems.append(f"{tally.unsent} requests due in the rush were never sent (the server fell behind)")
    return {
        "duration_s": args.duration, "target_rps": args.rate, "restaurants": args.restaurants,
        "web_workers": args.web_workers, "threads": args.threads, "rq_workers": args.rq_workers,
        "elapsed_s": round(elapsed, 1), "requests": answered, "offered": int(args.rate * args.duration),
        "unsent": tally.unsent, "sustained_rps": round(answered / elapsed, 1),
        "overall_p50_ms": round((percentile(all_latencies, 50) or 0) * 1000, 1),
        "overall_p99_ms": round((percentile(all_latencies, 99) or 0) * 1000, 1),
        "endpoints": endpoints,
        "texts_during_rush": texts_after - texts_before,
        "texts_per_second": round((texts_after - texts_before) / elapsed, 1),
        "texts_total": texts_total, "texts_backlog_at_end": backlog, "texts_drain_s": drain_seconds,
        "failed_jobs": failed_jobs,
        "memory_prefill_delta_bytes": memory_after - memory_before, "prefilled_parties": prefilled,
        "memory_per_waiting_party_bytes": round((memory_after - memory_before) / max(prefilled, 1)),
        "party_hash_bytes": party_hash_bytes, "waiting_at_end": waiting_now,
        "loadgen_cpu_share": round(cpu / elapsed, 2), "samples": samples,
        "bad_samples": tally.bad_samples, "problems": problems,
        "slow_by_second": dict(sorted(tally.slow_by_second.items())),
    }


def render(result: dict[str, Any]) -> str:
    lines = [
        f"# Friday rush: {result['restaurants']} restaurants, {result['target_rps']:g} requests/s for "
        f"{result['duration_s']:g} s",
        "",
        f"gunicorn {result['web_workers']} gthread workers x {result['threads']} threads, "
        f"{result['rq_workers']} rq workers (TextWorker), Redis 7 (AOF everysec) for the waitlist and one for RQ, "
        f"Twilio-compatible server, load generator: all on this {os.cpu_count()}-core machine "
        f"(generator used {result['loadgen_cpu_share']:.0%} of a core; 1-minute load average "
        f"{result['load_average_1m'][0]} before, {result['load_average_1m'][1]} after, other work included).",
        "",
        f"Sustained: **{result['sustained_rps']} requests/s** ({result['requests']} answered of "
        f"{result['offered']} offered, {result['unsent']} never sent), "
        f"p50 {result['overall_p50_ms']} ms, p99 {result['overall_p99_ms']} ms overall.",
        "",
        "| endpoint | requests | req/s | p50 ms | p99 ms | max ms | answers |",
        "|---|---:|---:|---:|---:|---:|---|",
    ]
    for name, e in result["endpoints"].items():
        answers = ", ".join(f"{code}: {n}" for code, n in sorted(e["statuses"].items()))
        if e["errors"]:
            answers += "; " + ", ".join(f"{k}: {v}" for k, v in e["errors"].items())
        staff = " (staff)" if name in STAFF else ""
        lines.append(f"| {name}{staff} | {e['requests']} | {e['rps']} | {e['p50_ms']} | {e['p99_ms']} | "
                     f"{e['max_ms']} | {answers} |")
    lines += [
        "",
        f"Texts through the workers: **{result['texts_per_second']} per second** during the rush "
        f"({result['texts_during_rush']} sent; {result['texts_backlog_at_end']} queued at the end, drained in "
        f"{result['texts_drain_s']} s; {result['failed_jobs']} failed jobs).",
        "",
        f"Memory per waiting party: **{result['memory_per_waiting_party_bytes']} bytes** (INFO used_memory delta "
        f"{result['memory_prefill_delta_bytes']} bytes over {result['prefilled_parties']} parties, with their "
        f"joined texts, events, phone and token index; the party hash alone: {result['party_hash_bytes']} bytes).",
        "",
        slow_seconds_line(result["slow_by_second"], result["requests"]),
        "",
        "Problems: " + ("none" if not result["problems"] else "; ".join(result["problems"])),
    ]
    if result["bad_samples"]:
        lines += ["", "Unexpected answers (first 20):", ""] + [f"- `{s}`" for s in result["bad_samples"]]
    return "\n".join(lines) + "\n"


def slow_seconds_line(slow_by_second: dict[int, int], requests: int) -> str:
    """Where the answers over SLOW_SECONDS fell: spread over the rush (queueing) or bunched (stalls)."""
    slow = sum(slow_by_second.values())
    if not slow:
        return f"Answers over {SLOW_SECONDS * 1000:.0f} ms: none."
    worst = sorted(slow_by_second.items(), key=lambda item: -item[1])[:5]
    bunched = ", ".join(f"second {second}: {count}" for second, count in sorted(worst))
    return (f"Answers over {SLOW_SECONDS * 1000:.0f} ms: {slow} of {requests} ({slow / requests:.2%}), in "
            f"{len(slow_by_second)} of the rush's seconds; the busiest: {bunched}.")


if __name__ == "__main__":
    sys.exit(main())
