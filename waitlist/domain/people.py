"""People and their powers: roles, API key scopes, who acted, and the sign-in lockout rule.

Plain rules, no Flask and no Redis: the web layer asks ``allows(actor.role, needed)`` and the store
keeps accounts (waitlist.store.accounts). A role grants everything the roles below it grant, so one
ordered list is the whole permission model and a test table can cover it.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from waitlist.domain.errors import InvalidInput, WaitlistError

ROLES = ("viewer", "host", "manager", "owner")
"""Lowest first. viewer: read the list and the board; host: run the list, tables and texts; manager:
settings, tables, templates, stats and API keys; owner: everything, people included."""
RANK = {role: rank for rank, role in enumerate(ROLES)}

SCOPES = {"read": "viewer", "host": "host", "admin": "owner"}
"""What an integration's API key may do, as the role it acts with. The restaurant's own key (the one
made with the restaurant) is an admin key."""

RESTAURANT_KEY_ID = "restaurant-key"

PASSWORD_MIN = 10
PASSWORD_MAX = 200
NAME_MAX = 60
EMAIL = re.compile(r"[^@\s]{1,64}@[^@\s]{1,190}\.[^@\s.]{2,63}\Z")

FREE_FAILURES = 5
"""Wrong passwords an account may give before each further try must wait."""
MAX_LOCK_SECONDS = 15 * 60
"""The longest wait: someone guessing at an owner's password delays them, never locks them out."""


class AccountLocked(WaitlistError):
    """Too many wrong passwords for this account lately; ``retry_after`` says when to try again."""

    code = "account_locked"
    status = 429

    def __init__(self, message: str, *, retry_after: int):
        super().__init__(message)
        self.retry_after = retry_after


class LinkInvalid(WaitlistError):
    """An invitation or reset link that was used already, expired, or never existed."""

    code = "link_invalid"
    status = 410


class NotFoundHere(WaitlistError):
    """No such person or key at this restaurant."""

    code = "not_found"
    status = 404


class EmailTaken(WaitlistError):
    code = "email_taken"
    status = 409


@dataclass(frozen=True)
class Actor:
    """Who makes a request: a person (``kind`` "person") or an API key ("key"), with the role it acts
    with in this restaurant. ``label`` is what events record and the host stand shows."""

    kind: str
    id: str
    name: str
    role: str

    @property
    def label(self) -> str:
        """The event's actor: "person:<id>:<name>" or "key:<id>:<name>" (names never hold a colon)."""
        return f"{self.kind}:{self.id}:{self.name}"

    def may(self, needed: str) -> bool:
        return allows(self.role, needed)


def allows(role: str, needed: str) -> bool:
    """Whether ``role`` may do what needs ``needed`` (unknown roles may do nothing)."""
    return role in RANK and RANK[role] >= RANK[needed]


def actor_name(label: str | None) -> str:
    """The name in an event's actor ("person:ab12:Mei" -> "Mei"); older actors ("host") as they are."""
    if not label:
        return ""
    kind, _, rest = label.partition(":")
    if kind in ("person", "key") and ":" in rest:
        return rest.partition(":")[2]
    return label


def lock_seconds(failures: int) -> int:
    """How long the account waits after ``failures`` wrong passwords in a row: nothing for the first
    few, then doubling from 2 s, capped, so the real owner can always try again within minutes (and the
    reset link works regardless)."""
    if failures < FREE_FAILURES:
        return 0
    return int(min(MAX_LOCK_SECONDS, 2 ** (failures - FREE_FAILURES + 1)))


def check_role(role: str, field: str = "role") -> str:
    if role not in RANK:
        raise InvalidInput("some fields are not valid", fields={field: [f"one of {', '.join(ROLES)}"]})
    return role


def check_scope(scope: str) -> str:
    if scope not in SCOPES:
        raise InvalidInput("some fields are not valid", fields={"scope": [f"one of {', '.join(SCOPES)}"]})
    return scope


def clean_email(email: str) -> str:
    email = (email or "").strip().lower()
    if len(email) > 254 or not EMAIL.match(email):
        raise InvalidInput("some fields are not valid", fields={"email": ["not an email address"]})
    return email


def clean_name(name: str, field: str = "name") -> str:
    """A person's or key's display name: one line, no colon (event actors are colon-separated)."""
    raw = name or ""
    name = " ".join(raw.replace(":", " ").split())
    if not name or len(raw) > NAME_MAX:
        raise InvalidInput("some fields are not valid", fields={field: [f"1 to {NAME_MAX} characters"]})
    return name


def check_password(password: str) -> str:
    if not isinstance(password, str) or not PASSWORD_MIN <= len(password) <= PASSWORD_MAX:
        raise InvalidInput("some fields are not valid",
                           fields={"password": [f"{PASSWORD_MIN} to {PASSWORD_MAX} characters"]})
    return password
