"""The owner's dashboard in a real browser: sign in, charts, date range, a low rating, the CSV export."""
from __future__ import annotations

import csv
import random
import re
from datetime import date, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from playwright.sync_api import expect

from bench.stats_bench import simulate_day
from tests.browser.conftest import PHONE, TABLET, Server, shoot, sign_in
from waitlist.domain import stats
from waitlist.store import StatsStore

SLUG = "owner-bistro"
ZONE = ZoneInfo("America/New_York")
XSS = "<script>alert('owner')</script>"


def seed(server: Server) -> str:
    """A restaurant with two weeks of simulated evenings and one real guest who rated the visit 1."""
    key = server.create_restaurant(SLUG, "Owner Bistro", timezone="America/New_York")
    today = date.fromisoformat(stats.service_day(server.app.extensions["waitlist"].clock(), ZONE))
    rng = random.Random(3)
    store = StatsStore(server.redis)
    for n in range(14, 0, -1):
        simulate_day(server.redis, today - timedelta(days=n), rng, slug=SLUG, zone=ZONE)
        store.fold(SLUG, ZONE, 30)  # as the periodic job would, before the stream is trimmed
    waitlist = server.app.extensions["waitlist"]
    restaurant = waitlist.restaurant(SLUG)
    waitlist.update_settings(restaurant, {"feedback": True})
    party = server.add_party(SLUG, XSS, "+14155553301", 4)
    waitlist.seat(waitlist.restaurant(SLUG), party.id)
    waitlist.request_feedback(SLUG, party.id)
    waitlist.take_feedback(waitlist.restaurant(SLUG), "+14155553301", "1")
    waitlist.take_feedback(waitlist.restaurant(SLUG), "+14155553301", f"Cold soup {XSS}")
    return key


def test_the_owner_signs_in_and_sees_charts_a_low_rating_and_can_pick_days(server: Server, new_page: Any,
                                                                           tmp_path: Any) -> None:
    key = seed(server)
    page = new_page(TABLET)
    page.goto(f"{server.url}/owner/{SLUG}")
    expect(page).to_have_url(re.compile(rf"/owner/{SLUG}/signin$"))
    page.fill("#api_key", "wlk_wrong")
    page.click("button[type=submit]")
    expect(page.locator("#key-error")).to_have_text("That key is not valid.")
    page.fill("#api_key", key)
    page.click("button[type=submit]")
    expect(page).to_have_url(re.compile(rf"/owner/{SLUG}$"))

    expect(page.locator("svg.owner-svg")).to_have_count(4)
    expect(page.locator("#chart-by-hour rect")).not_to_have_count(0)
    expect(page.locator("#chart-by-size rect")).not_to_have_count(0)
    expect(page.locator("#chart-quotes polyline")).not_to_have_count(0)
    expect(page.locator("#chart-rates polyline")).not_to_have_count(0)
    assert int(page.locator("#tile-joined").inner_text()) > 1000
    expect(page.locator("#low-ratings .flagged")).to_have_count(20)  # the newest; the simulation rated too
    expect(page.locator("#low-ratings-more")).to_contain_text("The 20 most recent of")
    flagged = page.locator("#low-ratings .flagged").first  # ours is the newest
    expect(flagged).to_contain_text("1 / 5")
    expect(flagged.locator("strong")).to_have_text(XSS)          # shown as text, never run
    expect(flagged.locator("blockquote")).to_have_text(f"Cold soup {XSS}")
    shoot(page, "owner-dashboard-tablet")
    phone = new_page(PHONE, storage_state=page.context.storage_state())
    phone.goto(f"{server.url}/owner/{SLUG}")
    expect(phone.locator("svg.owner-svg")).to_have_count(4)
    assert phone.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    shoot(phone, "owner-dashboard-phone")

    page.click("#chart-by-hour summary")
    expect(page.locator("#chart-by-hour table")).to_be_visible()

    page.click(".owner-quick a:text('7 days')")
    expect(page).to_have_url(re.compile(r"from=\d{4}-\d\d-\d\d&to=\d{4}-\d\d-\d\d"))
    expect(page.locator(".owner-quick a[aria-current=page]")).to_have_text("7 days")
    seven_days = int(page.locator("#tile-joined").inner_text())

    first = (date.fromisoformat(page.input_value("#to")) - timedelta(days=2)).isoformat()
    page.fill("#from", first)
    page.click(".owner-range-go button")
    expect(page).to_have_url(re.compile(rf"from={first}"))
    assert 0 < int(page.locator("#tile-joined").inner_text()) < seven_days
    shoot(page, "owner-dashboard-range")

    with page.expect_download() as download:
        page.click("#export-csv")
    path = tmp_path / "visits.csv"
    download.value.save_as(path)
    with path.open() as file:
        rows = list(csv.DictReader(file))
    ours = [r for r in rows if r["phone"].endswith("3301")]
    assert ours and ours[0]["phone"] == "+1******3301" and ours[0]["rating"] == "1"
    assert ours[0]["name"] == XSS
    assert page.js_errors == []


def test_the_host_stand_session_opens_the_dashboard_and_it_fits_a_phone(server: Server, new_page: Any) -> None:
    key = server.create_restaurant("owner-phone", "Phone Bistro")
    host = sign_in(new_page(TABLET), server, "owner-phone", key)
    phone = new_page(PHONE, storage_state=host.context.storage_state())
    phone.goto(f"{server.url}/owner/owner-phone")
    expect(phone).to_have_url(re.compile(r"/owner/owner-phone$"))
    expect(phone.locator(".owner-empty").first).to_have_text("No data for these days yet.")
    width = phone.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"]
    shoot(phone, "owner-dashboard-phone-empty")
    assert phone.js_errors == []
