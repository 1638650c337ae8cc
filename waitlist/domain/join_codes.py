"""Join codes: how a guest who joins on the web proves the number is theirs, without our texting it.

The join page never asks for a number to text. It gives the guest a short code and a link that opens
their own messaging app with "JOIN <code>" to the restaurant's number; the text that arrives confirms
the join with the number it came from. So the service texts only numbers that texted it first.

A code is read by people and typed on phones: five characters from an alphabet without look-alikes
(no 0/O, 1/I/L, 2/Z, 5/S, 8/B, 6/G), with letters and digits both, never digits followed only by
letters: so "JOIN WYNNE" stays a name and "JOIN 4ANNA" a party of four. Of all such codes (3.3
million), a restaurant holds at most JOIN_CODES_PER_RESTAURANT open at once for JOIN_CODE_SECONDS: one
guess in about 66,000 finds one, and a number gets at most 20 texts read per 10 minutes
(waitlist.services.inbound), so guessing someone's code is not a way in.
"""
from __future__ import annotations

import re
import secrets
import unicodedata

CODE_LETTERS = "ACDEFHJKMNPQRTUVWXY"
CODE_DIGITS = "3479"
CODE_ALPHABET = CODE_LETTERS + CODE_DIGITS
CODE_LENGTH = 5

JOIN_CODE_SECONDS = 15 * 60
"""How long a code waits for the guest's text (long enough to find the phone and send it)."""
JOIN_CODE_KEEP_SECONDS = 60 * 60
"""How long a code is remembered after it was made: an expired or used code gets the right reply, and a
new code never reuses one still remembered."""
JOIN_CODES_PER_ADDRESS = 3
"""Open (unconfirmed) codes one address may hold: a family may join twice, a script may not fill the page."""
JOIN_CODES_PER_RESTAURANT = 50
"""Open codes a restaurant holds at once: beyond it the page asks guests to text JOIN with their size."""
JOIN_ERROR_REPLY_SECONDS = 5 * 60
"""At most one reply to a refused remote join (a code unknown, expired or used; the list closed or
full) per number in this window: a reply to a number that texted first, but still a text the
restaurant pays for."""

ADDRESS_CAP_MESSAGE = "you already have join codes waiting: text one of them, or try again in a few minutes"
RESTAURANT_CAP_MESSAGE = ("many guests are joining right now: please text JOIN and your party size instead, or try "
                          "again in a few minutes")
MESSAGES_ZH = {
    ADDRESS_CAP_MESSAGE: "您已有待发送的验证码：请发送其中一个，或几分钟后再试。",
    RESTAURANT_CAP_MESSAGE: "目前加入的客人较多：请直接发送短信JOIN加人数，或几分钟后再试。",
}
"""The join page's refusals in Chinese (the page shows the message of the error it got)."""

_CODE_SHAPE = re.compile(f"(?=.*[A-Z])(?=.*[0-9])[A-Z0-9]{{{CODE_LENGTH}}}")
_SIZE_AND_NAME = re.compile(r"[0-9]{1,3}[A-Z]+")
""""JOIN 4ANNA" is a party of 4 named Anna, never a code."""


def looks_like_code(word: str) -> str | None:
    """``word`` upper-cased when it has a code's shape (five letters and digits, with both, and not a
    size followed by a name), whatever its case or width ("k7q4x", "Ｋ７Ｑ４Ｘ"); else None. A mistyped
    code ("K7Q40") still looks like one, so "JOIN K7Q40" gets "unknown code", not a party named K7Q40."""
    text = unicodedata.normalize("NFKC", word).strip().upper()
    if _CODE_SHAPE.fullmatch(text) and not _SIZE_AND_NAME.fullmatch(text):
        return text
    return None


def read_join_code(word: str) -> str | None:
    """``word`` as a join code when it can be one; else None. Only the code's own alphabet is accepted:
    a look-alike typed for a character no code has (0 for O) is an unknown code, not someone else's."""
    text = looks_like_code(word)
    return text if text is not None and all(ch in CODE_ALPHABET for ch in text) else None


def new_join_code() -> str:
    """A random code that reads as one (see ``looks_like_code`` and the module docstring)."""
    while True:
        code = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
        if read_join_code(code) == code:
            return code


def sms_link(number: str, code: str) -> str:
    """A link that opens the guest's messaging app with "JOIN <code>" to ``number`` (E.164).

    ``sms:<number>?&body=`` is the form both fill in: iOS (since 8) reads ``&body=``, Android's messaging
    apps read the query after ``?``. Some apps still drop the body, so the page also says what to text."""
    return f"sms:{number}?&body=JOIN%20{code}"
