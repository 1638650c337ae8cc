"""Who may call each staff endpoint: the role table, ``require_role`` and the request's actor.

Every staff endpoint needs a role (waitlist.domain.people.ROLES). A view either carries
``@require_role("manager")`` or is named in ENDPOINT_ROLES (the views written before roles, which call
``api_staff``/``page_staff`` themselves); a staff endpoint in neither is refused to everyone but an
owner, and a test walks the app's url_map so none is forgotten.

Callers: an API request is a key (``Authorization: Bearer``): the restaurant's own key acts as an
owner (admin scope), an integration key with its scope's role. A page request is a signed-in person
(``session["person"]``) or a tablet signed in with the restaurant's key (``session["hosts"]``). A
refused role is a 403; a person asking for a restaurant they have no role in gets a 404.
"""
from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from flask import current_app, g, request, session

from waitlist.domain.errors import RestaurantNotFound, Unauthorized
from waitlist.domain.model import Restaurant
from waitlist.domain.people import RANK, RESTAURANT_KEY_ID, Actor
from waitlist.services.people import RESTAURANT_KEY, People, RoleRefused
from waitlist.web.http import bearer_token, get_waitlist

F = TypeVar("F", bound=Callable[..., Any])

ENDPOINT_ROLES: dict[str, str] = {
    # the JSON API
    "api.show_restaurant": "viewer", "api.show_settings": "viewer", "api.list_parties": "viewer",
    "api.show_party": "viewer", "api.update_settings": "manager", "api.pause": "manager",
    "api.resume": "manager", "api.add_party": "host", "api.update_party": "host", "api.host_action": "host",
    "api.move_party": "host", "api.send_message": "host", "api.conversation": "host",
    "tables.list_tables": "viewer", "tables.next_for_table": "host", "tables.act_on_table": "host",
    "tables.replace_tables": "manager",
    "owner_api.stats_json": "manager", "owner_api.visits_csv_api": "manager",
    # the host stand and the owner's view
    "host.page": "viewer", "host.list_fragment": "viewer", "host.rows": "viewer", "host.events": "viewer",
    "host.quote": "host", "host.add_party": "host", "host.act": "host", "host.override_quote": "host",
    "host.move": "host", "host.edit": "host", "host.conversation": "host", "host.send_message": "host",
    "owner.dashboard": "manager", "owner.visits_csv_page": "manager",
    # the settings screen and its API (waitlist.web.settings, waitlist.web.integrations): managers'
    "settings.page": "manager", "settings.save": "manager", "settings.save_floor": "manager",
    "settings.template": "manager", "settings.preview": "manager", "settings.add_webhook": "manager",
    "settings.change_webhook": "manager",
    "integrations.list_templates": "manager", "integrations.preview_template": "manager",
    "integrations.save_template": "manager", "integrations.reset_template": "manager",
    "integrations.list_webhooks": "manager", "integrations.add_webhook": "manager",
    "integrations.get_webhook": "manager", "integrations.switch_webhook": "manager",
    "integrations.remove_webhook": "manager", "integrations.webhook_deliveries": "manager",
}
PUBLIC_ENDPOINTS = frozenset({
    "host.sign_in", "host.sign_in_form", "host.sign_out", "owner.sign_in", "owner.sign_in_form",
    "api.create_restaurant", "api.estimate", "reservations.availability",
})
"""Endpoints under a restaurant's slug that need no role: the sign-in forms, and the public estimate."""
PUBLIC_BLUEPRINTS = frozenset({"board", "join", "booking"})
"""The lobby screen and the guests' join and booking pages are public by design."""


def is_public(endpoint: str) -> bool:
    return endpoint in PUBLIC_ENDPOINTS or endpoint.split(".", 1)[0] in PUBLIC_BLUEPRINTS


def declared_role(endpoint: str) -> str | None:
    """The role an endpoint says it needs, or None when it says nothing (the url_map test refuses that)."""
    view = current_app.view_functions.get(endpoint)
    return getattr(view, "required_role", None) or ENDPOINT_ROLES.get(endpoint)


def get_people() -> People:
    return current_app.extensions["people"]  # type: ignore[no-any-return]


def required_role(endpoint: str | None) -> str:
    """The role an endpoint needs: its ``require_role``, else ENDPOINT_ROLES, else owner (fail closed)."""
    view = current_app.view_functions.get(endpoint or "")
    return getattr(view, "required_role", None) or ENDPOINT_ROLES.get(endpoint or "", "owner")


