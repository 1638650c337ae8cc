"""Real threads on the real Redis booking one restaurant's last places: the caps hold however the
bookings interleave (the booking script's version guard), and a timer that runs twice texts once."""
from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest

from tests.conftest import make_config
from tests.fakes import RecordingDispatcher
from tests.integration.races import run_threads
from waitlist.domain.reservations import SlotFull
from waitlist.services.reservations import Reservations
from waitlist.services.waitlist import Waitlist
from waitlist.store import MessageStore, Store, keys
from waitlist.store.reservations import ReservationStore

pytestmark = pytest.mark.integration
SLUG = "booking-race"
THREADS = 16
EVERY_DAY = {day: [["00:00", "23:45"]] for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}


@pytest.fixture
def service(real_redis: Any) -> Reservations:
    waitlist = Waitlist(Store(real_redis), MessageStore(real_redis), RecordingDispatcher(), make_config())
    waitlist.create_restaurant(SLUG, "Booking Race", "+14155550113")
    reservations = Reservations(waitlist, ReservationStore(real_redis))
    reservations.update_rules(waitlist.restaurant(SLUG), {"enabled": True, "hours": EVERY_DAY})
    return reservations


def tomorrow_at(hhmm: str) -> str:
    day = datetime.fromtimestamp(datetime.now(UTC).timestamp() + 86400, tz=UTC).date()
    return f"{day.isoformat()}T{hhmm}"


def book(service: Reservations, n: int, size: int, when: str) -> dict[str, Any]:
    return service.book(service.waitlist.restaurant(SLUG), name=f"Guest {n}", phone=f"+1415555{3100 + n:04d}",
                        party_size=size, time=when)


def test_guests_racing_for_the_last_table_one_wins(service: Reservations) -> None:
    restaurant = service.waitlist.restaurant(SLUG)
    service.waitlist.set_tables(restaurant, [{"name": "1", "seats": 4}, {"name": "2", "seats": 4}])
    when = tomorrow_at("19:30")
    book(service, 0, 4, when)  # one of the two tables is held already
    won: list[int] = []

    def work(i: int) -> None:
        try:
            book(service, i + 1, 2, when)
            won.append(i)
        except SlotFull:
            pass

    errors = run_threads(THREADS, work)
    assert errors == []
    assert len(won) == 1
    listed = service.day(restaurant, datetime.fromisoformat(when).date())
    assert len([r for r in listed if r["status"] == "booked"]) == 2


def test_racing_bookings_never_pass_the_covers_cap(service: Reservations) -> None:
    restaurant = service.waitlist.restaurant(SLUG)
    service.update_rules(restaurant, {"covers_per_slot": 10})
    when = tomorrow_at("20:00")
    sizes = [1, 2, 3, 4] * (THREADS // 4)
    won: list[int] = []

    def work(i: int) -> None:
        try:
            book(service, 100 + i, sizes[i], when)
            won.append(sizes[i])
        except SlotFull:
            pass

    assert run_threads(THREADS, work) == []
    assert 7 <= sum(won) <= 10  # full to within the smallest refused party, never over
    booked = service.day(restaurant, datetime.fromisoformat(when).date())
    assert sum(r["party_size"] for r in booked) == sum(won)


def test_a_reminder_fired_by_many_workers_at_once_texts_once(service: Reservations, real_redis: Any) -> None:
    restaurant = service.waitlist.restaurant(SLUG)
    booking = book(service, 200, 2, tomorrow_at("12:00"))
    version = real_redis.hget(keys.reservation_key(SLUG, booking["id"]), "timer_version")
    outcomes: list[str] = []
    errors = run_threads(8, lambda _i: outcomes.append(service.fire_timer(SLUG, booking["id"], "reminder", version)))
    assert errors == [] and sorted(outcomes) == ["done"] * 7 + ["ok"]
    kinds = [real_redis.hget(key, "kind") for key in real_redis.scan_iter(keys.message_key(SLUG, "*"))]
    assert sorted(kinds) == ["reservation_booked", "reservation_reminder"]
    service.change(restaurant, booking["id"], time=tomorrow_at("12:15"))
    assert service.fire_timer(SLUG, booking["id"], "reminder", version) == "stale"  # scheduled before the change
