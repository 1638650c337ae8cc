"""Instructions per add-party, the service's against the baseline's, counted by valgrind: a ratio the
machine's mood cannot move.

    .venv/bin/python bench/add_instructions.py [--adds 200]          # about 2 minutes
    git worktree add /tmp/before <commit> && python bench/add_instructions.py --compare-root /tmp/before

Peak throughput on this shared two-core machine moves by a fifth from one run to the next, so an
add_cost or http_bench row can hide a 10% change. callgrind counts the instructions a process executes,
not time: the same code gives the same count whatever else the machine is doing. Each target runs in a
process of its own under ``valgrind --tool=callgrind``: the app is called as WSGI (no server, no
sockets but Redis's), adds rotate over 50 fresh restaurants, 20 each to warm up (lines 20 deep, about
the middle of an add_cost run), then ``--adds`` counted ones. Only the counted adds are collected: they
run inside a C callback (libc's ``qsort`` calling a ctypes function) and callgrind collects only while
``qsort_r`` is on the stack.

What the count leaves out: the WSGI server's work per request (gunicorn's, the same for both apps),
system calls, and Redis's own CPU, which ``bench/add_cost.py`` measures. So the ratio here is stricter
than the peak ratio over HTTP, where both apps also pay gunicorn's share. Each target uses its own
Redis database (7, 8, then 9 for ``--compare-root``; the other benchmarks use 12-14 and the tests 11),
flushed before and after. Needs valgrind (Debian's package; it is on this machine).

``--floor 40`` gives each of the service's restaurants a floor of 40 named tables (2 to 8 seats, every
other one joinable with the next), all free, before the warm-up: the add of a restaurant that names its
tables (the compared root needs the tables API too).
"""
from __future__ import annotations

import argparse
import ctypes
import io
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))

import http_bench as hb  # noqa: E402
from loadgen import phone_number  # noqa: E402

RESTAURANTS = 50
WARMUP_PER_RESTAURANT = 20
PARTY = {"name": "Ana Lima", "party_size": 2}


def environ(method: str, path: str, body: dict[str, Any], headers: dict[str, str]) -> dict[str, Any]:
    """A WSGI environ as gunicorn would build it for a JSON request."""
    raw = json.dumps(body).encode()
    env = {"REQUEST_METHOD": method, "PATH_INFO": path, "QUERY_STRING": "", "SERVER_NAME": "127.0.0.1",
           "SERVER_PORT": "80", "SERVER_PROTOCOL": "HTTP/1.1", "wsgi.url_scheme": "http",
           "wsgi.input": io.BytesIO(raw), "wsgi.errors": sys.stderr, "wsgi.multithread": False,
           "wsgi.multiprocess": True, "wsgi.run_once": False, "wsgi.version": (1, 0),
           "CONTENT_TYPE": "application/json", "CONTENT_LENGTH": str(len(raw)), "REMOTE_ADDR": "127.0.0.1"}
    env.update({"HTTP_" + name.upper().replace("-", "_"): value for name, value in headers.items()})
    return env


def call(app: Any, env: dict[str, Any]) -> tuple[str, bytes]:
    statuses: list[str] = []
    body = app(env, lambda status, headers, exc_info=None: statuses.append(status))
    data = b"".join(body)
    getattr(body, "close", lambda: None)()
    return statuses[0], data


def floor_body(tables: int) -> dict[str, Any]:
    """A floor of ``tables`` named tables: seats cycling 2, 2, 4, 4, 6, 8; each even table joins the next."""
    return {"tables": [{"name": f"T{i}", "seats": [2, 2, 4, 4, 6, 8][i % 6],
                        "joins_with": [f"T{i + 1}"] if i % 2 == 0 and i + 1 < tables else []}
                       for i in range(tables)]}


def service_adder(root: Path, floor: int = 0) -> Callable[[int], None]:
    """Adds through the service's app built from ``root`` (REDIS_URL etc. come from the environment)."""
    sys.path.insert(0, str(root))
    try:
        from waitlist.web.app import create_app
    except ModuleNotFoundError:  # a --compare-root from before the app factory moved to waitlist.web
        from waitlist import create_app  # type: ignore[attr-defined,no-redef]

    app = create_app()
    keys = []
    for index in range(RESTAURANTS):
        body = {"slug": f"count-{index}", "name": "Count", "sms_from": f"+1202555{index:04d}"}
        admin = {"Authorization": f"Bearer {hb.ADMIN_TOKEN}"}
        status, data = call(app, environ("POST", "/api/v1/restaurants", body, admin))
        assert status.startswith("201"), (status, data)
        keys.append(json.loads(data)["api_key"])
        if floor:
            status, data = call(app, environ("PUT", f"/api/v1/restaurants/count-{index}/tables", floor_body(floor),
                                             {"Authorization": f"Bearer {keys[-1]}"}))
            assert status.startswith("200"), (status, data)

    def add(i: int) -> None:
        slot = i % RESTAURANTS
        headers = {"Authorization": f"Bearer {keys[slot]}", "X-Forwarded-For": f"10.0.{slot}.1"}
        status, data = call(app, environ("POST", f"/api/v1/restaurants/count-{slot}/parties",
                                         {**PARTY, "phone": phone_number(i)}, headers))
        assert status.startswith("201"), (status, data)
    return add


