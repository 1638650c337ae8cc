"""Overlong and odd values (non-ASCII digits, names too long for the file system, NUL bytes) answer 400
with the field that is wrong, never 500, on every endpoint that takes them."""
from __future__ import annotations

from typing import Any

import pytest
from flask.testing import FlaskClient

from tests.conftest import ADMIN_TOKEN, add_party
from tests.unit.test_join import csrf, remote_on
from tests.unit.test_pages import sign_in

BASE = "/api/v1/restaurants/noodle-bar"
LONG = "x" * 5000
ADMIN = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
NEW = {"slug": "ramen-ya", "name": "Ramen Ya", "sms_from": "+14155550101"}

RESTAURANTS = [
    ({"timezone": "A" * 300}, "timezone"),
    ({"timezone": "Europe/" + "a" * 250}, "timezone"),
    ({"timezone": "../../etc/passwd"}, "timezone"),
    ({"timezone": "UTC\x00"}, "timezone"),
    ({"timezone": ""}, "timezone"),
    ({"name": LONG}, "name"),
    ({"sms_from": LONG}, "sms_from"),
    ({"slug": LONG}, "slug"),
    ({"language": LONG}, "language"),
]


@pytest.mark.parametrize(("body", "field"), RESTAURANTS)
def test_a_restaurant_with_an_odd_value_is_refused_with_its_field(client: FlaskClient, body: dict[str, Any],
                                                                  field: str) -> None:
    response = client.post("/api/v1/restaurants", json={**NEW, **body}, headers=ADMIN)
    assert response.status_code == 400, response.text
    assert field in response.get_json()["error"]["fields"]


SETTINGS = [
    ({"join_hours": {"mon": [[LONG, "17:00"]]}}, "join_hours"),
    ({"join_hours": {LONG: [["09:00", "17:00"]]}}, "join_hours"),
    ({"join_hours": {"mon": [["０９:00", "17:00"]]}}, "join_hours"),
    ({"tables": {LONG: 2}}, "tables"),
    ({"tables": {"²": 2}}, "tables"),
    ({"tables": {"٣": 2}}, "tables"),
    ({"tables": {"4": "²"}}, "tables"),
    ({"language": LONG}, "language"),
    ({"max_party_size": "²"}, "max_party_size"),
    ({"max_party_size": 10**40}, "max_party_size"),
    ({"hold_minutes": "١٠"}, "hold_minutes"),
    ({"hold_minutes": 1e308 * 10}, "hold_minutes"),
    ({"daily_join_cap": "٣"}, "daily_join_cap"),
    ({"retention_days": "²"}, "retention_days"),
]


@pytest.mark.parametrize(("body", "field"), SETTINGS)
def test_settings_with_an_odd_value_are_refused_with_their_field(client: FlaskClient, headers: dict[str, str],
                                                                 body: dict[str, Any], field: str) -> None:
    response = client.patch(f"{BASE}/settings", json=body, headers=headers)
    assert response.status_code == 400, response.text
    assert field in response.get_json()["error"]["fields"]


@pytest.fixture
def party(client: FlaskClient, headers: dict[str, str]) -> dict[str, Any]:
    return add_party(client, headers)


REQUESTS = [
    ("post", "/pause", {"message": LONG}, "message"),
    ("post", "/parties", {"name": "Ana", "phone": LONG, "party_size": 2}, "phone"),
    ("post", "/parties", {"name": "Ana", "phone": "+14155550123", "party_size": "²"}, "party_size"),
    ("post", "/parties", {"name": "Ana", "phone": "+14155550123", "party_size": 2, "seating": LONG}, "seating"),
    ("post", "/parties", {"name": "Ana", "phone": "+14155550123", "party_size": 2, "tags": [LONG]}, "tags"),
    ("post", "/parties", {"name": "Ana", "phone": "+14155550123", "party_size": 2, "language": LONG}, "language"),
    ("post", "/parties", {"name": "Ana", "phone": "+14155550123", "party_size": 2, "quote_minutes": "²"},
     "quote_minutes"),
    ("patch", "/parties/{id}", {"notes": LONG}, "notes"),
    ("patch", "/parties/{id}", {"party_size": "٣"}, "party_size"),
    ("post", "/parties/{id}/move", {"position": "²"}, "position"),
    ("post", "/parties/{id}/move", {"position": "٣"}, "position"),
    ("post", "/parties/{id}/move", {"position": 10**40}, "position"),
    ("post", "/parties/{id}/messages", {"body": LONG}, "body"),
    ("get", "/estimate?party_size=²", None, "party_size"),
    ("get", "/estimate?party_size=٣", None, "party_size"),
    ("get", "/estimate?party_size=" + "9" * 5000, None, "party_size"),
    ("get", "/parties?status=" + LONG, None, "status"),
    ("get", "/stats?from=" + LONG, None, "from"),
    ("get", "/stats?from=２０２６-01-01", None, "from"),
    ("get", "/visits.csv?to=²", None, "to"),
]


@pytest.mark.parametrize(("method", "path", "body", "field"), REQUESTS)
def test_an_odd_value_anywhere_in_the_api_is_a_400_naming_its_field(
        client: FlaskClient, headers: dict[str, str], party: dict[str, Any], method: str, path: str,
        body: dict[str, Any] | None, field: str) -> None:
    response = getattr(client, method)(BASE + path.format(id=party["id"]), json=body, headers=headers)
    assert response.status_code == 400, response.text
    assert field in response.get_json()["error"]["fields"]


FORMS = [
    ("/parties", {"name": "Ana", "phone": "+14155550123", "party_size": "²"}),
    ("/parties", {"name": "Ana", "phone": "+14155550123", "party_size": "٣"}),
    ("/parties", {"name": "Ana", "phone": "+14155550123", "party_size": "2", "quote_minutes": "²"}),
    ("/parties", {"name": LONG, "phone": "+14155550123", "party_size": "2"}),
    ("/parties/{id}/edit", {"party_size": "²"}),
    ("/parties/{id}/edit", {"notes": LONG}),
    ("/parties/{id}/quote", {"quote_minutes": "²"}),
    ("/parties/{id}/messages", {"body": LONG}),
]


@pytest.mark.parametrize(("path", "form"), FORMS)
def test_an_odd_value_on_the_host_stand_is_a_400(client: FlaskClient, restaurant: dict[str, Any],
                                                 party: dict[str, Any], path: str, form: dict[str, str]) -> None:
    token = sign_in(client, restaurant["api_key"])
    response = client.post("/host/noodle-bar" + path.format(id=party["id"]), data={**form, "csrf_token": token})
    assert response.status_code == 400, response.text
    assert client.get("/host/noodle-bar/quote?party_size=²").status_code == 400


JOIN_FORMS = [
    {"party_size": "²"},
    {"party_size": "٣"},
    {"party_size": "9" * 5000},
    {"name": LONG},
    {"notes": LONG},
    {"tags": LONG},
    {"language": LONG},
]


@pytest.mark.parametrize("odd", JOIN_FORMS)
def test_an_odd_value_on_the_join_page_is_a_400(client: FlaskClient, headers: dict[str, str],
                                                odd: dict[str, str]) -> None:
    remote_on(client, headers)
    form = {"name": "Ana", "party_size": "2", "csrf_token": csrf(client), **odd}
    response = client.post("/join/noodle-bar", data=form)
    assert response.status_code == 400, response.text
