"""The managers' settings screen: plain forms checked by the API's schemas, errors beside their fields
in plain words, saved values used by the next text, texts reworded with a preview, webhooks added."""
from __future__ import annotations

import re
from typing import Any

import pytest
from flask.testing import FlaskClient

from tests.conftest import add_party, make_config

SLUG = "noodle-bar"
PAGE = f"/host/{SLUG}/settings"
FORM = {"hold_minutes": "10", "almost_ready_position": "2", "max_party_size": "20", "language": "en",
        "remote_max_active": "20", "daily_join_cap": "3", "feedback_delay_minutes": "60", "retention_days": "30",
        "clearing_minutes": "0", "tables": "", "pause_message": "",
        **{f"hours_{d}": "" for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}}


def csrf(client: FlaskClient) -> str:
    with client.session_transaction() as session:
        return str(session["csrf"])


@pytest.fixture
def manager(client: FlaskClient, restaurant: dict[str, Any]) -> FlaskClient:
    """A client signed in with the restaurant's key (its staff session is a manager's)."""
    client.get(f"/host/{SLUG}/signin")
    response = client.post(f"/host/{SLUG}/signin", data={"api_key": restaurant["api_key"], "csrf_token": csrf(client)})
    assert response.status_code == 303
    client.get(PAGE)
    return client


def post(client: FlaskClient, path: str, data: dict[str, Any]) -> Any:
    return client.post(path, data={**data, "csrf_token": csrf(client)})


def settings(client: FlaskClient, headers: dict[str, str]) -> dict[str, Any]:
    return dict(client.get(f"/api/v1/restaurants/{SLUG}/settings", headers=headers).get_json())


def error_beside(html: str, field: str) -> str:
    found = re.search(rf'<p class="field-error" id="{field}-error">([^<]*)</p>', html)
    assert found, f"no error beside {field}"
    return found.group(1)


def test_the_screen_needs_a_signed_in_manager(client: FlaskClient, restaurant: dict[str, Any]) -> None:
    response = client.get(PAGE)
    assert response.status_code == 303 and response.headers["Location"].endswith(f"/host/{SLUG}/signin")
    assert client.post(PAGE, data=FORM).status_code in (401, 403)


def test_every_setting_is_on_the_screen_without_script(manager: FlaskClient) -> None:
    html = manager.get(PAGE).get_data(as_text=True)
    for name in ("hold_minutes", "almost_ready_position", "max_party_size", "remote_join", "remote_max_active",
                 "daily_join_cap", "require_checkin", "hours_mon", "paused", "pause_message", "language", "feedback",
                 "feedback_delay_minutes", "retention_days", "tables", "joins", "clearing_minutes"):
        assert f'name="{name}"' in html, name
    assert 'id="texts"' in html and 'id="webhooks"' in html and "no-store" in manager.get(PAGE).headers["Cache-Control"]


@pytest.mark.parametrize(("field", "typed", "words"), [
    ("hold_minutes", "abc", "enter a number"),
    ("hold_minutes", "999", "enter a number from 0.05 to 240"),
    ("max_party_size", "2.5", "enter a whole number"),
    ("retention_days", "0", "enter a number from 1 to 3650"),
    ("hours_mon", "11-14", "HH:MM, 24-hour"),
    ("joins", "2+4=6", "tables of one size"),
    ("joins", "2 and 2", "like 4+4=8"),
])
def test_a_refused_value_is_shown_beside_its_field_in_plain_words_and_nothing_is_saved(
        manager: FlaskClient, headers: dict[str, str], field: str, typed: str, words: str) -> None:
    response = post(manager, PAGE, {**FORM, "hold_minutes": "12", field: typed})
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    name = "join_hours" if field.startswith("hours_") else field
    assert words in error_beside(html, name)
    assert f'value="{typed}"' in html  # what was typed stays in the field
    assert settings(manager, headers)["hold_minutes"] == 10


