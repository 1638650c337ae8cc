"""The backtest replays events through the live service code and scores what it quoted."""
from __future__ import annotations

import io
import math

import click
import pytest
from flask import Flask

from waitlist.services.backtest import (
    EPOCH,
    Event,
    Quote,
    _Clock,
    accuracy,
    accuracy_table,
    actual_waits,
    parse_tables,
    read_events,
    replay,
    replay_event,
    replay_service,
    score,
)

EVENTS_CSV = """t,event,party,size
0,join,a,2
0,seat,a,2
60,join,b,2
120,join,c,4
600,cancel,c,4
1200,complete,a,2
1200,seat,b,2
1300,join,d,2
1300,seat,d,2
"""


def events(text: str = EVENTS_CSV) -> list[Event]:
    return read_events(io.StringIO(text))


@pytest.mark.parametrize(("text", "expected"), [
    (None, None),
    ("", None),
    ("2:6,4:8,6:2", {"2": 6, "4": 8, "6": 2}),
    (" 2:6 , 2:1", {"2": 7}),
])
def test_tables_option_reads_seats_count_pairs(text: str | None, expected: dict[str, int] | None) -> None:
    assert parse_tables(text) == expected


@pytest.mark.parametrize("text", ["2", "two:6", "2:-1", "2:6;4:8"])
def test_a_malformed_tables_option_is_refused(text: str) -> None:
    with pytest.raises(click.BadParameter):
        parse_tables(text)


@pytest.mark.parametrize("text", [
    "t,event,party,size\n0,arrive,a,2\n",
    "t,event,party,size\nsoon,join,a,2\n",
    "time,what,who\n0,join,a\n",
    "t,event,party,size\n0,join,a,\n",
    "t,event,party,size\n0,join\n",
])
def test_a_malformed_events_file_is_refused_with_its_line(text: str) -> None:
    with pytest.raises(click.BadParameter, match="line 2"):
        events(text)


def test_only_a_join_needs_its_size() -> None:
    rows = events("t,event,party,size\n0,join,a,2\n60,seat,a,\n900,complete,a\n")
    assert [(e.event, e.size) for e in rows] == [("join", 2), ("seat", 0), ("complete", 0)]


def test_events_are_replayed_in_time_order_keeping_file_order_within_a_second() -> None:
    shuffled = "t,event,party,size\n5,seat,a,2\n0,join,a,2\n5,join,b,4\n"
    assert [(e.t, e.event, e.party) for e in events(shuffled)] == [
        (0, "join", "a"), (5, "seat", "a"), (5, "join", "b")]


def test_actual_waits_run_from_join_to_seat_for_seated_parties_only() -> None:
    assert actual_waits(events()) == {"a": 0.0, "b": pytest.approx(19.0), "d": 0.0}


def test_replay_quotes_each_join_before_applying_it_with_the_live_estimator() -> None:
    quotes = replay(events(), {"2": 1})
    assert [q.party for q in quotes] == ["a", "b", "c", "d"]
    by_party = {q.party: q.quote_minutes for q in quotes}
    assert by_party["a"] == 0  # empty restaurant
    assert by_party["b"] > 0  # the only table is taken and "a" just sat down
    assert by_party["c"] >= by_party["b"]  # behind "b" for the same table
    assert by_party["d"] > 0  # "b" sat down a moment ago


def test_replay_skips_events_for_unknown_parties_and_keeps_going(capsys: pytest.CaptureFixture[str]) -> None:
    quotes = replay(events("t,event,party,size\n0,seat,ghost,2\n1,join,a,2\n2,complete,a,2\n"))
    assert [q.party for q in quotes] == ["a"]
    assert "complete a: skipped" in capsys.readouterr().err


NOTIFIED_CSV = """t,event,party,size
0,join,a,2
0,seat,a,2
60,join,b,2
1200,complete,a,2
1200,notify,b,2
1230,join,c,2
1500,seat,b,2
"""


def test_a_notify_row_calls_the_party_whose_wait_still_runs_to_its_seating(capsys: pytest.CaptureFixture[str]) -> None:
    """A log that records the host calling a party (``notify``) replays it through the live notify: the
    party is called (at the head of the line, its table held), its seating is applied, and its wait is
    scored from join to seat. A party joining while the only table is held for it is not quoted 0."""
    clock = _Clock()
    waitlist, restaurant, _redis = replay_service({"2": 1}, clock)
    ids: dict[str, str] = {}
    quotes = {}
    for n, event in enumerate(events(NOTIFIED_CSV)):
        clock.now = EPOCH + event.t
        quote = replay_event(waitlist, restaurant, event, n, ids)
        if quote is not None:
            quotes[quote.party] = quote.quote_minutes
        if (event.event, event.party) == ("notify", "b"):
            assert waitlist.party(restaurant, ids["b"]).status.value == "notified"
    assert waitlist.party(restaurant, ids["b"]).status.value == "seated"
    assert quotes["c"] > 0
    assert "skipped" not in capsys.readouterr().err
    assert actual_waits(events(NOTIFIED_CSV))["b"] == pytest.approx(24.0)
    assert [q.party for q in replay(events(NOTIFIED_CSV), {"2": 1})] == ["a", "b", "c"]


