"""Twilio's webhooks: inbound texts and delivery status callbacks, signature-checked first.

The signature is computed by Twilio over the public URL it called, so it is checked against
PUBLIC_BASE_URL + path (not the URL this process sees behind a TLS-terminating proxy).
"""
from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, current_app, jsonify, request
from twilio.request_validator import RequestValidator

from config import Config
from waitlist.domain.errors import Forbidden
from waitlist.web.http import get_dev_phone, get_inbound, get_waitlist

bp = Blueprint("webhooks", __name__)

EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response></Response>'


def _config() -> Config:
    return current_app.config["WAITLIST"]  # type: ignore[no-any-return]


def check_signature() -> None:
    """403 unless X-Twilio-Signature matches the public URL and the unmodified form."""
    config = _config()
    signature = request.headers.get("X-Twilio-Signature", "")
    if not config.twilio_auth_token or not signature:
        raise Forbidden("missing or invalid Twilio signature")
    url = config.public_base_url + request.full_path.rstrip("?")
    validator = RequestValidator(config.twilio_auth_token)
    if not validator.validate(url, request.form.to_dict(flat=True), signature):
        raise Forbidden("missing or invalid Twilio signature")


def twiml() -> Response:
    return Response(EMPTY_TWIML, mimetype="text/xml")


@bp.post("/sms/inbound")
def inbound() -> Any:
    """A guest texted the restaurant: act on it once and answer with empty TwiML."""
    check_signature()
    form = request.form
    get_inbound().handle(to=form.get("To", ""), from_=form.get("From", ""), body=form.get("Body", ""),
                         message_sid=form.get("MessageSid", ""))
    return twiml()


@bp.post("/sms/status")
def status_callback() -> Any:
    """Twilio reports delivery: move the message forward only and flag the party if it failed."""
    check_signature()
    form = request.form
    get_waitlist().delivery_status(sid=form.get("MessageSid") or form.get("SmsSid") or "",
                                   status=(form.get("MessageStatus") or form.get("SmsStatus") or "").lower(),
                                   error_code=form.get("ErrorCode", ""))
    return Response(status=204)


@bp.get("/dev/outbox")
def dev_outbox() -> Any:
    """Development only: the texts the local outbox 'sent' instead of Twilio."""
    config = _config()
    if not config.development or config.twilio_configured:
        return jsonify({"error": {"code": "not_found", "message": "no such resource"}}), 404
    return jsonify({"messages": get_dev_phone().sent()})
