"""The host stand's floor: a strip of every named table beside the list, and one table's panel.

Tapping a free table shows who it suits (the routing rule of ``Tables.next_for_table``) with one-tap
"call here" and "seat here"; an occupied table is cleared, a free one blocked, a blocked one unblocked.
Every action is a plain form carrying the session's CSRF token, so it works without script (the panel
is then a page of its own, and each action redirects back to the stand); floor.js opens the panel in
a dialog instead and posts the same forms with fetch. The floor is its own fragment (GET .../floor):
a live tablet re-reads it on every ``changed`` event, as table events name no party.
"""
from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from flask import Blueprint, g, jsonify, render_template, request

from waitlist.domain.errors import InvalidInput
from waitlist.domain.model import Restaurant
from waitlist.domain.tables import (
    BLOCKED,
    CLEARING,
    FITS,
    FREE,
    HELD,
    MOST_JOINED,
    NEEDS_JOIN,
    OCCUPIED,
    SMALLER_PARTY,
    Occupant,
    Suggestion,
    TableState,
)
from waitlist.services.waitlist import Waitlist
from waitlist.web import auth, schemas
from waitlist.web.forms import back_to, check_csrf, from_script
from waitlist.web.host import signed_in, staff
from waitlist.web.http import get_waitlist

bp = Blueprint("floor", __name__, url_prefix="/host/<slug>")
bp.context_processor(auth.read_only_page)

STATE_WORDS = {FREE: "free", HELD: "held", OCCUPIED: "occupied", CLEARING: "clearing", BLOCKED: "blocked"}
STATE_MARKS = {FREE: "○", HELD: "◔", OCCUPIED: "●", CLEARING: "↻", BLOCKED: "⊘"}
"""A shape per state beside its word, so a state never reads by colour alone."""
REASON_WORDS = {FITS: "fits", NEEDS_JOIN: "needs join", SMALLER_PARTY: "smaller party"}
TIMED = (HELD, OCCUPIED, CLEARING, BLOCKED)
"""States whose minutes are shown (a free table's are not worth the space)."""
TABLE_NAME = re.compile(str(schemas.TABLE_NAME.regex.pattern))
"""A table name as the floor accepts it (a ``with`` field naming anything else is refused)."""
PARTY_ID = re.compile(r"[A-Za-z0-9_-]{1,64}\Z")


@dataclass(frozen=True)
class FloorTable:
    name: str
    seats: int
    min_seats: int
    section: str
    state: str
    minutes: int | None
    """Whole minutes in this state, None when not shown or not known."""
    party_id: str | None = None
    party_name: str = ""
    party_size: int | None = None
    joined: tuple[str, ...] = ()
    """The other tables pushed together with this one for its party."""

    @property
    def word(self) -> str:
        return STATE_WORDS.get(self.state, self.state)

    @property
    def mark(self) -> str:
        return STATE_MARKS.get(self.state, "")

    @property
    def label(self) -> str:
        """What the table says in words: "occupied 48 min", "held 3 min · Lee", "free"."""
        text = self.word + (f" {self.minutes} min" if self.minutes is not None else "")
        return f"{text} · {self.party_name}" if self.party_name else text


@dataclass(frozen=True)
class SuggestionRow:
    party_id: str
    name: str
    party_size: int
    position: int | None
    reason: str
    join_with: tuple[str, ...]

    @property
    def why(self) -> str:
        if self.reason == NEEDS_JOIN:
            return f"needs join with {', '.join(self.join_with)}"
        return REASON_WORDS.get(self.reason, self.reason)


@dataclass(frozen=True)
class Floor:
    tables: list[FloorTable] = field(default_factory=list)

    @property
    def counts(self) -> dict[str, int]:
        out = {state: 0 for state in STATE_WORDS}
        for table in self.tables:
            out[table.state] = out.get(table.state, 0) + 1
        return out


