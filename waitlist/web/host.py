"""The host stand, /host/{slug}: sign in with the staff key, run the list, live on every tablet.

A staff session holds only the slug, a fingerprint of the restaurant's current key hash and the id of
the session the server keeps; each request re-checks both, so rotating the key signs every tablet out
and signing out ends the session for every copy of its cookie. Every POST carries the session's
CSRF token. Forms work on their own (redirect back); host.js submits them with fetch instead.
"""
from __future__ import annotations

import re
from functools import cache
from typing import TYPE_CHECKING, Any

from flask import Blueprint, jsonify, render_template, request, session, url_for
from marshmallow import Schema, validate

from waitlist.domain.errors import AlreadyWaiting, Forbidden, InvalidInput, Unauthorized
from waitlist.domain.model import LANGUAGES, SEATING_CHOICES, Restaurant
from waitlist.services.waitlist import HOST_ACTIONS
from waitlist.web import auth, limits, live, page_models, schemas
from waitlist.web.forms import back_to, check_csrf, form_values, from_script, no_content
from waitlist.web.http import get_waitlist

if TYPE_CHECKING:
    from waitlist.store.listing import Rows

bp = Blueprint("host", __name__, url_prefix="/host/<slug>")
bp.context_processor(auth.read_only_page)

PARTY_FIELDS = ("name", "phone", "party_size", "notes", "seating", "language", "quote_minutes")
ACTIONS = {("remove" if action == "cancel" else action.replace("_", "-")): action
           for action in HOST_ACTIONS if action != "complete"}
"""The host stand's buttons: every host action but complete (a seated party has left its list), as the
URL spells it; the stand says "remove" for cancel."""
SIZE_BUTTONS = range(1, 9)
QUOTE_PRESETS = (10, 20, 30, 45, 60)
"""The quotes a host can give in one tap ("tell them 45"), at the add form and in each party's menu."""


@cache
def max_length(schema: type[Schema], name: str) -> int:
    """A text field's limit as the schema enforces it: the form's maxlength and the note's counter use it,
    so the browser and the server agree."""
    for check in schema().fields[name].validators:
        if isinstance(check, validate.Length) and check.max is not None:
            return check.max
    raise LookupError(f"{schema.__name__}.{name} has no maximum length")


def form_limits() -> dict[str, int]:
    return {name: max_length(schemas.PartyCreateSchema, name) for name in ("name", "notes")}


def signed_in(slug: str) -> Restaurant | None:
    """The restaurant, for a signed-in person whose role allows this page or a tablet whose key still
    works (waitlist.web.auth); a refused role is a 403."""
    return auth.page_staff(slug)


def staff(slug: str) -> Restaurant:
    restaurant = signed_in(slug)
    if restaurant is None:
        raise Unauthorized("please sign in at the host stand")
    return restaurant


@bp.before_request
def _forms_carry_the_csrf_token() -> None:
    if request.method == "POST":
        check_csrf()


def render_host(restaurant: Restaurant, errors: dict[str, list[str]] | None = None,
                status: int = 200) -> tuple[str, int]:
    return render_template(
        "host.html", restaurant=restaurant, host=page_models.host_list(get_waitlist(), restaurant),
        sizes=SIZE_BUTTONS, seatings=SEATING_CHOICES, languages=LANGUAGES, errors=errors or {},
        form=request.form if errors else {}, presets=QUOTE_PRESETS, limits=form_limits()), status


def render_list(restaurant: Restaurant) -> str:
    return render_template("_host_list.html", restaurant=restaurant, presets=QUOTE_PRESETS,
                           host=page_models.host_list(get_waitlist(), restaurant))


# --- signing in and out ------------------------------------------------------------------------------

@bp.get("/signin")
def sign_in_form(slug: str) -> Any:
    return sign_in_page(slug, "Host stand sign-in", "host")


@bp.post("/signin")
def sign_in(slug: str) -> Any:
    return start_session(slug, "Host stand sign-in", "host")


def sign_in_page(slug: str, heading: str, area: str, error: str | None = None, status: int = 200) -> Any:
    """The sign-in form of the host stand or the owner's view (``area``); signed in, the page itself."""
    restaurant = get_waitlist().restaurant(slug)
    if error is None and auth.page_actor(slug):
        return back_to(f"{area}.{LANDING[area]}", slug=slug)
    return render_template("signin.html", restaurant=restaurant, error=error, heading=heading,
                           action=url_for(f"{area}.sign_in", slug=slug)), status


