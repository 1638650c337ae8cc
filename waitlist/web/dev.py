"""The development phone, /dev/phone: read the texts the local outbox "sent", reply as the guest.

Only in development mode without Twilio credentials. A reply goes through the same code path as a
real inbound text (InboundHandler.handle), with a generated MessageSid and To = the restaurant's
number, so a newcomer can run the whole story on one machine.
"""
from __future__ import annotations

import json
import re
import secrets
import time
from dataclasses import dataclass
from typing import Any

from flask import Blueprint, current_app, render_template, request

from waitlist.domain.errors import InvalidInput
from waitlist.domain.phones import normalize_phone
from waitlist.texting.sms import OUTBOX_MAX, outbox_entries
from waitlist.web.forms import back_to, check_csrf, from_script, no_content
from waitlist.web.http import get_inbound, get_waitlist

bp = Blueprint("dev_phone", __name__, url_prefix="/dev/phone")

REPLIES_KEY = "wl:dev:phone-replies"
"""What the development phone sent, so its chats show both sides (the outbox holds only texts out)."""


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


@bp.before_request
def _development_only() -> Any:
    config = current_app.config["WAITLIST"]
    if not config.development or config.twilio_configured:
        from werkzeug.exceptions import NotFound

        raise NotFound()
    if request.method == "POST":
        check_csrf()
    return None


def chats() -> dict[str, list[Bubble]]:
    """Every phone number's texts, oldest first, most recently active number first."""
    redis = current_app.extensions["redis"]
    bubbles: dict[str, list[Bubble]] = {}
    for entry in outbox_entries(redis, OUTBOX_MAX):
        bubbles.setdefault(entry["to"], []).append(Bubble(True, entry["body"], float(entry["at"]), entry["from"]))
    for raw in redis.lrange(REPLIES_KEY, 0, OUTBOX_MAX - 1):
        entry = json.loads(raw)
        bubbles.setdefault(entry["from"], []).append(Bubble(False, entry["body"], float(entry["at"]), entry["to"]))
    for texts in bubbles.values():
        texts.sort(key=lambda b: b.at)
    return dict(sorted(bubbles.items(), key=lambda item: -item[1][-1].at))


def restaurants() -> list[tuple[str, str]]:
    """(sms_from, name) of every restaurant: who the phone can text."""
    waitlist = get_waitlist()
    found = [waitlist.store.load_restaurant(slug) for slug in waitlist.store.all_slugs()]
    return [(r.sms_from, r.name) for r, _ in filter(None, found)]


def page_context() -> dict[str, Any]:
    conversations = chats()
    number = request.args.get("number") or next(iter(conversations), "")
    texts = conversations.get(number, [])
    last_from = next((b.peer for b in reversed(texts)), "")
    return {"conversations": conversations, "number": number, "texts": texts, "last_from": last_from,
            "restaurants": restaurants()}


@bp.get("")
def phone() -> Any:
    """Every text sent, per phone number, as a chat; reply as the guest."""
    return render_template("dev_phone.html", **page_context())


@bp.get("/chat")
def chat() -> Any:
    return render_template("_dev_chat.html", **page_context())


@bp.post("/reply")
def reply() -> Any:
    """Text the restaurant as the guest: the same inbound code path as Twilio's webhook."""
    number, to, body = (request.form.get(k, "").strip() for k in ("number", "to", "body"))
    if not number or not to or not body:
        raise InvalidInput("pick a number and a restaurant and write a text")
    number = normalize_phone(number, current_app.config["WAITLIST"].default_region)
    redis = current_app.extensions["redis"]
    redis.lpush(REPLIES_KEY, json.dumps({"from": number, "to": to, "body": body, "at": time.time()}))
    redis.ltrim(REPLIES_KEY, 0, OUTBOX_MAX - 1)
    get_inbound().handle(to=to, from_=number, body=body, message_sid="SMdev" + secrets.token_hex(14))
    return no_content() if from_script() else back_to("dev_phone.phone", number=number)
