"""The JSON API under /api/v1: thin views that parse, call one use case and answer."""
from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, jsonify, request

from waitlist.domain.model import Party, Restaurant, iso
from waitlist.services.waitlist import HOST_ACTIONS, GuestView
from waitlist.web import auth, schemas
from waitlist.web.http import bearer_token, get_waitlist, json_body

bp = Blueprint("api", __name__, url_prefix="/api/v1")


def staff(slug: str) -> Restaurant:
    """The restaurant behind ``slug``, if the request's key may use this endpoint (waitlist.web.auth)."""
    return auth.api_staff(slug)


def party_json(party: Party) -> dict[str, Any]:
    return party.to_dict(get_waitlist().status_url(party))


def created(payload: dict[str, Any]) -> tuple[Response, int]:
    return jsonify(payload), 201


@bp.post("/restaurants")
def create_restaurant() -> Any:
    """Create a restaurant (admin token); the answer carries its API key, shown only this once."""
    waitlist = get_waitlist()
    waitlist.check_admin(bearer_token())
    data = schemas.load(schemas.RestaurantCreateSchema, json_body())
    restaurant, api_key = waitlist.create_restaurant(**data)
    return created({**restaurant.to_dict(), "api_key": api_key})


@bp.get("/restaurants/<slug>")
def show_restaurant(slug: str) -> Any:
    return jsonify(staff(slug).to_dict())


@bp.get("/restaurants/<slug>/settings")
def show_settings(slug: str) -> Any:
    return jsonify(staff(slug).settings.to_dict())


@bp.patch("/restaurants/<slug>/settings")
def update_settings(slug: str) -> Any:
    restaurant = staff(slug)
    patch = schemas.load(schemas.SettingsPatchSchema, json_body())
    return jsonify(get_waitlist().update_settings(restaurant, patch).to_dict())


@bp.post("/restaurants/<slug>/parties")
def add_party(slug: str) -> Any:
    """A host adds a party; the guest is texted their place, quote (the host's, when given) and status
    link."""
    waitlist = get_waitlist()
    restaurant, snapshot, actor = auth.get_people().authenticate_for_join(slug, bearer_token())
    auth.authorize(actor)
    data = schemas.load(schemas.PartyCreateSchema, json_body(), restaurant=restaurant)
    quote = data.pop("quote_minutes", None)
    return created(party_json(waitlist.join(restaurant, snapshot=snapshot, quote_override=quote,
                                                     actor=auth.actor_label(), **data)))


@bp.get("/restaurants/<slug>/parties")
def list_parties(slug: str) -> Any:
    """The list in queue order; with a ``limit`` or a ``cursor``, one page and the next page's cursor
    (without either, the answer is the whole list, shaped as before paging)."""
    restaurant = staff(slug)
    query = schemas.load(schemas.StatusFilterSchema, request.args.to_dict())
    parties, following = get_waitlist().list_page(restaurant, query["status"], query["cursor"], query["limit"])
    body: dict[str, Any] = {"parties": [party_json(p) for p in parties]}
    if query["cursor"] is not None or query["limit"] is not None:
        body["next_cursor"] = following
    return jsonify(body)


@bp.get("/restaurants/<slug>/parties/<party_id>")
def show_party(slug: str, party_id: str) -> Any:
    return jsonify(party_json(get_waitlist().party(staff(slug), party_id)))


@bp.patch("/restaurants/<slug>/parties/<party_id>")
def update_party(slug: str, party_id: str) -> Any:
    restaurant = staff(slug)
    patch = schemas.load(schemas.PartyPatchSchema, json_body(), restaurant=restaurant)
    return jsonify(party_json(get_waitlist().update_party(restaurant, party_id, patch, actor=auth.actor_label())))


ACTIONS = {action.replace("_", "-"): action for action in HOST_ACTIONS}
"""Each host action as the URL spells it (no-show, check-in)."""
ACTION_RULE = f"<any({', '.join(map(repr, ACTIONS))}):action>"


