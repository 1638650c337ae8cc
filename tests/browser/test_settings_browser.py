"""The settings screen in a real browser: a manager changes the hold time and the table-ready text
(live preview as they type), and the next text the host sends uses both; refusals show beside fields."""
from __future__ import annotations

import re
from typing import Any

from playwright.sync_api import expect

from tests.browser.conftest import TABLET, Server, shoot, sign_in

SLUG = "settings-bistro"
WORDING = "{name}, your table at {restaurant} is ready! We hold it {hold_minutes} min, until {hold_until}."


def test_a_manager_changes_the_hold_time_and_a_text_and_the_next_text_uses_them(server: Server,
                                                                                new_page: Any) -> None:
    key = server.create_restaurant(SLUG, "Settings Bistro")
    page = sign_in(new_page(TABLET), server, SLUG, key)
    page.goto(f"{server.url}/host/{SLUG}/settings")
    expect(page.locator("h1")).to_contain_text("settings")

    page.fill("#hold_minutes", "abc")  # a refusal first: beside its field, in plain words
    page.click("#list button[type=submit]")
    expect(page.locator("#hold_minutes-error")).to_have_text("enter a number")
    shoot(page, "settings-error")
    page.fill("#hold_minutes", "7")
    page.click("#list button[type=submit]")
    expect(page.locator(".notice")).to_have_text("Settings saved.")
    expect(page.locator("#hold_minutes")).to_have_value("7")

    text = page.locator("#text-table_ready")
    text.locator("textarea").fill("{name.__class__}")
    expect(text.locator(".preview .field-error")).to_contain_text("is not a placeholder")
    text.locator("textarea").fill(WORDING)
    expect(text.locator(".preview .preview-text")).to_have_text(
        "Bartholomew Alexander Jones Jr, your table at Settings Bistro is ready! We hold it 15 min, until 23:45.")
    expect(text.locator(".preview")).to_contain_text("GSM-7 · 103 characters · 1 segment")
    shoot(page, "settings-template-preview")
    text.locator("button[value=save]").click()
    expect(page.locator(".notice")).to_contain_text("saved: the next text uses it")
    expect(page.locator("#text-table_ready label")).to_contain_text("(your wording)")
    assert page.js_errors == []

    waitlist = server.app.extensions["waitlist"]
    party = server.add_party(SLUG, "Mei", "+14155553401")
    page.goto(f"{server.url}/host/{SLUG}")
    page.wait_for_selector("#list")
    page.locator(".party", has_text="Mei").locator(".main-action button", has_text="Notify").click()
    expect(page.locator(".parties.called .party", has_text="Mei")).to_be_visible()
    notified = waitlist.party(waitlist.restaurant(SLUG), party.id)
    bodies = [m["body"] for m in waitlist.conversation(waitlist.restaurant(SLUG), party.id)]
    assert re.fullmatch(r"Mei, your table at Settings Bistro is ready! We hold it 7 min, until \d\d:\d\d\.",
                        bodies[-1]), bodies
    assert waitlist.hold_until_text(waitlist.restaurant(SLUG), notified.hold_until) in bodies[-1]
    page.goto(f"{server.url}/host/{SLUG}/settings#webhooks")
    shoot(page, "settings-saved")
