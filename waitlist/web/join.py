"""Join from anywhere: the public join page, its QR code, and the confirm link of a remote join.

A remote join is held as pending until the guest confirms it (reply 1, or the link in the text), so a
number that is not the guest's never takes a place in line. The confirm link asks for a tap (POST):
link previews in messaging apps fetch links with GET and must not confirm anything.
"""
from __future__ import annotations

import io
from dataclasses import dataclass
from typing import Any

import segno
from flask import Blueprint, Response, redirect, render_template, request, url_for
from marshmallow import fields, validate

from waitlist.domain.errors import AlreadyWaiting, InvalidInput, WaitlistError
from waitlist.domain.model import LANGUAGES, Restaurant, quote_range_text
from waitlist.domain.phones import mask_phone
from waitlist.web import schemas
from waitlist.web.forms import check_csrf
from waitlist.web.http import get_waitlist

bp = Blueprint("join", __name__)

SELF_CHOSEN_TAGS = ("accessible", "high_chair")
"""Tags a guest may pick; "vip" is the host's to give."""

SIZES_SHOWN = range(1, 9)

STRINGS: dict[str, dict[str, str]] = {
    "en": {
        "lang": "en", "title": "Join the waitlist", "wait": "Current wait", "size": "Party of {n}",
        "minutes": "{range} min", "name": "Your name", "phone": "Mobile number", "party_size": "Party size",
        "notes": "Notes (optional)", "accessible": "Step-free / accessible table", "high_chair": "High chair",
        "submit": "Join the waitlist", "closed_title": "The waitlist is closed",
        "at_stand": "Please join at the host stand when you arrive.", "sent_title": "Check your phone",
        "sent": "We texted {phone}. Reply 1 (or tap the link in the text) within 5 minutes to keep your place.",
        "confirm_title": "Confirm your place", "confirm": "Confirm my place in line",
        "confirm_lead": "{name}, party of {size}: tap to confirm you are coming.", "other_lang": "中文",
    },
    "zh": {
        "lang": "zh", "title": "加入候位", "wait": "当前等候时间", "size": "{n}位", "minutes": "{range}分钟",
        "name": "您的姓名", "phone": "手机号码", "party_size": "人数", "notes": "备注（可选）",
        "accessible": "无障碍座位", "high_chair": "儿童椅", "submit": "加入候位", "closed_title": "暂停排队",
        "at_stand": "请到店后在前台排队。", "sent_title": "请查看短信",
        "sent": "我们已发送短信至{phone}。请在5分钟内回复1（或点击短信中的链接）确认排队。",
        "confirm_title": "确认排队", "confirm": "确认排队", "confirm_lead": "{name}，{size}位：请点击确认。",
        "other_lang": "English",
    },
}


class JoinFormSchema(schemas._Strict):
    """The host's party fields and words (schemas.PartyCreateSchema), as a guest's form sends them."""

    name = schemas.PartyCreateSchema._declared_fields["name"]
    phone = schemas.Phone(required=True)
    party_size = schemas.PartySize(required=True, strict=False)
    notes = schemas.PartyCreateSchema._declared_fields["notes"]
    tags = fields.List(fields.String(validate=validate.OneOf(SELF_CHOSEN_TAGS, error=schemas.MESSAGES["choice"])),
                       load_default=list)
    language = fields.String(load_default="en", validate=validate.OneOf(LANGUAGES))
    csrf_token = fields.String(load_default="")


@dataclass(frozen=True)
class WaitRow:
    size: int
    minutes: str


def page_language(restaurant: Restaurant) -> str:
    chosen = request.args.get("lang") or request.form.get("language")
    if chosen in LANGUAGES:
        return chosen
    best = request.accept_languages.best_match(["en", "zh"])
    return best or restaurant.settings.language


def wait_rows(restaurant: Restaurant, lang: str) -> list[WaitRow]:
    t = STRINGS[lang]
    estimates = get_waitlist().estimates_by_size(restaurant, [n for n in SIZES_SHOWN
                                                              if n <= restaurant.settings.max_party_size])
    return [WaitRow(n, t["minutes"].format(range=quote_range_text(e.low, e.high))) for n, e in estimates.items()]


