"""What handing a text to RQ costs: one enqueue per text, as the web request used to, against the
workers' outbox relay, which queues them in batches.

    .venv/bin/python bench/relay_cost.py [--texts 5000] [--rounds 3]

Both run in this one process against the real Redis (its own database, flushed before and after):
texts are recorded in the outboxes of 50 restaurants, then either queued one ``send_text`` at a time
(no relay) or moved by ``OutboxRelay.sweep`` (claim, one pipelined enqueue per batch, clear). The
figures are this process's CPU and Redis's CPU per text, medians over rounds that alternate the two.
No worker runs: the jobs stay queued, and the database is flushed between rounds.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path

from redis import Redis

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from config import Config  # noqa: E402
from waitlist.store import MessageStore, OutboundText, Store, restaurants_key  # noqa: E402
from waitlist.texting.dispatch import RQDispatcher  # noqa: E402
from workers.relay import OutboxRelay  # noqa: E402

DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/13"
RESTAURANTS = 50


def record_texts(messages: MessageStore, redis: Redis, count: int) -> list[tuple[str, str]]:
    """``count`` texts recorded for the relay, spread over the restaurants; their (slug, id)s."""
    recorded = []
    for i in range(count):
        slug = f"relay-{i % RESTAURANTS}"
        message = {"id": f"m{i}", "party": "", "kind": "joined", "direction": "out", "to": "+14155552671",
                   "from": "+14155550100", "body": "Noodle Bar: you're #3 in line.", "status": "queued",
                   "created_at": repr(time.time()), "updated_at": repr(time.time()), "attempts": "0"}
        messages.record_outbound(slug, OutboundText(message, "digest", relayed=True))
        recorded.append((slug, message["id"]))
    redis.sadd(restaurants_key(), *{slug for slug, _ in recorded})
    return recorded


def enqueue_each(dispatcher: RQDispatcher, recorded: list[tuple[str, str]]) -> None:
    for slug, message_id in recorded:
        dispatcher.send_texts(slug, [message_id])


def redis_cpu(redis: Redis) -> float:
    info = redis.info("cpu")
    return float(info["used_cpu_user"]) + float(info["used_cpu_sys"])


def timed(redis: Redis, work: Callable[[], object]) -> tuple[float, float]:
    cpu, server = time.process_time(), redis_cpu(redis)
    work()
    return time.process_time() - cpu, redis_cpu(redis) - server


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--redis-url", default=DEFAULT_REDIS_URL, help="a database of its own: it is flushed")
    parser.add_argument("--texts", type=int, default=5000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args(argv)
    redis = Redis.from_url(args.redis_url, decode_responses=True)
    raw = Redis.from_url(args.redis_url)
    dispatcher = RQDispatcher(raw, Config())
    messages, store = MessageStore(redis), Store(redis)
    relay = OutboxRelay(messages, store, dispatcher)
    samples: dict[str, list[tuple[float, float]]] = {"one enqueue per text": [], "outbox relay (sweep)": []}
    try:
        for _ in range(args.rounds):
            for name in samples:
                redis.flushdb()
                recorded = record_texts(messages, redis, args.texts)
                if name == "one enqueue per text":
                    cpu, server = timed(redis, partial(enqueue_each, dispatcher, recorded))
                else:
                    cpu, server = timed(redis, relay.sweep)
                assert dispatcher.texts.count == args.texts, dispatcher.texts.count
                samples[name].append((cpu * 1000 / args.texts, server * 1000 / args.texts))
    finally:
        redis.flushdb()
    lines = ["| handing texts to RQ | CPU per text | Redis CPU per text |", "|---|---:|---:|"]
    for name, runs in samples.items():
        lines.append(f"| {name} | {statistics.median(r[0] for r in runs):.3f} ms "
                     f"| {statistics.median(r[1] for r in runs):.3f} ms |")
    print("\n".join(lines) + f"\n\n{args.texts} texts over {RESTAURANTS} restaurants, medians of {args.rounds} "
          f"rounds; {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
