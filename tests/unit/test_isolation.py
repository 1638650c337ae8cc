"""Tenant isolation: one restaurant's key, session or links never reach another restaurant's data.

The staff endpoints are enumerated from the app's url_map, so a route added later is covered without
anyone remembering to list it here; a guard checks the enumeration still finds the routes we know of.
"""
from __future__ import annotations

import itertools
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.routing import Rule

from tests.conftest import add_party, auth, create_restaurant, guest_token
from tests.fakes import RecordingDispatcher

A_SLUG, B_SLUG = "noodle-bar", "taco-stand"
A_NAME, A_PHONE, A_NOTES = "Zelda Quokkaworth", "+14155550911", "birthday cake for Quokkaworth"
B_NAME, B_PHONE = "Bea Otherly", "+14155550922"

PUBLIC_API = {"api.estimate", "reservations.availability"}
"""Restaurant-scoped API routes anyone may call: the wait and the open booking slots, for its website."""
SIGN_IN = re.compile(r"\.(sign_in_form|sign_in|sign_out)$")
ANY = re.compile(r"<any\(([^)]*)\):(\w+)>")
NEVER_SENT = ("HEAD", "OPTIONS")


@dataclass
class Tenants:
    a_key: str
    b_key: str
    a_party: dict[str, Any]
    b_party: dict[str, Any]

    @property
    def a_secrets(self) -> tuple[str, ...]:
        """What must never appear in anything B sees: A's guest, her number (any form) and her link."""
        return (A_NAME, A_PHONE, A_PHONE[2:], "0911", A_NOTES, guest_token(self.a_party), self.a_party["id"])


@pytest.fixture
def tenants(app: Flask, client: FlaskClient) -> Tenants:
    app.config.update(LIVE_LIFETIME_SECONDS=0.05, LIVE_BLOCK_SECONDS=0.01)  # streams end at once here
    a = create_restaurant(client)
    b = create_restaurant(client, slug=B_SLUG, name="Taco Stand", sms_from="+14155550101")
    a_party = add_party(client, auth(a["api_key"]), name=A_NAME, phone=A_PHONE, notes=A_NOTES)
    b_party = add_party(client, auth(b["api_key"]), slug=B_SLUG, name=B_NAME, phone=B_PHONE)
    for slug, key in ((A_SLUG, a["api_key"]), (B_SLUG, b["api_key"])):  # both name a table "12"
        floor = {"tables": [{"name": "12", "seats": 4}]}
        assert client.put(f"/api/v1/restaurants/{slug}/tables", json=floor, headers=auth(key)).status_code == 200
    return Tenants(a["api_key"], b["api_key"], a_party, b_party)


# --- enumerating routes --------------------------------------------------------------------------------

def rules(app: Flask, prefixes: tuple[str, ...]) -> list[Rule]:
    return [rule for rule in app.url_map.iter_rules() if rule.rule.startswith(prefixes)]


def staff_api_rules(app: Flask) -> list[Rule]:
    return [rule for rule in rules(app, ("/api/v1/restaurants/<slug>",)) if rule.endpoint not in PUBLIC_API]


def staff_page_rules(app: Flask) -> list[Rule]:
    return [rule for rule in rules(app, ("/host/<slug>", "/owner/<slug>")) if not SIGN_IN.search(rule.endpoint)]


def requests_for(app: Flask, rule: Rule, values: dict[str, str]) -> Iterator[tuple[str, str]]:
    """(method, url) for every method of the rule and every choice of its any(...) parts."""
    adapter = app.url_map.bind("localhost")
    choices = {name: [option.strip(" '\"") for option in options.split(",")]
               for options, name in ANY.findall(rule.rule)}
    wanted = {name: values.get(name, f"no-such-{name}") for name in rule.arguments if name not in choices}
    for method in sorted((rule.methods or set()) - set(NEVER_SENT)):
        for combo in itertools.product(*choices.values()):
            url = adapter.build(rule.endpoint, {**wanted, **dict(zip(choices, combo))}, method=method)
            yield method, url


def a_values(tenants: Tenants) -> dict[str, str]:
    # "ticket": a join page's ticket (another restaurant's is test_join_codes')
    return {"slug": A_SLUG, "party_id": tenants.a_party["id"], "token": guest_token(tenants.a_party), "name": "12",
            "ticket": "no-such-ticket", "reservation_id": "no-such-reservation"}


