"""The tables' rules in plain Python: a floor's validation, live states, joins, and who gets a table."""
from __future__ import annotations

from typing import Any

import pytest

from waitlist.domain.errors import InvalidInput
from waitlist.domain.model import Party, Restaurant, Settings, Status
from waitlist.domain.tables import (
    Table,
    TableState,
    can_hold,
    floor_from_json,
    floor_to_json,
    join_for,
    joinable,
    live_state,
    next_for_table,
    table_counts,
    table_joins,
    validate_floor,
)

NOW = 1_790_000_000.0


def party(pid: str, size: int, position: int | None = None, seating: str = "any", **overrides: Any) -> Party:
    fields: dict[str, Any] = {"id": pid, "restaurant": "r", "name": pid.upper(), "phone": "+14155550100",
                              "party_size": size, "position": position, "seating": seating,
                              "status": Status.WAITING if position else Status.NOTIFIED, **overrides}
    return Party(**fields)


# A small floor: 12 (4-top, min 2, indoor) joins 13 (2-top) which joins 14 (2-top); B1 a bar 2-top;
# 20 a lone 8-top outdoors (min 5).
FLOOR = (
    Table("12", 4, 2, "indoor", ("13",)),
    Table("13", 2, 1, "any", ("12", "14")),
    Table("14", 2, 1, "any", ("13",)),
    Table("B1", 2, 1, "bar"),
    Table("20", 8, 5, "outdoor"),
)


def states(**taken: str) -> dict[str, TableState]:
    """Every table free, except those given as name=state."""
    return {t.name: TableState(t, taken.get(f"t{t.name}", "free")) for t in FLOOR}


def by(name: str) -> Table:
    return next(t for t in FLOOR if t.name == name)


# --- who gets this table: a table of cases --------------------------------------------------------------

ROUTING = [
    # (table, line [(id, size, position, seating)], taken neighbours, expected [(id, reason, join_with)])
    ("12", [("a", 2, 1, "any"), ("b", 4, 2, "any")], {}, [("a", "fits", ()), ("b", "fits", ())]),
    ("12", [("a", 5, 1, "any"), ("b", 3, 2, "any")], {}, [("b", "fits", ()), ("a", "needs_join", ("13",))]),
    ("12", [("a", 7, 1, "any")], {}, [("a", "needs_join", ("13", "14"))]),
    ("12", [("a", 7, 1, "any")], {"t14": "occupied"}, []),
    ("12", [("a", 5, 1, "any")], {"t13": "held"}, []),
    ("12", [("a", 1, 1, "any"), ("b", 1, 2, "any")], {}, [("a", "smaller_party", ())]),
    ("12", [("a", 2, 1, "outdoor"), ("b", 2, 2, "indoor")], {}, [("b", "fits", ())]),
    ("12", [("a", 2, 1, "outdoor")], {}, []),
    ("13", [("a", 2, 1, "bar")], {}, [("a", "fits", ())]),
    ("B1", [("a", 2, 1, "indoor"), ("b", 2, 2, "bar")], {}, [("b", "fits", ())]),
    ("20", [("a", 2, 1, "any"), ("b", 3, 2, "outdoor")], {}, [("a", "smaller_party", ())]),
    ("20", [("a", 9, 1, "any")], {}, []),
    ("20", [("a", 6, 1, "any"), ("b", 2, 2, "any")], {}, [("a", "fits", ())]),
    ("14", [("a", 4, 1, "any"), ("b", 6, 2, "any"), ("c", 9, 3, "any")], {},
     [("a", "needs_join", ("13",)), ("b", "needs_join", ("12", "13"))]),
]


@pytest.mark.parametrize(("table", "line", "taken", "expected"), ROUTING)
def test_a_table_goes_to_the_parties_it_suits_best_first(table: str, line: list[tuple[str, int, int, str]],
                                                         taken: dict[str, str],
                                                         expected: list[tuple[str, str, tuple[str, ...]]]) -> None:
    parties = [party(pid, size, position, seating) for pid, size, position, seating in line]
    suggestions = next_for_table(by(table), states(**taken), parties)
    assert [(s.party_id, s.reason, s.join_with) for s in suggestions] == expected


def test_called_parties_without_tables_come_first_and_those_holding_tables_are_left_out() -> None:
    waiting = party("w", 2, 1)
    called_late = party("late", 2, notified_at=NOW + 60)
    called_early = party("early", 2, notified_at=NOW)
    holding = party("holding", 2, notified_at=NOW - 60, tables=["B1"])
    suggestions = next_for_table(by("12"), states(), [waiting, called_late, holding, called_early])
    assert [s.party_id for s in suggestions] == ["early", "late", "w"]
    assert suggestions[2].position == 1 and suggestions[0].position is None


def test_seated_and_pending_parties_are_never_suggested() -> None:
    parties = [party("s", 2, status=Status.SEATED), party("p", 2, status=Status.PENDING), party("w", 2, 1)]
    assert [s.party_id for s in next_for_table(by("12"), states(), parties)] == ["w"]


# --- joins --------------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("names", "expected"), [
    (["12"], True), (["12", "13"], True), (["12", "13", "14"], True), (["14", "12", "13"], True),
    (["12", "14"], False), (["12", "B1"], False), (["12", "nope"], False), ([], False),
])
def test_tables_join_when_joins_with_connects_them(names: list[str], expected: bool) -> None:
    assert joinable(FLOOR, names) is expected


