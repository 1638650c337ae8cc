"""A restaurant's own wording of its texts: checking, rendering and previewing message templates.

A template is plain text with placeholders in braces (``{name}``, ``{place}``, ``{wait}``, ``{link}``,
``{hold_until}``, ``{restaurant}``; ``{{`` and ``}}`` for a brace itself). Rendering never calls
``str.format``: a template is parsed once into literal parts and placeholder names, and only a bare
name from the text's own list is accepted, so ``{name.__class__}``, ``{0}``, ``{name!r}`` or
``{name:>999}`` are refused when the template is saved, never evaluated.

Templates are stored as one JSON object on the restaurant (``{"en": {"joined": "..."}, "zh": {...}}``),
so they come with the restaurant in the reads every text already makes (no round trip more); each
distinct JSON text is parsed and compiled once per process. A text without a template of its own is
the built-in one (waitlist.texting.texts).
"""
from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from string import Formatter

from waitlist.texting import texts
from waitlist.texting.texts import ALL_TEXTS, is_gsm7, segment_count

LANGUAGES = ("en", "zh")
TEMPLATE_MAX = 480
"""The longest template: three GSM-7 segments. A carrier bills each segment, and long texts are
split or dropped more often."""

PLACEHOLDERS = ("name", "place", "wait", "link", "hold_until", "hold_minutes", "restaurant", "time", "size")
"""``hold_minutes`` is the restaurant's hold time as the settings screen sets it ("10"); ``time`` and
``size`` are a reservation's ("Fri 12/24 19:30", "4")."""

PARTY = frozenset({"restaurant", "name", "link"})
"""What every text to a party on the list can name."""
NUMBER_ONLY = frozenset({"restaurant"})
"""Texts to a number with no party (help, not on the list, a refused join) know only the restaurant."""

_FIELDS: dict[str, frozenset[str]] = {
    "joined": PARTY | {"place", "wait"},
    "almost_ready": PARTY | {"place"},
    "table_ready": PARTY | {"hold_until", "hold_minutes"},
    "notify_undone": PARTY | {"place"},
    "hold_expired": PARTY,
    "left": PARTY,
    "on_the_way_ack": PARTY,
    "late_ack": PARTY | {"hold_until"},
    "host_will_see": PARTY,
    "feedback_request": PARTY,
    "feedback_thanks": PARTY,
    "help": NUMBER_ONLY,
    "not_on_list": NUMBER_ONLY,
    "join_code_unknown": NUMBER_ONLY,
    "join_code_expired": NUMBER_ONLY,
    "join_code_used": NUMBER_ONLY,
    "join_limit": NUMBER_ONLY,
    # a reservation's texts (waitlist.services.reservations): {link} is the booking's manage page
    "reservation_booked": NUMBER_ONLY | {"time", "size", "link"},
    "reservation_reminder": NUMBER_ONLY | {"time", "size"},
    "reservation_confirmed": NUMBER_ONLY | {"time"},
    "reservation_cancelled": NUMBER_ONLY | {"time"},
    "reservation_arrived_early": NUMBER_ONLY,
    "reservation_no_show": NUMBER_ONLY | {"time"},
}
"""Each text a restaurant may reword and the placeholders it can fill (a placeholder the text cannot
fill is refused). Not here: the host's own words, and the texts whose built-in wording changes with
the moment (a status reply, "we're here", "closed" with the pause message): one template would say
the wrong thing in one of their cases. A template whose placeholder has no value at the time of
sending (``{hold_until}`` when no table is held) gives way to the built-in text."""
FIELDS = {kind: names for kind, names in _FIELDS.items() if kind in ALL_TEXTS or kind.startswith("reservation_")}

REQUIRED: dict[str, tuple[str, ...]] = {"joined": ("link",), "reservation_booked": ("link",)}
"""Placeholders a text must keep: the joined text is how the guest finds their status page, the
booked text their booking's manage page."""

LABELS = {
    "joined": "Joined the list", "almost_ready": "Almost ready", "table_ready": "Table ready",
    "notify_undone": "Table-ready sent by mistake", "hold_expired": "Hold expired", "left": "Left the list",
    "on_the_way_ack": "On my way (reply)", "late_ack": "Running late (reply)",
    "host_will_see": "Message for the host (reply)",
    "feedback_request": "Feedback request", "feedback_thanks": "Feedback thanks", "help": "Help (reply)",
    "not_on_list": "Not on the list (reply)", "join_code_unknown": "Unknown join code",
    "join_code_expired": "Expired join code", "join_code_used": "Join code used", "join_limit": "Join refused (cap)",
    "reservation_booked": "Reservation booked", "reservation_reminder": "Reservation reminder",
    "reservation_confirmed": "Reservation confirmed", "reservation_cancelled": "Reservation cancelled",
    "reservation_arrived_early": "Reservation arrived early", "reservation_no_show": "Reservation no-show",
}

