"""The waitlist rules in plain Python: states, transitions, parties, restaurants and settings.

Nothing here knows about Flask or Redis. The store enforces these rules atomically by handing them
to its Lua scripts as arguments (the allowed "from" states, what a transition does, which statuses an
undo or a late guest may touch), so each rule lives here once.
"""
from __future__ import annotations

import time
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from waitlist.domain.errors import InvalidInput


class Status(StrEnum):
    PENDING = "pending"
    WAITING = "waiting"
    NOTIFIED = "notified"
    SEATED = "seated"
    COMPLETED = "completed"
    CANCELLED = "cancelled"
    NO_SHOW = "no_show"


ACTIVE = frozenset({Status.WAITING, Status.NOTIFIED})
"""Parties in line: they hold a place."""


FINISHED = frozenset({Status.SEATED, Status.COMPLETED, Status.CANCELLED, Status.NO_SHOW})
"""Parties done with the list (the retention sweep may erase them)."""

LEFT_LINE = frozenset({Status.SEATED, Status.CANCELLED, Status.NO_SHOW})
"""The statuses a party leaves the list for: its outcome, as the owner's stats count it."""

UNDO_NOTIFY = (Status.NOTIFIED, Status.WAITING)
"""A host's undo takes back a notify: a notified party returns to waiting, at its old place in line
(its queue score from before the notify), with the notify count it had and no hold (a new hold_version,
so the hold timer already scheduled finds it stale). Only within the undo window counted from the
first notify (``notified_at``: a re-notify in between is taken back with it), and only before the guest
answered (``answered``)."""
UNDOABLE = LEFT_LINE | {UNDO_NOTIFY[0]}
"""A host's undo takes a party from these back to where it was: a notified one as UNDO_NOTIFY says, one
that left the list back to its status before (within the window counted from when it left)..."""
UNDO_RESTORES = ACTIVE
"""...which must be one of these: an unconfirmed join that lapsed is not put back."""

MAY_RUN_LATE = ACTIVE
"""A guest can say they are running late only while holding a place."""

QUOTE_BY_ESTIMATE = "estimate"
QUOTE_BY_HOST = "host"
"""Where a party's quote came from: the estimator, or the host ("tell them 45"). A host's quote is
counted apart from the estimator's in the owner's numbers, so neither blurs the other's accuracy."""
QUOTE_OVERRIDABLE = frozenset({Status.PENDING, Status.WAITING, Status.NOTIFIED})
"""The statuses a host may set a party's quote in: while it is on the list."""
MAX_QUOTE_MINUTES = 240
HOST_QUOTE_SPREAD = 5
"""A host's quote of 45 minutes reads "40-50" to the guest: the estimator's ranges are this wide too."""

TRANSITIONS: Mapping[Status, frozenset[Status]] = {
    # A remote join counts in line only once the guest confirms it; unconfirmed, it expires.
    Status.PENDING: frozenset({Status.WAITING, Status.CANCELLED}),
    # A second notify re-sends the table-ready text, hence notified -> notified.
    Status.WAITING: frozenset({Status.NOTIFIED, Status.SEATED, Status.CANCELLED, Status.NO_SHOW}),
    Status.NOTIFIED: frozenset({Status.NOTIFIED, Status.SEATED, Status.CANCELLED, Status.NO_SHOW}),
    Status.SEATED: frozenset({Status.COMPLETED}),
    Status.COMPLETED: frozenset(),
    Status.CANCELLED: frozenset(),
    Status.NO_SHOW: frozenset(),
}



class Effect(StrEnum):
    """What a transition does to the list (the transition script acts on it)."""

    ENTER_LINE = "enter_line"
    """Take the last place in line (a confirmed remote join)."""
    NOTIFY = "notify"
    """Leave the waiting line for the notified ones and start (or restart) the hold."""
    COMPLETE = "complete"
    """A seated party's table turned: its dining time is recorded for the estimator."""
    SEAT = "seat"
    """Leave the list to a table: the wait is recorded for the estimator."""
    DROP = "drop"
    """Leave the list without a table: recorded as a drop-out unless it was never in line."""


