"""Helpers for tests of people: invite a person through the API, accept, sign in, read the CSRF token."""
from __future__ import annotations

import re
from typing import Any

from flask.testing import FlaskClient

PASSWORD = "correct horse battery"


def csrf_of(html: str) -> str:
    found = re.search(r'(?:name="csrf_token" value|data-csrf)="([^"]+)"', html)
    assert found, "the page carries no CSRF token"
    return found.group(1)


def invite(client: FlaskClient, headers: dict[str, str], email: str, role: str, slug: str = "noodle-bar") -> str:
    """The invitation link's token (the restaurant's key acts as an owner)."""
    response = client.post(f"/api/v1/restaurants/{slug}/invitations", json={"email": email, "role": role},
                           headers=headers)
    assert response.status_code == 201, response.get_json()
    return str(response.get_json()["invite_url"].rsplit("/", 1)[1])


def accept(client: FlaskClient, token: str, name: str, password: str = PASSWORD) -> Any:
    page = client.get(f"/account/invite/{token}")
    assert page.status_code == 200, page.text
    return client.post(f"/account/invite/{token}", data={"name": name, "password": password,
                                                         "csrf_token": csrf_of(page.text)})


def sign_in(client: FlaskClient, email: str, password: str = PASSWORD) -> Any:
    page = client.get("/account/signin")
    token = csrf_of(page.text) if page.status_code == 200 else csrf_of(client.get("/account").text)
    return client.post("/account/signin", data={"email": email, "password": password, "csrf_token": token})


def person(client: FlaskClient, headers: dict[str, str], email: str, role: str, name: str,
           slug: str = "noodle-bar") -> str:
    """Invite and accept: ``client`` is then signed in as this person; returns the page's CSRF token."""
    response = accept(client, invite(client, headers, email, role, slug), name)
    assert response.status_code == 303, response.text
    return csrf_of(client.get("/account").text)


def account_id(client: FlaskClient, headers: dict[str, str], email: str, slug: str = "noodle-bar") -> str:
    people = client.get(f"/api/v1/restaurants/{slug}/people", headers=headers).get_json()["people"]
    return str(next(p["id"] for p in people if p["email"] == email))
