"""Text people type (names, notes, a host's text, a pause message, a restaurant's name): control, format
and bidi characters are dropped, NFC applied, and a name with nothing visible left is refused in the
name's plain words, on the API, the host form, the join page and ``JOIN 4 Ana`` by text alike."""
from __future__ import annotations

from typing import Any

import pytest
from flask.testing import FlaskClient

from tests.conftest import create_restaurant, next_phone
from tests.unit.test_join import code_of, csrf, parties, remote_on
from tests.unit.test_pages import sign_in
from tests.unit.test_webhooks import config, text_in  # noqa: F401  (config: the webhooks' Twilio token)
from waitlist.domain.text import clean_line, clean_lines
from waitlist.texting.commands import parse
from waitlist.web.schemas import MESSAGES, MESSAGES_ZH

BASE = "/api/v1/restaurants/noodle-bar"
REFUSED = None

NAMES = [
    ("Ana\x00", "Ana"),
    ("\u202eanA", "anA"),
    ("A\u2066na\u2069 \u200fLima\u200e", "Ana Lima"),
    ("\ufeffAna", "Ana"),
    ("\u200b\u200c\u200d\ufeff", REFUSED),
    ("\x00\x01\x1b", REFUSED),
    ("\u0301\u0301", REFUSED),
    ("\u3164\u2800", REFUSED),
    (" \u202e ", REFUSED),
    ("Ana\nLima\tSilva", "Ana Lima Silva"),
    ("e\u0301va", "\u00e9va"),
    ("🍜 Ana", "🍜 Ana"),
    ("👨\u200d👩\u200d👧", "👨\u200d👩\u200d👧"),
    ("王小明", "王小明"),
    ("José Ñúñez", "José Ñúñez"),
]


@pytest.mark.parametrize(("typed", "kept"), NAMES)
def test_the_cleaning_rule_on_its_own(typed: str, kept: str | None) -> None:
    assert clean_line(typed) == (kept or "")


def test_notes_keep_their_line_breaks_but_nothing_invisible() -> None:
    assert clean_lines(" window seat\r\nhigh chair\u202e\x00\u200b ") == "window seat\nhigh chair"
    assert clean_lines("\u200b\r\n\u200d") == ""


@pytest.mark.parametrize(("typed", "kept"), NAMES)
def test_the_api_cleans_a_name_or_refuses_an_invisible_one(client: FlaskClient, headers: dict[str, str],
                                                           typed: str, kept: str | None) -> None:
    response = client.post(f"{BASE}/parties", json={"name": typed, "phone": next_phone(), "party_size": 2},
                           headers=headers)
    if kept is REFUSED:
        assert response.status_code == 400
        assert response.get_json()["error"]["fields"] == {"name": [MESSAGES["name"]]}
    else:
        assert response.status_code == 201, response.get_json()
        assert response.get_json()["name"] == kept


@pytest.mark.parametrize(("typed", "kept"), NAMES)
def test_the_host_form_cleans_a_name_or_refuses_an_invisible_one(client: FlaskClient, restaurant: dict[str, Any],
                                                                 headers: dict[str, str], typed: str,
                                                                 kept: str | None) -> None:
    token = sign_in(client, restaurant["api_key"])
    response = client.post("/host/noodle-bar/parties",
                           data={"name": typed, "phone": next_phone(), "party_size": "2", "csrf_token": token})
    if kept is REFUSED:
        assert response.status_code == 400
        assert MESSAGES["name"] in response.text
        assert parties(client, headers) == []
    else:
        assert response.status_code < 400, response.text
        assert [p["name"] for p in parties(client, headers)] == [kept]


@pytest.mark.parametrize(("typed", "kept"), NAMES)
def test_the_join_page_cleans_a_name_or_refuses_an_invisible_one(client: FlaskClient, headers: dict[str, str],
                                                                 typed: str, kept: str | None) -> None:
    remote_on(client, headers)
    response = client.post("/join/noodle-bar", data={"name": typed, "party_size": "2", "csrf_token": csrf(client)})
    if kept is REFUSED:
        assert response.status_code == 400
        assert MESSAGES["name"] in response.text
        assert parties(client, headers) == []
    else:
        assert response.status_code < 400, response.text
        text_in(client, f"JOIN {code_of(client, response)}")  # the guest's text joins the party
        assert [p["name"] for p in parties(client, headers)] == [kept]