EFFECTS: Mapping[Status, Effect] = {
    Status.WAITING: Effect.ENTER_LINE,
    Status.NOTIFIED: Effect.NOTIFY,
    Status.COMPLETED: Effect.COMPLETE,
    Status.SEATED: Effect.SEAT,
    Status.CANCELLED: Effect.DROP,
    Status.NO_SHOW: Effect.DROP,
}
"""What a transition to each status does (a status no transition reaches has none)."""

SEATING_CHOICES = ("any", "indoor", "outdoor", "bar")
TAGS = ("accessible", "high_chair", "vip")
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
LANGUAGES = ("en", "zh")


def allowed_from(target: Status) -> list[Status]:
    """The states a party may be in for a move to ``target`` to be valid."""
    return [source for source, targets in TRANSITIONS.items() if target in targets]


def can_transition(source: Status, target: Status) -> bool:
    return target in TRANSITIONS[source]


def iso(ts: float | None) -> str | None:
    """Epoch seconds to an ISO 8601 UTC string, the only time format the API speaks."""
    if ts is None:
        return None
    # time.gmtime costs a third of datetime.isoformat, and a list of 100 parties formats 300 times
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(ts))


@dataclass(frozen=True)
class Settings:
    """Per-restaurant knobs a host or owner can change at any time. Frozen: a change is a new Settings
    (``validate_settings_patch``), so one parsed copy can be shared (see ``store.settings_from_json``)."""

    hold_minutes: float = 10.0
    almost_ready_position: int = 2
    max_party_size: int = 20
    tables: dict[str, int] | None = None
    language: str = "en"
    remote_join: bool = False
    feedback: bool = False
    feedback_delay_minutes: float = 60.0
    retention_days: int = 30
    remote_max_active: int = 20
    require_checkin: bool = False
    daily_join_cap: int = 3
    join_hours: dict[str, list[list[str]]] | None = None
    paused: bool = False
    pause_message: str = ""
    clearing_minutes: float = 0.0
    """How long a cleared table stays ``clearing`` before it is free (named tables only)."""
    joins: list[str] | None = None
    """Tables pushed together for parties bigger than every table, as "4+4=8" (two 4-tops seat up to 8):
    the estimator replays such a party as needing both (waitlist.domain.tables.table_joins)."""

    def to_dict(self) -> dict[str, Any]:
        return {
            "hold_minutes": self.hold_minutes,
            "almost_ready_position": self.almost_ready_position,
            "max_party_size": self.max_party_size,
            "tables": self.tables,
            "language": self.language,
            "remote_join": self.remote_join,
            "feedback": self.feedback,
            "feedback_delay_minutes": self.feedback_delay_minutes,
            "retention_days": self.retention_days,
            "remote_max_active": self.remote_max_active,
            "require_checkin": self.require_checkin,
            "daily_join_cap": self.daily_join_cap,
            "join_hours": self.join_hours,
            "paused": self.paused,
            "pause_message": self.pause_message,
            "clearing_minutes": self.clearing_minutes,
            "joins": self.joins,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Settings:
        known = {k: v for k, v in data.items() if k in cls.__dataclass_fields__}
        return cls(**known)

    def table_sizes(self) -> list[int]:
        """Seat counts of the table classes, smallest first ([] when no inventory was given)."""
        if not self.tables:
            return []
        return sorted(int(seats) for seats, count in self.tables.items() if count > 0)


CODE_LENGTH = 3
"""A restaurant's code starts each of its guest links, so a link names its restaurant (and the link's
key lives in the restaurant's Redis slot): 62**3 codes, three characters of a text's 160."""


@dataclass
class Restaurant:
    slug: str
    name: str
    sms_from: str
    timezone: str = "UTC"
    language: str = "en"
    created_at: float = 0.0
    settings: Settings = field(default_factory=Settings)
    code: str = ""
    templates: str = ""
    """The restaurant's own wording of its texts as stored (JSON; waitlist.texting.templates reads it),
    '' for the built-in texts. It rides with the restaurant, so a text costs no read more."""
    floor: str = ""
    """The named tables as stored (JSON); waitlist.domain.tables reads it. '' while the restaurant
    describes its tables by count (settings.tables)."""

    def to_dict(self) -> dict[str, Any]:
        return {
            "slug": self.slug,
            "name": self.name,
            "sms_from": self.sms_from,
            "timezone": self.timezone,
            "language": self.language,
            "created_at": iso(self.created_at),
            "settings": self.settings.to_dict(),
        }


@dataclass
class Party:
    id: str
    restaurant: str
    name: str
    phone: str
    party_size: int
    status: Status = Status.WAITING
    notes: str = ""
    seating: str = "any"
    language: str | None = None
    token: str = ""
    quote_minutes: int | None = None
    quote_low: int | None = None
    quote_high: int | None = None
    quote_source: str = QUOTE_BY_ESTIMATE
    quote_at: float | None = None
    """When the quote was given: the join, or the host's later override (its minutes count from then)."""
    quote_raw: str | None = None
    """The estimator's own figure at the join before self-calibration and the parties ahead then,
    all and of its class, "12.5/7/3": once the party is seated its actual wait calibrates later quotes
    (waitlist.estimate.calibration). None: a host's quote."""
    joined_at: float = 0.0
    notified_at: float | None = None
    seated_at: float | None = None
    completed_at: float | None = None
    finished_at: float | None = None
    hold_until: float | None = None
    notify_count: int = 0
    hold_version: int = 0
    answered_at: float | None = None
    """The guest's last answer on the page or by a recognised text (running late, on the way, here)."""
    flags: set[str] = field(default_factory=set)
    position: int | None = None
    remote: bool = False
    tags: list[str] = field(default_factory=list)
    tables: list[str] = field(default_factory=list)
    """The named tables the party holds (called) or sits at (seated, and after it left them)."""
    no_table_fits: bool = False
    """No table of the floor, alone or pushed together, seats this party (set by the use cases)."""
    by: str = ""
    """The actor of the party's last status change ("person:<id>:Mei", "host", "guest"), as recorded."""

    @property
    def quote_overridden(self) -> bool:
        """The host set this party's quote (QUOTE_BY_HOST)."""
        return self.quote_source == QUOTE_BY_HOST

    def waited_minutes(self, now: float) -> float:
        end = self.seated_at or self.finished_at or now
        return max(0.0, (end - self.joined_at) / 60.0)

    def to_dict(self, status_url: str) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "phone": self.phone,
            "party_size": self.party_size,
            "notes": self.notes,
            "seating": self.seating,
            "language": self.language,
            "status": self.status.value,
            "position": self.position,
            "quote_minutes": self.quote_minutes,
            "quote_low": self.quote_low,
            "quote_high": self.quote_high,
            "quote_overridden": self.quote_overridden,
            "joined_at": iso(self.joined_at),
            "notified_at": iso(self.notified_at),
            "seated_at": iso(self.seated_at),
            "completed_at": iso(self.completed_at),
            "hold_until": iso(self.hold_until),
            "notify_count": self.notify_count,
            "status_url": status_url,
            "flags": sorted(self.flags),
            "remote": self.remote,
            "tags": self.tags,
            "tables": self.tables,
            "no_table_fits": self.no_table_fits,
        }


