"""Real threads against the real Redis: hosts, guests and timers racing never corrupt a list."""
from __future__ import annotations

import random
import threading
from collections import Counter
from typing import Any

import pytest

from tests.conftest import make_config
from tests.fakes import RecordingDispatcher
from tests.integration.races import run_threads
from waitlist.domain.errors import WaitlistError
from waitlist.domain.model import Status
from waitlist.estimate.calibration import OVERDUE_HEAD
from waitlist.services.waitlist import Waitlist
from waitlist.store import MessageStore, Store, finished_key, line_key, notified_key, phones_key, sizes_key, waiting_key

pytestmark = pytest.mark.integration
SLUG = "race-house"


@pytest.fixture
def service(real_redis: Any) -> Waitlist:
    waitlist = Waitlist(Store(real_redis), MessageStore(real_redis), RecordingDispatcher(), make_config())
    waitlist.create_restaurant(SLUG, "Race House", "+14155550111")
    return waitlist


def check_invariants(redis: Any, service: Waitlist) -> dict[str, int]:
    """Each party in exactly one state, in exactly the structures that state implies."""
    waiting = redis.zrange(waiting_key(SLUG), 0, -1)
    notified = redis.zrange(notified_key(SLUG), 0, -1)
    finished = redis.zrange(finished_key(SLUG), 0, -1)
    phones = redis.hgetall(phones_key(SLUG))
    assert not set(waiting) & set(notified) and not set(waiting) & set(finished) and not set(notified) & set(finished)
    restaurant = service.restaurant(SLUG)
    listed = service.list_parties(restaurant)
    waiting_listed = [p for p in listed if p.status == Status.WAITING]
    assert [p.position for p in waiting_listed] == list(range(1, len(waiting) + 1))
    assert [p.id for p in waiting_listed] == waiting
    for party_id in waiting:
        assert redis.hget(f"wl:{{{SLUG}}}:party:{party_id}", "status") == "waiting"
    for party_id in notified:
        assert redis.hget(f"wl:{{{SLUG}}}:party:{party_id}", "status") == "notified"
    for party_id in finished:
        assert redis.hget(f"wl:{{{SLUG}}}:party:{party_id}", "status") in {"seated", "completed", "cancelled",
                                                                         "no_show"}
    active = set(waiting) | set(notified)
    assert set(phones.values()) == active
    assert len(phones) == len(active)
    for phone, party_id in phones.items():
        assert redis.hget(f"wl:{{{SLUG}}}:party:{party_id}", "phone") == phone
    sizes = redis.hgetall(sizes_key(SLUG))
    assert set(sizes) == active
    for party_id, size in sizes.items():
        assert redis.hget(f"wl:{{{SLUG}}}:party:{party_id}", "party_size") == size
    kept = service.store.snapshot(SLUG)  # the line key, as the race left it (see store.line_key)
    redis.delete(line_key(SLUG))
    fresh = service.store.snapshot(SLUG)
    assert (kept.waiting_sizes, kept.notified_sizes) == (fresh.waiting_sizes, fresh.notified_sizes)
    assert fresh.waiting_sizes == [int(sizes[party_id]) for party_id in waiting]
    # The head of the line the calibration reads: the first waiting parties, in line order, kept and fresh.
    head = [float(redis.hget(f"wl:{{{SLUG}}}:party:{pid}", "joined_at")) for pid in waiting[:OVERDUE_HEAD]]
    assert [entry[0] for entry in kept.head] == [entry[0] for entry in fresh.head] == head
    return Counter(redis.hget(f"wl:{{{SLUG}}}:party:{pid}", "status") for pid in active | set(finished))


def test_twenty_threads_racing_every_action_leave_a_valid_list(real_redis: Any, service: Waitlist) -> None:
    restaurant = service.restaurant(SLUG)
    actions = ["notify", "seat", "cancel", "no_show", "complete", "move", "leave", "timer", "late"]

    def work(index: int) -> None:
        rng = random.Random(index)
        for step in range(40):
            party_ids = real_redis.zrange(waiting_key(SLUG), 0, -1) + real_redis.zrange(notified_key(SLUG), 0, -1)
            if step % 3 == 0 or not party_ids:
                phone = f"+1415555{rng.randrange(0, 60):04d}"
                try:
                    service.join(restaurant, name=f"Guest {index}", phone=phone, party_size=rng.randint(1, 8))
                except WaitlistError:
                    pass
                continue
            party_id = rng.choice(party_ids)
            action = rng.choice(actions)
            try:
                if action == "move":
                    service.move(restaurant, party_id, rng.randint(1, 10))
                elif action == "leave":
                    token = real_redis.hget(f"wl:{{{SLUG}}}:party:{party_id}", "token")
                    service.guest_leave(token)
                elif action == "timer":
                    version = real_redis.hget(f"wl:{{{SLUG}}}:party:{party_id}", "hold_version") or "0"
                    service.expire_hold(SLUG, party_id, version)
                elif action == "late":
                    service.running_late(restaurant, party_id, 10)
                else:
                    getattr(service, action)(restaurant, party_id)
            except WaitlistError:
                pass  # another thread got there first: a refusal is a valid outcome

    errors = run_threads(20, work)
    assert errors == []
    counts = check_invariants(real_redis, service)
    assert sum(counts.values()) > 50