def floor_table(state: TableState, now: float, parties: Mapping[str, Occupant]) -> FloorTable:
    party = parties.get(state.party_id or "")
    minutes = int(max(0.0, now - state.since) // 60) if state.since and state.state in TIMED else None
    return FloorTable(name=state.name, seats=state.table.seats, min_seats=state.table.min_seats,
                      section=state.table.section, state=state.state, minutes=minutes, party_id=state.party_id,
                      party_name=party.name if party else "", party_size=party.party_size if party else None,
                      joined=tuple(t for t in (party.tables if party else ()) if t != state.name))


def floor(waitlist: Waitlist, restaurant: Restaurant) -> Floor:
    """Every named table with its state, minutes in it and its party (empty without named tables)."""
    states = waitlist.tables(restaurant)
    if not states:
        return Floor()
    now, parties = waitlist.clock(), waitlist.occupants(restaurant, states)
    return Floor([floor_table(s, now, parties) for s in states])


def suggestion_rows(suggestions: Sequence[Suggestion]) -> list[SuggestionRow]:
    return [SuggestionRow(s.party_id, s.name, s.party_size, s.position, s.reason, s.join_with) for s in suggestions]


@bp.app_template_global("host_floor")
def host_floor(restaurant: Restaurant) -> Floor:
    """The floor for the host stand's page (host.html includes the strip when there are named tables)."""
    return floor(get_waitlist(), restaurant)


@bp.before_request
def _forms_carry_the_csrf_token() -> None:
    if request.method == "POST":
        check_csrf()


# --- reading -------------------------------------------------------------------------------------------

@bp.get("/floor")
@auth.require_role("viewer")
def floor_fragment(slug: str) -> Any:
    """The floor strip alone: a live tablet re-reads it after every change."""
    return render_template("_host_floor.html", restaurant=g.restaurant, floor=floor(get_waitlist(), g.restaurant))


@bp.get("/tables/<name>")
def table_panel(slug: str, name: str) -> Any:
    """One table: its state and party, who it suits when free, and its actions. The panel alone for
    floor.js; a page of its own without script."""
    restaurant = signed_in(slug) if not from_script() else staff(slug)
    if restaurant is None:
        return back_to("host.sign_in_form", slug=slug)
    waitlist = get_waitlist()
    state, suggestions = waitlist.table(restaurant, name), []
    if state.state == FREE:
        choice = waitlist.next_for_table(restaurant, name)
        state, suggestions = choice.table, suggestion_rows(choice.suggestions)
    table = floor_table(state, waitlist.clock(), waitlist.occupants(restaurant, [state]))
    return render_template("_host_table.html" if from_script() else "host_table.html", restaurant=restaurant,
                           table=table, suggestions=suggestions)


table_panel.required_role = "viewer"  # type: ignore[attr-defined]
"""What auth.required_role reads: the panel checks the session itself, to send a signed-out page to sign in
(its actions need a host)."""


# --- acting ----------------------------------------------------------------------------------------------

def joined_names(name: str) -> list[str]:
    """The table and the free neighbours the host chose to push together with it (``with`` fields)."""
    extra = list(dict.fromkeys(n for n in request.form.getlist("with") if n and n != name))
    if len(extra) >= MOST_JOINED or not all(TABLE_NAME.match(n) for n in extra):
        raise InvalidInput("some fields are not valid",
                           fields={"with": [f"at most {MOST_JOINED - 1} table names: {schemas.TABLE_NAME.error}"]})
    return [name, *extra]


def form_party() -> str:
    party_id = request.form.get("party_id", "")
    if not PARTY_ID.match(party_id):
        raise InvalidInput("some fields are not valid", fields={"party_id": ["Missing or not a party id."]})
    return party_id


@bp.post("/tables/<name>/<any(call, seat):action>")
@auth.require_role("host")
def seat_or_call(slug: str, name: str, action: str) -> Any:
    """Call a party to this table (held for it, the guest texted) or seat it here, with the neighbours
    a join needs. Seating the party the table is held for seats it at every table it holds."""
    restaurant: Restaurant = g.restaurant
    party_id, waitlist = form_party(), get_waitlist()
    tables = joined_names(name)
    if action == "seat" and waitlist.table(restaurant, name).party_id == party_id:
        tables = []  # its own held tables, all of them
    party = waitlist.host_action(restaurant, party_id, "notify" if action == "call" else "seat", tables=tables,
                                 actor=auth.actor_label())
    if from_script():
        return jsonify({"id": party.id, "name": party.name, "status": party.status.value, "tables": party.tables})
    return back_to("host.page", slug=slug)


TABLE_ACTIONS = {"clear": "clear_table", "block": "block_table", "unblock": "unblock_table"}


@bp.post(f"/tables/<name>/<any({', '.join(map(repr, TABLE_ACTIONS))}):action>")
@auth.require_role("host")
def act_on_table(slug: str, name: str, action: str) -> Any:
    """Clear (the party there left), block or unblock a table: one atomic change each."""
    state: TableState = getattr(get_waitlist(), TABLE_ACTIONS[action])(g.restaurant, name, actor=auth.actor_label())
    if from_script():
        return jsonify(state.to_dict())
    return back_to("host.page", slug=slug)
