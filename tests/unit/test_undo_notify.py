"""Undo of a notify (issue 25): within the undo window and before the guest answered, a notified party
waits again at its old place, its hold timer no longer applies, and the guest is told."""
from __future__ import annotations

from typing import Any

from flask import Flask
from flask.testing import FlaskClient

from tests.conftest import add_party, guest_token
from tests.fakes import Clock, RecordingDispatcher

BASE = "/api/v1/restaurants/noodle-bar/parties"


def act(client: FlaskClient, headers: dict[str, str], party_id: str, action: str) -> Any:
    return client.post(f"{BASE}/{party_id}/{action}", headers=headers)


def kinds(client: FlaskClient, headers: dict[str, str], party_id: str) -> list[str]:
    messages = client.get(f"{BASE}/{party_id}/messages", headers=headers).get_json()["messages"]
    return [m["kind"] for m in messages]


def test_an_undone_notify_puts_the_party_back_at_its_place_with_no_hold(client: FlaskClient,
                                                                        headers: dict[str, str]) -> None:
    first, second, third = (add_party(client, headers) for _ in range(3))
    assert act(client, headers, second["id"], "notify").get_json()["status"] == "notified"
    undone = act(client, headers, second["id"], "undo")
    assert undone.status_code == 200
    party = undone.get_json()
    assert party["status"] == "waiting" and party["position"] == 2
    assert party["notify_count"] == 0 and party["notified_at"] is None and party["hold_until"] is None
    parties = client.get(BASE, headers=headers).get_json()["parties"]
    assert [p["id"] for p in parties] == [first["id"], second["id"], third["id"]]


def test_the_guest_is_told_their_table_is_not_ready_yet_and_keeps_their_place(
        client: FlaskClient, headers: dict[str, str], app: Flask) -> None:
    add_party(client, headers)
    party = add_party(client, headers, language="zh")
    act(client, headers, party["id"], "notify")
    act(client, headers, party["id"], "undo")
    assert kinds(client, headers, party["id"]) == ["joined", "table_ready", "notify_undone"]
    last = client.get(f"{BASE}/{party['id']}/messages", headers=headers).get_json()["messages"][-1]
    assert "第2位" in last["body"]


def test_the_hold_timer_of_an_undone_notify_does_nothing(client: FlaskClient, headers: dict[str, str],
                                                         app: Flask, dispatcher: RecordingDispatcher,
                                                         clock: Clock) -> None:
    party = add_party(client, headers)
    act(client, headers, party["id"], "notify")
    slug, party_id, version, _at = dispatcher.holds[-1]
    act(client, headers, party["id"], "undo")
    clock.advance(600)
    waitlist = app.extensions["waitlist"]
    assert waitlist.expire_hold(slug, party_id, version) is False
    assert client.get(f"{BASE}/{party_id}", headers=headers).get_json()["status"] == "waiting"
    # Notified again, the new timer still works (the old version stays stale).
    act(client, headers, party_id, "notify")
    new_version = dispatcher.holds[-1][2]
    assert new_version != version
    assert waitlist.expire_hold(slug, party_id, version) is False
    assert waitlist.expire_hold(slug, party_id, new_version) is True


def test_a_notify_cannot_be_undone_after_the_window(client: FlaskClient, headers: dict[str, str],
                                                    clock: Clock) -> None:
    party = add_party(client, headers)
    act(client, headers, party["id"], "notify")
    clock.advance(61)
    refused = act(client, headers, party["id"], "undo")
    assert refused.status_code == 409 and refused.get_json()["error"]["current_status"] == "notified"


def test_a_re_notify_does_not_restart_the_window(client: FlaskClient, headers: dict[str, str],
                                                 clock: Clock) -> None:
    party = add_party(client, headers)
    act(client, headers, party["id"], "notify")
    clock.advance(45)
    act(client, headers, party["id"], "notify")
    clock.advance(30)
    assert act(client, headers, party["id"], "undo").status_code == 409


