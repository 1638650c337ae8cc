"""Join from anywhere: the join page, pending remote joins, confirmation, caps, the pause switch, QR codes."""
from __future__ import annotations

import io
import re
from typing import Any

import pytest
import zxingcpp
from flask import Flask
from flask.testing import FlaskClient
from PIL import Image

from tests.conftest import next_phone
from tests.fakes import Clock, RecordingDispatcher

BASE = "/api/v1/restaurants/noodle-bar"


def csrf(client: FlaskClient, path: str = "/join/noodle-bar") -> str:
    page = client.get(path).get_data(as_text=True)
    match = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert match, page
    return match.group(1)


def remote_on(client: FlaskClient, headers: dict[str, str], **settings: Any) -> None:
    response = client.patch(f"{BASE}/settings", json={"remote_join": True, **settings}, headers=headers)
    assert response.status_code == 200, response.get_json()


def join_form(client: FlaskClient, **overrides: Any) -> Any:
    form = {"name": "Ana Lima", "phone": next_phone(), "party_size": "3", "csrf_token": csrf(client), **overrides}
    return client.post("/join/noodle-bar", data=form)


def parties(client: FlaskClient, headers: dict[str, str]) -> list[dict[str, Any]]:
    return client.get(f"{BASE}/parties", headers=headers).get_json()["parties"]


def test_without_remote_join_the_page_says_to_join_at_the_host_stand(client: FlaskClient,
                                                                     headers: dict[str, str]) -> None:
    page = client.get("/join/noodle-bar").get_data(as_text=True)
    assert "host stand" in page and "<form" not in page


def test_the_join_page_shows_the_wait_for_each_party_size(client: FlaskClient, headers: dict[str, str]) -> None:
    remote_on(client, headers)
    page = client.get("/join/noodle-bar").get_data(as_text=True)
    assert "Party of 1" in page and "Party of 8" in page and "min" in page
    assert "加入候位" in client.get("/join/noodle-bar?lang=zh").get_data(as_text=True)


def test_a_remote_join_is_pending_until_the_guest_replies(client: FlaskClient, headers: dict[str, str],
                                                          dispatcher: RecordingDispatcher, app: Flask) -> None:
    remote_on(client, headers)
    response = join_form(client, tags=["accessible"])
    assert response.status_code == 201 and "Check your phone" in response.get_data(as_text=True)
    [party] = parties(client, headers)
    assert party["status"] == "pending" and party["position"] is None and party["remote"]
    assert party["tags"] == ["accessible"]
    assert len(dispatcher.pending) == 1
    messages = client.get(f"{BASE}/parties/{party['id']}/messages", headers=headers).get_json()["messages"]
    assert [m["kind"] for m in messages] == ["confirm_join"] and "/c/" in messages[0]["body"]
    estimate = client.get(f"{BASE}/estimate?party_size=3").get_json()
    assert estimate["parties_ahead"] == 0


def test_an_unconfirmed_remote_join_expires_quietly(client: FlaskClient, headers: dict[str, str],
                                                    dispatcher: RecordingDispatcher, app: Flask) -> None:
    remote_on(client, headers)
    join_form(client)
    [party] = parties(client, headers)
    sent_before = len(dispatcher.sent)
    assert app.extensions["waitlist"].expire_pending("noodle-bar", party["id"]) is True
    assert parties(client, headers) == []
    assert len(dispatcher.sent) == sent_before
    assert app.extensions["waitlist"].expire_pending("noodle-bar", party["id"]) is False


def test_the_confirm_link_needs_a_tap_then_puts_the_party_in_line(client: FlaskClient, headers: dict[str, str],
                                                                  app: Flask) -> None:
    remote_on(client, headers)
    join_form(client)
    [party] = parties(client, headers)
    token = party["status_url"].rsplit("/", 1)[1]
    page = client.get(f"/c/{token}")
    assert page.status_code == 200 and "Confirm" in page.get_data(as_text=True)
    assert parties(client, headers)[0]["status"] == "pending"
    confirmed = client.post(f"/c/{token}", data={"csrf_token": csrf(client, f"/c/{token}")})
    assert confirmed.status_code == 303 and confirmed.headers["Location"].endswith(f"/s/{token}")
    [party] = parties(client, headers)
    assert party["status"] == "waiting" and party["position"] == 1
    messages = client.get(f"{BASE}/parties/{party['id']}/messages", headers=headers).get_json()["messages"]
    assert [m["kind"] for m in messages] == ["confirm_join", "joined"]


def test_the_join_form_shows_errors_beside_fields_and_adds_nothing(client: FlaskClient,
                                                                   headers: dict[str, str]) -> None:
    remote_on(client, headers)
    response = join_form(client, phone="12", name="", party_size="0")
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert page.count('class="field-error"') >= 3
    assert parties(client, headers) == []


def test_a_guest_cannot_make_themselves_vip(client: FlaskClient, headers: dict[str, str]) -> None:
    remote_on(client, headers)
    assert join_form(client, tags=["vip"]).status_code == 400


def test_one_party_per_phone_and_a_daily_cap(client: FlaskClient, headers: dict[str, str], app: Flask) -> None:
    remote_on(client, headers, daily_join_cap=2)
    phone = "+14155550188"
    assert join_form(client, phone=phone).status_code == 201
    again = join_form(client, phone=phone)
    assert again.status_code == 409 and "already" in again.get_data(as_text=True)
    [party] = parties(client, headers)
    app.extensions["waitlist"].expire_pending("noodle-bar", party["id"])
    capped = join_form(client, phone=phone)
    assert capped.status_code == 429 and "too many times today" in capped.get_data(as_text=True)


