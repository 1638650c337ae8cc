"""Reservations under /api/v1: thin views that parse, call one use case (waitlist.services.reservations)
and answer. Staff book, list and act (host and above; the settings need a manager); the availability of
a day is public, as a booking page needs it."""
from __future__ import annotations

from datetime import date
from typing import Any

from flask import Blueprint, current_app, g, jsonify, request
from marshmallow import fields, validate

from waitlist.domain.errors import InvalidInput
from waitlist.domain.model import LANGUAGES, TAGS
from waitlist.domain.text import NAME_MAX
from waitlist.services.reservations import Reservations
from waitlist.web import schemas
from waitlist.web.auth import actor_label, require_role
from waitlist.web.http import get_waitlist, json_body
from waitlist.web.schemas import MESSAGES, NOTES_MAX, PartySize, Phone, StrictBoolean, Trimmed

bp = Blueprint("reservations", __name__, url_prefix="/api/v1/restaurants/<slug>")

TIME = validate.Length(min=16, max=19, error="a local time like 2026-12-24T19:30")


class BookingSchema(schemas._Strict):
    name = Trimmed(required=True, validate=validate.Length(min=1, max=NAME_MAX, error=MESSAGES["name"]),
                   error_messages={"required": MESSAGES["name"]})
    phone = Phone(required=True)
    party_size = PartySize(required=True)
    time = fields.String(required=True, validate=TIME)
    notes = Trimmed(multiline=True, load_default="", validate=validate.Length(max=NOTES_MAX, error=MESSAGES["notes"]))
    tags = fields.List(fields.String(validate=validate.OneOf(TAGS, error=MESSAGES["choice"])), load_default=list,
                       validate=validate.Length(max=len(TAGS)))
    language = fields.String(load_default=None, allow_none=True,
                             validate=validate.OneOf(LANGUAGES, error=MESSAGES["choice"]))
    force = StrictBoolean(load_default=False)


class ChangeSchema(schemas._Strict):
    party_size = PartySize()
    time = fields.String(validate=TIME)
    notes = Trimmed(multiline=True, validate=validate.Length(max=NOTES_MAX, error=MESSAGES["notes"]))
    force = StrictBoolean(load_default=False)


def get_reservations() -> Reservations:
    return current_app.extensions["reservations"]  # type: ignore[no-any-return]


def query_date(name: str = "date") -> date:
    text = request.args.get(name, "")
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise InvalidInput(f"{name} must be a date like 2026-12-24", fields={name: ["YYYY-MM-DD"]}) from None


@bp.post("/reservations")
@require_role("host")
def book(slug: str) -> Any:
    """Book a table; 409 slot_full past the caps unless ``force``."""
    data = schemas.load(BookingSchema, json_body(), restaurant=g.restaurant)
    return jsonify(get_reservations().book(g.restaurant, actor=actor_label(), **data)), 201


@bp.get("/reservations")
@require_role("viewer")
def list_day(slug: str) -> Any:
    """Every reservation of a service day."""
    return jsonify({"reservations": get_reservations().day(g.restaurant, query_date())})


@bp.get("/reservations/settings")
@require_role("viewer")
def show_rules(slug: str) -> Any:
    return jsonify(get_reservations().rules(g.restaurant).to_dict())


@bp.patch("/reservations/settings")
@require_role("manager")
def update_rules(slug: str) -> Any:
    """Change the reservation settings (hours, slot length, caps, holds, walk-in share, texts)."""
    return jsonify(get_reservations().update_rules(g.restaurant, json_body()).to_dict())


@bp.get("/reservations/<reservation_id>")
@require_role("viewer")
def show(slug: str, reservation_id: str) -> Any:
    return jsonify(get_reservations().get(g.restaurant, reservation_id))


@bp.patch("/reservations/<reservation_id>")
@require_role("host")
def change(slug: str, reservation_id: str) -> Any:
    """Change the time, party size or notes within the caps."""
    data = schemas.load(ChangeSchema, json_body(), restaurant=g.restaurant)
    return jsonify(get_reservations().change(g.restaurant, reservation_id, actor=actor_label(), **data))


ACTIONS = {"cancel": "cancel", "no-show": "no_show", "check-in": "check_in", "confirm": "confirm"}


@bp.post(f"/reservations/<reservation_id>/<any({', '.join(map(repr, ACTIONS))}):action>")
@require_role("host")
def act(slug: str, reservation_id: str, action: str) -> Any:
    """One atomic status change; check-in puts the guests on the list or at a free table."""
    json_body()
    use_case = getattr(get_reservations(), ACTIONS[action])
    return jsonify(use_case(g.restaurant, reservation_id, actor=actor_label()))


@bp.get("/availability")
def availability(slug: str) -> Any:
    """Open slots of a day for a party size (public: the booking page reads it)."""
    restaurant = get_waitlist().restaurant(slug)
    size_text = request.args.get("party_size", "2")
    if not (size_text.isascii() and size_text.isdigit()):
        raise InvalidInput("party_size must be a whole number", fields={"party_size": ["a whole number"]})
    slots = get_reservations().availability(restaurant, query_date(), int(size_text))
    return jsonify({"date": query_date().isoformat(), "party_size": int(size_text),
                    "slots": [{"time": slot.label, "starts_at": slot.start} for slot in slots]})