def answered(party: Party) -> bool:
    """Whether the guest answered the table-ready text: said on the page or by a recognised text that
    they are running late, on the way or here since the (first) notify. The undo script also counts any
    text from the guest since then, which a Party does not carry (its conversation does)."""
    return party.notified_at is not None and party.answered_at is not None \
        and party.answered_at >= party.notified_at


def may_undo(party: Party, now: float, window_seconds: float) -> bool:
    """Whether a host's undo applies to the party now (the undo script decides it atomically; this is
    what the host stand offers)."""
    if party.status == UNDO_NOTIFY[0]:
        return party.notified_at is not None and now - party.notified_at <= window_seconds \
            and not answered(party)
    if party.status in UNDOABLE:
        return party.finished_at is not None and now - party.finished_at <= window_seconds
    return False


def host_quote(minutes: int) -> tuple[int, int, int]:
    """A host's quote as (minutes, low, high); refused outside 0..MAX_QUOTE_MINUTES."""
    if isinstance(minutes, bool) or not isinstance(minutes, int) or not 0 <= minutes <= MAX_QUOTE_MINUTES:
        raise InvalidInput("a quote is a whole number of minutes",
                           fields={"quote_minutes": [f"must be between 0 and {MAX_QUOTE_MINUTES}"]})
    return minutes, max(0, minutes - HOST_QUOTE_SPREAD), minutes + HOST_QUOTE_SPREAD


