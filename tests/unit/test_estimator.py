"""The estimator is plain Python: snapshots in, quotes out, no fixtures needed (but one store test)."""
from __future__ import annotations

from typing import Any

import fakeredis
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from waitlist.domain.model import Party, Status
from waitlist.estimate.dining import (
    DEFAULT_DINING_MINUTES,
    GAP_SAMPLES,
    MAX_GAP_MINUTES,
    DiningModel,
    drop_outs,
    holds_for_joins,
    hour_of_week,
    inferred_tables,
    joined_route,
    placements,
    remaining_fraction,
    same_class_count,
    table_class,
    table_need,
    table_turnover_gaps,
    tables_in_use,
)
from waitlist.estimate.estimator import (
    MAX_MINUTES,
    calibrated_quote,
    estimate_wait,
    estimate_waits,
    queue_rule_minutes,
)
from waitlist.estimate.snapshot import Snapshot
from waitlist.store import Store, codec, line_key

NOW = 1_790_000_000.0


def seated_tables(state: Snapshot, table_sizes: list[int], counts: dict[int, int], dining: DiningModel,
                  now: float, joins: Any = None) -> dict[int, list[tuple[float, float]]]:
    """Who sits at which class of table now, as ``busy_tables`` reads it when hosts record completions:
    ``tables_in_use`` of the ``placements``."""
    return tables_in_use(list(placements(state, table_sizes, counts, dining, now, joins)), table_sizes, counts,
                         dining, now)


TABLES = {"2": 4, "4": 4, "6": 2}


def minutes_ago(minutes: float) -> float:
    return NOW - minutes * 60


def history(fields: dict[str, str]) -> Any:
    """A history hash as the store keeps it (fields "h:<hour of week>"), read as the store's codec reads it."""
    return codec.history_from_hash(fields)


def snapshot(**overrides: Any) -> Snapshot:
    return Snapshot(**overrides)


def full_house(tables: dict[str, int] = TABLES, seated_minutes_ago: float = 10, size_of: Any = None,
               completed_turns: int = 6) -> dict[str, Any]:
    """Every table busy, seated ``seated_minutes_ago``, with a few recorded turns of the default length."""
    seatings = []
    for seats, count in tables.items():
        size = size_of(int(seats)) if size_of else int(seats)
        seatings += [(minutes_ago(seated_minutes_ago + i * 0.1), size, minutes_ago(seated_minutes_ago + 5))
                     for i in range(count)]
    turns = [(minutes_ago(200 + i), minutes_ago(200 + i) + 60 * DEFAULT_DINING_MINUTES[2], 2)
             for i in range(completed_turns)]
    old = [(s, z, s - 300) for s, _c, z in turns]
    return {"seatings": seatings + old, "turns": turns}


@pytest.mark.parametrize(("party_size", "table_sizes", "expected"), [
    (1, [], 2), (2, [], 2), (3, [], 4), (5, [], 6), (8, [], 8), (12, [], 8),
    (2, [2, 4, 6], 2), (3, [2, 4, 6], 4), (7, [2, 4, 6], 6), (1, [4], 4),
])
def test_table_class_is_the_smallest_table_that_seats_the_party(party_size: int, table_sizes: list[int],
                                                                 expected: int) -> None:
    assert table_class(party_size, table_sizes) == expected


@pytest.mark.parametrize("tables", [None, TABLES])
def test_an_empty_restaurant_quotes_no_wait(tables: dict[str, int] | None) -> None:
    estimate = estimate_wait(snapshot(), 4, tables=tables, now=NOW)
    assert (estimate.minutes, estimate.low, estimate.parties_ahead) == (0, 0, 0)


def test_a_full_house_quotes_a_wait_within_the_range() -> None:
    estimate = estimate_wait(snapshot(waiting_sizes=[2, 2], **full_house()), 2, tables=TABLES, now=NOW)
    assert 0 < estimate.low <= estimate.minutes <= estimate.high <= MAX_MINUTES + 30
    assert estimate.parties_ahead == 2


def test_a_party_of_two_is_not_held_up_by_parties_of_six() -> None:
    base = full_house()
    alone = estimate_wait(snapshot(waiting_sizes=[], **base), 2, tables=TABLES, now=NOW)
    behind_sixes = estimate_wait(snapshot(waiting_sizes=[6, 6, 6, 6], **base), 2, tables=TABLES, now=NOW)
    behind_twos = estimate_wait(snapshot(waiting_sizes=[2, 2, 2, 2], **base), 2, tables=TABLES, now=NOW)
    assert behind_sixes.minutes == alone.minutes
    assert behind_twos.minutes > alone.minutes


def test_a_free_four_top_seats_a_two_when_no_larger_party_waits() -> None:
    # Two-tops all just seated; four-tops: three busy, one free.
    tables = {"2": 3, "4": 4}
    seatings = [(minutes_ago(2), 2, minutes_ago(5)) for _ in range(3)]
    seatings += [(minutes_ago(3), 4, minutes_ago(5)) for _ in range(3)]
    turns = [(minutes_ago(100), minutes_ago(55), 2)]
    free_four = estimate_wait(snapshot(seatings=seatings, turns=turns), 2, tables=tables, now=NOW)
    four_waits = estimate_wait(snapshot(seatings=seatings, turns=turns, waiting_sizes=[4]), 2, tables=tables,
                               now=NOW)
    assert free_four.minutes == 0
    assert four_waits.minutes > 10


