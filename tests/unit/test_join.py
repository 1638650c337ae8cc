"""Join from anywhere: the join page, its codes texted back, pending joins from before codes, caps, the pause
switch, QR codes. (tests/unit/test_join_codes.py: the codes themselves, their caps and wrong codes.)"""
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
    """The join page's form sent: a 303 to the code page when a code was given."""
    form = {"name": "Ana Lima", "party_size": "3", "csrf_token": csrf(client), **overrides}
    return client.post("/join/noodle-bar", data=form)


def code_of(client: FlaskClient, response: Any) -> str:
    """The code the code page (where ``response`` leads) shows."""
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    match = re.search(r'id="join-code"[^>]*>([A-Z0-9]+)<', page)
    assert match, page
    return match.group(1)


def text_in(app: Flask, phone: str, body: str, sid: str | None = None) -> Any:
    """A guest's text arriving at the restaurant's number (as the signed webhook hands it on)."""
    from waitlist.services.inbound import InboundHandler

    return InboundHandler(app.extensions["waitlist"]).handle(to="+14155550100", from_=phone, body=body,
                                                             message_sid=sid or f"SM{next_phone()[2:]}")


def join_by_code(client: FlaskClient, app: Flask, phone: str | None = None, **overrides: Any) -> Any:
    """The whole remote join: the form, then the guest texts the code from ``phone``."""
    response = join_form(client, **overrides)
    assert response.status_code == 303, response.get_data(as_text=True)
    return text_in(app, phone or next_phone(), f"JOIN {code_of(client, response)}")


def pending_join(app: Flask, name: str = "Ana Lima", phone: str = "+14155550187", **fields: Any) -> Any:
    """A remote join pending confirmation, as the join page made them before join codes (the store still
    knows them until they lapse)."""
    from waitlist.domain.model import Party
    from waitlist.services.waitlist import new_id, new_token

    waitlist = app.extensions["waitlist"]
    restaurant = waitlist.restaurant("noodle-bar")
    party = Party(id=new_id(), restaurant="noodle-bar", name=name, phone=phone, party_size=2,
                  token=new_token(waitlist._ensure_code(restaurant)), joined_at=waitlist.clock(), remote=True,
                  **fields)
    waitlist.store.join("noodle-bar", party, now=waitlist.clock(), actor="guest", almost_ready_position=2,
                        pending_until=waitlist.clock() + 300, remote_max_active=20)
    return party


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


def test_a_remote_join_waits_for_the_guests_text_and_texts_nobody_before(
        client: FlaskClient, headers: dict[str, str], dispatcher: RecordingDispatcher, app: Flask) -> None:
    remote_on(client, headers)
    response = join_form(client, tags=["accessible"])
    assert response.status_code == 303 and "/join/noodle-bar/code/" in response.headers["Location"]
    assert parties(client, headers) == [] and dispatcher.sent == []
    code = code_of(client, response)
    assert text_in(app, "+14155550187", f"JOIN {code}").outcome == "joined"
    [party] = parties(client, headers)
    assert party["status"] == "waiting" and party["position"] == 1 and party["remote"]
    assert party["phone"] == "+14155550187" and party["tags"] == ["accessible"] and party["name"] == "Ana Lima"
    messages = client.get(f"{BASE}/parties/{party['id']}/messages", headers=headers).get_json()["messages"]
    assert [m["kind"] for m in messages] == ["joined"]


def test_a_pending_join_from_before_codes_expires_quietly(client: FlaskClient, headers: dict[str, str],
                                                          dispatcher: RecordingDispatcher, app: Flask) -> None:
    remote_on(client, headers)
    party = pending_join(app)
    assert [p["status"] for p in parties(client, headers)] == ["pending"]
    assert app.extensions["waitlist"].expire_pending("noodle-bar", party.id) is True
    assert parties(client, headers) == [] and dispatcher.sent == []
    assert app.extensions["waitlist"].expire_pending("noodle-bar", party.id) is False


