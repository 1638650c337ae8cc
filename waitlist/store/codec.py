"""Redis hashes and script replies <-> the domain's objects: Party, Restaurant, Settings, and the
estimator's Snapshot, whose hour-of-week history format this module owns.

Every value in a hash is a string; an absent field and an empty string both mean "none".
"""
from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from functools import lru_cache
from types import MappingProxyType
from typing import Any

import orjson

from waitlist.domain.model import QUOTE_BY_ESTIMATE, Party, Restaurant, Settings, Status
from waitlist.estimate.calibration import STRETCH_START
from waitlist.estimate.dining import DEFAULT_TABLE_CLASSES, MIN_TURN_MINUTES
from waitlist.estimate.estimator import Estimate
from waitlist.estimate.snapshot import HeadEntry, HourHistory, Quoted, Snapshot, SnapshotTable

# --- the estimator's hour-of-week history ------------------------------------------------------------
# One hash per restaurant (keys.history_key), field "h:<(epoch hour) mod 168>", each holding
# HISTORY_LENGTH numbers separated by spaces, in this order (0-based positions):
#
#   0, 1  turns of parties of 1-2 (counted by the hour they were seated), their dining minutes summed
#   2, 3  the same for parties of 3-4
#   4, 5  the same for parties of 5-6
#   6, 7  the same for parties of 7 and more
#   8     seatings by the hour they left the line
#   9     drop-outs (cancelled or no-show from the line) by the hour they left it
#   10    minutes waited, summed over those seatings and drop-outs
#
# Counts fade: a turn count past HISTORY_HALVE_AT halves with its minutes, and seatings plus drop-outs
# past twice that halve with the minutes waited. The writer is the transition script
# (lua/includes/history.lua, which gets these numbers from scripts.py); the reader is the estimator.

HISTORY_SIZE_LIMITS = tuple(DEFAULT_TABLE_CLASSES[:-1])
"""The largest party of each size bucket but the last: 1-2, 3-4, 5-6, then 7 and more. These are the
estimator's size_bucket (its default table classes, 2/4/6/8), so the writer buckets as the reader does."""
HISTORY_TURN_FIELDS = 2 * (len(HISTORY_SIZE_LIMITS) + 1)
HISTORY_SEATINGS = HISTORY_TURN_FIELDS
HISTORY_DROPS = HISTORY_SEATINGS + 1
HISTORY_WAITED = HISTORY_DROPS + 1
HISTORY_LENGTH = HISTORY_WAITED + 1
HISTORY_HALVE_AT = 200


def history_field(hour_of_week: int) -> str:
    return f"h:{hour_of_week}"


def history_numbers(raw: str | None) -> list[float]:
    """One history field's numbers ([] when missing or unreadable)."""
    if not raw:
        return []
    try:
        return [float(x) for x in raw.split()]
    except ValueError:
        return []


def hour_history(raw: str | None) -> HourHistory | None:
    """One field as the estimator reads it; None when missing, unreadable or short."""
    numbers = history_numbers(raw)
    if len(numbers) < HISTORY_LENGTH:
        return None
    turns = tuple((numbers[i], numbers[i + 1]) for i in range(0, HISTORY_TURN_FIELDS, 2))
    return HourHistory(turns=turns, seatings=numbers[HISTORY_SEATINGS], drops=numbers[HISTORY_DROPS],
                       waited_minutes=numbers[HISTORY_WAITED])


def history_from_hash(fields: Mapping[str, str]) -> dict[int, HourHistory]:
    """The history hash (HGETALL) by hour of the week; fields that do not read are left out."""
    out = {}
    for name, raw in fields.items():
        hour = hour_history(raw)
        if hour is not None and name.startswith("h:") and name[2:].isdigit():
            out[int(name[2:])] = hour
    return out


def history_lua_constants() -> dict[str, str]:
    """The format as the Lua writer reads it (1-based positions)."""
    return {
        "HISTORY_LENGTH": str(HISTORY_LENGTH),
        "HISTORY_TURN_FIELDS": str(HISTORY_TURN_FIELDS),
        "HISTORY_SEATINGS": str(HISTORY_SEATINGS + 1),
        "HISTORY_DROPS": str(HISTORY_DROPS + 1),
        "HISTORY_WAITED": str(HISTORY_WAITED + 1),
        "HISTORY_HALVE_AT": str(HISTORY_HALVE_AT),
        "HISTORY_SIZE_LIMITS": ", ".join(str(n) for n in HISTORY_SIZE_LIMITS),
        "HISTORY_MIN_TURN_MINUTES": repr(MIN_TURN_MINUTES),
    }


