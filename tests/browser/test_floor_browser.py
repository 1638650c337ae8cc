"""The host stand's floor strip in Chromium (issue 22): tap a free table, call a party there, seat it,
clear the table, on a 1024x768 tablet and on a phone; a second tablet sees the floor change live; and
the same without script. Screenshots: test-artifacts/host-floor-*.png."""
from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import ARTIFACTS, PHONE, Server, shoot, sign_in

pytestmark = pytest.mark.browser
TABLET_1024 = {"width": 1024, "height": 768}
FLOOR = [{"name": "12", "seats": 4, "min_seats": 2, "joins_with": ["13"]}, {"name": "13", "seats": 2},
         {"name": "14", "seats": 4}, {"name": "B1", "seats": 2, "section": "bar"}, {"name": "20", "seats": 6},
         {"name": "21", "seats": 2}, {"name": "22", "seats": 2}, {"name": "P1", "seats": 4, "section": "outdoor"}]


@pytest.fixture(autouse=True)
def fresh_sign_in_limit(server: Server) -> Iterator[None]:
    server.app.extensions["waitlist_limiter"].reset()
    yield
    server.app.extensions["waitlist_limiter"].reset()


def floor_restaurant(server: Server, slug: str) -> str:
    key = server.create_restaurant(slug, "Floor Test")
    waitlist = server.app.extensions["waitlist"]
    waitlist.set_tables(waitlist.restaurant(slug), FLOOR)
    return key


def table(page: Any, name: str) -> Any:
    return page.locator(f'#floor li.tbl[data-table="{name}"]')


def expect_state(page: Any, name: str, state: str) -> None:
    expect(table(page, name)).to_have_attribute("data-state", state)


@pytest.mark.parametrize("viewport, label", [(TABLET_1024, "tablet"), (PHONE, "phone")])
def test_tap_a_free_table_call_a_party_there_seat_it_and_clear_the_table(
        server: Server, new_page: Any, viewport: dict[str, int], label: str) -> None:
    slug = f"floor-{label}"
    key = floor_restaurant(server, slug)
    lee = server.add_party(slug, "Lee", "+14155558101", size=4)
    server.add_party(slug, "Kim", "+14155558102", size=2)
    server.add_party(slug, "Ortega family", "+14155558103", size=9)  # no table or join seats nine
    waitlist = server.app.extensions["waitlist"]
    restaurant = waitlist.restaurant(slug)
    other = server.add_party(slug, "Early", "+14155558104", size=4)
    waitlist.host_action(restaurant, other.id, "seat", tables=["14"])
    waitlist.block_table(restaurant, "22")
    page = sign_in(new_page(viewport), server, slug, key)

    expect(table(page, "14")).to_contain_text("occupied")
    expect(table(page, "14")).to_contain_text("Early")
    expect(table(page, "22")).to_contain_text("blocked")
    expect(page.locator("#floor .floor-counts")).to_have_text("6 free · 1 occupied · 1 blocked")
    big = page.locator('.party[data-name="Ortega family"]')
    expect(big.locator('[aria-label="no table fits"]')).to_have_count(1)
    expect(page.locator('.party[data-name="Lee"] [aria-label="no table fits"]')).to_have_count(0)
    shoot(page, f"host-floor-{label}")

    table(page, "12").locator("a").click()
    dialog = page.locator("#table-dialog")
    expect(dialog).to_be_visible()
    expect(dialog.locator(".suggestion .name")).to_have_text(["Lee", "Kim"])
    expect(dialog.locator(".suggestion .s-why")).to_have_text(["fits", "fits"])
    shoot(page, f"host-floor-suggestions-{label}")
    dialog.locator(".suggestion").first.get_by_role("button", name="Call here").click()
    expect(dialog).to_be_hidden()
    expect(page.locator("#toast-text")).to_have_text("Called Lee to table 12.")
    expect_state(page, "12", "held")
    expect(table(page, "12")).to_contain_text("Lee")
    expect(page.locator(".parties.called .party .name")).to_have_text(["Lee"])  # the list, live

    table(page, "12").locator("a").click()
    expect(dialog.get_by_role("button", name="Seat Lee here")).to_be_visible()
    dialog.get_by_role("button", name="Seat Lee here").click()
    expect_state(page, "12", "occupied")
    expect(page.locator(".parties.called")).to_have_count(0)
    assert waitlist.party(restaurant, lee.id).status.value == "seated"

    table(page, "12").locator("a").click()
    shoot(page, f"host-floor-clear-{label}")
    dialog.get_by_role("button", name="Clear table (they left)").click()
    expect_state(page, "12", "free")
    expect(page.locator("#toast-text")).to_have_text("Table 12 cleared.")
    assert waitlist.party(restaurant, lee.id).status.value == "completed"

    table(page, "22").locator("a").click()
    dialog.get_by_role("button", name="Unblock table").click()
    expect_state(page, "22", "free")
    shoot(page, f"host-floor-after-{label}")
    assert page.js_errors == []


