"""The host stand's floor (waitlist/web/floor.py): the strip and a table's panel as fragments, and the
table actions as plain forms that work without script (CSRF, staff session, isolation, escaping)."""
from __future__ import annotations

import re
from typing import Any

import pytest
from flask.testing import FlaskClient

from tests.conftest import add_party, auth, create_restaurant
from tests.fakes import Clock
from tests.unit.test_isolation import sign_in
from waitlist.store import keys

BASE = "/api/v1/restaurants/noodle-bar"
HOST = "/host/noodle-bar"
FLOOR = [
    {"name": "12", "seats": 4, "min_seats": 2, "section": "indoor", "joins_with": ["13"]},
    {"name": "13", "seats": 2},
    {"name": "B1", "seats": 2, "section": "bar"},
]


@pytest.fixture
def floor(client: FlaskClient, headers: dict[str, str]) -> None:
    response = client.put(f"{BASE}/tables", json={"tables": FLOOR}, headers=headers)
    assert response.status_code == 200, response.get_json()


@pytest.fixture
def csrf(client: FlaskClient, restaurant: dict[str, Any], floor: None) -> str:
    return sign_in(client, restaurant["api_key"], "noodle-bar")


def states(client: FlaskClient, headers: dict[str, str]) -> dict[str, tuple[str, str | None]]:
    tables = client.get(f"{BASE}/tables", headers=headers).get_json()["tables"]
    return {t["name"]: (t["state"], t["party_id"]) for t in tables}


def strip_tables(html: str) -> dict[str, str]:
    """Each table on the strip and its words (the link's accessible name)."""
    found = re.findall(r'data-table="([^"]+)" data-state="[a-z]+">\s*<a [^>]*aria-label="Table [^,]+, ([^"]+)"', html)
    return dict(found)


def post(client: FlaskClient, url: str, csrf: str, **fields: Any) -> Any:
    return client.post(url, data={"csrf_token": csrf, **fields})


def fetch_post(client: FlaskClient, url: str, csrf: str, **fields: Any) -> Any:
    return client.post(url, data=fields, headers={"X-CSRF-Token": csrf, "X-Requested-With": "fetch",
                                                  "Accept": "application/json"})


# --- the strip -----------------------------------------------------------------------------------------

def test_the_strip_shows_every_table_with_its_state_minutes_and_party(
        client: FlaskClient, headers: dict[str, str], csrf: str, clock: Clock) -> None:
    lee = add_party(client, headers, name="Lee", party_size=4)
    kim = add_party(client, headers, name="Kim", party_size=2)
    client.post(f"{BASE}/parties/{lee['id']}/seat", json={"tables": ["12"]}, headers=headers)
    client.post(f"{BASE}/parties/{kim['id']}/notify", json={"tables": ["B1"]}, headers=headers)
    client.post(f"{BASE}/tables/13/block", headers=headers)
    clock.advance(48 * 60 + 5)
    html = client.get(f"{HOST}/floor").text
    assert strip_tables(html) == {"12": "4 seats, occupied 48 min · Lee", "13": "2 seats, blocked 48 min",
                                  "B1": "2 seats, held 48 min · Kim"}
    assert "0 free · 1 held · 1 occupied · 1 blocked" in html
    assert "●" in html and "◔" in html and "⊘" in html  # a shape per state, not colour alone


def test_the_host_page_carries_the_strip_and_a_page_without_named_tables_hides_it(
        client: FlaskClient, restaurant: dict[str, Any], headers: dict[str, str]) -> None:
    sign_in(client, restaurant["api_key"], "noodle-bar")
    page = client.get(HOST).text
    assert '<div id="floor" class="floor" hidden>' in page and "floor-strip" not in page
    assert client.get(f"{HOST}/floor").text.strip() == ""
    client.put(f"{BASE}/tables", json={"tables": FLOOR}, headers=headers)
    page = client.get(HOST).text
    assert '<div id="floor" class="floor">' in page
    assert strip_tables(page) == {"12": "4 seats, free", "13": "2 seats, free", "B1": "2 seats, free"}
    assert f'data-floor="{HOST}/floor"' in page


