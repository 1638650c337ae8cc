"""People's pages: sign in and out, invitations, password resets, the switcher, the group view, and
each restaurant's people and API keys page (/people/<slug>).

A signed-in person's cookie keeps "<account id>.<session id>" under ``session["person"]``; the server
keeps the session (waitlist.store.accounts), so signing out, signing out everywhere, a password reset
and a removal end it for every copy of the cookie. Every POST carries the session's CSRF token.
"""
from __future__ import annotations

from typing import Any

from flask import Blueprint, g, render_template, request, session, url_for

from waitlist.domain.errors import InvalidInput, Unauthorized, WaitlistError
from waitlist.domain.people import RANK, ROLES, SCOPES, AccountLocked, LinkInvalid
from waitlist.services.people import SignedIn
from waitlist.store.accounts import Account
from waitlist.web import limits
from waitlist.web.auth import current_actor, get_people, require_role
from waitlist.web.forms import back_to, check_csrf
from waitlist.web.group import group_rows
from waitlist.web.http import get_waitlist

bp = Blueprint("account", __name__)


@bp.before_request
def _forms_carry_the_csrf_token() -> None:
    if request.method == "POST":
        check_csrf()


def signed_in_person() -> Account | None:
    signed = session.get("person")
    return get_people().session_account(signed) if signed else None


def _start(signed: SignedIn) -> None:
    """A new server-side session id at every sign-in; one the browser had before is closed."""
    old = session.get("person")
    if old:
        get_people().sign_out(old)
    session.pop("csrf", None)
    session.permanent = True
    session["person"] = signed.session


def _form(title: str, fields: list[dict[str, str]], submit: str, error: str | None = None,
          status: int = 200, lead: str = "", extra: str = "") -> tuple[str, int]:
    return render_template("account_form.html", title=title, fields=fields, submit=submit, error=error,
                           lead=lead, extra=extra), status


SIGN_IN_FIELDS = [{"name": "email", "label": "Email", "type": "email", "autocomplete": "username"},
                  {"name": "password", "label": "Password", "type": "password",
                   "autocomplete": "current-password"}]


@bp.get("/account/signin")
def sign_in_form() -> Any:
    if signed_in_person():
        return back_to("account.home")
    return _form("Sign in", SIGN_IN_FIELDS, "Sign in", extra="reset")


@bp.post("/account/signin")
def sign_in() -> Any:
    """Email and password; wrong ones count per address (the failed-key guard) and per account."""
    try:
        _start(get_people().sign_in(request.form.get("email", ""), request.form.get("password", "")))
    except Unauthorized:
        wait = limits.failed_key()
        if wait:
            return limits.too_many_failures(wait)
        return _form("Sign in", SIGN_IN_FIELDS, "Sign in", error="That email and password do not match.",
                     status=401, extra="reset")
    except AccountLocked as exc:
        return _form("Sign in", SIGN_IN_FIELDS, "Sign in", error=exc.message, status=429, extra="reset")
    return back_to("account.home")


@bp.post("/account/signout")
def sign_out() -> Any:
    signed = session.pop("person", None)
    if signed:
        get_people().sign_out(signed)
    return back_to("account.sign_in_form")


@bp.post("/account/signout-everywhere")
def sign_out_everywhere() -> Any:
    """Every session of this person, on every device, ends now."""
    person = signed_in_person()
    if person is not None:
        get_people().sign_out_everywhere(person.id)
    session.pop("person", None)
    return back_to("account.sign_in_form")


@bp.get("/account")
def home() -> Any:
    """The person's restaurants, one click each (the switcher), and the group view for an owner of
    several."""
    person = signed_in_person()
    if person is None:
        return back_to("account.sign_in_form")
    places = get_people().places(person)
    restaurants = {slug: get_waitlist().restaurant(slug) for slug in places}
    owns = [slug for slug, role in places.items() if role == "owner"]
    return render_template("account_home.html", person=person, places=places, restaurants=restaurants,
                           group=len(owns) > 1)


@bp.get("/account/group")
def group() -> Any:
    """Side by side, for an owner of several restaurants: joined, seated, median wait, quote
    accuracy and no-shows over the same days."""
    person = signed_in_person()
    if person is None:
        return back_to("account.sign_in_form")
    owns = sorted(slug for slug, role in get_people().places(person).items() if role == "owner")
    return render_template("group.html", person=person, rows=group_rows(owns, request.args))


# --- invitations and resets -----------------------------------------------------------------------------

NEW_PASSWORD = {"name": "password", "label": "Password (10 characters or more)", "type": "password",
                "autocomplete": "new-password"}


