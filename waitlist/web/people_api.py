"""People and API keys under /api/v1/restaurants/<slug>: thin views over waitlist.services.people."""
from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, g, jsonify

from waitlist.domain.errors import InvalidInput
from waitlist.domain.model import iso
from waitlist.web.auth import get_people, require_role
from waitlist.web.http import json_body

bp = Blueprint("people_api", __name__, url_prefix="/api/v1/restaurants/<slug>")


def strings(*names: str) -> dict[str, str]:
    """The JSON body's named fields, each a string (a 400 that names any other field or type)."""
    body = json_body()
    bad = {name: ["unknown field"] for name in body if name not in names}
    bad.update({name: ["a string"] for name in names if not isinstance(body.get(name, ""), str)})
    if bad:
        raise InvalidInput("some fields are not valid", fields=bad)
    return {name: str(body.get(name, "")) for name in names}


@bp.get("/people")
@require_role("manager")
def list_people(slug: str) -> Any:
    return jsonify({"people": get_people().members(g.restaurant)})


@bp.post("/invitations")
@require_role("owner")
def invite(slug: str) -> Any:
    """A single-use link for ``email`` to join with ``role``; it expires in 3 days."""
    data = strings("email", "role")
    url = get_people().invite(g.restaurant, g.actor, data["email"], data["role"])
    return jsonify({"email": data["email"].strip().lower(), "role": data["role"], "invite_url": url}), 201


@bp.patch("/people/<account_id>")
@require_role("owner")
def change_role(slug: str, account_id: str) -> Any:
    role = strings("role")["role"]
    get_people().set_role(g.restaurant, g.actor, account_id, role)
    return jsonify({"id": account_id, "role": role})


@bp.post("/people/<account_id>/reset-link")
@require_role("manager")
def reset_link(slug: str, account_id: str) -> Any:
    """A single-use password reset link for a member, given back to the caller to hand over (an owner for
    anyone here, a manager for people below them); it expires in an hour and ends their sessions."""
    url = get_people().reset_link(g.restaurant, g.actor, account_id)
    return jsonify({"id": account_id, "reset_url": url, "expires_in": get_people().reset_seconds}), 201


@bp.delete("/people/<account_id>")
@require_role("owner")
def remove_person(slug: str, account_id: str) -> Any:
    """The person's sessions end at once."""
    get_people().remove(g.restaurant, account_id)
    return Response(status=204)


def key_json(key: dict[str, Any]) -> dict[str, Any]:
    return {**key, "created_at": iso(key["created_at"])}


@bp.get("/keys")
@require_role("manager")
def list_keys(slug: str) -> Any:
    return jsonify({"keys": [key_json(k) for k in get_people().api_keys(g.restaurant)]})


@bp.post("/keys")
@require_role("manager")
def create_key(slug: str) -> Any:
    """A named key with a scope (read, host or admin); its secret is in this answer only."""
    data = strings("name", "scope")
    key, secret = get_people().create_api_key(g.restaurant, g.actor, data["name"], data["scope"])
    return jsonify({"id": key.id, "name": key.name, "scope": key.scope, "created_at": iso(key.created_at),
                    "api_key": secret}), 201


@bp.delete("/keys/<key_id>")
@require_role("manager")
def revoke_key(slug: str, key_id: str) -> Any:
    """``restaurant-key`` revokes the restaurant's own key (and signs out tablets signed in with it)."""
    get_people().revoke_api_key(g.restaurant, key_id)
    return Response(status=204)
