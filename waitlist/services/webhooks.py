"""Outbound webhooks' use cases: managers register endpoints; a relay turns a restaurant's events into
deliveries; each delivery's outcome is recorded (and a day of failures disables the endpoint).

Why a relay following the events stream rather than the scripts queueing deliveries: the add path
stays as it is (no round trip, no RQ job more), and nothing is lost when a worker dies. The cursor
moves only after the deliveries up to it were queued, so a relay that dies in between queues them
again (the receiver drops the repeat by its event id): at least once, never silently dropped
(docs/architecture.md, "Outbound webhooks").
"""
from __future__ import annotations

import json
import logging
import secrets
import socket
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol
from urllib.parse import urlsplit

from config import Config
from waitlist.domain.errors import InvalidInput
from waitlist.domain.model import Restaurant
from waitlist.domain.webhooks import (
    SUBSCRIBABLE,
    Endpoint,
    WebhookNotFound,
    address_problem,
    event_type,
    party_data,
    url_problem,
)
from waitlist.services.access import new_id
from waitlist.store.webhooks import WebhookStore

log = logging.getLogger(__name__)

RELAY_BATCH = 200
LEASE_SECONDS = 30.0
DESCRIPTION_MAX = 80


@dataclass(frozen=True)
class Delivery:
    """One event for one endpoint: the same body and event id on every try."""

    endpoint_id: str
    event_id: str
    body: str


class DeliveryQueue(Protocol):
    def deliver(self, slug: str, deliveries: Sequence[Delivery]) -> None: ...


def resolve(host: str) -> list[str]:
    """Every address ``host`` resolves to (socket errors raise)."""
    return sorted({str(info[4][0]) for info in socket.getaddrinfo(host, None)})


