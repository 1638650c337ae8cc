"""Self-calibration: quotes corrected by how the restaurant's own recent quotes turned out (issue 27)."""
from __future__ import annotations

import random

import click
import fakeredis
import pytest

from config import Config
from waitlist.estimate import calibration
from waitlist.estimate.calibration import Record, corrected, correction
from waitlist.estimate.estimator import Estimate, estimate_wait, minutes_per_seating, settled
from waitlist.estimate.snapshot import Snapshot, SnapshotTable
from waitlist.services.backtest import EPOCH, _Clock, _NoDispatch, parse_joins
from waitlist.services.waitlist import Waitlist
from waitlist.store import MessageStore, Store, keys

NOW = 1_790_000_000.0


def quote_after(history: list[Record], raw: float, ahead: int = 5, same: int = 2) -> tuple[int, int, int]:
    fix = correction(history, [True] * len(history), NOW)
    return corrected(raw, ahead, same, fix, busy=False, cap=240.0)


@pytest.mark.parametrize("bias", [10.0, -10.0])
def test_calibration_removes_an_injected_bias_within_about_60_parties(bias: float) -> None:
    """The model is off by ``bias`` minutes for every party (waits of 15-50 minutes, +-3 of noise): within
    60 seated parties the quote is back within a few minutes of the wait, and at most 1 in 4 of the next
    parties waits more than quote + 5."""
    rng = random.Random(7)
    history: list[Record] = []  # newest first, as the snapshot holds them
    late = errors = uncorrected = 0.0
    for n in range(100):
        raw = rng.uniform(15, 50)
        waited = raw + bias + rng.uniform(-3, 3)
        minutes, _low, _high = quote_after(history, raw)
        if n >= 60:
            errors += abs(minutes - waited)
            late += waited > minutes + 5
            uncorrected += abs(raw - waited)
        history.insert(0, Record(NOW - 3600 + n * 30, 2, raw, 5, waited, 2))
    assert uncorrected / 40 > 9  # the model's own figure: the bias
    assert errors / 40 < 4.0
    assert late / 40 <= 0.25


def test_the_range_covers_about_four_in_five_waits() -> None:
    rng = random.Random(3)
    history: list[Record] = []
    inside = 0
    for n in range(300):
        raw = rng.uniform(10, 40)
        waited = max(1.0, raw * rng.lognormvariate(0, 0.35) + 4)
        _minutes, low, high = quote_after(history, raw)
        if n >= 100:
            inside += low <= waited <= high
        history.insert(0, Record(NOW - 7200 + n * 20, 2, raw, 5, waited, 2))
    assert 0.7 <= inside / 200 <= 0.92


def test_with_no_history_a_quote_is_about_the_models_own() -> None:
    assert 20 <= quote_after([], 20.0)[0] <= 23
    assert quote_after([], 0.0)[0] == 0


@pytest.mark.parametrize("tables", [{"2": 4, "4": 2}, None])
@pytest.mark.parametrize("ahead", [[2], [2, 2], [1, 4, 2]])
def test_a_quote_is_never_0_with_a_same_class_party_ahead(tables: dict[str, int] | None, ahead: list[int]) -> None:
    """Free tables or not: a party of the same class ahead is seated first, its table is cleared and the
    next party walks up, so the quote is at least the busy floor."""
    estimate = estimate_wait(Snapshot(waiting_sizes=ahead), 2, tables=tables, now=NOW)
    assert estimate.minutes >= calibration.BUSY_FLOOR_MINUTES
    assert estimate.low <= estimate.minutes <= estimate.high


def test_an_empty_restaurant_with_a_free_table_still_quotes_0() -> None:
    assert estimate_wait(Snapshot(), 2, tables={"2": 4}, now=NOW).minutes == 0


def test_a_quote_is_never_0_when_every_fitting_table_is_in_use() -> None:
    seatings = [(NOW - 600, 2, NOW - 700)] * 2 + [(NOW - 600, 4, NOW - 700)]
    turns = [(NOW - 9000, NOW - 6000, 2)]
    estimate = estimate_wait(Snapshot(seatings=seatings, turns=turns), 2, tables={"2": 2, "4": 1}, now=NOW)
    assert estimate.minutes >= calibration.BUSY_FLOOR_MINUTES


