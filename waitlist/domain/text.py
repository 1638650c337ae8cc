"""Free text people type (names, notes, a host's text, a pause message): one cleaning rule, wherever it
comes from (a form, the API or a text message), so nothing invisible or misleading reaches the host list.

The rule:

* normalize to NFC (a name typed with a combining accent compares and counts like the precomposed one);
* drop control characters (Unicode category Cc: NUL, escape, ...) and format characters (Cf: zero-width
  space U+200B, the bidi marks, embeddings, overrides and isolates U+200E-U+200F, U+202A-U+202E,
  U+2066-U+2069, the byte order mark U+FEFF...), and lone surrogates, which Redis could not store;
  a zero-width joiner or non-joiner stays only between two visible characters, where it joins an emoji
  sequence (👨‍👩‍👧) or shapes a word;
* a one-line text (a name) has every run of white space, line breaks and tabs included, made one space;
  a text of several lines (notes, a host's text) keeps its line breaks (as ``\\n``) and tabs;
* a text with nothing visible left (only spaces, marks or blank fillers) is empty, so a required field
  refuses it with its usual words.
"""
from __future__ import annotations

import re
import unicodedata

NAME_MAX = 60
"""The longest party name, however it arrives (a form, the API, ``JOIN 4 Ana`` by text)."""

_JOINERS = frozenset("\u200c\u200d")
"""Zero-width non-joiner and joiner: kept inside a word or an emoji sequence, dropped elsewhere."""
_KEPT_CONTROLS = frozenset("\n\t")
"""Control characters a text of several lines keeps."""
_BLANK_LETTERS = frozenset("\u115f\u1160\u3164\uffa0\u2800")
"""Characters Unicode calls letters or symbols that draw nothing (Hangul fillers, the blank braille
pattern): they do not make a text visible."""
_LINE_BREAKS = re.compile("\r\n|[\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029]")


def _visible(char: str) -> bool:
    return unicodedata.category(char)[0] not in "ZCM" and char not in _BLANK_LETTERS


def _joinable(char: str) -> bool:
    """A character a joiner may stand next to: a letter, symbol or mark (❤️‍🔥 is ❤, U+FE0F, ZWJ, 🔥)."""
    return unicodedata.category(char)[0] not in "ZC"


def _drop_invisible(text: str, keep: frozenset[str]) -> str:
    out: list[str] = []
    for index, char in enumerate(text):
        category = unicodedata.category(char)
        if char in _JOINERS:
            if out and _joinable(out[-1]) and index + 1 < len(text) and _joinable(text[index + 1]):
                out.append(char)
        elif category in ("Cc", "Cf", "Cs") and char not in keep:
            continue
        else:
            out.append(char)
    return "".join(out)


def has_visible(text: str) -> bool:
    """True when ``text`` shows at least one character (not only spaces, marks or format characters)."""
    return any(_visible(char) for char in text)


def clean_line(text: str) -> str:
    """A one-line text (a name) as the rule above: '' when nothing visible is left."""
    text = unicodedata.normalize("NFC", _drop_invisible(_LINE_BREAKS.sub("\n", text), _KEPT_CONTROLS))
    text = " ".join(text.split())
    return text if has_visible(text) else ""


def clean_lines(text: str) -> str:
    """A text of several lines (notes, a host's text) as the rule above: line breaks are kept as
    ``\\n``, the ends trimmed; '' when nothing visible is left."""
    text = unicodedata.normalize("NFC", _drop_invisible(_LINE_BREAKS.sub("\n", text), _KEPT_CONTROLS)).strip()
    return text if has_visible(text) else ""