OPT_OUT = {"en": " STOP to opt out.", "zh": "STOP退订。"}
"""Added to the first text a restaurant sends a number (carriers require it), unless the template
already says STOP. It is not part of the template, so it cannot be worded away."""

SAMPLES = {
    "name": "Bartholomew Alexander Jones Jr",  # 30 characters: the longest name the texts are sized for
    "place": "99",
    "wait": "115-125",
    "link": "https://waitlist.example.com/s/A1b2C3d4E5f6G7h8I9j0K1l2",
    "hold_until": "23:45",
    "hold_minutes": "15",
    "time": "Wed 12/24 19:30",
    "size": "12",
}
"""Long values for the preview, as tests/unit/test_texts.py sizes the built-in texts."""

SHORTENERS = ("bit.ly", "tinyurl.com", "goo.gl", "t.co", "ow.ly", "is.gd", "buff.ly", "rebrand.ly", "cutt.ly",
              "shorturl.at", "tiny.cc", "rb.gy", "t.ly", "bl.ink", "s.id")
"""Public link shorteners: US carriers filter texts carrying them (spam often hides behind them)."""
FILTERED_WORDS = ("free", "winner", "won", "prize", "cash", "loan", "credit", "debt", "click here", "act now",
                  "urgent", "guaranteed", "casino", "bet", "crypto", "beer", "wine", "liquor", "alcohol",
                  "cannabis", "cbd", "vape", "tobacco", "gun", "sex")
"""Words carriers' filters flag in restaurant texts: prize and money spam and the restricted "SHAFT"
topics (sex, hate, alcohol, firearms, tobacco) and their kin."""

_WORD = {w: re.compile(rf"(?<![a-z0-9]){re.escape(w)}(?![a-z0-9])") for w in FILTERED_WORDS}
_SHORTENER = re.compile(r"(?<![a-z0-9.-])(" + "|".join(re.escape(s) for s in SHORTENERS) + r")/", re.IGNORECASE)


class TemplateError(ValueError):
    """A template that cannot be saved, in words a manager can act on."""


Compiled = tuple[tuple[str, str | None], ...]
"""A parsed template: (literal text, placeholder name or None), in order."""


def compile_template(kind: str, body: str) -> Compiled:
    """Parse and check ``body`` as the template of text ``kind``; raises TemplateError saying why not."""
    if kind not in FIELDS:
        raise TemplateError(f"there is no text called {kind!r}")
    if not body.strip():
        raise TemplateError("enter a text, or reset this one to the built-in wording")
    if len(body) > TEMPLATE_MAX:
        raise TemplateError(f"at most {TEMPLATE_MAX} characters")
    try:
        parsed = list(Formatter().parse(body))
    except ValueError:
        raise TemplateError("a { or } without its pair: write {{ or }} for a brace itself") from None
    allowed = FIELDS[kind]
    parts: list[tuple[str, str | None]] = []
    for literal, name, spec, conversion in parsed:
        if name is None:
            parts.append((literal, None))
            continue
        if spec or conversion or name not in PLACEHOLDERS:
            shown = "{" + name + ("!" + conversion if conversion else "") + (":" + spec if spec else "") + "}"
            raise TemplateError(f"{shown} is not a placeholder: use only " + _listed(allowed))
        if name not in allowed:
            raise TemplateError(f"{{{name}}} is not known for this text: use only " + _listed(allowed))
        parts.append((literal, name))
    used = {name for _, name in parts if name}
    for needed in REQUIRED.get(kind, ()):
        if needed not in used:
            raise TemplateError(f"this text must keep {{{needed}}}: it is how the guest finds their status page")
    return tuple(parts)


def _listed(names: frozenset[str]) -> str:
    return ", ".join("{" + n + "}" for n in PLACEHOLDERS if n in names)


def render(parts: Compiled, values: Mapping[str, str | None]) -> str | None:
    """The text: literal parts and values joined, nothing evaluated; None when a placeholder it uses
    has no value now (the caller sends the built-in text)."""
    out = []
    for literal, name in parts:
        out.append(literal)
        if name:
            value = values.get(name)
            if value is None:
                return None
            out.append(value)
    return "".join(out)


def with_opt_out(body: str, language: str) -> str:
    """The first text to a number: the opt-out line added, unless the text says STOP already."""
    return body if "STOP" in body else body.rstrip() + OPT_OUT.get(language, OPT_OUT["en"])


@dataclass(frozen=True)
class Templates:
    """A restaurant's templates, compiled: ``(language, kind) -> parts``."""

    compiled: Mapping[tuple[str, str], Compiled] = field(default_factory=dict)
    raw: Mapping[str, Mapping[str, str]] = field(default_factory=dict)

    def get(self, language: str, kind: str) -> Compiled | None:
        return self.compiled.get((language, kind))


NONE = Templates()


