"""The body limit holds whatever the transfer encoding: a chunked body (no Content-Length) over 16 KB is a
413 in the one error shape, never its first 16 KB taken as the whole request."""
from __future__ import annotations

import json
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.conftest import next_phone
from tests.unit.test_isolation import sign_in
from waitlist.web.http import MAX_BODY_BYTES

SLUG = "noodle-bar"
PARTIES = f"/api/v1/restaurants/{SLUG}/parties"
CHUNKED = {"Transfer-Encoding": "chunked"}


@pytest.fixture
def chunked(app: Flask) -> Flask:
    """Requests saying Transfer-Encoding: chunked reach the app as a chunked-capable server (gunicorn)
    hands them over: no Content-Length, and wsgi.input_terminated set."""
    inner = app.wsgi_app

    def server(environ: dict[str, Any], start_response: Any) -> Any:
        if environ.get("HTTP_TRANSFER_ENCODING") == "chunked":
            environ.pop("CONTENT_LENGTH", None)
            environ["wsgi.input_terminated"] = True
        return inner(environ, start_response)

    app.wsgi_app = server  # type: ignore[method-assign]
    return app


def padded_json(size: int) -> bytes:
    """A valid party, then spaces: any prefix past the object is still valid JSON."""
    body = json.dumps({"name": "Ana", "phone": next_phone(), "party_size": 2}).encode()
    return body + b" " * (size - len(body))


def test_a_chunked_json_body_over_the_limit_gets_413_and_adds_nobody(
        chunked: Flask, client: FlaskClient, headers: dict[str, str]) -> None:
    response = client.post(PARTIES, data=padded_json(MAX_BODY_BYTES + 4000), content_type="application/json",
                           headers={**headers, **CHUNKED})
    assert response.status_code == 413
    assert response.get_json()["error"]["code"] == "payload_too_large"
    assert client.get(PARTIES, headers=headers).get_json()["parties"] == []


def test_a_chunked_json_body_of_exactly_the_limit_is_served(
        chunked: Flask, client: FlaskClient, headers: dict[str, str]) -> None:
    response = client.post(PARTIES, data=padded_json(MAX_BODY_BYTES), content_type="application/json",
                           headers={**headers, **CHUNKED})
    assert response.status_code == 201, response.get_json()


def test_a_chunked_form_post_over_the_limit_gets_413_in_the_error_shape(
        chunked: Flask, client: FlaskClient, restaurant: dict[str, Any]) -> None:
    csrf = sign_in(client, restaurant["api_key"], SLUG)
    form = f"csrf_token={csrf}&name=Ana&party_size=2&phone=4155550123&notes=" + "%20" * (MAX_BODY_BYTES // 3)
    response = client.post(f"/host/{SLUG}/parties", data=form.encode(),
                           content_type="application/x-www-form-urlencoded", headers=CHUNKED)
    assert response.status_code == 413
    assert response.get_json()["error"]["code"] == "payload_too_large"


def test_a_chunked_join_form_over_the_limit_gets_413(chunked: Flask, client: FlaskClient,
                                                      restaurant: dict[str, Any]) -> None:
    form = "name=Ana&party_size=2&phone=4155550123&notes=" + "x" * (MAX_BODY_BYTES + 1)
    response = client.post(f"/join/{SLUG}", data=form.encode(), content_type="application/x-www-form-urlencoded",
                           headers=CHUNKED)
    assert response.status_code == 413