def test_a_re_notify_within_the_window_is_taken_back_with_the_first(client: FlaskClient,
                                                                    headers: dict[str, str], clock: Clock) -> None:
    party = add_party(client, headers)
    act(client, headers, party["id"], "notify")
    clock.advance(10)
    act(client, headers, party["id"], "notify")
    body = act(client, headers, party["id"], "undo").get_json()
    assert body["status"] == "waiting" and body["notify_count"] == 0 and body["position"] == 1


def test_a_notify_cannot_be_undone_once_the_guest_said_they_are_on_the_way(
        client: FlaskClient, headers: dict[str, str], app: Flask, clock: Clock) -> None:
    party = add_party(client, headers)
    act(client, headers, party["id"], "notify")
    clock.advance(5)
    waitlist = app.extensions["waitlist"]
    waitlist.on_the_way(waitlist.restaurant("noodle-bar"), party["id"])
    refused = act(client, headers, party["id"], "undo")
    assert refused.status_code == 409 and "answered" in refused.get_json()["error"]["message"]


def test_a_notify_cannot_be_undone_once_the_guest_is_running_late_from_their_page(
        client: FlaskClient, headers: dict[str, str], clock: Clock) -> None:
    party = add_party(client, headers)
    act(client, headers, party["id"], "notify")
    clock.advance(5)
    client.post(f"/s/{guest_token(party)}/late")
    assert client.get(f"{BASE}/{party['id']}", headers=headers).get_json()["flags"] == ["running_late"]
    assert act(client, headers, party["id"], "undo").status_code == 409


def test_a_notify_cannot_be_undone_once_the_guest_texted_anything(client: FlaskClient, headers: dict[str, str],
                                                                  app: Flask, clock: Clock) -> None:
    party = add_party(client, headers)
    act(client, headers, party["id"], "notify")
    clock.advance(5)
    app.extensions["waitlist"].messages.add("noodle-bar", {
        "id": "in1", "party": party["id"], "kind": "inbound", "direction": "in", "body": "status?",
        "created_at": repr(clock()), "updated_at": repr(clock())})
    assert act(client, headers, party["id"], "undo").status_code == 409


def test_running_late_before_the_notify_does_not_stop_its_undo(client: FlaskClient, headers: dict[str, str],
                                                               app: Flask, clock: Clock) -> None:
    party = add_party(client, headers)
    waitlist = app.extensions["waitlist"]
    waitlist.running_late(waitlist.restaurant("noodle-bar"), party["id"], 10)
    app.extensions["waitlist"].messages.add("noodle-bar", {
        "id": "in0", "party": party["id"], "kind": "inbound", "direction": "in", "body": "late",
        "created_at": repr(clock()), "updated_at": repr(clock())})
    clock.advance(5)
    act(client, headers, party["id"], "notify")
    assert act(client, headers, party["id"], "undo").get_json()["status"] == "waiting"


def test_a_seat_undone_then_the_notify_undone_puts_the_party_back_in_line(client: FlaskClient,
                                                                          headers: dict[str, str]) -> None:
    party = add_party(client, headers)
    act(client, headers, party["id"], "notify")
    act(client, headers, party["id"], "seat")
    assert act(client, headers, party["id"], "undo").get_json()["status"] == "notified"
    assert act(client, headers, party["id"], "undo").get_json()["status"] == "waiting"
    assert act(client, headers, party["id"], "undo").status_code == 409  # nothing left to take back


def test_an_undone_notify_is_recorded_as_an_undo_event(client: FlaskClient, headers: dict[str, str],
                                                       app: Flask) -> None:
    party = add_party(client, headers)
    act(client, headers, party["id"], "notify")
    act(client, headers, party["id"], "undo")
    events = app.extensions["waitlist"].store.events("noodle-bar")
    undo = [fields for _id, fields in events if fields.get("undo")]
    assert [(e["from"], e["to"], e["party"]) for e in undo] == [("notified", "waiting", party["id"])]
    assert undo[0]["joined"]  # the fold takes "notified" back on the day the party joined
