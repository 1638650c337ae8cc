"""Outbound webhooks in the workers: the relay thread that follows each hooked restaurant's events
stream, and the RQ job that delivers one event to one endpoint.

The relay (one per worker process; a per-restaurant lease lets one relay move a restaurant's cursor at
a time) looks every second at the restaurants with endpoints and queues a delivery job per event and
endpoint (waitlist.services.webhooks.Webhooks.relay). The job signs the body with the endpoint's
secret at each try (a fresh timestamp, the same body and event id), POSTs it, and raises on anything
but a 2xx, so RQ retries it with backoff (``WEBHOOK_RETRY_INTERVALS``).
"""
from __future__ import annotations

import json
import logging
import os
import socket
import threading
import time
from collections.abc import Sequence
from typing import Any

import requests
from rq import Queue, Retry, get_current_job

from config import Config
from waitlist.domain.webhooks import EVENT_ID_HEADER, SIGNATURE_HEADER, sign
from waitlist.services.webhooks import Delivery, Webhooks
from waitlist.store.webhooks import WebhookStore
from waitlist.texting.dispatch import WEBHOOKS_QUEUE
from workers.context import current

log = logging.getLogger(__name__)

POLL_SECONDS = 1.0
USER_AGENT = "waitlist-webhooks/1"


class DeliveryFailed(Exception):
    """A try that did not get a 2xx: raised so RQ records it and retries."""


class RQDeliveries:
    """Queues delivery jobs on the webhooks queue, one round trip per batch. A job's id names the
    endpoint and the event, so queueing the same delivery again replaces it rather than doubling it."""

    def __init__(self, connection: Any, config: Config):
        self.queue = Queue(WEBHOOKS_QUEUE, connection=connection)
        intervals = list(config.webhook_retry_intervals)
        self.retry = Retry(max=len(intervals), interval=intervals)
        self.timeout = int(config.webhook_timeout_seconds * 2 + 10)

    def deliver(self, slug: str, deliveries: Sequence[Delivery]) -> None:
        pipe = self.queue.connection.pipeline()
        for d in deliveries:
            self.queue.enqueue("workers.webhooks.deliver_webhook", slug, d.endpoint_id, d.event_id, d.body,
                               job_id=f"hook-{slug}-{d.endpoint_id}-{d.event_id}", retry=self.retry,
                               job_timeout=self.timeout, result_ttl=300, failure_ttl=7 * 24 * 3600, pipeline=pipe)
        pipe.execute()


_service: Webhooks | None = None


def use(service: Webhooks | None) -> None:
    """Tests and the embedded runner install their own service."""
    global _service
    _service = service


def service() -> Webhooks:
    global _service
    if _service is None:
        waitlist = current().waitlist
        _service = Webhooks(WebhookStore(waitlist.store.redis), waitlist.config)
    return _service


def deliver_webhook(slug: str, endpoint_id: str, event_id: str, body: str) -> str:
    """POST one event to one endpoint, signed. Returns quietly when the endpoint was removed or
    disabled since; raises DeliveryFailed (RQ retries) on a refused address, a network error or a
    non-2xx answer."""
    hooks = service()
    endpoint = hooks.delivery_target(slug, endpoint_id)
    if endpoint is None:
        return "skipped"
    job = get_current_job()
    left = job.retries_left if job is not None else None
    attempt = len(hooks.config.webhook_retry_intervals) - left + 1 if left is not None else 1
    kind = _event_type(body)
    problem = hooks.check_address(endpoint.url)
    started = time.monotonic()
    status: int | None = None
    if problem:
        error = problem
    else:
        stamp = int(hooks.clock())
        raw = body.encode()
        headers = {"Content-Type": "application/json", "User-Agent": USER_AGENT, EVENT_ID_HEADER: event_id,
                   SIGNATURE_HEADER: sign(endpoint.secret, stamp, raw)}
        try:
            answer = requests.post(endpoint.url, data=raw, headers=headers, allow_redirects=False,
                                   timeout=hooks.config.webhook_timeout_seconds)
            status = answer.status_code
            error = "" if 200 <= status < 300 else f"HTTP {status}"
        except (OSError, requests.RequestException) as exc:
            error = type(exc).__name__
    ok = not error
    hooks.record_try(slug, endpoint_id, event_id, kind, ok=ok, status=status, error=error, attempt=attempt,
                     millis=int((time.monotonic() - started) * 1000))
    if not ok:
        raise DeliveryFailed(f"webhook {endpoint_id} of {slug}: {error}")
    return "delivered"


def _event_type(body: str) -> str:
    try:
        return str(json.loads(body).get("type", ""))
    except ValueError:
        return ""


class WebhookRelay:
    """Follows the events streams of the restaurants with endpoints and queues their deliveries."""

    def __init__(self, hooks: Webhooks, queue: Any, poll_seconds: float = POLL_SECONDS):
        self.hooks = hooks
        self.queue = queue
        self.poll_seconds = poll_seconds
        self.owner = f"{socket.gethostname()}:{os.getpid()}:{id(self)}"

    def round(self) -> int:
        """One look at every hooked restaurant; how many deliveries were queued."""
        return sum(self.hooks.relay(slug, self.queue, self.owner) for slug in self.hooks.store.hooked_slugs())

    def run(self, stop: threading.Event) -> None:
        while not stop.is_set():
            try:
                self.round()
            except Exception:  # Redis down, a bad entry: the cursor has not moved, the next round retries
                log.exception("webhook relay round failed")
            stop.wait(self.poll_seconds)

    def start(self) -> tuple[threading.Thread, threading.Event]:
        stop = threading.Event()
        thread = threading.Thread(target=self.run, args=(stop,), daemon=True, name="webhook-relay")
        thread.start()
        return thread, stop


def start_relay(rq_connection: Any) -> tuple[threading.Thread, threading.Event]:
    """The worker's relay thread, over the job context's Redis and configuration."""
    hooks = service()
    return WebhookRelay(hooks, RQDeliveries(rq_connection, hooks.config)).start()
