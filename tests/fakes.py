"""Fakes that record what they were asked to do, instead of patching library internals."""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from typing import Any

from waitlist.texting.sms import PermanentSendError, Sent


class RecordingDispatcher:
    """Records the sends and timers it is asked to queue.

    As in production, the service records each text in its restaurant's outbox and only a relay asks
    for its send. Given ``relay`` (a ``workers.relay.OutboxRelay`` over the app's stores, which the app
    fixture sets), reading ``sent`` first runs that relay's own synchronous sweep, as a worker's relay
    would have done by then; without one (tests of the relay itself) ``sent`` is what relays asked."""

    def __init__(self) -> None:
        self.relay: Any = None
        self._sent: list[tuple[str, str]] = []
        self.holds: list[tuple[str, str, str, float]] = []
        self.feedback: list[tuple[str, str, float]] = []
        self.pending: list[tuple[str, str, float]] = []
        self.reservation_timers: list[tuple[str, str, str, str, float]] = []
        self.mails: list[tuple[str, str, str]] = []

    @property
    def sent(self) -> list[tuple[str, str]]:
        if self.relay is not None:
            self.relay.sweep()
        return self._sent

    def send_texts(self, slug: str, message_ids: Iterable[str]) -> None:
        self._sent.extend((slug, message_id) for message_id in message_ids)

    def expire_hold_at(self, slug: str, party_id: str, hold_version: str, at: float) -> None:
        self.holds.append((slug, party_id, hold_version, at))

    def feedback_at(self, slug: str, party_id: str, at: float) -> None:
        self.feedback.append((slug, party_id, at))

    def expire_pending_at(self, slug: str, party_id: str, at: float) -> None:
        self.pending.append((slug, party_id, at))

    def reservation_timer_at(self, slug: str, reservation_id: str, kind: str, version: str, at: float) -> None:
        self.reservation_timers.append((slug, reservation_id, kind, version, at))

    def send_mail(self, to: str, subject: str, body: str) -> None:
        self.mails.append((to, subject, body))


class FakeSender:
    """Records every text by recipient; ``fail_with`` queues errors to raise on the next sends."""

    def __init__(self) -> None:
        self.sent: dict[str, list[str]] = defaultdict(list)
        self.requests: list[dict[str, object]] = []
        self.fail_with: list[Exception] = []
        self.already_sent: dict[str, str] = {}
        self._n = 0

    def send(self, *, to: str, from_: str, body: str, status_callback: str | None,
             validity_period: int | None) -> Sent:
        self.requests.append({"to": to, "from": from_, "body": body, "status_callback": status_callback,
                              "validity_period": validity_period})
        if self.fail_with:
            raise self.fail_with.pop(0)
        self._n += 1
        self.sent[to].append(body)
        return Sent(sid=f"SM{self._n:032d}", status="queued")

    def find_sent(self, *, to: str, from_: str, body: str, since: float) -> str | None:
        return self.already_sent.get(body)


class Clock:
    """A clock tests move by hand."""

    def __init__(self, now: float = 1_790_000_000.0):
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


__all__ = ["RecordingDispatcher", "FakeSender", "Clock", "PermanentSendError"]
