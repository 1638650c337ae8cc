"""Where an add-party's cost goes: the service's peak against itself with parts switched off.

    .venv/bin/python bench/add_cost.py [--rounds 3] [--duration 5]     # about 2 minutes
    git worktree add /tmp/before <commit> && python bench/add_cost.py --compare-root /tmp/before

Issue 2 asks for an add-party peak of at least half the baseline's (``bench/baseline_app.py``: one Lua
script behind a JSON body). This benchmark shows how far each part of a real add is from that, by
serving the same code with one part at a time taken out and measuring each variant's closed-loop peak
(16 busy connections, 4 sync gunicorn workers, adds spread over 50 fresh restaurants per run, as in
``bench/http_bench.py``), the CPU its gunicorn processes spend per request and the CPU Redis spends
per request. Variants run in turn, ``--rounds`` times over, and the table reports each one's median,
so a busy moment of the shared machine hits all of them alike.

The variants exist only here (``create_app`` below patches the built app; the service has no such
switches):

* ``full``: the service as deployed;
* ``no log line``: without the "party joined" INFO line;
* ``no text``: no joined text at all (no rendering, no message record, no outbox entry);
* ``no estimate``: a fixed quote instead of running the estimator (the line is still read: the same
  script checks the API key);
* ``none of these``: no estimate, no text, no log line: what is left is authentication, validation,
  phone parsing, the guest link's token, the join script (dedupe, position, event) and the answer.
"""
from __future__ import annotations

import argparse
import logging
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from flask import Flask
from redis import Redis

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))

import http_bench as hb  # noqa: E402

VARIANTS = {
    "full": "",
    "no log line": "nolog",
    "no text": "notext",
    "no estimate": "noest",
    "none of these": "nolog,notext,noest",
}
BASELINE = "baseline (one Lua script)"


def create_app(parts: str = "") -> Flask:
    """The service's app with the comma-separated ``parts`` switched off (see the module docstring)."""
    from waitlist.estimate.estimator import Estimate
    from waitlist.services import parties as services  # where join looks estimate_wait up
    from waitlist.web.app import create_app as create_service

    app = create_service()
    waitlist = app.extensions["waitlist"]
    off = set(filter(None, parts.split(",")))
    if "nolog" in off:
        logging.getLogger("waitlist.services.waitlist").setLevel(logging.WARNING)
    if "notext" in off:
        waitlist._joined_text = lambda restaurant, party, position: None
        waitlist._text_joined = lambda restaurant, party: None
    if "noest" in off:
        services.estimate_wait = lambda *args, **kwargs: Estimate(10, 5, 15, 0)
    return app


def redis_cpu(redis: Redis) -> float:
    info = redis.info("cpu")
    return float(info["used_cpu_user"]) + float(info["used_cpu_sys"])


def peak(server: hb.Server, templates: list[dict[str, Any]], redis: Redis, phones: hb.Phones,
         duration: float) -> dict[str, float]:
    spec = {"host": "127.0.0.1", "port": server.port, "mode": "closed", "duration": duration,
            "templates": templates, "phone_offset": phones.next, "connections": hb.PEAK_CONNECTIONS, "warmup": 1.0}
    cpu_before, redis_before = hb.cpu_seconds(server), redis_cpu(redis)
    result = hb.run_load(spec)
    cpu, redis_used = hb.cpu_seconds(server) - cpu_before, redis_cpu(redis) - redis_before
    phones.take(result)
    requests = max(1, int(result["total_sent"]))  # the warm-up's requests too: the CPU counts them
    # The last request of each connection may be cut off by the end of the run; errors and non-2xx are not.
    failed = sum(result["errors"].values()) + sum(n for code, n in result["statuses"].items() if code[0] != "2")
    if failed:
        raise RuntimeError(f"{server.name}: {failed} of {result['sent']} requests failed: {result['statuses']}")
    return {"rps": float(result["throughput_rps"]), "cpu_ms": cpu * 1000 / requests,
            "redis_ms": redis_used * 1000 / requests}


