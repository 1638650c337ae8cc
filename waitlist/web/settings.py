"""The managers' settings screen at /host/{slug}/settings: every setting that once needed the API, the
texts' wording with a preview, and the webhooks with their delivery log. Plain forms that work without
script; settings.js only adds the live preview as a template is typed.

The rules live once: a form is turned into the API's own values and checked by the API's schemas
(waitlist.web.schemas), and the errors come back beside their fields in plain words.
"""
from __future__ import annotations

import re
from typing import Any

from flask import Blueprint, Response, current_app, flash, jsonify, render_template, request, url_for

from waitlist.domain.errors import InvalidInput, Unauthorized, WaitlistError
from waitlist.domain.model import LANGUAGES, WEEKDAYS, Restaurant
from waitlist.domain.tables import floor_of
from waitlist.domain.webhooks import EVENTS
from waitlist.texting.templates import LABELS
from waitlist.texting.texts import format_minutes
from waitlist.web import schemas
from waitlist.web.forms import back_to, check_csrf
from waitlist.web.host import signed_in
from waitlist.web.http import get_waitlist
from waitlist.web.integrations import templates, webhooks

bp = Blueprint("settings", __name__, url_prefix="/host/<slug>/settings")

INTEGERS = ("almost_ready_position", "max_party_size", "remote_max_active", "daily_join_cap", "retention_days")
NUMBERS = ("hold_minutes", "feedback_delay_minutes", "clearing_minutes")
SWITCHES = ("remote_join", "require_checkin", "feedback")
CHOICES = ("language",)
HOURS = re.compile(r"^(\d\d:\d\d)-(\d\d:\d\d)$")
TABLE = re.compile(r"^(\d{1,2})\s*[:x]\s*(\d{1,3})$")
PLAIN = (
    (re.compile(r"^Not a valid integer\.$"), "enter a whole number"),
    (re.compile(r"^Not a valid number\.$"), "enter a number"),
    (re.compile(r"^Must be greater than or equal to (\S+) and less than or equal to (\S+)\.$"),
     r"enter a number from \1 to \2"),
)


def manager(slug: str) -> Restaurant | None:
    """The restaurant for a signed-in manager or owner, or a tablet signed in with the restaurant's key
    (an owner's); None when nobody is signed in. Another role is a 403 (the role is this screen's
    endpoints' entry in waitlist.web.auth.ENDPOINT_ROLES: manager)."""
    return signed_in(slug)


@bp.before_request
def _signed_in_and_csrf() -> Any:
    if request.method == "POST":
        check_csrf()
    slug = (request.view_args or {}).get("slug", "")
    if manager(slug) is None:
        if request.method == "GET":
            return back_to("host.sign_in_form", slug=slug)
        raise Unauthorized("please sign in first")
    return None


@bp.after_request
def _never_cached(response: Response) -> Response:
    response.headers["Cache-Control"] = "no-store"
    return response


def _restaurant(slug: str) -> Restaurant:
    restaurant = manager(slug)
    assert restaurant is not None  # checked before the request
    return restaurant


@bp.get("")
def page(slug: str) -> Any:
    """Settings, texts, webhooks."""
    return render_page(_restaurant(slug))


def render_page(restaurant: Restaurant, errors: dict[str, list[str]] | None = None, form: Any = None,
                template_form: dict[str, Any] | None = None, status: int = 200,
                new_secret: tuple[str, str] | None = None) -> tuple[str, int]:
    language = request.args.get("language") or (template_form or {}).get("language") or restaurant.settings.language
    language = language if language in LANGUAGES else "en"
    links = {name: url_for(endpoint, slug=restaurant.slug) for name, endpoint in
             (("people and API keys", "account.people_page"),)
             if endpoint in current_app.view_functions}
    return render_template(
        "settings.html", restaurant=restaurant, s=restaurant.settings, errors=errors or {}, form=form,
        values=form_values(restaurant), language=language, languages=LANGUAGES, weekdays=WEEKDAYS,
        texts=templates().overview(restaurant, language), template_form=template_form or {}, labels=LABELS,
        hooks=webhooks().endpoints(restaurant), deliveries=webhooks().deliveries(restaurant, 30), events=EVENTS,
        links=links, floor_help=FLOOR_HELP, new_secret=new_secret), status


