"""Self-calibration: quotes corrected by how the restaurant's own recent quotes turned out (issue 27)."""
from __future__ import annotations

import random
from dataclasses import replace

import click
import fakeredis
import pytest

from config import Config
from waitlist.estimate import calibration
from waitlist.estimate.calibration import Record, corrected, correction
from waitlist.estimate.dining import DiningModel, live_floor
from waitlist.estimate.estimator import Estimate, estimate_wait, minutes_per_seating, settled
from waitlist.estimate.snapshot import Snapshot, SnapshotTable
from waitlist.services.backtest import EPOCH, _Clock, _NoDispatch, parse_joins
from waitlist.services.waitlist import Waitlist
from waitlist.store import MessageStore, Store, keys

NOW = 1_790_000_000.0


def quote_after(history: list[Record], raw: float, ahead: int = 5, same: int = 2) -> tuple[int, int, int]:
    fix = correction(history, [True] * len(history), NOW)
    return corrected(raw, ahead, same, fix, busy=False, cap=240.0)


def told_record(history: list[Record], joined_at: float, raw: float, waited: float, ahead: int = 5,
                same: int = 2) -> Record:
    """The record the service keeps for a party quoted now and seated after ``waited`` minutes: with what
    it was told, and the stretch and lean it was told with, as the join stores them."""
    fix = correction(history, [True] * len(history), NOW)
    minutes, low, high = corrected(raw, ahead, same, fix, busy=False, cap=240.0)
    return Record(joined_at, 2, raw, ahead, waited, same, minutes, low, high, fix.stretch, fix.lean)


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
        history.insert(0, told_record(history, NOW - 3600 + n * 30, raw, waited))
    assert uncorrected / 40 > 9  # the model's own figure: the bias
    assert errors / 40 < 4.0
    assert late / 40 <= 0.25


def test_a_few_parties_of_one_class_move_its_quote_only_a_little_a_whole_evening_of_them_most_of_the_way() -> None:
    """The restaurant's quotes are right; the parties of one table class waited 12 minutes longer. A
    handful of them (noise, as often as not) moves the class's quote by a fraction of that; an evening
    of them by most of it (LEVEL_SHRINK)."""
    rng = random.Random(5)
    others = [Record(NOW - 60 * n, 2, raw, 5, raw + rng.uniform(-2, 2), 2) for n in range(120)
              for raw in [rng.uniform(10, 40)]]

    def shift(of_class: int) -> float:
        mine = [Record(NOW - 30 * n, 6, 20.0, 5, 32.0 + rng.uniform(-2, 2), 2) for n in range(of_class)]
        history = [*mine, *others]
        fix = correction(history, [True] * len(mine) + [False] * len(others), NOW)
        alone = correction(others, [False] * len(others), NOW)
        return fix.quote(20.0, 5, 2)[0] - alone.quote(20.0, 5, 2)[0]

    assert shift(8) < 12 / 3
    assert shift(60) > 12 / 2


@pytest.mark.parametrize("spread", [0.15, 0.35, 0.7])
def test_the_range_covers_about_four_in_five_waits(spread: float) -> None:
    """However wide the restaurant's own spread of waits, the stretch follows how often the told ranges
    held, so the range settles at about 4 in 5."""
    rng = random.Random(3)
    history: list[Record] = []
    inside = 0
    for n in range(400):
        raw = rng.uniform(10, 40)
        waited = max(1.0, raw * rng.lognormvariate(0, spread) + 4)
        _minutes, low, high = quote_after(history, raw)
        if n >= 200:
            inside += low <= waited <= high
        history.insert(0, told_record(history, NOW - 7200 + n * 20, raw, waited))
    assert 0.72 <= inside / 200 <= 0.88


