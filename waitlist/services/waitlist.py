"""Use cases: what hosts, guests, timers and admins can do. Plain Python over the store.

Each method takes plain values, asks the store for one atomic change, and then decides which texts
follow from it. Nothing here knows about HTTP.
"""
from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
import string
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from config import Config
from waitlist.domain.errors import (
    Forbidden,
    InvalidInput,
    InvalidTransition,
    LimitReached,
    PartyNotFound,
    RestaurantNotFound,
    SlugTaken,
    Unauthorized,
    WaitlistClosed,
)
from waitlist.domain.model import (
    CODE_LENGTH,
    Party,
    Restaurant,
    Settings,
    Status,
    allowed_from,
    open_now,
    quote_range_text,
    validate_settings_patch,
)
from waitlist.domain.phones import mask_phone, normalize_phone, phone_digest
from waitlist.estimate.estimator import Estimate, Snapshot, estimate_wait, estimate_waits
from waitlist.store import MessageStore, OutboundText, RecordedText, Store
from waitlist.texting import texts
from waitlist.texting.commands import rating_of
from waitlist.texting.dispatch import Dispatcher

log = logging.getLogger(__name__)

CONTACTED_TTL_SECONDS = 180 * 24 * 3600
MAX_LATE_SECONDS = 30 * 60
UNDO_WINDOW_SECONDS = 60
CONFIRM_WINDOW_SECONDS = 5 * 60
FEEDBACK_REPLY_SECONDS = 24 * 3600
ACTIVE_STATUSES = (Status.WAITING, Status.NOTIFIED)


def hash_api_key(api_key: str) -> str:
    """Keys carry >= 128 random bits, so a plain SHA-256 is enough to store them safely."""
    return hashlib.sha256(api_key.encode()).hexdigest()


def new_api_key() -> str:
    return "wlk_" + secrets.token_urlsafe(24)


def new_token(code: str) -> str:
    """The restaurant's code, then 128 random bits: a guest link nobody can guess."""
    return code + secrets.token_urlsafe(16)


CODE_ALPHABET = string.ascii_letters + string.digits


def new_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def new_id() -> str:
    return secrets.token_hex(6)


@dataclass(frozen=True)
class GuestView:
    restaurant: Restaurant
    party: Party
    estimate: Estimate | None


