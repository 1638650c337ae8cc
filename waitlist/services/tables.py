"""The tables' use cases: the floor, its live states, who a table suits, and the host's table actions.

Calling or seating a party at tables is ``notify``/``seat`` with ``tables=[...]`` (parties.py): the
party and its tables change in one script. A table is cleared by completing the party that sat there,
so the turn is recorded with the table's real seats.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from waitlist.domain.errors import InvalidTransition, PartyNotFound, TableNotFound
from waitlist.domain.model import Party, Restaurant
from waitlist.domain.tables import (
    Occupant,
    Suggestion,
    TableState,
    floor_of,
    floor_states,
    floor_to_json,
    most_seats_of,
    next_for_table,
    validate_floor,
)
from waitlist.services.access import log
from waitlist.services.parties import Parties
from waitlist.store.listing import Rows
from waitlist.store.tables import TableStore

CLEAR_TRIES = 3
"""A clear races a seat's undo or another clear at most this often before it answers what it finds."""


@dataclass(frozen=True)
class TableChoice:
    """A table and the parties it suits, best first (``GET .../tables/{name}/next``)."""

    table: TableState
    suggestions: list[Suggestion]

    def to_dict(self) -> dict[str, Any]:
        return {"table": self.table.to_dict(), "suggestions": [s.to_dict() for s in self.suggestions]}


class Tables(Parties):
    """Named tables: the floor, their states, routing, block/unblock/clear; parties flagged when no
    table or join can seat them."""

    @cached_property
    def table_store(self) -> TableStore:
        return TableStore(self.store.redis)

    # --- reads ---

    def tables(self, restaurant: Restaurant) -> list[TableState]:
        """Every named table with its live state, in the floor's order ([] without named tables)."""
        floor = floor_of(restaurant)
        if not floor:
            return []
        return floor_states(floor, self.table_store.states(restaurant.slug), now=self.clock(),
                            clearing_minutes=restaurant.settings.clearing_minutes)

    def table(self, restaurant: Restaurant, name: str) -> TableState:
        found = next((t for t in self.tables(restaurant) if t.name == name), None)
        if found is None:
            raise TableNotFound(f"no table {name!r} on this floor", table=name)
        return found

    def occupants(self, restaurant: Restaurant, tables: Iterable[TableState]) -> dict[str, Occupant]:
        """The parties holding or occupying these tables, by id (their names label the floor strip)."""
        ids = list(dict.fromkeys(t.party_id for t in tables if t.party_id))
        return self.table_store.occupants(restaurant.slug, ids) if ids else {}

    def next_for_table(self, restaurant: Restaurant, name: str) -> TableChoice:
        """Who table ``name`` suits, best first (waitlist.domain.tables.next_for_table)."""
        states = {t.name: t for t in self.tables(restaurant)}
        if name not in states:
            raise TableNotFound(f"no table {name!r} on this floor", table=name)
        parties = super().list_parties(restaurant)
        return TableChoice(states[name], next_for_table(states[name].table, states, parties))

    # --- the floor ---

    def set_tables(self, restaurant: Restaurant, tables: Sequence[Mapping[str, Any]],
                   actor: str = "host") -> list[TableState]:
        """Replace the floor with ``tables`` (type-checked dicts: name, seats, min_seats, section,
        joins_with). Raises InvalidInput naming every problem, or TableTaken when a held or occupied table
        would be removed or renamed. An empty floor goes back to the count-by-size setting."""
        floor = validate_floor(tables, restaurant.settings.max_party_size)
        self.table_store.set_floor(restaurant.slug, floor_to_json(floor) if floor else "", [t.name for t in floor],
                                   now=self.clock(), actor=actor)
        log.info("floor set slug=%s tables=%d by=%s", restaurant.slug, len(floor), actor)
        return self.tables(self.restaurant(restaurant.slug))

    # --- the host's table actions ---

    def block_table(self, restaurant: Restaurant, name: str, actor: str = "host") -> TableState:
        """Take a free or clearing table out of use. Raises TableNotFound, or TableTaken when a party has it."""
        self.table_store.act(restaurant.slug, "block", name, now=self.clock(), actor=actor)
        return self.table(restaurant, name)

    def unblock_table(self, restaurant: Restaurant, name: str, actor: str = "host") -> TableState:
        self.table_store.act(restaurant.slug, "unblock", name, now=self.clock(), actor=actor)
        return self.table(restaurant, name)

    def clear_table(self, restaurant: Restaurant, name: str, actor: str = "host") -> TableState:
        """The party at the table left: complete it (every table it sat at is cleared, and its turn is
        recorded with their real seats); a clearing table is ready now. Raises TableNotFound, TableTaken
        (held for a called party) or TableBlocked."""
        for _ in range(CLEAR_TRIES):
            acted = self.table_store.act(restaurant.slug, "clear", name, now=self.clock(), actor=actor)
            if acted.occupant is None:
                break
            try:
                self.complete(restaurant, acted.occupant, actor=actor)
                break
            except PartyNotFound:  # the party's record expired while the table stayed occupied
                self.table_store.act(restaurant.slug, "vacate", name, now=self.clock(), actor=actor,
                                     party_id=acted.occupant)
                break
            except InvalidTransition:  # completed or its seat undone meanwhile: look again
                continue
        return self.table(restaurant, name)

    # --- parties no table can seat ---

    def join(self, restaurant: Restaurant, *args: Any, **kwargs: Any) -> Party:
        """``Parties.join``, the party flagged at once when no table or join can seat it."""
        party = super().join(restaurant, *args, **kwargs)
        self._flag_unseatable(restaurant, [party])
        return party

    def list_parties(self, restaurant: Restaurant, status: str | None = None) -> list[Party]:
        return self._flag_unseatable(restaurant, super().list_parties(restaurant, status))

    def list_page(self, restaurant: Restaurant, status: str | None = None, cursor: str | None = None,
                  limit: int | None = None) -> tuple[list[Party], str | None]:
        parties, following = super().list_page(restaurant, status, cursor, limit)
        return self._flag_unseatable(restaurant, parties), following

    def list_rows(self, restaurant: Restaurant, party_ids: list[str]) -> Rows:
        rows = super().list_rows(restaurant, party_ids)
        self._flag_unseatable(restaurant, [placed.party for placed in rows.placed.values() if placed.party])
        return rows

    def party(self, restaurant: Restaurant, party_id: str) -> Party:
        party = super().party(restaurant, party_id)
        self._flag_unseatable(restaurant, [party])
        return party

    def _flag_unseatable(self, restaurant: Restaurant, parties: Iterable[Party]) -> list[Party]:
        """Mark parties no table of the floor, alone or pushed together, can seat (``no_table_fits``)."""
        out = list(parties)
        most = most_seats_of(restaurant)  # once per floor version, not once per party or request
        if most is not None:
            for party in out:
                party.no_table_fits = party.party_size > most
        return out

