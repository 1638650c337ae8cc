from __future__ import annotations

import pytest

from waitlist.domain.errors import InvalidInput
from waitlist.domain.model import (
    ACTIVE,
    EFFECTS,
    FINISHED,
    LEFT_LINE,
    MAX_QUOTE_MINUTES,
    MAY_RUN_LATE,
    QUOTE_BY_HOST,
    QUOTE_OVERRIDABLE,
    TRANSITIONS,
    UNDO_NOTIFY,
    UNDO_RESTORES,
    UNDOABLE,
    Effect,
    Party,
    Settings,
    Status,
    allowed_from,
    answered,
    can_transition,
    host_quote,
    may_undo,
    quote_range_text,
    remaining_host_quote,
    round_to_five,
    validate_settings_patch,
)

VALID = [
    (Status.PENDING, Status.WAITING),
    (Status.PENDING, Status.CANCELLED),
    (Status.WAITING, Status.NOTIFIED),
    (Status.WAITING, Status.SEATED),
    (Status.WAITING, Status.CANCELLED),
    (Status.WAITING, Status.NO_SHOW),
    (Status.NOTIFIED, Status.NOTIFIED),
    (Status.NOTIFIED, Status.SEATED),
    (Status.NOTIFIED, Status.CANCELLED),
    (Status.NOTIFIED, Status.NO_SHOW),
    (Status.SEATED, Status.COMPLETED),
]


@pytest.mark.parametrize(("source", "target"), VALID)
def test_documented_transitions_are_allowed(source: Status, target: Status) -> None:
    assert can_transition(source, target)


@pytest.mark.parametrize("source", list(Status))
@pytest.mark.parametrize("target", list(Status))
def test_every_other_transition_is_refused(source: Status, target: Status) -> None:
    if (source, target) not in VALID:
        assert not can_transition(source, target)


def test_finished_parties_can_only_be_completed_after_seating() -> None:
    assert allowed_from(Status.COMPLETED) == [Status.SEATED]
    assert set(allowed_from(Status.SEATED)) == set(ACTIVE)


def test_active_and_finished_partition_the_states() -> None:
    assert ACTIVE | FINISHED | {Status.PENDING} == set(Status)
    assert not ACTIVE & FINISHED


def test_every_status_a_transition_reaches_says_what_the_transition_does() -> None:
    reached = {target for targets in TRANSITIONS.values() for target in targets}
    assert set(EFFECTS) == reached


def test_the_statuses_that_leave_the_line_are_the_seat_and_the_drops() -> None:
    assert LEFT_LINE == {status for status, effect in EFFECTS.items() if effect in (Effect.SEAT, Effect.DROP)}
    assert LEFT_LINE == FINISHED - {Status.COMPLETED}


def test_undo_puts_back_parties_that_left_the_line_into_it_and_takes_a_notify_back_to_waiting() -> None:
    assert UNDOABLE == LEFT_LINE | {Status.NOTIFIED}
    assert UNDO_RESTORES == ACTIVE
    assert UNDO_NOTIFY == (Status.NOTIFIED, Status.WAITING)
    assert can_transition(Status.WAITING, UNDO_NOTIFY[0])  # a notify's undo only takes back a move from waiting


NOW = 1_790_000_000.0


def party(**overrides: object) -> Party:
    fields: dict[str, object] = {"id": "p", "restaurant": "r", "name": "Ana", "phone": "+14155550100",
                                 "party_size": 2, "joined_at": NOW - 600}
    fields.update(overrides)
    return Party(**fields)  # type: ignore[arg-type]


@pytest.mark.parametrize(("case", "overrides", "now", "offered"), [
    ("just notified", {"status": Status.NOTIFIED, "notified_at": NOW}, NOW + 59, True),
    ("notified over a minute ago", {"status": Status.NOTIFIED, "notified_at": NOW}, NOW + 61, False),
    ("the guest answered", {"status": Status.NOTIFIED, "notified_at": NOW, "answered_at": NOW + 5}, NOW + 10, False),
    ("an answer from before the notify", {"status": Status.NOTIFIED, "notified_at": NOW, "answered_at": NOW - 5},
     NOW + 10, True),
    ("just seated", {"status": Status.SEATED, "finished_at": NOW}, NOW + 30, True),
    ("seated over a minute ago", {"status": Status.SEATED, "finished_at": NOW}, NOW + 61, False),
    ("waiting", {"status": Status.WAITING}, NOW, False),
    ("completed", {"status": Status.COMPLETED, "finished_at": NOW}, NOW, False),
])
def test_undo_is_offered_within_the_window_and_for_a_notify_only_before_the_guest_answered(
        case: str, overrides: dict[str, object], now: float, offered: bool) -> None:
    assert may_undo(party(**overrides), now, 60) is offered, case


def test_an_answer_counts_only_after_the_notify() -> None:
    assert not answered(party(status=Status.WAITING, answered_at=NOW))
    assert answered(party(status=Status.NOTIFIED, notified_at=NOW, answered_at=NOW))


@pytest.mark.parametrize(("minutes", "quote"), [(45, (45, 40, 50)), (0, (0, 0, 5)), (240, (240, 235, 245))])
def test_a_host_quote_reads_as_a_range_around_it(minutes: int, quote: tuple[int, int, int]) -> None:
    assert host_quote(minutes) == quote
    assert quote_range_text(*quote[1:]) == f"{quote[1]}-{quote[2]}"


@pytest.mark.parametrize("minutes", [-1, MAX_QUOTE_MINUTES + 1, True])
def test_a_host_quote_out_of_range_is_refused_with_its_field(minutes: int) -> None:
    with pytest.raises(InvalidInput) as refused:
        host_quote(minutes)
    assert set(refused.value.fields) == {"quote_minutes"}


def test_a_host_quote_may_be_set_while_the_party_is_on_the_list() -> None:
    assert QUOTE_OVERRIDABLE == ACTIVE | {Status.PENDING}


def test_what_is_left_of_a_host_quote_counts_down_from_when_it_was_given() -> None:
    given = party(quote_minutes=45, quote_low=40, quote_high=50, quote_source=QUOTE_BY_HOST, quote_at=NOW)
    assert remaining_host_quote(given, NOW) == (45, 40, 50)
    assert remaining_host_quote(given, NOW + 20 * 60) == (25, 20, 30)
    assert remaining_host_quote(given, NOW + 90 * 60) == (0, 0, 0)
    assert remaining_host_quote(party(quote_minutes=45, quote_low=40, quote_high=50), NOW) is None
    assert given.quote_overridden and given.to_dict("u")["quote_overridden"] is True


def test_only_a_party_holding_a_place_can_run_late() -> None:
    assert MAY_RUN_LATE == ACTIVE


@pytest.mark.parametrize(("minutes", "rounded"), [(0, 0), (2.4, 0), (2.6, 5), (12, 10), (13, 15), (-3, 0)])
def test_minutes_round_to_five(minutes: float, rounded: int) -> None:
    assert round_to_five(minutes) == rounded


def test_a_range_is_never_empty() -> None:
    assert quote_range_text(0, 1) == "0-5"
    assert quote_range_text(14, 26) == "15-25"


def test_settings_patch_keeps_untouched_fields() -> None:
    merged = validate_settings_patch(Settings(), {"hold_minutes": 0.5, "tables": {"2": 6, "4": 2}})
    assert merged.hold_minutes == 0.5
    assert merged.almost_ready_position == 2
    assert merged.table_sizes() == [2, 4]
