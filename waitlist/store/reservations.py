"""Reservations in Redis: one hash each, the pacing index, a day's list, the manage links, the rules, and
the three scripts that change them (reserve, reservation_status, reservation_timer).

Booking is optimistic: the service reads the restaurant's bookings and version (``pacing``), decides in
plain Python (waitlist.domain.reservations), and ``reserve.lua`` writes only if the version is still the
one read. Of two guests booking the last slot at once, one writes; the other gets ``VersionChanged``,
reads again and is refused by the rules. The version is per restaurant, so only its own bookings race.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import orjson
from redis import Redis

from waitlist.domain.errors import InvalidTransition, PartyIdTaken
from waitlist.domain.reservations import Booked, ReservationNotFound
from waitlist.store import keys, scripts
from waitlist.store.messages import OutboundText, record_text_args
from waitlist.store.scripts import Scripts

KEEP_SECONDS = 7 * 24 * 3600
"""A reservation (and its manage link) is kept a week after its time, for the host's and owner's views."""


class NotABookingCode(Exception):
    """The code texted is the join page's: the waitlist's join takes it."""


class VersionChanged(Exception):
    """Another booking changed the restaurant's reservations since the caller's read: read and decide again."""


@dataclass(frozen=True)
class Pacing:
    version: str
    booked: list[Booked]


def member(reservation_id: str, size: int, end: float) -> str:
    return f"{reservation_id}|{size}|{end!r}"


def _booked(raw: str, score: float) -> Booked:
    reservation_id, size, end = raw.split("|")
    return Booked(id=reservation_id, start=score, end=float(end), size=int(size))


class ReservationStore:
    def __init__(self, redis: Redis):
        self.redis: Any = redis
        self._run = Scripts(redis)

    # --- reads --------------------------------------------------------------------------------------

    def rules(self, slug: str) -> dict[str, Any] | None:
        raw = self.redis.get(keys.reservation_rules_key(slug))
        return orjson.loads(raw) if raw else None

    def save_rules(self, slug: str, rules: Mapping[str, Any]) -> None:
        self.redis.set(keys.reservation_rules_key(slug), orjson.dumps(dict(rules)))

    def pacing(self, slug: str, start: float, end: float) -> Pacing:
        """The version and every booking holding a table that starts before ``end`` and may still be
        held after ``start`` (holds are under 8 hours), in one round trip."""
        pipe = self.redis.pipeline(transaction=False)
        pipe.get(keys.reservations_version_key(slug))
        pipe.zrangebyscore(keys.reservations_active_key(slug), start - 8 * 3600, f"({end!r}", withscores=True)
        version, rows = pipe.execute()
        booked = [b for b in (_booked(raw, score) for raw, score in rows) if b.end > start]
        return Pacing(version=version or "", booked=booked)

    def load(self, slug: str, reservation_id: str) -> dict[str, str] | None:
        data = self.redis.hgetall(keys.reservation_key(slug, reservation_id))
        return data or None

    def by_token(self, slug: str, token: str) -> str | None:
        return self.redis.get(keys.reservation_token_key(slug, token))

    def slug_for_code(self, code: str) -> str | None:
        return self.redis.get(keys.code_key(code))

    def between(self, slug: str, start: float, end: float) -> list[dict[str, str]]:
        """Every reservation starting in [start, end), in time order (two round trips)."""
        ids = self.redis.zrangebyscore(keys.reservations_by_time_key(slug), start, f"({end!r}")
        if not ids:
            return []
        pipe = self.redis.pipeline(transaction=False)
        for reservation_id in ids:
            pipe.hgetall(keys.reservation_key(slug, reservation_id))
        return [row for row in pipe.execute() if row]

    def upcoming(self, slug: str, start: float, end: float) -> list[tuple[float, int]]:
        """(start, size) of reservations still to arrive that start in [start, end): the estimator's view."""
        rows = self.redis.zrangebyscore(keys.reservations_active_key(slug), start, f"({end!r}", withscores=True)
        return [(score, int(raw.split("|")[1])) for raw, score in rows]

    # --- changes ------------------------------------------------------------------------------------

    def write(self, slug: str, reservation_id: str, *, version: str, create: bool, fields: Mapping[str, str],
              start: float, end: float, size: int, token: str, now: float, changeable: Sequence[str],
              force: bool, phone_digest: str) -> str:
        """Book (``create``) or change a reservation; returns its new timer version. Raises
        VersionChanged (read again), ReservationNotFound, InvalidTransition or PartyIdTaken."""
        reply = self._run("reserve", [
            keys.reservations_version_key(slug), keys.reservation_key(slug, reservation_id),
            keys.reservations_active_key(slug), keys.reservations_by_time_key(slug),
            keys.reservation_token_key(slug, token), keys.events_key(slug),
            keys.reservations_by_phone_key(slug, phone_digest), keys.reservations_due_key(slug),
        ], [orjson.dumps({"version": version, "create": create, "id": reservation_id, "fields": dict(fields),
                          "start": start, "member": member(reservation_id, size, end), "token": token,
                          "keep": KEEP_SECONDS, "now": repr(now), "changeable": list(changeable),
                          "force": force})])
        return self._checked(reply, reservation_id)[1]

    def set_status(self, slug: str, reservation_id: str, status: str, *, sources: Sequence[str], holds: bool,
                   now: float, actor: str, fields: Mapping[str, str] | None = None) -> tuple[str, str]:
        """Move a reservation to ``status``; returns (previous status, timer version)."""
        reply = self._run("reservation_status", [
            keys.reservations_version_key(slug), keys.reservation_key(slug, reservation_id),
            keys.reservations_active_key(slug), keys.events_key(slug), keys.reservations_due_key(slug),
        ], [orjson.dumps({"status": status, "sources": list(sources), "holds": holds, "now": repr(now),
                          "actor": actor, "fields": dict(fields or {}) or {"actor": actor}})])
        checked = self._checked(reply, reservation_id)
        return checked[1], checked[2]

    def for_phone(self, slug: str, phone_digest: str, since: float) -> list[str]:
        """Ids of the number's reservations starting from ``since``, soonest first."""
        return list(self.redis.zrangebyscore(keys.reservations_by_phone_key(slug, phone_digest), since, "+inf"))

    def claim_code(self, slug: str, code: str, address: str, *, now: float, digest: str, keep: int) -> None:
        """Take a booking code for the number with ``digest``. Raises NotABookingCode, JoinCodeUnknown,
        JoinCodeUsed (with the digest of the number that used it) or JoinCodeExpired."""
        reply = self._run("claim_booking_code", [
            keys.join_code_key(slug, code), keys.join_codes_key(slug), keys.join_codes_by_address_key(slug, address),
        ], [orjson.dumps({"code": code, "now": repr(now), "digest": digest, "keep": keep})])
        if reply[0] == "not_booking":
            raise NotABookingCode(code)
        scripts.checked(reply, "")

    def set_code_token(self, slug: str, code: str, token: str) -> None:
        """The booking page, polling its code, then opens the booking's manage page."""
        self.redis.hset(keys.join_code_key(slug, code), "token", token)

    def set_party(self, slug: str, reservation_id: str, party_id: str) -> None:
        """The party a checked-in reservation became (one field of one hash: atomic by itself)."""
        self.redis.hset(keys.reservation_key(slug, reservation_id), "party", party_id)

    def fire_timer(self, slug: str, reservation_id: str, *, kind: str, version: str, statuses: Sequence[str],
                   now: float, text: OutboundText) -> str:
        """Latch a timer and record its text at once: 'ok', 'stale' (the booking changed or left the
        states the timer is for), 'done' (it fired already) or 'not_found'."""
        text_keys, text_args = record_text_args(slug, text)
        reply = self._run("reservation_timer", [keys.reservation_key(slug, reservation_id), *text_keys],
                          [orjson.dumps({"kind": kind, "version": version, "statuses": list(statuses),
                                         "now": repr(now), "text": text_args})])
        return str(reply[0])

    @staticmethod
    def _checked(reply: Sequence[Any], reservation_id: str) -> Sequence[Any]:
        outcome = reply[0]
        if outcome == "ok":
            return reply
        if outcome == "stale":
            raise VersionChanged()
        if outcome == "not_found":
            raise ReservationNotFound(f"no reservation {reservation_id!r}")
        if outcome == "id_taken":
            raise PartyIdTaken("could not book, please try again")
        raise InvalidTransition(f"not possible while the reservation is {reply[1]}", current_status=reply[1])