def test_the_chinese_join_page_refuses_an_invisible_name_in_chinese(client: FlaskClient,
                                                                    headers: dict[str, str]) -> None:
    remote_on(client, headers)
    response = client.post("/join/noodle-bar?lang=zh", data={"name": "\u200b\u202e", "party_size": "2",
                                                              "csrf_token": csrf(client)})
    assert response.status_code == 400
    assert MESSAGES_ZH[MESSAGES["name"]] in response.text


@pytest.mark.parametrize(("typed", "kept"), NAMES)
def test_join_by_text_cleans_a_name_the_same_way(client: FlaskClient, headers: dict[str, str], typed: str,
                                                 kept: str | None) -> None:
    remote_on(client, headers)
    text_in(client, f"JOIN 4 {typed}")
    assert [p["name"] for p in parties(client, headers)] == [kept or "Guest"]


@pytest.mark.parametrize(("typed", "kept"), NAMES)
def test_the_sms_parser_keeps_the_same_name_as_the_forms(typed: str, kept: str | None) -> None:
    assert parse(f"JOIN 2 {typed}").name == kept


def test_notes_and_a_renamed_party_are_cleaned_too(client: FlaskClient, headers: dict[str, str]) -> None:
    party = client.post(f"{BASE}/parties", json={"name": "Ana", "phone": next_phone(), "party_size": 2,
                                                 "notes": "high chair\r\n\u202ewindow\x00"}, headers=headers).get_json()
    assert party["notes"] == "high chair\nwindow"
    response = client.patch(f"{BASE}/parties/{party['id']}", json={"name": "\u200b"}, headers=headers)
    assert response.status_code == 400
    assert response.get_json()["error"]["fields"] == {"name": [MESSAGES["name"]]}
    patched = client.patch(f"{BASE}/parties/{party['id']}", json={"name": "Bo\u202e", "notes": "\u200b"},
                           headers=headers).get_json()
    assert (patched["name"], patched["notes"]) == ("Bo", "")


def test_a_hosts_text_with_nothing_visible_is_refused_in_plain_words(client: FlaskClient,
                                                                     headers: dict[str, str]) -> None:
    party = client.post(f"{BASE}/parties", json={"name": "Ana", "phone": next_phone(), "party_size": 2},
                        headers=headers).get_json()
    response = client.post(f"{BASE}/parties/{party['id']}/messages", json={"body": "\u200b\u202e\x00"},
                           headers=headers)
    assert response.status_code == 400
    assert response.get_json()["error"]["fields"] == {"body": [MESSAGES["body"]]}


def test_a_restaurant_name_and_a_pause_message_are_cleaned(client: FlaskClient, headers: dict[str, str]) -> None:
    made = create_restaurant(client, slug="ramen-ya", name="Ramen\u202e Ya\x00", sms_from="+14155550101")
    assert made["name"] == "Ramen Ya"
    response = client.post(f"{BASE}/pause", json={"message": "back at 6\u202e\x00"}, headers=headers)
    assert response.status_code < 400, response.get_json()
    assert "\u202e" not in response.text and "\\u0000" not in response.text


def test_a_text_too_long_as_sent_is_refused_even_if_cleaning_would_shorten_it(client: FlaskClient,
                                                                              headers: dict[str, str]) -> None:
    response = client.post(f"{BASE}/parties", json={"name": "A" * 60 + "\u200b", "phone": next_phone(),
                                                    "party_size": 2}, headers=headers)
    assert response.get_json()["error"]["fields"] == {"name": [MESSAGES["name"]]}
    notes = "\r\n".join(["x" * 9] * 28)  # 280 with each line break counted once, as the form's counter does
    response = client.post(f"{BASE}/parties", json={"name": "Ana", "phone": next_phone(), "party_size": 2,
                                                    "notes": notes}, headers=headers)
    assert response.status_code == 201, response.get_json()
