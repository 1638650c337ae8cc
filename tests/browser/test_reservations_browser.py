"""Booking and managing a reservation in a real browser (issue 23): a guest picks a size, a day and an
open slot, gets a code to text, and once the text arrives the page opens the booking's manage page, where
the guest moves the booking and then cancels it. Screenshots go to test-artifacts/."""
from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import PHONE, Server, shoot
from waitlist.services.inbound import InboundHandler

pytestmark = pytest.mark.browser

EVERY_DAY = {day: [["17:00", "22:00"]] for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}


def booking_restaurant(server: Server, slug: str) -> str:
    server.create_restaurant(slug, "Noodle Bar")
    waitlist = server.app.extensions["waitlist"]
    server.app.extensions["reservations"].update_rules(waitlist.restaurant(slug), {
        "enabled": True, "hours": EVERY_DAY, "covers_per_slot": 8})
    return str(waitlist.restaurant(slug).sms_from)


def test_a_guest_books_by_text_then_moves_and_cancels_on_the_manage_page(server: Server, new_page: Any) -> None:
    number = booking_restaurant(server, "book-flow")
    day = (datetime.now(UTC) + timedelta(days=2)).date().isoformat()
    page = new_page(PHONE)
    page.goto(f"{server.url}/book/book-flow")
    expect(page.locator("input[name=phone]")).to_have_count(0)
    page.fill("input[name=party_size]", "4")
    page.fill("input[name=date]", day)
    page.click("text=Show times")
    expect(page.locator(f"input[name=time][value='{day}T19:30']")).to_have_count(1)
    page.check(f"input[name=time][value='{day}T19:30']")
    page.fill("input[name=name]", "Mei <b>Chen</b>")
    shoot(page, "book-page")
    page.click("button.send")
    page.wait_for_url(re.compile(r"/book/book-flow/code/"))
    code = page.locator("#join-code").inner_text().strip()
    link = page.locator("a.sms-link")
    assert link.get_attribute("href") == f"sms:{number}?&body=BOOK%20{code}"
    shoot(page, "book-code")

    outcome = InboundHandler(server.app.extensions["waitlist"]).handle(
        to=number, from_="+14155556201", body=f"BOOK {code}", message_sid="SMbrowserbook").outcome
    assert outcome == "booked"
    page.wait_for_url(re.compile(r"/r/"), timeout=10_000)
    expect(page.locator(".lead")).to_contain_text("Mei <b>Chen</b>")  # shown as text, not markup
    expect(page.locator(".lead")).to_contain_text(f"{day} 19:30")
    expect(page.locator(".booking-status")).to_have_text("booked")
    shoot(page, "manage-page")

    page.select_option("select[name=time]", f"{day}T20:15")
    page.click("button:has-text('Change')")
    expect(page.locator(".lead")).to_contain_text(f"{day} 20:15")
    page.click("button.danger")
    expect(page.locator(".booking-status")).to_have_text("cancelled")
    expect(page.locator("text=This booking is cancelled.")).to_be_visible()
    shoot(page, "manage-cancelled")
    assert page.js_errors == []


def test_the_booking_page_shows_no_form_while_bookings_are_off(server: Server, new_page: Any) -> None:
    server.create_restaurant("book-off", "Noodle Bar")
    page = new_page(PHONE)
    page.goto(f"{server.url}/book/book-off")
    expect(page.locator("text=takes no bookings online")).to_be_visible()
    expect(page.locator("input[name=time]")).to_have_count(0)
    shoot(page, "book-off")