@pytest.mark.parametrize("tables", [TABLES, None])
def test_several_sizes_from_one_snapshot_quote_as_each_would_alone(tables: dict[str, int] | None) -> None:
    # The join page asks for 8 sizes at once; the work they share must not leak from one size to the next.
    state = snapshot(waiting_sizes=[2, 4, 3, 6, 1, 2, 5, 8, 2, 4], notified_sizes=[2], **full_house())
    together = estimate_waits(state, range(1, 9), tables=tables, now=NOW)
    assert together == {size: estimate_wait(state, size, tables=tables, now=NOW) for size in range(1, 9)}
    assert len({e.minutes for e in together.values()}) > 1


def test_a_two_seated_while_the_two_tops_were_taken_holds_the_four_top() -> None:
    # One 2-top, one 4-top. A sat 40 minutes ago at the 2-top; B, 5 minutes ago, could only get the 4-top.
    tables = {"2": 1, "4": 1}
    old_turn = (minutes_ago(200), minutes_ago(155), 2)
    seatings = [(minutes_ago(5), 2, minutes_ago(6)), (minutes_ago(40), 2, minutes_ago(41)),
                (old_turn[0], 2, old_turn[0] - 60)]
    state = snapshot(seatings=seatings, turns=[old_turn])
    busy = seated_tables(state, [2, 4], {2: 1, 4: 1}, DiningModel(state), NOW)
    assert [round(elapsed) for _mean, elapsed in busy[2]] == [40]
    assert [round(elapsed) for _mean, elapsed in busy[4]] == [5]
    # So a party of 4 waits for B's whole dinner, not for the end of A's.
    four = estimate_wait(snapshot(seatings=seatings, turns=[old_turn]), 4, tables=tables, now=NOW)
    assert four.minutes >= 30
    # Had A left before B came, B would have taken the 2-top and the 4-top would be free.
    early = [(minutes_ago(40), minutes_ago(10), 2), old_turn]
    assert estimate_wait(snapshot(seatings=seatings, turns=early), 4, tables=tables, now=NOW).minutes == 0


def test_a_four_waiting_takes_one_freed_four_top_and_leaves_the_next_to_the_two() -> None:
    # The 2-top was just taken; four 4-tops, seated 55 minutes ago, are about to free; a 4 waits.
    tables = {"2": 1, "4": 4}
    old_turn = (minutes_ago(300), minutes_ago(240), 4)
    seatings = [(minutes_ago(1), 2, minutes_ago(2))] + [(minutes_ago(55 + i), 4, minutes_ago(60)) for i in range(4)]
    seatings.append((old_turn[0], 4, old_turn[0] - 60))
    state = {"seatings": seatings, "turns": [old_turn]}
    alone = estimate_wait(snapshot(**state), 2, tables=tables, now=NOW)
    behind_a_four = estimate_wait(snapshot(waiting_sizes=[4], **state), 2, tables=tables, now=NOW)
    assert alone.minutes <= behind_a_four.minutes < 30  # not the 2-top's whole meal


def test_tables_turning_over_faster_shorten_the_quote() -> None:
    def with_turns(minutes: float) -> int:
        turns = [(minutes_ago(300 + i), minutes_ago(300 + i) + minutes * 60, size)
                 for i in range(40) for size in (2, 4, 6)]
        state = full_house(completed_turns=0)
        state["turns"] = turns
        state["seatings"] += [(s, z, s - 600) for s, _c, z in turns]
        return estimate_wait(snapshot(waiting_sizes=[2] * 6, **state), 2, tables=TABLES, now=NOW).minutes

    assert with_turns(30) < with_turns(60) < with_turns(120)


def test_parties_that_drop_out_shorten_the_wait_behind_them() -> None:
    state = full_house()
    patient = estimate_wait(snapshot(waiting_sizes=[2] * 8, **state), 2, tables=TABLES, now=NOW)
    drops = [(minutes_ago(30 + i), 2, minutes_ago(35 + i), "waiting", "cancelled") for i in range(60)]
    fickle = estimate_wait(snapshot(waiting_sizes=[2] * 8, drops=drops, **state), 2, tables=TABLES, now=NOW)
    assert fickle.minutes < patient.minutes


@pytest.mark.parametrize(("drops", "hazard_higher", "no_shows_higher"), [
    ([(NOW, 2, NOW - 600, "waiting", "cancelled")] * 20, True, False),
    ([(NOW, 2, NOW - 600, "notified", "no_show")] * 20, False, True),
    ([(NOW, 2, NOW - 600, "notified", "")] * 20, False, True),
])
def test_drop_outs_tell_cancellations_from_no_shows(drops: list[Any], hazard_higher: bool,
                                                    no_shows_higher: bool) -> None:
    base = drop_outs(snapshot())
    seen = drop_outs(snapshot(drops=drops))
    assert (seen.hazard > base.hazard) == hazard_higher
    assert (seen.no_show_rate > base.no_show_rate) == no_shows_higher


