"""The Lua scripts as loaded (waitlist.store.scripts): every file is a script Redis runs, with its
includes and constants filled in, and every refusal a script answers is an error of the family."""
from __future__ import annotations

from importlib import resources

import pytest

from waitlist.domain.errors import (
    AlreadyWaiting,
    InvalidInput,
    InvalidTransition,
    LimitReached,
    PartyNotFound,
    PhoneTaken,
    RemoteFull,
    StaleHold,
    UndoTooLate,
    WaitlistError,
)
from waitlist.store import scripts


def lua_files() -> set[str]:
    folder = resources.files("waitlist.store").joinpath("lua")
    return {entry.name.removesuffix(".lua") for entry in folder.iterdir() if entry.name.endswith(".lua")}


def test_every_lua_file_is_a_registered_script() -> None:
    assert lua_files() == set(scripts.NAMES)


@pytest.mark.parametrize("name", scripts.NAMES)
def test_a_script_as_loaded_has_its_includes_and_constants_filled_in(name: str) -> None:
    source = scripts.source(name)
    assert "--- @include" not in source and "{{" not in source
    assert source.count("local function add_event(") <= 1  # an include is pulled in once
    assert source.count("local function line_change(") <= 1


@pytest.mark.parametrize("name", scripts.NAMES)
def test_a_script_header_lists_its_keys_and_results(name: str) -> None:
    header = scripts._read(name).split("\n--- @include", 1)[0]
    assert "KEYS[1]" in header and "-> " in header


@pytest.mark.parametrize(("reply", "error", "extra"), [
    (["not_found"], PartyNotFound, {}),
    (["invalid", "seated"], InvalidTransition, {"current_status": "seated"}),
    (["stale", "notified"], StaleHold, {"current_status": "notified"}),
    (["too_late", "seated"], UndoTooLate, {"current_status": "seated"}),
    (["phone_taken", "cancelled"], PhoneTaken, {"current_status": "cancelled"}),
    (["already_waiting", "p2"], AlreadyWaiting, {"party_id": "p2"}),
    (["remote_full"], RemoteFull, {}),
    (["id_taken"], InvalidInput, {}),
])
def test_each_refusal_is_an_error_of_the_family(reply: list[str], error: type[WaitlistError],
                                                extra: dict[str, str]) -> None:
    with pytest.raises(error) as raised:
        scripts.checked(reply, "p1")
    assert raised.value.extra == extra


def test_the_subclasses_answer_with_their_parents_codes() -> None:
    assert StaleHold.code == UndoTooLate.code == InvalidTransition.code
    assert PhoneTaken.code == AlreadyWaiting.code and RemoteFull.code == LimitReached.code


def test_an_ok_reply_is_handed_back() -> None:
    assert scripts.checked(["ok", "waiting"], "p1") == ["ok", "waiting"]