# --- parties ----------------------------------------------------------------------------------------

def _float(value: str | None) -> float | None:
    return float(value) if value not in (None, "") else None


def _int(value: str | None) -> int | None:
    return int(float(value)) if value not in (None, "") else None


def _text(value: int | None) -> str:
    return str(value) if value is not None else ""


def party_from_hash(slug: str, party_id: str, data: Mapping[str, str], position: int | None) -> Party:
    return Party(
        id=party_id,
        restaurant=slug,
        name=data.get("name", ""),
        phone=data.get("phone", ""),
        party_size=int(data.get("party_size", "0")),
        status=Status(data.get("status", "waiting")),
        notes=data.get("notes", ""),
        seating=data.get("seating", "any"),
        language=data.get("language") or None,
        token=data.get("token", ""),
        quote_minutes=_int(data.get("quote_minutes")),
        quote_low=_int(data.get("quote_low")),
        quote_high=_int(data.get("quote_high")),
        quote_source=data.get("quote_source") or QUOTE_BY_ESTIMATE,
        quote_at=_float(data.get("quote_at")),
        joined_at=float(data.get("joined_at", "0")),
        notified_at=_float(data.get("notified_at")),
        seated_at=_float(data.get("seated_at")),
        completed_at=_float(data.get("completed_at")),
        finished_at=_float(data.get("finished_at")),
        hold_until=_float(data.get("hold_until")),
        notify_count=int(data.get("notify_count", "0")),
        hold_version=int(data.get("hold_version", "0")),
        by=data.get("by", ""),
        answered_at=_float(data.get("answered_at")),
        flags={name[2:] for name, value in data.items() if name.startswith("f:") and value},
        position=position or None,
        remote=bool(data.get("remote")),
        tags=[t for t in data.get("tags", "").split(",") if t],
        tables=[t for t in data.get("tables", "").split(",") if t],
    )


def new_party_fields(party: Party) -> dict[str, str]:
    """A joining party's hash (the join script adds its status, and almost_sent at the head)."""
    return {
        "id": party.id,
        "name": party.name,
        "phone": party.phone,
        "party_size": str(party.party_size),
        "notes": party.notes,
        "seating": party.seating,
        "language": party.language or "",
        "token": party.token,
        "quote_minutes": _text(party.quote_minutes),
        "quote_low": _text(party.quote_low),
        "quote_high": _text(party.quote_high),
        "quote_source": party.quote_source if party.quote_source != QUOTE_BY_ESTIMATE else "",
        "quote_at": repr(party.quote_at) if party.quote_at is not None else "",
        "quote_raw": party.quote_raw or "",
        "joined_at": repr(party.joined_at),
        "remote": "1" if party.remote else "",
        "tags": ",".join(party.tags),
    }


def parties_from_entries(slug: str, reply: str | bytes) -> list[Party]:
    """Parties from a list script's JSON entries (lua/includes/list_entries.lua)."""
    return [party_from_hash(slug, pid, fields, position) for pid, position, fields in orjson.loads(reply)]


# --- restaurants and settings ---------------------------------------------------------------------

@lru_cache(maxsize=1024)
def settings_from_json(raw: str) -> Settings:
    """Settings as stored. Every staff request reads them and they rarely change, so each distinct
    JSON text is parsed once per process (Settings are frozen, so sharing one copy is safe)."""
    return Settings.from_dict(json.loads(raw))


def settings_to_json(settings: Settings) -> str:
    return json.dumps(settings.to_dict())


def restaurant_from_hash(slug: str, data: Mapping[str, str]) -> tuple[Restaurant, str] | None:
    """The restaurant and its API key hash, or None when there is no such restaurant."""
    if not data.get("name"):
        return None
    restaurant = Restaurant(
        slug=slug,
        name=data["name"],
        sms_from=data.get("sms_from", ""),
        timezone=data.get("timezone", "UTC"),
        language=data.get("language", "en"),
        created_at=float(data.get("created_at", "0")),
        settings=settings_from_json(data.get("settings") or "{}"),
        code=data.get("code", ""),
        templates=data.get("templates", ""),
        floor=data.get("floor", ""),
    )
    return restaurant, data.get("api_key_hash", "")


def restaurant_fields(restaurant: Restaurant, api_key_hash: str) -> dict[str, str]:
    return {
        "slug": restaurant.slug,
        "name": restaurant.name,
        "sms_from": restaurant.sms_from,
        "timezone": restaurant.timezone,
        "language": restaurant.language,
        "created_at": repr(restaurant.created_at),
        "settings": settings_to_json(restaurant.settings),
        "api_key_hash": api_key_hash,
        "code": restaurant.code,
    }


