"""Web pages shared plumbing, the guest's page and the lobby screen.

Pages are server-rendered; a little plain JavaScript (waitlist/static) listens to server-sent events
and re-fetches a page's fragment when the restaurant's list changes. Views stay thin: they call the
same Waitlist use cases as the JSON API and hand plain read models (waitlist.views) to templates.
"""
from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from datetime import timedelta
from typing import Any

from flask import Blueprint, Flask, Request, render_template, request
from flask.sessions import SecureCookieSession, SecureCookieSessionInterface

from waitlist.web import live, page_models
from waitlist.web.forms import back_to, csrf_token
from waitlist.web.http import get_waitlist

CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
       "font-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'")
SECURITY_HEADERS = (
    ("Content-Security-Policy", CSP),
    ("X-Content-Type-Options", "nosniff"),
    ("Referrer-Policy", "no-referrer"),  # guest links carry their token
    ("X-Frame-Options", "DENY"),
)
"""Set on every response, pages and API alike, unless the view set its own."""
PRIVATE_PREFIXES = ("/host/", "/s/", "/c/", "/join/", "/dev/", "/board/", "/owner/")
"""Pages that show a list or a guest's details: never stored by a browser or a shared cache."""
PUBLIC_UNDER_PRIVATE = re.compile(r"/join/[^/]+/qr\.(png|svg)")
"""Printable QR codes of the join page stay cacheable."""

guest_bp = Blueprint("guest", __name__, url_prefix="/s")
board_bp = Blueprint("board", __name__, url_prefix="/board")


def init_app(app: Flask) -> None:
    """The pages' session settings, security headers and friendly HTML errors (app.py registers the
    blueprints)."""
    config = app.config["WAITLIST"]
    app.config["SESSION_COOKIE_HTTPONLY"] = True
    app.config["SESSION_COOKIE_SAMESITE"] = "Lax"
    app.config["SESSION_COOKIE_SECURE"] = config.public_base_url.startswith("https://")
    app.config["PERMANENT_SESSION_LIFETIME"] = timedelta(hours=float(getattr(config, "session_hours", 12.0)))
    app.session_interface = CookieSessions()
    app.jinja_env.globals["csrf_token"] = csrf_token
    app.extensions["html_error_renderer"] = render_error
    app.wsgi_app = SecurityHeaders(app.wsgi_app)  # type: ignore[method-assign]


class CookieSessions(SecureCookieSessionInterface):
    """Flask's signed-cookie sessions, minus building a signer for a request without a session
    cookie (every API call): such a session starts empty either way. A request whose Cookie header
    does not even name the session cookie skips parsing the header too."""

    def open_session(self, app: Flask, request: Request) -> SecureCookieSession | None:
        name = self.get_cookie_name(app)
        if app.secret_key and (name not in request.environ.get("HTTP_COOKIE", "") or not request.cookies.get(name)):
            return self.session_class()
        return super().open_session(app, request)


def is_private(path: str) -> bool:
    if path.startswith(PRIVATE_PREFIXES):
        return PUBLIC_UNDER_PRIVATE.fullmatch(path) is None
    return path.rstrip("/") in ("/host", "/board", "/s")


