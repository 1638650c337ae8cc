"""Walk-in quotes count the tables that bookings still to arrive will take (issue 23): the snapshot reads
the next two hours' bookings in its one round trip, and the estimator puts those due before a walk-in
would be seated ahead of it."""
from __future__ import annotations

import time

import fakeredis

from tests.conftest import make_config
from tests.fakes import RecordingDispatcher
from waitlist.estimate.estimator import BOOKING_HELD_MINUTES, estimate_wait
from waitlist.estimate.snapshot import Snapshot
from waitlist.services.reservations import Reservations
from waitlist.services.waitlist import Waitlist
from waitlist.store import MessageStore, Store
from waitlist.store.reservations import ReservationStore

NOW = 1_800_000_000.0
TWOS = {"2": 2}


def test_bookings_due_soon_take_the_tables_a_walk_in_would_get() -> None:
    alone = estimate_wait(Snapshot(), 2, tables=TWOS, now=NOW)
    booked = estimate_wait(Snapshot(reservations=((NOW + 600, 2), (NOW + 600, 2))), 2, tables=TWOS, now=NOW)
    assert alone.minutes == 0 and booked.minutes >= 30 and booked.parties_ahead == 2


def test_bookings_due_after_the_walk_in_is_seated_change_nothing() -> None:
    line = Snapshot(waiting_sizes=[2])
    later = Snapshot(waiting_sizes=[2], reservations=((NOW + 6000, 2), (NOW + 6000, 2)))
    assert estimate_wait(later, 2, tables=TWOS, now=NOW) == estimate_wait(line, 2, tables=TWOS, now=NOW)


def test_the_snapshot_reads_bookings_still_to_arrive_and_not_those_arrived_or_cancelled() -> None:
    redis = fakeredis.FakeRedis(decode_responses=True)
    waitlist = Waitlist(Store(redis), MessageStore(redis), RecordingDispatcher(), make_config(), clock=time.time)
    waitlist.create_restaurant("due-bar", "Due Bar", "+14155550114")
    restaurant = waitlist.restaurant("due-bar")
    reservations = Reservations(waitlist, ReservationStore(redis))
    # The whole day: noon to midnight is a span past midnight (a span ending at 23:55 has no 23:55 slot,
    # and this test failed whenever it ran between 23:25 and 23:30 UTC).
    every_day = {day: [["00:00", "12:00"], ["12:00", "00:00"]]
                 for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}
    reservations.update_rules(restaurant, {"hours": every_day, "slot_minutes": 5})
    start = (int(time.time() // 300) + 6) * 300  # a slot 25-30 minutes ahead (UTC)
    when = time.strftime("%Y-%m-%dT%H:%M", time.gmtime(start))
    kept = reservations.book(restaurant, name="Ana", phone="+14155553201", party_size=4, time=when)
    gone = reservations.book(restaurant, name="Bo", phone="+14155553202", party_size=2, time=when)
    moved = reservations.book(restaurant, name="Cy", phone="+14155553203", party_size=3, time=when)
    reservations.cancel(restaurant, gone["id"])
    reservations.change(restaurant, moved["id"], party_size=5)
    assert sorted(waitlist.store.snapshot("due-bar").reservations) == [(float(start), 4), (float(start), 5)]
    reservations.check_in(restaurant, kept["id"])
    assert waitlist.store.snapshot("due-bar").reservations == ((float(start), 5),)


def test_a_booking_due_after_the_quote_and_its_held_minutes_stays_behind_the_walk_in() -> None:
    """The top of the walk-in's range is far past its quote: a booking due in between used to be put
    ahead of it (over-quoting a busy booked evening by the booking's whole meal)."""
    line = Snapshot(waiting_sizes=[2, 2, 2])
    alone = estimate_wait(line, 2, tables=TWOS, now=NOW)
    after = NOW + (alone.minutes + BOOKING_HELD_MINUTES + 5) * 60
    assert alone.high * 60 > after - NOW  # due before the top of the range, after the quote and its hold
    assert estimate_wait(Snapshot(waiting_sizes=[2, 2, 2], reservations=((after, 2),)), 2, tables=TWOS,
                         now=NOW) == alone
    before = NOW + (alone.minutes + BOOKING_HELD_MINUTES - 5) * 60
    assert estimate_wait(Snapshot(waiting_sizes=[2, 2, 2], reservations=((before, 2),)), 2, tables=TWOS,
                         now=NOW).minutes > alone.minutes


def test_a_booking_brought_in_by_another_one_ahead_counts_too() -> None:
    """One table: the booking due in 10 minutes takes it, which puts the walk-in past the next booking's
    time, so that one sits down first as well."""
    soon = estimate_wait(Snapshot(reservations=((NOW + 600, 2),)), 2, tables={"2": 1}, now=NOW)
    assert soon.parties_ahead == 1
    next_one = NOW + (soon.minutes + BOOKING_HELD_MINUTES - 5) * 60  # beyond 15 minutes, within the new quote
    both = estimate_wait(Snapshot(reservations=((NOW + 600, 2), (next_one, 2))), 2, tables={"2": 1}, now=NOW)
    assert next_one > NOW + BOOKING_HELD_MINUTES * 60
    assert both.parties_ahead == 2 and both.minutes > soon.minutes
