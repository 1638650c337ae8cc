"""Message templates: placeholders, required parts, encodings and segments, unsafe formats refused,
and the next text using a saved wording (over the API, fakeredis)."""
from __future__ import annotations

from typing import Any

import pytest
from flask.testing import FlaskClient

from tests.conftest import add_party
from waitlist.texting import templates
from waitlist.texting.templates import TemplateError, compile_template, custom_text, preview, render

NAME = "The Golden Dragon Noodle House"


@pytest.mark.parametrize("body", [
    "{name.__class__}", "{name.__class__.__init__.__globals__}", "{name[0]}", "{0}", "{}", "{name!r}",
    "{name:>999999}", "{link.__len__}",
])
def test_format_string_tricks_are_refused_not_evaluated(body: str) -> None:
    with pytest.raises(TemplateError, match="is not a placeholder"):
        compile_template("left", body)


@pytest.mark.parametrize(("body", "words"), [
    ("Hi {name", "without its pair"),
    ("Hi name}", "without its pair"),
    ("{wait} left", "not known for this text"),
    ("{nickname}", "is not a placeholder"),
    ("   ", "enter a text"),
    ("x" * 481, "at most 480"),
])
def test_broken_templates_are_refused_in_plain_words(body: str, words: str) -> None:
    with pytest.raises(TemplateError, match=words):
        compile_template("left", body)


def test_the_joined_text_cannot_lose_the_guest_link() -> None:
    with pytest.raises(TemplateError, match=r"must keep \{link\}"):
        compile_template("joined", "{restaurant}: you're #{place}, about {wait} min.")


def test_placeholders_are_filled_and_braces_escaped() -> None:
    parts = compile_template("joined", "{{Hi}} {name}, #{place} ~{wait}m {link} ({restaurant})")
    assert render(parts, {"name": "Ana", "place": "3", "wait": "10-15", "link": "https://x/s/t",
                          "restaurant": "Noodle"}) == "{Hi} Ana, #3 ~10-15m https://x/s/t (Noodle)"


def test_a_placeholder_without_a_value_now_gives_the_builtin_text() -> None:
    stored = templates.stored_text({"en": {"late_ack": "Held until {hold_until}."}})
    assert custom_text(stored, "en", "late_ack", {"hold_until": None}) is None
    assert custom_text(stored, "en", "late_ack", {"hold_until": "21:40"}) == "Held until 21:40."
    assert custom_text(stored, "zh", "late_ack", {"hold_until": "21:40"}) is None
    assert custom_text("", "en", "late_ack", {"hold_until": "21:40"}) is None


def test_the_first_text_always_says_how_to_opt_out() -> None:
    shown = preview("joined", "en", "{restaurant}: #{place}, {link}", NAME)
    assert shown.first_text is not None and shown.first_text.endswith("STOP to opt out.")
    assert "STOP" not in shown.text
    zh = preview("joined", "zh", "{restaurant}：第{place}位 {link}", NAME)
    assert zh.first_text is not None and zh.first_text.endswith("STOP退订。")


def test_preview_counts_gsm7_segments_with_long_values() -> None:
    shown = preview("left", "en", "{restaurant}: bye {name}!", NAME)
    assert shown.encoding == "GSM-7" and shown.segments == 1 and shown.warnings == []
    long = preview("left", "en", "{restaurant}: " + "x" * 200, NAME)
    assert long.encoding == "GSM-7" and long.segments == 2  # 232 characters: 153 per segment
    assert any("2 segments" in w for w in long.warnings)


def test_preview_counts_chinese_as_ucs2() -> None:
    shown = preview("left", "zh", "{restaurant}：您已离开候位名单，期待下次光临！", "金龙面馆")
    assert shown.encoding == "UCS-2" and shown.characters == 4 + 1 + 16 and shown.segments == 1
    long = preview("left", "zh", "{restaurant}：" + "好" * 70, "金龙面馆")
    assert long.encoding == "UCS-2" and long.segments == 2  # 75 units: 67 per segment


def test_a_curly_quote_in_english_is_flagged_as_ucs2() -> None:
    shown = preview("left", "en", "{restaurant}: you’ve left", NAME)
    assert shown.encoding == "UCS-2"
    assert any("UCS-2" in w and "’" in w for w in shown.warnings)


def test_carrier_filters_are_warned_about() -> None:
    shown = preview("left", "en", "{restaurant}: FREE drinks, see bit.ly/abc", NAME)
    assert any("bit.ly" in w for w in shown.warnings)
    assert any("'free'" in w for w in shown.warnings)
    assert not preview("left", "en", "{restaurant}: freedom", NAME).warnings  # whole words only


def test_every_builtin_text_is_a_valid_template_of_itself() -> None:
    for kind in templates.FIELDS:
        for language in templates.LANGUAGES:
            compile_template(kind, templates.builtin_template(kind, language))


