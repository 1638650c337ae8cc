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


# --- Guests' own words (issue 25) --------------------------------------------------------------------------
# (text, intent, minutes): minutes only for late (the default 10 when none is said) and on-the-way estimates.

L, OTW, HERE, GONE = Intent.LATE, Intent.ON_THE_WAY, Intent.ARRIVED, Intent.LEAVE
ASK, HOST = Intent.STATUS, Intent.OTHER
PHRASES: list[tuple[str, Intent, int | None]] = [
    # late, with and without minutes, numbers in digits and in words
    ("running 10 min late", L, 10), ("Running 10 minutes late!", L, 10), ("running about 10 min late", L, 10),
    ("I am running late", L, 10), ("I'm running late", L, 10), ("im running a bit late sorry", L, 10),
    ("We're running late", L, 10), ("Sorry we're late!", L, 10), ("sorry were late", L, 10),
    ("running ten minutes late", L, 10), ("Running fifteen mins late", L, 15), ("half an hour late", L, 30),
    ("we'll be twenty-five minutes late", L, 25), ("we will be 5-10 min late", L, 10), ("10min late", L, 10),
    ("late by 15", L, 15), ("We're going to be about 20 minutes late.", L, 20), ("an hour late", L, 30),
    ("running behind, sorry", L, 10), ("stuck in traffic", L, 10), ("Stuck in traffic!! Sorry", L, 10),
    ("traffic is terrible", L, 10), ("can we have 5 more minutes", L, 5), ("Can we get 10 more mins?", L, 10),
    ("we need a few more minutes", L, 10), ("can we have another 10 minutes?", L, 10),
    ("give us 15 more min please", L, 15), ("please hold our table for 10 minutes", L, 10),
    ("please hold the table", L, 10), ("wait for us please", L, 10),
    ("还要十分钟", L, 10), ("晚点到", L, 10), ("晚到10分钟", L, 10), ("我们会晚一点到", L, 10),
    ("我们会晚十五分钟到", L, 15), ("不好意思，晚到半小时", L, 30), ("堵车了", L, 10), ("再等我们五分钟", L, 5),
    ("请帮我们保留座位", L, 10),
    # on the way, with the guest's own estimate when given
    ("be there in 5", OTW, 5), ("5 min away", OTW, 5), ("we're 10 minutes out", OTW, 10),
    ("on my way", OTW, None), ("On our way!", OTW, None), ("omw, 10 mins", OTW, 10), ("coming now", OTW, None),
    ("we'll be there in ten", OTW, 10), ("ill be there in 5", OTW, 5), ("be right there", OTW, None),
    ("almost there", OTW, None), ("around the corner", OTW, None), ("parking now", OTW, None),
    ("on our way, be there in 15", OTW, 15), ("马上到", OTW, None), ("在路上了", OTW, None), ("快到了", OTW, None),
    ("我们10分钟后到", OTW, 10), ("还有五分钟到", OTW, 5),
    # at the door
    ("we're here", HERE, None), ("We're outside", HERE, None), ("were here", HERE, None), ("here!", HERE, None),
    ("I'm here", HERE, None), ("we are at the door", HERE, None), ("just arrived", HERE, None),
    ("we just got here", HERE, None), ("we're back", HERE, None), ("Hi, we are here for our table", HERE, None),
    ("我们到了", HERE, None), ("到了", HERE, None), ("我们在门口", HERE, None), ("我们回来了", HERE, None),
    # leaving, only with a clear intent
    ("I'm not coming", GONE, None), ("we're not coming anymore, sorry", GONE, None), ("Please remove us", GONE, None),
    ("take us off the list", GONE, None), ("we'll leave", GONE, None), ("cancel our table", GONE, None),
    ("cancel my spot", GONE, None), ("please cancel", GONE, None), ("we can't make it", GONE, None),
    ("we won't make it, thanks", GONE, None), ("we found another place", GONE, None),
    ("不来了", GONE, None), ("我们不来了", GONE, None), ("不等了", GONE, None), ("取消排队", GONE, None),
    ("来不了了", GONE, None),
    # questions about the wait
    ("where are we in line", ASK, None), ("how much longer", ASK, None), ("How long is the wait?", ASK, None),
    ("how many people ahead of us", ASK, None), ("is our table ready yet?", ASK, None), ("any update?", ASK, None),
    ("还要多久", ASK, None), ("前面还有几桌", ASK, None), ("到我们了吗", ASK, None),
    ("what can I text?", Intent.HELP, None), ("help please", Intent.HELP, None),
    # everything else stays a message for the host: a keyword inside another sentence is not a command
    ("we might leave if it's long", HOST, None), ("how long until we can leave the car", HOST, None),
    ("Can't wait!", HOST, None), ("we're leaving now", HOST, None), ("don't cancel", HOST, None),
    ("please don't remove us", HOST, None), ("we're not running late", HOST, None), ("are you here?", HOST, None),
    ("we're not here yet", HOST, None), ("Running late, might have to leave?", L, 10),
    ("we'll leave if it takes more than 30 min", HOST, None), ("我们可能不来了", HOST, None),
    ("还要10分钟吗", HOST, None), ("晚", HOST, None), ("10 min", HOST, None), ("hello?", HOST, None),
    ("Can we sit outside?", HOST, None), ("late last time, can we sit inside?", HOST, None),
]


