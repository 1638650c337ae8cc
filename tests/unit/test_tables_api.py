"""Named tables over HTTP on fakeredis: the floor, calling and seating at tables, clear, block, next, and
every error in the one shape."""
from __future__ import annotations

from typing import Any

import fakeredis
import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.conftest import add_party, auth, create_restaurant
from tests.fakes import Clock
from waitlist.store import keys

BASE = "/api/v1/restaurants/noodle-bar"
FLOOR = [
    {"name": "12", "seats": 4, "min_seats": 2, "section": "indoor", "joins_with": ["13"]},
    {"name": "13", "seats": 2},
    {"name": "B1", "seats": 2, "section": "bar"},
]


@pytest.fixture
def floor(client: FlaskClient, headers: dict[str, str]) -> list[dict[str, Any]]:
    response = client.put(f"{BASE}/tables", json={"tables": FLOOR}, headers=headers)
    assert response.status_code == 200, response.get_json()
    return list(response.get_json()["tables"])


def act(client: FlaskClient, headers: dict[str, str], party_id: str, action: str, *tables: str) -> Any:
    body = {"tables": list(tables)} if tables else None
    return client.post(f"{BASE}/parties/{party_id}/{action}", json=body, headers=headers)


def table_act(client: FlaskClient, headers: dict[str, str], name: str, action: str) -> Any:
    return client.post(f"{BASE}/tables/{name}/{action}", headers=headers)


def states(client: FlaskClient, headers: dict[str, str]) -> dict[str, tuple[str, str | None]]:
    tables = client.get(f"{BASE}/tables", headers=headers).get_json()["tables"]
    return {t["name"]: (t["state"], t["party_id"]) for t in tables}


