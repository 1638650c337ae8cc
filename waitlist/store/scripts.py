"""The Lua scripts: loaded once from ``lua/``, registered with redis-py, and their sentinel replies
turned into the WaitlistError family.

One convention for every script (each file's header lists its KEYS, ARGV and results):

* Every key a script touches comes in KEYS, built by waitlist.store.keys. One exception: a script that
  reaches parties whose ids it only learns inside (the list scripts, the snapshot's fallback, the
  almost-ready promotion) gets the party key prefix as a KEYS entry and appends the ids; the prefix
  carries the restaurant's hash tag, so every such key is in the script's slot.
* Every script that changes the line takes KEYS[1] the line and KEYS[2] the sizes hash, and keeps both
  through ``line_change`` (lua/includes/line.lua), the one function that knows how.
* Scalars come in one JSON object, ARGV[1], decoded with cjson. (redis-py packs each argument in
  Python, about 2,800 instructions each: a join's 80 arguments, once 17, cost 8% of an add.) Values
  written into a hash travel as strings; numbers are for comparisons, counts and TTLs.
* A script that can refuse answers ``{'ok', ...}`` or a sentinel ``{'<outcome>', detail}``; ``checked``
  turns the sentinels into exceptions, so store methods answer values or raise.

A script file pulls in shared functions with a line ``--- @include "name"`` (lua/includes/name.lua,
each file once per script, like BullMQ's commands), and fixed numbers with ``{{NAME}}`` (CONSTANTS):
both are expanded here, once, when the scripts are first loaded.
"""
from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from functools import cache
from importlib import resources
from typing import Any

from redis import Redis

from waitlist.domain.errors import (
    AlreadyWaiting,
    DailyCapReached,
    InvalidTransition,
    JoinCodeExpired,
    JoinCodeUnknown,
    JoinCodeUsed,
    PartyIdTaken,
    PartyNotFound,
    PhoneTaken,
    RemoteFull,
    StaleHold,
    UndoTooLate,
    WaitlistError,
)
from waitlist.estimate.calibration import OVERDUE_HEAD
from waitlist.store import codec
from waitlist.store.keys import OUTBOX_CHANNEL

EVENTS_MAXLEN = 10_000
LINE_TTL_SECONDS = 24 * 3600

CONSTANTS: dict[str, str] = {
    "EVENTS_MAXLEN": str(EVENTS_MAXLEN),
    "LINE_TTL": str(LINE_TTL_SECONDS),
    "OUTBOX_CHANNEL": OUTBOX_CHANNEL,
    "OVERDUE_HEAD": str(OVERDUE_HEAD),
    **codec.history_lua_constants(),
}

NAMES = (
    "set_template", "register_hook", "hook_change",
    "join", "transition", "move", "update", "extend_hold", "undo", "list_page", "line_set", "snapshot",
    "restaurant_and_snapshot", "text_outcome", "claim_message", "advance_status", "record_outbound", "claim_outbox",
    "requeue_lost", "create_join_code",
    "set_floor", "table_action",
    "reserve", "reservation_status", "reservation_timer", "claim_booking_code",
)

_INCLUDE = re.compile(r'^--- @include "([a-z_]+)"\s*$', re.MULTILINE)
_CONSTANT = re.compile(r"\{\{([A-Z_]+)\}\}")


def _read(name: str) -> str:
    return resources.files("waitlist.store").joinpath("lua", f"{name}.lua").read_text(encoding="utf-8")


def _expand(text: str, seen: set[str]) -> str:
    def include(match: re.Match[str]) -> str:
        name = match.group(1)
        if name in seen:
            return f"-- ({name} included above)"
        seen.add(name)
        return _expand(_read(f"includes/{name}"), seen)

    return _INCLUDE.sub(include, text)


@cache
def source(name: str) -> str:
    """The script as Redis runs it: includes expanded, constants filled in."""
    text = _expand(_read(name), set())

    def constant(match: re.Match[str]) -> str:
        return CONSTANTS[match.group(1)]

    return _CONSTANT.sub(constant, text)


class Scripts:
    """Every script registered on one client (redis-py's Script caches its SHA and reloads the script
    after a NOSCRIPT, e.g. once Redis restarted)."""

    def __init__(self, redis: Redis):
        self._redis = redis
        self._scripts: dict[str, Any] = {}

    def __call__(self, name: str, keys: Sequence[str], args: Sequence[Any] = ()) -> Any:
        script = self._scripts.get(name)
        if script is None:  # registered at first use: a store made for one request runs one or two
            script = self._scripts[name] = self._redis.register_script(source(name))
        return script(keys=keys, args=args)


# --- sentinel replies -> the WaitlistError family ------------------------------------------------------

def _status_message(status: str) -> str:
    return f"not possible while the party is {status}"


_ERRORS: dict[str, Callable[[str, str], WaitlistError]] = {
    "not_found": lambda party_id, _detail: PartyNotFound(f"no party {party_id!r}"),
    "invalid": lambda _pid, status: InvalidTransition(_status_message(status), current_status=status),
    "stale": lambda _pid, status: StaleHold(_status_message(status), current_status=status),
    "too_late": lambda _pid, status: UndoTooLate("undo is only possible within a minute", current_status=status),
    "answered": lambda _pid, status: UndoTooLate("the guest already answered the table-ready text",
                                                 current_status=status),
    "phone_taken": lambda _pid, status: PhoneTaken("this phone joined again in the meantime",
                                                   current_status=status),
    "already_waiting": lambda _pid, existing: AlreadyWaiting("this phone already has a party on the list",
                                                             party_id=existing),
    "remote_full": lambda _pid, _detail: RemoteFull(
        "the waitlist takes no more remote joins right now; please see the host"),
    "id_taken": lambda _pid, _detail: PartyIdTaken("could not add the party, please try again"),
    "daily_cap": lambda _pid, _detail: DailyCapReached(
        "this phone has joined too many times today; please see the host"),
    "code_unknown": lambda _pid, _detail: JoinCodeUnknown("no such join code"),
    "code_expired": lambda _pid, _detail: JoinCodeExpired("this join code has expired"),
    "code_used": lambda _pid, digest: JoinCodeUsed("this join code was already used", digest=digest),
}


def checked(reply: Sequence[Any], party_id: str) -> Sequence[Any]:
    """A script's reply when it is ``{'ok', ...}``; otherwise its sentinel raised as an error."""
    outcome = reply[0]
    if outcome == "ok":
        return reply
    detail = reply[1] if len(reply) > 1 else ""
    raise _ERRORS[outcome](party_id, detail)
