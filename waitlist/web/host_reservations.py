"""The host stand's reservations view (issue 23): the service day's bookings that are late, due within
the hour and arrived, with one tap to check a guest in or mark a no-show.

Plain pages and forms carrying the session's CSRF token, so it works without script; a viewer sees the
day, a host acts (``require_role``). Sorting is waitlist.domain.host_bookings; the actions are the
reservations service's ``check_in`` and ``no_show``, each one atomic change. The floor strip shows the
same "due" group (``due_bookings``) as tables about to be needed.
"""
from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, g, render_template, request

from waitlist.domain.host_bookings import HostDay, service_day, sort_day
from waitlist.domain.model import Restaurant
from waitlist.services.reservations import Reservations
from waitlist.web import auth
from waitlist.web.forms import back_to, check_csrf
from waitlist.web.http import get_waitlist

bp = Blueprint("host_resv", __name__, url_prefix="/host/<slug>/reservations")

ACTIONS = {"check-in": "check_in", "no-show": "no_show"}


def get_reservations() -> Reservations:
    return current_app.extensions["reservations"]  # type: ignore[no-any-return]


def host_day(restaurant: Restaurant) -> HostDay:
    """Today's service day at the restaurant, sorted for the stand."""
    now = get_waitlist().clock()
    return sort_day(get_reservations().day(restaurant, service_day(now, restaurant.timezone)), now)


@bp.app_template_global("due_bookings")
def due_bookings(restaurant: Restaurant) -> HostDay:
    """For the floor strip: the day's bookings, whose late and due ones will need tables soon."""
    return host_day(restaurant)


@bp.before_request
def _forms_carry_the_csrf_token() -> None:
    if request.method == "POST":
        check_csrf()


@bp.get("")
@auth.require_role("viewer")
def page(slug: str) -> Any:
    """The day's bookings: late, due within the hour, arrived, later; actions for hosts."""
    actor = auth.current_actor()
    return render_template("host_reservations.html", restaurant=g.restaurant, day=host_day(g.restaurant),
                           may_act=actor is not None and actor.may("host"))


@bp.post(f"/<reservation_id>/<any({', '.join(map(repr, ACTIONS))}):action>")
@auth.require_role("host")
def act(slug: str, reservation_id: str, action: str) -> Any:
    """Check the guests in (they join the line or sit at once) or mark a no-show; back to the view."""
    getattr(get_reservations(), ACTIONS[action])(g.restaurant, reservation_id, actor=auth.actor_label())
    return back_to("host_resv.page", slug=slug)