def b_values(tenants: Tenants) -> dict[str, str]:
    return {"slug": B_SLUG, "party_id": tenants.b_party["id"], "token": guest_token(tenants.b_party), "name": "12",
            "ticket": "no-such-ticket", "reservation_id": "no-such-reservation"}


def text_of(response: Any) -> str:
    """The body, or for an event stream its first chunk (streams here are bare "changed" events)."""
    if response.mimetype == "text/event-stream":
        first = next(iter(response.response), b"")
        response.close()
        return first.decode() if isinstance(first, bytes) else str(first)
    return response.get_data(as_text=True)


def test_the_enumeration_finds_every_staff_route_we_know_of(app: Flask) -> None:
    api = {rule.endpoint for rule in staff_api_rules(app)}
    pages = {rule.endpoint for rule in staff_page_rules(app)}
    assert {"api.show_restaurant", "api.update_settings", "api.list_parties", "api.host_action", "api.send_message",
            "api.conversation", "api.move_party", "api.pause", "api.resume", "api.update_party",
            "tables.list_tables", "tables.replace_tables", "tables.next_for_table", "tables.act_on_table"} <= api
    assert {"host.page", "host.list_fragment", "host.events", "host.add_party", "host.act",
            "host.conversation"} <= pages
    assert "api.estimate" not in api


# --- another restaurant's key ---------------------------------------------------------------------------

def own_address(n: int) -> dict[str, str]:
    """Each probe from its own address: past 20 wrong keys, one address gets 429 (test_limits.py)."""
    return {"REMOTE_ADDR": f"10.9.{n // 250}.{n % 250}"}


def test_every_staff_api_route_refuses_another_restaurants_key_with_403(
        app: Flask, client: FlaskClient, tenants: Tenants, dispatcher: RecordingDispatcher) -> None:
    texts_before = len(dispatcher.sent)
    tried = []
    for rule in staff_api_rules(app):
        for method, url in requests_for(app, rule, a_values(tenants)):
            response = client.open(url, method=method, json={} if method in ("POST", "PATCH") else None,
                                   headers=auth(tenants.b_key), environ_base=own_address(len(tried)))
            tried.append(f"{method} {url}")
            assert response.status_code == 403, (method, url, response.status_code)
            assert response.get_json()["error"]["code"] == "forbidden"
            body = response.get_data(as_text=True)
            assert not any(secret in body for secret in tenants.a_secrets), (method, url)
    assert len(tried) >= 20
    party = client.get(f"/api/v1/restaurants/{A_SLUG}/parties/{tenants.a_party['id']}", headers=auth(tenants.a_key))
    assert party.get_json()["status"] == "waiting" and party.get_json()["name"] == A_NAME
    settings = client.get(f"/api/v1/restaurants/{A_SLUG}/settings", headers=auth(tenants.a_key)).get_json()
    assert settings["paused"] is False
    assert len(dispatcher.sent) == texts_before


@pytest.mark.parametrize("credential", ["none", "garbage", "admin"])
def test_every_staff_api_route_refuses_requests_without_a_staff_key(
        app: Flask, client: FlaskClient, tenants: Tenants, credential: str) -> None:
    from tests.conftest import ADMIN_TOKEN

    headers = {"none": {}, "garbage": auth("wlk_not-a-key"), "admin": auth(ADMIN_TOKEN)}[credential]
    tried = 0
    for rule in staff_api_rules(app):
        for method, url in requests_for(app, rule, a_values(tenants)):
            response = client.open(url, method=method, json={} if method in ("POST", "PATCH") else None,
                                    headers=headers, environ_base=own_address(tried))
            tried += 1
            assert response.status_code == 401, (method, url, response.status_code)


def test_another_restaurants_party_id_is_not_found_even_with_a_valid_key(
        app: Flask, client: FlaskClient, tenants: Tenants) -> None:
    """Party ids are per restaurant: B's key on B's own routes with A's party id finds nothing."""
    values = {**b_values(tenants), "party_id": tenants.a_party["id"]}
    party_rules = [rule for rule in staff_api_rules(app) if "party_id" in rule.arguments]
    assert party_rules
    for rule in party_rules:
        for method, url in requests_for(app, rule, values):
            body: dict[str, Any] = {}
            if rule.endpoint == "api.move_party":
                body = {"position": 1}
            elif rule.endpoint == "api.send_message":
                body = {"body": "hello"}
            response = client.open(url, method=method, json=body if method in ("POST", "PATCH") else None,
                                   headers=auth(tenants.b_key))
            assert response.status_code == 404, (method, url, response.status_code)
            assert not any(secret in response.get_data(as_text=True) for secret in tenants.a_secrets[:3])


