"""The Chinese pages in a real browser with a CJK font (CI installs fonts-noto-cjk): the join page's
layout and the lobby screen. Screenshots go to test-artifacts/ for a person to look at."""
from __future__ import annotations

import time
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import PHONE, Server, shoot

pytestmark = pytest.mark.browser


def chinese_restaurant(server: Server, slug: str) -> None:
    server.create_restaurant(slug, "川味小馆", language="zh")
    waitlist = server.app.extensions["waitlist"]
    waitlist.update_settings(waitlist.restaurant(slug), {"remote_join": True})


def box(locator: Any) -> dict[str, float]:
    """The element's box, found and measured in one step in the page: a live page swaps in its fresh
    fragment right after it loads, which can detach an element between a lookup and a measurement."""
    expect(locator).to_be_visible()
    rect = locator.evaluate("e => { const r = e.getBoundingClientRect(); "
                            "return {x: r.x, y: r.y, width: r.width, height: r.height}; }")
    return {key: float(value) for key, value in rect.items()}


def laid_out(page: Any, *selectors: str) -> list[dict[str, float]]:
    """The boxes of several elements, measured together in one step once all are laid out. A live page
    swaps in its fresh fragment right after it loads, so a lookup can catch an element on its way out."""
    deadline = time.monotonic() + 5
    while True:
        rects = page.evaluate("""sels => sels.map(s => { const e = document.querySelector(s);
            if (!e) return null; const r = e.getBoundingClientRect();
            return {x: r.x, y: r.y, width: r.width, height: r.height}; })""", list(selectors))
        if all(rect and rect["width"] > 0 for rect in rects):
            return [{key: float(value) for key, value in rect.items()} for rect in rects]
        assert time.monotonic() < deadline, f"not laid out: {selectors}"
        time.sleep(0.05)


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_join_page_puts_checkboxes_beside_their_labels_and_the_wait_in_one_column(
        server: Server, new_page: Any, lang: str) -> None:
    slug = f"join-layout-{lang}"
    chinese_restaurant(server, slug)
    page = new_page(PHONE)
    page.goto(f"{server.url}/join/{slug}?lang={lang}")
    for label in page.locator("label.check").all():
        check, text = box(label.locator("input[type=checkbox]")), box(label.locator("span"))
        assert check["width"] <= 32 and check["height"] <= 32, check
        assert check["x"] + check["width"] <= text["x"], (check, text)  # beside, not above
        assert abs((check["y"] + check["height"] / 2) - (text["y"] + text["height"] / 2)) < 12
    rows = [box(row) for row in page.locator(".wait-list li").all()]
    assert len(rows) == 8
    assert len({round(row["x"]) for row in rows}) == 1, rows  # one column
    assert all(later["y"] >= earlier["y"] + earlier["height"] - 1 for earlier, later in zip(rows, rows[1:]))
    assert page.locator(".wait-list li").first.evaluate("li => getComputedStyle(li).listStyleType") == "none"
    page.fill("input[name=notes]", "n" * 300)
    expect(page.locator("#notes-count")).to_have_text("280 / 280")
    shoot(page, f"join-{lang}")
    assert page.js_errors == []


def test_the_chinese_join_page_shows_every_error_in_chinese_at_once(server: Server, new_page: Any) -> None:
    chinese_restaurant(server, "join-errors-zh")
    page = new_page(PHONE)
    page.goto(f"{server.url}/join/join-errors-zh?lang=zh")
    page.fill("input[name=party_size]", "99")
    page.click("button[type=submit]")
    expect(page.locator(".field-error")).to_have_count(2)  # the name and the size: the page asks for no number
    expect(page.locator("label.field", has_text="人数")).to_contain_text("人数须在1到20之间")
    shoot(page, "join-zh-errors")


def test_the_lobby_screen_speaks_chinese_for_a_chinese_restaurant(server: Server, new_page: Any) -> None:
    chinese_restaurant(server, "board-zh")
    server.add_party("board-zh", "王小明", "+14155553101", 2)
    called = server.add_party("board-zh", "李华", "+14155553102", 4)
    waitlist = server.app.extensions["waitlist"]
    waitlist.host_action(waitlist.restaurant("board-zh"), called.id, "notify")
    board = new_page({"width": 1920, "height": 1080})
    board.goto(f"{server.url}/board/board-zh")
    expect(board.locator(".called h2")).to_have_text("请到前台")
    expect(board.locator("#called li")).to_have_text(["李华"])
    expect(board.locator(".waits th").first).to_have_text("1–2 位")
    assert board.locator("html").get_attribute("lang") == "zh-Hans"
    shoot(board, "lobby-screen-zh")
    assert board.js_errors == []


def test_the_guest_page_offers_on_my_way_first_once_the_table_is_ready(server: Server, new_page: Any) -> None:
    chinese_restaurant(server, "guest-zh")
    party = server.add_party("guest-zh", "王小明", "+14155553201", 2)
    page = new_page(PHONE)
    page.goto(f"{server.url}/s/{party.token}")
    late, leave = laid_out(page, "#late", "#leave summary")
    assert abs(late["width"] - leave["width"]) < 2 and abs(late["y"] - leave["y"]) < 2  # equal, side by side
    shoot(page, "guest-zh-waiting")
    waitlist = server.app.extensions["waitlist"]
    waitlist.host_action(waitlist.restaurant("guest-zh"), party.id, "notify")
    expect(page.locator("#on-my-way")).to_have_text("我在路上了", timeout=3000)
    shoot(page, "guest-zh-ready")
    page.click("#on-my-way")
    expect(page.locator(".note")).to_contain_text("正在路上")
    expect(page.locator("#on-my-way")).to_have_count(0)
    assert page.js_errors == []