def render(medians: dict[str, dict[str, float]], context: str) -> str:
    base = medians[BASELINE]["rps"]
    lines = ["| variant | peak adds/s | vs baseline | gunicorn CPU/add | Redis CPU/add |",
             "|---|---:|---:|---:|---:|"]
    for name, m in medians.items():
        lines.append(f"| {name} | {m['rps']:,.0f} | {m['rps'] / base:.0%} | {m['cpu_ms']:.2f} ms "
                     f"| {m['redis_ms']:.2f} ms |")
    return "\n".join(lines) + "\n\n" + context


def start_servers(redis_url: str, compare_root: Path | None = None) -> dict[str, hb.Server]:
    """Every variant, the baseline and, given ``compare_root`` (a checkout of another commit, such as a
    ``git worktree``), that commit's service as deployed, so before and after share the machine's mood."""
    env = hb.server_env(redis_url, ROOT)
    options = ["-w", str(hb.WORKERS), "--worker-class", "sync"]
    servers = {name: hb.start_gunicorn(f"add-cost-{parts or 'full'}", f"bench.add_cost:create_app({parts!r})",
                                       env, ROOT, options) for name, parts in VARIANTS.items()}
    if compare_root is not None:
        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=compare_root, capture_output=True,
                                text=True, check=True).stdout.strip()
        servers[f"full at {commit}"] = hb.start_gunicorn("add-cost-compare", "wsgi:app",
                                                         hb.server_env(redis_url, compare_root), compare_root, options)
    servers[BASELINE] = hb.start_gunicorn("add-cost-baseline", "bench.baseline_app:create_app()", env, ROOT, options)
    return servers


class Restaurants:
    """Fresh restaurants for every service run, so each run's lines start empty, as in http_bench."""

    def __init__(self, admin_port: int) -> None:
        self.admin_port = admin_port
        self.made = 0

    def add_templates(self) -> list[dict[str, Any]]:
        templates = []
        for _ in range(hb.ADD_RESTAURANTS):
            slug = f"cost-{self.made}"
            key = hb.create_restaurant(self.admin_port, slug, self.made)
            templates.append({"method": "POST", "path": f"/api/v1/restaurants/{slug}/parties",
                              "headers": hb.auth(key), "body": hb.PARTY_BODY})
            self.made += 1
        return templates


BASELINE_TEMPLATES = [{"method": "POST", "path": f"/bench-add-{r}/parties", "body": hb.PARTY_BODY}
                      for r in range(hb.ADD_RESTAURANTS)]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--redis-url", default=hb.DEFAULT_REDIS_URL, help="a database of its own: it is flushed")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--duration", type=float, default=5.0, help="seconds per peak run")
    parser.add_argument("--out", type=Path, default=hb.RESULTS / "add_cost.md")
    parser.add_argument("--compare-root", type=Path, default=None,
                        help="a checkout of another commit (e.g. a git worktree) whose service runs as one more row")
    args = parser.parse_args(argv)
    hb.check_phone_numbers()
    redis = Redis.from_url(args.redis_url)
    redis.flushdb()
    servers: dict[str, hb.Server] = {}
    try:
        servers = start_servers(args.redis_url, args.compare_root)
        for server in servers.values():
            hb.wait_healthy(server)
        restaurants, phones = Restaurants(servers["full"].port), hb.Phones()
        samples: dict[str, list[dict[str, float]]] = {name: [] for name in servers}
        for round_number in range(args.rounds):
            for name, server in servers.items():
                templates = BASELINE_TEMPLATES if name == BASELINE else restaurants.add_templates()
                sample = peak(server, templates, redis, phones, args.duration)
                samples[name].append(sample)
                print(f"round {round_number + 1} {name:26} {sample['rps']:7.0f}/s  gunicorn {sample['cpu_ms']:.2f} "
                      f"ms/add  redis {sample['redis_ms']:.2f} ms/add", file=sys.stderr, flush=True)
    finally:
        for server in servers.values():
            hb.stop(server)
        redis.flushdb()
        redis.close()
    medians = {name: {key: statistics.median(s[key] for s in runs) for key in runs[0]}
               for name, runs in samples.items()}
    context = (f"Medians of {args.rounds} rounds of {args.duration:g} s closed-loop runs, {hb.PEAK_CONNECTIONS} "
               f"connections, gunicorn -w {hb.WORKERS} sync per variant, Redis on loopback, 2 cores shared by "
               f"all; {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}.")
    table = render(medians, context)
    hb.report(table, args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