def form_values(restaurant: Restaurant) -> dict[str, str]:
    """The settings as the form shows them."""
    s = restaurant.settings
    hours = s.join_hours or {}
    return {
        **{name: format_minutes(getattr(s, name)) for name in NUMBERS},
        **{f"hours_{day}": " ".join(f"{a}-{b}" for a, b in hours.get(day, [])) for day in WEEKDAYS},
        "floor": floor_text(restaurant),
        "tables": ", ".join(f"{seats}:{count}" for seats, count in sorted((s.tables or {}).items(),
                                                                         key=lambda kv: int(kv[0]))),
        "joins": ", ".join(s.joins or ()),
    }


@bp.post("")
def save(slug: str) -> Any:
    """Save the settings form; refused fields come back beside their inputs."""
    restaurant = _restaurant(slug)
    try:
        patch = schemas.load(schemas.SettingsPatchSchema, form_patch(request.form))
        pause = schemas.load(schemas.PauseSchema, {"message": request.form.get("pause_message", "")})
    except InvalidInput as exc:
        return render_page(restaurant, errors=plain(exc.fields or {}), form=request.form, status=400)
    service = get_waitlist()
    try:
        service.update_settings(restaurant, patch)
    except InvalidInput as exc:
        return render_page(restaurant, errors=plain(exc.fields or {}), form=request.form, status=400)
    restaurant = service.restaurant(slug)
    if request.form.get("paused"):
        service.pause(restaurant, pause["message"])
    elif restaurant.settings.paused:
        service.resume(restaurant)
    flash("Settings saved.")
    return back_to("settings.page", slug=slug)


def form_patch(form: Any) -> dict[str, Any]:
    """The form as the API's PATCH body: numbers typed become numbers (anything else stays text, which
    the schema refuses in its words), boxes become booleans, hours and tables become their JSON."""
    patch: dict[str, Any] = {}
    for name in INTEGERS:
        raw = form.get(name, "").strip()
        patch[name] = int(raw) if raw.isascii() and raw.isdigit() else raw
    for name in NUMBERS:
        raw = form.get(name, "").strip()
        try:
            patch[name] = float(raw) if raw.isascii() else raw
        except ValueError:
            patch[name] = raw
    for name in SWITCHES:
        patch[name] = bool(form.get(name))
    patch["language"] = form.get("language", "")
    hours: dict[str, list[list[str]]] = {}
    for day in WEEKDAYS:
        spans = [part for part in re.split(r"[\s,]+", form.get(f"hours_{day}", "").strip()) if part]
        hours[day] = [list(m.groups()) if (m := HOURS.match(p)) else [p] for p in spans]
    patch["join_hours"] = {d: spans for d, spans in hours.items() if spans} or None
    tables: dict[str, Any] = {}
    for part in (p for p in re.split(r"[,\s]+(?=\d+\s*[:x])|,\s*", form.get("tables", "").strip()) if p.strip()):
        m = TABLE.match(part.strip())
        tables[m.group(1) if m else part.strip()] = int(m.group(2)) if m else part
    patch["tables"] = tables or None
    patch["joins"] = [part for part in re.split(r"[,\s]+", form.get("joins", "").strip()) if part] or None
    return patch


def plain(errors: dict[str, list[str]]) -> dict[str, list[str]]:
    """The schema's messages in plain words."""
    def say(message: str) -> str:
        for pattern, words in PLAIN:
            if pattern.match(message):
                return pattern.sub(words, message)
        if message == "Length must be equal to 2.":
            return "write hours as 11:30-14:00"
        return message

    return {name: [say(m) for m in messages] for name, messages in errors.items()}


# --- named tables --------------------------------------------------------------------------------------

FLOOR_HELP = "one table a line: name | seats | fewest seats | section | tables it joins with, by commas"


@bp.post("/floor")
def save_floor(slug: str) -> Any:
    """Replace the named tables (the API's PUT .../tables); a held or occupied table cannot go."""
    restaurant = _restaurant(slug)
    try:
        data = schemas.load(schemas.FloorSchema, {"tables": floor_rows(request.form.get("floor", ""))})
        get_waitlist().set_tables(restaurant, data["tables"])
    except WaitlistError as exc:
        messages = [m for ms in (exc.fields or {}).values() for m in ms] or [exc.message]
        return render_page(restaurant, errors={"floor": messages}, form=request.form, status=exc.status)
    flash("Tables saved.")
    return back_to("settings.page", slug=slug, _anchor="floor")


