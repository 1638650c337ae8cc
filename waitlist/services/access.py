"""Restaurants and access: creating a restaurant, its API key and guest-link code, checking who
calls, settings, and the reads every other use case starts from (a restaurant, a party, the wait).

The Waitlist facade (waitlist.services.waitlist) is this class with the texts and the parties' use
cases on top: one object per process, built by the app factory and the job context.
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
    LimitReached,
    PartyNotFound,
    RestaurantNotFound,
    SlugTaken,
    Unauthorized,
)
from waitlist.domain.model import CODE_LENGTH, Party, Restaurant, Settings, open_now, validate_settings_patch
from waitlist.domain.phones import mask_phone, normalize_phone, phone_digest
from waitlist.domain.tables import table_counts, table_joins
from waitlist.estimate.estimator import Estimate, Snapshot, estimate_waits
from waitlist.store import MessageStore, Store
from waitlist.texting.dispatch import Dispatcher

log = logging.getLogger("waitlist.services.waitlist")  # the facade's one logger, as before the split

CODE_ALPHABET = string.ascii_letters + string.digits
ESTIMATE_MEMO_SECONDS = 30
"""How long an estimate worked out for one state of the line answers for it (see ``Access._estimates``)."""
ESTIMATE_MEMO_KEPT = 256
"""Estimates remembered per process, the oldest forgotten first: a few per restaurant. A key holds the
line's sizes, so even at 3,000 parties a line the memo stays within a few MB."""


def hash_api_key(api_key: str) -> str:
    """Keys carry >= 128 random bits, so a plain SHA-256 is enough to store them safely."""
    return hashlib.sha256(api_key.encode()).hexdigest()


def new_api_key() -> str:
    return "wlk_" + secrets.token_urlsafe(24)


def new_token(code: str) -> str:
    """The restaurant's code, then 128 random bits: a guest link nobody can guess."""
    return code + secrets.token_urlsafe(16)


def new_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def new_id() -> str:
    return secrets.token_hex(6)


def session_fingerprint(key_hash: str) -> str:
    """What a staff session keeps instead of the key: it changes when the key is rotated."""
    return hashlib.sha256(f"host-session:{key_hash}".encode()).hexdigest()[:32]


@dataclass(frozen=True)
class Gauges:
    """The service's operational numbers, read from Redis (GET /metrics)."""

    restaurants: int
    parties: dict[str, int]
    """Parties on the lists, by status."""
    outbox_texts: int
    """Texts recorded and not yet queued by a worker's relay: grows while no worker runs."""