def test_the_restaurants_own_history_for_this_hour_sets_the_dining_time() -> None:
    how = hour_of_week(NOW)
    long_dinners = history({f"h:{how}": "100 12000 0 0 0 0 0 0 0 0 0"})  # 100 turns of 2s averaging 120 minutes
    assert DiningModel(snapshot()).mean(2, NOW) == DEFAULT_DINING_MINUTES[2]
    assert DiningModel(snapshot(history=long_dinners)).mean(2, NOW) == pytest.approx(117, abs=3)
    # The same hour on other weekdays informs this one, the other hours do not.
    other_day = history({f"h:{(how + 24) % 168}": "100 12000 0 0 0 0 0 0 0 0 0"})
    other_hour = history({f"h:{(how + 1) % 168}": "100 12000 0 0 0 0 0 0 0 0 0"})
    assert DiningModel(snapshot(history=other_day)).mean(2, NOW) > 100
    assert DiningModel(snapshot(history=other_hour)).mean(2, NOW) == DEFAULT_DINING_MINUTES[2]


def test_a_size_seldom_seen_dines_as_much_shorter_than_its_default_as_the_others() -> None:
    # A cafe: twenty 2s finished in 30 minutes (two thirds of the default); no party of 6 has dined yet.
    turns = [(minutes_ago(300 + i), minutes_ago(300 + i) + 30 * 60, 2) for i in range(20)]
    model = DiningModel(snapshot(turns=turns))
    assert model.mean(6, NOW) < 0.8 * DEFAULT_DINING_MINUTES[6]
    assert model.mean(2, NOW) < 0.8 * DEFAULT_DINING_MINUTES[2]


def test_tables_busy_longer_than_usual_lengthen_the_dining_time() -> None:
    still = [(minutes_ago(150), 2)] * 10
    turns = [(minutes_ago(500), minutes_ago(455), 2)]
    assert DiningModel(snapshot(turns=turns), still, NOW).mean(2, NOW) > 100


def test_an_hour_whose_parties_still_dine_is_not_judged_by_its_quick_finishers() -> None:
    # Ten 2s seated 40 minutes ago in this hour: the two who already left (20 minutes each) are all the
    # history has for it, the eight still at table have dined longer and will dine longer still.
    now = NOW // 3600 * 3600 + 50 * 60
    seated = now - 40 * 60
    quick = history({f"h:{hour_of_week(seated)}": "2 40 0 0 0 0 0 0 0 0 0"})
    assert DiningModel(snapshot(history=quick), [], now).mean(2, seated) < 40
    assert DiningModel(snapshot(history=quick), [(seated, 2)] * 8, now).mean(2, seated) > 45


def test_a_party_still_dining_is_expected_to_dine_as_long_as_its_hour_usually_does() -> None:
    # Dinner: 2s seated at this hour on the two days before dined 100 minutes; the restaurant's recent
    # turns are lunch's 40-minute meals. Tonight eight 2s seated 40 minutes ago are still at table: each
    # counts for tonight's hour with the length its hour usually runs (about 83 minutes, shrunk towards
    # the recent turns), not with lunch's (which read tonight's hour as 60 and under-quoted every party
    # waiting on those tables).
    now = NOW // 3600 * 3600 + 50 * 60
    seated = now - 40 * 60
    dinners = history({f"h:{hour_of_week(seated - day * 86_400)}": "6 600 0 0 0 0 0 0 0 0 0" for day in (1, 2)})
    lunch = [(now - (300 + i) * 60, now - (260 + i) * 60, 2) for i in range(40)]
    model = DiningModel(snapshot(history=dinners, turns=lunch), [(seated, 2)] * 8, now)
    assert model.mean(2, seated) > 75


@pytest.mark.parametrize("elapsed", [0.0, 0.5, 1.0, 2.0, 5.0])
def test_remaining_dining_time_is_positive_and_shrinks_less_than_time_passes(elapsed: float) -> None:
    assert 0 < remaining_fraction(elapsed) <= 1.0
    assert remaining_fraction(elapsed) + elapsed >= 1.0 - 1e-9


def test_the_status_page_estimate_counts_only_the_parties_ahead() -> None:
    state = full_house()
    line = [2, 4, 2, 2, 6]
    at_third = estimate_wait(snapshot(waiting_sizes=line, **state), 2, tables=TABLES, now=NOW, position=3)
    new_after_two = estimate_wait(snapshot(waiting_sizes=line[:2], **state), 2, tables=TABLES, now=NOW)
    assert at_third == new_after_two


def test_hosts_who_never_record_completions_still_get_quotes_from_seatings() -> None:
    seatings = [(minutes_ago(5 * i), 2, minutes_ago(5 * i + 10)) for i in range(12)]
    estimate = estimate_wait(snapshot(seatings=seatings, waiting_sizes=[2, 2, 2]), 2, tables={"2": 4}, now=NOW)
    assert 0 < estimate.minutes < MAX_MINUTES


def test_short_replayed_waits_are_quoted_longer_and_long_ones_shorter() -> None:
    assert calibrated_quote(5, 5) > 5
    assert calibrated_quote(10, 10) > 10
    assert calibrated_quote(150, 150) < 150
    assert calibrated_quote(0, 30) == 0  # a table is free now
    assert calibrated_quote(MAX_MINUTES, 10) == MAX_MINUTES


def test_a_wait_for_the_next_table_or_two_is_not_quoted_at_double() -> None:
    # The old map, 1 + 2 x wait^0.8 (7 minutes for a replayed 4), over-quoted the simulated cafe's parties
    # of 1-2 by 5 minutes on average; the map fitted on seeds 4-6 lifts short waits by a minute or two.
    assert calibrated_quote(2, 2) < 4
    assert calibrated_quote(4, 4) < 7