def start_session(slug: str, heading: str, area: str) -> Any:
    """Check the staff key once; the session keeps a fingerprint of its hash, never the key. One
    session serves the host stand and the owner's view."""
    key = request.form.get("api_key", "").strip()
    try:
        signed = get_waitlist().start_session(slug, key)
    except (Unauthorized, Forbidden):
        wait = limits.failed_key()
        if wait:
            return limits.too_many_failures(wait)
        return sign_in_page(slug, heading, area, error="That key is not valid.", status=401)
    session.permanent = True
    session["hosts"] = {**session.get("hosts", {}), slug: signed}
    session.pop("csrf", None)  # a new token for the signed-in session
    return back_to(f"{area}.{LANDING[area]}", slug=slug)


LANDING = {"host": "page", "owner": "dashboard"}


@bp.post("/signout")
def sign_out(slug: str) -> Any:
    signed = session.get("hosts", {}).get(slug)
    if signed:
        get_waitlist().end_session(slug, signed)  # a copy of this cookie is signed out too
    session["hosts"] = {s: f for s, f in session.get("hosts", {}).items() if s != slug}
    person = session.pop("person", None)
    if person:
        auth.get_people().sign_out(person)  # a person signed in here signs out, not only the tablet key
    return back_to("host.sign_in_form", slug=slug)


# --- the list ------------------------------------------------------------------------------------------

@bp.get("")
def page(slug: str) -> Any:
    """The host stand: add a party, the live list, today's finished parties."""
    restaurant = signed_in(slug)
    if restaurant is None:
        return back_to("host.sign_in_form", slug=slug)
    return render_host(restaurant)


@bp.get("/list")
def list_fragment(slug: str) -> Any:
    return render_list(staff(slug))


ROWS_MAX = 50
"""Parties one rows read may name: a tablet told of more re-reads the whole list."""
ROW_ID = re.compile(r"[A-Za-z0-9_-]{1,64}\Z")
SECTION_LISTS = {"waiting": "waiting", "notified": "called", "pending": "pending", "finished": "finished"}
"""The list a section's rows sit in on the page (_host_list.html: ol.parties.<name>, #finished ul)."""


def row_ids() -> list[str]:
    """The ``ids`` query: party ids, comma-separated, at most listing.ROWS_MAX; else a 400."""
    ids = list(dict.fromkeys(i for i in request.args.get("ids", "").split(",") if i))
    if not ids or len(ids) > ROWS_MAX or not all(ROW_ID.match(i) for i in ids):
        raise InvalidInput("some fields are not valid",
                           fields={"ids": [f"1 to {ROWS_MAX} party ids, separated by commas"]})
    return ids


def render_rows(restaurant: Restaurant, rows: Rows, now: float) -> dict[str, Any]:
    """Each party's row as the whole list would render it, and where it goes: its list and its index
    there; ``gone`` when it is on neither the list nor today's finished parties."""
    out = []
    for pid, placed in rows.placed.items():
        html = ""
        if placed.party is not None and placed.section == "finished":
            html = render_template("_host_one_row.html", finished=True, restaurant=restaurant,
                                   item=page_models.finished_row(restaurant, placed.party, now))
        elif placed.party is not None and placed.section != "gone":
            html = render_template("_host_one_row.html", finished=False, restaurant=restaurant, presets=QUOTE_PRESETS,
                                   item=page_models.host_row(restaurant, placed.party, now))
        out.append({"id": pid, "list": SECTION_LISTS.get(placed.section, "gone"), "index": placed.index,
                    "html": html})
    return {"rows": out, "counts": {SECTION_LISTS[name]: n for name, n in rows.counts.items()}}


@bp.get("/rows")
def rows(slug: str) -> Any:
    """Only the rows of the parties a live event named, each where it stands now, so a tablet patches
    its list instead of fetching and rendering all of it on every change."""
    restaurant = staff(slug)
    waitlist = get_waitlist()
    return jsonify(render_rows(restaurant, waitlist.list_rows(restaurant, row_ids()), waitlist.clock()))


@bp.get("/events")
def events(slug: str) -> Any:
    """Server-sent "changed" events for this restaurant; the stream ends if the key is rotated."""
    staff(slug)
    return live.event_stream(slug, still_allowed=auth.still_allowed(slug))


