"""One reader per followed restaurant per web process, pushing to every open live page of it.

A live page used to hold a server thread and a Redis connection of its own for as long as it stayed open
(a blocking XREAD per page), so a few dozen open pages took every thread the staff needed. Here an open
page is a ``Subscription``: a few sets and an event, woken by the restaurant's one ``_Reader``, which
follows the restaurant's event stream over the feed's own connection and stops when its last page goes.
The web process runs gevent (config/gunicorn.py), so the page's connection is a greenlet, and
``threading`` below is gevent's; under a threaded server (the embedded development mode, tests) the same
code runs on real threads.

Changes are coalesced: the reader only marks what arrived on each subscription and wakes it, and the
page's stream sends at most one push per ``push_interval`` with everything marked since the last one,
so a burst of a hundred events costs a page one push, not a hundred re-fetches.

Caps on open public streams (per address, per restaurant, per process) are counted here, in the
process that holds the streams, which is the capacity they protect. Staff streams are not capped: a
flood of anonymous pages must never shut a signed-in host tablet out.
"""
from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from waitlist.domain.errors import WaitlistError
from waitlist.store.events import EventFeed

log = logging.getLogger(__name__)

READ_FAILURE_BACKOFF = (0.5, 1.0, 2.0, 5.0)
"""Seconds a reader waits after successive failed reads (Redis restarting) before trying again."""


@dataclass(frozen=True)
class Caps:
    """Open public (guest and lobby board) streams one web process serves; past any, a 429."""

    per_address: int = 20
    per_restaurant: int = 1000
    total: int = 5000


class TooManyStreams(WaitlistError):
    """An open-stream cap is reached: the page polls instead, and tries its stream again later."""

    code = "too_many_streams"
    status = 429

    def __init__(self, message: str, retry_after: int):
        super().__init__(message)
        self.retry_after = retry_after


@dataclass
class Change:
    """What a page is told in one push: the newest entry id, the parties whose events arrived, and
    whether anything arrived that is not about one party (a table or a setting: re-read everything)."""

    last_id: str
    parties: list[str]
    everything: bool


@dataclass(eq=False)
class Subscription:
    """One open live page: what arrived since its last push, and the event that wakes it."""

    hub: Hub
    slug: str
    address: str
    public: bool
    last_id: str
    parties: set[str] = field(default_factory=set)
    everything: bool = False
    pending: bool = False
    closed: bool = False
    wake: threading.Event = field(default_factory=threading.Event)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def offer(self, last_id: str, parties: set[str], everything: bool) -> None:
        """Mark entries up to ``last_id`` (the reader calls this); the page's stream sends them."""
        with self.lock:
            self.last_id = last_id
            self.parties |= parties
            self.everything = self.everything or everything
            self.pending = True
        self.wake.set()

    def wait(self, timeout: float) -> bool:
        """Block this page's own greenlet (or thread) until something is marked, or ``timeout``."""
        return self.wake.wait(timeout)

    def take(self) -> Change | None:
        """Everything marked since the last take, as one change; None when nothing was."""
        with self.lock:
            self.wake.clear()
            if not self.pending:
                return None
            change = Change(self.last_id, sorted(self.parties), self.everything)
            self.parties, self.everything, self.pending = set(), False, False
        return change

    def close(self) -> None:
        """The page went away (or its stream ended): free its place. Safe to call twice."""
        self.hub.unsubscribe(self)


class _Reader:
    """Follows one restaurant's event stream for every subscription of it in this process."""

    def __init__(self, slug: str, last_id: str):
        self.slug = slug
        self.last_id = last_id
        self.subscriptions: set[Subscription] = set()
        self.failures = 0


