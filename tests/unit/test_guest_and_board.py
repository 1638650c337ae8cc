"""The guest's page (its buttons while waiting and once called) and the lobby screen's language."""
from __future__ import annotations

import re
from typing import Any

from flask.testing import FlaskClient

from tests.conftest import add_party, guest_token

BASE = "/api/v1/restaurants/noodle-bar"


def buttons(page: str) -> dict[str, str]:
    """Each button or button-like summary of the guest's status: its id (or text) and its classes."""
    found = {}
    for _tag, attrs, text in re.findall(r"<(button|summary)([^>]*)>([^<]*)<", page):
        key = (re.search(r'id="([^"]+)"', attrs) or re.search(r"(.+)", text.strip()))
        klass = re.search(r'class="([^"]*)"', attrs)
        if key:
            found[key.group(1)] = klass.group(1) if klass else ""
    return found


def test_a_waiting_guest_gets_leave_and_late_as_equal_secondary_buttons(client: FlaskClient,
                                                                        headers: dict[str, str]) -> None:
    party = add_party(client, headers)
    page = client.get(f"/s/{guest_token(party)}").text
    shown = buttons(page)
    assert "secondary" in shown["late"] and "secondary" in shown["Leave the waitlist"]
    assert "on-my-way" not in shown
    assert page.index('id="late"') < page.index("Leave the waitlist")


def test_a_called_guest_gets_on_my_way_as_the_primary_button(client: FlaskClient, headers: dict[str, str]) -> None:
    party = add_party(client, headers)
    client.post(f"{BASE}/parties/{party['id']}/notify", headers=headers)
    page = client.get(f"/s/{guest_token(party)}/status").text
    shown = buttons(page)
    assert "secondary" not in shown["on-my-way"] and "secondary" in shown["late"]
    assert page.index("table is ready") < page.index('id="on-my-way"') < page.index('id="late"')


def test_on_my_way_from_the_guest_page_flags_the_party_for_the_host(client: FlaskClient,
                                                                    headers: dict[str, str]) -> None:
    party = add_party(client, headers)
    client.post(f"{BASE}/parties/{party['id']}/notify", headers=headers)
    token = guest_token(party)
    response = client.post(f"/s/{token}/on-my-way")
    assert response.status_code == 303 and response.headers["Location"].endswith(f"/s/{token}")
    assert "on_the_way" in client.get(f"{BASE}/parties/{party['id']}", headers=headers).get_json()["flags"]
    page = client.get(f"/s/{token}").text
    assert "on the way" in page and 'id="on-my-way"' not in page


def test_on_my_way_with_an_unknown_link_is_not_found(client: FlaskClient, restaurant: dict[str, Any]) -> None:
    assert client.post("/s/not-a-real-token/on-my-way").status_code == 404


def test_a_chinese_guest_page_says_on_my_way_in_chinese(client: FlaskClient, headers: dict[str, str]) -> None:
    party = add_party(client, headers, language="zh")
    client.post(f"{BASE}/parties/{party['id']}/notify", headers=headers)
    assert "我在路上了" in client.get(f"/s/{guest_token(party)}").text


def test_the_lobby_screen_speaks_the_restaurants_language(client: FlaskClient, headers: dict[str, str]) -> None:
    called = add_party(client, headers, name="Margaret Hamilton")
    add_party(client, headers, name="Barbara Liskov")
    client.post(f"{BASE}/parties/{called['id']}/notify", headers=headers)
    english = client.get("/board/noodle-bar").text
    assert "Please come to the host stand" in english and "1–2 guests" in english and 'lang="en"' in english
    client.patch(f"{BASE}/settings", json={"language": "zh"}, headers=headers)
    for path in ("/board/noodle-bar", "/board/noodle-bar/content"):
        chinese = re.sub(r"<[^>]+>", " ", client.get(path).text)
        assert "请到前台" in chinese and "1–2 位" in chinese and "桌等候中" in chinese and "当前等候时间" in chinese
        assert "Please come" not in chinese and "guests" not in chinese and "waiting" not in chinese
    assert 'lang="zh-Hans"' in client.get("/board/noodle-bar").text