def test_the_confirm_link_of_a_pending_join_needs_a_tap_then_puts_the_party_in_line(
        client: FlaskClient, headers: dict[str, str], app: Flask) -> None:
    remote_on(client, headers)
    token = pending_join(app).token
    page = client.get(f"/c/{token}")
    assert page.status_code == 200 and "Confirm" in page.get_data(as_text=True)
    assert parties(client, headers)[0]["status"] == "pending"
    confirmed = client.post(f"/c/{token}", data={"csrf_token": csrf(client, f"/c/{token}")})
    assert confirmed.status_code == 303 and confirmed.headers["Location"].endswith(f"/s/{token}")
    [party] = parties(client, headers)
    assert party["status"] == "waiting" and party["position"] == 1
    messages = client.get(f"{BASE}/parties/{party['id']}/messages", headers=headers).get_json()["messages"]
    assert [m["kind"] for m in messages] == ["joined"]


def test_the_join_form_shows_errors_beside_fields_and_adds_nothing(client: FlaskClient,
                                                                   headers: dict[str, str]) -> None:
    remote_on(client, headers)
    response = join_form(client, name="", party_size="0")
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert page.count('class="field-error"') >= 2
    assert parties(client, headers) == []


def test_a_guest_cannot_make_themselves_vip(client: FlaskClient, headers: dict[str, str]) -> None:
    remote_on(client, headers)
    assert join_form(client, tags=["vip"]).status_code == 400


def test_one_party_per_phone_and_a_daily_cap_of_joins_made(client: FlaskClient, headers: dict[str, str],
                                                             app: Flask) -> None:
    remote_on(client, headers, daily_join_cap=2)
    phone = "+14155550188"
    assert join_by_code(client, app, phone).outcome == "joined"
    assert join_by_code(client, app, phone).outcome == "join"  # on the list already: its status is the reply
    assert len(parties(client, headers)) == 1
    client.post(f"{BASE}/parties/{parties(client, headers)[0]['id']}/cancel", headers=headers)
    assert text_in(app, phone, "JOIN 2 Ana").outcome == "joined"
    client.post(f"{BASE}/parties/{parties(client, headers)[0]['id']}/cancel", headers=headers)
    assert join_by_code(client, app, phone).outcome == "join_refused"
    assert parties(client, headers) == []


def test_remote_parties_are_capped_and_codes_do_not_count(client: FlaskClient, headers: dict[str, str],
                                                          app: Flask) -> None:
    remote_on(client, headers, remote_max_active=2)
    codes = [code_of(client, join_form(client)) for _ in range(3)]
    assert [text_in(app, next_phone(), f"JOIN {code}").outcome for code in codes] == ["joined", "joined",
                                                                                      "join_refused"]
    assert join_form(client).status_code == 429
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
    refused = client.post("/join/noodle-bar", data={"name": "Ana", "party_size": "2", "csrf_token": token})
    assert refused.status_code == 409
    client.post(f"{BASE}/resume", headers=headers)
    assert client.get(f"{BASE}/estimate").get_json()["open"] is True
    assert join_form(client).status_code == 303


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


def test_a_pending_party_from_before_codes_confirms_by_replying_one(client: FlaskClient, headers: dict[str, str],
                                                                    app: Flask) -> None:
    remote_on(client, headers)
    pending_join(app, phone="+14155550187")
    assert text_in(app, "+14155550187", "1", "SMconfirm").outcome == "confirmed"
    assert parties(client, headers)[0]["status"] == "waiting"


def test_a_remote_party_must_check_in_before_seating_when_required(client: FlaskClient, headers: dict[str, str],
                                                                   app: Flask) -> None:
    remote_on(client, headers, require_checkin=True)
    join_by_code(client, app)
    [party] = parties(client, headers)
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
                                                                          restaurant: dict[str, Any],
                                                                          app: Flask) -> None:
    from tests.conftest import add_party

    remote_on(client, headers)
    pending_join(app, name="Pending Pat", tags=["high_chair"])
    join_by_code(client, app, name="Remote Rita", tags=["accessible"])
    add_party(client, headers, name="Vip Vera", tags=["vip", "accessible"])
    sign_in = client.get("/host/noodle-bar/signin").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', sign_in).group(1)  # type: ignore[union-attr]
    client.post("/host/noodle-bar/signin", data={"api_key": restaurant["api_key"], "csrf_token": token})
    page = client.get("/host/noodle-bar/list").get_data(as_text=True)
    assert "awaiting confirmation" in page and "high chair" in page
    assert "VIP" in page and "accessible" in page and ">remote<" in page
    assert "I&#39;m here" in page
