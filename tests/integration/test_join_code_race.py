"""Real threads on the real Redis racing on one join code: it joins exactly one party, once.

The code is confirmed by the join script itself (lua/join.lua), so numbers texting the same code at the
same moment, or one number's text delivered twice at once, cannot both get past the code's check.
"""
from __future__ import annotations

import threading
from collections import Counter
from typing import Any

import pytest

from tests.conftest import make_config
from tests.fakes import RecordingDispatcher
from waitlist.domain.errors import WaitlistError
from waitlist.services.inbound import InboundHandler
from waitlist.services.waitlist import Waitlist
from waitlist.store import MessageStore, Store, join_codes_key, phones_key, remote_key, waiting_key

pytestmark = pytest.mark.integration
SLUG = "code-race"
NUMBER = "+14155550122"


@pytest.fixture
def service(real_redis: Any) -> Waitlist:
    waitlist = Waitlist(Store(real_redis), MessageStore(real_redis), RecordingDispatcher(), make_config())
    restaurant, _key = waitlist.create_restaurant(SLUG, "Code Race", NUMBER)
    waitlist.update_settings(restaurant, {"remote_join": True})
    return waitlist


def race(count: int, work: Any) -> list[Any]:
    """``work(i)`` on ``count`` threads released together; each one's result or exception."""
    results: list[Any] = [None] * count
    barrier = threading.Barrier(count)

    def runner(index: int) -> None:
        barrier.wait()
        try:
            results[index] = work(index)
        except WaitlistError as exc:
            results[index] = exc

    threads = [threading.Thread(target=runner, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results


def open_code(service: Waitlist) -> str:
    return service.open_join_code(service.restaurant(SLUG), name="Ana Lima", party_size=2, address="192.0.2.1").code


@pytest.mark.parametrize("round_", range(5))
def test_numbers_racing_on_one_code_join_exactly_one_party(service: Waitlist, real_redis: Any, round_: int) -> None:
    code = open_code(service)
    handler = InboundHandler(service)
    phones = [f"+1415555{3000 + round_ * 100 + i:04d}" for i in range(16)]

    outcomes = race(len(phones), lambda i: handler.handle(to=NUMBER, from_=phones[i], body=f"JOIN {code}",
                                                          message_sid=f"SMrace{round_}{i}").outcome)

    assert Counter(outcomes) == {"joined": 1, "join_code_used": len(phones) - 1}
    [party_id] = real_redis.zrange(waiting_key(SLUG), 0, -1)
    [winner] = [phones[i] for i, outcome in enumerate(outcomes) if outcome == "joined"]
    assert real_redis.hgetall(phones_key(SLUG)) == {winner: party_id}
    assert real_redis.smembers(remote_key(SLUG)) == {party_id}
    assert real_redis.zcard(join_codes_key(SLUG)) == 0
    assert service.join_state(service.restaurant(SLUG), service.join_codes.load(SLUG, code).ticket).state == "joined"


def test_one_number_texting_its_code_many_times_at_once_joins_once(service: Waitlist, real_redis: Any) -> None:
    code = open_code(service)
    restaurant = service.restaurant(SLUG)

    results = race(12, lambda _i: service.join_by_code(restaurant, "+14155554000", code))

    joined = [r for r in results if not isinstance(r, WaitlistError)]
    assert len(joined) == 1 and real_redis.zcard(waiting_key(SLUG)) == 1
    assert {type(r).__name__ for r in results if isinstance(r, WaitlistError)} <= {"JoinCodeUsed", "AlreadyWaiting"}
    texts = [m for m in service.messages.conversation(SLUG, joined[0].id) if m.get("direction") == "out"]
    assert [m["kind"] for m in texts] == ["joined"]


def test_many_codes_texted_at_once_each_join_their_own_party(service: Waitlist, real_redis: Any) -> None:
    codes = [service.open_join_code(service.restaurant(SLUG), name=f"Guest {i}", party_size=2,
                                    address=f"192.0.2.{i}").code for i in range(20)]
    handler = InboundHandler(service)

    outcomes = race(len(codes), lambda i: handler.handle(to=NUMBER, from_=f"+1415555{5000 + i:04d}",
                                                         body=f"join {codes[i].lower()}", message_sid=f"SMmany{i}"))

    assert [o.outcome for o in outcomes] == ["joined"] * len(codes)
    assert real_redis.zcard(waiting_key(SLUG)) == len(codes)
    positions = sorted(service.party(service.restaurant(SLUG), o.party_id).position for o in outcomes)
    assert positions == list(range(1, len(codes) + 1))
