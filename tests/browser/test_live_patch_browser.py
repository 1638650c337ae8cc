"""Two host tablets: a change on one patches the other's rows, with no re-read of the whole list (issue 26).
Screenshot: test-artifacts/host-live-patch.png."""
from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import TABLET, Server, shoot, sign_in

pytestmark = pytest.mark.browser
SLUG = "two-tablets"


@pytest.fixture(autouse=True)
def fresh_sign_in_limit(server: Server) -> Iterator[None]:
    server.app.extensions["waitlist_limiter"].reset()
    yield
    server.app.extensions["waitlist_limiter"].reset()


def kept(page: Any) -> list[str]:
    """The rows still carrying the mark set before the change: a whole re-read would have dropped all."""
    return list(page.evaluate("Array.from(document.querySelectorAll('#list li[data-kept]')).map(li => li.dataset.id)"))


def test_a_change_on_one_tablet_patches_the_others_rows_without_a_reload(server: Server, new_page: Any) -> None:
    key = server.create_restaurant(SLUG, "Two Tablets")
    parties = [server.add_party(SLUG, f"Guest {i}", f"+14155557{i:03d}") for i in range(5)]
    waitlist = server.app.extensions["waitlist"]
    waitlist.host_action(waitlist.restaurant(SLUG), parties[0].id, "notify")  # the called list is on the page
    first = sign_in(new_page(TABLET), server, SLUG, key)
    other = new_page(TABLET)
    asked: list[str] = []
    other.on("request", lambda request: asked.append(request.url))
    sign_in(other, server, SLUG, key)
    deadline = time.monotonic() + 5
    while not any(url.endswith("/list") for url in asked):  # the stream's first event: one whole read
        assert time.monotonic() < deadline, "the other tablet's stream never said hello"
        other.wait_for_timeout(50)
    other.wait_for_timeout(300)
    other.evaluate("document.querySelectorAll('#list li[data-id]').forEach(li => li.dataset.kept = '1')")
    asked.clear()

    first.locator(f'[data-id="{parties[2].id}"] .main-action button').click()  # Notify Guest 2
    expect(other.locator(".parties.called .party .name")).to_have_text(["Guest 0", "Guest 2"])
    expect(other.locator(".parties.waiting .party .pos")).to_have_text(["Place 1", "Place 2", "Place 3"])
    expect(other.locator(".summary")).to_have_text("3 waiting · 2 called")

    server.add_party(SLUG, "Late Guest", "+14155557999")  # a join from elsewhere lands at the end
    expect(other.locator(".parties.waiting .party .name")).to_have_text(["Guest 1", "Guest 3", "Guest 4",
                                                                         "Late Guest"])
    expect(other.locator(".parties.waiting .party .pos").last).to_have_text("Place 4")

    untouched = {parties[i].id for i in (0, 1, 3, 4)}
    assert set(kept(other)) == untouched  # the rows that did not change were not drawn again
    assert not [url for url in asked if url.endswith("/list")], asked
    assert [url for url in asked if "/rows?ids=" in url]
    assert not other.js_errors and not first.js_errors
    shoot(other, "host-live-patch")


def test_a_patch_that_does_not_fit_the_page_falls_back_to_reading_the_whole_list(server: Server,
                                                                                 new_page: Any) -> None:
    key = server.create_restaurant("no-fit", "No Fit")
    server.add_party("no-fit", "Ana", "+14155558001")
    page = sign_in(new_page(TABLET), server, "no-fit", key)
    page.wait_for_timeout(500)  # the stream's hello and its whole read
    page.evaluate("() => window.Live.swap(document.querySelector('#list'), '<p class=summary>stale</p>')")
    server.add_party("no-fit", "Bo", "+14155558002")  # its row has no list to go in on this page
    expect(page.locator(".parties.waiting .party .name")).to_have_text(["Ana", "Bo"])
    assert not page.js_errors