class Waitlist:
    def __init__(self, store: Store, messages: MessageStore, dispatcher: Dispatcher, config: Config,
                 clock: Callable[[], float] = time.time):
        self.store = store
        self.messages = messages
        self.dispatcher = dispatcher
        self.config = config
        self.clock = clock

    # --- restaurants and access ------------------------------------------------------------------

    def check_admin(self, token: str | None) -> None:
        expected = self.config.admin_token
        if not token:
            raise Unauthorized("an admin token is required")
        if not expected or not hmac.compare_digest(token, expected):
            raise Forbidden("that admin token is not valid")

    def create_restaurant(self, slug: str, name: str, sms_from: str, timezone: str = "UTC",
                          language: str = "en") -> tuple[Restaurant, str]:
        """Returns the restaurant and its API key, which is shown this once and stored only hashed."""
        sms_from = normalize_phone(sms_from, self.config.default_region, field="sms_from")
        owner = self.store.claim_sms_from(sms_from, slug)
        if owner is not None:
            raise InvalidInput("that number already sends for another restaurant",
                               fields={"sms_from": ["already used by another restaurant"]})
        code = self._claim_code(slug)
        restaurant = Restaurant(slug=slug, name=name, sms_from=sms_from, timezone=timezone, language=language,
                                created_at=self.clock(), settings=Settings(language=language), code=code)
        api_key = new_api_key()
        if not self.store.create_restaurant(restaurant, hash_api_key(api_key)):
            self.store.release_sms_from(sms_from, slug)
            self.store.release_code(code, slug)
            raise SlugTaken(f"the slug {slug!r} is taken")
        log.info("restaurant created slug=%s sms_from=%s", slug, mask_phone(sms_from))
        return restaurant, api_key

    def _claim_code(self, slug: str) -> str:
        """A free code for the restaurant's guest links (taken ones are a few in 238,328)."""
        for _attempt in range(50):
            code = new_code()
            if self.store.claim_code(code, slug):
                return code
        raise LimitReached("no free restaurant code; raise CODE_LENGTH")

    def _ensure_code(self, restaurant: Restaurant) -> str:
        """Restaurants created before guest links carried a code get one at their first join."""
        if not restaurant.code:
            restaurant.code = self.store.set_code(restaurant.slug, self._claim_code(restaurant.slug))
        return restaurant.code

    def rotate_key(self, slug: str) -> str:
        _restaurant, old_hash = self._load(slug)
        api_key = new_api_key()
        self.store.replace_api_key(slug, old_hash, hash_api_key(api_key))
        log.info("api key rotated slug=%s", slug)
        return api_key

    def restaurant(self, slug: str) -> Restaurant:
        return self._load(slug)[0]

    def _load(self, slug: str) -> tuple[Restaurant, str]:
        found = self.store.load_restaurant(slug)
        if found is None:
            raise RestaurantNotFound(f"no restaurant {slug!r}")
        return found

    def authenticate(self, slug: str, api_key: str | None) -> Restaurant:
        """401 without a key or with an unknown one, 404 for an unknown slug, 403 for another's key."""
        offered = self._offered_key_hash(api_key)
        return self._check_key(slug, offered, self.store.load_restaurant(slug))

    def authenticate_for_join(self, slug: str, api_key: str | None) -> tuple[Restaurant, Snapshot]:
        """``authenticate``, and the snapshot ``join`` needs, in one round trip."""
        offered = self._offered_key_hash(api_key)
        found, snapshot = self.store.restaurant_and_snapshot(slug, offered)
        restaurant = self._check_key(slug, offered, found)
        assert snapshot is not None, "the script reads the snapshot for the key it matched"
        return restaurant, snapshot

    @staticmethod
    def _offered_key_hash(api_key: str | None) -> str:
        if not api_key:
            raise Unauthorized("an API key is required: Authorization: Bearer <key>")
        return hash_api_key(api_key)

    def _check_key(self, slug: str, offered: str, found: tuple[Restaurant, str] | None) -> Restaurant:
        if found is None:
            raise RestaurantNotFound(f"no restaurant {slug!r}")
        restaurant, key_hash = found
        if key_hash and hmac.compare_digest(offered, key_hash):
            return restaurant
        if self.store.slug_for_api_key(offered):
            raise Forbidden("that key belongs to another restaurant")
        raise Unauthorized("that API key is not valid")

    def update_settings(self, restaurant: Restaurant, patch: dict[str, Any]) -> Settings:
        settings = validate_settings_patch(restaurant.settings, patch)
        self.store.save_settings(restaurant.slug, settings)
        return settings

    # --- parties ------------------------------------------------------------------------------------

    def status_url(self, party: Party) -> str:
        return f"{self.config.public_base_url}/s/{party.token}"

    def join(self, restaurant: Restaurant, *, name: str, phone: str, party_size: int, notes: str = "",
             seating: str = "any", language: str | None = None, tags: Iterable[str] = (),
             actor: str = "host", remote: bool = False, confirmed: bool = True,
             snapshot: Snapshot | None = None) -> Party:
        """Add a party. A remote join (join page, text) must find the list open and within its caps;
        an unconfirmed one (``confirmed=False``, the join page) is held as pending until the guest
        replies 1 or taps the confirm link, and expires unseen otherwise. ``snapshot`` is the line as
        just read (``authenticate_for_join``), else it is read here."""
        phone = normalize_phone(phone, self.config.default_region)
        self._check_party_size(restaurant, party_size)
        now = self.clock()
        if remote:
            self._check_remote_join(restaurant, phone)
        if snapshot is None:
            snapshot = self.store.snapshot(restaurant.slug)
        quote = estimate_wait(snapshot, party_size, tables=restaurant.settings.tables, now=now)
        party = Party(id=new_id(), restaurant=restaurant.slug, name=name, phone=phone, party_size=party_size,
                      notes=notes, seating=seating, language=language, token=new_token(self._ensure_code(restaurant)),
                      quote_minutes=quote.minutes, quote_low=quote.low, quote_high=quote.high, joined_at=now,
                      remote=remote, tags=sorted(set(tags)))
        pending_until = now + CONFIRM_WINDOW_SECONDS if not confirmed else None
        # The joined text is recorded by the join itself, for the place the party will nearly always
        # take: the end of the line just read. Atomic with the join, and one round trip fewer.
        expected_position = len(snapshot.waiting_sizes) + 1
        joined_text = self._joined_text(restaurant, party, expected_position) if confirmed else None
        joined = self.store.join(restaurant.slug, party, now=now, actor=actor,
                                 almost_ready_position=restaurant.settings.almost_ready_position,
                                 pending_until=pending_until, remote_max_active=restaurant.settings.remote_max_active,
                                 text=joined_text, text_position=expected_position)
        log.info("party joined slug=%s party=%s size=%d phone=%s remote=%s", restaurant.slug, party.id, party_size,
                 mask_phone(phone), remote)
        if pending_until is not None:
            party.status = Status.PENDING
            self.dispatcher.expire_pending_at(restaurant.slug, party.id, pending_until)
            self.text(restaurant, party, "confirm_join", texts.confirm_join(
                self.lang(restaurant, party), restaurant.name, self.confirm_url(party)))
            return party
        party.position = joined.position
        if joined_text is not None and joined.text is not None:
            self._after_recording(restaurant, joined_text, joined.text)
        else:
            self._text_joined(restaurant, party)
        return party

    def _joined_text(self, restaurant: Restaurant, party: Party, position: int) -> OutboundText:
        """The joined text for ``position``; a number's first text from this restaurant also says how
        to opt out."""
        estimate = self.estimate(restaurant, party.party_size, position=position) \
            if party.quote_low is None else None
        low, high = (estimate.low, estimate.high) if estimate else (party.quote_low or 0, party.quote_high or 0)
        args = (self.lang(restaurant, party), restaurant.name, position, quote_range_text(low, high),
                self.status_url(party))
        return self._outbound(restaurant, party.phone, "joined", texts.joined(*args, False), party_id=party.id,
                              first_contact_body=texts.joined(*args, True))

    def _text_joined(self, restaurant: Restaurant, party: Party) -> None:
        self._record_and_send(restaurant, self._joined_text(restaurant, party, party.position or 1))

    def _check_remote_join(self, restaurant: Restaurant, phone: str) -> None:
        if not restaurant.settings.remote_join:
            raise WaitlistClosed("this restaurant takes joins at the host stand only")
        if not self.is_open(restaurant):
            raise WaitlistClosed(restaurant.settings.pause_message or "the waitlist is closed right now")
        today = datetime.fromtimestamp(self.clock(), tz=ZoneInfo(restaurant.timezone)).strftime("%Y-%m-%d")
        if self.store.count_join(restaurant.slug, self.digest(phone), today) > restaurant.settings.daily_join_cap:
            raise LimitReached("this phone has joined too many times today; please see the host")

    def is_open(self, restaurant: Restaurant) -> bool:
        """Whether guests can join from afar now: not paused and within the joining hours."""
        local = datetime.fromtimestamp(self.clock(), tz=ZoneInfo(restaurant.timezone))
        return open_now(restaurant.settings, local)

    def confirm_url(self, party: Party) -> str:
        return f"{self.config.public_base_url}/c/{party.token}"

    def confirm(self, restaurant: Restaurant, party_id: str, actor: str = "guest") -> Party:
        """The guest confirmed a remote join (reply 1 or the link): the party takes its place in line."""
        party = self._transition(restaurant, party_id, Status.WAITING, actor)
        self._text_joined(restaurant, party)
        return party

    def confirm_by_token(self, token: str) -> GuestView:
        view = self.guest_view(token)
        if view.party.status == Status.PENDING:
            self.confirm(view.restaurant, view.party.id)
            view = self.guest_view(token)
        return view

    def expire_pending(self, slug: str, party_id: str) -> bool:
        """An unconfirmed remote join lapses quietly: never counted in line, never texted again."""
        restaurant = self.restaurant(slug)
        try:
            self.store.transition(slug, party_id, Status.CANCELLED, allowed=[Status.PENDING], now=self.clock(),
                                  actor="timer", almost_ready_position=restaurant.settings.almost_ready_position)
        except (PartyNotFound, InvalidTransition):
            return False
        return True

    def check_in(self, restaurant: Restaurant, party_id: str, actor: str = "host") -> Party:
        """A remote party arrived at the door ("I'm here"): it may now be seated."""
        self._update_active(restaurant, party_id, {"f:checked_in": "1"}, actor=actor, event="check_in")
        return self.party(restaurant, party_id)

    def pause(self, restaurant: Restaurant, message: str) -> Settings:
        return self.update_settings(restaurant, {"paused": True, "pause_message": message})

    def resume(self, restaurant: Restaurant) -> Settings:
        return self.update_settings(restaurant, {"paused": False, "pause_message": ""})

    def _check_party_size(self, restaurant: Restaurant, party_size: int) -> None:
        limit = restaurant.settings.max_party_size
        if party_size > limit:
            raise InvalidInput("party is too large for the waitlist",
                               fields={"party_size": [f"must be between 1 and {limit}"]})

    def party(self, restaurant: Restaurant, party_id: str) -> Party:
        party = self.store.load_party(restaurant.slug, party_id)
        if party is None:
            raise PartyNotFound(f"no party {party_id!r}")
        return party

    def list_parties(self, restaurant: Restaurant, status: str | None = None) -> list[Party]:
        """Parties on the list in queue order (waiting, notified, then pending remote joins); finished
        statuses list today's."""
        if status in (None, "active", "waiting", "notified", "pending"):
            parties = self.store.active_parties(restaurant.slug)
            return [p for p in parties if status in (None, "active") or p.status.value == status]
        finished = self.store.finished_parties(restaurant.slug, self.start_of_today(restaurant))
        return [p for p in finished if status == "finished" or p.status.value == status]

    def start_of_today(self, restaurant: Restaurant) -> float:
        zone = ZoneInfo(restaurant.timezone)
        local = datetime.fromtimestamp(self.clock(), tz=zone)
        midnight = local.replace(hour=0, minute=0, second=0, microsecond=0)
        # Services run past midnight: before 4 am, "today" is still yesterday's evening.
        if local.hour < 4:
            midnight -= timedelta(days=1)
        return midnight.timestamp()

    def update_party(self, restaurant: Restaurant, party_id: str, patch: dict[str, Any],
                     actor: str = "host") -> Party:
        if "party_size" in patch:
            self._check_party_size(restaurant, patch["party_size"])
        fields = {key: ",".join(sorted(set(value))) if key == "tags" else str(value) for key, value in patch.items()}
        if fields:
            self._update_active(restaurant, party_id, fields, actor=actor)
        return self.party(restaurant, party_id)

    def _update_active(self, restaurant: Restaurant, party_id: str, fields: dict[str, str], *, actor: str,
                       event: str = "update") -> None:
        """Change a party on the list; raises PartyNotFound, or InvalidTransition once it left."""
        if self.store.update_party(restaurant.slug, party_id, fields, now=self.clock(), actor=actor,
                                   allowed=ACTIVE_STATUSES, event=event) is None:
            raise PartyNotFound(f"no party {party_id!r}")

    def _transition(self, restaurant: Restaurant, party_id: str, target: Status, actor: str,
                    **extra: Any) -> Party:
        result = self.store.transition(
            restaurant.slug, party_id, target, allowed=allowed_from(target), now=self.clock(), actor=actor,
            almost_ready_position=restaurant.settings.almost_ready_position, **extra)
        log.info("party %s slug=%s party=%s by=%s", target.value, restaurant.slug, party_id, actor)
        self._text_almost_ready(restaurant, result.promoted)
        return self.party(restaurant, party_id)

    def notify(self, restaurant: Restaurant, party_id: str, actor: str = "host") -> Party:
        """Table ready: text the guest and start the hold timer. A second notify re-sends the text."""
        hold_seconds = restaurant.settings.hold_minutes * 60
        hold_until = self.clock() + hold_seconds
        party = self._transition(restaurant, party_id, Status.NOTIFIED, actor, hold_until=hold_until)
        self.dispatcher.expire_hold_at(restaurant.slug, party.id, str(party.hold_version), hold_until)
        self.text(restaurant, party, "table_ready",
                  texts.table_ready(self.lang(restaurant, party), restaurant.name, restaurant.settings.hold_minutes))
        return party

    def seat(self, restaurant: Restaurant, party_id: str, actor: str = "host") -> Party:
        if restaurant.settings.require_checkin:
            current = self.party(restaurant, party_id)
            if current.remote and "checked_in" not in current.flags and current.status in ACTIVE_STATUSES:
                raise InvalidTransition("this remote party has not checked in at the door yet",
                                        current_status=current.status.value)
        party = self._transition(restaurant, party_id, Status.SEATED, actor)
        if restaurant.settings.feedback:
            delay = restaurant.settings.feedback_delay_minutes * 60
            self.dispatcher.feedback_at(restaurant.slug, party.id, self.clock() + delay)
        return party

    def complete(self, restaurant: Restaurant, party_id: str, actor: str = "host") -> Party:
        return self._transition(restaurant, party_id, Status.COMPLETED, actor)

    def cancel(self, restaurant: Restaurant, party_id: str, actor: str = "host", confirm: bool = True) -> Party:
        party = self._transition(restaurant, party_id, Status.CANCELLED, actor)
        if confirm:
            self.text(restaurant, party, "left", texts.left_list(self.lang(restaurant, party), restaurant.name))
        return party

    def no_show(self, restaurant: Restaurant, party_id: str, actor: str = "host") -> Party:
        return self._transition(restaurant, party_id, Status.NO_SHOW, actor)

    def move(self, restaurant: Restaurant, party_id: str, position: int, actor: str = "host") -> Party:
        moved = self.store.move(restaurant.slug, party_id, position, now=self.clock(), actor=actor,
                                almost_ready_position=restaurant.settings.almost_ready_position)
        self._text_almost_ready(restaurant, moved.promoted)
        return self.party(restaurant, party_id)

    def expire_hold(self, slug: str, party_id: str, hold_version: str) -> bool:
        """The hold timer fired: release the table unless the party was seated, left or re-notified."""
        restaurant = self.restaurant(slug)
        try:
            self.store.transition(slug, party_id, Status.NO_SHOW, allowed=[Status.NOTIFIED], now=self.clock(),
                                  actor="timer", almost_ready_position=restaurant.settings.almost_ready_position,
                                  hold_version=hold_version)
        except (PartyNotFound, InvalidTransition) as exc:  # seated, left or notified again since
            log.info("hold timer no-op slug=%s party=%s outcome=%s", slug, party_id, exc.code)
            return False
        party = self.party(restaurant, party_id)
        self.text(restaurant, party, "hold_expired", texts.hold_expired(self.lang(restaurant, party), restaurant.name))
        return True

    # --- estimates and the guest's view ---------------------------------------------------------

    def estimate(self, restaurant: Restaurant, party_size: int, position: int | None = None) -> Estimate:
        snapshot = self.store.snapshot(restaurant.slug)
        return estimate_wait(snapshot, party_size, tables=restaurant.settings.tables, now=self.clock(),
                             position=position)

    def estimates_by_size(self, restaurant: Restaurant, sizes: Iterable[int]) -> dict[int, Estimate]:
        """The current wait for several party sizes from one snapshot (join page, lobby screen)."""
        return estimate_waits(self.store.snapshot(restaurant.slug), sizes, tables=restaurant.settings.tables,
                              now=self.clock())

    def guest_view(self, token: str) -> GuestView:
        found = self.store.resolve_token(token) if token else None
        if found is None:
            raise PartyNotFound("this link is not valid or has expired")
        slug, party_id = found
        try:
            restaurant = self.restaurant(slug)
            party = self.party(restaurant, party_id)
        except (RestaurantNotFound, PartyNotFound):
            raise PartyNotFound("this link is not valid or has expired") from None
        estimate = None
        if party.status == Status.WAITING:
            estimate = self.estimate(restaurant, party.party_size, position=party.position)
        return GuestView(restaurant, party, estimate)

    def guest_leave(self, token: str) -> GuestView:
        view = self.guest_view(token)
        self.cancel(view.restaurant, view.party.id, actor="guest")
        return self.guest_view(token)

    # --- texts --------------------------------------------------------------------------------------

    def lang(self, restaurant: Restaurant, party: Party) -> str:
        return party.language or restaurant.settings.language or restaurant.language

    def digest(self, phone: str) -> str:
        return phone_digest(self.config.secret_key, phone)

    def _text_almost_ready(self, restaurant: Restaurant, party_ids: Iterable[str]) -> None:
        for pid in party_ids:
            party = self.store.load_party(restaurant.slug, pid)
            if party is not None and party.status == Status.WAITING and party.position:
                self.text(restaurant, party, "almost_ready",
                          texts.almost_ready(self.lang(restaurant, party), restaurant.name, party.position))

    def text(self, restaurant: Restaurant, party: Party, kind: str, body: str,
             first_contact_body: str | None = None) -> dict[str, str]:
        """Text a party: the message joins its conversation."""
        return self.text_number(restaurant, party.phone, kind, body, party_id=party.id,
                                first_contact_body=first_contact_body)

    def text_number(self, restaurant: Restaurant, phone: str, kind: str, body: str, party_id: str = "",
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

    def send_custom(self, restaurant: Restaurant, party_id: str, body: str) -> dict[str, str]:
        party = self.party(restaurant, party_id)
        return self.text(restaurant, party, "custom", texts.custom(self.lang(restaurant, party), restaurant.name, body))

    def conversation(self, restaurant: Restaurant, party_id: str, mark_read: bool = True) -> list[dict[str, str]]:
        """The party's texts in and out; reading it clears the host's "new message" flag."""
        party = self.party(restaurant, party_id)
        if mark_read and "new_message" in party.flags:
            self.set_flags(restaurant, party_id, actor="host", new_message=False)
        return self.messages.conversation(restaurant.slug, party_id)

    # --- guest replies --------------------------------------------------------------------------------

    def running_late(self, restaurant: Restaurant, party_id: str, minutes: int, actor: str = "guest") -> Party:
        """Flag the party running late; a notified party's hold grows by ``minutes`` (30 at most in all)."""
        hold = self.store.extend_hold(restaurant.slug, party_id, minutes * 60, now=self.clock(), actor=actor,
                                      most_seconds=MAX_LATE_SECONDS)
        if hold.status == Status.NOTIFIED and hold.hold_until is not None and hold.hold_version:
            self.dispatcher.expire_hold_at(restaurant.slug, party_id, hold.hold_version, hold.hold_until)
        return self.party(restaurant, party_id)

    def on_the_way(self, restaurant: Restaurant, party_id: str, actor: str = "guest") -> Party:
        self._update_active(restaurant, party_id, {"f:on_the_way": "1"}, actor=actor, event="flag")
        return self.party(restaurant, party_id)

    def undo(self, restaurant: Restaurant, party_id: str, actor: str = "host") -> Party:
        """Put back a party seated or removed by mistake, in its old place, within a minute."""
        self.store.undo_finish(restaurant.slug, party_id, now=self.clock(), window_seconds=UNDO_WINDOW_SECONDS,
                               actor=actor)
        return self.party(restaurant, party_id)

    # --- feedback -------------------------------------------------------------------------------------

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

    def hold_until_text(self, restaurant: Restaurant, hold_until: float | None) -> str | None:
        if hold_until is None:
            return None
        return datetime.fromtimestamp(hold_until, tz=ZoneInfo(restaurant.timezone)).strftime("%H:%M")