def remaining_host_quote(party: Party, now: float) -> tuple[int, int, int] | None:
    """What is left of a host's quote (minutes, low, high) after the minutes since it was given; None
    for an estimator's quote (the guest's page then shows a fresh estimate)."""
    if party.quote_source != QUOTE_BY_HOST or party.quote_minutes is None:
        return None
    gone = max(0.0, now - (party.quote_at or party.joined_at)) / 60
    minutes = party.quote_minutes if party.quote_minutes is not None else 0
    low = party.quote_low if party.quote_low is not None else minutes
    high = party.quote_high if party.quote_high is not None else minutes
    return (max(0, round(minutes - gone)), max(0, round(low - gone)), max(0, round(high - gone)))


def open_now(settings: Settings, local: datetime) -> bool:
    """Whether joining is open at ``local`` (the restaurant's wall-clock time): not paused, and within
    that weekday's joining hours when hours are set. Hours past midnight ("17:00"-"01:00") work."""
    if settings.paused:
        return False
    if not settings.join_hours:
        return True
    now = local.strftime("%H:%M")
    today = WEEKDAYS[local.weekday()]
    yesterday = WEEKDAYS[(local.weekday() - 1) % 7]
    for start, end in settings.join_hours.get(today, []):
        if start <= now < end or (end <= start and now >= start):
            return True
    return any(end <= start and now < end for start, end in settings.join_hours.get(yesterday, []))


def round_to_five(minutes: float) -> int:
    """Guests read ranges in steps of five minutes; never below zero."""
    return max(0, int(5 * round(minutes / 5)))


def quote_range_text(low: float, high: float) -> str:
    """A range as texts and pages show it: "15-25", or "0-5" for a table about to free up."""
    lo = round_to_five(low)
    hi = max(round_to_five(high), lo + 5)
    return f"{lo}-{hi}"


def validate_settings_patch(current: Settings, patch: Mapping[str, Any]) -> Settings:
    """Apply an already type-checked patch, checking the rules that span fields."""
    merged = Settings.from_dict({**current.to_dict(), **patch})
    if merged.tables is not None and not merged.table_sizes():
        raise InvalidInput("a table inventory needs at least one table (or null for none)",
                           fields={"tables": ["no table in the inventory"]})
    problems = [problem for text in merged.joins or () if (problem := join_problem(text, merged))]
    if problems:
        raise InvalidInput("a join of tables is not valid", fields={"joins": problems})
    return merged


def parse_join(text: str) -> tuple[tuple[int, ...], int]:
    """"4+4=8" as (the seats of each table pushed together, the seats of the join); ValueError if not
    so written."""
    tables, _, seats = text.replace(" ", "").partition("=")
    pieces = tables.split("+")
    if not seats.isdigit() or len(pieces) < 2 or not all(p.isdigit() for p in pieces):
        raise ValueError(f"write a join like 4+4=8, not {text!r}")
    return tuple(int(p) for p in pieces), int(seats)


def join_fits(seats: int, table_sizes: Collection[int]) -> bool:
    """Whether a join of ``seats`` is one a host makes: it seats more than every table (its parties have
    no table of their own), or exactly as many as one (two 4-tops for the 7-8s while the single 8-top is
    taken: its parties take either). A smaller join would seat parties that have a table of their own.
    The one rule for the ``joins`` setting and for named tables that join."""
    return not table_sizes or seats > max(table_sizes) or seats in table_sizes


def join_problem(text: str, settings: Settings) -> str | None:
    """What is wrong with one join of ``settings.joins``, in the host's words; None when it is fine.
    A join must push together tables of one size, seat as many as ``join_fits`` allows and, with tables
    by count, use tables the inventory has."""
    try:
        pieces, seats = parse_join(text)
    except ValueError as exc:
        return str(exc)
    each, count = pieces[0], len(pieces)
    if len(set(pieces)) > 1:
        return f"{text}: push together tables of one size (like 4+4=8)"
    sizes = settings.table_sizes()
    if not join_fits(seats, sizes):
        return f"{text}: a join must seat more than the biggest table ({sizes[-1]}) or as many as one of the tables"
    if seats <= each:
        return f"{text}: a join must seat more than each of its tables"
    if settings.tables is not None and (settings.tables or {}).get(str(each), 0) < count:
        return f"{text}: the inventory has fewer than {count} tables of {each}"
    return None
