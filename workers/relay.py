"""The outbox relay: moves recorded texts from the restaurants' outboxes into RQ's texts queue.

The script that records a text (a join, a table-ready notify, a reply) also puts its id in the
restaurant's outbox and publishes the restaurant's slug (waitlist.store). Every worker runs a relay
in a thread. Told a slug, or finding one in its sweep every few seconds (for a notice it missed while
it or its connection was down), it claims that restaurant's due texts under a lease, queues one send
job each, and clears them from the outbox.

Why not queue the job in the web request: building and writing an RQ job costs the host's add more
CPU than the rest of its text, and a record plus a separately queued job can part (a crash between
them, or queues in another Redis). The outbox entry is written by the same script as the record.

A relay that dies between its claim and its clear leaves the texts leased: another relay queues them
when the lease ends. The send job claims its message before sending, so a text queued twice is sent once.
"""
from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from waitlist.store import MessageStore, Store
from waitlist.texting.dispatch import Dispatcher

log = logging.getLogger(__name__)

LEASE_SECONDS = 30.0
"""How long a claimed text is the claimer's alone: far longer than queueing a batch takes."""
SWEEP_SECONDS = 5.0
"""How often a relay looks through every restaurant's outbox for texts nobody was told about."""
BATCH = 200
"""Most texts queued in one round trip."""
RETRY_SECONDS = 1.0
"""Pause after an error (Redis down) before listening again."""


class OutboxRelay:
    """Queues the sends of recorded texts; many relays may run at once (each claims before queueing)."""

    def __init__(self, messages: MessageStore, store: Store, queue: Dispatcher, *,
                 clock: Callable[[], float] = time.time, lease_seconds: float = LEASE_SECONDS,
                 sweep_seconds: float = SWEEP_SECONDS, batch: int = BATCH):
        self.messages = messages
        self.store = store
        self.queue = queue
        self.clock = clock
        self.lease_seconds = lease_seconds
        self.sweep_seconds = sweep_seconds
        self.batch = batch

    def relay(self, slug: str) -> int:
        """Queue the sends of every text due in one restaurant's outbox; how many were queued."""
        queued = 0
        while True:
            ids = self.messages.claim_outbox(slug, now=self.clock(), lease_seconds=self.lease_seconds,
                                             limit=self.batch)
            if ids:
                self.queue.send_texts(slug, ids)
                self.messages.clear_outbox(slug, ids)
                queued += len(ids)
            if len(ids) < self.batch:  # the outbox held no more: no need to ask again
                return queued

    def sweep(self) -> int:
        """Relay every restaurant's due texts, told or not."""
        slugs = self.store.all_slugs()
        due = self.messages.outbox_sizes(slugs, due_by=self.clock())
        return sum(self.relay(slug) for slug, count in zip(slugs, due) if count)

    def run(self, stop: threading.Event) -> None:
        """Relay until ``stop`` is set, surviving Redis outages."""
        while not stop.is_set():
            try:
                self._listen(stop)
            except Exception:  # a relay must outlive any one failure; the sweep catches up after it
                log.exception("outbox relay failed; listening again in %.0f s", RETRY_SECONDS)
                stop.wait(RETRY_SECONDS)

    def _listen(self, stop: threading.Event) -> None:
        # Subscribed before the first sweep, so a text recorded during the sweep is still announced.
        pubsub = self.messages.subscribe_outbox()
        try:
            next_sweep = 0.0
            while not stop.is_set():
                if time.monotonic() >= next_sweep:
                    self.sweep()
                    next_sweep = time.monotonic() + self.sweep_seconds
                for slug in _announced(pubsub, wait=min(1.0, self.sweep_seconds)):
                    self.relay(slug)
        finally:
            pubsub.close()

    def start(self) -> tuple[threading.Thread, threading.Event]:
        """Run in a daemon thread (it ends with its worker); set the event to stop it sooner."""
        stop = threading.Event()
        thread = threading.Thread(target=self.run, args=(stop,), daemon=True, name="outbox-relay")
        thread.start()
        return thread, stop


def _announced(pubsub: Any, wait: float, most: int = 1000) -> list[str]:
    """The slugs announced within ``wait`` seconds (and any already waiting, up to ``most``
    announcements), each once: under load one claim takes many texts."""
    slugs: dict[str, None] = {}
    message = pubsub.get_message(timeout=wait)
    for _ in range(most):
        if message is None:
            break
        if message.get("type") == "message":
            slugs[message["data"]] = None
        message = pubsub.get_message(timeout=0)
    return list(slugs)
