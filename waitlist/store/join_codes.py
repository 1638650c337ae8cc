"""Join codes in Redis: the join page's unconfirmed joins, kept apart from the list.

A code is opened by one script (lua/create_join_code.lua, which enforces the caps on open codes) and
confirmed by the join itself (lua/join.lua given a ``JoinCodeClaim``), so a code texted twice, or by two
numbers at once, joins one party. Until then the code is no party: it takes no place in line, no
remote slot, and no number's daily cap.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import orjson
from redis import Redis

from waitlist.domain.errors import JoinCodeLimit, LimitReached, RemoteFull
from waitlist.domain.join_codes import ADDRESS_CAP_MESSAGE, RESTAURANT_CAP_MESSAGE
from waitlist.store import keys
from waitlist.store.scripts import Scripts


class CodeTaken(Exception):
    """The random code is remembered for another join: draw another."""


@dataclass(frozen=True)
class JoinCode:
    """A join code as stored: ``fields`` are the party's (name, party_size, ...) as the page gave them."""

    code: str
    ticket: str
    state: str
    """"open" until a text confirms it, then "joined"."""
    expires_at: float
    address: str
    """Keyed hash of the address that made it (its per-address cap)."""
    fields: dict[str, str]
    party: str = ""
    token: str = ""
    digest: str = ""
    """Keyed hash of the number that confirmed it."""


@dataclass(frozen=True)
class JoinCodeClaim:
    """What join.lua needs to confirm a code atomically with the join (see Store.join)."""

    code: str
    ticket: str
    address: str
    keep_seconds: int


STORED = ("state", "ticket", "expires_at", "created_at", "address", "party", "token", "digest")


def claim_keys(slug: str, claim: JoinCodeClaim) -> list[str]:
    """join.lua's KEYS[12..14] for a join confirming ``claim``."""
    return [keys.join_code_key(slug, claim.code), keys.join_codes_key(slug),
            keys.join_codes_by_address_key(slug, claim.address)]


class JoinCodeStore:
    def __init__(self, redis: Redis):
        self.redis: Any = redis
        self._run = Scripts(redis)

    def open_code(self, slug: str, *, code: str, ticket: str, address: str, now: float, seconds: int,
                  keep_seconds: int, per_address: int, per_restaurant: int, remote_max_active: int,
                  fields: dict[str, str]) -> None:
        """Store a new open code. Raises JoinCodeLimit (an address or the restaurant holds too many open
        codes), RemoteFull, or CodeTaken (draw another code)."""
        reply = self._run("create_join_code", [
            keys.join_code_key(slug, code), keys.join_ticket_key(slug, ticket), keys.join_codes_key(slug),
            keys.join_codes_by_address_key(slug, address), keys.remote_key(slug),
        ], [orjson.dumps({
            "code": code, "ticket": ticket, "now": repr(now), "expires_at": repr(now + seconds),
            "keep": keep_seconds, "per_address": per_address, "per_restaurant": per_restaurant,
            "remote_max_active": remote_max_active, "fields": {**fields, "address": address},
        })])
        outcome = reply[0]
        if outcome == "ok":
            return
        if outcome == "code_taken":
            raise CodeTaken(code)
        if outcome == "remote_full":
            raise RemoteFull("the waitlist takes no more remote joins right now; please see the host")
        wait = int(reply[1])
        if outcome == "address_cap":
            raise JoinCodeLimit(ADDRESS_CAP_MESSAGE, retry_after=wait)
        if outcome == "restaurant_cap":
            raise JoinCodeLimit(RESTAURANT_CAP_MESSAGE, retry_after=wait)
        raise LimitReached(f"join code refused: {outcome}")

    def load(self, slug: str, code: str) -> JoinCode | None:
        data = self.redis.hgetall(keys.join_code_key(slug, code))
        if not data or "ticket" not in data:
            return None
        return JoinCode(code=code, ticket=data["ticket"], state=data.get("state", ""),
                        expires_at=float(data.get("expires_at") or 0), address=data.get("address", ""),
                        fields={k: v for k, v in data.items() if k not in STORED}, party=data.get("party", ""),
                        token=data.get("token", ""), digest=data.get("digest", ""))

    def for_ticket(self, slug: str, ticket: str) -> JoinCode | None:
        """The code behind the join page's ticket, or None (unknown, or forgotten an hour on)."""
        code = self.redis.get(keys.join_ticket_key(slug, ticket))
        found = self.load(slug, code) if code else None
        return found if found is not None and found.ticket == ticket else None
