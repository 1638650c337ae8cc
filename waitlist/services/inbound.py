"""Texts from guests: what each one does, and which reply it gets. Plain Python over the service.

Replies go out through ``Waitlist.text``, so they are recorded, retried and respect opt-outs.
"""
from __future__ import annotations

import logging
import math
from dataclasses import dataclass

from waitlist.domain.errors import (
    AlreadyWaiting,
    JoinCodeExpired,
    JoinCodeUnknown,
    JoinCodeUsed,
    LimitReached,
    WaitlistClosed,
    WaitlistError,
)
from waitlist.domain.join_codes import JOIN_ERROR_REPLY_SECONDS
from waitlist.domain.model import Party, Restaurant, Status, quote_range_text
from waitlist.domain.phones import mask_phone, normalize_phone
from waitlist.services.reservations import Reservations
from waitlist.services.waitlist import Waitlist, new_id
from waitlist.store.reservations import ReservationStore
from waitlist.texting import texts
from waitlist.texting.commands import Command, Intent, parse, reservation_answer, squeeze

log = logging.getLogger(__name__)

INBOUND_LIMIT = 20
INBOUND_WINDOW_SECONDS = 10 * 60
NOT_ON_LIST_EVERY_SECONDS = 3600
HOST_WILL_SEE_TTL_SECONDS = 2 * 24 * 3600
MAX_BODY_CHARS = 1600


@dataclass(frozen=True)
class InboundResult:
    """What happened, for logs and tests: the intent acted on, or why nothing was done."""

    outcome: str
    party_id: str | None = None