def test_tables_and_their_joins_are_saved_from_the_screen_and_shown_again(manager: FlaskClient,
                                                                          headers: dict[str, str]) -> None:
    response = post(manager, PAGE, {**FORM, "tables": "2:4, 4:6", "joins": "4+4=8, 4+4+4=12"})
    assert response.status_code == 303
    saved = settings(manager, headers)
    assert saved["tables"] == {"2": 4, "4": 6} and saved["joins"] == ["4+4=8", "4+4+4=12"]
    assert 'value="4+4=8, 4+4+4=12"' in manager.get(PAGE).get_data(as_text=True)
    assert post(manager, PAGE, {**FORM, "tables": "2:4, 4:6", "joins": ""}).status_code == 303
    assert settings(manager, headers)["joins"] is None


def test_saved_settings_are_used_by_the_next_text(manager: FlaskClient, headers: dict[str, str]) -> None:
    response = post(manager, PAGE, {**FORM, "hold_minutes": "7", "remote_join": "1", "tables": "2:4, 4:6",
                                    "hours_sat": "11:30-14:00 17:00-22:00", "paused": "1",
                                    "pause_message": "Back at 5"})
    assert response.status_code == 303
    saved = settings(manager, headers)
    assert saved["hold_minutes"] == 7 and saved["remote_join"] is True and saved["tables"] == {"2": 4, "4": 6}
    assert saved["join_hours"] == {"sat": [["11:30", "14:00"], ["17:00", "22:00"]]}
    assert saved["paused"] is True and saved["pause_message"] == "Back at 5"
    party = add_party(manager, headers)
    manager.post(f"/api/v1/restaurants/{SLUG}/parties/{party['id']}/notify", headers=headers)
    texts = manager.get(f"/api/v1/restaurants/{SLUG}/parties/{party['id']}/messages", headers=headers).get_json()
    assert any("hold it 7 min" in m["body"] for m in texts["messages"])
    assert 'value="2:4, 4:6"' in manager.get(PAGE).get_data(as_text=True)
    assert post(manager, PAGE, FORM).status_code == 303
    assert settings(manager, headers)["paused"] is False  # unticked: resumed


def test_a_template_is_previewed_then_saved_and_words_the_next_text(manager: FlaskClient,
                                                                    headers: dict[str, str]) -> None:
    path = f"{PAGE}/templates/en/table_ready"
    body = "{name}, your table at {restaurant} is ready! Held {hold_minutes} min."
    preview = post(manager, path, {"body": body, "action": "preview"})
    html = preview.get_data(as_text=True)
    assert preview.status_code == 200 and "Bartholomew Alexander Jones Jr, your table at Noodle Bar" in html
    assert "GSM-7" in html and "1 segment" in html
    assert post(manager, path, {"body": body, "action": "save"}).status_code == 303
    party = add_party(manager, headers, name="Mei")
    manager.post(f"/api/v1/restaurants/{SLUG}/parties/{party['id']}/notify", headers=headers)
    texts = manager.get(f"/api/v1/restaurants/{SLUG}/parties/{party['id']}/messages", headers=headers).get_json()
    assert texts["messages"][-1]["body"] == "Mei, your table at Noodle Bar is ready! Held 10 min."
    assert post(manager, path, {"action": "reset"}).status_code == 303
    assert "(your wording)" not in manager.get(PAGE).get_data(as_text=True)


def test_a_template_that_breaks_a_rule_is_refused_on_the_screen(manager: FlaskClient) -> None:
    response = post(manager, f"{PAGE}/templates/en/joined", {"body": "You're #{place} {name.__class__}",
                                                             "action": "save"})
    assert response.status_code == 400
    assert "is not a placeholder" in response.get_data(as_text=True)
    response = post(manager, f"{PAGE}/templates/en/joined", {"body": "You're #{place}", "action": "save"})
    assert "must keep {link}" in response.get_data(as_text=True)


