"""Browser tests: the real app on a real threaded server over Redis db 11, driven by Debian's Chromium.

Texts are enqueued to RQ on the same database; no worker runs, none is needed to see the pages.
Each page under test leaves a screenshot in test-artifacts/ for a person to look at.
"""
from __future__ import annotations

import itertools
import re
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from redis import Redis
from werkzeug.serving import make_server

from tests.conftest import free_port, make_config, redis_test_url
from waitlist.web.app import create_app

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
PHONE = {"width": 390, "height": 844}
TABLET = {"width": 1180, "height": 820}



@dataclass
class Server:
    url: str
    app: Any
    redis: Redis
    # One sending number per restaurant of the session, counted rather than hashed from the slug: two
    # slugs hashing alike made a restaurant's creation fail as "that number already sends".
    numbers: Iterator[int] = field(default_factory=lambda: itertools.count(1000))

    def create_restaurant(self, slug: str, name: str = "Noodle Bar", **extra: Any) -> str:
        """Create a restaurant straight through the use case; returns its staff key."""
        number = f"+1415555{next(self.numbers):04d}"
        _restaurant, key = self.app.extensions["waitlist"].create_restaurant(slug, name, number, **extra)
        return str(key)

    def add_party(self, slug: str, name: str, phone: str, size: int = 2, **extra: Any) -> Any:
        waitlist = self.app.extensions["waitlist"]
        return waitlist.join(waitlist.restaurant(slug), name=name, phone=phone, party_size=size, **extra)

    def add_pending(self, slug: str, name: str, phone: str, size: int = 2) -> Any:
        """A remote join awaiting confirmation, as the join page made them before join codes (the host
        stand still shows such parties until they lapse)."""
        from waitlist.domain.model import Party
        from waitlist.services.waitlist import new_id, new_token

        waitlist = self.app.extensions["waitlist"]
        restaurant = waitlist.restaurant(slug)
        now = waitlist.clock()
        party = Party(id=new_id(), restaurant=slug, name=name, phone=phone, party_size=size, remote=True,
                      token=new_token(waitlist._ensure_code(restaurant)), joined_at=now)
        waitlist.store.join(slug, party, now=now, actor="guest", almost_ready_position=2, pending_until=now + 300,
                            remote_max_active=restaurant.settings.remote_max_active)
        return party


@pytest.fixture(scope="session")
def server() -> Iterator[Server]:
    """The app on a threaded werkzeug server (one thread per request, as SSE needs)."""
    redis = Redis.from_url(redis_test_url(), decode_responses=True)
    redis.flushdb()
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    config = make_config(public_base_url=url, redis_url=redis_test_url(), development=True)
    app = create_app(config, redis=redis, rq_connection=Redis.from_url(redis_test_url()))
    http = make_server("127.0.0.1", port, app, threaded=True)
    thread = threading.Thread(target=http.serve_forever, daemon=True)
    thread.start()
    yield Server(url=url, app=app, redis=redis)
    http.shutdown()
    redis.flushdb()


@pytest.fixture(autouse=True)
def fresh_rate_limits(request: pytest.FixtureRequest) -> None:
    """Browser tests share one server and one address (127.0.0.1): without this, the wrong passwords
    and keys some tests type on purpose use up the per-address budget of the ones that follow."""
    if "server" in request.fixturenames:
        request.getfixturevalue("server").app.extensions["waitlist_limiter"].reset()


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def new_page(browser: Any) -> Iterator[Any]:
    """Pages in their own contexts (their own cookies), like separate tablets and phones."""
    contexts: list[Any] = []

    def open_page(viewport: dict[str, int] = PHONE, storage_state: Any = None) -> Any:
        context = browser.new_context(viewport=viewport, storage_state=storage_state)
        context.set_default_timeout(5000)
        contexts.append(context)
        page = context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.on("console", lambda msg: errors.append(msg.text)
                if msg.type == "error" and not msg.text.startswith("Failed to load resource") else None)
        page.js_errors = errors
        return page

    yield open_page
    for context in contexts:
        context.close()


def sign_in(page: Any, server: Server, slug: str, key: str) -> Any:
    page.goto(f"{server.url}/host/{slug}")
    page.fill("#api_key", key)
    page.click("button[type=submit]")
    page.wait_for_url(re.compile(rf"/host/{slug}$"))
    page.wait_for_selector("#list")
    return page


def shoot(page: Any, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)