@given(a=st.floats(min_value=0, max_value=300), b=st.floats(min_value=0, max_value=300),
       rule=st.floats(min_value=0, max_value=300), more_rule=st.floats(min_value=0, max_value=300))
def test_the_calibrated_quote_never_shrinks_as_either_input_grows(a: float, b: float, rule: float,
                                                                   more_rule: float) -> None:
    low, high = sorted((a, b))
    assert calibrated_quote(low, rule) <= calibrated_quote(high, rule)
    assert calibrated_quote(low, min(rule, more_rule)) <= calibrated_quote(low, max(rule, more_rule))


def test_the_queue_rule_counts_only_the_class_ahead_and_divides_by_its_tables() -> None:
    state = snapshot()
    dining = DiningModel(state)
    rule = queue_rule_minutes(state, [2, 4, 4, 6], 4, [2, 4, 6], {2: 4, 4: 2, 6: 1}, dining, NOW)
    stays = 1 - 1 / 10  # no history yet: one drop-out in ten assumed
    assert rule == pytest.approx((2 * stays + 1) * DEFAULT_DINING_MINUTES[4] / 2)


def test_an_enormous_line_is_capped_not_absurd() -> None:
    estimate = estimate_wait(snapshot(waiting_sizes=[2] * 2000, **full_house()), 2, tables=TABLES, now=NOW)
    assert estimate.minutes == MAX_MINUTES


sizes = st.integers(min_value=1, max_value=10)
lines = st.lists(sizes, max_size=25)
inventories = st.one_of(st.none(), st.dictionaries(st.sampled_from(["2", "4", "6", "8"]),
                                                   st.integers(min_value=1, max_value=6), min_size=1))


@settings(max_examples=150, deadline=None)
@given(line=lines, extra=st.lists(sizes, min_size=1, max_size=5), party_size=sizes, tables=inventories,
       seated_ago=st.floats(min_value=0, max_value=200), turns=st.integers(min_value=0, max_value=8))
def test_a_longer_line_never_quotes_less_for_the_same_party(line: list[int], extra: list[int], party_size: int,
                                                          tables: dict[str, int] | None, seated_ago: float,
                                                          turns: int) -> None:
    state = full_house(tables or TABLES, seated_minutes_ago=seated_ago, completed_turns=turns)
    shorter = estimate_wait(snapshot(waiting_sizes=line, **state), party_size, tables=tables, now=NOW)
    longer = estimate_wait(snapshot(waiting_sizes=line + extra, **state), party_size, tables=tables, now=NOW)
    assert longer.minutes >= shorter.minutes
    assert longer.high >= shorter.minutes


@settings(max_examples=150, deadline=None)
@given(line=lines, notified=st.lists(sizes, max_size=4), party_size=sizes, tables=inventories,
       seatings=st.lists(st.tuples(st.floats(min_value=-30, max_value=600), sizes), max_size=30),
       drops=st.lists(st.tuples(st.floats(min_value=0, max_value=300), sizes), max_size=10))
def test_quotes_are_never_negative_or_absurd(line: list[int], notified: list[int], party_size: int,
                                             tables: dict[str, int] | None, seatings: list[tuple[float, int]],
                                             drops: list[tuple[float, int]]) -> None:
    state = snapshot(
        waiting_sizes=line, notified_sizes=notified,
        seatings=[(minutes_ago(ago), size, minutes_ago(ago + 10)) for ago, size in seatings],
        turns=[(minutes_ago(ago), minutes_ago(ago) + 2700, size) for ago, size in seatings if ago > 45],
        drops=[(minutes_ago(ago), size, minutes_ago(ago + 20), "waiting", "cancelled") for ago, size in drops],
    )
    estimate = estimate_wait(state, party_size, tables=tables, now=NOW)
    assert 0 <= estimate.low <= estimate.minutes <= estimate.high <= MAX_MINUTES
    assert estimate.parties_ahead == len(line)


def test_the_store_folds_finished_parties_into_the_hour_of_week_history() -> None:
    store = Store(fakeredis.FakeRedis(decode_responses=True))
    joined = NOW - 3600
    for n in range(3):
        party = Party(id=f"p{n}", restaurant="r", name="A", phone=f"+1415555{n:04d}", party_size=2, token=f"t{n}",
                      joined_at=joined)
        store.join("r", party, now=joined, actor="host", almost_ready_position=2)
        for target, at in ((Status.SEATED, joined + 600), (Status.COMPLETED, joined + 600 + 45 * 60)):
            store.transition("r", f"p{n}", target, allowed=[Status.WAITING, Status.SEATED], now=at, actor="host",
                             almost_ready_position=2)
    def dumped() -> dict[str, Any]:
        return {key: store.redis.dump(key) for key in store.redis.keys("*")}

    before = dumped()
    first = store.snapshot("r")
    after_first = dumped()
    again = store.snapshot("r")
    # Reading keeps the history as it is: the first read writes only the line's sizes (store.line_key),
    # and a second read writes nothing.
    assert {key: value for key, value in after_first.items() if key != line_key("r")} == before
    assert dumped() == after_first
    hour = again.history[hour_of_week(joined + 600)]
    assert first.history == again.history
    assert hour.dining(0) == (3, pytest.approx(135))
    assert hour.seatings == 3
    assert len(first.turns) == 3