def test_the_phrase_table_holds_at_least_sixty_real_world_texts() -> None:
    assert len(PHRASES) >= 60
    assert len({body for body, _, _ in PHRASES}) == len(PHRASES)


@pytest.mark.parametrize(("body", "intent", "minutes"), PHRASES)
def test_guests_own_words_map_to_one_command(body: str, intent: Intent, minutes: int | None) -> None:
    command = parse(body)
    assert (command.intent, command.minutes) == (intent, minutes)


@pytest.mark.parametrize("body", [
    "we might leave if it's long", "how long until we can leave the car", "Running late, leave our name on the list",
    "leaving soon, save our seats", "if we're not there in 10 min, give our table away",
    "we left our bag, can you check",
    "cancel? no, we're coming", "9 of us now, can we still come?", "I'm running late, not coming for 15 min",
    "we're not coming, just kidding", "不来了吗", "我们可能要取消",
])
def test_leaving_needs_a_clear_intent_never_a_keyword_in_passing(body: str) -> None:
    assert parse(body).intent != Intent.LEAVE


@pytest.mark.parametrize("body", ["late", "running late", "running 10 min late", "late, sorry, leaving now",
                                  "we will be late", "sorry, late!", "晚到", "晚点到", "stuck in traffic"])
def test_running_late_is_never_taken_for_leaving(body: str) -> None:
    assert parse(body).intent == Intent.LATE


@pytest.mark.parametrize(("body", "for_host"), [
    ("Running late, can we sit outside?", True), ("we're here, is there a high chair?", True),
    ("running 10 min late", False), ("Hi! Sorry, we are running about 15-20 mins late", False),
    ("on my way, 10 min late", False), ("we're here, how much longer?", True),
])
def test_words_beyond_the_command_are_also_left_for_the_host(body: str, for_host: bool) -> None:
    command = parse(body)
    assert command.intent in (Intent.LATE, Intent.ARRIVED)
    assert command.for_host is for_host


@pytest.mark.parametrize("body", ["CANCEL", "cancel", " Cancel. ", "STOP", "stop!", "1", "9", "Y", "yes", "S", "?",
                                  "L", "LATE 10", "JOIN 4 Ana", "排队 4", "5"])
def test_keywords_never_reach_the_phrasings(body: str) -> None:
    """Every keyword decides as before: the phrasings read only what no keyword explains."""
    assert parse(body).for_host is False
    assert parse(body).intent not in (Intent.ARRIVED, Intent.OTHER)


@settings(max_examples=50, deadline=1000)
@given(st.lists(st.sampled_from(["just", "a bit", "a little", "about", "running", "so", "very", "late", "we",
                                 "are", "now", "here", "10", "min", "not", "leave", "到", "了", "晚"]),
                max_size=400))
def test_long_runs_of_the_parsers_own_words_parse_quickly(words: list[str]) -> None:
    assert parse(" ".join(words)).intent in set(Intent)