# --- over the API: the next text uses the saved wording ---------------------------------------------

def _messages(client: FlaskClient, headers: dict[str, str], party: dict[str, Any]) -> list[dict[str, Any]]:
    response = client.get(f"/api/v1/restaurants/noodle-bar/parties/{party['id']}/messages", headers=headers)
    assert response.status_code == 200
    return list(response.get_json()["messages"])


def test_a_saved_template_words_the_next_texts(client: FlaskClient, headers: dict[str, str]) -> None:
    response = client.put("/api/v1/restaurants/noodle-bar/templates/en/table_ready", headers=headers,
                          json={"body": "{name}, table's ready at {restaurant}! Held {hold_minutes} min, till "
                                        "{hold_until}."})
    assert response.status_code == 200, response.get_json()
    client.patch("/api/v1/restaurants/noodle-bar/settings", json={"hold_minutes": 7}, headers=headers)
    party = add_party(client, headers, name="Mei")
    assert client.post(f"/api/v1/restaurants/noodle-bar/parties/{party['id']}/notify",
                       headers=headers).status_code == 200
    bodies = [m["body"] for m in _messages(client, headers, party)]
    assert any(b.startswith("Mei, table's ready at Noodle Bar! Held 7 min, till ") for b in bodies), bodies
    assert any(b.startswith("Noodle Bar: You're #1") for b in bodies)  # joined: still the built-in text


def test_a_joined_template_keeps_the_opt_out_on_the_first_text(client: FlaskClient, headers: dict[str, str]) -> None:
    client.put("/api/v1/restaurants/noodle-bar/templates/en/joined", headers=headers,
               json={"body": "Hi {name}, you're number {place} at {restaurant} (~{wait} min): {link}"})
    party = add_party(client, headers, name="Ana")
    body = _messages(client, headers, party)[0]["body"]
    assert body.startswith("Hi Ana, you're number 1 at Noodle Bar (~") and body.endswith("STOP to opt out.")
    assert party["status_url"] in body


def test_refused_templates_answer_400_naming_the_reason(client: FlaskClient, headers: dict[str, str]) -> None:
    response = client.put("/api/v1/restaurants/noodle-bar/templates/en/joined", headers=headers,
                          json={"body": "You're #{place}."})
    assert response.status_code == 400
    assert "{link}" in response.get_json()["error"]["fields"]["body"][0]
    response = client.put("/api/v1/restaurants/noodle-bar/templates/en/left", headers=headers,
                          json={"body": "{name.__class__}"})
    assert response.status_code == 400 and "not a placeholder" in response.get_json()["error"]["message"]


def test_resetting_a_template_brings_back_the_builtin_text(client: FlaskClient, headers: dict[str, str]) -> None:
    client.put("/api/v1/restaurants/noodle-bar/templates/en/left", headers=headers, json={"body": "Bye {name}"})
    assert client.delete("/api/v1/restaurants/noodle-bar/templates/en/left", headers=headers).status_code == 204
    listed = client.get("/api/v1/restaurants/noodle-bar/templates?language=en", headers=headers).get_json()
    assert next(t for t in listed["texts"] if t["kind"] == "left")["custom"] is None


def test_templates_need_the_staff_key_and_stay_in_their_restaurant(client: FlaskClient,
                                                                   headers: dict[str, str]) -> None:
    assert client.get("/api/v1/restaurants/noodle-bar/templates").status_code == 401
    from tests.conftest import auth, create_restaurant

    other = create_restaurant(client, slug="other-place", sms_from="+14155550199")
    response = client.put("/api/v1/restaurants/noodle-bar/templates/en/left", headers=auth(other["api_key"]),
                          json={"body": "hi"})
    assert response.status_code == 403


def test_a_worded_text_costs_the_add_no_redis_command_more(client: FlaskClient, headers: dict[str, str],
                                                           redis: Any) -> None:
    """Templates ride in the restaurant hash the add already reads: the same commands with or without."""
    sent: list[str] = []
    original = redis.execute_command

    def counting(*args: Any, **kwargs: Any) -> Any:
        sent.append(str(args[0]))
        return original(*args, **kwargs)

    add_party(client, headers)  # scripts loaded, the restaurant's link code claimed
    redis.execute_command = counting
    add_party(client, headers)
    plain = list(sent)
    client.put("/api/v1/restaurants/noodle-bar/templates/en/joined", headers=headers,
               json={"body": "{name}: #{place} at {restaurant}, {link}"})
    sent.clear()
    party = add_party(client, headers, name="Worded")
    assert sent == plain and plain
    assert _messages(client, headers, party)[0]["body"].startswith("Worded: #3 at Noodle Bar, https://")