def test_drop_outs_count_in_the_history_by_the_hour_they_left() -> None:
    store = Store(fakeredis.FakeRedis(decode_responses=True))
    joined = NOW - 3600
    for n, target in enumerate((Status.CANCELLED, Status.NO_SHOW)):
        party = Party(id=f"p{n}", restaurant="r", name="A", phone=f"+1415555{n:04d}", party_size=4, token=f"t{n}",
                      joined_at=joined)
        store.join("r", party, now=joined, actor="host", almost_ready_position=2)
        store.transition("r", f"p{n}", target, allowed=[Status.WAITING], now=joined + 1200, actor="host",
                         almost_ready_position=2)
    hour = store.snapshot("r").history[hour_of_week(joined + 1200)]
    assert (hour.seatings, hour.drops, hour.waited_minutes) == (0, 2, 40)  # two drop-outs, 20 minutes waited each


# --- tables pushed together (joins) ------------------------------------------------------------------------

JOINED = {8: (4, 2)}
"""Two 4-tops pushed together seat up to 8; no table seats more than 4."""


def test_a_party_bigger_than_every_table_needs_the_tables_of_its_join() -> None:
    assert table_need(8, [2, 4], JOINED) == (4, 2)
    assert table_need(5, [2, 4], JOINED) == (4, 2)
    assert table_need(4, [2, 4], JOINED) == (4, 1)
    assert table_need(8, [2, 4]) == (4, 1)  # no joins: the biggest table, as before
    assert table_need(7, [2, 4, 6], {8: (4, 2), 12: (6, 2)}) == (4, 2)  # the smallest join that seats it
    assert same_class_count([8, 4, 2, 7], 4, [2, 4], JOINED) == 5
    # A join of tables the inventory lacks (no 4-tops here) is left out: the biggest table, as without.
    assert table_need(8, [2, 6], JOINED) == (6, 1)
    assert estimate_wait(snapshot(waiting_sizes=[8, 2]), 8, tables={"2": 2, "6": 1}, now=NOW, joins=JOINED).minutes >= 0


def test_a_seated_party_at_joined_tables_keeps_both_busy() -> None:
    seatings = [(minutes_ago(20), 8, minutes_ago(30)), (minutes_ago(10), 4, minutes_ago(15))]
    state = snapshot(seatings=seatings, turns=[(minutes_ago(300), minutes_ago(240), 4)])
    busy = seated_tables(state, [2, 4], {2: 2, 4: 3}, DiningModel(state), NOW, JOINED)
    assert sorted(round(elapsed) for _mean, elapsed in busy[4]) == [10, 20, 20]
    # Without the join the 8 takes one 4-top, and a third 4-top looks free to a party of 4.
    assert len(seated_tables(state, [2, 4], {2: 2, 4: 3}, DiningModel(state), NOW)[4]) == 2
    tables = {"2": 2, "4": 3}
    assert estimate_wait(state, 4, tables=tables, now=NOW).minutes == 0
    assert estimate_wait(state, 4, tables=tables, now=NOW, joins=JOINED).minutes > 5


def test_a_party_at_joined_tables_waits_for_two_and_so_does_the_line_behind_it() -> None:
    # Four 4-tops, all seated at once an hour ago, so they free at about the same time.
    tables = {"2": 2, "4": 4}
    seatings = [(minutes_ago(40 + i), 4, minutes_ago(50 + i)) for i in range(4)]
    turns = [(minutes_ago(300 + i), minutes_ago(240 + i), 4) for i in range(6)]
    base = {"seatings": seatings + [(s, z, s - 300) for s, _c, z in turns], "turns": turns}
    one_free = {**base, "seatings": base["seatings"][1:]}
    # One 4-top is free: a party of 4 sits now, a party of 8 waits for a second one.
    assert estimate_wait(snapshot(**one_free), 4, tables=tables, now=NOW, joins=JOINED).minutes == 0
    assert estimate_wait(snapshot(**one_free), 8, tables=tables, now=NOW, joins=JOINED).minutes > 5
    # A 4 behind a waiting 8 waits for the third 4-top to free; behind a waiting 4, for the second.
    behind_eight = estimate_wait(snapshot(waiting_sizes=[8], **base), 4, tables=tables, now=NOW, joins=JOINED)
    behind_four = estimate_wait(snapshot(waiting_sizes=[4], **base), 4, tables=tables, now=NOW, joins=JOINED)
    assert behind_eight.minutes > behind_four.minutes