def test_a_second_tablet_sees_the_floor_change_live(server: Server, new_page: Any) -> None:
    slug = "floor-live"
    key = floor_restaurant(server, slug)
    kim = server.add_party(slug, "Kim", "+14155558201", size=2)
    first = sign_in(new_page(TABLET_1024), server, slug, key)
    second = sign_in(new_page(TABLET_1024), server, slug, key)
    second.wait_for_timeout(500)  # its stream is open

    table(first, "13").locator("a").click()
    first.locator("#table-dialog .suggestion").first.get_by_role("button", name="Seat here").click()
    expect_state(first, "13", "occupied")
    expect_state(second, "13", "occupied")  # no reload: the floor's fragment re-read on the live event
    expect(table(second, "13")).to_contain_text("Kim")

    waitlist = server.app.extensions["waitlist"]
    waitlist.block_table(waitlist.restaurant(slug), "P1")  # a table event from elsewhere names no party
    expect_state(second, "P1", "blocked")
    waitlist.clear_table(waitlist.restaurant(slug), "13")
    expect_state(second, "13", "free")
    shoot(second, "host-floor-live")
    assert waitlist.party(waitlist.restaurant(slug), kim.id).status.value == "completed"
    assert first.js_errors == [] and second.js_errors == []


@pytest.fixture
def no_script_page(browser: Any) -> Iterator[Any]:
    context = browser.new_context(viewport=TABLET_1024, java_script_enabled=False)
    context.set_default_timeout(5000)
    yield context.new_page()
    context.close()


def test_without_script_call_seat_and_clear_are_plain_forms(server: Server, no_script_page: Any) -> None:
    slug = "floor-no-script"
    key = floor_restaurant(server, slug)
    server.add_party(slug, "Ana", "+14155558301", size=4)
    page = sign_in(no_script_page, server, slug, key)
    table(page, "12").locator("a").click()
    page.wait_for_url(f"{server.url}/host/{slug}/tables/12")
    expect(page.locator(".suggestion .name")).to_have_text(["Ana"])
    shoot(page, "host-floor-no-script-table")
    page.get_by_role("button", name="Call here").click()
    page.wait_for_url(f"{server.url}/host/{slug}")
    expect_state(page, "12", "held")
    table(page, "12").locator("a").click()
    page.get_by_role("button", name="Seat Ana here").click()
    page.wait_for_url(f"{server.url}/host/{slug}")
    expect_state(page, "12", "occupied")
    table(page, "12").locator("a").click()
    page.get_by_role("button", name="Clear table (they left)").click()
    page.wait_for_url(f"{server.url}/host/{slug}")
    expect_state(page, "12", "free")
    table(page, "14").locator("a").click()
    page.get_by_role("button", name="Block table").click()
    expect_state(page, "14", "blocked")
    shoot(page, "host-floor-no-script")


def seed_table_evenings(server: Server, slug: str, days: int = 3) -> None:
    """Table events of a few past evenings, as the transition and clear scripts write them."""
    import random

    from waitlist.store import keys

    rng = random.Random(22)
    now = server.app.extensions["waitlist"].clock()
    for day in range(1, days + 1):
        opening = now - day * 86400 - (now % 86400) + 17 * 3600  # 17:00 UTC that day
        for t in FLOOR:
            at = opening + rng.randint(0, 30) * 60
            while at < opening + 5 * 3600:
                turn = rng.randint(35, 55) + 10 * t["seats"]
                server.redis.xadd(keys.events_key(slug), {
                    "type": "table", "table": t["name"], "party": "p", "from": "occupied", "to": "cleared",
                    "since": repr(at), "at": repr(at + turn * 60), "seats": str(t["seats"]), "floor_seats": "26",
                    "tables": t["name"], "actor": "host"})
                at += (turn + rng.randint(5, 40)) * 60


@pytest.mark.parametrize("viewport, label", [(TABLET_1024, "tablet"), (PHONE, "phone")])
def test_the_owner_sees_table_turn_times_and_occupancy_with_their_numbers(
        server: Server, new_page: Any, viewport: dict[str, int], label: str) -> None:
    slug = f"floor-owner-{label}"
    key = floor_restaurant(server, slug)
    seed_table_evenings(server, slug)
    page = sign_in(new_page(viewport), server, slug, key)
    page.goto(f"{server.url}/owner/{slug}")
    expect(page.locator("#tables-title")).to_have_text("Tables")
    by_size = page.locator("#chart-turns-by-size")
    expect(by_size.locator("rect.bar-a")).to_have_count(3)  # 2-, 4- and 6-seat tables
    expect(by_size.locator("tbody tr td:first-child")).to_have_text(["2", "4", "6"])
    expect(page.locator("#chart-occupancy rect.bar-b").first).to_be_visible()
    ARTIFACTS.mkdir(exist_ok=True)
    page.locator("#tables").screenshot(path=str(ARTIFACTS / f"owner-tables-{label}.png"))
    with page.expect_download() as download:
        page.locator("#tables-csv").click()
    text = Path(download.value.path()).read_text()
    assert text.splitlines()[0] == "breakdown,value,turns,mean_turn_minutes,occupancy"
    assert page.js_errors == []
