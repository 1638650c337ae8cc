"""Restaurants and their parties in Redis: reads, and the atomic changes of the list.

Each change of the list is one Lua script (lua/), so two hosts tapping at once never leave it half
changed. The rules each script enforces (which transitions are allowed, what each does, what undo and
running late may touch) come from waitlist.domain and reach the scripts as arguments. A refusal comes
back as an exception of the WaitlistError family (see scripts.checked).
"""
from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import orjson
from redis import Redis

from waitlist.domain.model import (
    ACTIVE,
    CODE_LENGTH,
    EFFECTS,
    MAY_RUN_LATE,
    UNDO_NOTIFY,
    UNDO_RESTORES,
    UNDOABLE,
    Party,
    Restaurant,
    Settings,
    Status,
    allowed_from,
)
from waitlist.estimate.snapshot import Snapshot
from waitlist.store import codec, keys, listing
from waitlist.store.join_codes import JoinCodeClaim, claim_keys
from waitlist.store.messages import OutboundText, RecordedText, record_text_args
from waitlist.store.scripts import EVENTS_MAXLEN, Scripts, checked
from waitlist.store.tables import checked as tables_checked

FINISHED_KEEP_SECONDS = 36 * 3600
"""Finished parties stay listable for "today" plus a margin for late-night services."""
FINISHED_PARTY_TTL_SECONDS = 3 * 24 * 3600
TOKEN_TTL_SECONDS = 3 * 24 * 3600
RECENT_MAXLEN = 200
JOIN_COUNT_TTL_SECONDS = 2 * 24 * 3600


@dataclass(frozen=True)
class TransitionResult:
    previous: Status
    promoted: list[str]
    """Waiting parties just marked "almost your turn", to be texted so once."""


@dataclass(frozen=True)
class Undone:
    previous: Status
    """The status the undo took the party from."""
    restored: Status
    """The status it has again."""


@dataclass(frozen=True)
class Joined:
    position: int
    """0 while pending."""
    text: RecordedText | None
    """How the joined text was recorded with the join; None when it was not (see Store.join)."""


@dataclass(frozen=True)
class Moved:
    previous: int
    position: int
    promoted: list[str]


@dataclass(frozen=True)
class HoldExtended:
    status: Status
    hold_until: float | None
    """The hold's new end (a notified party's), else None."""
    hold_version: str | None


def snapshot_keys(slug: str) -> list[str]:
    """KEYS[1..12] of the snapshot scripts (lua/includes/snapshot.lua)."""
    return [keys.line_key(slug), keys.sizes_key(slug), keys.waiting_key(slug), keys.party_prefix(slug),
            keys.recent_key(slug, "seatings"), keys.recent_key(slug, "turns"), keys.recent_key(slug, "drops"),
            keys.notified_key(slug), keys.history_key(slug), keys.table_states_key(slug), keys.restaurant_key(slug),
            keys.reservations_due_key(slug)]


def _json(value: dict[str, Any]) -> bytes:
    return orjson.dumps(value)


