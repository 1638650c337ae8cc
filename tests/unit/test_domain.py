from __future__ import annotations

import pytest

from waitlist.domain.model import (
    ACTIVE,
    EFFECTS,
    FINISHED,
    LEFT_LINE,
    MAY_RUN_LATE,
    TRANSITIONS,
    UNDO_RESTORES,
    UNDOABLE,
    Effect,
    Settings,
    Status,
    allowed_from,
    can_transition,
    quote_range_text,
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


def test_undo_puts_back_only_parties_that_left_the_line_and_only_into_it() -> None:
    assert UNDOABLE == LEFT_LINE
    assert UNDO_RESTORES == ACTIVE


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