@bp.get("/quote")
def quote(slug: str) -> Any:
    """The quote a new party of this size would get, shown before saving."""
    restaurant = staff(slug)
    size = schemas.load(schemas.EstimateQuerySchema(), request.args.to_dict(), restaurant=restaurant)["party_size"]
    return jsonify({"party_size": size, "range": page_models.quote_text(get_waitlist(), restaurant, size)})


@bp.post("/parties")
def add_party(slug: str) -> Any:
    """Add a party (the guest is texted), with the estimator's quote or a preset the host chose; without
    script, every error re-renders the form beside its field."""
    restaurant = staff(slug)
    try:
        values = form_values(PARTY_FIELDS, integers=("party_size", "quote_minutes"))
        data = schemas.load(schemas.PartyCreateSchema, values, restaurant=restaurant)
        party = get_waitlist().join(restaurant, quote_override=data.pop("quote_minutes", None),
                                    actor=auth.actor_label(), **data)
    except (InvalidInput, AlreadyWaiting) as exc:
        if from_script():
            raise
        fallback = "phone" if isinstance(exc, AlreadyWaiting) else "_schema"
        return render_host(restaurant, errors=exc.fields or {fallback: [exc.message]}, status=exc.status)
    if from_script():
        return jsonify({"id": party.id, "name": party.name, "position": party.position}), 201
    return back_to("host.page", slug=slug)


@bp.post(f"/parties/<party_id>/<any({', '.join(map(repr, ACTIONS))}):action>")
def act(slug: str, party_id: str, action: str) -> Any:
    """One-tap notify / seat / no-show / remove / check-in, and undo of the last of them."""
    restaurant = staff(slug)
    party = get_waitlist().host_action(restaurant, party_id, ACTIONS[action], actor=auth.actor_label())
    if from_script():
        return jsonify({"id": party.id, "name": party.name, "status": party.status.value})
    return back_to("host.page", slug=slug)


@bp.post("/parties/<party_id>/quote")
def override_quote(slug: str, party_id: str) -> Any:
    """The host's own quote for a party ("tell them 45"), one tap on a preset in its menu."""
    restaurant = staff(slug)
    sent = form_values(("minutes",), integers=("minutes",)).get("minutes")
    minutes = schemas.load(schemas.PartyPatchSchema, {"quote_minutes": sent})["quote_minutes"]
    party = get_waitlist().override_quote(restaurant, party_id, minutes, actor=auth.actor_label())
    if from_script():
        return jsonify({"id": party.id, "name": party.name, "quote_minutes": party.quote_minutes})
    return back_to("host.page", slug=slug)


@bp.post("/parties/<party_id>/<any(up, down):direction>")
def move(slug: str, party_id: str, direction: str) -> Any:
    restaurant = staff(slug)
    page_models.nudge(get_waitlist(), restaurant, party_id, -1 if direction == "up" else 1)
    return no_content() if from_script() else back_to("host.page", slug=slug)


@bp.post("/parties/<party_id>/edit")
def edit(slug: str, party_id: str) -> Any:
    restaurant = staff(slug)
    patch = form_values(("name", "party_size", "seating"), integers=("party_size",))
    if "notes" in request.form:
        patch["notes"] = request.form["notes"]
    patch = schemas.load(schemas.PartyPatchSchema(), patch, restaurant=restaurant)
    get_waitlist().update_party(restaurant, party_id, patch, actor=auth.actor_label())
    return no_content() if from_script() else back_to("host.page", slug=slug)


@bp.get("/parties/<party_id>/conversation")
def conversation(slug: str, party_id: str) -> Any:
    """The drawer: texts to and from this party (reading it clears "new message")."""
    restaurant = staff(slug)
    waitlist = get_waitlist()
    party = waitlist.party(restaurant, party_id)
    messages = waitlist.conversation(restaurant, party_id)
    return render_template("_conversation.html", restaurant=restaurant, party=party,
                           messages=page_models.message_rows(restaurant, messages))


@bp.post("/parties/<party_id>/messages")
def send_message(slug: str, party_id: str) -> Any:
    restaurant = staff(slug)
    body = schemas.load(schemas.MessageSchema(), form_values(("body",)))["body"]
    get_waitlist().send_custom(restaurant, party_id, body)
    return no_content() if from_script() else back_to("host.page", slug=slug)
