"""The guests' reservation pages: booking at ``/book/<slug>`` and managing a booking at ``/r/<token>``.

Booking: pick a party size and a day (a GET: the open slots are listed), then a slot and a name. The page
asks for no number and texts nobody: it shows a code to text ("BOOK <code>"), and the guest's own text
makes the booking with the number it came from (waitlist.services.reservations.book_by_code), as the join
page does. Managing: the link from the booked text shows the booking; a change of time or size, or a
cancel, is a POST with the form's CSRF token (link previews only GET).
"""
from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from flask import Blueprint, current_app, jsonify, redirect, render_template, request, url_for
from markupsafe import Markup
from marshmallow import fields, validate

from waitlist.domain.errors import InvalidInput, WaitlistError
from waitlist.domain.join_codes import JOIN_CODE_SECONDS, sms_link
from waitlist.domain.model import LANGUAGES, Restaurant
from waitlist.domain.phones import display_phone
from waitlist.services.reservations import Reservations
from waitlist.web import schemas
from waitlist.web.forms import check_csrf
from waitlist.web.http import get_waitlist
from waitlist.web.join import STRINGS as JOIN_STRINGS
from waitlist.web.join import page_language

bp = Blueprint("booking", __name__)

STRINGS: dict[str, dict[str, str]] = {
    "en": {"title": "Book a table", "size": "Party size", "day": "Day", "show": "Show times", "time": "Time",
           "none": "No open times that day for this party size.", "name": "Your name", "submit": "Book",
           "off": "This restaurant takes no bookings online. Please call.", "code_title": "Text us to book",
           "code_button": "Text BOOK {code}", "code_how": "Or text BOOK {code} to {number} from your phone.",
           "code_why": "Your text makes the booking: we only text the phone that texts us. The code works for "
                       "{minutes} minutes.", "code_joined": "Booked! Opening your booking…",
           "manage_title": "Your booking", "party_of": "Party of {n}", "status": "Status", "change": "Change",
           "cancel": "Cancel my booking", "cancelled": "This booking is cancelled.", "next_step":
           "Next you text us a short code from your phone: no number to type."},
    "zh": {"title": "预订餐桌", "size": "人数", "day": "日期", "show": "查看时间", "time": "时间",
           "none": "当天没有适合此人数的空位。", "name": "您的姓名", "submit": "预订",
           "off": "本餐厅不接受网上预订，请致电。", "code_title": "发短信完成预订", "code_button": "发送 BOOK {code}",
           "code_how": "或用手机发送短信 BOOK {code} 至 {number}。",
           "code_why": "收到您的短信后即完成预订：我们只回复给您发短信的手机。验证码{minutes}分钟内有效。",
           "code_joined": "已预订！正在打开您的预订…", "manage_title": "您的预订", "party_of": "{n}位",
           "status": "状态", "change": "更改", "cancel": "取消预订", "cancelled": "此预订已取消。",
           "next_step": "下一步：用手机把验证码发短信给我们，无需填写手机号。"},
}


class BookFormSchema(schemas._Strict):
    name = schemas.PartyCreateSchema._declared_fields["name"]
    party_size = schemas.PartySize(required=True, strict=False)
    time = fields.String(required=True, validate=validate.Length(min=16, max=19))
    language = fields.String(load_default="en", validate=validate.OneOf(LANGUAGES))
    csrf_token = fields.String(load_default="")


class ManageFormSchema(schemas._Strict):
    party_size = schemas.PartySize(strict=False)
    time = fields.String(validate=validate.Length(min=16, max=19))
    csrf_token = fields.String(load_default="")


def get_reservations() -> Reservations:
    return current_app.extensions["reservations"]  # type: ignore[no-any-return]


def _day(restaurant: Restaurant, text: str | None) -> date:
    """The day asked for, else today at the restaurant."""
    try:
        return date.fromisoformat(text or "")
    except ValueError:
        return datetime.now(ZoneInfo(restaurant.timezone)).date()


def _size(text: str | None) -> int:
    return int(text) if text and text.isascii() and text.isdigit() and 0 < int(text) <= 100 else 2


def render_book(restaurant: Restaurant, lang: str, values: dict[str, Any], errors: dict[str, list[str]] | None = None,
                status: int = 200) -> tuple[str, int]:
    reservations = get_reservations()
    rules = reservations.rules(restaurant)
    t = {**JOIN_STRINGS[lang], **STRINGS[lang]}
    day, size = _day(restaurant, values.get("date")), _size(str(values.get("party_size", "")))
    slots = reservations.availability(restaurant, day, min(size, rules.max_party_size)) if rules.enabled else []
    today = datetime.now(ZoneInfo(restaurant.timezone)).date()
    return render_template("book.html", restaurant=restaurant, t=t, enabled=rules.enabled, day=day, size=size,
                           slots=slots, values=values,
                           errors=schemas.in_language(errors or {}, lang, rules.max_party_size),
                           max_size=rules.max_party_size, first_day=today,
                           last_day=today + timedelta(days=rules.horizon_days)), status


@bp.get("/book/<slug>")
def book_page(slug: str) -> Any:
    """Party size and day, then the open slots of that day and a name."""
    restaurant = get_waitlist().restaurant(slug)
    return render_book(restaurant, page_language(restaurant), dict(request.args))