def test_a_cleared_table_shows_clearing_for_the_restaurants_clearing_minutes(
        client: FlaskClient, headers: dict[str, str], csrf: str, clock: Clock) -> None:
    assert client.patch(f"{BASE}/settings", json={"clearing_minutes": 5}, headers=headers).status_code == 200
    party = add_party(client, headers, party_size=2)
    client.post(f"{BASE}/parties/{party['id']}/seat", json={"tables": ["13"]}, headers=headers)
    post(client, f"{HOST}/tables/13/clear", csrf)
    clock.advance(2 * 60)
    assert strip_tables(client.get(f"{HOST}/floor").text)["13"] == "2 seats, clearing 2 min"
    clock.advance(4 * 60)
    assert strip_tables(client.get(f"{HOST}/floor").text)["13"] == "2 seats, free"


def test_a_party_no_table_can_seat_is_flagged_on_its_row(
        client: FlaskClient, headers: dict[str, str], csrf: str) -> None:
    add_party(client, headers, name="Big Group", party_size=7)
    add_party(client, headers, name="Pair", party_size=2)
    html = client.get(f"{HOST}/list").text
    big, pair = html.split('data-name="Big Group"')[1], html.split('data-name="Pair"')[1]
    assert 'aria-label="no table fits"' in big.split("</li>")[0]
    assert "no table fits" not in pair.split("</li>")[0]


# --- a table's panel -----------------------------------------------------------------------------------

def test_a_free_tables_panel_lists_its_suggestions_with_reasons_and_forms(
        client: FlaskClient, headers: dict[str, str], csrf: str) -> None:
    six = add_party(client, headers, name="Six", party_size=6)
    two = add_party(client, headers, name="Two", party_size=2)
    four = add_party(client, headers, name="Four", party_size=4)
    html = client.get(f"{HOST}/tables/12", headers={"X-Requested-With": "fetch"}).text
    assert "<html" not in html  # the fragment alone, for the dialog
    names = re.findall(r'<span class="name">([^<]+)</span>', html)
    reasons = re.findall(r'<span class="s-why chip">([^<]+)</span>', html)
    assert list(zip(names, reasons)) == [("Two", "fits"), ("Four", "fits"), ("Six", "needs join with 13")]
    forms = re.findall(r'<form method="post" action="([^"]+)"', html)
    assert {f"{HOST}/tables/12/{action}" for action in ("call", "seat", "block")} <= set(forms)
    six_part = html.split(f'value="{six["id"]}"')[1].split("</form>")[0]
    assert '<input type="hidden" name="with" value="13">' in six_part
    assert two["id"] in html and four["id"] in html


def test_without_script_the_panel_is_a_page_with_a_way_back(
        client: FlaskClient, headers: dict[str, str], csrf: str) -> None:
    add_party(client, headers, name="Two", party_size=2)
    page = client.get(f"{HOST}/tables/13").text
    assert page.startswith("<!doctype html>") and "Table 13" in page and f'href="{HOST}"' in page
    assert 'name="csrf_token"' in page


def test_an_occupied_tables_panel_offers_clear_and_a_blocked_one_unblock(
        client: FlaskClient, headers: dict[str, str], csrf: str) -> None:
    party = add_party(client, headers, name="Lee", party_size=4)
    client.post(f"{BASE}/parties/{party['id']}/seat", json={"tables": ["12"]}, headers=headers)
    html = client.get(f"{HOST}/tables/12", headers={"X-Requested-With": "fetch"}).text
    assert f'action="{HOST}/tables/12/clear"' in html and "Lee" in html and "/call" not in html
    client.post(f"{BASE}/tables/B1/block", headers=headers)
    html = client.get(f"{HOST}/tables/B1", headers={"X-Requested-With": "fetch"}).text
    assert f'action="{HOST}/tables/B1/unblock"' in html and "/block" not in html


def test_an_unknown_table_is_a_404(client: FlaskClient, csrf: str) -> None:
    response = client.get(f"{HOST}/tables/99", headers={"X-Requested-With": "fetch", "Accept": "application/json"})
    assert response.status_code == 404 and response.get_json()["error"]["code"] == "table_not_found"


# --- the actions, as plain forms ---------------------------------------------------------------------------

