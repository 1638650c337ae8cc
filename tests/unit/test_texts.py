"""Every text a guest can receive, rendered with long values: each must fit its segment budget."""
from __future__ import annotations

from typing import Any

import pytest

from waitlist.texting import texts

NAME = "The Golden Dragon Noodle House"  # 30 characters, the longest name we design for
STATUS_URL = "https://waitlist.example.com/s/" + "A1b2C3d4E5f6G7h8I9j0K1l2"  # a 24-character token
assert len(NAME) == 30

# name -> argument lists after the language, covering each variant of the text
SAMPLES: dict[str, list[tuple[Any, ...]]] = {
    "joined": [(NAME, 99, "115-125", STATUS_URL, True), (NAME, 99, "115-125", STATUS_URL, False)],
    "almost_ready": [(NAME, 99)],
    "table_ready": [(NAME, 120), (NAME, 2.5)],
    "notify_undone": [(NAME, 99)],
    "hold_expired": [(NAME,)],
    "left": [(NAME,)],
    "custom": [(NAME, "Running about ten minutes behind tonight, thanks for your patience!")],
    "on_the_way_ack": [(NAME,)],
    "late_ack": [(NAME, "23:45", 30), (NAME, None, 30)],
    "arrived_ack": [(NAME, True), (NAME, False)],
    "status_reply": [(NAME, 99, "115-125", False), (NAME, None, "", True)],
    "help": [(NAME,)],
    "host_will_see": [(NAME,)],
    "not_on_list": [(NAME,)],
    "feedback_request": [(NAME,)],
    "feedback_thanks": [(NAME,)],
    "join_code_unknown": [(NAME,)],
    "join_code_expired": [(NAME,)],
    "join_code_used": [(NAME,)],
    "join_limit": [(NAME,)],
    "closed": [(NAME, "Back at 5 pm."), (NAME, "")],
}

TWO_SEGMENTS_IN_CHINESE = {"joined"}
"""The status link alone takes ~55 of a Chinese segment's 70 characters."""


def renderings() -> list[Any]:
    cases = []
    for name, args_list in SAMPLES.items():
        for index, args in enumerate(args_list):
            for lang in ("en", "zh"):
                cases.append(pytest.param(name, lang, args, id=f"{name}-{index}-{lang}"))
    return cases


def test_every_text_has_samples() -> None:
    assert set(SAMPLES) == set(texts.ALL_TEXTS)


@pytest.mark.parametrize(("name", "lang", "args"), renderings())
def test_each_text_fits_its_segment_budget_with_long_values(name: str, lang: str, args: tuple[Any, ...]) -> None:
    body = texts.ALL_TEXTS[name](lang, *args)
    if lang == "en":
        assert texts.is_gsm7(body), f"non-GSM-7 character in {body!r}"
        budget = 1
    else:
        budget = 2 if name in TWO_SEGMENTS_IN_CHINESE else 1
    assert texts.segment_count(body) <= budget, f"{len(body)} characters: {body!r}"


@pytest.mark.parametrize(("name", "lang", "args"), renderings())
def test_no_text_advertises_cancel_which_carriers_treat_as_opting_out(name: str, lang: str,
                                                                      args: tuple[Any, ...]) -> None:
    assert "cancel" not in texts.ALL_TEXTS[name](lang, *args).lower()


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_first_joined_text_tells_how_to_leave_and_how_to_opt_out(lang: str) -> None:
    body = texts.joined(lang, NAME, 3, "15-25", STATUS_URL, True)
    assert STATUS_URL in body
    assert "STOP" in body
    if lang == "en":
        assert "Reply 9 or LEAVE" in body


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_later_joined_texts_leave_out_the_opt_out_notice(lang: str) -> None:
    assert "STOP" not in texts.joined(lang, NAME, 3, "15-25", STATUS_URL, False)


@pytest.mark.parametrize(("body", "segments"), [
    ("a" * 160, 1),
    ("a" * 161, 2),
    ("a" * 159 + "€", 2),  # the euro sign takes two GSM-7 units
    ("中" * 70, 1),
    ("中" * 71, 2),
    ("中" * 134, 2),
    ("中" * 135, 3),
])
def test_segment_count_follows_gsm7_and_ucs2_limits(body: str, segments: int) -> None:
    assert texts.segment_count(body) == segments


@pytest.mark.parametrize(("minutes", "shown"), [(10, "10"), (10.0, "10"), (0.5, "0.5"), (2.25, "2.2")])
def test_hold_minutes_show_whole_when_whole(minutes: float, shown: str) -> None:
    assert texts.format_minutes(minutes) == shown