def test_the_live_preview_answers_json_for_the_session(manager: FlaskClient) -> None:
    response = manager.post(f"{PAGE}/preview", json={"language": "zh", "kind": "left", "body": "{restaurant}：再见"},
                            headers={"X-CSRF-Token": csrf(manager)})
    assert response.status_code == 200
    assert response.get_json()["encoding"] == "UCS-2" and response.get_json()["text"] == "Noodle Bar：再见"


def test_a_form_without_its_csrf_token_is_refused(manager: FlaskClient) -> None:
    assert manager.post(PAGE, data=FORM).status_code == 403


@pytest.fixture
def config() -> Any:
    return make_config(webhooks_allow_private=False)


def test_a_private_webhook_address_is_refused_beside_the_field_and_a_public_one_shows_its_secret(
        manager: FlaskClient, app: Any) -> None:
    response = post(manager, f"{PAGE}/webhooks", {"url": "https://192.168.1.5/hook", "events": ["party.seated"]})
    assert response.status_code == 400 and "private or local" in error_beside(response.get_data(as_text=True),
                                                                               "hook_url")
    app.extensions["webhooks"].resolver = lambda host: ["93.184.215.14"]
    response = post(manager, f"{PAGE}/webhooks", {"url": "https://hooks.example.com/w", "events": ["party.seated"]})
    assert response.status_code == 200 and 'id="new-secret">whsec_' in response.get_data(as_text=True)
    cookie = manager.get_cookie("session")
    assert cookie is not None and "whsec_" not in cookie.value  # never in the (readable) session cookie
    html = manager.get(PAGE).get_data(as_text=True)
    assert "https://hooks.example.com/w" in html and "whsec_" not in html  # the secret, shown that once


def test_named_tables_are_edited_one_a_line_and_refused_beside_the_field(manager: FlaskClient,
                                                                          headers: dict[str, str]) -> None:
    response = post(manager, f"{PAGE}/floor", {"floor": "T1 | 2\nPatio 2 | 4 | 2 | outdoor | Patio 3\n"
                                                         "Patio 3 | 4 | 2 | outdoor | Patio 2"})
    assert response.status_code == 303
    floor = manager.get(f"/api/v1/restaurants/{SLUG}/tables", headers=headers).get_json()["tables"]
    assert [(t["name"], t["seats"], t["section"], t["joins_with"]) for t in floor] == [
        ("T1", 2, "any", []), ("Patio 2", 4, "outdoor", ["Patio 3"]), ("Patio 3", 4, "outdoor", ["Patio 2"])]
    assert "Patio 2 | 4 | 2 | outdoor | Patio 3" in manager.get(PAGE).get_data(as_text=True)
    response = post(manager, f"{PAGE}/floor", {"floor": "T1 | two"})
    assert response.status_code == 400 and error_beside(response.get_data(as_text=True), "floor")
    assert len(manager.get(f"/api/v1/restaurants/{SLUG}/tables", headers=headers).get_json()["tables"]) == 3


def test_the_screen_links_to_people_and_api_keys(manager: FlaskClient) -> None:
    assert f'href="/people/{SLUG}"' in manager.get(PAGE).get_data(as_text=True)


@pytest.mark.parametrize(("scope", "status"), [("read", 403), ("host", 403), ("admin", 200)])
def test_templates_and_webhooks_need_a_manager_key(client: FlaskClient, headers: dict[str, str], scope: str,
                                                   status: int) -> None:
    made = client.post(f"/api/v1/restaurants/{SLUG}/keys", json={"name": f"pos {scope}", "scope": scope},
                       headers=headers)
    assert made.status_code == 201, made.get_json()
    key = {"Authorization": f"Bearer {made.get_json()['api_key']}"}
    assert client.get(f"/api/v1/restaurants/{SLUG}/templates", headers=key).status_code == status
    assert client.get(f"/api/v1/restaurants/{SLUG}/webhooks", headers=key).status_code == status
