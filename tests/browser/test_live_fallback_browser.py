"""A lobby screen whose live stream is refused (too many open pages: 429) polls instead, and still
shows a new party (static/live.js)."""
from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import Server
from waitlist.web.fanout import Caps

pytestmark = pytest.mark.browser


def test_a_board_refused_its_stream_polls_and_still_shows_a_new_party(server: Server, new_page: Any) -> None:
    server.create_restaurant("poll-bistro", "Poll Bistro")
    hub = server.app.extensions["live_hub"]
    saved, hub.caps = hub.caps, Caps(per_address=0, per_restaurant=0, total=0)  # every public stream: 429
    try:
        board = new_page({"width": 1280, "height": 800})
        with board.expect_response(lambda r: r.url.endswith("/board/poll-bistro/events")) as refused:
            board.goto(f"{server.url}/board/poll-bistro")
        assert refused.value.status == 429
        expect(board.locator("#waiting-count")).to_have_text("0")
        server.add_party("poll-bistro", "Grace Hopper", "+14155553101", 2)
        # live.js polls every 7.5-12.5 s once its stream is refused
        expect(board.locator("#waiting-count")).to_have_text("1", timeout=20_000)
    finally:
        hub.caps = saved
