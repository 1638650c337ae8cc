"""``waitlist.services.backtest.replay`` for a world with bookings (``bench.worlds``' ``booked`` switch).

The live service learns of a booking when it is made, long before the guests come, and of their arrival
or no-show only when it happens. So the replay books every reservation through the live reservation
store (same Lua script as the booking endpoints) ``BOOKED_AHEAD_HOURS`` before its time, checks the
guests in through ``Reservations.check_in`` at their ``join`` event (head of the line, as hosts do),
and marks a booking no-show when its grace period ends without them. Walk-ins are joined exactly as the
plain replay does, so each walk-in's quote sees the bookings due in the next two hours
(``Snapshot.reservations``) and nothing of what the evening will bring.

The snapshot script picks the bookings due by Redis's own clock (``TIME``), which fakeredis reads from
the wall clock; the replay's Redis is given the replay's clock instead (``_ReplayTime``), or no booking
would ever be due in a replayed evening.
"""
from __future__ import annotations

import sys
from collections.abc import Sequence

import fakeredis.commands_mixins.server_mixin as fake_server

from bench.worlds import BOOKED_GRACE_MINUTES, Booking
from waitlist.domain.errors import WaitlistError
from waitlist.domain.reservations import CHANGEABLE
from waitlist.services.backtest import (
    EPOCH,
    SLUG,
    Event,
    Quote,
    _Clock,
    parse_joins,
    replay_event,
    replay_service,
)
from waitlist.services.reservations import Reservations
from waitlist.services.waitlist import Waitlist
from waitlist.store.reservations import ReservationStore

BOOKED_AHEAD_HOURS = 3.0
"""Every booking is in the store this long before its time (the earliest: before the doors open)."""


class _ReplayTime:
    """Stands in for the ``time`` module in fakeredis's TIME command while a replay runs."""

    def __init__(self, clock: _Clock) -> None:
        self.clock = clock

    def time(self) -> float:
        return self.clock()


def replay_booked(events: Sequence[Event], bookings: Sequence[Booking], tables: dict[str, int] | None = None,
                  joins: str | None = None) -> list[Quote]:
    """The quote the live service would have given each walk-in, in join order (booked parties' own
    check-ins are not quotes and are left out)."""
    clock = _Clock()
    wall = fake_server.time
    fake_server.time = _ReplayTime(clock)  # type: ignore[assignment]
    try:
        return _replay(events, bookings, tables, clock, parse_joins(joins, tables))
    finally:
        fake_server.time = wall


def _replay(events: Sequence[Event], bookings: Sequence[Booking], tables: dict[str, int] | None,
            clock: _Clock, joins: list[str] | None) -> list[Quote]:
    waitlist, restaurant, redis = replay_service(tables, clock, joins)
    booking_store = ReservationStore(redis)
    reservations = Reservations(waitlist, booking_store, clock=clock)
    booked = {pid: (start, size) for pid, start, size in bookings}
    # (t, order, kind, payload): bookings are made ahead, grace ends after; same-second events keep order
    steps: list[tuple[float, int, str, object]] = [(e.t, 1, "event", e) for e in events]
    steps += [(start - BOOKED_AHEAD_HOURS * 3600, 0, "book", pid) for pid, (start, _size) in booked.items()]
    steps += [(start + BOOKED_GRACE_MINUTES * 60, 2, "grace", pid) for pid, (start, _size) in booked.items()]
    steps.sort(key=lambda s: (s[0], s[1]))
    ids: dict[str, str] = {}
    arrived: set[str] = set()
    quotes: list[Quote] = []
    for n, (t, _order, kind, payload) in enumerate(steps):
        clock.now = max(clock.now, EPOCH + t)
        try:
            if kind == "book":
                _book(booking_store, waitlist, str(payload), *booked[str(payload)], n)
            elif kind == "grace":
                if payload not in arrived:
                    reservations.no_show(restaurant, str(payload), actor="backtest")
            else:
                event = payload
                assert isinstance(event, Event)
                if event.event == "join" and event.party in booked:
                    arrived.add(event.party)
                    ids[event.party] = str(reservations.check_in(restaurant, event.party, actor="backtest")["party_id"])
                else:
                    quote = replay_event(waitlist, restaurant, event, n, ids)
                    if quote is not None:
                        quotes.append(quote)
        except WaitlistError as exc:
            print(f"t={t:g} {kind} {payload}: skipped ({exc.message})", file=sys.stderr)
    return quotes


def _book(store: ReservationStore, waitlist: Waitlist, pid: str, start: float, size: int, n: int) -> None:
    """One booking written by the reservation store's script, as a staff booking forced past the pacing
    caps would be (the simulated restaurant took it; the replay has no booking rules to check)."""
    at = EPOCH + start
    phone = f"+1415{8000000 + n % 1_000_000:07d}"
    fields = {"id": pid, "name": f"Booking {pid}"[:60], "phone": phone, "party_size": str(size),
              "status": "booked", "notes": "", "tags": "", "token": f"tok{pid}", "language": "", "source": "staff",
              "created_at": repr(waitlist.clock()), "forced": "1", "actor": "backtest",
              "start": repr(at), "end": repr(at + 90 * 60), "local": ""}
    store.write(SLUG, pid, version=store.pacing(SLUG, at, at + 1).version, create=True, fields=fields, start=at,
                end=at + 90 * 60, size=size, token=f"tok{pid}", now=waitlist.clock(),
                changeable=sorted(s.value for s in CHANGEABLE), force=True, phone_digest=waitlist.digest(phone))