@bp.post(f"/restaurants/<slug>/parties/<party_id>/{ACTION_RULE}")
def host_action(slug: str, party_id: str, action: str) -> Any:
    """One-tap host actions; each is one atomic state change."""
    restaurant = staff(slug)
    data = schemas.load(schemas.TablesChoiceSchema, json_body())  # notify and seat may name tables
    return jsonify(party_json(get_waitlist().host_action(restaurant, party_id, ACTIONS[action],
                                                                  actor=auth.actor_label(), **data)))


@bp.post("/restaurants/<slug>/parties/<party_id>/move")
def move_party(slug: str, party_id: str) -> Any:
    restaurant = staff(slug)
    data = schemas.load(schemas.MoveSchema, json_body())
    return jsonify(party_json(get_waitlist().move(restaurant, party_id, data["position"], actor=auth.actor_label())))


@bp.post("/restaurants/<slug>/parties/<party_id>/messages")
def send_message(slug: str, party_id: str) -> Any:
    """The host texts a guest in their own words."""
    restaurant = staff(slug)
    data = schemas.load(schemas.MessageSchema, json_body())
    return created(message_json(get_waitlist().send_custom(restaurant, party_id, data["body"])))


@bp.get("/restaurants/<slug>/parties/<party_id>/messages")
def conversation(slug: str, party_id: str) -> Any:
    restaurant = staff(slug)
    messages = get_waitlist().conversation(restaurant, party_id)
    return jsonify({"messages": [message_json(m) for m in messages]})


def message_json(message: dict[str, str]) -> dict[str, Any]:
    return {
        "id": message.get("id"),
        "direction": message.get("direction", "out"),
        "kind": message.get("kind"),
        "body": message.get("body", ""),
        "status": message.get("status"),
        "error_code": message.get("error_code") or None,
        "last_error": message.get("last_error") or None,
        "created_at": iso(float(message["created_at"])) if message.get("created_at") else None,
        "updated_at": iso(float(message["updated_at"])) if message.get("updated_at") else None,
    }


@bp.post("/restaurants/<slug>/pause")
def pause(slug: str) -> Any:
    """Stop remote joins (join page, JOIN by text) with a message for guests; hosts still add."""
    restaurant = staff(slug)
    data = schemas.load(schemas.PauseSchema, json_body())
    return jsonify(get_waitlist().pause(restaurant, data["message"]).to_dict())


@bp.post("/restaurants/<slug>/resume")
def resume(slug: str) -> Any:
    restaurant = staff(slug)
    json_body()
    return jsonify(get_waitlist().resume(restaurant).to_dict())


@bp.get("/restaurants/<slug>/estimate")
def estimate(slug: str) -> Any:
    """Public: the current wait for a party size, for the restaurant's website. No personal data."""
    waitlist = get_waitlist()
    restaurant, snapshot = waitlist.restaurant_for_estimate(slug)
    query = schemas.load(schemas.EstimateQuerySchema, request.args.to_dict(), restaurant=restaurant)
    result = waitlist.estimate(restaurant, query["party_size"], snapshot=snapshot)
    return jsonify({
        "party_size": query["party_size"], "minutes": result.minutes, "low": result.low, "high": result.high,
        "parties_ahead": result.parties_ahead, "updated_at": iso(waitlist.clock()),
        "open": waitlist.is_open(restaurant),
        "message": restaurant.settings.pause_message if restaurant.settings.paused else "",
    })


def guest_json(view: GuestView) -> dict[str, Any]:
    party, estimate = view.party, view.estimate
    return {
        "restaurant": view.restaurant.name,
        "name": party.name,
        "party_size": party.party_size,
        "status": party.status.value,
        "position": party.position,
        "quote_minutes": party.quote_minutes,
        "estimate": None if estimate is None else {
            "minutes": estimate.minutes, "low": estimate.low, "high": estimate.high},
        "hold_until": iso(party.hold_until),
        "flags": sorted(party.flags & {"running_late", "on_the_way"}),
        "language": party.language or view.restaurant.settings.language,
    }


@bp.get("/status/<token>")
def guest_status(token: str) -> Any:
    """What a guest's status link shows: never the phone number."""
    return jsonify(guest_json(get_waitlist().guest_view(token)))


@bp.post("/status/<token>/leave")
def guest_leave(token: str) -> Any:
    return jsonify(guest_json(get_waitlist().guest_leave(token)))
