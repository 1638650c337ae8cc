"""The estimator's stored formats (waitlist.store.codec): the hour-of-week history, whose Lua writer and
readers must agree on where each number sits and on the party-size buckets, and the quotes parties keep."""
from __future__ import annotations

import fakeredis
import pytest

from waitlist.domain.model import Party, Status
from waitlist.estimate.calibration import STRETCH_START
from waitlist.estimate.dining import DEFAULT_TABLE_CLASSES, hour_of_week, size_bucket
from waitlist.estimate.estimator import Estimate
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


def test_quote_raw_reads_both_formats_and_writes_what_it_reads() -> None:
    """Entries written before a party kept what it was told have three fields: judged on none of the rest."""
    assert codec.quote_raw("12.5/7/3") == (12.5, 7, 3, -1.0, -1.0, -1.0, STRETCH_START, 0.0)
    assert codec.quote_raw("") == (-1.0, 0, 0, -1.0, -1.0, -1.0, STRETCH_START, 0.0)
    told = Estimate(15, 10, 25, 7, raw=12.5, same_ahead=3, stretch=1.25, lean=0.5)
    assert codec.quote_raw(codec.quote_record(told)) == (12.5, 7, 3, 15.0, 10.0, 25.0, 1.25, 0.5)


def test_the_head_of_the_line_skips_parties_it_cannot_read() -> None:
    """A party hash missing its join time or size (gone between the line and the read) is left out; a
    host's quote (no quote_raw) is kept with raw -1, which the calibration does not read."""
    text = "1790000000.5|2|12.5/7/3/15/10/25/1.300/0.000 |4| 1790000060|3|"
    assert codec._head(text) == ((1790000000.5, 2, 12.5, 7, 3, 15.0), (1790000060.0, 3, -1.0, 0, 0, -1.0))


def test_snapshots_read_from_the_same_lists_share_their_parse_but_never_their_lists() -> None:
    """The recent lists are parsed once per text (codec._seatings and the rest): a second snapshot of
    the same reply is equal to the first, a change to one's lists leaves the other as it was, and the
    next seating reads as a new list."""
    store = Store(fakeredis.FakeRedis(decode_responses=True))
    seat_and_complete(store, "a", 2, dined_minutes=45)
    first, second = store.snapshot("r"), store.snapshot("r")
    assert first == second and first.seatings is not second.seatings
    first.seatings.clear()
    first.turns.clear()
    assert len(second.seatings) == len(store.snapshot("r").turns) == 1
    with pytest.raises(TypeError):
        second.history[0] = HourHistory()  # type: ignore[index]
    seat_and_complete(store, "b", 4, dined_minutes=60)
    assert [size for _seated, size, _joined in store.snapshot("r").seatings] == [4, 2]
