"""The host stand in a Friday rush: 20 parties on a 1024x768 tablet and a 390x844 phone, with and without
script. Screenshots go to test-artifacts/ (host-rush-*)."""
from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import PHONE, Server, shoot, sign_in

pytestmark = pytest.mark.browser

SMALL_TABLET = {"width": 1024, "height": 768}
NAMES = ["Ana Lima", "Grace Hopper", "Alan Turing", "Katherine Johnson", "Edsger Dijkstra", "Barbara Liskov",
         "Margaret Hamilton", "Donald Knuth", "Frances Allen", "John Backus", "Radia Perlman", "Ken Thompson",
         "Dennis Ritchie", "Leslie Lamport", "Tony Hoare", "Niklaus Wirth", "Adele Goldberg", "Jean Sammet",
         "Hedy Lamarr", "Ada Lovelace"]
CALLED, PENDING = NAMES[:3], NAMES[-2:]

IN_VIEW = """sel => Array.from(document.querySelectorAll(sel)).filter(el => {
  const r = el.getBoundingClientRect();
  return r.height > 0 && r.top >= 0 && r.left >= 0 && r.bottom <= innerHeight && r.right <= innerWidth;
}).length"""


@pytest.fixture(autouse=True)
def fresh_sign_in_limit(server: Server) -> Iterator[None]:
    """Each test here signs a tablet in; the limit on sign-ins per address (10 a minute) is not what they
    test, so it starts afresh before and after each, for this module's tests and the ones after it."""
    server.app.extensions["waitlist_limiter"].reset()
    yield
    server.app.extensions["waitlist_limiter"].reset()


def friday_rush(server: Server, slug: str) -> str:
    """20 parties: 3 called, 2 remote joins not confirmed yet, 15 waiting (one late, one VIP, one with a note)."""
    key = server.create_restaurant(slug, "Friday Noodle Bar")
    waitlist = server.app.extensions["waitlist"]
    waitlist.update_settings(waitlist.restaurant(slug), {"remote_join": True})
    restaurant = waitlist.restaurant(slug)
    parties = []
    for i, name in enumerate(NAMES):
        phone = f"+1415555{abs(hash(slug)) % 50 * 100 + 3100 + i:04d}"
        if name in PENDING:
            parties.append(server.add_pending(slug, name, phone, i % 6 + 1))
            continue
        parties.append(waitlist.join(
            restaurant, name=name, phone=phone, party_size=i % 6 + 1,
            notes="window seat, stroller" if i == 3 else "", tags=["vip"] if i == 7 else [], remote=i == 5))
    for party in parties[:3]:
        waitlist.host_action(restaurant, party.id, "notify")
    waitlist.running_late(restaurant, parties[4].id, 10, actor="guest")
    return key


def in_view(page: Any, selector: str) -> int:
    return int(page.evaluate(IN_VIEW, selector))


def test_a_tablet_shows_ten_parties_beside_the_whole_form_called_on_top(server: Server, new_page: Any) -> None:
    key = friday_rush(server, "rush-tablet")
    page = sign_in(new_page(SMALL_TABLET), server, "rush-tablet", key)
    expect(page.locator("#add-name")).to_be_focused()
    assert in_view(page, "#add-form") == 1 and in_view(page, "#add-form button[type=submit]") == 1
    assert in_view(page, ".party") >= 10
    shoot_view(page, "host-rush-tablet")

    called = page.locator(".parties.called .party")
    expect(called.locator(".name")).to_have_text(CALLED)
    assert page.locator(".party").first.get_attribute("class").split()[1] == "status-notified"
    expect(called.first.locator(".countdown")).to_have_text(re.compile(r"^\d+:\d\d left$"))
    expect(called.first.locator(".main-action button")).to_have_text("Seat")
    waiting = page.locator(".parties.waiting .party")
    expect(waiting).to_have_count(15)
    expect(waiting.first.locator(".main-action button")).to_have_text("Notify")
    expect(waiting.first.locator(".pos")).to_contain_text("1")

    pending = page.locator(".parties.pending .party")
    expect(page.locator("#pending-title")).to_have_text("Awaiting confirmation")
    expect(pending.locator(".name")).to_have_text(PENDING)
    for i in range(2):
        expect(pending.nth(i)).to_contain_text("awaiting confirmation")
        expect(pending.nth(i).locator("button", has_text=re.compile("Notify|Seat"))).to_have_count(0)
    expect(page.locator(".party", has_text="Edsger Dijkstra").locator("[aria-label='running late']")).to_be_visible()

    page.click(".size[data-size='4']")  # one tap
    expect(page.locator("#add-size")).to_have_value("4")
    expect(page.locator(".size[data-size='4']")).to_have_attribute("aria-pressed", "true")
    page.fill("#add-name", "Grace Murray")
    page.fill("#add-phone", "+14155553999")
    with page.expect_response(lambda r: r.url.endswith("/parties") and r.request.method == "POST") as added:
        page.click("text=Add to waitlist")
    assert added.value.status == 201
    expect(page.locator(".parties.waiting .party").last.locator(".name")).to_have_text("Grace Murray")
    expect(page.locator("#add-name")).to_be_focused()
    assert page.js_errors == []


