"""Joining from the web without texting strangers: join codes (waitlist.domain.join_codes).

The join page asks for a name and a party size, never a number. It gets a short code to text to the
restaurant; the text that arrives joins the party with the number it came from (``join_by_code``), and
the page, which polls with its own secret ticket, then leads the guest to their status page. So the
only texts the restaurant sends are to numbers that texted it first, and a code nobody texts costs
nothing: it takes no place in line, no remote slot and no number's daily cap, and lapses unseen.
"""
from __future__ import annotations

import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cached_property

from waitlist.domain.errors import JoinCodeExpired, JoinCodeUnknown, JoinCodeUsed, LimitReached
from waitlist.domain.join_codes import (
    JOIN_CODE_KEEP_SECONDS,
    JOIN_CODE_SECONDS,
    JOIN_CODES_PER_ADDRESS,
    JOIN_CODES_PER_RESTAURANT,
    new_join_code,
)
from waitlist.domain.model import Party, Restaurant
from waitlist.domain.phones import normalize_phone, phone_digest
from waitlist.services.parties import Parties
from waitlist.store.join_codes import CodeTaken, JoinCode, JoinCodeClaim, JoinCodeStore

CODE_DRAWS = 20
"""Random codes tried before giving up; with at most 50 open codes among 4 million, one nearly always does."""


@dataclass(frozen=True)
class JoinState:
    """What the join page shows while it waits: "open" (text the code), "joined" or "expired"."""

    state: str
    code: str
    expires_at: float
    token: str = ""
    """The guest link's token once joined."""
    language: str = ""


class RemoteJoins(Parties):
    """The join page's codes and the texts that confirm them."""

    @cached_property
    def join_codes(self) -> JoinCodeStore:
        return JoinCodeStore(self.store.redis)

    def open_join_code(self, restaurant: Restaurant, *, name: str, party_size: int, address: str, notes: str = "",
                       tags: Iterable[str] = (), language: str | None = None) -> JoinCode:
        """A code for a guest on the join page to text. Raises WaitlistClosed, InvalidInput (party size),
        JoinCodeLimit (``address`` or the restaurant holds too many open codes) or RemoteFull."""
        self._check_party_size(restaurant, party_size)
        self._check_remote_join(restaurant)
        now = self.clock()
        address_digest = phone_digest(self.config.secret_key, f"address:{address}")[:32]
        fields = {"name": name, "party_size": str(party_size), "notes": notes,
                  "tags": ",".join(sorted(set(tags))), "language": language or ""}
        for _draw in range(CODE_DRAWS):
            code, ticket = new_join_code(), secrets.token_urlsafe(18)
            try:
                self.join_codes.open_code(
                    restaurant.slug, code=code, ticket=ticket, address=address_digest, now=now,
                    seconds=JOIN_CODE_SECONDS, keep_seconds=JOIN_CODE_KEEP_SECONDS, per_address=JOIN_CODES_PER_ADDRESS,
                    per_restaurant=JOIN_CODES_PER_RESTAURANT, remote_max_active=restaurant.settings.remote_max_active,
                    fields=fields)
            except CodeTaken:
                continue
            return JoinCode(code=code, ticket=ticket, state="open", expires_at=now + JOIN_CODE_SECONDS,
                            address=address_digest, fields=fields)
        raise LimitReached("could not find a free join code, please try again")

    def join_state(self, restaurant: Restaurant, ticket: str) -> JoinState:
        """Where the join page's code stands. Raises JoinCodeUnknown for a ticket never given or forgotten."""
        found = self.join_codes.for_ticket(restaurant.slug, ticket) if ticket else None
        if found is None:
            raise JoinCodeUnknown("this join page is not valid any more: please join again")
        language = found.fields.get("language", "")
        if found.state == "joined":
            return JoinState("joined", found.code, found.expires_at, found.token, language)
        state = "open" if found.expires_at > self.clock() else "expired"
        return JoinState(state, found.code, found.expires_at, language=language)

    def join_by_code(self, restaurant: Restaurant, phone: str, code_text: str) -> Party:
        """The guest texted "JOIN <code>" from ``phone``: the code's party joins the line with that number,
        in one script with marking the code used (a code texted twice, or by two numbers at once, joins
        once). Raises JoinCodeUnknown, JoinCodeExpired, JoinCodeUsed, and what ``join`` raises."""
        code = self.join_codes.load(restaurant.slug, code_text)
        if code is None:
            raise JoinCodeUnknown("no such join code")
        if code.state != "open":
            raise JoinCodeUsed("this join code was already used", digest=code.digest)
        if code.expires_at <= self.clock():
            raise JoinCodeExpired("this join code has expired")
        fields = code.fields
        tags = [tag for tag in fields.get("tags", "").split(",") if tag]
        return self.join(restaurant, name=fields.get("name") or "Guest", phone=phone,
                         party_size=int(fields.get("party_size") or 2), notes=fields.get("notes", ""),
                         tags=tags, language=fields.get("language") or None, actor="guest", remote=True,
                         code=JoinCodeClaim(code=code.code, ticket=code.ticket, address=code.address,
                                            keep_seconds=JOIN_CODE_KEEP_SECONDS))

    def code_used_by(self, phone: str, error: JoinCodeUsed) -> bool:
        """Whether ``phone`` is the number that used the code (a repeat, not someone else's code)."""
        digest = error.extra.get("digest") or ""
        return bool(digest) and digest == self.digest(normalize_phone(phone, self.config.default_region))