class SecurityHeaders:
    """WSGI middleware adding SECURITY_HEADERS to every response (unless the view set its own) and
    ``Cache-Control: no-store`` to private pages.

    It appends to the plain header list handed to the server rather than going through werkzeug's
    ``Headers``, whose per-header checks made an after_request hook doing the same cost 85,000
    instructions a request: more than a twentieth of adding a party."""

    def __init__(self, app: Callable[..., Iterable[bytes]]) -> None:
        self.app = app

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        private = is_private(environ.get("PATH_INFO", ""))

        def start(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            present = {name.lower() for name, _value in headers}
            headers.extend(header for header in SECURITY_HEADERS if header[0].lower() not in present)
            if private:
                headers[:] = [h for h in headers if h[0].lower() != "cache-control"] + [("Cache-Control", "no-store")]
            return start_response(status, headers, exc_info)

        return self.app(environ, start)


def render_error(status: int, message: str) -> tuple[str, int]:
    """A friendly page for errors on pages (the JSON API keeps its JSON errors)."""
    guest = request.path.startswith("/s/")
    return render_template("error.html", status=status, message=message, guest=guest), status


# --- the guest's page ----------------------------------------------------------------------------------

GUEST_BUTTONS: dict[str, dict[str, str]] = {
    "en": {"on_my_way": "On my way"},
    "zh": {"on_my_way": "我在路上了"},
}
"""The guest page's words beyond page_models.STRINGS (the host stand's module)."""


def guest_strings(language: str) -> dict[str, str]:
    return {**page_models.strings(language), **GUEST_BUTTONS.get(language, GUEST_BUTTONS["en"])}


@guest_bp.get("/<token>")
def status_page(token: str) -> Any:
    """The page the guest's text links to: place in line, estimate and status, live."""
    view = page_models.guest(get_waitlist(), token)
    return render_template("guest.html", view=view, t=guest_strings(view.language))


@guest_bp.get("/<token>/status")
def guest_status(token: str) -> Any:
    view = page_models.guest(get_waitlist(), token)
    return render_template("_guest_status.html", view=view, t=guest_strings(view.language))


@guest_bp.get("/<token>/events")
def stream(token: str) -> Any:
    """Bare "changed" events: the page then re-fetches its own status and nothing else."""
    slug = get_waitlist().guest_view(token).restaurant.slug
    return live.event_stream(slug)


@guest_bp.post("/<token>/late")
def running_late(token: str) -> Any:
    """The guest asks for ten more minutes (the link itself is the guest's credential)."""
    page_models.running_late(get_waitlist(), token)
    return back_to("guest.status_page", token=token)


@guest_bp.post("/<token>/on-my-way")
def on_my_way(token: str) -> Any:
    """The guest's answer to "your table is ready": the use case a texted "on my way" calls."""
    waitlist = get_waitlist()
    view = waitlist.guest_view(token)
    waitlist.on_the_way(view.restaurant, view.party.id, actor="guest")
    return back_to("guest.status_page", token=token)


@guest_bp.post("/<token>/leave")
def leave(token: str) -> Any:
    get_waitlist().guest_leave(token)
    return back_to("guest.status_page", token=token)


# --- the lobby screen ----------------------------------------------------------------------------------

BOARD_STRINGS: dict[str, dict[str, str]] = {
    "en": {"lang": "en", "title": "Waitlist", "called": "Please come to the host stand", "nobody": "Nobody right now",
           "one_waiting": "party waiting", "many_waiting": "parties waiting", "wait": "Current wait",
           "guests": "{label} guests", "minutes": "{range} min", "fullscreen": "Full screen"},
    "zh": {"lang": "zh-Hans", "title": "候位", "called": "请到前台", "nobody": "暂无", "one_waiting": "桌等候中",
           "many_waiting": "桌等候中", "wait": "当前等候时间", "guests": "{label} 位", "minutes": "{range} 分钟",
           "fullscreen": "全屏"},
}
"""The lobby screen's words, in the restaurant's language (the screen has no visitor to ask)."""


def board_view(slug: str) -> dict[str, Any]:
    waitlist = get_waitlist()
    language = waitlist.restaurant(slug).settings.language
    return {"board": page_models.board(waitlist, slug), "t": BOARD_STRINGS.get(language, BOARD_STRINGS["en"])}


@board_bp.get("/<slug>")
def board_page(slug: str) -> Any:
    """Full-screen lobby display: who is called, how many wait, the wait by party size."""
    return render_template("board.html", **board_view(slug))


@board_bp.get("/<slug>/content")
def board_content(slug: str) -> Any:
    return render_template("_board_content.html", **board_view(slug))


@board_bp.get("/<slug>/events")
def board_events(slug: str) -> Any:
    return live.event_stream(get_waitlist().restaurant(slug).slug)