def test_two_hosts_seating_and_cancelling_one_party_end_in_one_state(real_redis: Any, service: Waitlist) -> None:
    restaurant = service.restaurant(SLUG)
    for round_ in range(20):
        party = service.join(restaurant, name="Ana", phone=f"+1415555{round_:04d}", party_size=2)
        outcomes: list[str] = []

        def work(index: int, party: Any = party, outcomes: list[str] = outcomes) -> None:
            action = ["seat", "cancel", "no_show", "notify"][index]
            try:
                getattr(service, action)(restaurant, party.id)
                outcomes.append(action)
            except WaitlistError:
                outcomes.append("refused")

        assert run_threads(4, work) == []
        final = service.party(restaurant, party.id).status
        terminal = [o for o in outcomes if o in ("seat", "cancel", "no_show")]
        assert len(terminal) == 1
        assert final.value == {"seat": "seated", "cancel": "cancelled", "no_show": "no_show"}[terminal[0]]
    check_invariants(real_redis, service)


def test_the_same_phone_joining_from_many_threads_gets_one_party(real_redis: Any, service: Waitlist) -> None:
    restaurant = service.restaurant(SLUG)
    joined: list[str] = []

    def work(index: int) -> None:
        try:
            joined.append(service.join(restaurant, name="Ana", phone="+14155550123", party_size=2).id)
        except WaitlistError:
            pass

    assert run_threads(20, work) == []
    assert len(joined) == 1
    check_invariants(real_redis, service)


def test_a_timer_racing_a_seat_never_releases_a_seated_table(real_redis: Any, service: Waitlist) -> None:
    restaurant = service.restaurant(SLUG)
    for round_ in range(20):
        party = service.join(restaurant, name="Bo", phone=f"+1415556{round_:04d}", party_size=2)
        notified = service.notify(restaurant, party.id)
        results: dict[str, Any] = {}

        def work(index: int, party: Any = party, notified: Any = notified, results: dict[str, Any] = results) -> None:
            if index == 0:
                try:
                    service.seat(restaurant, party.id)
                    results["seat"] = True
                except WaitlistError:
                    results["seat"] = False
            else:
                results["timer"] = service.expire_hold(SLUG, party.id, str(notified.hold_version))

        assert run_threads(2, work) == []
        assert results["seat"] != results["timer"]
        status = service.party(restaurant, party.id).status
        assert status == (Status.SEATED if results["seat"] else Status.NO_SHOW)


def test_two_hosts_undoing_the_same_notify_at_once_take_it_back_once(real_redis: Any, service: Waitlist) -> None:
    restaurant = service.restaurant(SLUG)
    ahead = service.join(restaurant, name="Ahead", phone="+14155570999", party_size=2)
    for round_ in range(20):
        party = service.join(restaurant, name="Cy", phone=f"+1415557{round_:04d}", party_size=2)
        position = service.party(restaurant, party.id).position
        service.notify(restaurant, party.id)
        outcomes: list[str] = []

        def work(index: int, party: Any = party, outcomes: list[str] = outcomes) -> None:
            try:
                service.undo(restaurant, party.id)
                outcomes.append("undo")
            except WaitlistError:
                outcomes.append("refused")

        assert run_threads(2, work) == []
        assert sorted(outcomes) == ["refused", "undo"]
        back = service.party(restaurant, party.id)
        assert back.status == Status.WAITING and back.position == position and back.notify_count == 0
        service.cancel(restaurant, party.id, confirm=False)
    assert service.party(restaurant, ahead.id).position == 1
    check_invariants(real_redis, service)


def test_a_host_undoing_a_notify_while_another_seats_the_party_ends_as_one_of_the_two_orders(
        real_redis: Any, service: Waitlist) -> None:
    """Undo takes back the party's last move, so both taps succeed: undo then seat leaves it seated (from
    the line), seat then undo takes the seat back (notified again). Exactly one of the two orders wins the
    race, never a mix (e.g. seated yet in line, or notified with no hold)."""
    restaurant = service.restaurant(SLUG)
    finals: Counter[str] = Counter()
    for round_ in range(30):
        party = service.join(restaurant, name="Di", phone=f"+1415558{round_:04d}", party_size=2)
        service.notify(restaurant, party.id)
        outcomes: dict[str, bool] = {}

        def work(index: int, party: Any = party, outcomes: dict[str, bool] = outcomes) -> None:
            action = ("undo", "seat")[index]
            try:
                getattr(service, action)(restaurant, party.id)
                outcomes[action] = True
            except WaitlistError:
                outcomes[action] = False

        assert run_threads(2, work) == []
        final = service.party(restaurant, party.id)
        finals[final.status.value] += 1
        assert outcomes["seat"]
        if final.status == Status.SEATED:  # the undo took back the notify, then the seat came
            assert outcomes["undo"] and final.position is None and final.notify_count == 0
        else:  # the seat came first and the undo took it back: called again, with its hold
            assert final.status == Status.NOTIFIED and outcomes["undo"] and final.hold_until is not None
            service.cancel(restaurant, party.id, confirm=False)
        check_invariants(real_redis, service)
    assert sum(finals.values()) == 30


def test_reports_racing_on_a_partys_texts_leave_it_flagged_by_the_newest(real_redis: Any, service: Waitlist) -> None:
    """An older text failed; then a late delivery report of it and the failure of a newer text arrive
    at once from many threads: the party always ends flagged with the newer text's time, never cleared
    by the older text's report."""
    restaurant = service.restaurant(SLUG)
    for round_ in range(20):
        party = service.join(restaurant, name="Ana", phone=f"+1415555{3000 + round_:04d}", party_size=2)
        service.note_text_outcome(SLUG, party.id, "1790000000.5", "failed")  # the older text failed first
        reports = [("1790000000.5", "delivered"), ("1790000100.5", "failed")] * 4

        def work(index: int, party_id: str = party.id, reports: Any = reports) -> None:
            created_at, status = reports[index]
            service.note_text_outcome(SLUG, party_id, created_at, status)

        assert run_threads(len(reports), work) == []
        assert service.store.party_field(SLUG, party.id, "f:sms_failed") == "1790000100.5"
