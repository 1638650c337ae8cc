"""What a guest's text means: a plain parser, no I/O. Case, spaces and punctuation are ignored.

CANCEL is an opt-out keyword (carriers and Twilio treat it so), never a way to leave the list.
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from enum import StrEnum


class Intent(StrEnum):
    LEAVE = "leave"
    ON_THE_WAY = "on_the_way"
    LATE = "late"
    STATUS = "status"
    HELP = "help"
    STOP = "stop"
    START = "start"
    JOIN = "join"
    RATING = "rating"
    OTHER = "other"


DEFAULT_LATE_MINUTES = 10
MAX_LATE_MINUTES = 30

LEAVE_WORDS = {"9", "LEAVE", "X", "取消"}
ON_THE_WAY_WORDS = {"1", "Y", "OMW", "COMING", "ONMYWAY", "来了"}
STATUS_WORDS = {"S", "STATUS", "WHERE", "状态"}
HELP_WORDS = {"HELP", "INFO", "帮助"}
STOP_WORDS = {"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "REVOKE", "OPTOUT"}
START_WORDS = {"START", "UNSTOP", "YES"}
RATING_WORDS = {**{str(n): n for n in range(1, 6)}, "一": 1, "二": 2, "三": 3, "四": 4, "五": 5,
                **{f"{c}星": n for c, n in (("一", 1), ("二", 2), ("三", 3), ("四", 4), ("五", 5))},
                **{f"{n}星": n for n in range(1, 6)}}

_LATE_PATTERNS = [
    re.compile(r"^(?:L|LATE|RUNNINGLATE|晚到|迟到)(\d{1,3})?(?:M|MIN|MINS|MINUTE|MINUTES|分钟|分)?$"),
    re.compile(r"^(\d{1,3})(?:M|MIN|MINS|MINUTE|MINUTES|分钟|分)?(?:LATE|晚到|迟到)$"),
]
_JOIN_PATTERN = re.compile(r"^\s*(?:join|排队)\s*(\d{1,3})?\s*(.*)$", re.IGNORECASE | re.DOTALL)


@dataclass(frozen=True)
class Command:
    intent: Intent
    minutes: int | None = None
    party_size: int | None = None
    name: str | None = None
    rating: int | None = None


def squeeze(body: str) -> str:
    """Upper-case letters and digits only: '  Late, 10 min! ' -> 'LATE10MIN'."""
    text = unicodedata.normalize("NFKC", body or "").upper()
    return "".join(ch for ch in text if ch.isalnum())


def parse(body: str) -> Command:
    """The guest's intent; anything unrecognised is OTHER (stored and shown to the host)."""
    raw = unicodedata.normalize("NFKC", body or "").strip()
    word = squeeze(raw)
    if raw == "?" or word in STATUS_WORDS:
        return Command(Intent.STATUS)
    if word in STOP_WORDS:
        return Command(Intent.STOP)
    if word in START_WORDS:
        return Command(Intent.START)
    if word in LEAVE_WORDS:
        return Command(Intent.LEAVE)
    if word in ON_THE_WAY_WORDS:
        return Command(Intent.ON_THE_WAY)
    if word in HELP_WORDS:
        return Command(Intent.HELP)
    late = _late(word)
    if late is not None:
        return late
    join = _JOIN_PATTERN.match(raw)
    if join and (join.group(1) or not join.group(2).strip() or raw.upper().startswith(("JOIN ", "排队"))):
        size = int(join.group(1)) if join.group(1) else None
        name = " ".join(join.group(2).split())[:60] or None
        return Command(Intent.JOIN, party_size=size, name=name)
    if word in RATING_WORDS:
        return Command(Intent.RATING, rating=RATING_WORDS[word])
    return Command(Intent.OTHER)


def _late(word: str) -> Command | None:
    for pattern in _LATE_PATTERNS:
        match = pattern.match(word)
        if match:
            minutes = int(match.group(1)) if match.group(1) else DEFAULT_LATE_MINUTES
            return Command(Intent.LATE, minutes=max(1, min(minutes, MAX_LATE_MINUTES)))
    return None


def rating_of(body: str) -> int | None:
    """A 1-5 rating in a feedback reply ("5", "4 stars", "五星"), else None."""
    word = squeeze(body)
    if word in RATING_WORDS:
        return RATING_WORDS[word]
    match = re.match(r"^([1-5])(?:STARS?|星)?", word)
    return int(match.group(1)) if match else None