def baseline_adder() -> Callable[[int], None]:
    from baseline_app import create_app
    from redis import Redis

    app = create_app(Redis.from_url(os.environ["REDIS_URL"], decode_responses=True))

    def add(i: int) -> None:
        status, data = call(app, environ("POST", f"/bench-add-{i % RESTAURANTS}/parties",
                                         {**PARTY, "phone": phone_number(i)}, {}))
        assert status.startswith("20"), (status, data)
    return add


def measure(target: str, root: Path, adds: int, floor: int = 0) -> None:
    """The child under valgrind: warm up, then the counted adds inside qsort's comparator."""
    add = baseline_adder() if target == "baseline" else service_adder(root, floor)
    warmup = RESTAURANTS * WARMUP_PER_RESTAURANT
    for i in range(warmup):
        add(i)
    failed: list[BaseException] = []

    def counted(_a: Any, _b: Any) -> int:
        try:
            for i in range(warmup, warmup + adds):
                add(i)
        except BaseException as exc:  # noqa: BLE001  (an exception must not unwind through C)
            failed.append(exc)
        return 0

    comparator = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_void_p, ctypes.c_void_p)(counted)
    pair = (ctypes.c_int * 2)(1, 2)
    ctypes.CDLL(None).qsort(pair, 2, ctypes.sizeof(ctypes.c_int), comparator)
    if failed:
        raise failed[0]


def count(name: str, target: str, root: Path, db: int, adds: int, floor: int = 0) -> float:
    """Instructions per counted add of one target, from a callgrind run in a fresh process."""
    from redis import Redis

    redis_url = f"redis://127.0.0.1:6379/{db}"
    Redis.from_url(redis_url).flushdb()
    env = hb.server_env(redis_url, root)
    with tempfile.TemporaryDirectory() as scratch:
        log, output = Path(scratch) / "valgrind.log", Path(scratch) / "stderr.log"
        with output.open("wb") as stderr:  # the service's log lines go here, as they would to a file
            done = subprocess.run(
                ["valgrind", "--tool=callgrind", "--toggle-collect=*qsort_r", f"--log-file={log}",
                 f"--callgrind-out-file={Path(scratch) / 'callgrind.out'}", sys.executable, __file__,
                 "--measure", target, "--root", str(root), "--adds", str(adds), "--floor", str(floor)],
                env=env, stdout=subprocess.DEVNULL, stderr=stderr, check=False)
        Redis.from_url(redis_url).flushdb()
        found = re.search(r"Collected : (\d+)", log.read_text()) if log.exists() else None
        if done.returncode != 0 or found is None:
            raise RuntimeError(f"{name}: valgrind run failed: {output.read_text()[-2000:]}")
    return int(found.group(1)) / adds


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--adds", type=int, default=200, help="counted adds per target")
    parser.add_argument("--compare-root", type=Path, default=None,
                        help="a checkout of another commit (e.g. a git worktree) counted as one more row")
    parser.add_argument("--out", type=Path, default=hb.RESULTS / "add_instructions.md")
    parser.add_argument("--floor", type=int, default=0, help="named tables per restaurant of the service (0: none)")
    parser.add_argument("--measure", choices=["service", "baseline"], help=argparse.SUPPRESS)
    parser.add_argument("--root", type=Path, default=ROOT, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.measure:
        measure(args.measure, args.root, args.adds, args.floor)
        return 0
    if shutil.which("valgrind") is None:
        print("valgrind is not installed (apt-get install valgrind)", file=sys.stderr)
        return 2
    targets = [("service", "service", ROOT, 7), ("baseline (one Lua script)", "baseline", ROOT, 8)]
    if args.compare_root:
        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=args.compare_root, capture_output=True,
                                text=True, check=False).stdout.strip() or str(args.compare_root)
        targets.append((f"service at {commit}", "service", args.compare_root, 9))
    with ThreadPoolExecutor(max_workers=2) as pool:  # two cores
        counts = dict(zip([t[0] for t in targets],
                          pool.map(lambda t: count(t[0], t[1], t[2], t[3], args.adds, args.floor), targets)))
    baseline = counts["baseline (one Lua script)"]
    lines = ["| target | instructions per add | baseline ÷ target |", "|---|---:|---:|"]
    lines += [f"| {name} | {value / 1e6:.3f} M | {baseline / value:.1%} |" for name, value in counts.items()]
    tables = f" with {args.floor} named tables each" if args.floor else ""
    table = "\n".join(lines) + (f"\n\n{args.adds} counted adds per target after {WARMUP_PER_RESTAURANT} per restaurant "
                                f"over {RESTAURANTS} restaurants{tables}; "
                                "the app called as WSGI in one process; "
                                "callgrind instruction counts (no server, no syscalls, no Redis CPU).")
    hb.report(table, args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