@bp.route("/account/invite/<token>", methods=["GET", "POST"])
def accept_invite(token: str) -> Any:
    """Say who you are and choose a password (or give yours, if you have an account): once."""
    people = get_people()
    try:
        invite = people.invitation(token)
    except LinkInvalid as exc:
        return _form("Invitation", [], "", error=exc.message, status=410)
    fields = [NEW_PASSWORD] if invite["existing"] else [
        {"name": "name", "label": "Your name (shown on the list)", "type": "text", "autocomplete": "name"},
        NEW_PASSWORD]
    lead = f"{invite['by']} invites {invite['email']} to {get_waitlist().restaurant(invite['slug']).name} " \
           f"as {invite['role']}."
    if request.method == "GET":
        return _form("Invitation", fields, "Accept", lead=lead)
    try:
        _start(people.accept_invite(token, request.form.get("name", ""), request.form.get("password", "")))
    except (InvalidInput, Unauthorized) as exc:
        message = "; ".join(sum((exc.fields or {}).values(), [])) or exc.message
        return _form("Invitation", fields, "Accept", error=message, status=exc.status, lead=lead)
    return back_to("host.page", slug=invite["slug"])


OWNER_CAN_RESET = "Your restaurant's owner (or a manager, for hosts and viewers) can also give you a reset link " \
                  "from the people page."


@bp.route("/account/reset", methods=["GET", "POST"])
def request_reset() -> Any:
    fields = [{"name": "email", "label": "Email", "type": "email", "autocomplete": "username"}]
    if request.method == "GET":
        return _form("Reset your password", fields, "Send a reset link", lead=OWNER_CAN_RESET)
    get_people().request_reset(request.form.get("email", ""))
    return _form("Reset your password", [], "", lead="If that email has an account, a reset link is on its way; "
                                                   "it works once, for an hour. " + OWNER_CAN_RESET)


@bp.route("/account/reset/<token>", methods=["GET", "POST"])
def reset(token: str) -> Any:
    people = get_people()
    if not people.reset_is_valid(token):
        return _form("Reset your password", [], "", error="This reset link was used already or has expired.",
                     status=410)
    if request.method == "GET":
        return _form("Choose a new password", [NEW_PASSWORD], "Save and sign in")
    try:
        _start(people.reset_password(token, request.form.get("password", "")))
    except WaitlistError as exc:
        message = "; ".join(sum((exc.fields or {}).values(), [])) or exc.message
        return _form("Choose a new password", [NEW_PASSWORD], "Save and sign in", error=message, status=exc.status)
    return back_to("account.home")


# --- a restaurant's people and keys ---------------------------------------------------------------------

@bp.get("/people/<slug>")
@require_role("manager")
def people_page(slug: str) -> Any:
    """Managers see the people and manage API keys; owners also invite, change roles and remove."""
    restaurant, actor = g.restaurant, current_actor()
    people = get_people()
    return render_template("people.html", restaurant=restaurant, actor=actor, members=people.members(restaurant),
                           keys=people.api_keys(restaurant), roles=ROLES, scopes=list(SCOPES),
                           invite_url=session.pop("invite_url", None),
                           reset_url=session.pop("reset_url", None), rank=RANK, new_key=session.pop("new_key", None))


@bp.post("/people/<slug>/invite")
@require_role("owner")
def invite(slug: str) -> Any:
    session["invite_url"] = get_people().invite(g.restaurant, g.actor, request.form.get("email", ""),
                                                request.form.get("role", ""))
    return back_to("account.people_page", slug=slug)


@bp.post("/people/<slug>/<account_id>/role")
@require_role("owner")
def change_role(slug: str, account_id: str) -> Any:
    get_people().set_role(g.restaurant, g.actor, account_id, request.form.get("role", ""))
    return back_to("account.people_page", slug=slug)


@bp.post("/people/<slug>/<account_id>/reset-link")
@require_role("manager")
def reset_link(slug: str, account_id: str) -> Any:
    """A reset link for a member who forgot their password, shown once on the next page to hand over."""
    session["reset_url"] = get_people().reset_link(g.restaurant, g.actor, account_id)
    return back_to("account.people_page", slug=slug)


@bp.post("/people/<slug>/<account_id>/remove")
@require_role("owner")
def remove(slug: str, account_id: str) -> Any:
    get_people().remove(g.restaurant, account_id)
    return back_to("account.people_page", slug=slug)


@bp.post("/people/<slug>/keys")
@require_role("manager")
def create_key(slug: str) -> Any:
    """The new key is shown once, on the next page."""
    key, secret = get_people().create_api_key(g.restaurant, g.actor, request.form.get("name", ""),
                                              request.form.get("scope", ""))
    session["new_key"] = {"name": key.name, "scope": key.scope, "secret": secret}
    return back_to("account.people_page", slug=slug)


@bp.post("/people/<slug>/keys/<key_id>/revoke")
@require_role("manager")
def revoke_key(slug: str, key_id: str) -> Any:
    get_people().revoke_api_key(g.restaurant, key_id)
    return back_to("account.people_page", slug=slug)


@bp.app_template_global()
def switch_links(slug: str) -> list[dict[str, str]]:
    """The signed-in person's other restaurants, for a one-click switch from the host stand (nothing,
    and no read, for a tablet signed in with the restaurant's key)."""
    if not session.get("person"):
        return []
    person = signed_in_person()
    if person is None:
        return []
    waitlist = get_waitlist()
    return [{"name": waitlist.restaurant(s).name, "url": url_for("host.page", slug=s)}
            for s in sorted(get_people().places(person)) if s != slug]
