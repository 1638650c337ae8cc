"""Named tables in Redis: the floor (the restaurant hash's "floor" field), each table's stored state (one
hash, ``keys.table_states_key``), and the atomic changes of both.

A party's tables change with the party, in the transition and undo scripts (lua/includes/tables.lua has
the rules they share); a floor change and a host's block, unblock and clear are scripts of their own.
Refusals come back as the table errors of the WaitlistError family (``checked``).
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import orjson
from redis import Redis

from waitlist.domain.errors import (
    PartyTooBig,
    TableBlocked,
    TableNotFound,
    TablesNotJoinable,
    TableTaken,
    WaitlistError,
)
from waitlist.domain.tables import Occupant
from waitlist.store import codec, keys, scripts
from waitlist.store.scripts import Scripts

StoredState = tuple[str, str, float | None]
"""(state as stored, party id or '', since)."""


def _taken(detail: Sequence[Any]) -> WaitlistError:
    name = detail[0]
    holder = detail[1] if len(detail) > 1 else ""
    return TableTaken(f"table {name} is held for or occupied by another party", table=name, party_id=holder or None)


_TABLE_ERRORS: dict[str, Callable[[Sequence[Any]], WaitlistError]] = {
    "no_table": lambda d: TableNotFound(f"no table {d[0]!r} on this floor", table=d[0]),
    "not_joinable": lambda d: TablesNotJoinable(f"tables {d[0]} cannot be pushed together (joins_with)",
                                                tables=d[0].split(",")),
    "too_big": lambda d: PartyTooBig(f"those tables seat {d[0]}: too few for the party", seats=int(d[0])),
    "table_blocked": lambda d: TableBlocked(f"table {d[0]} is blocked: unblock it first", table=d[0]),
    "table_taken": _taken,
}


def checked(reply: Sequence[Any], party_id: str = "") -> Sequence[Any]:
    """``scripts.checked``, with the table scripts' sentinels raised as table errors."""
    refusal = _TABLE_ERRORS.get(reply[0])
    if refusal is not None:
        raise refusal(reply[1:])
    return scripts.checked(reply, party_id)


@dataclass(frozen=True)
class TableActed:
    state: str
    """The table's stored state after the action."""
    occupant: str | None = None
    """For a clear of an occupied table: the party sitting there (nothing changed; complete it)."""


class TableStore:
    """The floor's states and the host's table actions."""

    def __init__(self, redis: Redis):
        self.redis: Any = redis
        self._run = Scripts(redis)

    def states(self, slug: str) -> dict[str, StoredState]:
        """Every table's stored state by name (a table missing here is free)."""
        return {name: codec.table_state(raw) for name, raw in self.redis.hgetall(keys.table_states_key(slug)).items()}

    def occupants(self, slug: str, party_ids: Sequence[str]) -> dict[str, Occupant]:
        """Name, size and tables of each party, in one pipelined read (parties whose record is gone are
        left out): the floor strip labels its tables with them after every live change, and the list's
        row read (places and counts of the whole list) cost twenty times more for this."""
        pipe = self.redis.pipeline(transaction=False)
        for party_id in party_ids:
            pipe.hmget(keys.party_key(slug, party_id), ("name", "party_size", "tables"))
        found: dict[str, Occupant] = {}
        for party_id, (name, size, tables) in zip(party_ids, pipe.execute()):
            if name is not None:
                found[party_id] = Occupant(name, int(size or 0), tuple(t for t in (tables or "").split(",") if t))
        return found

    def set_floor(self, slug: str, floor_json: str, names: Sequence[str], *, now: float, actor: str) -> None:
        """Replace the floor ('' for none). Raises TableTaken when a held or occupied table would go."""
        checked(self._run("set_floor", [keys.restaurant_key(slug), keys.table_states_key(slug),
                                        keys.events_key(slug)],
                          [orjson.dumps({"floor": floor_json, "names": list(names), "now": repr(now),
                                         "actor": actor})]))

    def act(self, slug: str, op: str, name: str, *, now: float, actor: str, party_id: str = "") -> TableActed:
        """``op``: block, unblock or clear one table, or vacate it of ``party_id`` (a party whose record is
        gone) (lua/table_action.lua). Raises TableNotFound, TableTaken or TableBlocked; a clear of an
        occupied table answers its occupant and changes nothing."""
        reply = self._run("table_action", [keys.restaurant_key(slug), keys.table_states_key(slug),
                                           keys.events_key(slug)],
                          [orjson.dumps({"op": op, "name": name, "now": repr(now), "actor": actor,
                                         "party": party_id})])
        if reply[0] == "occupied":
            return TableActed(state="occupied", occupant=reply[1])
        return TableActed(state=checked(reply)[1])