def test_the_quotes_level_read_from_few_records_is_passed_by_the_next_wait_about_1_in_5() -> None:
    """The 80th percentile of 10 records is passed by the next wait about 1 time in 4; read at
    ``levels(10)`` it is passed about 1 in 5, as the quote's rule needs. Many records need no correction."""
    rng = random.Random(11)

    def passed(level: float, n: int, trials: int = 20000) -> float:
        hits = 0
        for _ in range(trials):
            window = sorted(rng.random() for _ in range(n))
            hits += rng.random() > calibration._quantile(window, level)
        return hits / trials

    assert passed(calibration.QUANTILES[2], 10) > 0.24
    assert 0.17 <= passed(calibration.levels(10)[2], 10) <= 0.22
    assert calibration.levels(120)[2] == pytest.approx(0.8067, abs=1e-4)
    assert calibration.levels(1)[2] == 0.9
    assert calibration.levels(30)[::3] == (calibration.QUANTILES[0], calibration.QUANTILES[3])  # the range's ends


def test_a_quote_longer_than_every_record_is_told_at_least_the_priors_range() -> None:
    """A first evening: 40 parties seated within minutes of the quote, every quote under 5 minutes. The
    line then grows to half an hour, beyond anything the records show; their narrow spread says nothing
    of such waits, so the range told is at least as wide as the prior's (a new restaurant's, before its
    start's stretch)."""
    rng = random.Random(11)
    short = [Record(NOW - 60 * n, 2, raw, 1, raw + rng.uniform(-1, 1), 1) for n in range(40)
             for raw in [rng.uniform(2, 5)]]
    prior_width = (calibration.PRIOR[3] - calibration.PRIOR[0]) * (30.0 + calibration.SCALE_OFFSET)
    _minutes, low, high = quote_after(short, 30.0)
    assert high - low >= prior_width - 1  # (whole minutes)
    _m, low, high = quote_after(short, 4.0)  # within the records: their own spread
    assert high - low <= 4
    # Once the records reach such waits, theirs is the range again.
    steady = [Record(NOW - 60 * n, 2, raw, 5, raw + rng.uniform(-1, 1), 2) for n in range(40)
              for raw in [rng.uniform(2, 40)]]
    _m, low, high = quote_after(steady, 30.0)
    assert high - low < prior_width / 2


def test_the_range_widens_when_told_ranges_missed_and_narrows_when_they_always_held() -> None:
    missed = [Record(NOW - 60 * n, 2, 20.0, 5, 40.0, 2, 20, 15, 25, 1.0) for n in range(30)]
    held = [Record(NOW - 60 * n, 2, 20.0, 5, 20.0, 2, 20, 15, 25, 1.0) for n in range(30)]
    assert calibration.range_stretch(missed) > 1.5
    assert calibration.range_stretch(held) < 1.0
    assert calibration.range_stretch(missed[:5]) == calibration.STRETCH_START  # too few to judge


def test_the_quote_leans_to_the_queue_length_rule_when_it_did_better_lately() -> None:
    """Told quotes of 40 minutes for waits of 12 (3 parties ahead x 3 minutes per party: the rule's 12):
    the lean grows; told quotes that beat the rule leave it at 0."""
    worse = [Record(NOW - 60 * n, 2, 40.0, 3, 12.0, 1, 40, 30, 50) for n in range(30)]
    better = [Record(NOW - 60 * n, 2, 12.0, 3, 12.0, 1, 12, 8, 16) for n in range(30)]
    assert calibration.rule_lean(worse, calibration.Correction(per_party=3.0)) > 0.5
    assert calibration.rule_lean(better, calibration.Correction(per_party=5.0)) == 0.0
    assert correction(worse, [True] * 30, NOW).lean > 0.5


