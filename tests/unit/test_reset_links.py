"""Reset links an owner or a manager makes for a member (issue 24): without a mail server (SMTP_URL) this
is how a person who forgot their password gets back in. Single use, an hour, ends sessions,
role-checked and restaurant-isolated; the self-service page stays neutral about who has an account."""
from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from flask import Flask
from flask.testing import FlaskClient

from tests.conftest import auth, create_restaurant
from tests.people import account_id, csrf_of, person, sign_in
from waitlist.store import keys

PEOPLE = "/api/v1/restaurants/noodle-bar/people"
NEW = "a brand new password"


def reset_url(client: FlaskClient, headers: dict[str, str], who: str, expect: int = 201) -> Any:
    response = client.post(f"{PEOPLE}/{who}/reset-link", headers=headers)
    assert response.status_code == expect, response.get_json()
    return response.get_json()


def use(client: FlaskClient, url: str, password: str = NEW) -> Any:
    path = url.split("//", 1)[1].split("/", 1)[1]
    page = client.get("/" + path)
    if page.status_code != 200:
        return page
    return client.post("/" + path, data={"password": password, "csrf_token": csrf_of(page.text)})


def test_an_owners_reset_link_works_once_and_ends_every_session(app: Flask, client: FlaskClient,
                                                                headers: dict[str, str]) -> None:
    tablet = app.test_client()
    person(tablet, headers, "mei@example.com", "host", "Mei")
    assert tablet.get("/host/noodle-bar").status_code == 200
    made = reset_url(client, headers, account_id(client, headers, "mei@example.com"))
    assert made["expires_in"] == 3600 and "/account/reset/" in made["reset_url"]
    phone = app.test_client()
    assert use(phone, made["reset_url"]).status_code == 303
    assert tablet.get("/host/noodle-bar").status_code == 303  # the old session is over
    assert phone.get("/host/noodle-bar").status_code == 200  # the new one is signed in
    assert sign_in(app.test_client(), "mei@example.com", NEW).status_code == 303
    assert use(app.test_client(), made["reset_url"], "yet another password").status_code == 410  # once
    assert sign_in(app.test_client(), "mei@example.com", "yet another password").status_code == 401


def test_a_reset_link_expires_after_an_hour_and_is_kept_only_hashed(app: Flask, client: FlaskClient,
                                                                    headers: dict[str, str], redis: Any) -> None:
    person(app.test_client(), headers, "mei@example.com", "host", "Mei")
    made = reset_url(client, headers, account_id(client, headers, "mei@example.com"))
    token = made["reset_url"].rsplit("/", 1)[1]
    found = redis.keys(keys.password_reset_key("*"))
    assert len(found) == 1 and token not in found[0]
    assert 3500 < redis.ttl(found[0]) <= 3600
    redis.expire(found[0], 0)  # Redis ends the key when its hour is up: end it now
    assert use(app.test_client(), made["reset_url"]).status_code == 410


def test_a_manager_makes_links_only_for_people_below_and_a_host_for_nobody(app: Flask, client: FlaskClient,
                                                                           headers: dict[str, str]) -> None:
    person(app.test_client(), headers, "own@example.com", "owner", "Olu")
    person(app.test_client(), headers, "lee@example.com", "manager", "Lee")
    person(app.test_client(), headers, "mei@example.com", "host", "Mei")
    ids = {email: account_id(client, headers, email) for email in
           ("own@example.com", "lee@example.com", "mei@example.com")}
    manager, host = app.test_client(), app.test_client()
    manager_csrf = person(manager, headers, "kim@example.com", "manager", "Kim")
    host_csrf = person(host, headers, "bo@example.com", "host", "Bo")
    page = manager.get("/people/noodle-bar")
    assert page.text.count(">Reset link</button>") == 2  # Mei and Bo, not Olu, Lee or Kim
    for who, status in ((ids["own@example.com"], 403), (ids["lee@example.com"], 403),
                        (ids["mei@example.com"], 303)):
        response = manager.post(f"/people/noodle-bar/{who}/reset-link", data={"csrf_token": manager_csrf})
        assert response.status_code == status, who
    assert ("/account/reset/" in manager.get("/people/noodle-bar").text)  # shown once, to hand over
    assert "/account/reset/" not in manager.get("/people/noodle-bar").text
    assert host.post(f"/people/noodle-bar/{ids['own@example.com']}/reset-link",
                     data={"csrf_token": host_csrf}).status_code == 403
    assert host.post(f"/people/noodle-bar/{ids['mei@example.com']}/reset-link",
                     data={"csrf_token": host_csrf}).status_code == 403
    assert manager.post(f"/people/noodle-bar/{ids['mei@example.com']}/reset-link").status_code in (400, 403)  # no CSRF


def test_an_owner_makes_a_link_for_another_owner_and_a_host_key_for_nobody(
        client: FlaskClient, headers: dict[str, str], app: Flask) -> None:
    person(app.test_client(), headers, "own@example.com", "owner", "Olu")
    owner_id = account_id(client, headers, "own@example.com")
    reset_url(client, headers, owner_id)  # the restaurant's key acts as an owner
    host_key = client.post("/api/v1/restaurants/noodle-bar/keys", json={"name": "pos", "scope": "host"},
                           headers=headers).get_json()["api_key"]
    reset_url(client, auth(host_key), owner_id, expect=403)


def test_another_restaurants_member_is_not_found(app: Flask, client: FlaskClient, headers: dict[str, str]) -> None:
    other = create_restaurant(client, slug="taco-stand", name="Taco Stand", sms_from="+14155550101")
    person(app.test_client(), auth(other["api_key"]), "eve@example.com", "host", "Eve", slug="taco-stand")
    eve = account_id(client, auth(other["api_key"]), "eve@example.com", slug="taco-stand")
    assert reset_url(client, headers, eve, expect=404)["error"]["code"]
    reset_url(client, headers, "no-such-person", expect=404)
    # and another restaurant's key cannot make one for her here or there
    assert client.post(f"/api/v1/restaurants/taco-stand/people/{eve}/reset-link",
                       headers=headers).status_code == 403


def test_the_self_service_page_says_the_same_either_way_and_names_the_owner(
        app: Flask, client: FlaskClient, headers: dict[str, str]) -> None:
    person(app.test_client(), headers, "mei@example.com", "host", "Mei")
    visitor = app.test_client()
    form = visitor.get("/account/reset")
    assert "owner" in form.text
    answers = [visitor.post("/account/reset", data={"email": email, "csrf_token": csrf_of(form.text)})
               for email in ("mei@example.com", "nobody@example.com")]
    assert [a.status_code for a in answers] == [200, 200]
    assert answers[0].text == answers[1].text.replace("nobody@example.com", "mei@example.com")
    assert "owner" in answers[0].text


def test_the_openapi_lists_the_reset_link_route(app: Flask) -> None:
    spec = yaml.safe_load(Path(app.root_path, "openapi.yaml").read_text(encoding="utf-8"))
    operation = spec["paths"]["/api/v1/restaurants/{slug}/people/{account_id}/reset-link"]["post"]
    assert set(operation["responses"]) >= {"201", "403", "404"}
