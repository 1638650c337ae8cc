"""The estimator's hour-of-week history has one format (waitlist.store.codec): the Lua writer and
the readers must agree on where each number sits and on the party-size buckets."""
from __future__ import annotations

import fakeredis
import pytest

from waitlist.domain.model import Party, Status
from waitlist.estimate.dining import DEFAULT_TABLE_CLASSES, hour_of_week, size_bucket
from waitlist.estimate.snapshot import HourHistory
from waitlist.store import Store, codec, keys

NOW = 1_790_000_000.0


def seat_and_complete(store: Store, pid: str, size: int, *, dined_minutes: float) -> None:
    joined = NOW - 1800
    party = Party(id=pid, restaurant="r", name=pid, phone=f"+1415555{size:04d}", party_size=size,
                  token=f"t{pid}", joined_at=joined)
    store.join("r", party, now=joined, actor="host", almost_ready_position=0)
    store.transition("r", pid, Status.SEATED, now=NOW, actor="host", almost_ready_position=0)
    store.transition("r", pid, Status.COMPLETED, now=NOW + dined_minutes * 60, actor="host",
                     almost_ready_position=0)


@pytest.mark.parametrize("size", range(1, 11))
def test_the_writer_counts_a_turn_in_the_bucket_the_estimator_reads_it_from(size: int) -> None:
    store = Store(fakeredis.FakeRedis(decode_responses=True))
    seat_and_complete(store, "p", size, dined_minutes=45)
    raw = store.redis.hget(keys.history_key("r"), codec.history_field(hour_of_week(NOW)))
    assert len(codec.history_numbers(raw)) == codec.HISTORY_LENGTH
    hour = store.snapshot("r").history[hour_of_week(NOW)]
    bucket = DEFAULT_TABLE_CLASSES.index(size_bucket(size))
    for other in range(len(DEFAULT_TABLE_CLASSES)):
        assert hour.dining(other) == ((1, 45) if other == bucket else (0, 0))
    assert (hour.seatings, hour.drops) == (1, 0)
    assert hour.waited_minutes == 30


def test_a_missing_unreadable_or_short_field_reads_as_no_history() -> None:
    assert codec.history_numbers(None) == codec.history_numbers("1 x 2") == []
    assert codec.hour_history(None) is None and codec.hour_history("1 2 3") is None
    assert codec.history_from_hash({"h:3": "1 x", "h:x": "0 " * codec.HISTORY_LENGTH, "h:4": ""}) == {}
    assert HourHistory().dining(0) == (0.0, 0.0)