def test_a_full_lean_comes_back_down_once_the_model_alone_does_better_than_the_rule() -> None:
    """Quotes told fully leaned (the rule's 20 minutes: 4 ahead and the party itself x 4 minutes) for waits
    of 10, where the model said 10: told and rule missed alike, so the told error alone would keep the
    lean at 1 for good. The model alone would have come closer: the lean comes down."""
    model = calibration.Correction(per_party=4.0)
    stuck = [Record(NOW - 60 * n, 2, 10.0, 4, 10.0, 1, 20, 15, 25, 1.3, 1.0) for n in range(30)]
    assert calibration.rule_lean(stuck, model) < 0.75
    # While the model alone would have missed by more than the rule, a full lean stays.
    wrong = [Record(NOW - 60 * n, 2, 60.0, 4, 22.0, 1, 20, 15, 25, 1.3, 1.0) for n in range(30)]
    assert calibration.rule_lean(wrong, model) == 1.0
    model_only = calibration.Correction(per_party=3.0)
    leaned = replace(model_only, lean=0.75)
    unleaned = corrected(40.0, 3, 1, model_only, busy=True, cap=240)[0]
    assert abs(corrected(40.0, 3, 1, leaned, busy=True, cap=240)[0] - (unleaned + 0.75 * (12 - unleaned))) <= 1


def test_parties_waiting_past_their_quote_raise_the_next_quote_before_any_is_seated() -> None:
    """A kitchen slows: seated parties all waited what they were told, but the head of the line has
    waited twice its quote. Read as records of at least that wait, they lift the quote now."""
    seated = [(NOW - 600 - 60 * n, 2, NOW - 600 - 60 * n - 1200, 20.0, 5, 2, 20.0, 15.0, 25.0, 1.0, 0.0)
              for n in range(40)]
    overdue = [(NOW - 2400 - 60 * n, 2, 20.0, 5, 2, 20.0) for n in range(10)]
    on_time = [(NOW - 600 - 60 * n, 2, 20.0, 5, 2, 20.0) for n in range(10)]

    def quote(head: list[tuple[float, int, float, int, int, float]]) -> int:
        history = calibration.records(seated, calibration.overdue(head, NOW))
        return corrected(20.0, 5, 2, correction(history, [True] * len(history), NOW), busy=True, cap=240)[0]

    forgotten = [(NOW - 4 * 3600 - 60 * n, 2, 20.0, 5, 2, 20.0) for n in range(10)]  # seated, never marked
    assert quote(on_time) == quote(forgotten) == quote([])
    assert quote(overdue) > quote([]) + 5


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
        _model, ahead, _same, told, low, high, _stretch, _lean = raw.split("/")
        assert (int(ahead), int(told), int(low), int(high)) == (0, party.quote_minutes, party.quote_low,
                                                                 party.quote_high)
        if first is None:
            first = party.quote_minutes
        clock.now += 30 * 60
        waitlist.seat(restaurant, party.id, actor="host")
    snapshot = waitlist.store.snapshot("calib")
    assert len(snapshot.quoted) == 40
    assert all(raw >= 0 and told >= 0 for _s, _z, _j, raw, _a, _c, told, *_rest in snapshot.quoted)
    assert len(calibration.records(snapshot.quoted)) == 40
    assert first is not None
    assert waitlist.estimate(restaurant, 2).minutes >= first + 20


def test_the_snapshot_carries_the_head_of_the_line_with_what_each_was_told() -> None:
    """Through the live service and Lua on fakeredis: the first OVERDUE_HEAD waiting parties, in line
    order, with their join time and told quote; a host's quote (no raw) is carried but teaches nothing."""
    waitlist, clock, _redis = service()
    restaurant, _key = waitlist.create_restaurant("head", "Head", "+14155550100")
    restaurant.settings = waitlist.update_settings(restaurant, {"tables": {"2": 20}, "max_party_size": 20})
    joined = []
    for n in range(calibration.OVERDUE_HEAD + 5):
        clock.now = EPOCH + 3600 * 12 + n * 60
        joined.append(waitlist.join(restaurant, name=f"P{n}", phone=f"+1415{3000000 + n:07d}", party_size=2,
                                    actor="host"))
    host_quoted = waitlist.join(restaurant, name="Q", phone="+14153999999", party_size=2, actor="host",
                                quote_override=30)
    snapshot = waitlist.store.snapshot("head")
    assert len(snapshot.head) == calibration.OVERDUE_HEAD
    assert [h[0] for h in snapshot.head] == [p.joined_at for p in joined[: calibration.OVERDUE_HEAD]]
    assert [h[5] for h in snapshot.head] == [p.quote_minutes for p in joined[: calibration.OVERDUE_HEAD]]
    assert host_quoted.quote_raw is None
    # 20 minutes on, every one of them waited past its quote: the quote for the next party grows with it.
    before = waitlist.estimate(restaurant, 2).minutes
    clock.now += 20 * 60
    assert before + 5 < waitlist.estimate(restaurant, 2).minutes < 240


