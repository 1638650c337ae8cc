"""Hand-off from the web process to RQ workers: what runs now, what runs later, and with what retries.

Jobs are enqueued by dotted path with ids as arguments, so the web process never imports twilio and
a job always re-reads the state it acts on. Texts reach the texts queue through each restaurant's
outbox: the script that records a text also puts it there, and the workers' relay (workers.relay)
queues its send job.
"""
from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Protocol

from rq import Callback, Queue, Retry
from rq.job import Job

from config import Config

TEXTS_QUEUE = "texts"
TIMERS_QUEUE = "timers"
WEBHOOKS_QUEUE = "webhooks"
"""Outbound webhook deliveries (workers.webhooks): last, so a slow endpoint never delays a text or a timer."""
MAIL_QUEUE = "mail"
"""Invitation and password-reset links (workers.jobs.send_mail): an SMTP server is as slow as a webhook."""
QUEUES = (TEXTS_QUEUE, TIMERS_QUEUE, WEBHOOKS_QUEUE, MAIL_QUEUE)

MAIL_RETRY_SECONDS = (30, 120, 600)
MAIL_TTL_SECONDS = 3600
"""A mail job holds a live link (a reset link lives an hour): it is deleted once sent, and one that
fails or waits in the queue is kept no longer than the link is worth."""

LIVE_STATUSES = frozenset({"scheduled", "started", "deferred"})
"""RQ job statuses of a send that will still run by itself (RQ's own cleanup retries or fails an
abandoned started job)."""

SEND_TTL_SECONDS = 15 * 60
"""A text still queued after 15 minutes is stale (the guest may be seated by then): RQ drops it."""


class Dispatcher(Protocol):
    """Where work for the workers goes. The service never calls ``send_texts`` itself: a recorded text
    waits in its restaurant's outbox until a worker's relay (workers.relay) calls it."""

    def send_texts(self, slug: str, message_ids: Iterable[str]) -> None: ...

    def expire_hold_at(self, slug: str, party_id: str, hold_version: str, at: float) -> None: ...

    def feedback_at(self, slug: str, party_id: str, at: float) -> None: ...

    def expire_pending_at(self, slug: str, party_id: str, at: float) -> None: ...

    def reservation_timer_at(self, slug: str, reservation_id: str, kind: str, version: str, at: float) -> None: ...

    def send_mail(self, to: str, subject: str, body: str) -> None: ...


class RQDispatcher:
    """The production dispatcher: RQ queues on their own Redis connection (RQ needs raw bytes).

    Texts go through the outbox rather than straight to RQ: queueing an RQ job costs more CPU than
    anything else the host's add does for its text, and the outbox makes recording a text and the
    promise to send it one atomic write wherever the queues are."""

    def __init__(self, connection: object, config: Config | None = None):
        """``config`` sets the send retries and job timeout. Its defaults: about five more tries over
        five minutes for 429s, 5xx and network errors (tests shorten them to ~1 s), and 30 s per try,
        enough for Twilio's 10 s HTTP timeout on a list check plus a send."""
        config = config or Config()
        self.texts = Queue(TEXTS_QUEUE, connection=connection)  # type: ignore[arg-type]
        self.timers = Queue(TIMERS_QUEUE, connection=connection)  # type: ignore[arg-type]
        self.mail = Queue(MAIL_QUEUE, connection=connection)  # type: ignore[arg-type]
        self.send_retry = Retry(max=len(config.text_retry_intervals), interval=list(config.text_retry_intervals))
        self.send_job_timeout = config.text_job_timeout_seconds

    def send_texts(self, slug: str, message_ids: Iterable[str]) -> None:
        """Queue one send job per message, all in one round trip (RQ's enqueue alone takes two).
        A text queued twice (after a relay's lease lapsed) is still sent once: the job claims its
        message before sending."""
        pipe = self.texts.connection.pipeline()
        for message_id in message_ids:
            self.texts.enqueue(
                "workers.jobs.send_text", slug, message_id,
                job_id=send_job_id(slug, message_id),
                retry=self.send_retry, job_timeout=self.send_job_timeout, ttl=SEND_TTL_SECONDS,
                result_ttl=300, failure_ttl=7 * 24 * 3600,
                on_failure=Callback("workers.jobs.send_text_failed"), pipeline=pipe,
            )
        pipe.execute()

    def live_sends(self, slug: str, message_ids: Sequence[str]) -> list[bool]:
        """Per message: whether RQ still holds a send job that will run (scheduled for a retry,
        started, or queued and still in the queue), in two round trips. A job whose status says
        queued but which is no longer in the queue was popped by a connection nobody reads (a dead
        worker's, kept open by its scheduler child): nothing will run it, and RQ drops it at its ttl."""
        if not message_ids:
            return []
        job_ids = [send_job_id(slug, message_id) for message_id in message_ids]
        connection = self.texts.connection
        pipe = connection.pipeline(transaction=False)
        for job_id in job_ids:
            pipe.hget(Job.key_for(job_id), "status")
        statuses = [_text(status) for status in pipe.execute()]
        pipe = connection.pipeline(transaction=False)
        for job_id, status in zip(job_ids, statuses):
            if status == "queued":
                pipe.lpos(self.texts.key, job_id)
        in_queue = iter(pipe.execute())
        return [status in LIVE_STATUSES or (status == "queued" and next(in_queue) is not None)
                for status in statuses]

    def send_mail(self, to: str, subject: str, body: str) -> None:
        self.mail.enqueue("workers.jobs.send_mail", to, subject, body, retry=Retry(max=len(MAIL_RETRY_SECONDS),
                          interval=list(MAIL_RETRY_SECONDS)), ttl=MAIL_TTL_SECONDS, result_ttl=0,
                          failure_ttl=MAIL_TTL_SECONDS)

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

    def reservation_timer_at(self, slug: str, reservation_id: str, kind: str, version: str, at: float) -> None:
        """A reservation's reminder or grace timer. The job id names the timer's version, so scheduling it
        again writes the same job; the timer script's latch makes a job that runs twice text once."""
        self.timers.enqueue_at(
            not_before(at), "workers.jobs.reservation_timer", slug, reservation_id, kind, version,
            job_id=f"resv-{kind}-{slug}-{reservation_id}-{version}", result_ttl=300,
            retry=Retry(max=3, interval=5),
        )


def send_job_id(slug: str, message_id: str) -> str:
    """One job id per message: queueing a text's send again replaces its job rather than adding one."""
    return f"send-{slug}-{message_id}"


def _text(value: object) -> str:
    return value.decode() if isinstance(value, bytes) else str(value or "")


def not_before(at: float) -> datetime:
    """RQ's scheduler keeps whole seconds and truncates: rounding up means a timer never fires early
    (it fires 0-2 s late: the scheduler looks once a second)."""
    return datetime.fromtimestamp(math.ceil(at), tz=UTC)

