"""Real threads on the real Redis racing on one floor: seating, calling, clearing, blocking and undoing
never put two parties at one table, nor one party at two sets of tables."""
from __future__ import annotations

import random
import threading
from collections.abc import Callable
from typing import Any

import pytest

from tests.conftest import make_config
from tests.fakes import RecordingDispatcher
from tests.integration.races import run_threads
from waitlist.domain.errors import TableTaken, WaitlistError
from waitlist.services.waitlist import Waitlist
from waitlist.store import MessageStore, Store, events_key, party_key, table_states_key

pytestmark = pytest.mark.integration
SLUG = "table-race"
THREADS = 20
FLOOR = [
    {"name": "1", "seats": 2, "joins_with": ["2"]},
    {"name": "2", "seats": 2, "joins_with": ["3"]},
    {"name": "3", "seats": 4},
    {"name": "4", "seats": 4, "joins_with": ["5"]},
    {"name": "5", "seats": 6},
    {"name": "B", "seats": 2, "section": "bar"},
]
GROUPS = [["1"], ["2"], ["3"], ["4"], ["5"], ["B"], ["1", "2"], ["2", "3"], ["1", "2", "3"], ["4", "5"]]


@pytest.fixture
def service(real_redis: Any) -> Waitlist:
    waitlist = Waitlist(Store(real_redis), MessageStore(real_redis), RecordingDispatcher(), make_config())
    waitlist.create_restaurant(SLUG, "Table Race", "+14155550112")
    restaurant = waitlist.restaurant(SLUG)
    waitlist.update_settings(restaurant, {"clearing_minutes": 1})
    waitlist.set_tables(waitlist.restaurant(SLUG), FLOOR)
    return waitlist


def add(service: Waitlist, n: int, size: int = 2) -> str:
    party = service.join(service.restaurant(SLUG), name=f"Guest {n}", phone=f"+1415555{3000 + n:04d}",
                         party_size=size)
    return party.id


def check_floor(redis: Any, service: Waitlist) -> None:
    """Each held or occupied table names one party, that party is called (held) or seated (occupied) and
    lists the table among its one set; each called or seated party's set is held or occupied by it alone."""
    stored = service.table_store.states(SLUG)
    holders: dict[str, set[str]] = {}
    for name, (state, party_id, _since) in stored.items():
        if state in ("held", "occupied"):
            fields = redis.hgetall(party_key(SLUG, party_id))
            expected = "notified" if state == "held" else "seated"
            assert fields.get("status") == expected, (name, state, party_id, fields.get("status"))
            assert name in fields.get("tables", "").split(","), (name, party_id, fields.get("tables"))
            holders.setdefault(party_id, set()).add(name)
        else:
            assert party_id == "", (name, state, party_id)
    for party_id, names in holders.items():
        listed = set(redis.hget(party_key(SLUG, party_id), "tables").split(","))
        assert names == listed, (party_id, names, listed)
    for party in service.list_parties(service.restaurant(SLUG), "active"):
        if party.status.value == "notified" and party.tables:
            assert holders.get(party.id) == set(party.tables), (party.id, party.tables)
        if party.status.value == "waiting":
            assert not party.tables and party.id not in holders


def check_history(redis: Any) -> None:
    """Over the whole event stream, no table went from one party straight to another: a held or occupied
    table only ever passes to the same party (held -> occupied) or is freed first."""
    owner: dict[str, str] = {}
    for _id, event in redis.xrange(events_key(SLUG)):
        if event.get("type") != "table":
            continue
        table, to, party = event["table"], event["to"], event["party"]
        if to in ("held", "occupied"):
            assert owner.get(table) in (None, party), (table, owner.get(table), party)
            owner[table] = party
        else:
            owner.pop(table, None)


def test_twenty_hosts_seating_twenty_parties_at_one_table_seat_exactly_one(real_redis: Any,
                                                                           service: Waitlist) -> None:
    parties = [add(service, n) for n in range(THREADS)]
    restaurant = service.restaurant(SLUG)
    won: list[str] = []
    taken: list[str] = []

    def seat(i: int) -> None:
        try:
            service.seat(restaurant, parties[i], tables=["3"])
            won.append(parties[i])
        except TableTaken:
            taken.append(parties[i])

    assert run_threads(THREADS, seat) == []
    assert len(won) == 1 and len(taken) == THREADS - 1
    assert real_redis.hget(table_states_key(SLUG), "3").split("|")[:2] == ["occupied", won[0]]
    check_floor(real_redis, service)


def test_racing_calls_seats_clears_blocks_and_undos_keep_one_party_per_table(real_redis: Any,
                                                                             service: Waitlist) -> None:
    parties = [add(service, n, size=1 + n % 6) for n in range(60)]
    restaurant = service.restaurant(SLUG)
    unexpected: list[BaseException] = []
    done: list[str] = []

    def work(i: int) -> None:
        rng = random.Random(i)
        for _ in range(40):
            party_id = rng.choice(parties)
            group = rng.choice(GROUPS)
            action = rng.choice(["notify", "seat", "seat_held", "clear", "clear", "cancel", "undo", "block",
                                 "unblock"])
            try:
                if action == "notify":
                    service.notify(restaurant, party_id, tables=group)
                elif action == "seat":
                    service.seat(restaurant, party_id, tables=group)
                elif action == "seat_held":
                    service.seat(restaurant, party_id)
                elif action == "clear":
                    service.clear_table(restaurant, rng.choice(group))
                elif action == "cancel":
                    service.cancel(restaurant, party_id, confirm=False)
                elif action == "undo":
                    service.undo(restaurant, party_id)
                elif action == "block":
                    service.block_table(restaurant, group[0])
                else:
                    service.unblock_table(restaurant, group[0])
                done.append(action)
            except WaitlistError:
                pass  # refused: taken, blocked, too big, not joinable, not in that status, too late
            except BaseException as exc:
                unexpected.append(exc)

    assert run_threads(THREADS, work) == []
    assert unexpected == []
    assert {"notify", "seat", "seat_held", "clear", "cancel", "undo", "block"} <= set(done)  # a real race
    check_floor(real_redis, service)
    check_history(real_redis)
    states = service.tables(service.restaurant(SLUG))
    assert {t.state for t in states} <= {"free", "held", "occupied", "clearing", "blocked"}
    assert any(e.get("to") == "occupied" for _id, e in real_redis.xrange(events_key(SLUG)))


def test_the_tables_turnover_gap_rides_with_the_seating_on_the_real_redis(service: Waitlist) -> None:
    """Real Redis runs Lua 5.1 (fakeredis another Lua): the gap a seating writes reads back as numbers.
    Called to the table the diner left, then seated: one gap of a 4-top, from the leaving."""
    restaurant = service.restaurant(SLUG)
    diner, waiting = add(service, 1, size=4), add(service, 2, size=4)
    service.seat(restaurant, diner, tables=["3"])
    service.complete(restaurant, diner)
    service.clear_table(restaurant, "3")  # ready early: free since the diner left
    service.notify(restaurant, waiting, tables=["3"])
    service.seat(restaurant, waiting)
    [(seats, minutes)] = service.store.snapshot(SLUG).table_gaps
    assert seats == 4 and 0 <= minutes < 1