def test_joins_become_the_restaurants_joins_setting(capsys: pytest.CaptureFixture[str]) -> None:
    assert parse_joins("4+4=8", {"2": 6, "4": 5}) == ["4+4=8"]
    assert parse_joins("4+4=8, 4+4+4=12", {"2": 6, "4": 5}) == ["4+4=8", "4+4+4=12"]
    assert parse_joins(None, {"2": 6}) is None
    # Joins the setting would refuse are left out, said on stderr, and the rest replays.
    assert parse_joins("2+4=6,4+4=8", {"2": 1, "4": 2}) == ["4+4=8"]
    assert parse_joins("2+2=3", {"2": 4, "4": 2}) is None
    # As many as a table it has: its parties take that table or the join, whichever frees first.
    assert parse_joins("4+4=8", {"2": 4, "4": 6, "8": 1}) == ["4+4=8"]
    err = capsys.readouterr().err
    assert "--joins 2+4=6: left out (2+4=6: push together tables of one size" in err
    assert "--joins 2+2=3: left out (2+2=3: a join must seat more than the biggest table (4) or as many as one" in err


@pytest.mark.parametrize(("text", "tables"), [("4=8", {"4": 2}), ("4+x=8", {"4": 2}), ("4+4", None)])
def test_joins_written_wrong_are_refused(text: str, tables: dict[str, int] | None) -> None:
    with pytest.raises(click.BadParameter):
        parse_joins(text, tables)


def test_joins_of_tables_the_inventory_lacks_are_left_out_and_without_an_inventory_kept(
        capsys: pytest.CaptureFixture[str]) -> None:
    assert parse_joins("4+4=8", {"4": 1}) is None
    assert parse_joins("6+6=12,4+4=8", {"4": 2}) == ["4+4=8"]
    assert "--joins 6+6=12: left out (6+6=12: the inventory has fewer than 2 tables of 6)" in capsys.readouterr().err
    assert parse_joins("4+4=8", None) == ["4+4=8"]  # for the tables read off the log


@pytest.mark.parametrize("state", ["held", "clearing", "blocked", "occupied"])
def test_a_named_table_held_clearing_or_blocked_is_not_free(state: str) -> None:
    """Live table states (named tables): the only 2-top is not free, so the quote is not 0 even with
    nobody ahead; once it is free again, it is."""
    busy = Snapshot(tables=(SnapshotTable("T1", 2, state=state, since=NOW - 60),))
    free = Snapshot(tables=(SnapshotTable("T1", 2),))
    floor = calibration.BUSY_FLOOR_MINUTES
    assert estimate_wait(busy, 2, tables={"2": 1}, now=NOW, clearing_minutes=5).minutes >= floor
    assert estimate_wait(free, 2, tables={"2": 1}, now=NOW, clearing_minutes=5).minutes == 0