def authorize(actor: Actor, needed: str | None = None) -> Actor:
    """Refuse (403) an actor whose role is below what this endpoint needs; remember it for the view."""
    needed = needed or required_role(request.endpoint)
    if not actor.may(needed):
        raise RoleRefused(f"a {actor.role} cannot do this: it needs {needed} or above",
                          needed=needed, role=actor.role)
    g.actor = actor
    return actor


def api_staff(slug: str) -> Restaurant:
    """The restaurant, when the request's key may use this endpoint (pure Python after the one read
    the key check always took)."""
    restaurant, actor = get_people().authenticate(slug, bearer_token())
    authorize(actor)
    return restaurant


def page_staff(slug: str) -> Restaurant | None:
    """The restaurant for a signed-in person or tablet allowed this page; None when nobody is signed
    in here (the page sends them to sign in)."""
    found = page_actor(slug)
    if found is None:
        if g.get("not_a_member"):
            raise RestaurantNotFound(f"no restaurant {slug!r}")
        return None
    authorize(found[1])
    return found[0]


def page_actor(slug: str) -> tuple[Restaurant, Actor] | None:
    """Who is signed in for ``slug`` (cached for the request): a person first, else a tablet."""
    cache = g.setdefault("page_actors", {})
    if slug not in cache:
        cache[slug] = _page_actor(slug)
    return cache[slug]  # type: ignore[no-any-return]


def _page_actor(slug: str) -> tuple[Restaurant, Actor] | None:
    signed = session.get("person")
    if signed:
        try:
            found = get_people().actor_at(slug, signed)
        except RestaurantNotFound:
            g.not_a_member = True  # page_staff answers 404, unless a tablet key signs in here
            found = None
        if found is not None:
            return found
    tablet = session.get("hosts", {}).get(slug)
    restaurant = get_waitlist().session_restaurant(slug, tablet) if tablet else None
    return (restaurant, RESTAURANT_KEY) if restaurant is not None else None


def still_allowed(slug: str) -> Callable[[], bool]:
    """For a live stream: whether its session still may read this restaurant (sign-out, removal and
    key rotation end it)."""
    signed, tablet = session.get("person"), session.get("hosts", {}).get(slug)
    people, waitlist = get_people(), get_waitlist()

    def check() -> bool:
        try:
            if signed and people.actor_at(slug, signed) is not None:
                return True
        except RestaurantNotFound:
            return False
        return bool(tablet) and waitlist.session_is_current(slug, tablet)
    return check


def current_actor() -> Actor | None:
    return g.get("actor")


def read_only_page() -> dict[str, bool]:
    """A template context for the host stand's pages: ``read_only`` when the one signed in may look but
    not act (a viewer), so the stand shows the list and the floor without the buttons the server would
    refuse. Undefined elsewhere, which reads as false: a page that forgets it keeps its buttons."""
    slug = (request.view_args or {}).get("slug")
    found = page_actor(slug) if isinstance(slug, str) else None
    return {"read_only": found is not None and not found[1].may("host")}


def actor_label() -> str:
    """What the request's events record as their actor: "person:<id>:<name>", "key:<id>:<name>", or
    "host" for the restaurant's own key, as before people had accounts."""
    actor = current_actor()
    if actor is None or actor.id == RESTAURANT_KEY_ID:
        return "host"
    return actor.label


def require_role(role: str) -> Callable[[F], F]:
    """Guard a view under ``<slug>``: a bearer key for API paths, the signed-in session for pages.
    ``g.restaurant`` and ``g.actor`` are set for the view; the role shows in the url_map role test."""
    if role not in RANK:
        raise ValueError(f"no role {role!r}")

    def decorate(view: F) -> F:
        @wraps(view)
        def guarded(*args: Any, **kwargs: Any) -> Any:
            slug = kwargs["slug"]
            if request.path.startswith("/api/"):
                g.restaurant = api_staff(slug)
            else:
                restaurant = page_staff(slug)
                if restaurant is None:
                    raise Unauthorized("please sign in")
                g.restaurant = restaurant
            return view(*args, **kwargs)
        guarded.required_role = role  # type: ignore[attr-defined]
        return guarded  # type: ignore[return-value]
    return decorate