def test_call_at_a_table_holds_it_and_seat_there_occupies_it_then_clear_frees_it(
        client: FlaskClient, headers: dict[str, str], csrf: str, dispatcher: Any) -> None:
    party = add_party(client, headers, name="Lee", party_size=4)
    response = post(client, f"{HOST}/tables/12/call", csrf, party_id=party["id"])
    assert response.status_code == 303 and response.headers["Location"].endswith(HOST)
    assert states(client, headers)["12"] == ("held", party["id"])
    assert client.get(f"{BASE}/parties/{party['id']}", headers=headers).get_json()["status"] == "notified"
    assert post(client, f"{HOST}/tables/12/seat", csrf, party_id=party["id"]).status_code == 303
    assert states(client, headers)["12"] == ("occupied", party["id"])
    assert post(client, f"{HOST}/tables/12/clear", csrf).status_code == 303
    assert states(client, headers)["12"] == ("free", None)
    assert client.get(f"{BASE}/parties/{party['id']}", headers=headers).get_json()["status"] == "completed"


def test_seat_with_a_join_occupies_both_tables(client: FlaskClient, headers: dict[str, str], csrf: str) -> None:
    party = add_party(client, headers, name="Six", party_size=6)
    assert post(client, f"{HOST}/tables/12/seat", csrf, party_id=party["id"], **{"with": "13"}).status_code == 303
    assert states(client, headers)["12"] == ("occupied", party["id"])
    assert states(client, headers)["13"] == ("occupied", party["id"])


def test_block_and_unblock_without_script(client: FlaskClient, headers: dict[str, str], csrf: str) -> None:
    assert post(client, f"{HOST}/tables/B1/block", csrf).status_code == 303
    assert states(client, headers)["B1"] == ("blocked", None)
    assert post(client, f"{HOST}/tables/B1/unblock", csrf).status_code == 303
    assert states(client, headers)["B1"] == ("free", None)


def test_from_script_an_action_answers_json_and_a_taken_table_is_a_409(
        client: FlaskClient, headers: dict[str, str], csrf: str) -> None:
    first = add_party(client, headers, name="A", party_size=2)
    second = add_party(client, headers, name="B", party_size=2)
    answer = fetch_post(client, f"{HOST}/tables/13/seat", csrf, party_id=first["id"])
    assert answer.status_code == 200 and answer.get_json()["tables"] == ["13"]
    refused = fetch_post(client, f"{HOST}/tables/13/seat", csrf, party_id=second["id"])
    assert refused.status_code == 409 and refused.get_json()["error"]["code"] == "table_taken"
    assert fetch_post(client, f"{HOST}/tables/B1/block", csrf).get_json()["state"] == "blocked"


@pytest.mark.parametrize("fields, field", [({}, "party_id"), ({"party_id": "a b"}, "party_id"),
                                           ({"party_id": "x", "with": "thirteen-chars"}, "with")])
def test_a_bad_form_is_a_clear_400(client: FlaskClient, csrf: str, fields: dict[str, str], field: str) -> None:
    response = fetch_post(client, f"{HOST}/tables/12/call", csrf, **fields)
    assert response.status_code == 400 and field in response.get_json()["error"]["fields"]


def test_every_table_form_needs_the_csrf_token(client: FlaskClient, headers: dict[str, str], csrf: str) -> None:
    party = add_party(client, headers, party_size=2)
    for url, fields in ((f"{HOST}/tables/13/call", {"party_id": party["id"]}),
                        (f"{HOST}/tables/13/seat", {"party_id": party["id"]}),
                        (f"{HOST}/tables/13/clear", {}), (f"{HOST}/tables/13/block", {}),
                        (f"{HOST}/tables/13/unblock", {})):
        assert client.post(url, data=fields).status_code == 403
        assert client.post(url, data={**fields, "csrf_token": "forged"}).status_code == 403
    assert states(client, headers)["13"] == ("free", None)


def test_the_floor_needs_a_staff_session_of_this_restaurant(
        client: FlaskClient, restaurant: dict[str, Any], headers: dict[str, str], floor: None) -> None:
    assert client.get(f"{HOST}/floor").status_code == 401
    assert client.get(f"{HOST}/floor", headers=headers).status_code == 401  # the API key is not a session
    assert client.get(f"{HOST}/tables/12").status_code in (302, 303)  # to the sign-in page
    other = create_restaurant(client, slug="taco-stand", name="Taco Stand", sms_from="+14155550199")
    theirs = sign_in(client, other["api_key"], "taco-stand")
    assert client.get(f"{HOST}/floor").status_code == 401
    assert client.get(f"{HOST}/tables/12", headers={"X-Requested-With": "fetch"}).status_code == 401
    assert post(client, f"{HOST}/tables/12/block", theirs).status_code == 401
    assert states(client, headers)["12"] == ("free", None)


