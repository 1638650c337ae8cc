"""The pages in a real browser: sign in, live updates across tablets, guest and lobby screens."""
from __future__ import annotations

import re
import time
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import TABLET, Server, shoot, sign_in

XSS = "<script>alert(1)</script>"

pytestmark = pytest.mark.browser


def token_of(party: Any) -> str:
    return str(party.token)


def test_host_signs_in_with_the_staff_key_and_a_wrong_key_is_refused(server: Server, new_page: Any) -> None:
    key = server.create_restaurant("signin-bistro", "Sign-in Bistro")
    page = new_page(TABLET)
    page.goto(f"{server.url}/host/signin-bistro")
    expect(page).to_have_url(re.compile(r"/host/signin-bistro/signin$"))
    page.fill("#api_key", "wlk_not-the-key")
    page.click("button[type=submit]")
    expect(page.locator("#key-error")).to_have_text("That key is not valid.")
    shoot(page, "host-sign-in-refused")
    page.fill("#api_key", key)
    page.click("button[type=submit]")
    expect(page).to_have_url(re.compile(r"/host/signin-bistro$"))
    expect(page.locator("h1")).to_have_text("Sign-in Bistro")
    page.click("text=Sign out")
    expect(page).to_have_url(re.compile(r"/signin$"))
    assert page.js_errors == []


def test_a_party_added_on_one_tablet_appears_on_another_within_a_second(server: Server, new_page: Any) -> None:
    key = server.create_restaurant("live-bistro", "Live Bistro")
    first = sign_in(new_page(TABLET), server, "live-bistro", key)
    second = new_page(TABLET, storage_state=first.context.storage_state())
    second.goto(f"{server.url}/host/live-bistro")
    second.wait_for_timeout(300)  # its event stream is connected
    first.fill("#add-name", "Grace Hopper")
    first.fill("#add-phone", "+14155553001")
    first.click(".size[data-size='4']")
    expect(first.locator("#quote")).to_contain_text("Quote for 4:")
    with first.expect_response(lambda r: r.url.endswith("/parties") and r.request.method == "POST") as added:
        first.click("text=Add to waitlist")
    assert added.value.status == 201
    started = time.monotonic()
    expect(second.locator(".party .name", has_text="Grace Hopper")).to_be_visible(timeout=1000)
    assert time.monotonic() - started < 1.0
    expect(first.locator("#add-name")).to_be_focused()
    shoot(first, "host-stand-tablet")
    phone = new_page(storage_state=first.context.storage_state())
    phone.goto(f"{server.url}/host/live-bistro")
    shoot(phone, "host-stand-phone")
    assert first.js_errors == [] and second.js_errors == []


def test_adding_a_party_with_a_bad_phone_shows_the_error_beside_the_field(server: Server, new_page: Any) -> None:
    key = server.create_restaurant("errors-bistro")
    page = sign_in(new_page(TABLET), server, "errors-bistro", key)
    page.fill("#add-name", "Ada")
    page.fill("#add-phone", "12")
    page.fill("#add-size", "2")
    page.click("text=Add to waitlist")
    expect(page.locator("[data-error-for='phone']").first).to_contain_text("not")
    expect(page.locator("#add-phone")).to_have_attribute("aria-invalid", "true")
    shoot(page, "host-add-error")


def test_notifying_a_party_switches_the_guest_page_to_table_ready(server: Server, new_page: Any) -> None:
    key = server.create_restaurant("notify-bistro", "Notify Bistro")
    party = server.add_party("notify-bistro", "Alan Turing", "+14155553002", 3)
    host = sign_in(new_page(TABLET), server, "notify-bistro", key)
    guest = new_page()
    guest.goto(f"{server.url}/s/{token_of(party)}")
    expect(guest.locator("#state")).to_have_text("Waiting")
    expect(guest.locator("#position")).to_have_text("1")
    expect(guest.locator("#estimate")).to_contain_text("min")
    assert "+1415" not in guest.content() and "5553002" not in guest.content()
    shoot(guest, "guest-waiting")
    host.locator(".party", has_text="Alan Turing").locator("button", has_text="Notify").click()
    expect(guest.locator("#state")).to_contain_text("table is ready", timeout=2000)
    expect(guest.locator(".held")).to_contain_text("Held for you until")
    shoot(guest, "guest-table-ready")
    assert guest.js_errors == []


