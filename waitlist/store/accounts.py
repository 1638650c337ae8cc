"""People, their memberships, sessions, invitations and reset links, and integrations' API keys.

A person is global (``wl:account:<id>``): one email and one password for every restaurant they work
at. Who may do what at a restaurant is that restaurant's (``wl:{slug}:members``), in its slot, so a
restaurant's data and its people's roles move together and a removal is one HDEL read by every
request. The two never meet in one script; each change here is one command or a MULTI on one key's
group, and the order of writes keeps a half-done change harmless: a membership is written in the
restaurant before the person's list of places, and taken out of the restaurant first.

Links (invitations, resets) are kept only as the SHA-256 of their 128-bit tokens and taken with
GETDEL, so a link works once even when two clicks race.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from waitlist.store import keys


@dataclass(frozen=True)
class Account:
    id: str
    email: str
    name: str
    password_hash: str
    failures: int = 0
    last_failure_at: float = 0.0


@dataclass(frozen=True)
class ApiKey:
    id: str
    name: str
    scope: str
    created_at: float
    key_hash: str


def _account(fields: dict[str, str]) -> Account | None:
    if not fields or "email" not in fields:
        return None
    return Account(id=fields["id"], email=fields["email"], name=fields.get("name", ""),
                   password_hash=fields.get("pw", ""), failures=int(fields.get("failures") or 0),
                   last_failure_at=float(fields.get("last_failure_at") or 0))


class AccountStore:
    """Every key of people and integration keys (key text: waitlist.store.keys)."""

    def __init__(self, redis: Any):
        self.redis = redis

    # --- accounts -------------------------------------------------------------------------------------

    def create_account(self, account_id: str, email: str, name: str, password_hash: str, now: float) -> bool:
        """False when the email already has an account (the email index is claimed first, with NX)."""
        if not self.redis.set(keys.email_key(email), account_id, nx=True):
            return False
        self.redis.hset(keys.account_key(account_id), mapping={
            "id": account_id, "email": email, "name": name, "pw": password_hash, "created_at": repr(now),
            "failures": 0})
        return True

    def account(self, account_id: str) -> Account | None:
        return _account(self.redis.hgetall(keys.account_key(account_id)))

    def account_by_email(self, email: str) -> Account | None:
        account_id = self.redis.get(keys.email_key(email))
        return self.account(account_id) if account_id else None

    def set_password(self, account_id: str, password_hash: str) -> None:
        self.redis.hset(keys.account_key(account_id), mapping={"pw": password_hash, "failures": 0})

    def failed_sign_in(self, account_id: str, now: float) -> int:
        """Count a wrong password; returns the failures in a row."""
        pipe = self.redis.pipeline(transaction=True)
        pipe.hincrby(keys.account_key(account_id), "failures", 1)
        pipe.hset(keys.account_key(account_id), "last_failure_at", repr(now))
        failures, _ = pipe.execute()
        return int(failures)

    def clear_failures(self, account_id: str) -> None:
        self.redis.hset(keys.account_key(account_id), "failures", 0)

    # --- memberships ----------------------------------------------------------------------------------

    def set_role(self, slug: str, account_id: str, role: str) -> None:
        self.redis.hset(keys.members_key(slug), account_id, role)
        self.redis.sadd(keys.account_places_key(account_id), slug)

    def role(self, slug: str, account_id: str) -> str | None:
        return self.redis.hget(keys.members_key(slug), account_id)  # type: ignore[no-any-return]

    def members(self, slug: str) -> dict[str, str]:
        return self.redis.hgetall(keys.members_key(slug))  # type: ignore[no-any-return]

    def remove_member(self, slug: str, account_id: str) -> bool:
        removed = bool(self.redis.hdel(keys.members_key(slug), account_id))
        self.redis.srem(keys.account_places_key(account_id), slug)
        return removed

    def places(self, account_id: str) -> list[str]:
        return sorted(self.redis.smembers(keys.account_places_key(account_id)))

    def roles_in(self, account_id: str, slugs: list[str]) -> dict[str, str]:
        """The person's role in each of ``slugs`` that still has them (one pipelined round trip)."""
        pipe = self.redis.pipeline(transaction=False)
        for slug in slugs:
            pipe.hget(keys.members_key(slug), account_id)
        return {slug: role for slug, role in zip(slugs, pipe.execute()) if role}

    def accounts(self, account_ids: list[str]) -> list[Account]:
        pipe = self.redis.pipeline(transaction=False)
        for account_id in account_ids:
            pipe.hgetall(keys.account_key(account_id))
        return [a for a in map(_account, pipe.execute()) if a is not None]

    # --- sessions -------------------------------------------------------------------------------------

    def open_session(self, account_id: str, session_id: str, ttl_seconds: int) -> None:
        pipe = self.redis.pipeline(transaction=False)
        pipe.set(keys.person_session_key(session_id), account_id, ex=ttl_seconds)
        pipe.sadd(keys.account_sessions_key(account_id), session_id)
        pipe.execute()

    def session_account(self, session_id: str, ttl_seconds: int) -> Account | None:
        """The person behind an open session, whose lifetime starts over (two round trips: the session
        names the account)."""
        pipe = self.redis.pipeline(transaction=False)
        pipe.get(keys.person_session_key(session_id))
        pipe.expire(keys.person_session_key(session_id), ttl_seconds)
        account_id, _ = pipe.execute()
        return self.account(account_id) if account_id else None

    def close_session(self, account_id: str, session_id: str) -> None:
        self.redis.delete(keys.person_session_key(session_id))
        self.redis.srem(keys.account_sessions_key(account_id), session_id)

    def close_all_sessions(self, account_id: str) -> int:
        """End every session of the person (sign out everywhere, a removal, a password reset)."""
        session_ids = self.redis.smembers(keys.account_sessions_key(account_id))
        pipe = self.redis.pipeline(transaction=False)
        for session_id in session_ids:
            pipe.delete(keys.person_session_key(session_id))
        pipe.delete(keys.account_sessions_key(account_id))
        pipe.execute()
        return len(session_ids)

    # --- single-use links -----------------------------------------------------------------------------

    def save_invite(self, token_hash: str, invite: dict[str, str], ttl_seconds: int) -> None:
        self.redis.set(keys.invite_key(token_hash), json.dumps(invite), ex=ttl_seconds)

    def peek_invite(self, token_hash: str) -> dict[str, str] | None:
        raw = self.redis.get(keys.invite_key(token_hash))
        return json.loads(raw) if raw else None

    def take_invite(self, token_hash: str) -> dict[str, str] | None:
        """The invitation, removed in the same command: a second use finds nothing."""
        raw = self.redis.getdel(keys.invite_key(token_hash))
        return json.loads(raw) if raw else None

    def save_reset(self, token_hash: str, account_id: str, ttl_seconds: int) -> None:
        self.redis.set(keys.password_reset_key(token_hash), account_id, ex=ttl_seconds)

    def peek_reset(self, token_hash: str) -> str | None:
        return self.redis.get(keys.password_reset_key(token_hash))  # type: ignore[no-any-return]

    def take_reset(self, token_hash: str) -> str | None:
        return self.redis.getdel(keys.password_reset_key(token_hash))  # type: ignore[no-any-return]

    # --- integrations' API keys -----------------------------------------------------------------------

    def add_api_key(self, slug: str, key: ApiKey) -> None:
        self.redis.hset(keys.api_keys_key(slug), key.key_hash, json.dumps(
            {"id": key.id, "name": key.name, "scope": key.scope, "created_at": key.created_at}))
        self.redis.set(keys.apikey_key(key.key_hash), slug)  # another restaurant's key is a 403, not a 401

    def api_key(self, slug: str, key_hash: str) -> ApiKey | None:
        raw = self.redis.hget(keys.api_keys_key(slug), key_hash)
        return _api_key(key_hash, raw) if raw else None

    def api_keys(self, slug: str) -> list[ApiKey]:
        found = self.redis.hgetall(keys.api_keys_key(slug))
        return sorted((_api_key(h, raw) for h, raw in found.items()), key=lambda k: k.created_at)

    def revoke_api_key(self, slug: str, key_hash: str) -> None:
        self.redis.hdel(keys.api_keys_key(slug), key_hash)
        self.redis.delete(keys.apikey_key(key_hash))


def _api_key(key_hash: str, raw: str) -> ApiKey:
    data = json.loads(raw)
    return ApiKey(id=data["id"], name=data["name"], scope=data["scope"], created_at=float(data["created_at"]),
                  key_hash=key_hash)
