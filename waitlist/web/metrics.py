"""GET /metrics: operational gauges in the Prometheus text format, read from Redis at scrape time.

Gauges come from Redis rather than per-process counters, so every web process answers the same and
nothing is lost when a process restarts. Guarded by the admin token when one is configured; the
numbers carry no personal data.
"""
from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, current_app
from rq.registry import FailedJobRegistry, ScheduledJobRegistry
from rq.worker import Worker

from waitlist.web.http import bearer_token, get_waitlist

bp = Blueprint("metrics", __name__)


def _line(name: str, value: float, **labels: str) -> str:
    if not labels:
        return f"{name} {value:g}"
    rendered = ",".join(f'{key}="{val}"' for key, val in sorted(labels.items()))
    return f"{name}{{{rendered}}} {value:g}"


def queue_lines(dispatcher: Any) -> list[str]:
    """Depth, scheduled and failed jobs per RQ queue, and live workers (when RQ is the dispatcher)."""
    queues = [q for q in (getattr(dispatcher, "texts", None), getattr(dispatcher, "timers", None)) if q]
    lines: list[str] = []
    for queue in queues:
        lines.append(_line("rq_queue_jobs", queue.count, queue=queue.name))
        lines.append(_line("rq_scheduled_jobs", ScheduledJobRegistry(queue=queue).count, queue=queue.name))
        lines.append(_line("rq_failed_jobs", FailedJobRegistry(queue=queue).count, queue=queue.name))
    if queues:
        lines.append(_line("rq_workers", Worker.count(connection=queues[0].connection)))
    return lines


@bp.get("/metrics")
def metrics() -> Response:
    """Restaurants, parties on the lists by status, texts waiting for a worker's relay, and RQ's queues."""
    gauges = get_waitlist().gauges(bearer_token())
    lines = ["# TYPE waitlist_restaurants gauge", _line("waitlist_restaurants", gauges.restaurants),
             "# TYPE waitlist_parties gauge"]
    lines += [_line("waitlist_parties", total, status=status) for status, total in sorted(gauges.parties.items())]
    lines += ["# TYPE waitlist_outbox_texts gauge",  # grows while no worker runs
              _line("waitlist_outbox_texts", gauges.outbox_texts)]
    lines += ["# TYPE rq_queue_jobs gauge", *queue_lines(current_app.extensions.get("dispatcher"))]
    return Response("\n".join(lines) + "\n", mimetype="text/plain; version=0.0.4")