def floor_rows(text: str) -> list[dict[str, Any]]:
    """The floor typed one table a line ("T1 | 4 | 2 | outdoor | T2, T3") as the API's table objects."""
    rows: list[dict[str, Any]] = []
    for line in (raw.strip() for raw in text.splitlines()):
        if not line:
            continue
        cells = [c.strip() for c in line.split("|")]
        row: dict[str, Any] = {"name": cells[0], "seats": _whole(cells[1] if len(cells) > 1 else "")}
        if len(cells) > 2 and cells[2]:
            row["min_seats"] = _whole(cells[2])
        if len(cells) > 3 and cells[3]:
            row["section"] = cells[3]
        if len(cells) > 4 and cells[4]:
            row["joins_with"] = [name.strip() for name in cells[4].split(",") if name.strip()]
        rows.append(row)
    return rows


def floor_text(restaurant: Restaurant) -> str:
    rows = ([t.name, str(t.seats), str(t.min_seats), t.section, ", ".join(t.joins_with)] for t in floor_of(restaurant))
    return "\n".join(" | ".join(cells).rstrip(" |") for cells in rows)


def _whole(raw: str) -> Any:
    return int(raw) if raw.isascii() and raw.isdigit() else raw


# --- texts -------------------------------------------------------------------------------------------

@bp.post("/templates/<language>/<kind>")
def template(slug: str, language: str, kind: str) -> Any:
    """Preview, save or reset one text's wording (the button pressed says which)."""
    restaurant = _restaurant(slug)
    action = request.form.get("action", "preview")
    body = request.form.get("body", "")
    shown = {"language": language, "kind": kind, "body": body}
    if action == "reset":
        templates().reset(restaurant, language, kind)
        flash(f"“{LABELS.get(kind, kind)}” is back to the built-in text.")
        return back_to("settings.page", slug=slug, language=language, _anchor=f"text-{kind}")
    try:
        data = schemas.load(schemas.TemplateSchema, {"body": body})
        use_case = templates().save if action == "save" else templates().preview
        found = use_case(restaurant, language, kind, data["body"])
    except InvalidInput as exc:
        return render_page(restaurant, template_form={**shown, "errors": (exc.fields or {}).get("body", [exc.message])},
                           status=400)
    if action == "save":
        flash(f"“{LABELS.get(kind, kind)}” saved: the next text uses it.")
        return back_to("settings.page", slug=slug, language=language, _anchor=f"text-{kind}")
    return render_page(restaurant, template_form={**shown, "preview": found})


@bp.post("/preview")
def preview(slug: str) -> Any:
    """The live preview's JSON (settings.js), with the session instead of the staff key."""
    restaurant = _restaurant(slug)
    data = schemas.load(schemas.TemplatePreviewSchema, request.get_json(silent=True) or {})
    return jsonify(templates().preview(restaurant, data["language"], data["kind"], data["body"]).to_dict())


# --- webhooks ----------------------------------------------------------------------------------------

@bp.post("/webhooks")
def add_webhook(slug: str) -> Any:
    restaurant = _restaurant(slug)
    sent = {"url": request.form.get("url", "").strip(), "events": request.form.getlist("events"),
            "description": request.form.get("description", "")}
    try:
        data = schemas.load(schemas.WebhookSchema, sent)
        endpoint = webhooks().register(restaurant, data["url"], data["events"], data["description"])
    except InvalidInput as exc:
        return render_page(restaurant, errors={f"hook_{k}": v for k, v in (exc.fields or {}).items()},
                           form=request.form, status=400)
    # The secret is shown in this answer only: a flash would carry it in the (readable) session cookie.
    return render_page(restaurant, new_secret=(endpoint.url, endpoint.secret))


@bp.post("/webhooks/<endpoint_id>/<any(enable, disable, remove):action>")
def change_webhook(slug: str, endpoint_id: str, action: str) -> Any:
    restaurant = _restaurant(slug)
    if action == "remove":
        webhooks().remove(restaurant, endpoint_id)
    else:
        webhooks().set_enabled(restaurant, endpoint_id, action == "enable")
    return back_to("settings.page", slug=slug, _anchor="webhooks")