# --- the estimator's snapshot -----------------------------------------------------------------------

def snapshot_from_reply(reply: Sequence[Any]) -> Snapshot:
    """The snapshot script's reply (lua/includes/snapshot.lua). A recent list's entry is a
    colon-separated record: a seating "seated_at:size:joined_at:raw[:seats/seconds]" (raw: the model's quote at
    the join and the parties ahead then, all and of its class, "12.5/7/3"; missing in old entries and for a
    host's quote; then, at a named table, its turnover gap: ``Snapshot.table_gaps``), a turn
    "seated_at:completed_at:size",
    a drop "left_at:size:joined_at:from:to" (the last two missing in old entries). Then the floor's
    JSON and the table states (lua/includes/tables.lua), the bookings due, and (joined_at, quote_raw) of the
    first parties in line."""
    sizes, seatings, turns, drops, notified, history = reply[:6]
    floor, states = (reply[6], reply[7]) if len(reply) > 7 else ("", [])
    due = reply[8] if len(reply) > 8 else []
    quoted, seated, gaps = _seatings(tuple(seatings))
    return Snapshot(
        waiting_sizes=[int(s) for s in sizes.split()],
        notified_sizes=[int(s) for s in notified.split()],
        seatings=list(seated),
        quoted=list(quoted),
        table_gaps=gaps,
        turns=list(_turns(tuple(turns))),
        drops=list(_drops(tuple(drops))),
        history=_history(tuple(history)),
        tables=snapshot_tables(floor, dict(zip(states[0::2], states[1::2]))),
        reservations=tuple((float(start), int(member.rsplit("|", 1)[1]))
                           for member, start in zip(due[0::2], due[1::2])),
        head=_head(reply[9]) if len(reply) > 9 else (),
    )


# Every add and quote reads the recent lists whole (up to RECENT_MAXLEN = 200 entries each), and an
# entry never changes once written: each is parsed once per process. For a busy restaurant (200 of each)
# the parse was 6.37 M instructions a snapshot under callgrind, twice a whole add without them
# (docs/performance.md, "The add of a busy restaurant"). A cache holds RECENT_CACHE entries of each list,
# some 40 busy restaurants' worth, a few MB; past that the least recent are parsed again.
RECENT_CACHE = 8192
# The public estimate, the lobby board and the join page read the same snapshot many times between two
# changes of it: each list, and the history hash, is also remembered whole by its text (one lookup, not
# 200), RECENT_LISTS of each: the lists and history of the 32 restaurants read last, 2 MB a process
# more than the entry caches alone (tracemalloc, 200 entries a list; 256 of each held 58 MB more, as
# they keep entries alive that the entry caches let go). Measured on the public
# estimate (100 waiting, 200 of each list, real Redis, in process, interleaved): the parse from 0.17 to
# 0.03 ms, and the request from 2.32 to 1.79 ms of CPU (fewer objects made, fewer collections run;
# docs/performance.md).
RECENT_LISTS = 32


@lru_cache(maxsize=RECENT_LISTS)
def _seatings(entries: tuple[str, ...]) -> tuple[tuple[Quoted, ...], tuple[tuple[float, int, float], ...],
                                                 tuple[tuple[int, float], ...]]:
    """The seatings list as the calibration reads it (``Snapshot.quoted``), as the rest does, and the
    named tables' turnover gaps it carries (``Snapshot.table_gaps``)."""
    quoted = tuple(_seating(entry) for entry in entries)
    return quoted, tuple(q[:3] for q in quoted), tuple(gap for gap in map(_table_gap, entries) if gap)


@lru_cache(maxsize=RECENT_LISTS)
def _turns(entries: tuple[str, ...]) -> tuple[tuple[float, float, int], ...]:
    return tuple(_turn(entry) for entry in entries)


@lru_cache(maxsize=RECENT_LISTS)
def _drops(entries: tuple[str, ...]) -> tuple[tuple[float, int, float, str, str], ...]:
    return tuple(_drop(entry) for entry in entries)


@lru_cache(maxsize=RECENT_LISTS)
def _history(flat: tuple[str, ...]) -> Mapping[int, HourHistory]:
    """The history hash from HGETALL's flat reply; read-only, as every snapshot of this text shares it."""
    return MappingProxyType(history_from_hash(dict(zip(flat[0::2], flat[1::2]))))


@lru_cache(maxsize=RECENT_CACHE)
def _table_gap(entry: str) -> tuple[int, float] | None:
    """A seating's fifth field, "seats/seconds" (lua/transition.lua): the named table's turnover gap."""
    parts = entry.split(":")
    if len(parts) < 5 or "/" not in parts[4]:
        return None
    seats, seconds = parts[4].split("/", 1)
    return int(float(seats)), float(seconds) / 60.0