def test_the_guest_page_shows_the_quote_given_at_the_join_then_settles() -> None:
    fresh = Estimate(minutes=40, low=30, high=55, parties_ahead=3)
    assert settled(fresh, 20, 15, 30, joined_at=NOW, now=NOW) == Estimate(20, 15, 30, 3)
    later = settled(fresh, 20, 15, 30, joined_at=NOW, now=NOW + 600)
    assert 20 < later.minutes < 40  # half way between what is left of the quote and the fresh estimate


def test_a_burst_of_seatings_is_not_read_as_a_sudden_speed_up() -> None:
    steady = [(NOW - 60 * m, 2, NOW - 60 * m - 900) for m in range(5, 90, 10)]
    burst = [(NOW - 30 + s, 2, NOW - 3600) for s in range(25)]
    before = minutes_per_seating(Snapshot(seatings=steady), 2, [], None, NOW)
    after = minutes_per_seating(Snapshot(seatings=burst + steady), 2, [], None, NOW)
    assert after > 0.6 * before


def service() -> tuple[Waitlist, _Clock, fakeredis.FakeRedis]:
    redis = fakeredis.FakeRedis(decode_responses=True)
    clock = _Clock()
    config = Config(secret_key="calibration", public_base_url="http://calibration.invalid")
    return Waitlist(Store(redis), MessageStore(redis), _NoDispatch(), config, clock=clock), clock, redis


def test_the_store_keeps_each_seated_partys_raw_quote_and_later_quotes_learn_from_it() -> None:
    """Through the live service and Lua on fakeredis: the join stores the model's figure, the seat
    transition carries it on the recent seatings entry, and parties that waited 30 minutes longer than
    the model said lift the next quote by about that much."""
    waitlist, clock, redis = service()
    restaurant, _key = waitlist.create_restaurant("calib", "Calib", "+14155550100")
    restaurant.settings = waitlist.update_settings(restaurant, {"tables": None, "max_party_size": 20})
    first = None
    for n in range(40):
        clock.now = EPOCH + 3600 * 12 + n * 120
        party = waitlist.join(restaurant, name=f"P{n}", phone=f"+1415{2000000 + n:07d}", party_size=2,
                              actor="host")
        raw = str(redis.hget(keys.party_key("calib", party.id), "quote_raw") or "")
        assert raw.count("/") == 2
        if first is None:
            first = party.quote_minutes
        clock.now += 30 * 60
        waitlist.seat(restaurant, party.id, actor="host")
    snapshot = waitlist.store.snapshot("calib")
    assert len(snapshot.quoted) == 40
    assert all(raw >= 0 for _s, _z, _j, raw, _a, _c in snapshot.quoted)
    assert len(calibration.records(snapshot.quoted)) == 40
    assert first is not None
    assert waitlist.estimate(restaurant, 2).minutes >= first + 20


def test_joins_add_one_pushed_together_table_of_the_joined_size() -> None:
    assert parse_joins("4+4=8", {"2": 6, "4": 5}) == {"2": 6, "4": 5, "8": 1}
    assert parse_joins("4+4=8,2+4=6", {"2": 6, "4": 5, "6": 1}) == {"2": 6, "4": 5, "6": 2, "8": 1}
    assert parse_joins(None, {"2": 6}) == {"2": 6}


@pytest.mark.parametrize(("text", "tables"), [("4+4=8", None), ("4+4=8", {"4": 1}), ("4=8", {"4": 2}),
                                              ("4+x=8", {"4": 2}), ("6+6=12", {"4": 2})])
def test_joins_of_tables_the_inventory_lacks_are_refused(text: str, tables: dict[str, int] | None) -> None:
    with pytest.raises(click.BadParameter):
        parse_joins(text, tables)


@pytest.mark.parametrize("state", ["held", "clearing", "blocked", "occupied"])
def test_a_named_table_held_clearing_or_blocked_is_not_free(state: str) -> None:
    """Live table states (named tables): the only 2-top is not free, so the quote is not 0 even with
    nobody ahead; once it is free again, it is."""
    busy = Snapshot(tables=(SnapshotTable("T1", 2, state=state, since=NOW - 60),))
    free = Snapshot(tables=(SnapshotTable("T1", 2),))
    assert estimate_wait(busy, 2, tables={"2": 1}, now=NOW).minutes >= calibration.BUSY_FLOOR_MINUTES
    assert estimate_wait(free, 2, tables={"2": 1}, now=NOW).minutes == 0
