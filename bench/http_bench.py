"""HTTP benchmark of the waitlist service against a minimal Flask + Redis app, on the real Redis.

    .venv/bin/python bench/http_bench.py            # about 2.5 minutes; --quick for a 1-minute smoke run

Starts two gunicorn servers (``wsgi:app`` and ``bench/baseline_app.py``, 4 sync workers each, free
loopback ports) on one Redis database (default db 14, which it flushes before and after, and no other),
then drives each from a separate load-generator process (bench/loadgen.py):

* fixed arrival rates (open loop, latency from each request's due time): add-party at 200/s and 500/s,
  the list of 100 waiting parties at 200/s, the public estimate at 200/s and 500/s;
* peak throughput (closed loop, 16 busy connections): add-party, list and estimate.

Prints a markdown table of p50/p99 latency and peak throughput with the ratio to the baseline, checks
the goals of issue 2, and writes the table to bench/results/http_bench.md (raw numbers beside it in
http_bench.json). Every process it starts is stopped on the way out, whatever happens.

Adds are spread round-robin over 50 restaurants per run, so each waiting line ends near 40-100 parties,
as on a busy evening, instead of one line thousands of parties long. No Twilio credentials are given:
texts are recorded and enqueued to RQ in the same database, and no worker runs.
"""
from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import phonenumbers
from redis import Redis

ROOT = Path(__file__).resolve().parent.parent
LOADGEN = ROOT / "bench" / "loadgen.py"
RESULTS = ROOT / "bench" / "results"
sys.path.insert(0, str(ROOT / "bench"))

from loadgen import AREA_CODES, call, phone_number, stop_process_group  # noqa: E402

DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/14"
ADMIN_TOKEN = "bench-admin-token"
WORKERS = 4
ADD_RESTAURANTS = 50
LIST_SIZE = 100
LIST_TABLES = {"2": 11, "4": 10, "6": 3, "8": 1}
"""The list restaurant's table inventory (the simulated casual place's), so the estimate endpoint runs the
estimator's replay of the line, its costly path, rather than the queue-length rule used without one."""
PEAK_CONNECTIONS = 16
OPEN_LOOP_CONNECTIONS = 64
WARMUP_SECONDS = 1.0
"""Each endpoint of each app is driven this long before measuring: gunicorn's workers import lazily
and the phone library loads its metadata on first use, which would otherwise land in the first run."""

GOALS = {
    ("add", 500): 15.0,   # add-party p99 under 15 ms at 500 requests/s
    ("list", 200): 30.0,  # list of 100 parties p99 under 30 ms at 200 requests/s
}
PEAK_GOAL_RATIO = 0.5     # add-party peak at least 50 % of the baseline's


# --- processes ---------------------------------------------------------------------------------------


def report(table: str, out: Path) -> None:
    """Print a benchmark's markdown table and keep it under bench/results (or ``out``)."""
    print(table)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(table + "\n")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Server:
    name: str
    port: int
    process: subprocess.Popen[bytes]
    log_path: Path


def start_gunicorn(name: str, target: str, env: dict[str, str], cwd: Path, options: list[str]) -> Server:
    port = free_port()
    RESULTS.mkdir(parents=True, exist_ok=True)
    log_path = RESULTS / f"{name}.log"
    log = log_path.open("wb")
    process = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-b", f"127.0.0.1:{port}", "--log-level", "warning", *options, target],
        cwd=cwd, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )
    log.close()
    return Server(name, port, process, log_path)


def wait_healthy(server: Server, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError(f"{server.name} exited: see {server.log_path}")
        try:
            status, _ = call(server.port, "GET", "/healthz")
            if status == 200:
                return
        except OSError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"{server.name} did not answer /healthz within {timeout:.0f} s: see {server.log_path}")


def stop(server: Server) -> None:
    stop_process_group(server.process, grace=10)


