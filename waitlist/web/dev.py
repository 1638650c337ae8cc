"""The development phone, /dev/phone: read the texts the local outbox "sent", reply as the guest.

Only in development mode without Twilio credentials. A reply goes through the same code path as a
real inbound text (waitlist.services.dev_phone), with a generated MessageSid and To = the
restaurant's number, so a newcomer can run the whole story on one machine.
"""
from __future__ import annotations

from dataclasses import fields
from typing import Any

from flask import Blueprint, current_app, render_template, request

from waitlist.web.forms import back_to, check_csrf, from_script, no_content
from waitlist.web.http import get_dev_phone

bp = Blueprint("dev_phone", __name__, url_prefix="/dev/phone")


@bp.before_request
def _development_only() -> Any:
    config = current_app.config["WAITLIST"]
    if not config.development or config.twilio_configured:
        from werkzeug.exceptions import NotFound

        raise NotFound()
    if request.method == "POST":
        check_csrf()
    return None


def page_context() -> dict[str, Any]:
    page = get_dev_phone().page(request.args.get("number"))
    return {field.name: getattr(page, field.name) for field in fields(page)}


@bp.get("")
def phone() -> Any:
    """Every text sent, per phone number, as a chat; reply as the guest."""
    return render_template("dev_phone.html", **page_context())


@bp.get("/chat")
def chat() -> Any:
    return render_template("_dev_chat.html", **page_context())


@bp.post("/reply")
def reply() -> Any:
    """Text the restaurant as the guest: the same inbound code path as Twilio's webhook."""
    number = get_dev_phone().reply(*(request.form.get(k, "").strip() for k in ("number", "to", "body")))
    return no_content() if from_script() else back_to("dev_phone.phone", number=number)
