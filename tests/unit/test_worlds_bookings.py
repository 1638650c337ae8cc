"""The evaluation's booked world (bench.worlds ``reservations``) and its replay (bench.booked_replay)."""
from __future__ import annotations

from bench.booked_replay import replay_booked
from bench.simulate import RESTAURANTS
from bench.worlds import BOOKED_GRACE_MINUTES, WORLDS, simulate_booked_world
from waitlist.services.backtest import Event, replay


def test_booked_parties_come_near_their_time_and_never_give_up() -> None:
    (events, bookings), = simulate_booked_world(RESTAURANTS["dinner"], WORLDS["reservations"], 1, 3)
    assert len(bookings) > 10
    starts = {pid: start for pid, start, _size in bookings}
    joins = {p: t for t, e, p, _s in events if e == "join" and p in starts}
    assert 0 < len(joins) < len(bookings) + 1
    for pid, t in joins.items():
        assert starts[pid] - 20 * 60 <= t < starts[pid] + BOOKED_GRACE_MINUTES * 60
    assert not [p for _t, e, p, _s in events if e in ("cancel", "no_show") and p in starts]


def test_a_walk_in_is_not_quoted_the_table_held_for_a_booking_due() -> None:
    """One free 2-top, a booking for 2 due in 5 minutes: the walk-in may not have it. The plain replay,
    which knows no bookings, quotes 0; the booked replay must see the booking (in the snapshot, by the
    replay's clock) and quote a wait."""
    events = [Event(3600.0, "join", "w1", 2)]
    bookings = [("b1", 3600.0 + 300, 2)]
    tables = {"2": 1}
    assert replay(events, tables)[0].quote_minutes == 0
    (quote,) = replay_booked(events, bookings, tables)
    assert quote.party == "w1" and quote.quote_minutes > 0