def test_a_blocked_table_seats_nobody_in_the_replay() -> None:
    """Two 2-tops, one occupied for 10 minutes: the other free means a table now; blocked, the party
    waits for the occupied one's meal to end."""
    occupied = SnapshotTable("T1", 2, state="occupied", party_id="p", since=NOW - 600)
    open_floor = Snapshot(tables=(occupied, SnapshotTable("T2", 2)))
    one_blocked = Snapshot(tables=(occupied, SnapshotTable("T2", 2, state="blocked", since=NOW - 60)))
    assert estimate_wait(open_floor, 2, tables={"2": 2}, now=NOW).minutes == 0
    assert estimate_wait(one_blocked, 2, tables={"2": 2}, now=NOW).minutes >= 20


def test_an_occupied_table_frees_by_how_long_its_party_has_sat() -> None:
    """The floor alone (no seating in the log) says the only 4-top is taken, and since when: a party
    seated 55 minutes ago leaves sooner than one seated 5 minutes ago."""
    def seated(minutes_ago: float) -> Snapshot:
        return Snapshot(tables=(SnapshotTable("T4", 4, state="occupied", party_id="p", since=NOW - minutes_ago * 60),))

    late, early = (estimate_wait(seated(m), 4, tables={"4": 1}, now=NOW).minutes for m in (55, 5))
    assert calibration.BUSY_FLOOR_MINUTES <= late < early
    assert early >= 30


def test_a_table_being_cleared_is_ready_when_its_clearing_time_is_up() -> None:
    """Cleared a minute ago: with 10 minutes of clearing the next party waits about 9 more; with 3,
    about 2 (never under the busy floor); once the clearing time is up the table is free."""
    snapshot = Snapshot(tables=(SnapshotTable("T1", 2, state="clearing", since=NOW - 60),))
    long, short, done = (estimate_wait(snapshot, 2, tables={"2": 1}, now=NOW, clearing_minutes=c).minutes
                         for c in (10, 3, 0.5))
    assert 9 <= long <= 20
    assert calibration.BUSY_FLOOR_MINUTES <= short < long
    assert done == 0


def test_a_floor_that_shows_fewer_busy_tables_than_the_log_leaves_the_log_to_say_who_dines() -> None:
    """A host who seats parties without naming a table leaves the floor all free: the two parties the
    log shows at the 2-tops still make the next party of 2 wait."""
    seatings = [(NOW - 600, 2, NOW - 900), (NOW - 660, 2, NOW - 900)]
    floor = Snapshot(seatings=seatings, tables=(SnapshotTable("T1", 2), SnapshotTable("T2", 2)))
    assert estimate_wait(floor, 2, tables={"2": 2}, now=NOW).minutes >= 15


def test_the_live_floor_counts_a_joined_party_at_each_of_its_tables_and_a_floor_all_blocked_as_it_is() -> None:
    """A party of 8 at two pushed-together 4-tops keeps both busy, each since it sat down (its size read
    from the seating of that moment); a table occupied since an unknown time counts as just taken; a
    floor entirely blocked says nothing to quote by, so the counts stand."""
    seated = NOW - 30 * 60
    tables = (SnapshotTable("A", 4, state="occupied", party_id="p8", since=seated),
              SnapshotTable("B", 4, state="occupied", party_id="p8", since=seated),
              SnapshotTable("C", 2, state="occupied", party_id="p2", since=None),
              SnapshotTable("D", 2, state="blocked", since=NOW - 60))
    snapshot = Snapshot(seatings=[(seated, 8, seated - 600)], tables=tables)
    dining = DiningModel(snapshot, [], NOW)
    floor = live_floor(tables, {2: 2, 4: 2}, {}, snapshot, dining, NOW, clearing_minutes=0)
    assert floor.counts == {2: 1, 4: 2}
    assert floor.busy == {2: [(dining.mean(2, NOW), 0.0)], 4: [(dining.mean(8, seated), 30.0)] * 2}
    blocked = tuple(SnapshotTable(t.name, t.seats, state="blocked") for t in tables)
    assert live_floor(blocked, {2: 2, 4: 2}, {}, snapshot, dining, NOW, clearing_minutes=0).counts == {2: 2, 4: 2}
