"""Join from anywhere: the public join page, its QR code, and the join code page.

The page never asks for a number to text: a guest gets a short code and a link that opens their own
messaging app with "JOIN <code>" to the restaurant's number, and their text joins them
(waitlist.services.remote_join). The code page polls with its own secret ticket (the code is short
enough to guess; the ticket is not) and leads to the guest's status page once the text arrived.

``/c/<token>`` confirms pending joins made before join codes (they lapse within minutes of the
change). The confirm asks for a tap (POST): link previews in messaging apps fetch links with GET and
must not confirm anything.
"""
from __future__ import annotations

import io
from dataclasses import dataclass
from typing import Any

import segno
from flask import Blueprint, Response, jsonify, redirect, render_template, request, url_for
from markupsafe import Markup
from marshmallow import fields, validate

from waitlist.domain.errors import InvalidInput, WaitlistError
from waitlist.domain.join_codes import JOIN_CODE_SECONDS, sms_link
from waitlist.domain.join_codes import MESSAGES_ZH as JOIN_MESSAGES_ZH
from waitlist.domain.model import LANGUAGES, Restaurant, quote_range_text
from waitlist.domain.phones import display_phone
from waitlist.services.waitlist import JoinState
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
        "minutes": "{range} min", "name": "Your name", "party_size": "Party size",
        "notes": "Notes (optional)", "accessible": "Step-free / accessible table", "high_chair": "High chair",
        "submit": "Join the waitlist", "closed_title": "The waitlist is closed",
        "at_stand": "Please join at the host stand when you arrive.", "code_title": "Text us to join",
        "code_lead": "Your code", "code_button": "Text JOIN {code}",
        "code_how": "Or text JOIN {code} to {number} from your phone.",
        "code_why": "Your text puts you in line: we only text the phone that texts us. The code works for {minutes} "
                    "minutes.",
        "code_waiting": "Waiting for your text…", "code_joined": "You're in line! Opening your page…",
        "code_expired_title": "This code has expired", "code_expired": "Nobody texted it in time.",
        "join_again": "Join again", "next_step": "Next you text us a short code from your phone: no number to type.",
        "confirm_title": "Confirm your place", "confirm": "Confirm my place in line",
        "confirm_lead": "{name}, party of {size}: tap to confirm you are coming.", "other_lang": "中文",
    },
    "zh": {
        "lang": "zh", "title": "加入候位", "wait": "当前等候时间", "size": "{n}位", "minutes": "{range}分钟",
        "name": "您的姓名", "party_size": "人数", "notes": "备注（可选）",
        "accessible": "无障碍座位", "high_chair": "儿童椅", "submit": "加入候位", "closed_title": "暂停排队",
        "at_stand": "请到店后在前台排队。", "code_title": "发短信加入候位", "code_lead": "您的验证码",
        "code_button": "发送 JOIN {code}", "code_how": "或用手机发送短信 JOIN {code} 至 {number}。",
        "code_why": "收到您的短信后即为您排队：我们只回复给您发短信的手机。验证码{minutes}分钟内有效。",
        "code_waiting": "正在等待您的短信…", "code_joined": "您已排上队！正在打开您的页面…",
        "code_expired_title": "验证码已过期", "code_expired": "未在有效时间内收到短信。", "join_again": "重新加入",
        "next_step": "下一步：用手机把验证码发短信给我们，无需填写手机号。",
        "confirm_title": "确认排队", "confirm": "确认排队", "confirm_lead": "{name}，{size}位：请点击确认。",
        "other_lang": "English",
    },
}


class JoinFormSchema(schemas._Strict):
    """The host's party fields and words (schemas.PartyCreateSchema), as a guest's form sends them: no
    phone number, the guest's own text brings it."""

    name = schemas.PartyCreateSchema._declared_fields["name"]
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
    """A guest joins from afar: a join code for them to text (nothing is texted to anyone)."""
    check_csrf()
    waitlist = get_waitlist()
    restaurant = waitlist.restaurant(slug)
    lang = page_language(restaurant)
    raw: dict[str, Any] = {k: v for k, v in request.form.items() if k not in ("tags", "phone")}
    raw["tags"] = request.form.getlist("tags")
    try:
        data = schemas.load(JoinFormSchema(), raw, restaurant=restaurant)
        data.pop("csrf_token", None)
        code = waitlist.open_join_code(restaurant, address=request.remote_addr or "", **data)
    except InvalidInput as exc:
        return render_join(restaurant, lang, raw, exc.fields or {"_schema": [exc.message]}, status=400)
    except WaitlistError as exc:
        message = JOIN_MESSAGES_ZH.get(exc.message, exc.message) if lang == "zh" else exc.message
        page, status = render_join(restaurant, lang, raw, {"_schema": [message]}, status=exc.status)
        return page, status, {"Retry-After": str(exc.retry_after)} if exc.retry_after else {}
    return redirect(url_for("join.code_page", slug=slug, ticket=code.ticket, lang=lang), code=303)


@bp.get("/join/<slug>/code/<ticket>")
def code_page(slug: str, ticket: str) -> Any:
    """The code to text, a link that writes the text, and (live) whether it arrived."""
    waitlist = get_waitlist()
    restaurant = waitlist.restaurant(slug)
    state = waitlist.join_state(restaurant, ticket)
    if state.state == "joined":
        return redirect(url_for("guest.status_page", token=state.token), code=303)
    lang = request.args.get("lang") or state.language or page_language(restaurant)
    t = STRINGS.get(lang, STRINGS["en"])
    number = Markup('<span class="nowrap">{}</span>').format(display_phone(restaurant.sms_from,
                                                                          waitlist.config.default_region))
    how = Markup.escape(t["code_how"]).format(code=state.code, number=number)  # the number never wraps
    return render_template("join_code.html", restaurant=restaurant, t=t, code=state.code, how=how,
                           sms_href=sms_link(restaurant.sms_from, state.code), expired=state.state == "expired",
                           minutes=JOIN_CODE_SECONDS // 60,
                           state_url=url_for("join.code_state", slug=slug, ticket=ticket),
                           again_url=url_for("join.join_page", slug=slug, lang=lang))


@bp.get("/join/<slug>/code/<ticket>/state")
def code_state(slug: str, ticket: str) -> Any:
    """The code page's poll: "open", "joined" (with the guest's status page) or "expired"."""
    waitlist = get_waitlist()
    return jsonify(state_json(waitlist.join_state(waitlist.restaurant(slug), ticket)))


def state_json(state: JoinState) -> dict[str, Any]:
    status_url = url_for("guest.status_page", token=state.token) if state.token else None
    return {"state": state.state, "code": state.code, "expires_at": state.expires_at, "status_url": status_url}


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
