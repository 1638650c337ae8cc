"""Texts out: recording each text a guest gets (the outbox hands it to a worker), flags, the
conversation, and the feedback request and its replies."""
from __future__ import annotations

from collections.abc import Iterable, Mapping

from waitlist.domain.messages import FAILED, SENT_RANK, status_rank
from waitlist.domain.model import Party, Restaurant, Status
from waitlist.services.access import Access, new_id
from waitlist.store import OutboundText, RecordedText
from waitlist.texting import templates, texts
from waitlist.texting.commands import rating_of

CONTACTED_TTL_SECONDS = 180 * 24 * 3600
FEEDBACK_REPLY_SECONDS = 24 * 3600


class TextsOut(Access):
    """Every text the waitlist sends goes through ``text_number``."""

    def _text_almost_ready(self, restaurant: Restaurant, party_ids: Iterable[str]) -> None:
        for pid in party_ids:
            party = self.store.load_party(restaurant.slug, pid)
            if party is not None and party.status == Status.WAITING and party.position:
                self.text(restaurant, party, "almost_ready",
                          texts.almost_ready(self.lang(restaurant, party), restaurant.name, party.position))

    def text(self, restaurant: Restaurant, party: Party, kind: str, body: str,
             first_contact_body: str | None = None, values: Mapping[str, str | None] | None = None) -> dict[str, str]:
        """Text a party: the message joins its conversation. ``body`` is the built-in text; the
        restaurant's own wording of ``kind`` replaces it, filled from the party and ``values``."""
        body = self.custom_words(restaurant, kind, self.lang(restaurant, party), party, values) or body
        return self._text_number(restaurant, party.phone, kind, body, party_id=party.id,
                                 first_contact_body=first_contact_body)

    def text_number(self, restaurant: Restaurant, phone: str, kind: str, body: str, party_id: str = "",
                    first_contact_body: str | None = None) -> dict[str, str]:
        """Text a number (help, a refused join); with no ``party_id`` the restaurant's wording of ``kind``
        in its language replaces the built-in ``body`` if it has one."""
        if not party_id:
            body = self.custom_words(restaurant, kind, restaurant.settings.language) or body
        return self._text_number(restaurant, phone, kind, body, party_id, first_contact_body)

    def custom_words(self, restaurant: Restaurant, kind: str, language: str, party: Party | None = None,
                     values: Mapping[str, str | None] | None = None) -> str | None:
        """The restaurant's own wording of text ``kind`` (waitlist.texting.templates), or None for the
        built-in text. Templates come with the restaurant, so this reads nothing; without any it is
        one comparison (the add path)."""
        if not restaurant.templates:
            return None
        words: dict[str, str | None] = {"restaurant": restaurant.name,
                                        "hold_minutes": texts.format_minutes(restaurant.settings.hold_minutes)}
        if party is not None:
            words.update(name=party.name, link=self.status_url(party),
                         place=str(party.position) if party.position else None,
                         hold_until=self.hold_until_text(restaurant, party.hold_until)
                         if party.status == Status.NOTIFIED else None)
        words.update(values or {})
        return templates.custom_text(restaurant.templates, language, kind, words)

    def _text_number(self, restaurant: Restaurant, phone: str, kind: str, body: str, party_id: str = "",
                     first_contact_body: str | None = None) -> dict[str, str]:
        """Record an outbound text and hand it to a worker; opted-out numbers are recorded, not sent.
        ``first_contact_body`` replaces ``body`` on the restaurant's first text to this number."""
        return self._record_and_send(restaurant, self._outbound(restaurant, phone, kind, body, party_id=party_id,
                                                                first_contact_body=first_contact_body))

    def _outbound(self, restaurant: Restaurant, phone: str, kind: str, body: str, *, party_id: str,
                  first_contact_body: str | None) -> OutboundText:
        now = self.clock()
        message = {
            "id": new_id(), "party": party_id, "kind": kind, "direction": "out", "to": phone,
            "from": restaurant.sms_from, "body": body, "status": "queued",
            "created_at": repr(now), "updated_at": repr(now), "attempts": "0",
        }
        return OutboundText(message, self.digest(phone), first_contact_body, CONTACTED_TTL_SECONDS, relayed=True)

    def _record_and_send(self, restaurant: Restaurant, text: OutboundText) -> dict[str, str]:
        return self._after_recording(restaurant, text, self.messages.record_outbound(restaurant.slug, text))

    def _after_recording(self, restaurant: Restaurant, text: OutboundText, recorded: RecordedText) -> dict[str, str]:
        """Flag the party of an opted-out number; returns the message as stored. A text to send is in its
        restaurant's outbox already, where a worker's relay finds it (workers.relay)."""
        message = dict(text.message)
        if recorded.first_contact and text.first_contact_body is not None:
            message["body"] = text.first_contact_body
        if recorded.opted_out:
            message.update(status="suppressed", error_code="opted_out")
            if message["party"]:
                self.set_flags(restaurant, message["party"], opted_out=True)
        return message

    def set_flags(self, restaurant: Restaurant, party_id: str, actor: str = "system", **flags: bool) -> None:
        """Raise or clear party flags (running_late, on_the_way, sms_failed, opted_out, new_message)."""
        fields = {f"f:{name}": "1" if value else "" for name, value in flags.items()}
        self.store.update_party(restaurant.slug, party_id, fields, now=self.clock(), actor=actor, event="flag")

    def delivery_status(self, sid: str, status: str, error_code: str = "") -> str:
        """Twilio reports a text's delivery: move the message forward only, and flag the party when the
        text failed. Returns 'updated', 'ignored' (a duplicate or late report) or 'missing'."""
        located = self.messages.locate_sid(sid) if sid else None
        if located is None:
            return "missing"
        slug, message_id = located
        outcome, party_id, _kind = self.messages.advance(slug, message_id, status, now=self.clock(),
                                                         error_code=error_code)
        if outcome == "updated" and party_id:
            message = self.messages.get(slug, message_id) or {}
            self.note_text_outcome(slug, party_id, message.get("created_at", ""), status)
        return outcome

    def note_text_outcome(self, slug: str, party_id: str, created_at: str, status: str) -> None:
        """Keep the party's ``sms_failed`` flag true to its latest text: a text that failed raises it, a
        text that reached the carrier (sent, delivered) clears it, so a Twilio error does not stay on the
        party after a later text got through. A late report of an older text never clears a newer
        failure, and an opted-out number keeps its flag (the store applies this atomically)."""
        if status in FAILED:
            failed = True
        elif status_rank(status) >= SENT_RANK:
            failed = False
        else:
            return
        self.store.note_text_outcome(slug, party_id, created_at=created_at, failed=failed, now=self.clock(),
                                     actor="system")

    def send_custom(self, restaurant: Restaurant, party_id: str, body: str) -> dict[str, str]:
        party = self.party(restaurant, party_id)
        return self.text(restaurant, party, "custom", texts.custom(self.lang(restaurant, party), restaurant.name, body))

    def conversation(self, restaurant: Restaurant, party_id: str, mark_read: bool = True) -> list[dict[str, str]]:
        """The party's texts in and out; reading it clears the host's "new message" flag."""
        party = self.party(restaurant, party_id)
        if mark_read and "new_message" in party.flags:
            self.set_flags(restaurant, party_id, actor="host", new_message=False)
        return self.messages.conversation(restaurant.slug, party_id)

    def request_feedback(self, slug: str, party_id: str) -> bool:
        """Some time after seating, ask once how the visit was (only when the restaurant wants it)."""
        restaurant = self.restaurant(slug)
        party = self.store.load_party(slug, party_id)
        if party is None or not restaurant.settings.feedback or party.status not in (Status.SEATED, Status.COMPLETED):
            return False
        if self.store.party_field(slug, party_id, "feedback_requested_at"):
            return False
        self.store.update_party(slug, party_id, {"feedback_requested_at": repr(self.clock())}, now=self.clock(),
                                actor="timer", event="feedback_requested")
        self.store.await_feedback(slug, self.digest(party.phone), party_id, FEEDBACK_REPLY_SECONDS)
        self.text(restaurant, party, "feedback_request", texts.feedback_request(self.lang(restaurant, party),
                                                                                 restaurant.name))
        return True

    def take_feedback(self, restaurant: Restaurant, phone: str, body: str) -> str | None:
        """A reply to the feedback text: the first 1-5 is the rating; after a 1 or 2, the next text is the
        guest's comment for the owner. None when this text is not feedback."""
        party_id = self.store.feedback_party(restaurant.slug, self.digest(phone))
        party = self.store.load_party(restaurant.slug, party_id) if party_id else None
        if party is None:
            return None
        rating = self.store.party_field(restaurant.slug, party.id, "rating")
        if not rating:
            value = rating_of(body)
            if value is None:
                return None
            self.store.record_feedback(restaurant.slug, party.id, now=self.clock(), rating=value)
            self.text(restaurant, party, "feedback_thanks", texts.feedback_thanks(self.lang(restaurant, party),
                                                                                  restaurant.name))
            return "rated"
        if int(rating) <= 2 and not self.store.party_field(restaurant.slug, party.id, "comment"):
            self.store.record_feedback(restaurant.slug, party.id, now=self.clock(), comment=body)
            return "comment"
        return None
