"""Message templates and outbound webhooks under /api/v1: thin views over the use cases
(waitlist.services.templates, waitlist.services.webhooks). Managers' business: the staff key (an
admin key) or a signed-in manager's session on the settings screen (waitlist.web.settings)."""
from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, jsonify, request

from waitlist.domain.model import Restaurant
from waitlist.services.templates import MessageTemplates
from waitlist.services.webhooks import Webhooks
from waitlist.web import schemas
from waitlist.web.api import staff
from waitlist.web.http import json_body

bp = Blueprint("integrations", __name__, url_prefix="/api/v1/restaurants/<slug>")


def templates() -> MessageTemplates:
    return current_app.extensions["templates"]  # type: ignore[no-any-return]


def webhooks() -> Webhooks:
    return current_app.extensions["webhooks"]  # type: ignore[no-any-return]


def manager(slug: str) -> Restaurant:
    """The restaurant, for a caller allowed to change its settings (the staff key is an admin key)."""
    return staff(slug)


# --- message templates ---------------------------------------------------------------------------------

@bp.get("/templates")
def list_templates(slug: str) -> Any:
    """Every text that can be reworded in ?language= (en, zh; default the restaurant's)."""
    restaurant = manager(slug)
    language = request.args.get("language") or restaurant.settings.language
    schemas.load(schemas.TemplatePreviewSchema, {"language": language, "kind": "joined", "body": "x"})
    return jsonify({"language": language, "texts": templates().overview(restaurant, language)})


@bp.post("/templates/preview")
def preview_template(slug: str) -> Any:
    """A template rendered with long sample values: encoding, segments, carrier warnings."""
    restaurant = manager(slug)
    data = schemas.load(schemas.TemplatePreviewSchema, json_body())
    return jsonify(templates().preview(restaurant, data["language"], data["kind"], data["body"]).to_dict())


@bp.put("/templates/<language>/<kind>")
def save_template(slug: str, language: str, kind: str) -> Any:
    """Reword one text; a template breaking a rule is refused (400) with the reason."""
    restaurant = manager(slug)
    data = schemas.load(schemas.TemplateSchema, json_body())
    return jsonify(templates().save(restaurant, language, kind, data["body"]).to_dict())


@bp.delete("/templates/<language>/<kind>")
def reset_template(slug: str, language: str, kind: str) -> Any:
    """Back to the built-in wording."""
    templates().reset(manager(slug), language, kind)
    return "", 204


# --- webhooks -----------------------------------------------------------------------------------------

@bp.get("/webhooks")
def list_webhooks(slug: str) -> Any:
    restaurant = manager(slug)
    return jsonify({"webhooks": [e.to_dict() for e in webhooks().endpoints(restaurant)]})


@bp.post("/webhooks")
def add_webhook(slug: str) -> Any:
    """Register an endpoint; the answer carries its signing secret, shown this once."""
    restaurant = manager(slug)
    data = schemas.load(schemas.WebhookSchema, json_body())
    endpoint = webhooks().register(restaurant, data["url"], data["events"], data["description"])
    return jsonify(endpoint.to_dict(with_secret=True)), 201


@bp.get("/webhooks/deliveries")
def webhook_deliveries(slug: str) -> Any:
    """The latest delivery tries, newest first."""
    return jsonify({"deliveries": webhooks().deliveries(manager(slug))})


@bp.get("/webhooks/<endpoint_id>")
def get_webhook(slug: str, endpoint_id: str) -> Any:
    return jsonify(webhooks().endpoint(manager(slug), endpoint_id).to_dict())


@bp.patch("/webhooks/<endpoint_id>")
def switch_webhook(slug: str, endpoint_id: str) -> Any:
    """Enable (its failure clock starts over) or disable an endpoint."""
    restaurant = manager(slug)
    data = schemas.load(schemas.WebhookPatchSchema, json_body())
    return jsonify(webhooks().set_enabled(restaurant, endpoint_id, data["enabled"]).to_dict())


@bp.delete("/webhooks/<endpoint_id>")
def remove_webhook(slug: str, endpoint_id: str) -> Any:
    webhooks().remove(manager(slug), endpoint_id)
    return "", 204
