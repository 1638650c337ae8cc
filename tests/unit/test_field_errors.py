"""A party's field errors: every field at once, in the same plain words on the host form, the join page
and the API, with the restaurant's one maximum party size."""
from __future__ import annotations

import html
import re
from typing import Any

import pytest
from flask.testing import FlaskClient

from tests.conftest import next_phone
from tests.unit.test_join import csrf, remote_on
from tests.unit.test_pages import sign_in
from waitlist.web.schemas import MESSAGES, NOTES_MAX

BASE = "/api/v1/restaurants/noodle-bar"
SIZE_6 = MESSAGES["party_size"].format(max=6)
EVERYTHING_WRONG = {"name": "", "phone": "12", "party_size": "50", "notes": "n" * (NOTES_MAX + 1)}
PLAIN = {"name": MESSAGES["name"], "phone": MESSAGES["phone"], "party_size": SIZE_6, "notes": MESSAGES["notes"]}
JOIN_PLAIN = {name: message for name, message in PLAIN.items() if name != "phone"}
"""The join page asks for no number: the guest's text brings it (waitlist.services.remote_join)."""


@pytest.fixture
def max_six(client: FlaskClient, headers: dict[str, str]) -> None:
    remote_on(client, headers, max_party_size=6)


def errors_on_page(page: str) -> dict[str, list[str]]:
    """The errors a form shows, by the field they sit beside."""
    found: dict[str, list[str]] = {}
    for label in re.findall(r'<label class="field">.*?</label>', page, re.S):
        name = re.search(r'name="([a-z_]+)"', label)
        messages = re.findall(r'class="field-error">([^<]*)<', label)
        if name and messages:
            found[name.group(1)] = [html.unescape(m) for m in messages]
    return found


def test_the_join_page_shows_every_field_error_at_once_in_plain_words(client: FlaskClient, max_six: None) -> None:
    response = client.post("/join/noodle-bar", data={**EVERYTHING_WRONG, "csrf_token": csrf(client)})
    assert response.status_code == 400
    assert errors_on_page(response.text) == {name: [message] for name, message in JOIN_PLAIN.items()}
    assert "The string supplied" not in response.text and "Not a valid" not in response.text


def test_the_api_answers_the_same_words_for_the_same_mistakes(client: FlaskClient, headers: dict[str, str],
                                                              max_six: None) -> None:
    body = {**EVERYTHING_WRONG, "party_size": 50}
    fields = client.post(f"{BASE}/parties", json=body, headers=headers).get_json()["error"]["fields"]
    assert fields == {name: [message] for name, message in PLAIN.items()}


def test_the_host_form_shows_the_same_words_for_every_field_at_once(client: FlaskClient, restaurant: dict[str, Any],
                                                                    max_six: None) -> None:
    token = sign_in(client, restaurant["api_key"])
    response = client.post("/host/noodle-bar/parties", data={**EVERYTHING_WRONG, "csrf_token": token})
    assert response.status_code == 400
    for message in PLAIN.values():
        assert html.escape(message, quote=False) in response.text


@pytest.mark.parametrize("size", ["7", "0", "100", "101", "-1", "2.5", "two", "²", "٣", ""])
def test_every_party_size_error_names_the_restaurants_one_maximum(client: FlaskClient, max_six: None,
                                                                  size: str) -> None:
    response = client.post("/join/noodle-bar", data={"name": "Ana", "party_size": size, "csrf_token": csrf(client)})
    assert response.status_code == 400
    assert errors_on_page(response.text) == {"party_size": [SIZE_6]}
    assert "100" not in errors_on_page(response.text)["party_size"][0]


@pytest.mark.parametrize("size", [7, 101, 10**12, "²", "3", True])
def test_the_api_refuses_a_size_above_the_setting_or_not_a_whole_number(client: FlaskClient, headers: dict[str, str],
                                                                        max_six: None, size: Any) -> None:
    response = client.post(f"{BASE}/parties", json={"name": "Ana", "phone": next_phone(), "party_size": size},
                           headers=headers)
    assert response.status_code == 400
    assert response.get_json()["error"]["fields"] == {"party_size": [SIZE_6]}


def test_a_non_ascii_digit_is_a_field_error_on_the_host_forms_not_a_server_error(
        client: FlaskClient, restaurant: dict[str, Any], headers: dict[str, str]) -> None:
    token = sign_in(client, restaurant["api_key"])
    added = client.post("/host/noodle-bar/parties", data={"name": "Ana", "phone": next_phone(), "party_size": "²",
                                                          "csrf_token": token})
    assert added.status_code == 400 and "must be between 1 and 20" in added.text
    party = client.post(f"{BASE}/parties", json={"name": "Bo", "phone": next_phone(), "party_size": 2},
                        headers=headers).get_json()
    edited = client.post(f"/host/noodle-bar/parties/{party['id']}/edit", data={"party_size": "²", "csrf_token": token},
                         headers={"Accept": "application/json", "X-Requested-With": "fetch", "X-CSRF-Token": token})
    assert edited.status_code == 400
    assert edited.get_json()["error"]["fields"] == {"party_size": ["must be between 1 and 20"]}


def test_no_quote_is_offered_for_a_size_the_list_refuses(client: FlaskClient, restaurant: dict[str, Any],
                                                         max_six: None) -> None:
    sign_in(client, restaurant["api_key"])
    assert client.get("/host/noodle-bar/quote?party_size=6").status_code == 200
    for size in ("7", "99", "²"):
        refused = client.get(f"/host/noodle-bar/quote?party_size={size}", headers={"Accept": "application/json"})
        assert refused.status_code == 400 and "range" not in refused.get_json()
        assert refused.get_json()["error"]["fields"] == {"party_size": [SIZE_6]}


def test_the_join_page_and_the_server_agree_on_the_note_limit(client: FlaskClient, headers: dict[str, str]) -> None:
    remote_on(client, headers)
    page = client.get("/join/noodle-bar").text
    assert f'name="notes" maxlength="{NOTES_MAX}"' in page and f"0 / {NOTES_MAX}" in page
    at_limit = client.post("/join/noodle-bar", data={"name": "Ana", "party_size": "2", "notes": "n" * NOTES_MAX,
                                                     "csrf_token": csrf(client)})
    assert at_limit.status_code == 303
    over = client.post("/join/noodle-bar", data={"name": "Ana", "party_size": "2", "notes": "n" * (NOTES_MAX + 1),
                                                 "csrf_token": csrf(client)})
    assert errors_on_page(over.text) == {"notes": [MESSAGES["notes"]]}
    assert f"{NOTES_MAX + 1} / {NOTES_MAX}" in over.text


def test_a_chinese_join_page_words_its_errors_in_chinese(client: FlaskClient, max_six: None) -> None:
    response = client.post("/join/noodle-bar?lang=zh", data={**EVERYTHING_WRONG, "language": "zh",
                                                             "csrf_token": csrf(client)})
    errors = errors_on_page(response.text)
    assert errors["party_size"] == ["人数须在1到6之间"]
    assert set(errors) == set(JOIN_PLAIN) and not any(re.search("[a-z]{3}", m[0]) for m in errors.values())
