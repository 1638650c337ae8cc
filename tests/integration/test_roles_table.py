"""Every staff endpoint and page against every role (issue 24), on the real Redis.

The endpoints come from the app's url_map: any rule under a restaurant's slug is a staff endpoint
unless waitlist.web.auth lists it as public, so a new endpoint is in this table the day it is added.
For each one: every role allowed gets past the role check (neither 401 nor 403), every role below
gets 403, a person of another restaurant gets 404, and another restaurant's key gets 403 (a key
names its restaurant, so that refusal tells nothing new).
"""
from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.routing import Rule

from tests.conftest import add_party, auth, create_restaurant, make_config
from tests.fakes import RecordingDispatcher
from tests.people import csrf_of, person
from waitlist.domain.people import ROLES, SCOPES, allows
from waitlist.web import auth as web_auth
from waitlist.web.app import create_app

PAGE_ROLES = ROLES
KEY_SCOPES = tuple(SCOPES)


@dataclass
class World:
    app: Flask
    key: str
    other_key: str
    party_id: str
    pages: dict[str, tuple[FlaskClient, str]]
    """Role -> a client signed in as a person with that role here, and its CSRF token."""
    stranger: tuple[FlaskClient, str]
    """A manager of the other restaurant only."""
    scoped: dict[str, str]
    """Scope -> an integration key of that scope."""


@pytest.fixture(scope="module")
def world() -> Iterator[World]:
    from tests.conftest import redis_test_url
    from waitlist.store.connections import waitlist_redis

    redis = waitlist_redis(redis_test_url())
    redis.flushdb()
    app = create_app(make_config(rate_limits_enabled=False), redis=redis, dispatcher=RecordingDispatcher())
    app.testing = True
    admin = app.test_client()
    mine = create_restaurant(admin)
    other = create_restaurant(admin, slug="taco-stand", name="Taco Stand", sms_from="+14155550101")
    headers = auth(mine["api_key"])
    pages = {}
    for role in PAGE_ROLES:
        client = app.test_client()
        pages[role] = (client, person(client, headers, f"{role}@example.com", role, role.title()))
    stranger = app.test_client()
    stranger_csrf = person(stranger, auth(other["api_key"]), "stranger@example.com", "manager", "Stranger",
                           slug="taco-stand")
    scoped = {scope: admin.post("/api/v1/restaurants/noodle-bar/keys", json={"name": scope, "scope": scope},
                                headers=headers).get_json()["api_key"] for scope in KEY_SCOPES}
    party = add_party(admin, headers)
    yield World(app, mine["api_key"], other["api_key"], party["id"], pages, (stranger, stranger_csrf), scoped)
    redis.flushdb()


def staff_rules(app: Flask) -> list[tuple[Rule, str]]:
    """(rule, method) for every rule under a slug that is not public."""
    found = []
    for rule in app.url_map.iter_rules():
        if "slug" not in rule.arguments or web_auth.is_public(rule.endpoint):
            continue
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            found.append((rule, method))
    return sorted(found, key=lambda pair: (pair[0].rule, pair[1]))


def url_for_rule(rule: Rule, world: World, slug: str = "noodle-bar") -> str:
    """The rule with harmless values: a real party, the first choice of each any(), made-up ids
    elsewhere (never the restaurant key's id: revoking it would end the table)."""
    def fill(match: re.Match[str]) -> str:
        converter, name = match.group(1) or "", match.group(2)
        if converter.startswith("any("):
            return re.findall(r"'?([\w-]+)'?", converter[4:])[0]
        return {"slug": slug, "party_id": world.party_id, "name": "T1", "language": "en",
                "kind": "joined"}.get(name, "no-such-id")
    return re.sub(r"<(?:([^:>]+(?:\([^)]*\))?):)?([^>]+)>", fill, rule.rule)


