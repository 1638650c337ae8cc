"""What every page's form handling shares: the anti-forgery token, reading fields, answering.

Pages post plain HTML forms; their own script (host.js, dev_phone.js) sends the same forms with
fetch() and says so in X-Requested-With, and then gets 204 or JSON instead of a redirect.
"""
from __future__ import annotations

import hmac
import secrets
from typing import Any

from flask import Response, redirect, request, session, url_for
from werkzeug.wrappers import Response as BaseResponse

from waitlist.domain.errors import Forbidden


def csrf_token() -> str:
    """The session's anti-forgery token, sent back by every form (hidden field) and fetch (header)."""
    token = session.get("csrf")
    if not token:
        token = secrets.token_urlsafe(24)
        session["csrf"] = token
    return str(token)


def check_csrf() -> None:
    sent = request.headers.get("X-CSRF-Token") or request.form.get("csrf_token", "")
    expected = session.get("csrf", "")
    if not sent or not expected or not hmac.compare_digest(str(sent), str(expected)):
        raise Forbidden("this form has expired: reload the page and try again")


def from_script() -> bool:
    """Our own fetch() calls say so; plain form posts get a redirect instead of JSON."""
    return request.headers.get("X-Requested-With") == "fetch"


def form_values(names: tuple[str, ...], integers: tuple[str, ...] = ()) -> dict[str, Any]:
    """The named, non-empty form fields; whole numbers typed into number fields become ints."""
    values: dict[str, Any] = {}
    for name in names:
        raw = request.form.get(name, "")
        if raw == "":
            continue
        # ASCII digits only: "²".isdigit() is true but int("²") raises; the schema refuses such text.
        values[name] = int(raw) if name in integers and raw.isascii() and raw.strip().isdigit() else raw
    return values


def back_to(endpoint: str, **values: Any) -> BaseResponse:
    return redirect(url_for(endpoint, **values), code=303)


def no_content() -> Response:
    return Response(status=204)
