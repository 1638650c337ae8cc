"""The evaluation's worlds (bench.worlds): the switches do what docs/estimator.md says they do."""
from __future__ import annotations

import random
import statistics

import pytest

from bench.simulate import RESTAURANTS
from bench.worlds import WORLDS, _WorldDay, inventory, simulate_booked_world
from waitlist.services.backtest import Event, replay


def day(world: str, free: dict[int, int], queue: list[tuple[str, int, int]]) -> _WorldDay:
    """A dinner day of ``world`` with these tables free and this line (party, size, class)."""
    sim = _WorldDay(RESTAURANTS["dinner"], random.Random(1), 0.0, 0, "p", world=WORLDS[world])
    sim.free, sim.queue = dict(free), list(queue)
    return sim


def seated(sim: _WorldDay) -> dict[str, tuple[int, int]]:
    """Party -> (seats of its tables, how many), from the seatings (or no-shows) the day has scheduled."""
    called = (payload for _at, _n, kind, payload in sim.timers if kind in ("seat", "no_show"))
    return {payload[0]: (payload[2], payload[3]) for payload in called}


def test_pairs_keeps_one_8_top_and_seats_a_big_party_at_two_4_tops_when_it_is_taken() -> None:
    assert inventory(RESTAURANTS["dinner"], WORLDS["pairs"]) == {2: 14, 4: 20, 6: 6, 8: 1}
    taken = day("pairs", {2: 0, 4: 2, 6: 0, 8: 0}, [("big", 7, 8)])
    taken.assign(0.0)
    assert seated(taken) == {"big": (4, 2)}
    free = day("pairs", {2: 0, 4: 2, 6: 0, 8: 1}, [("big", 7, 8)])
    free.assign(0.0)
    assert seated(free) == {"big": (8, 1)}  # the 8-top first
    base = day("base", {2: 0, 4: 2, 6: 0, 8: 0}, [("big", 7, 8)])
    base.assign(0.0)
    assert seated(base) == {}  # without pairs it waits for an 8-top


def test_a_greedy_host_seats_down_the_line_where_the_class_rule_keeps_the_table() -> None:
    line = [("two", 2, 2), ("five", 5, 6)]
    greedy = day("greedy", {2: 0, 4: 0, 6: 1, 8: 0}, line)
    greedy.assign(0.0)
    assert seated(greedy) == {"two": (6, 1)}
    by_class = day("base", {2: 0, 4: 0, 6: 1, 8: 0}, line)
    by_class.assign(0.0)
    assert seated(by_class) == {"five": (6, 1)}


def test_spread_draws_dining_times_with_its_own_spread() -> None:
    def cv(world: str) -> float:
        sim = day(world, {}, [])
        times = [sim.dining_seconds(4, 19 * 3600.0) for _ in range(4000)]
        return statistics.stdev(times) / statistics.fmean(times)

    assert abs(cv("spread") - 0.6) < 0.05
    assert abs(cv("base") - 0.35) < 0.03


def test_called_logs_each_call_as_a_notify_row_that_the_backtest_replays(capsys: pytest.CaptureFixture[str]) -> None:
    """In ``called`` every party that waited is called (``notify``) before it sits or is marked a no-show,
    and the log replays through the live service with nothing skipped; other worlds log no calls."""
    (stream, _bookings), = simulate_booked_world(RESTAURANTS["casual"], WORLDS["called"], 1, 3)
    rows = [Event(*row) for row in stream]
    notified = {e.party: e.t for e in rows if e.event == "notify"}
    ended = [e for e in rows if e.event in ("seat", "no_show")]
    assert ended and all(e.party in notified and notified[e.party] <= e.t for e in ended)
    assert len(replay(rows, {str(s): n for s, n in inventory(RESTAURANTS["casual"], WORLDS["called"]).items()}))
    assert "skipped" not in capsys.readouterr().err
    (base, _none), = simulate_booked_world(RESTAURANTS["casual"], WORLDS["turnover"], 1, 3)
    assert not any(event == "notify" for _t, event, _p, _s in base)