def error(response: Any, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.get_json()
    return dict(response.get_json()["error"])


def table_events(redis: fakeredis.FakeRedis, slug: str = "noodle-bar") -> list[dict[str, str]]:
    return [fields for _id, fields in redis.xrange(keys.events_key(slug)) if fields.get("type") == "table"]


# --- the floor --------------------------------------------------------------------------------------------

def test_a_floor_is_listed_in_order_with_symmetric_joins_and_every_table_free(
        floor: list[dict[str, Any]]) -> None:
    assert [t["name"] for t in floor] == ["12", "13", "B1"]
    assert floor[1] == {"name": "13", "seats": 2, "min_seats": 1, "section": "any", "joins_with": ["12"],
                        "state": "free", "party_id": None, "since": None}


def test_without_named_tables_the_floor_is_empty(client: FlaskClient, headers: dict[str, str]) -> None:
    assert client.get(f"{BASE}/tables", headers=headers).get_json() == {"tables": []}


def test_a_bad_floor_is_refused_with_every_field_error_at_once(client: FlaskClient, headers: dict[str, str]) -> None:
    bad = {"tables": [{"name": "", "seats": 0}, {"name": "x/y", "seats": "4", "colour": "red"}]}
    err = error(client.put(f"{BASE}/tables", json=bad, headers=headers), 400)
    assert err["code"] == "invalid_input" and len(err["fields"]["tables"]) >= 5
    rules = {"tables": [{"name": "1", "seats": 40}, {"name": "2", "seats": 2, "joins_with": ["9"]}]}
    err = error(client.put(f"{BASE}/tables", json=rules, headers=headers), 400)
    assert err["fields"]["tables"] == ["table 1: seats must be between 1 and 20 (max_party_size)",
                                       "table 2: joins_with names no table 9"]
    assert error(client.put(f"{BASE}/tables", json={}, headers=headers), 400)["fields"] == {
        "tables": ["Missing data for required field."]}


def test_a_held_or_occupied_table_cannot_be_removed_or_renamed(client: FlaskClient, headers: dict[str, str],
                                                                floor: list[dict[str, Any]]) -> None:
    party = add_party(client, headers)
    act(client, headers, party["id"], "notify", "B1")
    err = error(client.put(f"{BASE}/tables", json={"tables": FLOOR[:2]}, headers=headers), 409)
    assert (err["code"], err["table"], err["party_id"]) == ("table_taken", "B1", party["id"])
    renamed = [*FLOOR[:2], {"name": "B2", "seats": 2}]
    assert client.put(f"{BASE}/tables", json={"tables": renamed}, headers=headers).status_code == 409
    bigger = [*FLOOR[:2], {"name": "B1", "seats": 3}]  # same name: kept, with its state
    assert client.put(f"{BASE}/tables", json={"tables": bigger}, headers=headers).status_code == 200
    assert states(client, headers)["B1"] == ("held", party["id"])


def test_an_empty_floor_goes_back_to_the_count_by_size_setting(client: FlaskClient, headers: dict[str, str],
                                                                floor: list[dict[str, Any]]) -> None:
    assert client.put(f"{BASE}/tables", json={"tables": []}, headers=headers).get_json() == {"tables": []}
    assert add_party(client, headers, party_size=9)["no_table_fits"] is False


# --- calling and seating at tables ---------------------------------------------------------------------

def test_notify_holds_tables_and_seat_occupies_those_it_holds(client: FlaskClient, headers: dict[str, str],
                                                              floor: list[dict[str, Any]]) -> None:
    party = add_party(client, headers, party_size=5)
    called = act(client, headers, party["id"], "notify", "12", "13").get_json()
    assert called["tables"] == ["12", "13"] and called["status"] == "notified"
    assert states(client, headers) == {"12": ("held", party["id"]), "13": ("held", party["id"]), "B1": ("free", None)}
    seated = act(client, headers, party["id"], "seat").get_json()
    assert seated["tables"] == ["12", "13"] and seated["status"] == "seated"
    assert states(client, headers)["12"] == ("occupied", party["id"])


def test_seating_at_other_tables_frees_the_ones_held(client: FlaskClient, headers: dict[str, str],
                                                      floor: list[dict[str, Any]]) -> None:
    party = add_party(client, headers)
    act(client, headers, party["id"], "notify", "12")
    act(client, headers, party["id"], "seat", "B1")
    assert states(client, headers) == {"12": ("free", None), "13": ("free", None), "B1": ("occupied", party["id"])}


def test_a_re_notify_at_other_tables_moves_the_hold(client: FlaskClient, headers: dict[str, str],
                                                     floor: list[dict[str, Any]]) -> None:
    party = add_party(client, headers)
    act(client, headers, party["id"], "notify", "12")
    assert act(client, headers, party["id"], "notify", "13").get_json()["tables"] == ["13"]
    assert states(client, headers)["12"] == ("free", None) and states(client, headers)["13"][0] == "held"


def test_a_second_party_at_a_taken_table_is_refused(client: FlaskClient, headers: dict[str, str],
                                                     floor: list[dict[str, Any]]) -> None:
    first, second = add_party(client, headers), add_party(client, headers)
    act(client, headers, first["id"], "seat", "12")
    for action in ("seat", "notify"):
        err = error(act(client, headers, second["id"], action, "12"), 409)
        assert (err["code"], err["table"], err["party_id"]) == ("table_taken", "12", first["id"])
    refused = client.get(f"{BASE}/parties/{second['id']}", headers=headers).get_json()
    assert refused["status"] == "waiting" and refused["tables"] == []  # a refusal changes nothing


@pytest.mark.parametrize(("tables", "size", "status", "code"), [
    (["99"], 2, 404, "table_not_found"),
    (["12", "B1"], 2, 409, "tables_not_joinable"),
    (["13"], 3, 409, "party_too_big"),
    (["12", "12"], 2, 400, "invalid_input"),
    (["a/b"], 2, 400, "invalid_input"),
])
def test_tables_that_cannot_seat_the_party_are_refused(client: FlaskClient, headers: dict[str, str],
                                                        floor: list[dict[str, Any]], tables: list[str], size: int,
                                                        status: int, code: str) -> None:
    party = add_party(client, headers, party_size=size)
    assert error(act(client, headers, party["id"], "seat", *tables), status)["code"] == code
    assert client.get(f"{BASE}/parties/{party['id']}", headers=headers).get_json()["status"] == "waiting"


def test_tables_go_with_notify_and_seat_only(client: FlaskClient, headers: dict[str, str],
                                             floor: list[dict[str, Any]]) -> None:
    party = add_party(client, headers)
    err = error(act(client, headers, party["id"], "cancel", "12"), 400)
    assert err["fields"] == {"tables": ["only for notify or seat"]}


def test_a_blocked_table_takes_nobody_until_unblocked(client: FlaskClient, headers: dict[str, str],
                                                       floor: list[dict[str, Any]]) -> None:
    party = add_party(client, headers)
    assert table_act(client, headers, "12", "block").get_json()["state"] == "blocked"
    assert error(act(client, headers, party["id"], "notify", "12"), 409)["code"] == "table_blocked"
    assert error(table_act(client, headers, "12", "clear"), 409)["code"] == "table_blocked"
    assert table_act(client, headers, "12", "unblock").get_json()["state"] == "free"
    assert act(client, headers, party["id"], "notify", "12").status_code == 200
    err = error(table_act(client, headers, "12", "block"), 409)
    assert (err["code"], err["party_id"]) == ("table_taken", party["id"])


@pytest.mark.parametrize("leave", ["cancel", "no-show"])
def test_a_called_party_that_leaves_frees_its_tables(client: FlaskClient, headers: dict[str, str],
                                                     floor: list[dict[str, Any]], leave: str) -> None:
    party = add_party(client, headers)
    act(client, headers, party["id"], "notify", "12", "13")
    assert act(client, headers, party["id"], leave).status_code == 200
    assert set(states(client, headers).values()) == {("free", None)}


def test_an_expired_hold_frees_its_tables(app: Flask, client: FlaskClient, headers: dict[str, str],
                                          floor: list[dict[str, Any]]) -> None:
    party = add_party(client, headers)
    called = act(client, headers, party["id"], "notify", "B1").get_json()
    assert app.extensions["waitlist"].expire_hold("noodle-bar", party["id"], str(called["notify_count"]))
    assert states(client, headers)["B1"] == ("free", None)


def test_undoing_a_notify_frees_the_tables_it_held(client: FlaskClient, headers: dict[str, str],
                                                    floor: list[dict[str, Any]]) -> None:
    party = add_party(client, headers)
    act(client, headers, party["id"], "notify", "12")
    undone = act(client, headers, party["id"], "undo").get_json()
    assert undone["status"] == "waiting" and undone["tables"] == []
    assert states(client, headers)["12"] == ("free", None)


def test_undoing_a_seat_holds_again_the_tables_held_before(client: FlaskClient, headers: dict[str, str],
                                                            floor: list[dict[str, Any]]) -> None:
    called, walk_in = add_party(client, headers), add_party(client, headers)
    act(client, headers, called["id"], "notify", "12")
    act(client, headers, called["id"], "seat", "12", "13")
    act(client, headers, walk_in["id"], "seat", "B1")
    assert act(client, headers, called["id"], "undo").get_json()["tables"] == ["12"]
    assert act(client, headers, walk_in["id"], "undo").get_json()["tables"] == []
    assert states(client, headers) == {"12": ("held", called["id"]), "13": ("free", None), "B1": ("free", None)}


# --- clear, clearing_minutes, events -------------------------------------------------------------------------

def test_clearing_a_table_completes_its_party_and_records_the_turn_with_the_tables_seats(
        client: FlaskClient, headers: dict[str, str], floor: list[dict[str, Any]], clock: Clock,
        redis: fakeredis.FakeRedis) -> None:
    party = add_party(client, headers, party_size=5)
    act(client, headers, party["id"], "seat", "12", "13")
    clock.advance(50 * 60)
    cleared = table_act(client, headers, "13", "clear").get_json()
    assert cleared["state"] == "free" and cleared["party_id"] is None
    assert client.get(f"{BASE}/parties/{party['id']}", headers=headers).get_json()["status"] == "completed"
    assert states(client, headers)["12"] == ("free", None)  # every table of the party
    seated_at, completed_at, size, seats = redis.lindex(keys.recent_key("noodle-bar", "turns"), 0).split(":")
    assert (float(completed_at) - float(seated_at), size, seats) == (3000.0, "5", "6")
    left = [e for e in table_events(redis) if e["from"] == "occupied"]
    assert {(e["table"], e["to"], e["seats"], e["party"], e["tables"]) for e in left} == {
        ("12", "free", "4", party["id"], "12,13"), ("13", "free", "2", party["id"], "12,13")}
    assert all(float(e["at"]) - float(e["since"]) == 3000.0 and e["floor_seats"] == "8" for e in left)
    completed = [f for _id, f in redis.xrange(keys.events_key("noodle-bar")) if f.get("to") == "completed"]
    assert (completed[0]["tables"], completed[0]["table_seats"]) == ("12,13", "6")


def test_a_cleared_table_stays_clearing_for_clearing_minutes(client: FlaskClient, headers: dict[str, str],
                                                              floor: list[dict[str, Any]], clock: Clock) -> None:
    client.patch(f"{BASE}/settings", json={"clearing_minutes": 5}, headers=headers)
    first, second = add_party(client, headers), add_party(client, headers)
    act(client, headers, first["id"], "seat", "B1")
    act(client, headers, second["id"], "seat", "12")
    act(client, headers, first["id"], "complete")  # the host's complete clears the tables too
    table_act(client, headers, "12", "clear")
    assert states(client, headers)["B1"] == ("clearing", None)
    clock.advance(4 * 60)
    assert states(client, headers)["12"] == ("clearing", None)
    assert table_act(client, headers, "12", "clear").get_json()["state"] == "free"  # ready early
    clock.advance(61)
    assert states(client, headers)["B1"] == ("free", None)


def test_quotes_wait_for_a_table_being_cleared_until_its_clearing_time_is_up(
        client: FlaskClient, headers: dict[str, str], clock: Clock) -> None:
    """The join's quote and the public estimate read the floor's live states: the only 2-top, cleared
    just now with 10 minutes of clearing, is ready in about 10 minutes; after that, at once."""
    client.put(f"{BASE}/tables", json={"tables": [{"name": "B1", "seats": 2}]}, headers=headers)
    client.patch(f"{BASE}/settings", json={"clearing_minutes": 10}, headers=headers)
    diner = add_party(client, headers)
    act(client, headers, diner["id"], "seat", "B1")
    clock.advance(50 * 60)
    act(client, headers, diner["id"], "complete")
    assert states(client, headers)["B1"] == ("clearing", None)
    joined = add_party(client, headers)
    assert 10 <= joined["quote_minutes"] <= 20
    act(client, headers, joined["id"], "cancel")
    estimate = client.get(f"{BASE}/estimate?party_size=2").get_json()["minutes"]
    assert estimate == joined["quote_minutes"]
    clock.advance(5 * 60)
    assert 5 <= client.get(f"{BASE}/estimate?party_size=2").get_json()["minutes"] < estimate
    clock.advance(5 * 60 + 1)
    assert client.get(f"{BASE}/estimate?party_size=2").get_json()["minutes"] == 0
    assert add_party(client, headers)["quote_minutes"] == 0


def test_clearing_a_held_table_is_refused_and_a_free_one_stays_free(client: FlaskClient, headers: dict[str, str],
                                                                    floor: list[dict[str, Any]]) -> None:
    party = add_party(client, headers)
    act(client, headers, party["id"], "notify", "12")
    assert error(table_act(client, headers, "12", "clear"), 409)["code"] == "table_taken"
    assert table_act(client, headers, "B1", "clear").get_json()["state"] == "free"


def test_clearing_a_minutes_setting_is_validated(client: FlaskClient, headers: dict[str, str]) -> None:
    for bad in (-1, 121, "5", True):
        err = error(client.patch(f"{BASE}/settings", json={"clearing_minutes": bad}, headers=headers), 400)
        assert list(err["fields"]) == ["clearing_minutes"]
    assert client.get(f"{BASE}/settings", headers=headers).get_json()["clearing_minutes"] == 0


def test_table_changes_go_in_the_event_stream_with_name_party_and_seats(
        client: FlaskClient, headers: dict[str, str], floor: list[dict[str, Any]], redis: fakeredis.FakeRedis) -> None:
    party = add_party(client, headers)
    act(client, headers, party["id"], "notify", "B1")
    act(client, headers, party["id"], "seat")
    table_act(client, headers, "13", "block")
    assert [(e["table"], e["party"], e["from"], e["to"], e["seats"]) for e in table_events(redis)] == [
        ("B1", party["id"], "free", "held", "2"), ("B1", party["id"], "held", "occupied", "2"),
        ("13", "", "free", "blocked", "2")]
    assert [f["type"] for _id, f in redis.xrange(keys.events_key("noodle-bar"))].count("floor") == 1


# --- who gets this table, and parties nothing can seat ---------------------------------------------------

def test_next_suggests_who_fits_then_who_needs_a_join(client: FlaskClient, headers: dict[str, str],
                                                      floor: list[dict[str, Any]]) -> None:
    big, pair, bar = (add_party(client, headers, party_size=5), add_party(client, headers, party_size=2),
                      add_party(client, headers, party_size=2, seating="bar"))
    answer = client.get(f"{BASE}/tables/12/next", headers=headers).get_json()
    assert answer["table"]["name"] == "12"
    assert answer["suggestions"] == [
        {"party_id": pair["id"], "name": pair["name"], "party_size": 2, "position": 2, "reason": "fits",
         "join_with": []},
        {"party_id": big["id"], "name": big["name"], "party_size": 5, "position": 1, "reason": "needs_join",
         "join_with": ["13"]}]
    assert bar["id"] not in str(answer)


def test_unknown_tables_are_not_found(client: FlaskClient, headers: dict[str, str],
                                      floor: list[dict[str, Any]]) -> None:
    for response in (client.get(f"{BASE}/tables/99/next", headers=headers), table_act(client, headers, "99", "clear"),
                     table_act(client, headers, "99", "block"), table_act(client, headers, "99", "unblock")):
        assert error(response, 404)["code"] == "table_not_found"


def test_a_party_no_table_can_seat_is_flagged_from_the_moment_it_joins(client: FlaskClient, headers: dict[str, str],
                                                                       floor: list[dict[str, Any]]) -> None:
    huge, fine = add_party(client, headers, party_size=7), add_party(client, headers, party_size=6)
    assert (huge["no_table_fits"], fine["no_table_fits"]) == (True, False)
    listed = {p["id"]: p["no_table_fits"] for p in client.get(f"{BASE}/parties", headers=headers).get_json()["parties"]}
    assert listed == {huge["id"]: True, fine["id"]: False}
    assert client.get(f"{BASE}/parties/{huge['id']}", headers=headers).get_json()["no_table_fits"] is True


# --- staff only, one restaurant's tables ------------------------------------------------------------------

def test_tables_need_the_restaurants_own_key(client: FlaskClient, headers: dict[str, str],
                                             floor: list[dict[str, Any]]) -> None:
    other = create_restaurant(client, slug="taco-stand", name="Taco", sms_from="+14155550101")
    assert client.get(f"{BASE}/tables").status_code == 401
    assert client.get(f"{BASE}/tables", headers=auth(other["api_key"])).status_code == 403
    assert client.put(f"{BASE}/tables", json={"tables": []}, headers=auth(other["api_key"])).status_code == 403
    assert client.get("/api/v1/restaurants/taco-stand/tables", headers=auth(other["api_key"])).get_json() == {
        "tables": []}


# --- the estimator's snapshot ---------------------------------------------------------------------------------

def test_the_snapshot_carries_live_table_states_read_with_the_line(app: Flask, client: FlaskClient,
                                                                   headers: dict[str, str],
                                                                   floor: list[dict[str, Any]], clock: Clock) -> None:
    party = add_party(client, headers)
    act(client, headers, party["id"], "seat", "12")
    table_act(client, headers, "B1", "block")
    snapshot = app.extensions["waitlist"].store.snapshot("noodle-bar")
    assert [(t.name, t.seats, t.state, t.party_id, t.since, t.joins_with) for t in snapshot.tables] == [
        ("12", 4, "occupied", party["id"], clock.now, ("13",)), ("13", 2, "free", "", None, ("12",)),
        ("B1", 2, "blocked", "", clock.now, ())]


def test_a_seating_at_a_named_table_carries_the_tables_turnover_gap(app: Flask, client: FlaskClient,
                                                                   headers: dict[str, str],
                                                                   floor: list[dict[str, Any]], clock: Clock) -> None:
    """From the table's last party leaving to the next sitting down there, for a party already waiting as
    it left: seated straight at the free table, called to it first (the gap runs from the leaving, not
    the call), or at a cleared table the host marked ready early (still from the leaving)."""
    store = app.extensions["waitlist"].store
    client.patch(f"{BASE}/settings", json={"clearing_minutes": 5}, headers=headers)
    diners = [add_party(client, headers) for _ in range(3)]
    for diner, name in zip(diners, ("B1", "13", "12")):
        act(client, headers, diner["id"], "seat", name)
    waiting = [add_party(client, headers) for _ in range(3)]
    clock.advance(40 * 60)
    for diner in diners:
        act(client, headers, diner["id"], "complete")
    clock.advance(6 * 60)  # B1 and 13 are free again by now, 12 is cleared early by the host
    act(client, headers, waiting[0]["id"], "seat", "B1")
    act(client, headers, waiting[1]["id"], "notify", "13")
    table_act(client, headers, "12", "clear")
    clock.advance(3 * 60)
    act(client, headers, waiting[1]["id"], "seat")
    act(client, headers, waiting[2]["id"], "seat", "12")
    assert store.snapshot("noodle-bar").table_gaps == ((4, 9.0), (2, 9.0), (2, 6.0))
    # A party that joined after the table was left did not wait for it: no gap.
    act(client, headers, waiting[0]["id"], "complete")
    clock.advance(6 * 60)
    newcomer = add_party(client, headers)
    act(client, headers, newcomer["id"], "seat", "B1")
    assert len(store.snapshot("noodle-bar").table_gaps) == 3


def test_without_named_tables_the_snapshot_has_none(app: Flask, restaurant: dict[str, Any]) -> None:
    assert app.extensions["waitlist"].store.snapshot("noodle-bar").tables == ()


def test_a_page_of_the_list_and_a_live_row_carry_the_flag_too(app: Flask, client: FlaskClient,
                                                               headers: dict[str, str],
                                                               floor: list[dict[str, Any]]) -> None:
    huge = add_party(client, headers, party_size=7)
    page = client.get(f"{BASE}/parties?limit=10", headers=headers).get_json()["parties"]
    assert [p["no_table_fits"] for p in page] == [True]
    waitlist = app.extensions["waitlist"]
    rows = waitlist.list_rows(waitlist.restaurant("noodle-bar"), [huge["id"]])
    assert rows.placed[huge["id"]].party.no_table_fits is True
