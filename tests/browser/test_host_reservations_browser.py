"""The host stand's reservations view in Chromium (issue 23) on a 1024x768 tablet: a late booking and two
due within the hour show, also on the floor strip as tables about to be needed; one tap checks a guest in
(they join the list) and one marks the late one a no-show. Screenshot: test-artifacts/host-reservations.png."""
from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import Server, shoot, sign_in
from waitlist.services.reservations import Reservations

pytestmark = pytest.mark.browser
TABLET_1024 = {"width": 1024, "height": 768}
DAYTIME = {day: [["06:00", "22:00"]] for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}


@pytest.fixture(autouse=True)
def fresh_sign_in_limit(server: Server) -> Iterator[None]:
    server.app.extensions["waitlist_limiter"].reset()
    yield
    server.app.extensions["waitlist_limiter"].reset()


def midday_zone() -> str:
    """A fixed-offset zone where it is about noon now, so the test's bookings fall inside the day's hours."""
    offset = datetime.now(ZoneInfo("UTC")).hour - 12  # Etc/GMT+N is N hours behind UTC
    return f"Etc/GMT{offset:+d}" if offset else "Etc/GMT"


def slot(now: datetime, minutes: int) -> str:
    """The 15-minute slot ``minutes`` from ``now`` (rounded down), as local ISO text."""
    at = now + timedelta(minutes=minutes)
    return at.replace(minute=at.minute - at.minute % 15, second=0, microsecond=0).strftime("%Y-%m-%dT%H:%M")


def test_the_host_checks_in_a_due_booking_and_marks_a_late_one_no_show(server: Server, new_page: Any) -> None:
    slug, zone = "resv-stand", midday_zone()
    key = server.create_restaurant(slug, "Stand Test", timezone=zone)
    waitlist = server.app.extensions["waitlist"]
    restaurant = waitlist.restaurant(slug)
    waitlist.set_tables(restaurant, [{"name": "1", "seats": 2}, {"name": "2", "seats": 6}])
    service: Reservations = server.app.extensions["reservations"]
    service.update_rules(restaurant, {"enabled": True, "hours": DAYTIME, "covers_per_slot": 20})
    # booked an hour ago (the same service on a clock an hour behind), so the first is late by now
    earlier = Reservations(service.waitlist, service.store, clock=lambda: time.time() - 3600)
    now = datetime.now(ZoneInfo(zone))
    late = earlier.book(restaurant, name="Late <i>Lou</i>", phone="+14155558301", party_size=2,
                        time=slot(now, -20))
    due = service.book(restaurant, name="Mei Chen", phone="+14155558302", party_size=6, time=slot(now, 30),
                       notes="high chair")
    page = sign_in(new_page(TABLET_1024), server, slug, key)

    due_line = page.locator("#floor-due")
    expect(due_line).to_contain_text("Mei Chen (6)")
    expect(due_line).to_contain_text("Late <i>Lou</i> (2) late")  # text, not markup
    page.click("nav >> text=Reservations")
    expect(page.locator(f"#late [data-reservation='{late['id']}']")).to_contain_text("min late")
    expect(page.locator(f"#due [data-reservation='{due['id']}']")).to_contain_text("high chair")
    shoot(page, "host-reservations")

    page.locator(f"#due [data-reservation='{due['id']}'] button:has-text('Check in')").click()
    expect(page.locator(f"#arrived [data-reservation='{due['id']}']")).to_be_visible()
    page.locator(f"#late [data-reservation='{late['id']}'] button:has-text('No-show')").click()
    expect(page.locator("#late .empty")).to_have_text("Nobody is late.")
    expect(page.locator("main")).to_contain_text("1 no-show")
    shoot(page, "host-reservations-after")
    assert service.get(restaurant, late["id"])["status"] == "no_show"
    assert service.get(restaurant, due["id"])["status"] in ("arrived", "seated")  # table 2 seats six
    page.click("text=Back to the list")
    expect(page.locator("#floor-due")).to_have_count(0)
    assert page.js_errors == []
