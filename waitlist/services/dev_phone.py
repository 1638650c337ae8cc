"""The development phone: the texts the local outbox "sent" (no Twilio), as chats per phone number, and
replies as the guest, which take the same path as a real inbound text (InboundHandler.handle)."""
from __future__ import annotations

import re
import secrets
import time
from dataclasses import dataclass
from typing import Any

from waitlist.domain.errors import InvalidInput
from waitlist.domain.phones import normalize_phone
from waitlist.services.inbound import InboundHandler
from waitlist.services.waitlist import Waitlist
from waitlist.store import DevOutbox

OUTBOX_SHOWN = 200
"""Texts /dev/outbox lists, newest first."""

LINK = re.compile(r"(https?://\S+)")


@dataclass(frozen=True)
class Bubble:
    incoming: bool  # to the phone (from a restaurant)
    body: str
    at: float
    peer: str

    @property
    def parts(self) -> list[tuple[str, bool]]:
        """The body split into (text, is_link), so the guest's status link can be opened from here."""
        return [(part, bool(LINK.fullmatch(part))) for part in LINK.split(self.body) if part]


@dataclass(frozen=True)
class PhonePage:
    conversations: dict[str, list[Bubble]]
    """Every phone number's texts, oldest first, most recently active number first."""
    number: str
    """The number shown (the one asked for, else the most recently active)."""
    texts: list[Bubble]
    last_from: str
    """The restaurant number this phone last talked to: where a reply goes by default."""
    restaurants: list[tuple[str, str]]
    """(sms_from, name) of every restaurant: who the phone can text."""


class DevPhone:
    def __init__(self, waitlist: Waitlist, outbox: DevOutbox, inbound: InboundHandler):
        self.waitlist = waitlist
        self.outbox = outbox
        self.inbound = inbound

    def sent(self) -> list[dict[str, Any]]:
        """The newest texts the local outbox 'sent' instead of Twilio (GET /dev/outbox)."""
        return self.outbox.sent(OUTBOX_SHOWN)

    def chats(self) -> dict[str, list[Bubble]]:
        bubbles: dict[str, list[Bubble]] = {}
        for entry in self.outbox.sent():
            bubbles.setdefault(entry["to"], []).append(Bubble(True, entry["body"], float(entry["at"]), entry["from"]))
        for entry in self.outbox.replies():
            bubbles.setdefault(entry["from"], []).append(Bubble(False, entry["body"], float(entry["at"]), entry["to"]))
        for texts in bubbles.values():
            texts.sort(key=lambda b: b.at)
        return dict(sorted(bubbles.items(), key=lambda item: -item[1][-1].at))

    def page(self, number: str | None) -> PhonePage:
        conversations = self.chats()
        number = number or next(iter(conversations), "")
        texts = conversations.get(number, [])
        last_from = next((b.peer for b in reversed(texts)), "")
        restaurants = [(r.sms_from, r.name) for r in self.waitlist.all_restaurants()]
        return PhonePage(conversations=conversations, number=number, texts=texts, last_from=last_from,
                         restaurants=restaurants)

    def reply(self, number: str, to: str, body: str) -> str:
        """Text the restaurant ``to`` as the guest ``number``; returns the number as normalised."""
        if not number or not to or not body:
            raise InvalidInput("pick a number and a restaurant and write a text")
        number = normalize_phone(number, self.waitlist.config.default_region)
        # wall-clock time, as the local sender stamps its texts: the chat orders both sides by it
        self.outbox.add_reply({"from": number, "to": to, "body": body, "at": time.time()})
        self.inbound.handle(to=to, from_=number, body=body, message_sid="SMdev" + secrets.token_hex(14))
        return number
