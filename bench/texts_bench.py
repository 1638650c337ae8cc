"""Texts benchmark: how fast a host's action reaches Twilio, and how many texts one worker sends.

    .venv/bin/python bench/texts_bench.py            # about 1.5 minutes idle; --quick: 25 s

Runs the app in this process (Flask test client, real RQ dispatcher) on the real Redis, database 12 by
default (flushed before, between phases and after; no other is touched), a Twilio-compatible server on
loopback (tests/twilio_server.py, in this process, which timestamps each message as it arrives), and
one ``rq worker --with-scheduler`` subprocess at a time, as the Procfile runs it, for each worker class:

* latency: the host notifies one party at a time; from the notify request returning to the server
  receiving the table-ready text (p50, p99);
* throughput: texts queued while the worker is stopped, then the worker started; messages per second
  between the first and the last arrival (the worker's start-up is not counted);
* hold timers (TextWorker): parties notified with a 3-second hold; how long after the hold ended the
  party became a no-show, and when its hold-expired text reached the server.

Prints a markdown table, checks the goals (p99 < 100 ms, >= 100 messages/s per worker process, timers
within 2 s) and writes it to bench/results/texts_bench.md (raw numbers in texts_bench.json). Every
process it starts is stopped on the way out, whatever happens.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from loadgen import stop_process_group  # noqa: E402
from redis import Redis  # noqa: E402

from config import Config  # noqa: E402
from tests.twilio_server import TwilioServer  # noqa: E402
from waitlist.store import Store  # noqa: E402
from waitlist.texting.dispatch import TEXTS_QUEUE, TIMERS_QUEUE, RQDispatcher  # noqa: E402
from waitlist.web.app import create_app  # noqa: E402
from workers.relay import OutboxRelay  # noqa: E402

DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/12"
RESULTS = ROOT / "bench" / "results"
RQ = Path(sys.executable).parent / "rq"
ADMIN_TOKEN = "bench-admin-token"
SECRET_KEY = "bench-secret"
PUBLIC_BASE_URL = "https://waitlist.example.com"
SLUG = "bench-bistro"
HOLD_MINUTES = 0.05
WORKER_CLASSES = {
    "TextWorker (SimpleWorker)": "workers.worker.TextWorker",
    "rq Worker (default, new process per job)": "rq.worker.Worker",
}
GOAL_P99_MS = 100.0
GOAL_RATE = 100.0
GOAL_TIMER_LATE_S = 2.0


@dataclass
class Sizes:
    latency: int
    throughput: int


@dataclass
class WorkerResult:
    worker_class: str
    latencies_ms: list[float] = field(default_factory=list)
    throughput_messages: int = 0
    throughput_seconds: float = 0.0
    cpu_seconds: float = 0.0
    """CPU the worker (and, for RQ's Worker, its job processes) used between the first and last arrival."""

    @property
    def rate(self) -> float:
        return (self.throughput_messages - 1) / self.throughput_seconds if self.throughput_seconds else 0.0

    @property
    def cpu_ms_per_message(self) -> float:
        return self.cpu_seconds * 1000 / (self.throughput_messages - 1) if self.throughput_messages > 1 else 0.0

    def percentile(self, p: float) -> float:
        ordered = sorted(self.latencies_ms)
        return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


class Bench:
    def __init__(self, redis_url: str, server: TwilioServer, log_dir: Path):
        self.redis_url = redis_url
        self.server = server
        self.log_dir = log_dir
        self.text = Redis.from_url(redis_url, decode_responses=True)
        self.raw = Redis.from_url(redis_url)
        self.config = Config(
            redis_url=redis_url, secret_key=SECRET_KEY, admin_token=ADMIN_TOKEN, public_base_url=PUBLIC_BASE_URL,
            twilio_account_sid=server.account_sid, twilio_auth_token=server.auth_token, twilio_api_url=server.url,
            log_level="WARNING",
        )
        self.phones = phone_numbers()
        self.client: Any = None
        self.app: Any = None
        self.worker_pid = 0
        self.headers: dict[str, str] = {}

    # --- set-up -----------------------------------------------------------------------------------

    def fresh_restaurant(self) -> None:
        """An empty database, a new app on it, and one restaurant."""
        self.text.flushdb()
        app = create_app(self.config, redis=self.text, rq_connection=self.raw,
                         dispatcher=RQDispatcher(self.raw, self.config))
        self.app = app
        self.client = app.test_client()
        response = self.client.post("/api/v1/restaurants", json={
            "slug": SLUG, "name": "Bench Bistro", "sms_from": "+14155550100"},
            headers={"Authorization": f"Bearer {ADMIN_TOKEN}"})
        assert response.status_code == 201, response.get_json()
        self.headers = {"Authorization": f"Bearer {response.get_json()['api_key']}"}
        # Room for every party: a wide table inventory keeps quotes small and texts one segment.
        self.client.patch(f"/api/v1/restaurants/{SLUG}/settings", json={"hold_minutes": 10}, headers=self.headers)

    def add_party(self) -> dict[str, Any]:
        response = self.client.post(f"/api/v1/restaurants/{SLUG}/parties", headers=self.headers,
                                    json={"name": "Bench Guest", "phone": next(self.phones), "party_size": 2})
        assert response.status_code == 201, response.get_json()
        return dict(response.get_json())

    def notify(self, party_id: str) -> None:
        response = self.client.post(f"/api/v1/restaurants/{SLUG}/parties/{party_id}/notify", headers=self.headers)
        assert response.status_code == 200, response.get_json()

    def wait_posts(self, count: int, timeout: float) -> None:
        if not self.server.wait_for(lambda s: len(s.posts) >= count, timeout):
            raise SystemExit(f"only {len(self.server.posts)} of {count} texts reached the server in {timeout} s")

    @contextmanager
    def worker(self, worker_class: str) -> Iterator[int]:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("TWILIO_", "REDIS_", "RQ_", "TEXT_"))}
        env.update(self.server.env())
        env.update({"PYTHONPATH": str(ROOT), "REDIS_URL": self.redis_url, "SECRET_KEY": SECRET_KEY,
                    "PUBLIC_BASE_URL": PUBLIC_BASE_URL, "LOG_LEVEL": "WARNING"})
        log = (self.log_dir / f"{worker_class.rsplit('.', 1)[-1]}.log").open("ab")
        process = subprocess.Popen(
            [str(RQ), "worker", "--with-scheduler", "-w", worker_class, "--url", self.redis_url, "--quiet",
             "--max-idle-time", "120",
             TEXTS_QUEUE, TIMERS_QUEUE],
            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        relay = None
        if worker_class != WORKER_CLASSES["TextWorker (SimpleWorker)"]:
            # Only TextWorker runs an outbox relay; RQ's own Worker gets one in this process.
            waitlist = self.app.extensions["waitlist"]
            relay = OutboxRelay(waitlist.messages, waitlist.store, waitlist.dispatcher).start()
        try:
            deadline = time.monotonic() + 30
            while not self.raw.exists(f"rq:scheduler-lock:{TEXTS_QUEUE}"):
                if process.poll() is not None or time.monotonic() > deadline:
                    raise SystemExit(f"the worker did not start; see {log.name}")
                time.sleep(0.05)
            self.worker_pid = process.pid
            yield process.pid
        finally:
            stop(process)
            log.close()
            if relay is not None:
                relay[1].set()
                relay[0].join(timeout=5)

    # --- phases ---------------------------------------------------------------------------------------

    def worker_phase(self, label: str, worker_class: str, sizes: Sizes) -> WorkerResult:
        result = WorkerResult(label)
        self.fresh_restaurant()
        self.server.posts.clear()
        with self.worker(worker_class):
            parties = [self.add_party() for _ in range(sizes.latency + 3)]
            self.wait_posts(len(parties), timeout=30 + 2 * len(parties))  # joined texts, and a warm worker
            for party in parties[3:]:
                target = len(self.server.posts) + 1
                self.notify(party["id"])
                notified = time.perf_counter()
                self.wait_posts(target, timeout=30)
                post = self.server.posts[target - 1]
                assert post.form["To"] == party["phone"] and "table is ready" in post.form["Body"], post.form
                result.latencies_ms.append((post.received_perf - notified) * 1000)
        self.fresh_restaurant()
        self.server.posts.clear()
        for _ in range(sizes.throughput):
            self.add_party()  # each queues its joined text; no worker is running
        cpu_at: dict[int, float] = {}

        def sample_cpu(post: Any) -> None:
            count = len(self.server.posts)
            if count in (1, sizes.throughput):
                cpu_at[count] = process_cpu_seconds(self.worker_pid)

        self.server.on_post = sample_cpu
        try:
            with self.worker(worker_class):
                self.wait_posts(sizes.throughput, timeout=60 + sizes.throughput)
        finally:
            self.server.on_post = None
        first, last = self.server.posts[0], self.server.posts[sizes.throughput - 1]
        result.throughput_messages = sizes.throughput
        result.throughput_seconds = last.received_perf - first.received_perf
        result.cpu_seconds = cpu_at[sizes.throughput] - cpu_at[1]
        print(f"  {label}: p50 {result.percentile(50):.1f} ms, p99 {result.percentile(99):.1f} ms, "
              f"{result.rate:.0f} messages/s, {result.cpu_ms_per_message:.1f} ms CPU each", flush=True)
        return result

    def hold_phase(self, parties: int) -> dict[str, list[float]]:
        """Late by how much: the no-show (from the party's record) and the hold-expired text's arrival."""
        self.fresh_restaurant()
        self.server.posts.clear()
        self.client.patch(f"/api/v1/restaurants/{SLUG}/settings", json={"hold_minutes": HOLD_MINUTES},
                          headers=self.headers)
        store = Store(self.text)
        with self.worker(WORKER_CLASSES["TextWorker (SimpleWorker)"]):
            added = [self.add_party() for _ in range(parties)]
            for index, party in enumerate(added):
                self.notify(party["id"])
                time.sleep(0.137 * (index % 7))  # spread the holds' ends across the second
            deadline = time.monotonic() + 30 + HOLD_MINUTES * 60
            loaded = []
            while time.monotonic() < deadline:
                loaded = [store.load_party(SLUG, p["id"]) for p in added]
                expired_texts = [p for p in self.server.posts if "released" in p.form["Body"]]
                if all(p is not None and p.status.value == "no_show" for p in loaded) and \
                        len(expired_texts) >= parties:
                    break
                time.sleep(0.1)
            else:
                raise SystemExit("hold timers did not all fire in time")
        arrivals = {p.form["To"]: p.received_at for p in self.server.posts if "released" in p.form["Body"]}
        no_show_late, text_late = [], []
        for party, record in zip(added, loaded, strict=True):
            assert record is not None and record.hold_until is not None and record.finished_at is not None
            no_show_late.append(record.finished_at - record.hold_until)
            text_late.append(arrivals[party["phone"]] - record.hold_until)
        print(f"  hold timers: no-show {min(no_show_late):.2f}..{max(no_show_late):.2f} s after the hold ended",
              flush=True)
        return {"no_show_late_s": no_show_late, "text_late_s": text_late}


def process_cpu_seconds(pid: int) -> float:
    """User + system CPU of a process and its reaped children (RQ's Worker runs each job in a child)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    utime, stime, cutime, cstime = (int(x) for x in fields[11:15])
    return (utime + stime + cutime + cstime) / os.sysconf("SC_CLK_TCK")


def phone_numbers() -> Iterator[str]:
    """Valid, distinct US numbers (555-01xx are fictional and refused)."""
    for area in ("415", "212", "310", "312", "617", "206", "303", "512"):
        for line in range(2000, 10000):
            yield f"+1{area}555{line:04d}"


def stop(process: subprocess.Popen[bytes]) -> None:
    stop_process_group(process)


def spread(values: list[float]) -> str:
    return f"{min(values):.2f} s | {statistics.median(values):.2f} s | {max(values):.2f} s"


def report(results: list[WorkerResult], holds: dict[str, list[float]]) -> tuple[str, bool]:
    lines = [
        "| Worker class | Notify → Twilio p50 | p99 | Messages/s (one process, measured) | CPU per message "
        "| Messages/s per CPU core |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for r in results:
        lines.append(f"| {r.worker_class} | {r.percentile(50):.1f} ms | {r.percentile(99):.1f} ms | "
                     f"{r.rate:.0f} (n={r.throughput_messages}) | {r.cpu_ms_per_message:.1f} ms | "
                     f"{1000 / r.cpu_ms_per_message if r.cpu_ms_per_message else 0:.0f} |")
    late, text = holds["no_show_late_s"], holds["text_late_s"]
    lines += [
        "",
        "| Hold timer (3 s hold) | min | median | max |",
        "|---|---:|---:|---:|",
        f"| Party becomes no-show, after the hold ended | {spread(late)} |",
        f"| Hold-expired text reaches Twilio, after the hold ended | {spread(text)} |",
    ]
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    lines += ["", f"Measured on {os.cpu_count()} CPUs, load average {load} (1, 5, 15 min) at the end of the run."]
    chosen = results[0]
    checks = [
        (f"p99 under {GOAL_P99_MS:.0f} ms (TextWorker)", chosen.percentile(99) < GOAL_P99_MS),
        (f">= {GOAL_RATE:.0f} messages/s per worker process (TextWorker)", chosen.rate >= GOAL_RATE),
        (f"hold timers fire within {GOAL_TIMER_LATE_S:.0f} s, never early",
         0 <= min(late) and max(late) <= GOAL_TIMER_LATE_S),
    ]
    lines.append("")
    lines += [f"- {'met' if ok else 'MISSED'}: {name}" for name, ok in checks]
    return "\n".join(lines), all(ok for _, ok in checks)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--redis-url", default=DEFAULT_REDIS_URL, help="a database this script may flush")
    parser.add_argument("--quick", action="store_true", help="fewer samples, for a smoke run")
    args = parser.parse_args()
    sizes = {
        "workers.worker.TextWorker": Sizes(latency=40, throughput=200) if args.quick else Sizes(300, 2000),
        "rq.worker.Worker": Sizes(latency=5, throughput=10) if args.quick else Sizes(15, 25),
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    log_dir = Path(os.environ.get("TMPDIR", "/tmp"))
    with TwilioServer() as server:
        bench = Bench(args.redis_url, server, log_dir)
        try:
            results = []
            for label, worker_class in WORKER_CLASSES.items():
                print(f"{label}...", flush=True)
                results.append(bench.worker_phase(label, worker_class, sizes[worker_class]))
            print("hold timers...", flush=True)
            holds = bench.hold_phase(parties=5 if args.quick else 14)
        finally:
            bench.text.flushdb()
    table, ok = report(results, holds)
    print()
    print(table)
    (RESULTS / "texts_bench.md").write_text(table + "\n")
    (RESULTS / "texts_bench.json").write_text(json.dumps({
        "workers": [{"worker_class": r.worker_class, "latencies_ms": r.latencies_ms,
                     "throughput_messages": r.throughput_messages, "throughput_seconds": r.throughput_seconds,
                     "cpu_seconds": r.cpu_seconds}
                    for r in results],
        "hold_timers": holds,
    }, indent=1))
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
