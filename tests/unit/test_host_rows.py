"""GET /host/{slug}/rows: the rows a live tablet patches in, instead of re-rendering the whole list."""
from __future__ import annotations

import re
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.conftest import add_party, auth, create_restaurant
from tests.fakes import Clock
from tests.unit.test_isolation import sign_in

API = "/api/v1/restaurants/noodle-bar/parties"


def rows(client: FlaskClient, *ids: str, slug: str = "noodle-bar") -> Any:
    response = client.get(f"/host/{slug}/rows?ids={','.join(ids)}")
    assert response.status_code == 200, response.text
    return response.get_json()


def by_id(answer: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {row["id"]: row for row in answer["rows"]}


def test_each_row_comes_with_its_list_and_place_and_the_counts(client: FlaskClient, restaurant: dict[str, Any],
                                                               headers: dict[str, str]) -> None:
    first, second, third = (add_party(client, headers, name=f"Guest {i}") for i in range(3))
    client.post(f"{API}/{first['id']}/notify", headers=headers)
    client.post(f"{API}/{second['id']}/seat", headers=headers)
    sign_in(client, restaurant["api_key"], "noodle-bar")
    answer = rows(client, first["id"], second["id"], third["id"], "nosuchparty")
    found = by_id(answer)
    assert (found[first["id"]]["list"], found[first["id"]]["index"]) == ("called", 0)
    assert found[second["id"]]["list"] == "finished" and 'class="done done-seated"' in found[second["id"]]["html"]
    assert (found[third["id"]]["list"], found[third["id"]]["index"]) == ("waiting", 0)
    assert re.search(r'<span class="pos"><span class="sr-only">Place </span>1</span>', found[third["id"]]["html"])
    assert found["nosuchparty"] == {"id": "nosuchparty", "list": "gone", "index": 0, "html": ""}
    assert answer["counts"] == {"waiting": 1, "called": 1, "pending": 0, "finished": 1}


def test_a_row_is_the_same_html_the_whole_list_renders(client: FlaskClient, restaurant: dict[str, Any],
                                                      headers: dict[str, str]) -> None:
    party = add_party(client, headers, name="Bea", notes="window seat")
    sign_in(client, restaurant["api_key"], "noodle-bar")
    html = rows(client, party["id"])["rows"][0]["html"].strip()
    assert html.startswith(f'<li class="party status-waiting" data-id="{party["id"]}"')
    assert html in client.get("/host/noodle-bar/list").text


def test_names_and_notes_are_escaped_in_a_row(client: FlaskClient, restaurant: dict[str, Any],
                                              headers: dict[str, str]) -> None:
    party = add_party(client, headers, name='<script>alert(1)</script>"', notes="<img src=x onerror=alert(1)>")
    sign_in(client, restaurant["api_key"], "noodle-bar")
    html = rows(client, party["id"])["rows"][0]["html"]
    assert "<script>" not in html and "<img" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html and "&lt;img src=x" in html


def test_rows_need_a_staff_session_of_this_restaurant(client: FlaskClient, restaurant: dict[str, Any],
                                                      headers: dict[str, str]) -> None:
    party = add_party(client, headers)
    assert client.get(f"/host/noodle-bar/rows?ids={party['id']}").status_code == 401
    assert client.get(f"/host/noodle-bar/rows?ids={party['id']}", headers=headers).status_code == 401
    other = create_restaurant(client, slug="taco-stand", name="Taco Stand", sms_from="+14155550199")
    sign_in(client, other["api_key"], "taco-stand")
    assert client.get(f"/host/noodle-bar/rows?ids={party['id']}").status_code == 401


def test_another_restaurants_party_is_gone_and_shows_nothing(client: FlaskClient, restaurant: dict[str, Any],
                                                             headers: dict[str, str]) -> None:
    other = create_restaurant(client, slug="taco-stand", name="Taco Stand", sms_from="+14155550199")
    theirs = add_party(client, auth(other["api_key"]), slug="taco-stand", name="Secret Guest", notes="secret note")
    sign_in(client, restaurant["api_key"], "noodle-bar")
    answer = rows(client, theirs["id"])
    assert answer["rows"] == [{"id": theirs["id"], "list": "gone", "index": 0, "html": ""}]
    assert answer["counts"]["waiting"] == 0


@pytest.mark.parametrize("ids", ["", ",", "a,b;c", "<x>", "a" * 65, ",".join(f"p{i}" for i in range(51))])
def test_bad_ids_are_a_400_in_the_one_error_shape(client: FlaskClient, restaurant: dict[str, Any], ids: str) -> None:
    sign_in(client, restaurant["api_key"], "noodle-bar")
    response = client.get(f"/host/noodle-bar/rows?ids={ids}")
    assert response.status_code == 400
    assert set(response.get_json()["error"]["fields"]) == {"ids"}


def test_the_host_page_tells_its_script_where_rows_are(app: Flask, client: FlaskClient,
                                                       restaurant: dict[str, Any]) -> None:
    sign_in(client, restaurant["api_key"], "noodle-bar")
    assert 'data-rows="/host/noodle-bar/rows"' in client.get("/host/noodle-bar").text


def test_a_row_carries_what_the_page_needs_to_age_it_without_a_re_read(client: FlaskClient, clock: Clock,
                                                                      restaurant: dict[str, Any],
                                                                      headers: dict[str, str]) -> None:
    party = add_party(client, headers, quote_minutes=10)
    sign_in(client, restaurant["api_key"], "noodle-bar")
    clock.advance(90)
    html = rows(client, party["id"])["rows"][0]["html"]
    assert 'data-waited="90"' in html and 'data-over-in="511"' in html and " over" not in html
    clock.advance(600)
    html = rows(client, party["id"])["rows"][0]["html"]
    assert 'data-waited="690"' in html and "data-over-in" not in html and 'class="wait over"' in html