def test_a_party_that_fits_the_8_top_or_two_4_tops_pushed_together_waits_for_whichever_frees_first() -> None:
    assert joined_route(7, [2, 4, 8], JOINED) == 8
    assert joined_route(5, [2, 4, 8], JOINED) == 8  # a cafe with no 6-top: its 5-6s too
    assert joined_route(5, [2, 4, 6, 8], JOINED) is None  # they have the 6-tops
    assert joined_route(4, [2, 4, 8], JOINED) is None
    assert joined_route(8, [2, 4], JOINED) is None  # no 8-top: the join is its only way (table_need)
    assert joined_route(8, [2, 4, 8]) is None
    # The 8-top's party sat down 5 minutes ago; the four 4-tops' 50 minutes ago, so they free first.
    tables = {"2": 2, "4": 4, "8": 1}
    four_tops = [(minutes_ago(50 + i), 4, minutes_ago(55 + i)) for i in range(4)]
    turns = [(minutes_ago(300 + i), minutes_ago(240 + i), 4) for i in range(6)]
    state = snapshot(seatings=[(minutes_ago(5), 8, minutes_ago(10)), *four_tops], turns=turns)
    for_the_8_top = estimate_wait(state, 8, tables=tables, now=NOW)
    either = estimate_wait(state, 8, tables=tables, now=NOW, joins=JOINED)
    assert either.minutes < for_the_8_top.minutes - 30
    assert either.minutes > estimate_wait(state, 4, tables=tables, now=NOW, joins=JOINED).minutes  # two, not one
    # Two 4-tops free: it can sit now, though the 8-top is taken.
    two_free = snapshot(seatings=[(minutes_ago(5), 8, minutes_ago(10)), *four_tops[:2]], turns=turns)
    assert estimate_wait(two_free, 8, tables=tables, now=NOW, joins=JOINED).minutes == 0
    assert estimate_wait(two_free, 8, tables=tables, now=NOW).minutes > 30


def test_parties_too_big_for_the_join_do_not_wait_for_its_tables() -> None:
    # 2-tops pushed together seat 3-4 beside the one 4-top; the 5-6s ahead wait for the 6-tops only.
    tables, joins = {"2": 4, "4": 1, "6": 2}, {4: (2, 2)}
    seatings = ([(minutes_ago(30 + i), 2, minutes_ago(35 + i)) for i in range(4)]
                + [(minutes_ago(5), 4, minutes_ago(6))]
                + [(minutes_ago(10 + i), 6, minutes_ago(12 + i)) for i in range(2)])
    turns = [(minutes_ago(300 + i), minutes_ago(240 + i), 2) for i in range(6)]
    alone = estimate_wait(snapshot(seatings=seatings, turns=turns), 3, tables=tables, now=NOW, joins=joins)
    behind_sixes = estimate_wait(snapshot(seatings=seatings, turns=turns, waiting_sizes=[6, 6, 6, 6]), 3,
                                 tables=tables, now=NOW, joins=joins)
    behind_twos = estimate_wait(snapshot(seatings=seatings, turns=turns, waiting_sizes=[2, 2]), 3,
                                tables=tables, now=NOW, joins=joins)
    assert behind_sixes.minutes == alone.minutes < behind_twos.minutes  # the 2s take the 2-tops it would join


def test_a_big_party_seated_while_the_8_top_was_taken_sits_at_two_4_tops() -> None:
    seatings = [(minutes_ago(10), 7, minutes_ago(30)), (minutes_ago(20), 8, minutes_ago(25))]
    state = snapshot(seatings=seatings, turns=[(minutes_ago(300), minutes_ago(240), 4)])
    busy = seated_tables(state, [2, 4, 8], {2: 2, 4: 3, 8: 1}, DiningModel(state), NOW, JOINED)
    assert [round(elapsed) for _mean, elapsed in busy[8]] == [20]
    assert [round(elapsed) for _mean, elapsed in busy[4]] == [10, 10]
    # Without the join the 7 is taken to be at the 8-top too (the newest kept), and every 4-top free.
    assert seated_tables(state, [2, 4, 8], {2: 2, 4: 3, 8: 1}, DiningModel(state), NOW)[4] == []


Episode = tuple[list[tuple[float, int, float]], list[tuple[float, float, int]]]
"""Seatings and turns of a stretch of the log."""


def big_seated_before_a_four(start_minutes_ago: float, big_first: bool, big: int = 8,
                             big_waits: float = 10.0) -> Episode:
    """An episode of the log, long finished: a 4 joins, then a big party; the big party is seated after
    ``big_waits`` minutes, the 4 either after it (``big_first``: a host who held tables for it) or before."""
    four_joined, big_joined = minutes_ago(start_minutes_ago), minutes_ago(start_minutes_ago - 2)
    big_seated = big_joined + 60 * big_waits
    four_seated = big_seated + 300 if big_first else big_seated - 300
    seatings = [(four_seated, 4, four_joined), (big_seated, big, big_joined)]
    turns = [(four_seated, four_seated + 3600, 4), (big_seated, big_seated + 3600, big)]
    return seatings, turns


def log_of(*episodes: Episode) -> Snapshot:
    return snapshot(seatings=[s for seatings, _t in episodes for s in seatings],
                    turns=[t for _s, turns in episodes for t in turns])


def holds(log: Snapshot, sizes: list[int], counts: dict[int, int], joins: Any) -> bool:
    return holds_for_joins(list(placements(log, sizes, counts, DiningModel(log), NOW, joins)), sizes, joins)


def test_a_host_who_seats_big_parties_before_the_4s_who_came_first_is_read_as_holding_tables() -> None:
    sizes, counts = [2, 4], {2: 2, 4: 4}
    held = [big_seated_before_a_four(400 - 100 * i, big_first=True) for i in range(3)]
    in_order = [big_seated_before_a_four(400 - 100 * i, big_first=False) for i in range(3)]
    assert holds(log_of(*held), sizes, counts, JOINED)
    assert not holds(log_of(*in_order), sizes, counts, JOINED)
    assert not holds(log_of(*held), sizes, counts, None)  # no joins: nothing to hold for
    assert not holds(snapshot(), sizes, counts, JOINED)  # nothing seen: line order
    # As many each way is not a habit; a big party seated at once found its tables free.
    assert not holds(log_of(held[0], in_order[1]), sizes, counts, JOINED)
    at_once = [big_seated_before_a_four(400 - 100 * i, big_first=True, big_waits=0.5) for i in range(3)]
    assert not holds(log_of(*at_once), sizes, counts, JOINED)