class InboundHandler:
    def __init__(self, waitlist: Waitlist):
        self.waitlist = waitlist
        self.messages = waitlist.messages
        self.reservations = Reservations(waitlist, ReservationStore(waitlist.store.redis))

    def handle(self, *, to: str, from_: str, body: str, message_sid: str) -> InboundResult:
        """Act once on one inbound text (Twilio retries webhooks with the same MessageSid)."""
        slug = self.waitlist.store.slug_for_sms_from(to)
        if slug is None:
            return InboundResult("unknown_restaurant")
        restaurant = self.waitlist.restaurant(slug)
        if message_sid and self.messages.seen_inbound(slug, message_sid):
            return InboundResult("duplicate")
        try:
            phone = normalize_phone(from_, self.waitlist.config.default_region)
        except WaitlistError:
            return InboundResult("bad_sender")
        body = (body or "")[:MAX_BODY_CHARS]
        party_id = self.waitlist.store.active_party_for_phone(slug, phone)
        self._record(restaurant, phone, party_id, body, message_sid)
        command = parse(body)
        within_limit = self.messages.count_inbound(slug, self.waitlist.digest(phone), INBOUND_WINDOW_SECONDS) \
            <= INBOUND_LIMIT
        if command.intent in (Intent.STOP, Intent.START):
            return self._opt(restaurant, phone, party_id, command, said_yes=squeeze(body) == "YES")
        if not within_limit:
            log.warning("inbound rate limit slug=%s from=%s", slug, mask_phone(phone))
            return InboundResult("rate_limited", party_id)
        party = self.waitlist.store.load_party(slug, party_id) if party_id else None
        if party is None:
            return self._no_party(restaurant, phone, command, body)
        return self._for_party(restaurant, party, command)

    def _record(self, restaurant: Restaurant, phone: str, party_id: str | None, body: str, sid: str) -> None:
        now = self.waitlist.clock()
        self.messages.add(restaurant.slug, {
            "id": new_id(), "party": party_id or "", "kind": "inbound", "direction": "in", "to": restaurant.sms_from,
            "from": phone, "body": body, "status": "received", "sid": sid, "created_at": repr(now),
            "updated_at": repr(now),
        })
        log.info("inbound sms slug=%s from=%s party=%s (%d chars)", restaurant.slug, mask_phone(phone),
                 party_id or "-", len(body))

    def _opt(self, restaurant: Restaurant, phone: str, party_id: str | None, command: Command,
             said_yes: bool) -> InboundResult:
        digest = self.waitlist.digest(phone)
        if command.intent == Intent.STOP:
            self.messages.opt_out(restaurant.slug, digest)
            if party_id:
                self.waitlist.set_flags(restaurant, party_id, opted_out=True)
                try:
                    self.waitlist.cancel(restaurant, party_id, actor="sms", confirm=False)
                except WaitlistError:
                    pass  # a host or timer finished the party in the meantime
            return InboundResult("opted_out", party_id)
        self.messages.opt_in(restaurant.slug, digest)
        if not party_id and said_yes and self.reservations.reply(restaurant, phone, "confirm") is not None:
            return InboundResult("reservation_confirm")
        if party_id:
            self.waitlist.set_flags(restaurant, party_id, opted_out=False)
            party = self.waitlist.store.load_party(restaurant.slug, party_id)
            if party is not None and party.status == Status.NOTIFIED and said_yes:
                self.waitlist.on_the_way(restaurant, party_id)
        return InboundResult("opted_in", party_id)

    def _no_party(self, restaurant: Restaurant, phone: str, command: Command, body: str) -> InboundResult:
        lang = restaurant.settings.language
        feedback = self.waitlist.take_feedback(restaurant, phone, body)
        if feedback is not None:
            return InboundResult(feedback)
        answer = reservation_answer(body)
        if answer and self.reservations.reply(restaurant, phone, answer) is not None:
            return InboundResult(f"reservation_{answer}")
        if command.intent == Intent.JOIN and command.code:
            booked = self._book_code(restaurant, phone, command.code)
            if booked is not None:
                return booked
        if command.intent == Intent.JOIN and command.code and restaurant.settings.remote_join:
            return self._join_code(restaurant, phone, command.code)
        if command.intent == Intent.JOIN and restaurant.settings.remote_join:
            return self._join(restaurant, phone, command)
        if command.intent == Intent.HELP:
            self.waitlist.text_number(restaurant, phone, "help", texts.help_reply(lang, restaurant.name))
            return InboundResult("help")
        if self.messages.first_time(f"notonlist:{self.waitlist.digest(phone)}", restaurant.slug,
                                    NOT_ON_LIST_EVERY_SECONDS):
            self.waitlist.text_number(restaurant, phone, "not_on_list", texts.not_on_list(lang, restaurant.name))
        return InboundResult("not_on_list")

    def _join(self, restaurant: Restaurant, phone: str, command: Command) -> InboundResult:
        size = command.party_size or 2
        lang = restaurant.settings.language
        try:
            party = self.waitlist.join(restaurant, name=command.name or "Guest", phone=phone, party_size=size,
                                       actor="sms", remote=True)
        except AlreadyWaiting:
            return InboundResult("already_waiting")
        except (WaitlistClosed, LimitReached) as exc:
            return self._join_refused(restaurant, phone, exc, lang)
        except WaitlistError:
            self.waitlist.text_number(restaurant, phone, "help",
                                      texts.help_reply(restaurant.settings.language, restaurant.name))
            return InboundResult("join_refused")
        return InboundResult("joined", party.id)

    def _join_refused(self, restaurant: Restaurant, phone: str, exc: WaitlistError, lang: str) -> InboundResult:
        """A remote join refused (closed, or a cap): one reply per number per JOIN_ERROR_REPLY_SECONDS, so
        texting JOIN over and over gets the restaurant billed for one answer, not one each."""
        if not self._first_join_error(restaurant, phone):
            return InboundResult("join_refused")
        if isinstance(exc, LimitReached):
            self.waitlist.text_number(restaurant, phone, "join_limit", texts.join_limit(lang, restaurant.name))
        else:
            message = restaurant.settings.pause_message if restaurant.settings.paused else ""
            self.waitlist.text_number(restaurant, phone, "closed", texts.closed(lang, restaurant.name, message))
        return InboundResult("join_refused")

    def _join_code(self, restaurant: Restaurant, phone: str, code: str) -> InboundResult:
        """"JOIN <code>" from the join page: the code's party joins with this number (its joined text is
        the reply). A code unknown, expired or used by another number joins nothing and gets one clear
        reply, at most one error reply per number per JOIN_ERROR_REPLY_SECONDS: a wrong code texted over
        and over must not make the restaurant pay for a text each time."""
        lang = restaurant.settings.language
        try:
            party = self.waitlist.join_by_code(restaurant, phone, code)
        except AlreadyWaiting:
            return InboundResult("already_waiting")
        except (JoinCodeUnknown, JoinCodeExpired, JoinCodeUsed) as exc:
            return self._bad_code(restaurant, phone, exc, lang)
        except (WaitlistClosed, LimitReached) as exc:
            return self._join_refused(restaurant, phone, exc, lang)
        return InboundResult("joined", party.id)

    def _book_code(self, restaurant: Restaurant, phone: str, code: str) -> InboundResult | None:
        """"BOOK <code>" from the booking page; None when the code is not a booking's (a join page's)."""
        try:
            outcome = self.reservations.book_by_code(restaurant, phone, code)
        except (JoinCodeUnknown, JoinCodeExpired, JoinCodeUsed) as exc:
            return self._bad_code(restaurant, phone, exc, restaurant.settings.language)
        return None if outcome == "not_booking" else InboundResult(outcome)

    def _bad_code(self, restaurant: Restaurant, phone: str, exc: WaitlistError, lang: str) -> InboundResult:
        outcome = exc.code
        if isinstance(exc, JoinCodeUsed) and self.waitlist.code_used_by(phone, exc):
            return InboundResult("code_already_joined")  # this number's own code, after its party left
        if self._first_join_error(restaurant, phone):
            reply = {"join_code_unknown": texts.join_code_unknown, "join_code_expired": texts.join_code_expired,
                     "join_code_used": texts.join_code_used}[outcome]
            self.waitlist.text_number(restaurant, phone, outcome, reply(lang, restaurant.name))
        return InboundResult(outcome)

    def _first_join_error(self, restaurant: Restaurant, phone: str) -> bool:
        return self.messages.first_time(f"joinerror:{self.waitlist.digest(phone)}", restaurant.slug,
                                        JOIN_ERROR_REPLY_SECONDS)

    def _for_party(self, restaurant: Restaurant, party: Party, command: Command) -> InboundResult:
        lang = self.waitlist.lang(restaurant, party)
        intent = command.intent
        if party.status == Status.PENDING:
            return self._pending(restaurant, party, intent)
        if intent == Intent.ON_THE_WAY and party.status != Status.NOTIFIED:
            intent = Intent.OTHER  # "1" only means "coming" after the table-ready text
        if intent == Intent.LEAVE:
            self.waitlist.cancel(restaurant, party.id, actor="sms")
        elif intent == Intent.ON_THE_WAY:
            self._on_the_way(restaurant, party, command.minutes, lang)
        elif intent == Intent.LATE:
            self._late(restaurant, party, command.minutes or 10, lang)
        elif intent == Intent.ARRIVED:
            self._arrived(restaurant, party, lang)
        elif intent == Intent.STATUS:
            self._status(restaurant, party, lang)
        elif intent == Intent.HELP:
            self.waitlist.text(restaurant, party, "help", texts.help_reply(lang, restaurant.name))
        elif intent == Intent.JOIN:
            self._status(restaurant, party, lang)
        else:
            self.waitlist.set_flags(restaurant, party.id, new_message=True)
            if self.messages.first_time(f"hostwillsee:{party.id}", restaurant.slug, HOST_WILL_SEE_TTL_SECONDS):
                self.waitlist.text(restaurant, party, "host_will_see", texts.host_will_see(lang, restaurant.name))
            return InboundResult("message", party.id)
        if command.for_host:
            self.waitlist.set_flags(restaurant, party.id, new_message=True)  # the rest of the text is for the host
        return InboundResult(intent.value, party.id)

    def _late(self, restaurant: Restaurant, party: Party, minutes: int, lang: str) -> None:
        updated = self.waitlist.running_late(restaurant, party.id, minutes, actor="sms")
        hold = self.waitlist.hold_until_text(restaurant, updated.hold_until) \
            if updated.status == Status.NOTIFIED else None
        self.waitlist.text(restaurant, party, "late_ack", texts.late_ack(lang, restaurant.name, hold, minutes),
                           values={"hold_until": hold})

    def _on_the_way(self, restaurant: Restaurant, party: Party, minutes: int | None, lang: str) -> None:
        """On the way after the table-ready text. "Be there in 15" with 10 minutes of hold left is also
        running 5 minutes late: the hold grows to cover the guest's own estimate, so the hold timer does
        not release a table whose guest said when they would come."""
        self.waitlist.on_the_way(restaurant, party.id, actor="sms")
        short = (self.waitlist.clock() + minutes * 60 - party.hold_until) if minutes and party.hold_until else 0
        if short > 0:
            self._late(restaurant, party, math.ceil(short / 60), lang)
        else:
            self.waitlist.text(restaurant, party, "on_the_way_ack", texts.on_the_way_ack(lang, restaurant.name))

    def _arrived(self, restaurant: Restaurant, party: Party, lang: str) -> None:
        """The guest says they are at the door ("we're here", "我们到了"). This is the host's "I'm here"
        tap (``check_in``: a remote party may then be seated under ``require_checkin``); after the
        table-ready text the party is also flagged on its way, so the host's list shows whom to seat."""
        self.waitlist.check_in(restaurant, party.id, actor="sms")
        ready = party.status == Status.NOTIFIED
        if ready:
            self.waitlist.on_the_way(restaurant, party.id, actor="sms")
        self.waitlist.text(restaurant, party, "arrived_ack", texts.arrived_ack(lang, restaurant.name, ready))

    def _pending(self, restaurant: Restaurant, party: Party, intent: Intent) -> InboundResult:
        """A remote join waiting for its confirmation: 1 confirms, a leave word drops it."""
        if intent == Intent.ON_THE_WAY:
            self.waitlist.confirm(restaurant, party.id, actor="sms")
            return InboundResult("confirmed", party.id)
        if intent == Intent.LEAVE:
            self.waitlist.cancel(restaurant, party.id, actor="sms")
            return InboundResult("leave", party.id)
        self.waitlist.set_flags(restaurant, party.id, new_message=True)
        return InboundResult("message", party.id)

    def _status(self, restaurant: Restaurant, party: Party, lang: str) -> None:
        ready = party.status == Status.NOTIFIED
        # A waiting party hears what is left of the host's quote when the host set one, as its page shows.
        estimate = None if ready else (self.waitlist.party_estimate(restaurant, party)
                                       or self.waitlist.estimate(restaurant, party.party_size, position=party.position))
        wait = quote_range_text(estimate.low, estimate.high) if estimate else ""
        self.waitlist.text(restaurant, party, "status_reply",
                           texts.status_reply(lang, restaurant.name, party.position, wait, ready))