def render_join(restaurant: Restaurant, lang: str, values: dict[str, Any] | None = None,
                errors: dict[str, list[str]] | None = None, status: int = 200) -> tuple[str, int]:
    waitlist = get_waitlist()
    if not restaurant.settings.remote_join or not waitlist.is_open(restaurant):
        return render_template("join_closed.html", restaurant=restaurant, t=STRINGS[lang],
                               message=restaurant.settings.pause_message if restaurant.settings.paused else "",
                               remote=restaurant.settings.remote_join), status
    limit = restaurant.settings.max_party_size
    return render_template("join.html", restaurant=restaurant, t=STRINGS[lang], rows=wait_rows(restaurant, lang),
                           values=values or {}, errors=schemas.in_language(errors or {}, lang, limit),
                           tags=SELF_CHOSEN_TAGS, max_size=limit, name_max=schemas.NAME_MAX,
                           notes_max=schemas.NOTES_MAX), status


@bp.get("/join/<slug>")
def join_page(slug: str) -> Any:
    """The public join page: the wait by party size and a short form."""
    restaurant = get_waitlist().restaurant(slug)
    return render_join(restaurant, page_language(restaurant))


@bp.post("/join/<slug>")
def submit(slug: str) -> Any:
    """A guest joins from afar; the party stays pending until they confirm by text or link."""
    check_csrf()
    waitlist = get_waitlist()
    restaurant = waitlist.restaurant(slug)
    lang = page_language(restaurant)
    raw: dict[str, Any] = {k: v for k, v in request.form.items() if k != "tags"}
    raw["tags"] = request.form.getlist("tags")
    try:
        data = schemas.load(JoinFormSchema(), raw, restaurant=restaurant)
        data.pop("csrf_token", None)
        party = waitlist.join(restaurant, actor="guest", remote=True, confirmed=False, **data)
    except InvalidInput as exc:
        return render_join(restaurant, lang, raw, exc.fields or {"_schema": [exc.message]}, status=400)
    except AlreadyWaiting as exc:
        return render_join(restaurant, lang, raw, {"phone": [exc.message]}, status=exc.status)
    except WaitlistError as exc:
        return render_join(restaurant, lang, raw, {"_schema": [exc.message]}, status=exc.status)
    return render_template("join_sent.html", restaurant=restaurant, t=STRINGS[lang],
                           phone=mask_phone(party.phone)), 201


@bp.get("/join/<slug>/qr.<any(png, svg):kind>")
def qr_code(slug: str, kind: str) -> Response:
    """A printable QR code of the join page's address (for the door, tables, flyers)."""
    restaurant = get_waitlist().restaurant(slug)
    url = f"{get_waitlist().config.public_base_url}/join/{restaurant.slug}"
    code = segno.make(url, error="m")
    buffer = io.BytesIO()
    if kind == "png":
        code.save(buffer, kind="png", scale=10, border=4)
        mimetype = "image/png"
    else:
        code.save(buffer, kind="svg", scale=10, border=4, xmldecl=False)
        mimetype = "image/svg+xml"
    response = Response(buffer.getvalue(), mimetype=mimetype)
    response.headers["Cache-Control"] = "public, max-age=3600"
    return response


@bp.get("/c/<token>")
def confirm_page(token: str) -> Any:
    """The confirm link from the text: one tap (a POST) confirms."""
    view = get_waitlist().guest_view(token)
    lang = view.party.language or view.restaurant.settings.language
    if view.party.status.value != "pending":
        return redirect(url_for("guest.status_page", token=token), code=303)
    return render_template("join_confirm.html", restaurant=view.restaurant, party=view.party, token=token,
                           t=STRINGS.get(lang, STRINGS["en"]))


@bp.post("/c/<token>")
def confirm(token: str) -> Any:
    check_csrf()
    get_waitlist().confirm_by_token(token)
    return redirect(url_for("guest.status_page", token=token), code=303)