class Webhooks:
    def __init__(self, store: WebhookStore, config: Config, clock: Callable[[], float] = time.time,
                 resolver: Callable[[str], list[str]] = resolve):
        self.store = store
        self.config = config
        self.clock = clock
        self.resolver = resolver

    @property
    def allow_private(self) -> bool:
        """Loopback and private addresses (and plain http) are for development and tests only."""
        return self.config.development or self.config.webhooks_allow_private

    # --- a manager's endpoints ---

    def register(self, restaurant: Restaurant, url: str, events: Iterable[str], description: str = "") -> Endpoint:
        """A new endpoint with its signing secret (shown to the manager once, at registration)."""
        chosen = [e for e in SUBSCRIBABLE if e in set(events)]
        errors: dict[str, list[str]] = {}
        problem = self.check_url(url.strip())
        if problem:
            errors["url"] = [problem]
        if not chosen or set(events) - set(SUBSCRIBABLE):
            errors["events"] = ["choose at least one of the events listed"]
        if len(description) > DESCRIPTION_MAX:
            errors["description"] = [f"at most {DESCRIPTION_MAX} characters"]
        if errors:
            raise InvalidInput("some fields are not valid", fields=errors)
        endpoint = Endpoint(id=new_id(), url=url.strip(), events=chosen, secret="whsec_" + secrets.token_urlsafe(24),
                            description=description, created_at=self.clock())
        self.store.register(restaurant.slug, endpoint)
        log.info("webhook registered slug=%s id=%s events=%s", restaurant.slug, endpoint.id, ",".join(chosen))
        return endpoint

    def check_url(self, url: str) -> str | None:
        """Why ``url`` cannot be used, or None; in production its name must not resolve to a private address."""
        problem = url_problem(url, allow_private=self.allow_private)
        if problem or self.allow_private:
            return problem
        host = urlsplit(url).hostname or ""
        try:
            addresses = self.resolver(host)
        except OSError:
            return f"could not find the host {host}"
        return next((p for p in (address_problem(a, allow_private=False) for a in addresses) if p), None)

    def endpoints(self, restaurant: Restaurant) -> list[Endpoint]:
        return self.store.endpoints(restaurant.slug)

    def endpoint(self, restaurant: Restaurant, endpoint_id: str) -> Endpoint:
        return self.store.endpoint(restaurant.slug, endpoint_id)

    def set_enabled(self, restaurant: Restaurant, endpoint_id: str, enabled: bool) -> Endpoint:
        changed = self.store.change(restaurant.slug, endpoint_id, "enable" if enabled else "disable", self.clock())
        assert changed is not None
        return changed

    def remove(self, restaurant: Restaurant, endpoint_id: str) -> None:
        self.store.change(restaurant.slug, endpoint_id, "remove", self.clock())

    def deliveries(self, restaurant: Restaurant, count: int = 50) -> list[dict[str, Any]]:
        """The latest delivery tries, newest first (the settings screen's log)."""
        return self.store.log(restaurant.slug, count)

    # --- the relay: events -> deliveries ---

    def relay(self, slug: str, queue: DeliveryQueue, owner: str) -> int:
        """Queue a delivery for every event after the restaurant's cursor and every endpoint wanting it,
        then move the cursor. Returns how many deliveries were queued (0 if another relay holds it)."""
        if not self.store.take_lease(slug, owner, LEASE_SECONDS):
            return 0
        queued = 0
        while True:
            cursor = self.store.cursor(slug)
            if cursor is None:
                return queued
            entries = self.store.events_after(slug, cursor, RELAY_BATCH)
            if not entries:
                return queued
            deliveries = self.deliveries_for(slug, entries, self.store.endpoints(slug))
            if deliveries:
                queue.deliver(slug, deliveries)
            self.store.set_cursor(slug, entries[-1][0])
            queued += len(deliveries)
            if len(entries) < RELAY_BATCH:
                return queued

    def deliveries_for(self, slug: str, entries: Sequence[tuple[str, dict[str, str]]],
                       endpoints: Sequence[Endpoint]) -> list[Delivery]:
        typed = [(entry_id, fields, event_type(fields)) for entry_id, fields in entries]
        wanted = [(entry_id, fields, kind) for entry_id, fields, kind in typed
                  if kind and any(e.wants(kind) for e in endpoints)]
        if not wanted:
            return []
        parties = self.store.parties(slug, [fields.get("party", "") for _, fields, _ in wanted])
        deliveries = []
        for entry_id, fields, kind in wanted:
            body = json.dumps(self.event_body(slug, entry_id, fields, kind, parties), separators=(",", ":"))
            deliveries += [Delivery(e.id, event_id(slug, entry_id), body) for e in endpoints if e.wants(kind)]
        return deliveries

    def event_body(self, slug: str, entry_id: str, fields: dict[str, str], kind: str,
                   parties: dict[str, dict[str, str]]) -> dict[str, Any]:
        at = float(fields.get("at") or int(entry_id.split("-")[0]) / 1000)
        data: dict[str, Any] = {"actor": fields.get("actor", "")}
        party = parties.get(fields.get("party", ""))
        if party is not None:
            data["party"] = party_data(party)
        if kind.startswith("message."):
            data["message"] = {"id": fields.get("message", ""), "kind": fields.get("kind", ""),
                               "status": fields.get("to", ""), "party_id": fields.get("party", "")}
        elif fields.get("type") == "status":
            data["change"] = {"from": fields.get("from", ""), "to": fields.get("to", "")}
        elif fields.get("fields"):
            data["changed"] = fields["fields"].split(",")
        return {"id": event_id(slug, entry_id), "type": kind, "created_at": at, "restaurant": slug, "data": data}

    # --- a delivery's outcome ---

    def delivery_target(self, slug: str, endpoint_id: str) -> Endpoint | None:
        """The endpoint to deliver to now, or None when it was removed or disabled since (the job ends)."""
        try:
            endpoint = self.store.endpoint(slug, endpoint_id)
        except WebhookNotFound:  # removed since the event was queued
            return None
        return None if endpoint.disabled else endpoint

    def record_try(self, slug: str, endpoint_id: str, event_id_: str, event_kind: str, *, ok: bool, status: int | None,
                   error: str, attempt: int, millis: int) -> Endpoint | None:
        """Log one try; a failure starts or continues the endpoint's failure clock, and past a day of
        failures without a success the endpoint is disabled."""
        entry = {"at": self.clock(), "endpoint": endpoint_id, "event": event_id_, "type": event_kind, "ok": ok,
                 "status": status, "error": error[:200], "attempt": attempt, "ms": millis}
        try:
            endpoint = self.store.change(slug, endpoint_id, "outcome", self.clock(), ok=ok, entry=entry,
                                         disable_after=self.config.webhook_disable_after_seconds)
        except WebhookNotFound:
            return None
        if endpoint is not None and endpoint.disabled and not ok:
            log.warning("webhook disabled after failing since %.0f slug=%s id=%s", endpoint.failing_since, slug,
                        endpoint_id)
        return endpoint

    def check_address(self, url: str) -> str | None:
        """At delivery: the name must still not resolve to a private address (production only)."""
        return None if self.allow_private else self.check_url(url)


def event_id(slug: str, entry_id: str) -> str:
    """One id per event, the same on every try and every re-queue: receivers de-duplicate by it."""
    return f"evt_{slug}_{entry_id}"