@pytest.mark.parametrize(("pairs", "mae", "within", "under"), [
    ([(10, 10)], 0.0, 1.0, 0.0),
    ([(10, 16)], 6.0, 0.0, 1.0),
    ([(10, 15)], 5.0, 1.0, 0.0),
    ([(20, 10), (10, 20), (10, 12), (10, 10)], 5.5, 0.5, 0.25),
])
def test_accuracy_is_mae_share_within_five_minutes_and_under_quote_rate(
        pairs: list[tuple[float, float]], mae: float, within: float, under: float) -> None:
    result = score("all", pairs)
    assert (result.mae, result.within_five, result.under_quoted) == (pytest.approx(mae), within, under)


def test_only_parties_that_waited_are_scored_overall_and_by_size() -> None:
    quotes = [Quote("a", 2, 0, 0), Quote("b", 2, 60, 25), Quote("c", 4, 120, 5), Quote("d", 2, 1300, 0)]
    rows = accuracy(events(), quotes)
    assert [(r.label, r.scored) for r in rows] == [("all", 1), ("size 2", 1)]
    assert rows[0].mae == pytest.approx(6.0)


def test_the_range_covered_is_the_share_of_waits_inside_the_range_told() -> None:
    pairs = [(10.0, 12.0), (10.0, 30.0), (10.0, 5.0), (10.0, 10.0)]
    assert score("all", pairs, [(5, 15), (5, 15), (5, 15), (10, 10)]).covered == 0.75
    assert math.isnan(score("all", pairs).covered)


def test_the_cli_writes_one_quote_per_join_and_prints_the_accuracy(app: Flask, tmp_path: object) -> None:
    from pathlib import Path

    folder = Path(str(tmp_path))
    (folder / "events.csv").write_text(EVENTS_CSV)
    out = folder / "quotes.csv"
    result = app.test_cli_runner().invoke(args=[
        "estimate", "backtest", str(folder / "events.csv"), "--out", str(out), "--tables", "2:1,4:1"])
    assert result.exit_code == 0, result.output
    lines = out.read_text().splitlines()
    assert lines[0] == "party,quote_minutes"
    assert [line.split(",")[0] for line in lines[1:]] == ["a", "b", "c", "d"]
    assert "| all | 1 |" in result.output
    assert "under-quoted" in result.output and "range covered" in result.output
    with_range = folder / "ranges.csv"
    result = app.test_cli_runner().invoke(args=[
        "estimate", "backtest", str(folder / "events.csv"), "--out", str(with_range), "--tables", "2:1,4:1",
        "--with-range"])
    assert result.exit_code == 0, result.output
    rows = with_range.read_text().splitlines()
    assert rows[0] == "party,quote_minutes,low,high"
    assert [row.split(",")[:2] for row in rows[1:]] == [line.split(",") for line in lines[1:]]
    assert all(int(low) <= int(quote) <= int(high) for _p, quote, low, high in (r.split(",") for r in rows[1:]))


JOINED_CSV = """t,event,party,size
0,join,a,4
0,seat,a,4
60,join,b,8
120,join,c,4
"""


def test_the_cli_takes_joins_and_quotes_a_big_party_for_two_tables(app: Flask, tmp_path: object) -> None:
    """Two 4-tops, one taken: with --joins 4+4=8 the 8 waits for the other to free too; without it the
    8 fits at the free 4-top at once. A join written wrong is refused with the CLI's usage error."""
    from pathlib import Path

    folder = Path(str(tmp_path))
    (folder / "events.csv").write_text(JOINED_CSV)

    def quotes(*extra: str) -> dict[str, int]:
        out = folder / "quotes.csv"
        result = app.test_cli_runner().invoke(args=[
            "estimate", "backtest", str(folder / "events.csv"), "--out", str(out), "--tables", "2:2,4:2", *extra])
        assert result.exit_code == 0, result.output
        rows = (line.split(",") for line in out.read_text().splitlines()[1:])
        return {party: int(minutes) for party, minutes in rows}

    assert quotes()["b"] == 0
    joined = quotes("--joins", "4+4=8")
    assert joined["b"] > 5 and joined["c"] > joined["b"]  # the 4 behind the 8 waits until the 8 has dined
    result = app.test_cli_runner().invoke(args=[
        "estimate", "backtest", str(folder / "events.csv"), "--out", str(folder / "x.csv"), "--tables", "2:2,4:2",
        "--joins", "4+4"])
    assert result.exit_code == 2 and "like 4+4=8" in result.output


EIGHT_TOP_CSV = """t,event,party,size
0,join,a,8
0,seat,a,8
60,join,b,7
"""


def test_the_cli_takes_a_join_as_big_as_a_table_and_quotes_its_parties_by_either(app: Flask, tmp_path: object) -> None:
    """One 8-top, just taken, and four free 4-tops: with --joins 4+4=8 the 7 can sit at two of them now;
    without it the 7 waits for the 8-top's party to dine."""
    from pathlib import Path

    folder = Path(str(tmp_path))
    (folder / "events.csv").write_text(EIGHT_TOP_CSV)

    def quote_of_b(*extra: str) -> int:
        out = folder / "quotes.csv"
        result = app.test_cli_runner().invoke(args=[
            "estimate", "backtest", str(folder / "events.csv"), "--out", str(out), "--tables", "2:2,4:4,8:1", *extra])
        assert result.exit_code == 0, result.output
        return int(dict(line.split(",") for line in out.read_text().splitlines()[1:])["b"])

    assert quote_of_b() > 30
    assert quote_of_b("--joins", "4+4=8") == 0


def test_a_table_with_nothing_scored_shows_no_figure_rather_than_nan() -> None:
    table = accuracy_table([score("all", [])])
    assert "| all | 0 | — | — | — | — |" in table and "nan" not in table
