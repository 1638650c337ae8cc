"""Instructions per add-party inside one gunicorn sync worker, the service's against the baseline's.

    .venv/bin/python bench/worker_instructions.py [--adds 300]          # about 3 minutes

``bench/add_instructions.py`` counts the app alone, called as WSGI; this counts the whole request as
gunicorn serves it: reading and parsing the HTTP request, the app, and building and writing the
response. Each target runs as ``gunicorn -w 1 --worker-class sync`` under ``valgrind --tool=callgrind
--trace-children=yes``; after warm-up adds the worker's counters are zeroed (``callgrind_control -z``),
``--adds`` more are sent one at a time from this process, and the counters are dumped
(``callgrind_control -d``). The service's adds go 50 to a restaurant (lines up to 50 deep; the
restaurants are made before counting); the baseline's rotate over its 50 restaurants.

What it leaves out: system calls (the kernel's side of the sockets), Redis's CPU, and how fast the
instructions run (cache misses): on a machine shared with other tenants the service's larger code
and data suffer more than the baseline's, so the peak ratio over HTTP reads lower than this ratio
(see docs/performance.md). Uses Redis database 6 (flushed before and after); needs valgrind.
"""
from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))

import http_bench as hb  # noqa: E402
from loadgen import call, phone_number, stop_process_group  # noqa: E402

REDIS_URL = "redis://127.0.0.1:6379/6"
WARMUP_ADDS = 60
ADDS_PER_RESTAURANT = 50
TARGETS = {"service": "wsgi:app", "baseline": "bench.baseline_app:create_app()"}


def worker_pid(master: int) -> int:
    """The one worker of a gunicorn master: its child process."""
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == master:
            return int(stat.parent.name)
    raise RuntimeError(f"gunicorn master {master} has no worker")


def service_adder(port: int, total: int) -> Callable[[int], None]:
    """Adds through the service, ADDS_PER_RESTAURANT to a restaurant; the restaurants are made first,
    so no restaurant's creation is counted."""
    keys = []
    for r in range(-(-total // ADDS_PER_RESTAURANT)):
        status, answer = call(port, "POST", "/api/v1/restaurants",
                              {"slug": f"count-{r}", "name": "Count", "sms_from": f"+1202555{r:04d}"}, hb.ADMIN_TOKEN)
        assert status == 201, (status, answer)
        keys.append(answer["api_key"])

    def add(i: int) -> None:
        r = i // ADDS_PER_RESTAURANT
        status, answer = call(port, "POST", f"/api/v1/restaurants/count-{r}/parties",
                              {"name": "Ana Lima", "phone": phone_number(i), "party_size": 2}, keys[r])
        assert status == 201, (status, answer)
    return add


def baseline_adder(port: int) -> Callable[[int], None]:
    def add(i: int) -> None:
        status, answer = call(port, "POST", f"/bench-add-{i % 50}/parties",
                              {"name": "Ana Lima", "phone": phone_number(i), "party_size": 2})
        assert status == 201, (status, answer)
    return add


def count(target: str, adds: int, worker_class: str = "sync") -> float:
    """Instructions per add in the target's gunicorn worker."""
    from redis import Redis

    Redis.from_url(REDIS_URL).flushdb()
    port = hb.free_port()
    with tempfile.TemporaryDirectory() as scratch:
        log = (Path(scratch) / "gunicorn.log").open("wb")
        process = subprocess.Popen(
            ["valgrind", "--tool=callgrind", "--trace-children=yes", f"--callgrind-out-file={scratch}/cg.%p",
             f"--log-file={scratch}/valgrind.%p", sys.executable, "-m", "gunicorn", "-b", f"127.0.0.1:{port}",
             "-w", "1", "--worker-class", worker_class, "--timeout", "600", "--log-level", "warning", TARGETS[target]],
            cwd=ROOT, env=hb.server_env(REDIS_URL, ROOT), stdout=log, stderr=subprocess.STDOUT,
            start_new_session=True)
        try:
            # gunicorn under valgrind takes a while to import the app
            hb.wait_healthy(hb.Server(target, port, process, Path(scratch) / "gunicorn.log"), timeout=120)
            worker = worker_pid(process.pid)
            add = service_adder(port, WARMUP_ADDS + adds) if target == "service" else baseline_adder(port)
            for i in range(WARMUP_ADDS):
                add(i)
            subprocess.run(["callgrind_control", "-z", str(worker)], check=True, capture_output=True)
            for i in range(WARMUP_ADDS, WARMUP_ADDS + adds):
                add(i)
            subprocess.run(["callgrind_control", "-d", str(worker)], check=True, capture_output=True)
            dumps = sorted(Path(scratch).glob(f"cg.{worker}.*"))
            totals = re.search(r"^(?:totals|summary): (\d+)", dumps[-1].read_text(), re.MULTILINE) if dumps else None
            if totals is None:
                raise RuntimeError(f"{target}: no callgrind dump from worker {worker}")
            return int(totals.group(1)) / adds
        finally:
            stop_process_group(process, grace=60)
            log.close()
            Redis.from_url(REDIS_URL).flushdb()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--adds", type=int, default=300, help="counted adds per target")
    parser.add_argument("--worker-class", default="sync",
                        help="gunicorn worker class for both targets: sync (default), gthread, gevent, or the "
                             "Procfile's waitlist.web.server.Worker")
    parser.add_argument("--out", type=Path, default=hb.RESULTS / "worker_instructions.md")
    args = parser.parse_args(argv)
    if shutil.which("valgrind") is None:
        print("valgrind is not installed (apt-get install valgrind)", file=sys.stderr)
        return 2
    # one at a time: both use database 6
    counts = {target: count(target, args.adds, args.worker_class) for target in TARGETS}
    table = "\n".join([
        "| target | instructions per add in the gunicorn worker | baseline ÷ target |", "|---|---:|---:|",
        *(f"| {name} | {value / 1e6:.3f} M | {counts['baseline'] / value:.1%} |" for name, value in counts.items()),
    ]) + (f"\n\n{args.adds} counted adds per target after {WARMUP_ADDS}; gunicorn -w 1 {args.worker_class} "
          "under callgrind.")
    hb.report(table, args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