class Store:
    """Reads and atomic writes of restaurants and their lists."""

    def __init__(self, redis: Redis):
        self.redis: Any = redis  # decoded replies (str), which redis-py's stubs cannot express
        self._slugs_by_code: dict[str, str] = {}
        self._run = Scripts(redis)

    # --- restaurants ---

    def claim_sms_from(self, e164: str, slug: str) -> str | None:
        """Reserve a sending number for a restaurant; returns the current owner if taken by another."""
        if self.redis.set(keys.sms_from_key(e164), slug, nx=True):
            return None
        owner = self.redis.get(keys.sms_from_key(e164))
        return None if owner == slug else owner

    def release_sms_from(self, e164: str, slug: str) -> None:
        self._release(keys.sms_from_key(e164), slug)

    def release_code(self, code: str, slug: str) -> None:
        self._release(keys.code_key(code), slug)

    def _release(self, key: str, slug: str) -> None:
        """Drop a global claim (a sending number, a link code) if this restaurant still holds it."""
        if self.redis.get(key) == slug:
            self.redis.delete(key)

    def create_restaurant(self, restaurant: Restaurant, api_key_hash: str) -> bool:
        """False when the slug is taken. The restaurant hash is written first and alone decides."""
        key = keys.restaurant_key(restaurant.slug)
        if not self.redis.hsetnx(key, "slug", restaurant.slug):
            return False
        self.redis.hset(key, mapping=codec.restaurant_fields(restaurant, api_key_hash))
        self.redis.set(keys.apikey_key(api_key_hash), restaurant.slug)
        self.redis.sadd(keys.restaurants_key(), restaurant.slug)
        return True

    def load_restaurant(self, slug: str) -> tuple[Restaurant, str] | None:
        """The restaurant and its API key hash, or None."""
        return codec.restaurant_from_hash(slug, self.redis.hgetall(keys.restaurant_key(slug)))

    def save_settings(self, slug: str, settings: Settings) -> None:
        self.redis.hset(keys.restaurant_key(slug), mapping={
            "settings": codec.settings_to_json(settings),
            "language": settings.language,
        })

    def replace_api_key(self, slug: str, old_hash: str, new_hash: str) -> None:
        self.redis.hset(keys.restaurant_key(slug), "api_key_hash", new_hash)
        self.redis.set(keys.apikey_key(new_hash), slug)
        if old_hash:
            self.redis.delete(keys.apikey_key(old_hash))

    def open_session(self, slug: str, session_id: str, ttl_seconds: int) -> None:
        self.redis.set(keys.staff_session_key(slug, session_id), "1", ex=ttl_seconds)

    def restaurant_for_session(self, slug: str, session_id: str,
                               ttl_seconds: int) -> tuple[tuple[Restaurant, str] | None, bool]:
        """The restaurant and its key hash, and whether the staff session is still open (its lifetime
        starts over, as the cookie's does at each request): one round trip, one slot."""
        pipe = self.redis.pipeline(transaction=False)
        pipe.hgetall(keys.restaurant_key(slug))
        pipe.expire(keys.staff_session_key(slug, session_id), ttl_seconds)
        fields, still_open = pipe.execute()
        return codec.restaurant_from_hash(slug, fields), bool(still_open)

    def close_session(self, slug: str, session_id: str) -> None:
        self.redis.delete(keys.staff_session_key(slug, session_id))

    def slug_for_api_key(self, key_hash: str) -> str | None:
        return self.redis.get(keys.apikey_key(key_hash))

    def slug_for_sms_from(self, e164: str) -> str | None:
        return self.redis.get(keys.sms_from_key(e164))

    def all_slugs(self) -> list[str]:
        return sorted(self.redis.smembers(keys.restaurants_key()))

    def line_counts(self, slugs: list[str]) -> dict[str, int]:
        """Parties waiting, notified and pending across restaurants (one pipelined round trip)."""
        pipe = self.redis.pipeline(transaction=False)
        for slug in slugs:
            pipe.zcard(keys.waiting_key(slug))
            pipe.zcard(keys.notified_key(slug))
            pipe.zcard(keys.pending_key(slug))
        values = pipe.execute() if slugs else []
        return {status: sum(values[i::3]) for i, status in enumerate(("waiting", "notified", "pending"))}

    def claim_code(self, code: str, slug: str) -> bool:
        """Reserve a guest-link code for a restaurant; False when another restaurant has it."""
        return bool(self.redis.set(keys.code_key(code), slug, nx=True))

    def set_code(self, slug: str, code: str) -> str:
        """Give a restaurant created before codes existed its (claimed) code, unless another process
        just gave it one; returns the code it has."""
        if self.redis.hsetnx(keys.restaurant_key(slug), "code", code):
            return code
        self.release_code(code, slug)
        return str(self.redis.hget(keys.restaurant_key(slug), "code"))

    # --- the list's changes ---

    def join(self, slug: str, party: Party, *, now: float, actor: str, almost_ready_position: int,
             pending_until: float | None = None, remote_max_active: int = 0,
             text: OutboundText | None = None, text_position: int = 0, digest: str = "", day: str = "",
             daily_cap: int = 0, code: JoinCodeClaim | None = None) -> Joined:
        """Put a party on the list. Raises AlreadyWaiting (its phone is on the list), RemoteFull,
        DailyCapReached (a remote join past ``daily_cap`` joins of the number ``digest`` on ``day``: only
        joins made count) or PartyIdTaken; with a join ``code``, JoinCodeUnknown, JoinCodeExpired or
        JoinCodeUsed, and the code is marked used by the same script.

        ``text`` (the joined text, whose body names the place in line) is recorded by the same script
        when the party lands at ``text_position``, which is nearly always: the caller reads the
        snapshot just before. Otherwise it is not recorded and the caller renders it again for the real place.
        """
        script_keys = [keys.line_key(slug), keys.sizes_key(slug), keys.party_key(slug, party.id),
                       keys.waiting_key(slug), keys.phones_key(slug), keys.events_key(slug), keys.seq_key(slug),
                       keys.pending_key(slug), keys.remote_key(slug), keys.token_key(slug, party.token),
                       keys.joins_key(slug, digest or "-", day or "-")]
        join: dict[str, Any] = {
            "id": party.id, "phone": party.phone, "digest": digest, "now": repr(now), "actor": actor,
            "status": "pending" if pending_until is not None else "waiting", "pending_until": repr(pending_until or 0),
            "remote": "1" if party.remote else "", "remote_max_active": remote_max_active,
            "almost_ready_position": almost_ready_position, "token_ttl": TOKEN_TTL_SECONDS,
            "daily_cap": daily_cap if digest and day else 0, "joins_ttl": JOIN_COUNT_TTL_SECONDS,
            "text_position": text_position, "party": codec.new_party_fields(party),
        }
        if code is not None:
            script_keys += claim_keys(slug, code)
            join["code"] = {"code": code.code, "ticket": code.ticket, "keep": code.keep_seconds}
        if text is not None:
            text_keys, join["text"] = record_text_args(slug, text)
            script_keys += text_keys
        result = checked(self._run("join", script_keys, [_json(join)]), party.id)
        recorded = RecordedText(opted_out=bool(result[3]), first_contact=bool(result[4])) if result[2] else None
        return Joined(position=int(result[1]), text=recorded)

    def transition(self, slug: str, party_id: str, target: Status, *, allowed: Iterable[Status] | None = None,
                   now: float, actor: str, almost_ready_position: int, hold_until: float | None = None,
                   hold_version: str | None = None, tables: Sequence[str] = (),
                   clearing: bool = False) -> TransitionResult:
        """Move a party to ``target`` from one of ``allowed`` (by default, every status the domain
        allows it from), doing what the domain says that move does (EFFECTS). Raises PartyNotFound,
        InvalidTransition, or StaleHold when ``hold_version`` is not the party's any more.

        Its named tables move with it (lua/includes/tables.lua): a notify with ``tables`` holds them, a
        seat occupies them (without, the tables it holds), leaving the list frees them, completing leaves
        them cleared (``clearing``) or free. Raises the table errors of ``tables.checked``."""
        sources = allowed_from(target) if allowed is None else allowed
        reply = self._run("transition", [
            keys.line_key(slug), keys.sizes_key(slug), keys.party_key(slug, party_id), keys.waiting_key(slug),
            keys.notified_key(slug), keys.phones_key(slug), keys.finished_key(slug), keys.events_key(slug),
            keys.party_prefix(slug), keys.recent_key(slug, "seatings"), keys.recent_key(slug, "turns"),
            keys.recent_key(slug, "drops"), keys.pending_key(slug), keys.remote_key(slug), keys.seq_key(slug),
            keys.history_key(slug), keys.restaurant_key(slug), keys.table_states_key(slug),
        ], [_json({
            "id": party_id, "target": target.value, "effect": EFFECTS[target].value,
            "allowed": [s.value for s in sources], "now": repr(now), "actor": actor,
            "almost_ready_position": almost_ready_position,
            "hold_until": repr(hold_until) if hold_until is not None else "", "hold_version": hold_version or "",
            "ttl": 0 if target in ACTIVE else FINISHED_PARTY_TTL_SECONDS,
            "finished_since": repr(now - FINISHED_KEEP_SECONDS), "recent_max": RECENT_MAXLEN,
            "tables": list(tables), "clearing": clearing,
        })])
        result = tables_checked(reply, party_id)
        return TransitionResult(previous=Status(result[1]), promoted=list(result[2:]))

    def move(self, slug: str, party_id: str, position: int, *, now: float, actor: str,
             almost_ready_position: int) -> Moved:
        """Move a waiting party to ``position`` (clamped). Raises PartyNotFound or InvalidTransition."""
        reply = self._run("move", [
            keys.line_key(slug), keys.sizes_key(slug), keys.waiting_key(slug), keys.party_prefix(slug),
            keys.events_key(slug), keys.party_key(slug, party_id),
        ], [_json({"id": party_id, "position": position, "now": repr(now), "actor": actor,
                   "almost_ready_position": almost_ready_position})])
        result = checked(reply, party_id)
        return Moved(previous=int(result[1]), position=int(result[2]), promoted=list(result[3:]))

    def update_party(self, slug: str, party_id: str, fields: dict[str, str], *, now: float, actor: str,
                     allowed: Iterable[Status] = (), event: str = "update") -> Status | None:
        """Set fields ('' deletes one) of a party in one of ``allowed`` (any status when empty);
        returns its status, or None when there is no such party (a flag for a party gone is nothing to
        do). Raises InvalidTransition when the party is in another status."""
        reply = self._run("update", [
            keys.line_key(slug), keys.sizes_key(slug), keys.party_key(slug, party_id), keys.events_key(slug),
        ], [_json({"id": party_id, "now": repr(now), "actor": actor, "allowed": [s.value for s in allowed],
                   "event": event, "fields": list(fields.items())})])
        if reply[0] == "not_found":
            return None
        return Status(checked(reply, party_id)[1])

    def extend_hold(self, slug: str, party_id: str, seconds: float, *, now: float, actor: str,
                    most_seconds: float) -> HoldExtended:
        """Flag the party running late; a notified party's hold grows by ``seconds``, ``most_seconds``
        in all. Raises PartyNotFound, or InvalidTransition when it is not in line (MAY_RUN_LATE)."""
        reply = self._run("extend_hold", [keys.party_key(slug, party_id), keys.events_key(slug)], [_json({
            "seconds": seconds, "now": repr(now), "actor": actor, "most_seconds": most_seconds,
            "statuses": sorted(s.value for s in MAY_RUN_LATE),
        })])
        result = checked(reply, party_id)
        return HoldExtended(status=Status(result[1]), hold_until=float(result[2]) if result[2] else None,
                            hold_version=result[3] or None)

    def undo(self, slug: str, party_id: str, *, now: float, window_seconds: float, actor: str) -> Undone:
        """Take back the host's last move of a party: put a party that left the list back where it was,
        or a notified one back to waiting (UNDO_NOTIFY). Raises PartyNotFound, InvalidTransition,
        UndoTooLate (also once the guest answered a notify) or PhoneTaken."""
        reply = self._run("undo", [
            keys.line_key(slug), keys.sizes_key(slug), keys.party_key(slug, party_id), keys.waiting_key(slug),
            keys.notified_key(slug), keys.phones_key(slug), keys.finished_key(slug), keys.events_key(slug),
            keys.conversation_key(slug, party_id), keys.message_prefix(slug), keys.restaurant_key(slug),
            keys.table_states_key(slug),
        ], [_json({"id": party_id, "now": repr(now), "window": window_seconds, "actor": actor,
                   "from": sorted(s.value for s in UNDOABLE), "to": sorted(s.value for s in UNDO_RESTORES),
                   "notify_from": UNDO_NOTIFY[0].value, "notify_to": UNDO_NOTIFY[1].value})])
        result = checked(reply, party_id)
        return Undone(previous=Status(result[2]), restored=Status(result[1]))

    # --- reading parties ---

    def load_party(self, slug: str, party_id: str) -> Party | None:
        pipe = self.redis.pipeline(transaction=True)
        pipe.hgetall(keys.party_key(slug, party_id))
        pipe.zrank(keys.waiting_key(slug), party_id)
        data, rank = pipe.execute()
        if not data or "status" not in data:
            return None
        return codec.party_from_hash(slug, party_id, data, rank + 1 if rank is not None else None)

    def note_text_outcome(self, slug: str, party_id: str, *, created_at: str, failed: bool, now: float,
                          actor: str) -> bool:
        """Raise the party's sms_failed flag for a failed text, or clear it for a text that reached the
        carrier, atomically and only towards the newest text (lua/text_outcome.lua); True when it
        changed."""
        return bool(self._run("text_outcome", [keys.party_key(slug, party_id), keys.events_key(slug)], [_json({
            "id": party_id, "created_at": created_at or "", "failed": failed, "now": repr(now), "actor": actor,
        })]))

    def party_field(self, slug: str, party_id: str, field: str) -> str | None:
        return self.redis.hget(keys.party_key(slug, party_id), field)

    def active_parties(self, slug: str, section: str = "active") -> list[Party]:
        """Waiting in queue order, then notified, then pending (or only ``section``: waiting, notified or
        pending); read in bounded slices (listing.py)."""
        return listing.read_all(self._run, slug, section)

    def finished_parties(self, slug: str, since: float) -> list[Party]:
        return listing.read_all(self._run, slug, "finished", since)

    def rows(self, slug: str, party_ids: list[str], finished_since: float) -> listing.Rows:
        """Some parties, where each stands, and the list's counts: what a live tablet patches."""
        return listing.read_rows(self.redis, slug, party_ids, finished_since)

    def parties_page(self, slug: str, kind: str, after: listing.Cursor | None, count: int,
                     since: float | None = None, keep: Callable[[Party], bool] = lambda party: True) -> listing.Page:
        """Up to ``count`` parties of a ``kind`` list (listing.SECTIONS) after the cursor ``after``."""
        return listing.read_page(self._run, slug, kind, after, count, since, keep)

    def active_party_for_phone(self, slug: str, phone: str) -> str | None:
        return self.redis.hget(keys.phones_key(slug), phone)

    def snapshot(self, slug: str) -> Snapshot:
        reply = self._run("snapshot", snapshot_keys(slug))
        return codec.snapshot_from_reply(listing.whole_snapshot_reply(self.redis, self._run, slug, reply))

    def restaurant_and_snapshot(self, slug: str, api_key_hash: str) -> tuple[tuple[Restaurant, str] | None,
                                                                          Snapshot | None]:
        """``load_restaurant`` and, when ``api_key_hash`` is the restaurant's, ``snapshot``, in one round
        trip (a host adding a party needs both)."""
        return self._restaurant_and_snapshot(slug, {"key_hash": api_key_hash})

    def restaurant_and_public_snapshot(self, slug: str) -> tuple[tuple[Restaurant, str] | None, Snapshot]:
        """``load_restaurant`` and ``snapshot`` in one round trip, no key checked: for a public figure
        (the public estimate needs the restaurant to check the request and the snapshot to answer it)."""
        found, snapshot = self._restaurant_and_snapshot(slug, {"public": True})
        assert snapshot is not None, "a public read always reads the snapshot"
        return found, snapshot

    def _restaurant_and_snapshot(self, slug: str, check: dict[str, Any]) -> tuple[tuple[Restaurant, str] | None,
                                                                                Snapshot | None]:
        fields, snapshot = self._run("restaurant_and_snapshot", snapshot_keys(slug), [_json(check)])
        found = codec.restaurant_from_hash(slug, dict(zip(fields[0::2], fields[1::2])))
        if not snapshot:
            return found, None
        return found, codec.snapshot_from_reply(listing.whole_snapshot_reply(self.redis, self._run, slug, snapshot))

    # --- guests: links, feedback, daily caps ---

    def await_feedback(self, slug: str, digest: str, party_id: str, ttl_seconds: int) -> None:
        """Remember, for a day, that this number's next digit answers a feedback request."""
        self.redis.set(keys.await_feedback_key(slug, digest), party_id, ex=ttl_seconds)

    def feedback_party(self, slug: str, digest: str) -> str | None:
        return self.redis.get(keys.await_feedback_key(slug, digest))

    def record_feedback(self, slug: str, party_id: str, *, now: float, rating: int | None = None,
                        comment: str | None = None) -> None:
        """Store a rating or a follow-up comment on the visit and append a feedback event."""
        fields = {"rated_at": repr(now), "rating": str(rating)} if rating is not None else {"comment": comment or ""}
        event = {"type": "feedback", "party": party_id, "at": repr(now)}
        event.update({"rating": str(rating)} if rating is not None else {"comment": (comment or "")[:500]})
        pipe = self.redis.pipeline(transaction=True)
        pipe.hset(keys.party_key(slug, party_id), mapping=fields)
        pipe.xadd(keys.events_key(slug), event, maxlen=EVENTS_MAXLEN, approximate=True)
        pipe.execute()

    def resolve_token(self, token: str) -> tuple[str, str] | None:
        """The restaurant and party behind a guest link: its first characters name the restaurant.

        A code found with a link is cached for the process: that restaurant holds it for good. (A code
        merely claimed may still be released, by a create that lost its slug, and claimed again.)"""
        code = token[:CODE_LENGTH]
        slug = self._slugs_by_code.get(code) or self.redis.get(keys.code_key(code))
        party_id = self.redis.get(keys.token_key(slug, token)) if slug else None
        if slug and party_id:
            if len(self._slugs_by_code) < 100_000:
                self._slugs_by_code[code] = slug
            return slug, party_id
        value = self.redis.get(keys.legacy_token_key(token))
        if not value or "/" not in value:
            return None
        legacy_slug, party_id = value.split("/", 1)
        return legacy_slug, party_id

    def events(self, slug: str, after: str = "-", count: int = 100) -> list[tuple[str, dict[str, str]]]:
        start = "-" if after in ("-", "") else f"({after}"
        return [(eid, fields) for eid, fields in self.redis.xrange(keys.events_key(slug), start, "+", count=count)]

    def ping(self) -> bool:
        return bool(self.redis.ping())