def call(client: FlaskClient, method: str, url: str, *, csrf: str | None = None,
         headers: dict[str, str] | None = None) -> int:
    if url.startswith("/api/"):
        response = client.open(url, method=method, json={} if method in ("POST", "PUT", "PATCH") else None,
                               headers=headers or {})
    else:
        response = client.open(url, method=method, data={"csrf_token": csrf} if method == "POST" else None,
                               headers={"Accept": "application/json"})
    status = response.status_code
    response.close()  # live streams: never read
    return status


def test_every_staff_endpoint_names_the_role_it_needs(world: World) -> None:
    with world.app.test_request_context():
        undeclared = [rule.endpoint for rule, _m in staff_rules(world.app) if not web_auth.declared_role(rule.endpoint)]
    assert undeclared == [], "add require_role(...) or an ENDPOINT_ROLES entry (waitlist.web.auth)"


def test_the_table_covers_the_api_and_the_pages(world: World) -> None:
    urls = {rule.rule for rule, _m in staff_rules(world.app)}
    assert any(u.startswith("/api/") for u in urls) and any(u.startswith("/host/") for u in urls)
    assert any(u.startswith("/people/") for u in urls) and any(u.startswith("/owner/") for u in urls)


@pytest.fixture(scope="module")
def rules(world: World) -> list[tuple[Rule, str]]:
    return staff_rules(world.app)


def test_each_role_is_allowed_or_refused_with_403_on_every_staff_page(world: World,
                                                                      rules: list[tuple[Rule, str]]) -> None:
    wrong = []
    for rule, method in rules:
        if rule.rule.startswith("/api/"):
            continue
        with world.app.test_request_context():
            needed = web_auth.required_role(rule.endpoint)
        url = url_for_rule(rule, world)
        for role in PAGE_ROLES:
            client, csrf = world.pages[role]
            status = call(client, method, url, csrf=csrf)
            ok = status not in (401, 403) if allows(role, needed) else status == 403
            if not ok:
                wrong.append((role, method, url, needed, status))
    assert wrong == []


def test_each_key_scope_is_allowed_or_refused_with_403_on_every_api_endpoint(
        world: World, rules: list[tuple[Rule, str]]) -> None:
    wrong = []
    client = world.app.test_client()
    for rule, method in rules:
        if not rule.rule.startswith("/api/"):
            continue
        with world.app.test_request_context():
            needed = web_auth.required_role(rule.endpoint)
        url = url_for_rule(rule, world)
        for scope in KEY_SCOPES:
            status = call(client, method, url, headers=auth(world.scoped[scope]))
            ok = status not in (401, 403) if allows(SCOPES[scope], needed) else status == 403
            if not ok:
                wrong.append((scope, method, url, needed, status))
    assert wrong == []


def test_another_restaurants_people_get_404_and_its_keys_403_everywhere(world: World,
                                                                        rules: list[tuple[Rule, str]]) -> None:
    wrong = []
    stranger, csrf = world.stranger
    api = world.app.test_client()
    for rule, method in rules:
        url = url_for_rule(rule, world)
        if rule.rule.startswith("/api/"):
            status, expected = call(api, method, url, headers=auth(world.other_key)), 403
        else:
            status, expected = call(stranger, method, url, csrf=csrf), 404
        if status != expected:
            wrong.append((method, url, status))
    assert wrong == []


def test_the_restaurant_key_still_does_everything(world: World, rules: list[tuple[Rule, str]]) -> None:
    client = world.app.test_client()
    refused = [(method, url_for_rule(rule, world)) for rule, method in rules if rule.rule.startswith("/api/")
               and call(client, method, url_for_rule(rule, world), headers=auth(world.key)) in (401, 403)]
    assert refused == []


def test_a_refused_page_answers_in_the_one_error_shape(world: World) -> None:
    client, _csrf = world.pages["host"]
    response = client.get("/people/noodle-bar", headers={"Accept": "application/json"})
    assert response.status_code == 403
    body: Any = response.get_json()
    assert body["error"]["code"] == "forbidden" and "manager" in body["error"]["message"]
    assert csrf_of(client.get("/account").text)