@lru_cache(maxsize=1024)
def load(stored: str) -> Templates:
    """The templates as stored on the restaurant (JSON). Parsed once per distinct text; a template that
    no longer compiles (a rule tightened since it was saved) falls back to the built-in text."""
    if not stored:
        return NONE
    raw = json.loads(stored)
    compiled: dict[tuple[str, str], Compiled] = {}
    for language, kinds in raw.items():
        for kind, body in kinds.items():
            try:
                compiled[(language, kind)] = compile_template(kind, body)
            except TemplateError:
                continue
    return Templates(compiled, raw)


def custom_text(stored: str, language: str, kind: str, values: Mapping[str, str | None]) -> str | None:
    """The restaurant's own wording of text ``kind`` in ``language`` filled with ``values``, or None for
    the built-in text. Cheap when the restaurant has no templates: one comparison."""
    if not stored:
        return None
    parts = load(stored).get(language, kind)
    return render(parts, values) if parts is not None else None


# --- the preview ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class Preview:
    """A rendered template and what a carrier makes of it."""

    text: str
    first_text: str | None
    encoding: str
    characters: int
    segments: int
    warnings: list[str]

    def to_dict(self) -> dict[str, object]:
        return {"text": self.text, "first_text": self.first_text, "encoding": self.encoding,
                "characters": self.characters, "segments": self.segments, "warnings": self.warnings}


def preview(kind: str, language: str, body: str, restaurant: str) -> Preview:
    """``body`` rendered with long sample values (TemplateError if it cannot be saved). The count is of
    the longer of the first text (with the opt-out line) and the later ones."""
    parts = compile_template(kind, body)
    text = render(parts, {**SAMPLES, "restaurant": restaurant}) or ""
    first = with_opt_out(text, language) if kind == "joined" else None
    longest = first if first is not None else text
    return Preview(text, first, "GSM-7" if is_gsm7(longest) else "UCS-2", len(longest), segment_count(longest),
                   carrier_warnings(body, longest, language))


def carrier_warnings(body: str, rendered: str, language: str) -> list[str]:
    """What may get the text filtered, split or garbled, in plain words."""
    warnings: list[str] = []
    shortened = _SHORTENER.search(body)
    if shortened:
        warnings.append(f"carriers filter texts with link shorteners such as {shortened.group(1)}: "
                        "use the full address")
    lowered = body.lower()
    flagged = [w for w, pattern in _WORD.items() if pattern.search(lowered)]
    if flagged:
        warnings.append("carriers' spam filters flag words like " + ", ".join(repr(w) for w in flagged)
                        + ": texts with them may not arrive")
    if language == "en" and not is_gsm7(rendered):
        odd = sorted({ch for ch in rendered if not is_gsm7(ch)})
        warnings.append("these characters make the text UCS-2, 70 characters a segment instead of 160: "
                        + " ".join(odd))
    segments = segment_count(rendered)
    if segments > 1:
        warnings.append(f"with long names this text takes {segments} segments; each is billed, and one "
                        "is best")
    return warnings


def builtin_template(kind: str, language: str) -> str:
    """The built-in text of ``kind`` written as a template: where a manager's rewording starts."""
    marks = {name: "{" + name + "}" for name in PLACEHOLDERS}
    text = {
        "joined": lambda: ALL_TEXTS["joined"](language, marks["restaurant"], marks["place"], marks["wait"],
                                              marks["link"], False),
        "almost_ready": lambda: ALL_TEXTS["almost_ready"](language, marks["restaurant"], marks["place"]),
        "notify_undone": lambda: ALL_TEXTS["notify_undone"](language, marks["restaurant"], marks["place"]),
        "table_ready": lambda: ALL_TEXTS["table_ready"](language, marks["restaurant"], 987).replace(
            "987", marks["hold_minutes"]),
        "late_ack": lambda: ALL_TEXTS["late_ack"](language, marks["restaurant"], marks["hold_until"], 0),
        "reservation_booked": lambda: texts.reservation_booked(language, marks["restaurant"], marks["time"],
                                                               987, marks["link"]).replace("987", marks["size"]),
        "reservation_reminder": lambda: texts.reservation_reminder(language, marks["restaurant"], marks["time"],
                                                                   987).replace("987", marks["size"]),
        "reservation_confirmed": lambda: texts.reservation_confirmed(language, marks["restaurant"], marks["time"]),
        "reservation_cancelled": lambda: texts.reservation_cancelled(language, marks["restaurant"], marks["time"]),
        "reservation_arrived_early": lambda: texts.reservation_arrived_early(language, marks["restaurant"]),
        "reservation_no_show": lambda: texts.reservation_no_show(language, marks["restaurant"], marks["time"]),
    }.get(kind, lambda: ALL_TEXTS[kind](language, marks["restaurant"]))()
    return text


def stored_text(raw: Mapping[str, Mapping[str, str]]) -> str:
    """The JSON stored on the restaurant ('' for none)."""
    kept = {lang: dict(kinds) for lang, kinds in raw.items() if kinds}
    return json.dumps(kept, ensure_ascii=False, sort_keys=True) if kept else ""