def test_a_guest_leaving_from_their_page_disappears_from_the_host_list(server: Server, new_page: Any) -> None:
    key = server.create_restaurant("leave-bistro")
    party = server.add_party("leave-bistro", "Katherine Johnson", "+14155553003", 2)
    host = sign_in(new_page(TABLET), server, "leave-bistro", key)
    expect(host.locator(".parties .name", has_text="Katherine Johnson")).to_be_visible()
    guest = new_page()
    guest.goto(f"{server.url}/s/{token_of(party)}")
    guest.click("text=Leave the waitlist")
    expect(guest.locator("#leave-confirm")).to_be_visible()
    shoot(guest, "guest-leave-confirm")
    guest.click("#leave-confirm")
    expect(guest.locator("#state")).to_have_text("You are no longer on the waitlist.")
    expect(host.locator(".parties .name", has_text="Katherine Johnson")).to_have_count(0, timeout=2000)
    host.click("#finished summary")
    expect(host.locator("#finished .done-cancelled")).to_contain_text("Katherine Johnson")
    shoot(guest, "guest-left")
    shoot(host, "host-finished")


def test_a_party_named_like_a_script_is_shown_as_text(server: Server, new_page: Any) -> None:
    key = server.create_restaurant("xss-bistro")
    host = sign_in(new_page(TABLET), server, "xss-bistro", key)
    dialogs: list[str] = []

    def dismiss(dialog: Any) -> None:
        dialogs.append(dialog.message)
        dialog.dismiss()

    host.on("dialog", dismiss)
    host.fill("#add-name", XSS)
    host.fill("#add-phone", "+14155553004")
    host.fill("#add-size", "2")
    host.click("text=Add to waitlist")
    expect(host.locator(".parties .name")).to_have_text(XSS)
    party_id = host.locator(".party").first.get_attribute("data-id")
    waitlist = server.app.extensions["waitlist"]
    party = waitlist.party(waitlist.restaurant("xss-bistro"), party_id)
    guest = new_page()
    guest.on("dialog", dismiss)
    guest.goto(f"{server.url}/s/{party.token}")
    expect(guest.locator(".who .name")).to_have_text(XSS)
    host.locator(".party").first.locator("button", has_text="Notify").click()
    board = new_page(TABLET)
    board.on("dialog", dismiss)
    board.goto(f"{server.url}/board/xss-bistro")
    expect(board.locator("#called li")).to_have_count(1)
    shoot(host, "host-xss-name")
    assert dialogs == []


def test_the_lobby_screen_updates_when_parties_join_and_are_called(server: Server, new_page: Any) -> None:
    key = server.create_restaurant("board-bistro", "Board Bistro")
    server.add_party("board-bistro", "Margaret Hamilton", "+14155553005", 2)
    board = new_page({"width": 1920, "height": 1080})
    board.goto(f"{server.url}/board/board-bistro")
    expect(board.locator("#waiting-count")).to_have_text("1")
    host = sign_in(new_page(TABLET), server, "board-bistro", key)
    server.add_party("board-bistro", "Barbara Liskov", "+14155553006", 4)
    expect(board.locator("#waiting-count")).to_have_text("2", timeout=2000)
    host.locator(".party", has_text="Margaret Hamilton").locator("button", has_text="Notify").click()
    expect(board.locator("#called li")).to_have_text(["Margaret H."], timeout=2000)
    expect(board.locator("#waiting-count")).to_have_text("1")
    content = board.content()
    assert "Hamilton" not in content and "5553005" not in content
    shoot(board, "lobby-screen")
    assert board.js_errors == []


def test_a_reply_from_the_development_phone_reaches_the_host_stand(server: Server, new_page: Any) -> None:
    key = server.create_restaurant("phone-bistro", "Phone Bistro")
    server.add_party("phone-bistro", "Edsger Dijkstra", "+14155553007", 2)
    host = sign_in(new_page(TABLET), server, "phone-bistro", key)
    phone = new_page()
    phone.goto(f"{server.url}/dev/phone?number=%2B14155553007")
    phone.fill("#reply-number", "+14155553007")
    phone.select_option("#reply-to", server.app.extensions["waitlist"].restaurant("phone-bistro").sms_from)
    phone.fill("#reply-body", "LATE")
    phone.click("#reply-form button[type=submit]")
    expect(phone.locator("#phone-bubbles .bubble.out")).to_contain_text("LATE")
    expect(host.locator(".party", has_text="Edsger Dijkstra").locator(".flag")).to_contain_text("running late",
                                                                                              timeout=2000)
    shoot(phone, "dev-phone")
    row = host.locator(".party", has_text="Edsger Dijkstra")
    row.locator(".menu summary").click()  # Texts is in the party's menu
    row.locator("button[data-chat]").click()
    expect(host.locator("#drawer-body .bubble.in")).to_contain_text("LATE")
    host.fill("#drawer-text", "See you soon")
    host.click("#drawer-form button[type=submit]")
    expect(host.locator("#drawer-body .bubble.out").last).to_contain_text("See you soon")
    shoot(host, "host-conversation")
