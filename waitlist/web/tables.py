"""The named tables under /api/v1: thin views that parse, call one use case and answer.

Calling or seating a party at tables is the host actions' ``{"tables": [...]}`` (api.py)."""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Blueprint, jsonify

from waitlist.domain.tables import TableState
from waitlist.web import auth, schemas
from waitlist.web.api import staff
from waitlist.web.http import get_waitlist, json_body

bp = Blueprint("tables", __name__, url_prefix="/api/v1/restaurants/<slug>/tables")


def floor_json(tables: list[TableState]) -> dict[str, Any]:
    return {"tables": [t.to_dict() for t in tables]}


@bp.get("")
def list_tables(slug: str) -> Any:
    """Every named table with its live state."""
    return jsonify(floor_json(get_waitlist().tables(staff(slug))))


@bp.put("")
def replace_tables(slug: str) -> Any:
    """Replace the floor; a held or occupied table cannot be removed or renamed (409)."""
    restaurant = staff(slug)
    data = schemas.load(schemas.FloorSchema, json_body())
    return jsonify(floor_json(get_waitlist().set_tables(restaurant, data["tables"], actor=auth.actor_label())))


@bp.get("/<name>/next")
def next_for_table(slug: str, name: str) -> Any:
    """The waiting and called parties this table suits, best first, each with its reason."""
    return jsonify(get_waitlist().next_for_table(staff(slug), name).to_dict())


TABLE_ACTIONS = {"clear": "clear_table", "block": "block_table", "unblock": "unblock_table"}
"""A host's one-tap actions on a table, each the use case of that name: clear (the party there left: it
is completed and its tables cleared), block, unblock."""


@bp.post(f"/<name>/<any({', '.join(map(repr, TABLE_ACTIONS))}):table_action>")
def act_on_table(slug: str, name: str, table_action: str) -> Any:
    """One atomic change of one table."""
    restaurant = staff(slug)
    json_body()
    use_case: Callable[..., TableState] = getattr(get_waitlist(), TABLE_ACTIONS[table_action])
    return jsonify(use_case(restaurant, name, actor=auth.actor_label()).to_dict())
