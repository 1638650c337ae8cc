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

A send job can also be lost after the relay queued it (a consumer that popped it and died; RQ's own
forked scheduler used to do that after ``kill -9`` of its worker, see workers.scheduler), and RQ drops
the job at its ttl. So every relayed text also sits in its
restaurant's unsent index until it gets a SID or a final status, and every ``LOST_SWEEP_SECONDS`` a
relay looks at the texts there older than ``LOST_AFTER_SECONDS`` whose send job is no longer live in
RQ: it puts them back in the outbox (their send is queued again; the claim keeps them sent once, and
a claim left by a dead try makes the job look the text up in Twilio first), and after
``MOST_REQUEUES`` it marks the text failed (``not_sent``) and flags the party ``sms_failed``.
"""
from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
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
LOST_AFTER_SECONDS = 180.0
"""How old an unsent text (or its last claim, or its last requeue) must be before the lost-text sweep
takes its send for lost, when RQ holds no live job for it. A send try is over within the job timeout
(30 s) and RQ gives a dead worker's job 10 s more before retrying it; 3 minutes leaves a wide margin
over both, so a try still running is never queued a second time, while a guest waits at most a few
minutes for a text whose job was lost (well inside the send job's 15-minute ttl)."""
LOST_SWEEP_SECONDS = 30.0
"""How often a relay looks for lost sends: small against LOST_AFTER_SECONDS, and one ZCOUNT per
restaurant."""
MOST_REQUEUES = 3
"""Requeues of a lost send before the text is given up as failed and the host told (sms_failed):
a text that keeps vanishing is stale by then anyway."""
RETRY_SECONDS = 1.0
"""Pause after an error (Redis down) before listening again."""


class OutboxRelay:
    """Queues the sends of recorded texts; many relays may run at once (each claims before queueing)."""

    def __init__(self, messages: MessageStore, store: Store, queue: Dispatcher, *,
                 clock: Callable[[], float] = time.time, lease_seconds: float = LEASE_SECONDS,
                 sweep_seconds: float = SWEEP_SECONDS, batch: int = BATCH,
                 live_sends: Callable[[str, Sequence[str]], list[bool]] | None = None,
                 lost_after: float = LOST_AFTER_SECONDS, lost_sweep_seconds: float = LOST_SWEEP_SECONDS,
                 most_requeues: int = MOST_REQUEUES):
        """``live_sends`` tells which texts still have a live send job in RQ (RQDispatcher.live_sends);
        without it a text unsent for ``lost_after`` counts as lost whatever RQ holds."""
        self.messages = messages
        self.store = store
        self.queue = queue
        self.clock = clock
        self.lease_seconds = lease_seconds
        self.sweep_seconds = sweep_seconds
        self.batch = batch
        self.live_sends = live_sends
        self.lost_after = lost_after
        self.lost_sweep_seconds = lost_sweep_seconds
        self.most_requeues = most_requeues

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

    def requeue_lost(self) -> int:
        """Put lost sends back in their outboxes and relay them; give up the ones requeued too often.
        Returns how many were requeued."""
        now = self.clock()
        slugs = self.store.all_slugs()
        due = self.messages.lost_counts(slugs, due_by=now - self.lost_after)
        return sum(self._requeue_lost(slug, now) for slug, count in zip(slugs, due) if count)

    def _requeue_lost(self, slug: str, now: float) -> int:
        ids = self.messages.unsent_due(slug, due_by=now - self.lost_after, limit=self.batch)
        live = self.live_sends(slug, ids) if self.live_sends is not None else [False] * len(ids)
        requeued, lost = self.messages.requeue_lost(
            slug, ids, live, now=now, stale_before=now - self.lost_after, look_again=now,
            most=self.most_requeues)
        for message_id in lost:
            self._give_up(slug, message_id, now)
        if requeued:
            log.warning("requeued %d lost text sends of %s", len(requeued), slug)
            self.relay(slug)
        return len(requeued)

    def _give_up(self, slug: str, message_id: str, now: float) -> None:
        state, party_id, _kind = self.messages.advance(slug, message_id, "failed", now=now, error_code="not_sent")
        log.warning("sms given up after %d lost sends msg=%s", self.most_requeues, message_id)
        if state == "updated" and party_id:
            created_at = (self.messages.get(slug, message_id) or {}).get("created_at", "")
            self.store.note_text_outcome(slug, party_id, created_at=created_at, failed=True, now=now, actor="worker")

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
            next_sweep = next_lost_sweep = 0.0
            while not stop.is_set():
                if time.monotonic() >= next_sweep:
                    self.sweep()
                    next_sweep = time.monotonic() + self.sweep_seconds
                if time.monotonic() >= next_lost_sweep:
                    self.requeue_lost()
                    next_lost_sweep = time.monotonic() + self.lost_sweep_seconds
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