@bp.post("/book/<slug>")
def book(slug: str) -> Any:
    """A code for the guest to text; the text books (nothing is texted to anyone here)."""
    check_csrf()
    restaurant = get_waitlist().restaurant(slug)
    lang = page_language(restaurant)
    raw = dict(request.form)
    try:
        data = schemas.load(BookFormSchema(), raw, restaurant=restaurant)
        code = get_reservations().open_booking_code(restaurant, name=data["name"], party_size=data["party_size"],
                                                    time=data["time"], address=request.remote_addr or "",
                                                    language=data["language"])
    except InvalidInput as exc:
        return render_book(restaurant, lang, {**raw, "date": raw.get("time", "")[:10]},
                           exc.fields or {"_schema": [exc.message]}, status=400)
    except WaitlistError as exc:
        page, status = render_book(restaurant, lang, {**raw, "date": raw.get("time", "")[:10]},
                                   {"_schema": [exc.message]}, status=exc.status)
        return page, status, {"Retry-After": str(exc.retry_after)} if exc.retry_after else {}
    return redirect(url_for("booking.code_page", slug=slug, ticket=code.ticket, lang=lang), code=303)


@bp.get("/book/<slug>/code/<ticket>")
def code_page(slug: str, ticket: str) -> Any:
    """The code to text, a link that writes the text, and (live) whether it arrived."""
    waitlist = get_waitlist()
    restaurant = waitlist.restaurant(slug)
    code, state = get_reservations().code_state(restaurant, ticket)
    if state == "booked":
        return redirect(url_for("booking.manage_page", token=code.token), code=303)
    asked = request.args.get("lang") or ""
    lang = asked if asked in LANGUAGES else page_language(restaurant)
    t = {**JOIN_STRINGS[lang], **STRINGS[lang]}
    number = Markup('<span class="nowrap">{}</span>').format(display_phone(restaurant.sms_from,
                                                                          waitlist.config.default_region))
    how = Markup.escape(t["code_how"]).format(code=code.code, number=number)
    return render_template("join_code.html", restaurant=restaurant, t=t, code=code.code, how=how,
                           sms_href=sms_link(restaurant.sms_from, code.code).replace("JOIN", "BOOK"),
                           expired=state == "expired", minutes=JOIN_CODE_SECONDS // 60,
                           state_url=url_for("booking.code_state", slug=slug, ticket=ticket),
                           again_url=url_for("booking.book_page", slug=slug, lang=lang))


@bp.get("/book/<slug>/code/<ticket>/state")
def code_state(slug: str, ticket: str) -> Any:
    """The code page's poll: "open", "joined" (booked, with the manage page) or "expired"."""
    code, state = get_reservations().code_state(get_waitlist().restaurant(slug), ticket)
    url = url_for("booking.manage_page", token=code.token) if code.token else None
    return jsonify({"state": "joined" if state == "booked" else state, "code": code.code,
                    "expires_at": code.expires_at, "status_url": url})


@bp.get("/r/<token>")
def manage_page(token: str) -> Any:
    """The booking from the booked text: change the time or size within the rules, or cancel."""
    return render_manage(token)


def render_manage(token: str, errors: dict[str, list[str]] | None = None, status: int = 200) -> tuple[str, int]:
    reservations = get_reservations()
    restaurant, booking = reservations.by_token(token)
    lang = page_language(restaurant)
    t = {**JOIN_STRINGS[lang], **STRINGS[lang]}
    day = date.fromisoformat(booking["time"][:10])
    slots = reservations.availability(restaurant, day, booking["party_size"], guest=False)
    times = sorted({booking["time"], *(slot.label for slot in slots)})
    return render_template("manage.html", restaurant=restaurant, t=t, booking=booking, token=token, times=times,
                           errors=errors or {}, max_size=reservations.rules(restaurant).max_party_size,
                           changeable=booking["status"] in ("booked", "confirmed")), status


@bp.post("/r/<token>")
def manage(token: str) -> Any:
    """Change the booking's time or size (the caps hold as for any booking)."""
    check_csrf()
    reservations = get_reservations()
    restaurant, booking = reservations.by_token(token)
    try:
        data = schemas.load(ManageFormSchema(), dict(request.form), restaurant=restaurant)
        data.pop("csrf_token", None)
        if data.get("time") == booking["time"]:
            data.pop("time")
        reservations.change(restaurant, booking["id"], guest=True, actor="guest", **data)
    except WaitlistError as exc:
        return render_manage(token, {"_schema": [exc.message], **(exc.fields or {})}, status=exc.status)
    return redirect(url_for("booking.manage_page", token=token), code=303)


@bp.post("/r/<token>/cancel")
def cancel(token: str) -> Any:
    check_csrf()
    reservations = get_reservations()
    restaurant, booking = reservations.by_token(token)
    try:
        reservations.cancel(restaurant, booking["id"], actor="guest")
    except WaitlistError as exc:
        return render_manage(token, {"_schema": [exc.message]}, status=exc.status)
    return redirect(url_for("booking.manage_page", token=token), code=303)
