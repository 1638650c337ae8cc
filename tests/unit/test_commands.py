from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from waitlist.texting.commands import Intent, parse, rating_of

TABLE = [
    ("9", Intent.LEAVE), ("leave", Intent.LEAVE), (" Leave. ", Intent.LEAVE), ("x", Intent.LEAVE),
    ("取消", Intent.LEAVE),
    ("1", Intent.ON_THE_WAY), ("y", Intent.ON_THE_WAY), ("OMW!", Intent.ON_THE_WAY), ("coming", Intent.ON_THE_WAY),
    ("来了", Intent.ON_THE_WAY),
    ("L", Intent.LATE), ("late", Intent.LATE), ("LATE 10", Intent.LATE), ("10 min late", Intent.LATE),
    ("晚到", Intent.LATE), ("running late", Intent.LATE),
    ("S", Intent.STATUS), ("status", Intent.STATUS), ("?", Intent.STATUS), ("where?", Intent.STATUS),
    ("状态", Intent.STATUS),
    ("HELP", Intent.HELP), ("info", Intent.HELP), ("帮助", Intent.HELP),
    ("STOP", Intent.STOP), ("stopall", Intent.STOP), ("Unsubscribe", Intent.STOP), ("cancel", Intent.STOP),
    ("END", Intent.STOP), ("quit", Intent.STOP), ("revoke", Intent.STOP), ("opt-out", Intent.STOP),
    ("START", Intent.START), ("unstop", Intent.START), ("yes", Intent.START),
    ("JOIN 4 Ana", Intent.JOIN), ("join", Intent.JOIN), ("排队 4", Intent.JOIN),
    ("Is the patio open?", Intent.OTHER), ("joining you soon", Intent.OTHER), ("", Intent.OTHER),
]


@pytest.mark.parametrize(("body", "intent"), TABLE)
def test_each_guest_word_means_one_thing(body: str, intent: Intent) -> None:
    assert parse(body).intent == intent


@pytest.mark.parametrize(("body", "minutes"), [
    ("L", 10), ("late", 10), ("LATE 10", 10), ("late 5", 5), ("10 min late", 10), ("15 minutes late", 15),
    ("late 45", 30), ("晚到", 10), ("晚到20分钟", 20), ("late 0", 1),
])
def test_late_minutes_default_to_ten_and_are_capped_at_thirty(body: str, minutes: int) -> None:
    assert parse(body).minutes == minutes


def test_join_by_text_carries_size_and_name() -> None:
    command = parse("JOIN 4 Ana   Lima")
    assert (command.party_size, command.name) == (4, "Ana Lima")
    assert parse("排队 3").party_size == 3 and parse("排队 3").name is None


def test_cancel_is_an_opt_out_never_a_leave() -> None:
    assert parse("CANCEL").intent == Intent.STOP


@pytest.mark.parametrize(("body", "rating"), [("5", 5), ("1", 1), ("4 stars", 4), ("五", 5), ("三星", 3),
                                              ("great", None), ("6", None)])
def test_feedback_ratings_are_read_from_digits_and_chinese(body: str, rating: int | None) -> None:
    assert rating_of(body) == rating


@settings(max_examples=300)
@given(st.text(max_size=1600))
def test_any_text_parses_without_error(body: str) -> None:
    assert parse(body).intent in set(Intent)