class Access:
    """The stores and settings every use case works with, restaurants and access, and the reads."""

    def __init__(self, store: Store, messages: MessageStore, dispatcher: Dispatcher, config: Config,
                 clock: Callable[[], float] = time.time):
        self.store = store
        self.messages = messages
        self.dispatcher = dispatcher
        self.config = config
        self.clock = clock
        self._memo: dict[tuple[object, ...], dict[int, Estimate]] = {}

    def ping(self) -> bool:
        """Whether the store answers (a Redis error raises, and the error handler says 503)."""
        return self.store.ping()

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

    def all_restaurants(self) -> list[Restaurant]:
        found = [self.store.load_restaurant(slug) for slug in self.store.all_slugs()]
        return [restaurant for restaurant, _key_hash in filter(None, found)]

    def gauges(self, admin_token: str | None) -> Gauges:
        """The operational gauges; the admin token is required when one is configured."""
        if self.config.admin_token:
            self.check_admin(admin_token)
        slugs = self.store.all_slugs()
        return Gauges(restaurants=len(slugs), parties=self.store.line_counts(slugs),
                      outbox_texts=sum(self.messages.outbox_sizes(slugs)))

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

    def start_session(self, slug: str, api_key: str | None) -> str:
        """Check a staff key (as ``authenticate``) and open a staff session: what its cookie keeps is a
        fingerprint of the key's hash (rotating the key signs every tablet out) and the session's id on
        the server (signing out closes it, so a copied cookie is worth nothing afterwards)."""
        self.authenticate(slug, api_key)
        session_id = secrets.token_urlsafe(18)
        self.store.open_session(slug, session_id, self._session_seconds())
        return f"{session_fingerprint(hash_api_key(api_key or ''))}.{session_id}"

    def session_restaurant(self, slug: str, signed: str) -> Restaurant | None:
        """The restaurant of an open staff session whose fingerprint still matches the current key; None
        once signed out, expired, the key rotated or the restaurant gone."""
        fingerprint, _, session_id = signed.partition(".")
        if not session_id:
            return None  # a cookie from before sessions were kept on the server
        found, still_open = self.store.restaurant_for_session(slug, session_id, self._session_seconds())
        if still_open and found and found[1] and hmac.compare_digest(fingerprint, session_fingerprint(found[1])):
            return found[0]
        return None

    def session_is_current(self, slug: str, signed: str) -> bool:
        return self.session_restaurant(slug, signed) is not None

    def end_session(self, slug: str, signed: str) -> None:
        _fingerprint, _, session_id = signed.partition(".")
        if session_id:
            self.store.close_session(slug, session_id)

    def _session_seconds(self) -> int:
        return max(60, int(self.config.session_hours * 3600))

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

    def pause(self, restaurant: Restaurant, message: str) -> Settings:
        return self.update_settings(restaurant, {"paused": True, "pause_message": message})

    def resume(self, restaurant: Restaurant) -> Settings:
        return self.update_settings(restaurant, {"paused": False, "pause_message": ""})

    def is_open(self, restaurant: Restaurant) -> bool:
        """Whether guests can join from afar now: not paused and within the joining hours."""
        local = datetime.fromtimestamp(self.clock(), tz=ZoneInfo(restaurant.timezone))
        return open_now(restaurant.settings, local)

    def party(self, restaurant: Restaurant, party_id: str) -> Party:
        party = self.store.load_party(restaurant.slug, party_id)
        if party is None:
            raise PartyNotFound(f"no party {party_id!r}")
        return party

    def status_url(self, party: Party) -> str:
        return f"{self.config.public_base_url}/s/{party.token}"

    def confirm_url(self, party: Party) -> str:
        return f"{self.config.public_base_url}/c/{party.token}"

    def lang(self, restaurant: Restaurant, party: Party) -> str:
        return party.language or restaurant.settings.language or restaurant.language

    def digest(self, phone: str) -> str:
        return phone_digest(self.config.secret_key, phone)

    def estimate(self, restaurant: Restaurant, party_size: int, position: int | None = None,
                 snapshot: Snapshot | None = None) -> Estimate:
        """The current wait for a new party of ``party_size`` (or, with ``position``, the party there),
        from ``snapshot`` when it was read with the restaurant (``restaurant_for_estimate``)."""
        return self._estimates(restaurant, (party_size,), position, snapshot)[party_size]

    def restaurant_for_estimate(self, slug: str) -> tuple[Restaurant, Snapshot]:
        """The restaurant and the snapshot its public estimate answers from, in one round trip: the
        endpoint is asked many times a second, and read them one after the other (docs/performance.md)."""
        found, snapshot = self.store.restaurant_and_public_snapshot(slug)
        if found is None:
            raise RestaurantNotFound(f"no restaurant {slug!r}")
        return found[0], snapshot

    def estimates_by_size(self, restaurant: Restaurant, sizes: Iterable[int]) -> dict[int, Estimate]:
        """The current wait for several party sizes from one snapshot (join page, lobby screen)."""
        return self._estimates(restaurant, tuple(sizes), None)

    def _estimates(self, restaurant: Restaurant, sizes: tuple[int, ...], position: int | None,
                   snapshot: Snapshot | None = None) -> dict[int, Estimate]:
        """Estimates read fresh from the store, worked out once per state of the line and half-minute.

        The public estimate, the lobby board and the join page ask the same question many times a second
        while nothing changes; the estimator's replay of the line is most of such a request's CPU. Any
        change the estimate depends on (the line, a seating, a turn, a drop-out, a table, a booking)
        changes the snapshot's ``state``, so a memo never answers for a line that moved; within
        ESTIMATE_MEMO_SECONDS only the passing of time is left out, which moves a quote by well under a
        minute. Measured on the public estimate with 100 waiting and an inventory, in process and
        interleaved: 0.53 ms of CPU a request against 1.25 ms without the memo (docs/performance.md)."""
        if snapshot is None:
            snapshot = self.store.snapshot(restaurant.slug)
        now = self.clock()
        tables, joins = table_counts(restaurant), table_joins(restaurant)
        clearing = restaurant.settings.clearing_minutes
        key = (restaurant.slug, sizes, position, tuple(sorted((tables or {}).items())),
               tuple(sorted((joins or {}).items())), clearing, snapshot.state(), int(now // ESTIMATE_MEMO_SECONDS))
        found = self._memo.get(key)
        if found is None:
            found = estimate_waits(snapshot, sizes, tables=tables, now=now, position=position, joins=joins,
                                   clearing_minutes=clearing)
            if len(self._memo) >= ESTIMATE_MEMO_KEPT:
                self._memo.pop(next(iter(self._memo)))
            self._memo[key] = found
        return found

    def start_of_today(self, restaurant: Restaurant) -> float:
        zone = ZoneInfo(restaurant.timezone)
        local = datetime.fromtimestamp(self.clock(), tz=zone)
        midnight = local.replace(hour=0, minute=0, second=0, microsecond=0)
        # Services run past midnight: before 4 am, "today" is still yesterday's evening.
        if local.hour < 4:
            midnight -= timedelta(days=1)
        return midnight.timestamp()

    def hold_until_text(self, restaurant: Restaurant, hold_until: float | None) -> str | None:
        if hold_until is None:
            return None
        return datetime.fromtimestamp(hold_until, tz=ZoneInfo(restaurant.timezone)).strftime("%H:%M")