def test_a_phone_shows_the_rush_in_one_column(server: Server, new_page: Any) -> None:
    key = friday_rush(server, "rush-phone")
    page = sign_in(new_page(PHONE), server, "rush-phone", key)
    expect(page.locator("#add-name")).to_be_focused()
    form, listing = page.locator("section.add").bounding_box(), page.locator("section.list").bounding_box()
    assert form and listing and listing["y"] >= form["y"] + form["height"]
    assert page.evaluate("document.scrollingElement.scrollWidth") <= PHONE["width"]
    assert in_view(page, "#add-form") == 1
    page.locator(".parties.called").scroll_into_view_if_needed()
    expect(page.locator(".parties.called .party").first.locator(".main-action button")).to_have_text("Seat")
    rows = page.locator(".party")
    for i in range(rows.count()):
        box = rows.nth(i).bounding_box()
        assert box and box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"]
    shoot_view(page, "host-rush-phone")
    shoot(page, "host-rush-phone-full")
    assert page.js_errors == []


def test_every_add_error_shows_at_once_and_the_note_counts_to_the_servers_limit(server: Server,
                                                                                new_page: Any) -> None:
    key = friday_rush(server, "rush-errors")
    page = sign_in(new_page(SMALL_TABLET), server, "rush-errors", key)
    limit = int(page.locator("#notes-count").get_attribute("data-max"))
    assert page.locator("#add-notes").get_attribute("maxlength") == str(limit)
    page.fill("#add-phone", "12")
    page.fill("#add-size", "99")
    expect(page.locator("#quote")).to_be_empty()  # no quote for a size the list refuses
    page.fill("#add-notes", "x" * 300)
    expect(page.locator("#notes-count")).to_have_text(f"{limit} / {limit}")
    with page.expect_response(lambda r: r.url.endswith("/parties") and r.request.method == "POST") as refused:
        page.click("text=Add to waitlist")
    fields = refused.value.json()["error"]["fields"]
    assert "name" in fields  # and whatever else the server finds wrong: all of it shows at once
    for name, messages in fields.items():
        expect(page.locator(f"#add-form [data-error-for='{name}']")).to_have_text(" ".join(messages))
    expect(page.locator("#add-form [aria-invalid='true']")).to_have_count(len(fields))
    expect(page.locator("#add-name")).to_be_focused()
    assert in_view(page, "#add-form button[type=submit]") == 1
    shoot_view(page, "host-rush-errors")


def test_notify_offers_undo_and_a_quote_is_set_in_one_tap(server: Server, new_page: Any) -> None:
    key = friday_rush(server, "rush-undo")
    page = sign_in(new_page(SMALL_TABLET), server, "rush-undo", key)
    row = page.locator(".party", has_text="Katherine Johnson")
    row.locator(".main-action button", has_text="Notify").click()
    expect(page.locator(".parties.called .party", has_text="Katherine Johnson")).to_be_visible()
    expect(page.locator("#toast-undo")).to_be_visible()
    page.click("#toast-undo button")
    expect(page.locator(".parties.waiting .party").first.locator(".name")).to_have_text("Katherine Johnson")

    row = page.locator(".party", has_text="Barbara Liskov")
    row.locator(".menu summary").click()
    shoot_view(page, "host-rush-menu")
    row.locator(".presets button", has_text="45").click()
    expect(page.locator(".party", has_text="Barbara Liskov").locator(".quoted")).to_have_text("/45")
    expect(page.locator("details.menu[open]")).to_have_count(0)
    assert page.js_errors == []


@pytest.fixture
def no_script_page(browser: Any) -> Iterator[Any]:
    context = browser.new_context(viewport=SMALL_TABLET, java_script_enabled=False)
    context.set_default_timeout(5000)
    yield context.new_page()
    context.close()


def test_without_script_the_hold_time_shows_and_the_menu_seats_and_quotes(server: Server, no_script_page: Any) -> None:
    key = friday_rush(server, "rush-noscript")
    page = no_script_page
    page.goto(f"{server.url}/host/rush-noscript")
    page.fill("#api_key", key)
    page.click("button[type=submit]")
    expect(page.locator(".parties.called .party").first.locator(".countdown")).to_have_text(
        re.compile(r"^until \d\d:\d\d$"))
    expect(page.locator("#add-name")).to_be_focused()  # autofocus
    row = page.locator(".party", has_text="Barbara Liskov")
    row.locator(".menu summary").click()
    row.locator(".presets button", has_text="30").click()
    expect(page.locator(".party", has_text="Barbara Liskov").locator(".quoted")).to_have_text("/30")
    row = page.locator(".party", has_text="Frances Allen")
    row.locator(".menu summary").click()
    row.locator(".menu-body button", has_text="Seat").click()
    expect(page.locator(".parties .name", has_text="Frances Allen")).to_have_count(0)
    expect(page.locator("#finished .done-seated")).to_contain_text("Frances Allen")
    shoot_view(page, "host-rush-no-script")


def shoot_view(page: Any, name: str) -> None:
    """What the host sees without scrolling (shoot() takes the whole page)."""
    from tests.browser.conftest import ARTIFACTS

    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"))
