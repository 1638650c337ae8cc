"""Outbound webhooks in Redis: each restaurant's endpoints (one hash), the relay's cursor in the
events stream and its lease, and the delivery log.

An endpoint's state changes (a try's outcome, a manager's switch, removal) are one script each
(lua/hook_change.lua), so a delivery finishing while a manager re-enables the endpoint loses neither.
"""
from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import orjson
from redis import Redis

from waitlist.domain.errors import InvalidInput
from waitlist.domain.webhooks import Endpoint, WebhookNotFound
from waitlist.store import keys
from waitlist.store.scripts import Scripts

LOG_MAX = 100
MOST_ENDPOINTS = 10


class WebhookStore:
    def __init__(self, redis: Redis):
        self.redis = redis
        self._run = Scripts(redis)

    # --- endpoints ---

    def endpoints(self, slug: str) -> list[Endpoint]:
        found = [Endpoint.from_stored(json.loads(raw)) for raw in self.redis.hgetall(keys.hooks_key(slug)).values()]
        return sorted(found, key=lambda e: (e.created_at, e.id))

    def endpoint(self, slug: str, endpoint_id: str) -> Endpoint:
        raw = self.redis.hget(keys.hooks_key(slug), endpoint_id)
        if raw is None:
            raise WebhookNotFound(f"no webhook {endpoint_id!r}")
        return Endpoint.from_stored(json.loads(raw))

    def register(self, slug: str, endpoint: Endpoint) -> None:
        """Add an endpoint; the relay's cursor starts at the newest event if the restaurant had none."""
        reply = self._run("register_hook", [keys.hooks_key(slug), keys.hooks_cursor_key(slug), keys.events_key(slug)],
                          [orjson.dumps({"id": endpoint.id, "endpoint": json.dumps(endpoint.stored()),
                                         "most": MOST_ENDPOINTS})])
        if reply[0] == "too_many":
            raise InvalidInput(f"a restaurant can have at most {MOST_ENDPOINTS} webhooks",
                               fields={"url": [f"at most {MOST_ENDPOINTS} webhooks: remove one first"]})
        self.redis.sadd(keys.hooked_key(), slug)

    def change(self, slug: str, endpoint_id: str, op: str, now: float, **outcome: Any) -> Endpoint | None:
        """One atomic change (lua/hook_change.lua): ``op`` outcome, enable, disable or remove. Returns
        the endpoint as it now is (None once removed)."""
        args: dict[str, Any] = {"op": op, "id": endpoint_id, "now": now, "log_max": LOG_MAX, **outcome}
        if "entry" in args:
            args["entry"] = json.dumps(args["entry"])
        reply = self._run("hook_change", [keys.hooks_key(slug), keys.hooks_log_key(slug), keys.hooks_cursor_key(slug)],
                          [orjson.dumps(args)])
        if reply[0] == "not_found":
            raise WebhookNotFound(f"no webhook {endpoint_id!r}")
        if op == "remove":
            if not self.redis.exists(keys.hooks_key(slug)):
                self.redis.srem(keys.hooked_key(), slug)
            return None
        return Endpoint.from_stored(json.loads(reply[1]))

    def log(self, slug: str, count: int = LOG_MAX) -> list[dict[str, Any]]:
        return [json.loads(raw) for raw in self.redis.lrange(keys.hooks_log_key(slug), 0, count - 1)]

    # --- the relay ---

    def hooked_slugs(self) -> list[str]:
        return sorted(str(s) for s in self.redis.smembers(keys.hooked_key()))

    def take_lease(self, slug: str, owner: str, seconds: float) -> bool:
        """The restaurant's cursor is this relay's for ``seconds`` (taken again by its holder each round)."""
        key = keys.hooks_lease_key(slug)
        if self.redis.set(key, owner, nx=True, px=int(seconds * 1000)):
            return True
        if self.redis.get(key) == owner:
            self.redis.pexpire(key, int(seconds * 1000))
            return True
        return False

    def cursor(self, slug: str) -> str | None:
        found = self.redis.get(keys.hooks_cursor_key(slug))
        return str(found) if found is not None else None

    def set_cursor(self, slug: str, entry_id: str) -> None:
        self.redis.set(keys.hooks_cursor_key(slug), entry_id)

    def events_after(self, slug: str, cursor: str, count: int) -> list[tuple[str, dict[str, str]]]:
        return [(str(entry_id), {str(k): str(v) for k, v in (fields or {}).items()})
                for entry_id, fields in self.redis.xrange(keys.events_key(slug), f"({cursor}", "+", count=count) or []]

    def parties(self, slug: str, party_ids: Sequence[str]) -> dict[str, dict[str, str]]:
        """The parties' hashes in one round trip (those expired since are left out)."""
        unique = list(dict.fromkeys(p for p in party_ids if p))
        pipe = self.redis.pipeline(transaction=False)
        for party_id in unique:
            pipe.hgetall(keys.party_key(slug, party_id))
        return {pid: fields for pid, fields in zip(unique, pipe.execute() if unique else []) if fields}