@lru_cache(maxsize=RECENT_CACHE)
def _seating(entry: str) -> Quoted:
    a, b, c, d = (entry.split(":") + [""])[:4]
    return (float(a), int(b), float(c), *quote_raw(d))


@lru_cache(maxsize=RECENT_CACHE)
def _head(text: str) -> tuple[HeadEntry, ...]:
    """The snapshot's head of the line, "joined_at|size|quote_raw ..." (lua/includes/snapshot.lua), as
    (joined_at, size, raw, ahead, same, told minutes) each. An add changes the end of the line, not its
    head, so the same text comes back snapshot after snapshot and is parsed once. Read as 20 strings
    parsed on every snapshot, the head cost 105,000 instructions an add (4.7%); as one string parsed
    once, 38,000 (bench/add_instructions.py, docs/performance.md)."""
    head = []
    for entry in text.split():
        joined_at, size, raw = entry.split("|")
        if joined_at and size:
            model, ahead, same, told, *_rest = quote_raw(raw)
            head.append((float(joined_at), int(size), model, ahead, same, told))
    return tuple(head)


@lru_cache(maxsize=RECENT_CACHE)
def _turn(entry: str) -> tuple[float, float, int]:
    a, b, c = entry.split(":")[:3]
    return float(a), float(b), int(c)


@lru_cache(maxsize=RECENT_CACHE)
def _drop(entry: str) -> tuple[float, int, float, str, str]:
    a, b, c, d, e = (entry.split(":") + [""])[:5]
    return float(a), int(b), float(c), d, e


QUOTE_FIELDS = 8


def quote_record(estimate: Estimate) -> str:
    """The quote_raw field a joining party keeps (parsed back by ``quote_raw``): what the calibration will
    judge once the party is seated."""
    return (f"{estimate.raw:.1f}/{estimate.parties_ahead}/{estimate.same_ahead}/{estimate.minutes}/"
            f"{estimate.low}/{estimate.high}/{estimate.stretch:.3f}/{estimate.lean:.3f}")


def quote_raw(text: str) -> tuple[float, int, int, float, float, float, float, float]:
    """A party's quote_raw field, "raw/parties ahead/of its class/told minutes/low/high/stretch/lean" (the
    model's quote at the join, what the party was told, and the calibration's stretch and lean then), as
    numbers; raw -1 when none was recorded, told -1 where older entries lack them (the first 3 fields)."""
    parts = (text.split("/") + [""] * QUOTE_FIELDS)[:QUOTE_FIELDS]
    if not parts[0]:
        return (-1.0, 0, 0, -1.0, -1.0, -1.0, STRETCH_START, 0.0)
    raw, ahead, same, told, low, high, stretch, lean = parts
    return (float(raw), int(ahead or 0), int(same or 0), float(told or -1), float(low or -1), float(high or -1),
            float(stretch or STRETCH_START), float(lean or 0))


def table_state(raw: str | None) -> tuple[str, str, float | None]:
    """A table's stored state "state|party|since" as (state, party, since); a table with none is free."""
    if not raw:
        return "free", "", None
    state, party, since = (raw.split("|", 2) + ["", ""])[:3]
    return state, party, _float(since)


def snapshot_tables(floor: str, states: Mapping[str, str]) -> tuple[SnapshotTable, ...]:
    """The named tables with their stored states, as the estimator reads them ("cleared" reads
    "clearing", with since = when it was cleared)."""
    if not floor:
        return ()
    out = []
    for table in _free_tables(floor):  # only the tables with a stored state are built per read
        raw = states.get(table.name)
        if not raw:
            out.append(table)
            continue
        state, party, since = table_state(raw)
        out.append(SnapshotTable(name=table.name, seats=table.seats, joins_with=table.joins_with,
                                 state="clearing" if state == "cleared" else state, party_id=party, since=since))
    return tuple(out)


@lru_cache(maxsize=1024)
def _free_tables(floor: str) -> tuple[SnapshotTable, ...]:
    """The floor's tables, all free, parsed once per floor version (SnapshotTable is frozen, so reads
    share them): every add's snapshot carries the floor, and parsing a 40-table floor into tables was
    about 1.08 M instructions a read under callgrind, more than a third of an add (docs/performance.md,
    "The add with named tables")."""
    return tuple(SnapshotTable(name=t["name"], seats=int(t["seats"]), joins_with=tuple(t.get("joins_with", ())))
                 for t in json.loads(floor))