def cpu_seconds(server: Server) -> float:
    """CPU time (user + system) used so far by the server's gunicorn master and workers, from /proc.

    Unlike latency, CPU per request hardly depends on what else the machine is doing, so it is the
    figure to compare between runs on a busy machine."""
    total = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        pid, ppid = int(stat.parent.name), int(fields[1])
        if server.process.pid in (pid, ppid):
            total += int(fields[11]) + int(fields[12])  # utime, stime in clock ticks
    return total / os.sysconf("SC_CLK_TCK")


def settle(port: int, timeout: float = 20.0) -> None:
    """Wait until the server has worked off any backlog from an overloaded run (healthz answers fast)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        began = time.perf_counter()
        try:
            call(port, "GET", "/healthz")
        except OSError:
            pass
        if time.perf_counter() - began < 0.05:
            return
        time.sleep(0.2)


def server_env(redis_url: str, app_root: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("TWILIO_") and k not in ("RQ_REDIS_URL", "REDIS_CLUSTER", "WAITLIST_DEV",
                                                         "RATELIMIT_STORAGE_URI", "RATE_LIMITS_DISABLED")}
    env.update(REDIS_URL=redis_url, ADMIN_TOKEN=ADMIN_TOKEN, SECRET_KEY="bench-secret-key", TRUST_PROXY_HOPS="1",
               PYTHONPATH=os.pathsep.join([str(app_root), str(ROOT)]))
    return env


def run_load(spec: dict[str, Any]) -> dict[str, Any]:
    """One load-generator run in its own process; its result is JSON on stdout."""
    budget = float(spec["duration"]) + float(spec.get("warmup", 0)) + 30
    try:
        done = subprocess.run([sys.executable, str(LOADGEN)], input=json.dumps(spec).encode(),
                              capture_output=True, timeout=budget, check=False)
    except subprocess.TimeoutExpired:  # run() has killed it; only a starved machine gets here
        sent = int(float(spec.get("rate") or 0) * float(spec["duration"]))
        return {"mode": spec["mode"], "sent": sent, "total_sent": sent, "answered": 0, "ok": 0, "statuses": {},
                "errors": {"LoadgenTimeout": max(sent, 1)}, "ms": {}, "throughput_rps": 0.0,
                "loadgen_cpu_share": 0.0, "next_phone": int(spec.get("phone_offset", 0)) + 100_000 // 4}
    if done.returncode != 0:
        raise RuntimeError(f"load generator failed: {done.stderr.decode()[-2000:]}")
    return json.loads(done.stdout)  # type: ignore[no-any-return]


# --- set-up over HTTP --------------------------------------------------------------------------------


def create_restaurant(port: int, slug: str, sms_index: int) -> str:
    body = {"slug": slug, "name": f"Bench {slug}", "sms_from": f"+1202555{sms_index:04d}"}
    status, answer = call(port, "POST", "/api/v1/restaurants", body, ADMIN_TOKEN)
    if status != 201:
        raise RuntimeError(f"creating restaurant {slug}: {status} {answer}")
    return str(answer["api_key"])


def check_phone_numbers() -> None:
    """The load generator's numbers must pass the service's validation, or adds would fail with 400."""
    for index in range(0, len(AREA_CODES) * 10_000, 997):
        number = phone_number(index)
        if not phonenumbers.is_valid_number(phonenumbers.parse(number, "US")):
            raise RuntimeError(f"{number} is not a valid number; change loadgen.AREA_CODES")


class Phones:
    """Hands out disjoint ranges of phone indices so no number is reused within a restaurant."""

    def __init__(self) -> None:
        self.next = 0

    def take(self, result: dict[str, Any]) -> None:
        self.next = max(self.next, int(result["next_phone"]))


# --- the runs ----------------------------------------------------------------------------------------

PARTY_BODY = '{"name": "Ana Lima", "phone": "{phone}", "party_size": 2}'


CLIENT = {"X-Forwarded-For": "{ip}"}
"""Each request to the service claims its own client address, as if through one trusted proxy
(TRUST_PROXY_HOPS=1), so the per-IP limits on public endpoints see many visitors, not one."""


def auth(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}", **CLIENT}


@dataclass
class Setup:
    service: Server
    baseline: Server
    restaurants: Iterator[list[tuple[str, str]]]
    list_slug: str
    list_key: str


def make_setup(service: Server, baseline: Server, pools: int) -> Setup:
    sms_index = iter(range(10_000))
    list_key = create_restaurant(service.port, "bench-list", next(sms_index))
    status, answer = call(service.port, "PATCH", "/api/v1/restaurants/bench-list/settings", {"tables": LIST_TABLES},
                          list_key)
    if status != 200:
        raise RuntimeError(f"setting the list restaurant's tables: {status} {answer}")
    for i in range(LIST_SIZE):
        status, answer = call(service.port, "POST", "/api/v1/restaurants/bench-list/parties",
                              {"name": f"Guest {i}", "phone": phone_number(90_000 + i), "party_size": 2 + i % 4},
                              list_key)
        if status != 201:
            raise RuntimeError(f"seeding the list: {status} {answer}")
        status, answer = call(baseline.port, "POST", "/bench-list/parties",
                              {"name": f"Guest {i}", "phone": phone_number(90_000 + i), "party_size": 2 + i % 4})
        if status != 201:
            raise RuntimeError(f"seeding the baseline list: {status} {answer}")
    status, answer = call(service.port, "GET", "/api/v1/restaurants/bench-list/parties", token=list_key)
    if status != 200 or len(answer["parties"]) != LIST_SIZE:
        raise RuntimeError(f"expected {LIST_SIZE} waiting parties, got {status} {answer and len(answer['parties'])}")
    status, answer = call(baseline.port, "GET", "/bench-list/parties")
    if status != 200 or len(answer["parties"]) != LIST_SIZE:
        raise RuntimeError(f"the baseline list should hold {LIST_SIZE} parties")

    all_pools = []
    for p in range(pools):
        pool = []
        for r in range(ADD_RESTAURANTS):
            slug = f"bench-add-{p}-{r}"
            pool.append((slug, create_restaurant(service.port, slug, next(sms_index))))
        all_pools.append(pool)
    return Setup(service, baseline, iter(all_pools), "bench-list", list_key)


def templates(setup: Setup, app: str, endpoint: str) -> list[dict[str, Any]]:
    """Request templates for one endpoint of one app; add-party takes a fresh pool of restaurants."""
    if app == "baseline":
        if endpoint == "add":
            return [{"method": "POST", "path": f"/bench-add-{r}/parties", "body": PARTY_BODY}
                    for r in range(ADD_RESTAURANTS)]
        if endpoint == "list":
            return [{"method": "GET", "path": "/bench-list/parties"}]
        raise ValueError(endpoint)
    if endpoint == "add":
        return [{"method": "POST", "path": f"/api/v1/restaurants/{slug}/parties", "headers": auth(key),
                 "body": PARTY_BODY} for slug, key in next(setup.restaurants)]
    if endpoint == "list":
        return [{"method": "GET", "path": f"/api/v1/restaurants/{setup.list_slug}/parties",
                 "headers": auth(setup.list_key)}]
    if endpoint == "estimate":
        return [{"method": "GET", "path": f"/api/v1/restaurants/{setup.list_slug}/estimate?party_size=2",
                 "headers": CLIENT}]
    raise ValueError(endpoint)


def plan(duration: float, peak_duration: float) -> list[dict[str, Any]]:
    runs: list[dict[str, Any]] = []
    for endpoint, rates in (("add", (200, 500)), ("list", (200,)), ("estimate", (200, 500))):
        for rate in rates:
            for app in ("service", "baseline"):
                if app == "baseline" and endpoint == "estimate":
                    continue
                runs.append({"app": app, "endpoint": endpoint, "mode": "open", "rate": rate, "duration": duration})
    for endpoint in ("add", "list", "estimate"):
        for app in ("service", "baseline"):
            if app == "baseline" and endpoint == "estimate":
                continue
            runs.append({"app": app, "endpoint": endpoint, "mode": "closed", "duration": peak_duration})
    return runs


def execute(setup: Setup, run: dict[str, Any], phones: Phones) -> dict[str, Any]:
    server = setup.service if run["app"] == "service" else setup.baseline
    port = server.port
    spec = {"host": "127.0.0.1", "port": port, "mode": run["mode"], "duration": run["duration"],
            "templates": templates(setup, run["app"], run["endpoint"]), "phone_offset": phones.next}
    if run["mode"] == "open":
        spec.update(rate=run["rate"], connections=OPEN_LOOP_CONNECTIONS)
    else:
        spec.update(connections=PEAK_CONNECTIONS, warmup=0.0 if run["duration"] <= WARMUP_SECONDS else 1.0)
    cpu_before = cpu_seconds(server)
    result = run_load(spec)
    phones.take(result)
    settle(port)
    requests = result["total_sent"]
    result["server_cpu_ms_per_request"] = (
        round((cpu_seconds(server) - cpu_before) * 1000 / requests, 2) if requests else None)
    return {**run, "result": result}


# --- the report --------------------------------------------------------------------------------------


def find(results: list[dict[str, Any]], app: str, endpoint: str, mode: str, rate: int | None = None) -> Any:
    for r in results:
        if (r["app"], r["endpoint"], r["mode"]) == (app, endpoint, mode) and (rate is None or r.get("rate") == rate):
            return r["result"]
    return None


def fmt_ms(result: Any, key: str) -> str:
    value = None if result is None else result["ms"].get(key)
    return "—" if value is None else f"{value:.1f} ms"


def fmt_cpu(result: Any) -> str:
    value = None if result is None else result.get("server_cpu_ms_per_request")
    return "—" if value is None else f"{value:.2f} ms/req"


def failures(result: Any) -> str:
    if result is None:
        return ""
    bad = sum(result["errors"].values()) + sum(n for code, n in result["statuses"].items() if not code.startswith("2"))
    return f" ({bad} failed)" if bad else ""


def render(results: list[dict[str, Any]], context: dict[str, Any]) -> tuple[str, list[str]]:
    names = {"add": "add party", "list": f"list ({LIST_SIZE} waiting)", "estimate": "estimate (public)"}
    lines = [
        "| Endpoint | Rate | Service p50 | Service p99 | Baseline p50 | Baseline p99 | Goal |",
        "|---|---:|---:|---:|---:|---:|---|",
    ]
    verdicts: list[str] = []
    for r in results:
        if r["mode"] != "open" or r["app"] != "service":
            continue
        endpoint, rate = r["endpoint"], r["rate"]
        service, baseline = r["result"], find(results, "baseline", endpoint, "open", rate)
        goal = GOALS.get((endpoint, rate))
        goal_text = ""
        if goal is not None:
            p99 = service["ms"].get("p99")
            met = p99 is not None and p99 < goal and not failures(service)
            goal_text = f"p99 < {goal:g} ms: **{'met' if met else 'missed'}**"
            verdicts.append(f"{names[endpoint]} p99 at {rate}/s: {p99} ms, goal < {goal:g} ms — "
                            f"{'met' if met else 'MISSED'}")
        lines.append(
            f"| {names[endpoint]} | {rate}/s | {fmt_ms(service, 'p50')} | {fmt_ms(service, 'p99')}"
            f"{failures(service)} | {fmt_ms(baseline, 'p50')} | {fmt_ms(baseline, 'p99')}{failures(baseline)}"
            f" | {goal_text} |")
    lines += [
        "",
        "| Endpoint | Service peak | Baseline peak | Ratio | Goal | Service CPU | Baseline CPU |",
        "|---|---:|---:|---:|---|---:|---:|",
    ]
    for r in results:
        if r["mode"] != "closed" or r["app"] != "service":
            continue
        endpoint = r["endpoint"]
        service, baseline = r["result"], find(results, "baseline", endpoint, "closed")
        ratio = (service["throughput_rps"] / baseline["throughput_rps"]
                 if baseline and baseline["throughput_rps"] else None)
        goal_text = ""
        if endpoint == "add" and ratio is not None:
            met = ratio >= PEAK_GOAL_RATIO
            goal_text = f"≥ {PEAK_GOAL_RATIO:.0%} of baseline: **{'met' if met else 'missed'}**"
            verdicts.append(f"add-party peak: {service['throughput_rps']:.0f}/s = {ratio:.0%} of the baseline's "
                            f"{baseline['throughput_rps']:.0f}/s, goal ≥ {PEAK_GOAL_RATIO:.0%} — "
                            f"{'met' if met else 'MISSED'}")
        lines.append(
            f"| {names[endpoint]} | {service['throughput_rps']:.0f}/s | "
            f"{'—' if baseline is None else format(baseline['throughput_rps'], '.0f') + '/s'} | "
            f"{'—' if ratio is None else format(ratio, '.0%')} | {goal_text} | "
            f"{fmt_cpu(service)} | {fmt_cpu(baseline)} |")
    lines += [
        "",
        (f"gunicorn {context['gunicorn']} per app, Redis {context['redis_version']} on loopback, "
        f"{context['cores']} cores shared by both servers, Redis and the load generator; "
        f"open-loop runs {context['duration']:g} s each with latency from each request's due time, peak runs "
        f"{context['peak_duration']:g} s with {PEAK_CONNECTIONS} busy connections; CPU is the gunicorn processes' "
        "user + system time per request in the peak run (Redis's own time not included). "
        f"Adds rotate over {ADD_RESTAURANTS} restaurants. 1-minute load average {context['load'][0]:.1f} before, "
        f"{context['load'][1]:.1f} after. Measured {context['when']} at commit {context['commit']}"
        f"{' (plus uncommitted changes)' if context['dirty'] else ''}."),
    ]
    return "\n".join(lines) + "\n", verdicts


def git_state(app_root: Path) -> tuple[str, bool]:
    """The commit of the code under test, and whether its app code differs from that commit."""
    if app_root != ROOT:
        return os.environ.get("BENCH_APP_COMMIT", str(app_root)), False
    try:
        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True,
                                text=True, check=True).stdout.strip()
        status = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no", "--", "waitlist", "config",
                                 "wsgi.py"], cwd=ROOT, capture_output=True, text=True, check=False)
        dirty = bool(status.stdout.strip())
        return commit, dirty
    except (OSError, subprocess.CalledProcessError):
        return "unknown", False


# --- main --------------------------------------------------------------------------------------------


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--redis-url", default=os.environ.get("BENCH_REDIS_URL", DEFAULT_REDIS_URL),
                        help="a database of its own: it is flushed before and after (default db 14)")
    parser.add_argument("--duration", type=float, default=10.0, help="seconds per fixed-rate run")
    parser.add_argument("--peak-duration", type=float, default=5.0, help="seconds per peak run")
    parser.add_argument("--workers", type=int, default=WORKERS, help="gunicorn workers per app (default 4)")
    parser.add_argument("--worker-class", default="sync", choices=["sync", "gthread", "gevent"],
                        help="sync (default, as in issue 2's baseline figures), gthread, or gevent (the Procfile's "
                             "since issue 26, both apps on gunicorn's own gevent worker)")
    parser.add_argument("--threads", type=int, default=8, help="threads per gthread worker")
    parser.add_argument("--quick", action="store_true", help="3 s and 2 s runs: a smoke test of the script")
    parser.add_argument("--out", type=Path, default=RESULTS / "http_bench.md")
    parser.add_argument("--app-root", type=Path, default=ROOT,
                        help="the service's source tree to serve (default: this checkout), e.g. a `git worktree` "
                             "of another commit; the baseline and load generator always come from this one")
    args = parser.parse_args(argv)
    if args.quick:
        args.duration, args.peak_duration = 3.0, 2.0
    db = urlparse(args.redis_url).path.strip("/") or "0"
    if db == "0":
        parser.error("use a Redis database of the benchmark's own (e.g. /14): it is flushed")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    RESULTS.mkdir(parents=True, exist_ok=True)
    check_phone_numbers()
    redis = Redis.from_url(args.redis_url)
    redis.flushdb()
    app_root = args.app_root.resolve()
    env = server_env(args.redis_url, app_root)
    servers: list[Server] = []
    runs = plan(args.duration, args.peak_duration)
    try:
        options = ["-w", str(args.workers), "--worker-class", args.worker_class]
        if args.worker_class == "gthread":
            options += ["--threads", str(args.threads)]
        if args.worker_class == "gevent":
            options += ["--worker-connections", "10000"]
        servers.append(start_gunicorn("service", "wsgi:app", env, app_root, options))
        servers.append(start_gunicorn("baseline", "bench.baseline_app:create_app()", env, ROOT, options))
        for server in servers:
            wait_healthy(server)
        service, baseline = servers
        warmups = [{**r, "mode": "closed", "duration": WARMUP_SECONDS} for r in runs if r["mode"] == "closed"]
        pools = sum(1 for r in runs + warmups if r["app"] == "service" and r["endpoint"] == "add")
        setup = make_setup(service, baseline, pools)
        phones = Phones()
        print("warming up every worker of both servers ...", file=sys.stderr, flush=True)
        for run in warmups:
            execute(setup, run, phones)
        results = []
        load_before = os.getloadavg()[0]
        if load_before > (os.cpu_count() or 1):
            print(f"warning: load average {load_before:.1f} on {os.cpu_count()} cores: other work is running and "
                  "the figures will say more about it than about the service", file=sys.stderr, flush=True)
        for run in runs:
            label = f"{run['app']:8} {run['endpoint']:8} " + (f"{run['rate']}/s" if run["mode"] == "open" else "peak")
            print(f"running {label} ...", file=sys.stderr, flush=True)
            outcome = execute(setup, run, phones)
            res = outcome["result"]
            print(f"    p50 {res['ms'].get('p50')} ms, p99 {res['ms'].get('p99')} ms, 2xx {res['ok']}/{res['sent']}"
                  + (f", {res['throughput_rps']}/s" if "throughput_rps" in res else "")
                  + (f", errors {res['errors']}" if res["errors"] else "")
                  + f", server cpu {res['server_cpu_ms_per_request']} ms/req"
                  + f", loadgen cpu {res['loadgen_cpu_share']:.0%}", file=sys.stderr, flush=True)
            results.append(outcome)
        commit, dirty = git_state(app_root)
        context = {"redis_version": redis.info("server")["redis_version"], "cores": os.cpu_count(),
                   "duration": args.duration, "peak_duration": args.peak_duration, "commit": commit,
                   "dirty": dirty, "when": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
                   "load": (load_before, os.getloadavg()[0]), "gunicorn": " ".join(options)}
        table, verdicts = render(results, context)
    finally:
        for server in servers:
            stop(server)
        redis.flushdb()
        redis.close()
    print(table)
    for verdict in verdicts:
        print(verdict)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(table + "\n" + "\n".join(f"- {v}" for v in verdicts) + "\n")
    args.out.with_suffix(".json").write_text(json.dumps({"context": context, "runs": results}, indent=1))
    print(f"\nwritten to {args.out}", file=sys.stderr)
    return 0 if all("MISSED" not in v for v in verdicts) else 1


if __name__ == "__main__":
    sys.exit(main())
