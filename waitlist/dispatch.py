"""Hand-off from the web process to RQ workers: what runs now, what runs later, and with what retries.

Jobs are enqueued by dotted path with ids as arguments, so the web process never imports twilio and
a job always re-reads the state it acts on.
"""
from __future__ import annotations

import math
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, Protocol

from rq import Callback, Queue, Retry

from config import Config
from waitlist.connections import rq_shares_waitlist_redis

TEXTS_QUEUE = "texts"
TIMERS_QUEUE = "timers"
QUEUES = (TEXTS_QUEUE, TIMERS_QUEUE)

SEND_TTL_SECONDS = 15 * 60
"""A text still queued after 15 minutes is stale (the guest may be seated by then): RQ drops it."""


class Dispatcher(Protocol):
    def send_text(self, slug: str, message_id: str) -> None: ...

    def queue_send(self, slug: str, message_id: str) -> Callable[[Any], None] | None: ...

    def expire_hold_at(self, slug: str, party_id: str, hold_version: str, at: float) -> None: ...

    def feedback_at(self, slug: str, party_id: str, at: float) -> None: ...

    def expire_pending_at(self, slug: str, party_id: str, at: float) -> None: ...


class RQDispatcher:
    """The production dispatcher: RQ queues on their own Redis connection (RQ needs raw bytes)."""

    def __init__(self, connection: object, config: Config | None = None, shares_waitlist_redis: bool = False):
        """``config`` sets the send retries and job timeout. Its defaults: about five more tries over
        five minutes for 429s, 5xx and network errors (tests shorten them to ~1 s), and 30 s per try,
        enough for Twilio's 10 s HTTP timeout on a list check plus a send. ``shares_waitlist_redis``:
        the queues are in the waitlist's own Redis (see ``queue_send``)."""
        config = config or Config()
        self.shares_waitlist_redis = shares_waitlist_redis
        self.texts = Queue(TEXTS_QUEUE, connection=connection)  # type: ignore[arg-type]
        self.timers = Queue(TIMERS_QUEUE, connection=connection)  # type: ignore[arg-type]
        self.send_retry = Retry(max=len(config.text_retry_intervals), interval=list(config.text_retry_intervals))
        self.send_job_timeout = config.text_job_timeout_seconds

    @classmethod
    def as_configured(cls, connection: object, config: Config) -> RQDispatcher:
        """As deployed: the queues share the waitlist's Redis unless RQ_REDIS_URL or a cluster says not."""
        return cls(connection, config, shares_waitlist_redis=rq_shares_waitlist_redis(config))

    def send_text(self, slug: str, message_id: str, pipeline: Any = None) -> None:
        """Queue the send on ``pipeline``, or in a round trip of its own (RQ's enqueue without a
        pipeline takes two)."""
        pipe = pipeline if pipeline is not None else self.texts.connection.pipeline()
        self.texts.enqueue(
            "workers.jobs.send_text", slug, message_id,
            job_id=f"send-{slug}-{message_id}",
            retry=self.send_retry, job_timeout=self.send_job_timeout, ttl=SEND_TTL_SECONDS,
            result_ttl=300, failure_ttl=7 * 24 * 3600,
            on_failure=Callback("workers.jobs.send_text_failed"), pipeline=pipe,
        )
        if pipeline is None:
            pipe.execute()

    def queue_send(self, slug: str, message_id: str) -> Callable[[Any], None] | None:
        """The send, as commands for a pipeline of the waitlist's Redis to run after the write that
        records the text; None when the queues live elsewhere. A round trip is most of what RQ's
        enqueue costs, and the host's add is the hottest request. The job is queued before the
        write's outcome is known (a refused join, an opted-out number): it re-reads the message and
        then does nothing."""
        if not self.shares_waitlist_redis:
            return None
        return lambda pipe: self.send_text(slug, message_id, pipeline=pipe)

    def expire_hold_at(self, slug: str, party_id: str, hold_version: str, at: float) -> None:
        self.timers.enqueue_at(
            not_before(at), "workers.jobs.expire_hold", slug, party_id, hold_version,
            job_id=f"hold-{slug}-{party_id}-{hold_version}", result_ttl=300, retry=Retry(max=3, interval=5),
        )

    def feedback_at(self, slug: str, party_id: str, at: float) -> None:
        self.timers.enqueue_at(
            not_before(at), "workers.jobs.request_feedback", slug, party_id,
            job_id=f"feedback-{slug}-{party_id}", result_ttl=300, retry=Retry(max=3, interval=30),
        )

    def expire_pending_at(self, slug: str, party_id: str, at: float) -> None:
        self.timers.enqueue_at(
            not_before(at), "workers.jobs.expire_pending", slug, party_id,
            job_id=f"pending-{slug}-{party_id}", result_ttl=300, retry=Retry(max=3, interval=5),
        )


def not_before(at: float) -> datetime:
    """RQ's scheduler keeps whole seconds and truncates: rounding up means a timer never fires early
    (it fires 0-2 s late: the scheduler looks once a second)."""
    return datetime.fromtimestamp(math.ceil(at), tz=UTC)

