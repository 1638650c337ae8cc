"""Outbound webhooks in plain Python: which events there are, which entry of a restaurant's events
stream is which event, how a delivery is signed, and which addresses an endpoint may not have.

A receiver checks a delivery by recomputing ``HMAC-SHA256(secret, f"{t}.{body}")`` over the raw body
and comparing it with ``v1`` in ``X-Waitlist-Signature: t=<unix seconds>,v1=<hex>``; it refuses a ``t``
far from its clock (replays), and drops an ``id`` it has seen (a delivery can come more than once).
"""
from __future__ import annotations

import hashlib
import hmac
import ipaddress
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from waitlist.domain.errors import WaitlistError

EVENTS = ("party.created", "party.updated", "party.seated", "party.left", "message.delivered", "message.failed")
"""What an endpoint can subscribe to. ``reservation.*`` is reserved for reservations (not sent yet)."""
RESERVED = ("reservation.created", "reservation.updated", "reservation.cancelled")
SUBSCRIBABLE = EVENTS + RESERVED
SIGNATURE_HEADER = "X-Waitlist-Signature"
EVENT_ID_HEADER = "X-Waitlist-Event-Id"
URL_MAX = 500


class WebhookNotFound(WaitlistError):
    code = "webhook_not_found"
    status = 404


@dataclass
class Endpoint:
    """A registered endpoint. ``failing_since``: when its current run of failures began (0: none)."""

    id: str
    url: str
    events: list[str]
    secret: str
    description: str = ""
    created_at: float = 0.0
    disabled: bool = False
    failing_since: float = 0.0
    last_success: float = 0.0

    def wants(self, event_type: str) -> bool:
        return not self.disabled and event_type in self.events

    def to_dict(self, with_secret: bool = False) -> dict[str, Any]:
        data: dict[str, Any] = {
            "id": self.id, "url": self.url, "events": list(self.events), "description": self.description,
            "created_at": self.created_at, "disabled": self.disabled, "failing_since": self.failing_since or None,
            "last_success": self.last_success or None,
        }
        if with_secret:
            data["secret"] = self.secret
        return data

    def stored(self) -> dict[str, Any]:
        return {**self.to_dict(with_secret=True), "failing_since": self.failing_since,
                "last_success": self.last_success}

    @classmethod
    def from_stored(cls, data: Mapping[str, Any]) -> Endpoint:
        known = {k: v for k, v in data.items() if k in cls.__dataclass_fields__}
        known["events"] = list(known.get("events") or [])
        known["failing_since"] = float(known.get("failing_since") or 0)
        known["last_success"] = float(known.get("last_success") or 0)
        return cls(**known)


LEFT = frozenset({"cancelled", "no_show"})


def event_type(entry: Mapping[str, str]) -> str | None:
    """The webhook event an entry of the events stream is, or None for one no endpoint hears about
    (a table's state, the floor, a text in, a remote join not yet confirmed)."""
    kind = entry.get("type")
    if kind == "status":
        before, after = entry.get("from", ""), entry.get("to", "")
        if after == "pending":
            return None
        if after == "waiting" and before in ("", "pending"):
            return "party.created"
        if after == "seated":
            return "party.seated"
        if after in LEFT:
            return "party.left"
        return "party.updated"
    if kind in ("move", "update", "late", "flag", "feedback"):
        return "party.updated" if entry.get("party") else None
    if kind == "sms":
        status = entry.get("to")
        if status == "delivered":
            return "message.delivered"
        if status in ("failed", "undelivered"):
            return "message.failed"
    return None


def sign(secret: str, timestamp: int, body: bytes) -> str:
    """The signature header's value for ``body`` sent at ``timestamp``."""
    digest = hmac.new(secret.encode(), str(timestamp).encode() + b"." + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


def verify(secret: str, header: str, body: bytes, now: float, tolerance: float = 300) -> bool:
    """What a receiver does (our tests use it): the signature matches and is recent."""
    parts = dict(p.split("=", 1) for p in header.split(",") if "=" in p)
    try:
        timestamp = int(parts["t"])
    except (KeyError, ValueError):
        return False
    if abs(now - timestamp) > tolerance:
        return False
    return hmac.compare_digest(sign(secret, timestamp, body), f"t={timestamp},v1={parts.get('v1', '')}")


def url_problem(url: str, *, allow_private: bool) -> str | None:
    """Why ``url`` cannot be an endpoint, in plain words, or None. Without ``allow_private`` (production)
    it must be HTTPS; a literal private address is refused here, a name resolving to one at
    registration and at each delivery (``address_problem``)."""
    if len(url) > URL_MAX:
        return f"at most {URL_MAX} characters"
    try:
        parts = urlsplit(url)
        host = parts.hostname
        parts.port  # noqa: B018  (raises on a port that is not a number)
    except ValueError:
        return "not a valid URL"
    if parts.scheme not in ("https", "http") or not host:
        return "enter a full https:// address"
    if parts.scheme != "https" and not allow_private:
        return "must start with https://"
    if parts.username or parts.password:
        return "must not carry a user name or password"
    if host == "localhost" or host.endswith(".localhost"):
        return None if allow_private else "must not point at this server (localhost)"
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return None
    return address_problem(str(address), allow_private=allow_private)


def address_problem(address: str, *, allow_private: bool) -> str | None:
    """Why a delivery must not go to ``address`` (loopback, private, link-local, reserved...)."""
    if allow_private:
        return None
    ip = ipaddress.ip_address(address)
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
        ip = ip.ipv4_mapped
    if not ip.is_global or ip.is_multicast:
        return f"must not point at a private or local address ({ip})"
    return None


def party_data(fields: Mapping[str, str]) -> dict[str, Any]:
    """A party as a receiver sees it: no phone number (it stays in the waitlist)."""
    def number(name: str) -> float | None:
        value = fields.get(name)
        return float(value) if value else None

    return {
        "id": fields.get("id", ""), "name": fields.get("name", ""), "party_size": int(fields.get("party_size") or 0),
        "status": fields.get("status", ""), "seating": fields.get("seating", "any"),
        "tags": [t for t in fields.get("tags", "").split(",") if t], "remote": bool(fields.get("remote")),
        "quote_low": number("quote_low"), "quote_high": number("quote_high"),
        "joined_at": number("joined_at"), "notified_at": number("notified_at"), "seated_at": number("seated_at"),
        "finished_at": number("finished_at"), "tables": [t for t in fields.get("tables", "").split(",") if t],
    }