def test_a_party_of_another_restaurant_cannot_be_seated_here(
        client: FlaskClient, headers: dict[str, str], csrf: str) -> None:
    other = create_restaurant(client, slug="taco-stand", name="Taco Stand", sms_from="+14155550199")
    theirs = add_party(client, auth(other["api_key"]), slug="taco-stand", party_size=2)
    response = fetch_post(client, f"{HOST}/tables/13/seat", csrf, party_id=theirs["id"])
    assert response.status_code == 404
    assert states(client, headers)["13"] == ("free", None)


def test_party_names_are_escaped_and_an_odd_table_name_still_links(
        client: FlaskClient, headers: dict[str, str], csrf: str) -> None:
    """Table names are plain (letters, digits, space, dot, dash, underscore); party names are anything."""
    odd = "Patio 1.a"
    assert client.put(f"{BASE}/tables", json={"tables": [{"name": odd, "seats": 2}]},
                      headers=headers).status_code == 200
    party = add_party(client, headers, name="<script>alert(1)</script>", party_size=2)
    client.post(f"{BASE}/parties/{party['id']}/notify", json={"tables": [odd]}, headers=headers)
    strip = client.get(f"{HOST}/floor").text
    assert f'href="{HOST}/tables/Patio%201.a"' in strip
    panel = client.get(f"{HOST}/tables/Patio%201.a", headers={"X-Requested-With": "fetch"}).text
    for html in (strip, client.get(HOST).text, panel):
        assert "<script>alert" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert post(client, f"{HOST}/tables/Patio%201.a/seat", csrf, party_id=party["id"]).status_code == 303
    assert states(client, headers)[odd] == ("occupied", party["id"])


def test_a_join_naming_a_table_badly_is_refused(client: FlaskClient, headers: dict[str, str], csrf: str) -> None:
    party = add_party(client, headers, party_size=6)
    response = fetch_post(client, f"{HOST}/tables/12/seat", csrf, party_id=party["id"], **{"with": "<b>"})
    assert response.status_code == 400 and "with" in response.get_json()["error"]["fields"]


def test_a_clearing_table_can_be_made_ready_at_once_and_blocked(
        client: FlaskClient, headers: dict[str, str], csrf: str) -> None:
    assert client.patch(f"{BASE}/settings", json={"clearing_minutes": 5}, headers=headers).status_code == 200
    party = add_party(client, headers, party_size=2)
    client.post(f"{BASE}/parties/{party['id']}/seat", json={"tables": ["13"]}, headers=headers)
    post(client, f"{HOST}/tables/13/clear", csrf)
    panel = client.get(f"{HOST}/tables/13", headers={"X-Requested-With": "fetch"}).text
    assert "Ready now" in panel and f'action="{HOST}/tables/13/block"' in panel
    assert post(client, f"{HOST}/tables/13/clear", csrf).status_code == 303
    assert states(client, headers)["13"] == ("free", None)


def test_without_script_a_refused_action_is_a_page_saying_why(
        client: FlaskClient, headers: dict[str, str], csrf: str) -> None:
    first, second = add_party(client, headers, party_size=2), add_party(client, headers, party_size=2)
    post(client, f"{HOST}/tables/13/seat", csrf, party_id=first["id"])
    response = client.post(f"{HOST}/tables/13/seat", data={"csrf_token": csrf, "party_id": second["id"]},
                           headers={"Accept": "text/html"})
    assert response.status_code == 409 and response.mimetype == "text/html"
    assert "table 13 is held for or occupied by another party" in response.text


def test_a_table_whose_partys_record_is_gone_still_shows_its_state(
        client: FlaskClient, headers: dict[str, str], csrf: str, redis: Any) -> None:
    party = add_party(client, headers, name="Lee", party_size=4)
    client.post(f"{BASE}/parties/{party['id']}/seat", json={"tables": ["12"]}, headers=headers)
    assert strip_tables(client.get(f"{HOST}/floor").text)["12"] == "4 seats, occupied 0 min · Lee"
    redis.delete(keys.party_key("noodle-bar", party["id"]))  # expired while the table stayed occupied
    assert strip_tables(client.get(f"{HOST}/floor").text)["12"] == "4 seats, occupied 0 min"
    assert post(client, f"{HOST}/tables/12/clear", csrf).status_code == 303
    assert states(client, headers)["12"] == ("free", None)