def test_remote_parties_are_capped(client: FlaskClient, headers: dict[str, str]) -> None:
    remote_on(client, headers, remote_max_active=2)
    assert [join_form(client).status_code for _ in range(3)] == [201, 201, 429]
    host_add = client.post(f"{BASE}/parties", json={"name": "Walk In", "phone": next_phone(), "party_size": 2},
                           headers=headers)
    assert host_add.status_code == 201


def test_pausing_closes_remote_joins_and_the_estimate_says_so(client: FlaskClient, headers: dict[str, str]) -> None:
    remote_on(client, headers)
    token = csrf(client)
    paused = client.post(f"{BASE}/pause", json={"message": "Kitchen closes at 10"}, headers=headers)
    assert paused.status_code == 200 and paused.get_json()["paused"]
    page = client.get("/join/noodle-bar").get_data(as_text=True)
    assert "Kitchen closes at 10" in page and "<form" not in page
    estimate = client.get(f"{BASE}/estimate").get_json()
    assert estimate["open"] is False and estimate["message"] == "Kitchen closes at 10"
    refused = client.post("/join/noodle-bar", data={"name": "Ana", "phone": next_phone(), "party_size": "2",
                                                    "csrf_token": token})
    assert refused.status_code == 409
    client.post(f"{BASE}/resume", headers=headers)
    assert client.get(f"{BASE}/estimate").get_json()["open"] is True
    assert join_form(client).status_code == 201


def test_joining_hours_close_the_list_outside_them(client: FlaskClient, headers: dict[str, str],
                                                   clock: Clock) -> None:
    # The test clock reads a Monday, 14:13 UTC (the restaurant's zone is UTC).
    remote_on(client, headers, join_hours={"mon": [["17:00", "22:00"]]})
    assert client.get(f"{BASE}/estimate").get_json()["open"] is False
    clock.advance(3 * 3600)
    assert client.get(f"{BASE}/estimate").get_json()["open"] is True


@pytest.mark.parametrize("kind", ["png", "svg"])
def test_the_qr_code_decodes_back_to_the_join_url(client: FlaskClient, restaurant: dict[str, Any],
                                                  kind: str) -> None:
    response = client.get(f"/join/noodle-bar/qr.{kind}")
    assert response.status_code == 200
    if kind == "svg":
        assert response.mimetype == "image/svg+xml" and b"<svg" in response.data
        return
    image = Image.open(io.BytesIO(response.data))
    [decoded] = zxingcpp.read_barcodes(image)
    assert decoded.text == "https://wait.example.com/join/noodle-bar"


def test_a_pending_party_confirms_by_replying_one(client: FlaskClient, headers: dict[str, str],
                                                  app: Flask) -> None:
    remote_on(client, headers)
    join_form(client, phone="+14155550187")
    from waitlist.services.inbound import InboundHandler

    result = InboundHandler(app.extensions["waitlist"]).handle(to="+14155550100", from_="+14155550187", body="1",
                                                               message_sid="SMconfirm")
    assert result.outcome == "confirmed"
    assert parties(client, headers)[0]["status"] == "waiting"


def test_a_remote_party_must_check_in_before_seating_when_required(client: FlaskClient,
                                                                   headers: dict[str, str]) -> None:
    remote_on(client, headers, require_checkin=True)
    join_form(client)
    [party] = parties(client, headers)
    token = party["status_url"].rsplit("/", 1)[1]
    client.post(f"/c/{token}", data={"csrf_token": csrf(client, f"/c/{token}")})
    refused = client.post(f"{BASE}/parties/{party['id']}/seat", headers=headers)
    assert refused.status_code == 409
    checked = client.post(f"{BASE}/parties/{party['id']}/check-in", headers=headers).get_json()
    assert "checked_in" in checked["flags"]
    assert client.post(f"{BASE}/parties/{party['id']}/seat", headers=headers).status_code == 200


def test_every_manual_move_is_recorded_for_audit(client: FlaskClient, headers: dict[str, str], redis: Any) -> None:
    from tests.conftest import add_party

    first = add_party(client, headers)
    tagged = add_party(client, headers, tags=["accessible"])
    client.post(f"{BASE}/parties/{tagged['id']}/move", json={"position": 1}, headers=headers)
    moves = [f for _id, f in redis.xrange("wl:{noodle-bar}:events") if f["type"] == "move"]
    assert [(m["party"], m["from"], m["to"], m["actor"]) for m in moves] == [(tagged["id"], "2", "1", "host")]
    assert first["id"] != tagged["id"]


def test_the_host_stand_shows_remote_tags_pending_and_the_check_in_button(client: FlaskClient,
                                                                          headers: dict[str, str],
                                                                          restaurant: dict[str, Any]) -> None:
    from tests.conftest import add_party

    remote_on(client, headers)
    join_form(client, name="Remote Rita", tags=["high_chair"])
    add_party(client, headers, name="Vip Vera", tags=["vip", "accessible"])
    sign_in = client.get("/host/noodle-bar/signin").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', sign_in).group(1)  # type: ignore[union-attr]
    client.post("/host/noodle-bar/signin", data={"api_key": restaurant["api_key"], "csrf_token": token})
    page = client.get("/host/noodle-bar/list").get_data(as_text=True)
    assert "awaiting confirmation" in page and "high chair" in page
    assert "VIP" in page and "accessible" in page and ">remote<" in page
    [rita] = [p for p in parties(client, headers) if p["name"] == "Remote Rita"]
    rita_token = rita["status_url"].rsplit("/", 1)[1]
    client.post(f"/c/{rita_token}", data={"csrf_token": csrf(client, f"/c/{rita_token}")})
    assert "I&#39;m here" in client.get("/host/noodle-bar/list").get_data(as_text=True)