def test_each_placement_keeps_its_own_partys_join_time() -> None:
    # Two 2s seated in the same second joined at different times: each placement says when its party
    # joined, so the one seated at once is not taken for one who waited (a map keyed by seating kept one).
    seated = minutes_ago(30)
    log = snapshot(seatings=[(seated, 2, minutes_ago(50)), (seated, 2, seated - 20)])
    placed = list(placements(log, [2, 4], {2: 4, 4: 2}, DiningModel(log), NOW))
    assert sorted(p.joined_at for p in placed) == [minutes_ago(50), seated - 20]
    assert sorted(p.waited for p in placed) == [False, True]


def test_a_big_party_that_had_the_8_top_free_says_nothing_of_holding() -> None:
    sizes, counts = [2, 4, 8], {2: 2, 4: 4, 8: 1}
    held = [big_seated_before_a_four(400 - 100 * i, big_first=True, big=7) for i in range(3)]
    assert not holds(log_of(*held), sizes, counts, JOINED)  # each sat at the free 8-top
    # With a party at the 8-top all along, they sat at two 4-tops pushed together, ahead of the 4s.
    at_the_8_top = [(minutes_ago(450), 8, minutes_ago(460))], [(minutes_ago(450), minutes_ago(50), 8)]
    assert holds(log_of(at_the_8_top, *held), sizes, counts, JOINED)


def test_at_a_host_who_holds_tables_a_big_party_waits_behind_the_big_parties_ahead_only() -> None:
    # Four 4-tops busy (seated 40-43 minutes ago), five 4s waiting ahead of a party of 8.
    tables = {"2": 2, "4": 4}
    seatings = [(minutes_ago(40 + i), 4, minutes_ago(50 + i)) for i in range(4)]
    turns = [(minutes_ago(300 + i), minutes_ago(240 + i), 4) for i in range(6)]
    old = [(s, z, s - 300) for s, _c, z in turns]

    def quote(*episodes: Episode) -> int:
        log = log_of((seatings + old, turns), *episodes)
        line = snapshot(seatings=log.seatings, turns=log.turns, waiting_sizes=[4, 4, 4, 4, 4])
        return estimate_wait(line, 8, tables=tables, now=NOW, joins=JOINED).minutes

    held = [big_seated_before_a_four(700 - 100 * i, big_first=True) for i in range(3)]
    in_order = [big_seated_before_a_four(700 - 100 * i, big_first=False) for i in range(3)]
    assert quote(*held) < quote(*in_order) - 20
    assert abs(quote(*in_order) - quote()) <= 2  # no habit seen: behind everyone in line, as before



def test_at_a_host_who_holds_tables_a_4_waits_for_the_big_parties_ahead_that_take_two_4_tops() -> None:
    # An 8-top and four 4-tops, all busy; the 7s have two ways to a table: the 8-top, or two 4-tops.
    tables = {"2": 2, "4": 4, "8": 1}
    seatings = [(minutes_ago(40 + i), 4, minutes_ago(50 + i)) for i in range(4)]
    seatings.append((minutes_ago(20), 8, minutes_ago(30)))
    turns = [(minutes_ago(300 + i), minutes_ago(240 + i), 4) for i in range(6)]
    old = [(s, z, s - 300) for s, _c, z in turns]
    # Earlier, while a party sat at the 8-top, three 7s were seated at two 4-tops pushed together.
    at_the_8_top = [(minutes_ago(750), 8, minutes_ago(760))], [(minutes_ago(750), minutes_ago(350), 8)]

    def quote(ahead: list[int], *episodes: Episode) -> int:
        log = log_of((seatings + old, turns), at_the_8_top, *episodes)
        line = snapshot(seatings=log.seatings, turns=log.turns, waiting_sizes=ahead)
        return estimate_wait(line, 4, tables=tables, now=NOW, joins=JOINED).minutes

    held = [big_seated_before_a_four(700 - 100 * i, big_first=True, big=7) for i in range(3)]
    in_order = [big_seated_before_a_four(700 - 100 * i, big_first=False, big=7) for i in range(3)]
    # A host who seated them before the 4s who came first: a 7 ahead takes two of the 4-tops as often as
    # the 7s lately did (3 of the 5 parties with two ways who waited), so the 4 waits longer behind it.
    assert quote([7], *held) >= quote([], *held) + 4
    assert quote([7, 7], *held) > quote([7], *held)
    # A host who seats in line order: a 7 ahead waits for the 8-top or two 4-tops free at once.
    assert quote([7], *in_order) == quote([], *in_order)

# --- a restaurant that gave no inventory --------------------------------------------------------------------

def dined(start_minutes_ago: float, minutes: float,
          size: int) -> tuple[tuple[float, int, float], tuple[float, float, int]]:
    seated = minutes_ago(start_minutes_ago)
    return (seated, size, seated - 600), (seated, seated + 60 * minutes, size)