def test_a_join_takes_the_fewest_then_smallest_free_neighbours() -> None:
    assert join_for(by("13"), states(), 4) == ("14",)  # 14 (2 seats) before 12 (4 seats)
    assert join_for(by("13"), states(t14="blocked"), 4) == ("12",)
    assert join_for(by("13"), states(), 8) == ("12", "14")
    assert join_for(by("13"), states(), 9) is None
    assert join_for(by("B1"), states(), 3) is None


@pytest.mark.parametrize(("size", "expected"), [(1, True), (8, True), (9, False), (20, False)])
def test_a_party_fits_when_some_table_or_join_seats_it(size: int, expected: bool) -> None:
    assert can_hold(FLOOR, size) is expected


def test_without_named_tables_no_party_is_flagged() -> None:
    assert can_hold((), 50)


# --- a floor's validation -----------------------------------------------------------------------------------

def test_a_floor_is_valid_and_its_joins_are_made_symmetric() -> None:
    floor = validate_floor([{"name": "1", "seats": 2, "joins_with": ["2"]}, {"name": "2", "seats": 4}], 20)
    assert floor == (Table("1", 2, 1, "any", ("2",)), Table("2", 4, 1, "any", ("1",)))
    assert floor_from_json(floor_to_json(floor)) == floor


def test_every_problem_of_a_floor_is_named_at_once() -> None:
    with pytest.raises(InvalidInput) as raised:
        validate_floor([{"name": "1", "seats": 30}, {"name": "1", "seats": 2},
                        {"name": "3", "seats": 2, "min_seats": 3}, {"name": "4", "seats": 2, "joins_with": ["4", "9"]},
                        {"name": "5", "seats": 2, "section": "roof"}], 20)
    problems = raised.value.fields["tables"]  # type: ignore[index]
    assert problems == [
        "table 1: the name is used twice",
        "table 1: seats must be between 1 and 20 (max_party_size)",
        "table 3: min_seats must be between 1 and its seats",
        "table 4: joins_with names the table itself",
        "table 4: joins_with names no table 9",
        "table 5: section must be one of any, indoor, outdoor, bar",
    ]


# --- live states ----------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("raw", "party_id", "since", "clearing", "expected"), [
    (None, "", None, 0, ("free", None, None)),
    ("held", "p1", NOW - 60, 0, ("held", "p1", NOW - 60)),
    ("occupied", "p1", NOW - 60, 5, ("occupied", "p1", NOW - 60)),
    ("blocked", "", NOW - 60, 5, ("blocked", None, NOW - 60)),
    ("cleared", "", NOW - 60, 5, ("clearing", None, NOW - 60)),
    ("cleared", "", NOW - 300, 5, ("free", None, NOW)),
    ("cleared", "", NOW - 600, 5, ("free", None, NOW - 300)),
    ("cleared", "", NOW - 1, 0, ("free", None, NOW - 1)),
])
def test_a_cleared_table_is_clearing_for_clearing_minutes_then_free(
        raw: str | None, party_id: str, since: float | None, clearing: float,
        expected: tuple[str, str | None, float | None]) -> None:
    state = live_state(by("12"), raw, party_id, since, now=NOW, clearing_minutes=clearing)
    assert (state.state, state.party_id, state.since) == expected


def test_named_tables_replace_the_count_by_size_setting_for_the_estimate() -> None:
    legacy = Restaurant(slug="r", name="R", sms_from="", settings=Settings(tables={"2": 6, "4": 8}))
    assert table_counts(legacy) == {"2": 6, "4": 8}
    named = Restaurant(slug="r", name="R", sms_from="", settings=Settings(tables={"2": 6}), floor=floor_to_json(FLOOR))
    assert table_counts(named) == {"4": 1, "2": 3, "8": 1}


def test_joins_come_from_the_setting_else_from_same_size_tables_that_join_on_the_floor() -> None:
    by_count = Restaurant(slug="r", name="R", sms_from="", settings=Settings(tables={"2": 6, "4": 8},
                                                                            joins=["4+4=8", "4+4+4=12"]))
    assert table_joins(by_count) == {8: (4, 2), 12: (4, 3)}
    assert table_joins(Restaurant(slug="r", name="R", sms_from="", settings=Settings(tables={"2": 6}))) is None
    # 13 and 14, two 2-tops, join: together they seat as many as the 4-top 12, so 3-4s take either.
    floor = Restaurant(slug="r", name="R", sms_from="", settings=Settings(), floor=floor_to_json(FLOOR[:4]))
    assert table_joins(floor) == {4: (2, 2)}
    pairs = (Table("1", 4, joins_with=("2",)), Table("2", 4, joins_with=("1", "3")), Table("3", 2, joins_with=("2",)))
    floor = Restaurant(slug="r", name="R", sms_from="", settings=Settings(), floor=floor_to_json(pairs))
    assert table_joins(floor) == {8: (4, 2)}
    floor.settings = Settings(joins=["4+4+4=12"])  # the setting, when given, is what the host does
    assert table_joins(floor) == {12: (4, 3)}