class Hub:
    """The process's live pages, grouped by restaurant, each restaurant followed by one reader.

    ``autostart=False`` leaves the readers unstarted: a test then calls ``pump(slug)`` to run one read,
    so it can see exactly what one read delivers to whom.
    """

    def __init__(self, feed: EventFeed, caps: Caps | None = None, *, block_seconds: float | None = None,
                 autostart: bool = True, sleep: Callable[[float], None] | None = None):
        self.feed = feed
        self.caps = caps or Caps()
        self.block_seconds = feed.block_seconds if block_seconds is None else min(block_seconds, feed.block_seconds)
        self.autostart = autostart
        self.readers: dict[str, _Reader] = {}
        self.lock = threading.Lock()
        self.public_total = 0
        self.by_address: dict[str, int] = {}
        self.by_restaurant: dict[str, int] = {}
        self._sleep = sleep or (lambda seconds: threading.Event().wait(seconds))

    # --- pages coming and going -------------------------------------------------------------------

    def subscribe(self, slug: str, address: str, *, public: bool) -> Subscription:
        """A new page of ``slug``; raises TooManyStreams past a public cap. Starts the restaurant's
        reader if none runs (one Redis read for the stream's newest id)."""
        if public:
            self._check_caps(slug, address)
        newest: str | None = None
        while True:
            if slug not in self.readers and newest is None:
                newest = self.feed.newest(slug)  # outside the lock: it waits on Redis
            with self.lock:
                reader = self.readers.get(slug)
                if reader is None and newest is None:
                    continue  # its reader stopped meanwhile: read where the stream stands
                if public:
                    self._check_caps(slug, address)  # again: another page may have come in meanwhile
                    self.public_total += 1
                    self.by_address[address] = self.by_address.get(address, 0) + 1
                    self.by_restaurant[slug] = self.by_restaurant.get(slug, 0) + 1
                start = reader is None
                if reader is None:
                    reader = self.readers[slug] = _Reader(slug, newest or "0-0")
                subscription = Subscription(self, slug, address, public, reader.last_id)
                reader.subscriptions.add(subscription)
                break
        if start and self.autostart:
            threading.Thread(target=self._follow, args=(reader,), daemon=True, name=f"live-{slug}").start()
        return subscription

    def unsubscribe(self, subscription: Subscription) -> None:
        with self.lock:
            if subscription.closed:
                return
            subscription.closed = True
            reader = self.readers.get(subscription.slug)
            if reader is not None:
                reader.subscriptions.discard(subscription)
                if not reader.subscriptions and not self.autostart:
                    del self.readers[subscription.slug]  # a running reader removes itself (_follow)
            if subscription.public:
                self.public_total -= 1
                _decrement(self.by_address, subscription.address)
                _decrement(self.by_restaurant, subscription.slug)
        subscription.wake.set()  # a stream waiting on it ends now

    def _check_caps(self, slug: str, address: str) -> None:
        caps = self.caps
        if self.by_address.get(address, 0) >= caps.per_address:
            raise TooManyStreams(f"too many live pages open from this address (at most {caps.per_address}): "
                                 "the page refreshes by itself every few seconds instead", retry_after=30)
        if self.by_restaurant.get(slug, 0) >= caps.per_restaurant:
            raise TooManyStreams(f"too many live pages open for this restaurant (at most {caps.per_restaurant}): "
                                 "the page refreshes by itself every few seconds instead", retry_after=30)
        if self.public_total >= caps.total:
            raise TooManyStreams("too many live pages open on this server: the page refreshes by itself "
                                 "every few seconds instead", retry_after=30)

    # --- following the streams --------------------------------------------------------------------

    def pump(self, slug: str, block_seconds: float | None = None) -> int:
        """One read of ``slug``'s stream, delivered to its subscriptions: the number of entries read."""
        reader = self.readers.get(slug)
        if reader is None:
            return 0
        block = self.block_seconds if block_seconds is None else block_seconds
        entries = self.feed.read(slug, reader.last_id, block)
        self._deliver(reader, entries)
        return len(entries)

    def _follow(self, reader: _Reader) -> None:
        """The reader's loop: read, deliver, until its restaurant has no page left in this process."""
        while True:
            with self.lock:
                if not reader.subscriptions:
                    if self.readers.get(reader.slug) is reader:
                        del self.readers[reader.slug]
                    return
            try:
                entries = self.feed.read(reader.slug, reader.last_id, self.block_seconds)
            except Exception:  # Redis restarting or unreachable: pages keep their streams and wait
                wait = READ_FAILURE_BACKOFF[min(reader.failures, len(READ_FAILURE_BACKOFF) - 1)]
                reader.failures += 1
                log.warning("live reader for %s cannot read its stream; again in %.1f s", reader.slug, wait,
                            exc_info=reader.failures == 1)
                self._sleep(wait)
                continue
            if reader.failures:  # something may have been trimmed or missed: every page re-reads
                reader.failures = 0
                entries = [*entries, (entries[-1][0] if entries else reader.last_id, {})]
            self._deliver(reader, entries)

    def _deliver(self, reader: _Reader, entries: Sequence[tuple[str, dict[str, Any]]]) -> None:
        if not entries:
            return
        reader.last_id = entries[-1][0]
        parties = {str(fields["party"]) for _, fields in entries if fields.get("party")}
        everything = any(not fields.get("party") for _, fields in entries)
        with self.lock:
            subscriptions = list(reader.subscriptions)
        for subscription in subscriptions:
            subscription.offer(reader.last_id, parties, everything)

    def close_all(self) -> None:
        """End every open page's stream (the process is stopping): each sends its ``retry:`` hint."""
        with self.lock:
            subscriptions = [s for reader in self.readers.values() for s in reader.subscriptions]
        for subscription in subscriptions:
            subscription.close()

    # --- what is open -----------------------------------------------------------------------------

    def open_streams(self) -> dict[str, int]:
        with self.lock:
            return {"public": self.public_total, "restaurants_followed": len(self.readers),
                    "all": sum(len(reader.subscriptions) for reader in self.readers.values())}


def _decrement(counts: dict[str, int], key: str) -> None:
    left = counts.get(key, 0) - 1
    if left > 0:
        counts[key] = left
    else:
        counts.pop(key, None)