# --- another restaurant's staff session ------------------------------------------------------------------

def csrf_of(html: str) -> str:
    found = re.search(r'(?:name="csrf_token" value|data-csrf)="([^"]+)"', html)
    assert found, "the page carries no CSRF token"
    return found.group(1)


def sign_in(client: FlaskClient, api_key: str, slug: str) -> str:
    """Sign in at the host stand; returns the session's CSRF token."""
    token_ = csrf_of(client.get(f"/host/{slug}/signin").text)
    response = client.post(f"/host/{slug}/signin", data={"api_key": api_key, "csrf_token": token_})
    assert response.status_code == 303, response.text
    return csrf_of(client.get(f"/host/{slug}").text)


def test_every_staff_page_refuses_a_session_signed_in_to_another_restaurant(
        app: Flask, client: FlaskClient, tenants: Tenants) -> None:
    csrf = sign_in(client, tenants.b_key, B_SLUG)
    assert client.get(f"/host/{B_SLUG}").status_code == 200  # the session works where it belongs
    tried = []
    for rule in staff_page_rules(app):
        for method, url in requests_for(app, rule, a_values(tenants)):
            headers = {"X-CSRF-Token": csrf, "Accept": "text/html"}  # so only the staff check can refuse
            response = client.open(url, method=method, headers=headers, data={"csrf_token": csrf},
                                   buffered=False)
            tried.append(url)
            body = text_of(response)
            refused = response.status_code in (401, 403) or (
                response.status_code in (302, 303) and response.headers["Location"].endswith("/signin"))
            assert refused, (method, url, response.status_code)
            assert not any(secret in body for secret in tenants.a_secrets), (method, url)
    assert len(tried) >= 10
    party = client.get(f"/api/v1/restaurants/{A_SLUG}/parties/{tenants.a_party['id']}", headers=auth(tenants.a_key))
    assert party.get_json()["status"] == "waiting"


@pytest.mark.parametrize("page", ["host", "owner"])
def test_signing_in_with_another_restaurants_key_is_refused(client: FlaskClient, tenants: Tenants, page: str) -> None:
    csrf = csrf_of(client.get(f"/{page}/{A_SLUG}/signin").text)
    response = client.post(f"/{page}/{A_SLUG}/signin", data={"api_key": tenants.b_key, "csrf_token": csrf})
    assert response.status_code == 401
    assert client.get(f"/host/{A_SLUG}").status_code in (302, 303)


# --- nothing of A in anything B sees ------------------------------------------------------------------

def test_no_listing_stream_or_page_of_one_restaurant_shows_anything_of_another(
        app: Flask, client: FlaskClient, tenants: Tenants) -> None:
    sign_in(client, tenants.b_key, B_SLUG)
    scoped = [rule for rule in app.url_map.iter_rules()
              if "GET" in (rule.methods or set()) and rule.arguments & {"slug", "token"}]
    seen_b = False
    for rule in scoped:
        for _method, url in requests_for(app, rule, b_values(tenants)):  # GET-only rules give GET
            for accept in ("text/html", "application/json"):
                response = client.get(url, headers={**auth(tenants.b_key), "Accept": accept}, buffered=False)
                readable = (response.mimetype or "").startswith(("text/", "application/json", "image/svg"))
                body = text_of(response) if readable else ""
                leaked = [secret for secret in tenants.a_secrets if secret in body]
                assert not leaked, (url, accept, response.status_code, leaked)
                seen_b = seen_b or B_NAME in body
    assert seen_b, "B's own pages never showed B's party: the check above proved nothing"


def test_the_development_pages_that_span_restaurants_are_hidden_outside_development(client: FlaskClient,
                                                                                    tenants: Tenants) -> None:
    for path in ("/dev/phone", "/dev/phone/chat", "/dev/outbox"):
        response = client.get(path)
        assert response.status_code == 404
        assert A_NAME not in response.get_data(as_text=True)