def test_the_inventory_is_read_off_the_most_parties_dining_at_once_biggest_class_first() -> None:
    # A full house yesterday: three 2s at 2-tops and one more at a 4-top, two 4s, a 7 at the 8-top.
    full = [dined(1500, 60, 2)] * 4 + [dined(1500, 60, 4)] * 2 + [dined(1500, 60, 7)]
    # Earlier, at another hour, five 2s dined at once: a peak of 2s that is not five 2-tops.
    early = [dined(1700, 40, 1)] * 5
    spare = [dined(1800 + 10 * i, 5, 2) for i in range(20)]  # enough completed turns to go by
    seatings, turns = zip(*(full + early + spare))
    state = snapshot(seatings=sorted(seatings, reverse=True), turns=list(turns))
    recent = dined(30, 20, 2)
    state = snapshot(seatings=[recent[0], *state.seatings], turns=[*state.turns, recent[1]])
    # 7 at once in all; 7-8s at most 1 (an 8-top), 3-8s at most 3: one 8-top, two 4-tops, four "2-tops".
    assert inferred_tables(state, NOW) == {"2": 4, "4": 2, "8": 1}
    # Too few turns to go by: no guess, and the estimator keeps its queue-length rule.
    few = snapshot(seatings=[recent[0], *seatings[:8]], turns=[recent[1], *turns[:8]])
    assert inferred_tables(few, NOW) is None


def test_the_morning_after_the_inventory_is_still_read_until_a_first_meal_runs_past_hours() -> None:
    # Yesterday's full house, all recorded; this morning a first party sat down 30 minutes ago. Nothing
    # completed for 20 hours, but nobody seated since has dined long: hosts still record completions.
    full = [dined(1500, 60, 2)] * 4 + [dined(1500, 60, 4)] * 2 + [dined(1500, 60, 7)]
    spare = [dined(1800 + 10 * i, 5, 2) for i in range(20)]
    seatings, turns = zip(*(full + spare))
    yesterday = snapshot(seatings=sorted(seatings, reverse=True), turns=list(turns))
    assert inferred_tables(yesterday, NOW) == {"2": 4, "4": 2, "8": 1}  # nobody at table yet
    morning = snapshot(seatings=[(minutes_ago(30), 2, minutes_ago(35)), *yesterday.seatings], turns=yesterday.turns)
    assert inferred_tables(morning, NOW) == {"2": 4, "4": 2, "8": 1}
    # Seated five hours ago with no completion recorded since: hosts stopped recording them.
    stopped = snapshot(seatings=[(minutes_ago(300), 2, minutes_ago(305)), *yesterday.seatings], turns=yesterday.turns)
    assert inferred_tables(stopped, NOW) is None


def test_without_an_inventory_the_quote_replays_the_tables_read_off_the_log() -> None:
    # Ten 4-tops all taken 50 minutes ago, a long record of 60-minute turns: a party of 4 waits ~10 min.
    history = [dined(200 + i, 60, 4) for i in range(10)] + [dined(400 + i, 60, 4) for i in range(10)]
    busy = [dined(50 + i * 0.1, 200, 4)[0] for i in range(10)]
    seatings, turns = zip(*history)
    recent = dined(130, 60, 4)  # left before the ten sat down
    state = snapshot(seatings=sorted([*busy, *seatings, recent[0]], reverse=True), turns=[*turns, recent[1]])
    assert inferred_tables(state, NOW) == {"4": 10}
    first = estimate_wait(state, 4, tables=None, now=NOW)
    assert 3 <= first.minutes <= 30
    # Five 4s waiting ahead: the first five tables to free go to them.
    behind = estimate_wait(snapshot(**{**state.__dict__, "waiting_sizes": [4] * 5}), 4, tables=None, now=NOW)
    assert behind.minutes > first.minutes


def test_a_table_sizes_own_turnover_gap_is_the_median_of_its_newest_measured() -> None:
    gaps = ((2, 3.0), (2, 9.0), (2, 4.0), (2, 60.0), (2, 5.0), (4, 8.0), (4, 8.0), (4, 8.0), (4, 8.0))
    assert table_turnover_gaps(Snapshot(table_gaps=gaps)) == {2: 5.0}  # four 4-top gaps are too few
    newest = ((6, 2.0),) * GAP_SAMPLES + ((6, 30.0),) * GAP_SAMPLES
    assert table_turnover_gaps(Snapshot(table_gaps=newest)) == {6: 2.0}
    assert table_turnover_gaps(Snapshot(table_gaps=((8, 90.0),) * 5)) == {8: MAX_GAP_MINUTES}


def test_a_table_sizes_own_turnover_gap_delays_only_the_parties_seated_at_that_size() -> None:
    """Every table busy: 2-tops measured at 10 minutes from a party leaving to the next sitting down
    lengthen a party of 2's wait, and leave a party of 6's (whose class has no 2-tops) as it was."""
    state = full_house(seated_minutes_ago=30)
    slow_twos = ((2, 10.0),) * 8
    for size, longer in ((2, True), (6, False)):
        plain = estimate_wait(snapshot(**state), size, tables=TABLES, now=NOW)
        gapped = estimate_wait(snapshot(**state, table_gaps=slow_twos), size, tables=TABLES, now=NOW)
        assert (gapped.raw > plain.raw + 5) if longer else (gapped == plain)
