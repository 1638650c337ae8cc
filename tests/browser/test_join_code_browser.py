"""The join page's code flow in a real browser: a guest joins on the page, gets a code and a link that
writes the text, and the page opens their status page by itself once their text arrived. Screenshots of
the code page (English and Chinese) go to test-artifacts/."""
from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import PHONE, Server, shoot
from waitlist.services.inbound import InboundHandler
from waitlist.store import join_code_key

pytestmark = pytest.mark.browser


def remote_restaurant(server: Server, slug: str, **extra: Any) -> str:
    """The restaurant's texting number."""
    server.create_restaurant(slug, "Noodle Bar", **extra)
    waitlist = server.app.extensions["waitlist"]
    waitlist.update_settings(waitlist.restaurant(slug), {"remote_join": True})
    return str(waitlist.restaurant(slug).sms_from)


def join_on_the_page(page: Any, server: Server, slug: str, lang: str = "en") -> str:
    """Fill in and send the join form; the code the next page shows."""
    page.goto(f"{server.url}/join/{slug}?lang={lang}")
    expect(page.locator("input[name=phone]")).to_have_count(0)
    page.fill("input[name=name]", "Ana Lima")
    page.fill("input[name=party_size]", "3")
    page.click("button[type=submit]")
    page.wait_for_url(re.compile(rf"/join/{slug}/code/"))
    code = page.locator("#join-code").inner_text().strip()
    assert re.fullmatch(r"[A-Z0-9]{5}", code), code
    return code


def text_arrives(server: Server, number: str, phone: str, body: str) -> str:
    """The guest's text reaching the restaurant's number (what the signed webhook hands on)."""
    return InboundHandler(server.app.extensions["waitlist"]).handle(to=number, from_=phone, body=body,
                                                                    message_sid=f"SM{phone[1:]}").outcome


def test_the_code_page_leads_to_the_status_page_once_the_guests_text_arrives(server: Server, new_page: Any) -> None:
    number = remote_restaurant(server, "code-flow")
    page = new_page(PHONE)
    code = join_on_the_page(page, server, "code-flow")
    link = page.locator("a.sms-link")
    assert link.get_attribute("href") == f"sms:{number}?&body=JOIN%20{code}"
    expect(link).to_have_text(f"Text JOIN {code}")
    expect(page.locator(".code-how")).to_contain_text(f"Or text JOIN {code} to (415) 555-")
    expect(page.locator(".code-state")).to_have_text("Waiting for your text…")
    code_box = page.locator("#join-code").bounding_box()
    assert code_box["width"] <= PHONE["width"] and code_box["height"] >= 40  # big enough to read off a phone
    shoot(page, "join-code-en")

    assert text_arrives(server, number, "+14155556101", f"join {code.lower()}") == "joined"

    page.wait_for_url(re.compile(r"/s/[A-Za-z0-9_-]+$"), timeout=10_000)
    expect(page.locator("body")).to_contain_text("Ana Lima")
    shoot(page, "join-code-joined")
    assert page.js_errors == []


def test_the_chinese_code_page_and_a_code_that_ran_out(server: Server, new_page: Any) -> None:
    remote_restaurant(server, "code-zh", language="zh")
    page = new_page(PHONE)
    code = join_on_the_page(page, server, "code-zh", lang="zh")
    expect(page.locator("h2")).to_have_text("发短信加入候位")
    expect(page.locator(".code-how")).to_contain_text(f"发送短信 JOIN {code} 至")
    shoot(page, "join-code-zh")

    server.redis.hset(join_code_key("code-zh", code), "expires_at", "1")  # its fifteen minutes are up

    expect(page.locator(".code-state")).to_have_text("验证码已过期", timeout=10_000)
    expect(page.locator(".code-again a")).to_be_visible()
    page.reload()
    expect(page.locator("h2")).to_have_text("验证码已过期")
    assert page.js_errors == []
