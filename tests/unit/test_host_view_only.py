"""A viewer's host stand: the list and the floor, live, without the buttons the server would refuse (a
viewer may look but not act; waitlist.web.auth.read_only_page). A host's stand keeps every button."""
from __future__ import annotations

import re
from typing import Any

import pytest
from flask.testing import FlaskClient

from tests.conftest import add_party
from tests.people import person
from tests.unit.test_host_floor import BASE, FLOOR, HOST

ACTION_FORMS = ("/notify", "/seat", "/remove", "/no-show", "/quote", "/tables/12/call", "/tables/12/block", "/parties")


def actions(html: str) -> set[str]:
    """Which of ACTION_FORMS the pages hold a form for."""
    targets = re.findall(r'<form[^>]*\saction="([^"]+)"', html)
    return {ending for ending in ACTION_FORMS if any(t.endswith(ending) for t in targets)}


@pytest.fixture
def stand(client: FlaskClient, headers: dict[str, str]) -> dict[str, Any]:
    assert client.put(f"{BASE}/tables", json={"tables": FLOOR}, headers=headers).status_code == 200
    waiting = add_party(client, headers, name="Ada", party_size=2)
    called = add_party(client, headers, name="Grace", party_size=2)
    assert client.post(f"{BASE}/parties/{called['id']}/notify", headers=headers).status_code == 200
    return {"waiting": waiting, "called": called}


def pages(client: FlaskClient, stand: dict[str, Any]) -> str:
    """The stand, its list and rows as a live tablet re-reads them, and a free table's panel."""
    ids = ",".join(p["id"] for p in stand.values())
    fetch = {"X-Requested-With": "fetch"}
    return "".join(client.get(url, headers=fetch).text for url in (
        HOST, f"{HOST}/list", f"{HOST}/rows?ids={ids}", f"{HOST}/tables/12", f"{HOST}/floor"))


def test_a_viewer_sees_the_list_and_floor_without_action_buttons(
        client: FlaskClient, headers: dict[str, str], stand: dict[str, Any]) -> None:
    person(client, headers, "vi@example.com", "viewer", "Vi")
    assert client.get(HOST).status_code == 200
    html = pages(client, stand)
    assert "Ada" in html and "Grace" in html and 'data-table="12"' in html
    assert "View only" in html and 'id="add-form"' not in html
    assert actions(html) == set()
    # The server refuses the actions all the same.
    refused = client.post(f"{HOST}/parties/{stand['waiting']['id']}/notify", headers={"X-Requested-With": "fetch"})
    assert refused.status_code in (401, 403)


def test_a_host_sees_every_button(client: FlaskClient, headers: dict[str, str], stand: dict[str, Any]) -> None:
    person(client, headers, "ho@example.com", "host", "Ho")
    html = pages(client, stand)
    assert 'id="add-form"' in html and "View only" not in html
    assert actions(html) == set(ACTION_FORMS)
