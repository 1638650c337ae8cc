from __future__ import annotations

import json
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from flask.testing import FlaskClient

from tests.conftest import add_party, guest_token, next_phone
from tests.fakes import Clock, RecordingDispatcher
from waitlist.domain import stats
from waitlist.domain.errors import InvalidInput

BASE = "/api/v1/restaurants/noodle-bar/parties"


def action(client: FlaskClient, headers: dict[str, str], party_id: str, name: str, **body: Any) -> Any:
    return client.post(f"{BASE}/{party_id}/{name}", json=body or None, headers=headers)


def test_a_new_party_is_waiting_with_a_position_quote_and_status_link(client: FlaskClient,
                                                                      headers: dict[str, str]) -> None:
    party = add_party(client, headers, name="  Ana Lima  ", phone="(415) 555-0134", party_size=4,
                      notes="high chair", seating="outdoor", language="zh")
    assert party["name"] == "Ana Lima"
    assert party["phone"] == "+14155550134"
    assert party["status"] == "waiting" and party["position"] == 1
    assert party["quote_minutes"] is not None and party["quote_minutes"] >= 0
    assert party["status_url"].startswith("https://wait.example.com/s/")
    assert len(party["status_url"].rsplit("/", 1)[1]) >= 22
    assert party["seating"] == "outdoor" and party["language"] == "zh" and party["flags"] == []


def test_the_list_is_in_queue_order_waiting_then_notified(client: FlaskClient, headers: dict[str, str]) -> None:
    first, second, third = (add_party(client, headers) for _ in range(3))
    action(client, headers, first["id"], "notify")
    parties = client.get(BASE, headers=headers).get_json()["parties"]
    assert [p["id"] for p in parties] == [second["id"], third["id"], first["id"]]
    assert [p["position"] for p in parties] == [1, 2, None]
    waiting = client.get(f"{BASE}?status=waiting", headers=headers).get_json()["parties"]
    assert [p["id"] for p in waiting] == [second["id"], third["id"]]


def test_finished_parties_of_today_are_listed_by_status(client: FlaskClient, headers: dict[str, str]) -> None:
    seated, cancelled = add_party(client, headers), add_party(client, headers)
    action(client, headers, seated["id"], "seat")
    action(client, headers, cancelled["id"], "cancel")
    assert [p["id"] for p in client.get(f"{BASE}?status=seated", headers=headers).get_json()["parties"]] \
        == [seated["id"]]
    finished = client.get(f"{BASE}?status=finished", headers=headers).get_json()["parties"]
    assert {p["id"] for p in finished} == {seated["id"], cancelled["id"]}
    assert client.get(BASE, headers=headers).get_json()["parties"] == []


def test_finished_parties_of_yesterday_are_not_listed(client: FlaskClient, headers: dict[str, str],
                                                      clock: Clock) -> None:
    party = add_party(client, headers)
    action(client, headers, party["id"], "seat")
    clock.advance(30 * 3600)
    assert client.get(f"{BASE}?status=seated", headers=headers).get_json()["parties"] == []


def test_the_whole_happy_path(client: FlaskClient, headers: dict[str, str]) -> None:
    party = add_party(client, headers)
    notified = action(client, headers, party["id"], "notify").get_json()
    assert notified["status"] == "notified" and notified["notified_at"] and notified["notify_count"] == 1
    seated = action(client, headers, party["id"], "seat").get_json()
    assert seated["status"] == "seated" and seated["seated_at"]
    completed = action(client, headers, party["id"], "complete").get_json()
    assert completed["status"] == "completed"


def test_a_second_notify_resends_and_is_counted(client: FlaskClient, headers: dict[str, str],
                                                dispatcher: RecordingDispatcher) -> None:
    party = add_party(client, headers)
    action(client, headers, party["id"], "notify")
    again = action(client, headers, party["id"], "notify").get_json()
    assert again["notify_count"] == 2
    assert len(dispatcher.holds) == 2 and dispatcher.holds[0][2] != dispatcher.holds[1][2]


@pytest.mark.parametrize(("steps", "refused"), [
    (["seat"], "notify"), (["cancel"], "seat"), (["no-show"], "notify"), (["seat", "complete"], "seat"),
    ([], "complete"), (["cancel"], "cancel"), (["seat"], "no-show"),
])
def test_impossible_transitions_are_refused(client: FlaskClient, headers: dict[str, str], steps: list[str],
                                            refused: str) -> None:
    party = add_party(client, headers)
    for step in steps:
        assert action(client, headers, party["id"], step).status_code == 200
    response = action(client, headers, party["id"], refused)
    assert response.status_code == 409
    assert response.get_json()["error"]["code"] == "invalid_transition"


@pytest.mark.parametrize("verb", ["notify", "seat", "complete", "cancel", "no-show"])
def test_unknown_parties_are_not_found(client: FlaskClient, headers: dict[str, str], verb: str) -> None:
    response = action(client, headers, "nope", verb)
    assert response.status_code == 404
    assert response.get_json()["error"]["code"] == "party_not_found"


def test_a_phone_already_waiting_is_refused_with_the_existing_party(client: FlaskClient,
                                                                    headers: dict[str, str]) -> None:
    party = add_party(client, headers, phone="+14155550140")
    response = client.post(BASE, json={"name": "Again", "phone": "415-555-0140", "party_size": 2}, headers=headers)
    assert response.status_code == 409
    error = response.get_json()["error"]
    assert error["code"] == "already_waiting" and error["party_id"] == party["id"]


def test_a_phone_can_join_again_once_its_party_left(client: FlaskClient, headers: dict[str, str]) -> None:
    party = add_party(client, headers, phone="+14155550141")
    action(client, headers, party["id"], "cancel")
    add_party(client, headers, phone="+14155550141")


def test_moving_a_party_reorders_the_line(client: FlaskClient, headers: dict[str, str]) -> None:
    parties = [add_party(client, headers) for _ in range(4)]
    moved = action(client, headers, parties[3]["id"], "move", position=1).get_json()
    assert moved["position"] == 1
    order = [p["id"] for p in client.get(BASE, headers=headers).get_json()["parties"]]
    assert order == [parties[3]["id"], parties[0]["id"], parties[1]["id"], parties[2]["id"]]
    late = add_party(client, headers)
    assert late["position"] == 5
    far = action(client, headers, parties[0]["id"], "move", position=99).get_json()
    assert far["position"] == 5


def test_a_notified_party_cannot_be_moved(client: FlaskClient, headers: dict[str, str]) -> None:
    party = add_party(client, headers)
    action(client, headers, party["id"], "notify")
    assert action(client, headers, party["id"], "move", position=1).status_code == 409


def test_editing_a_party_changes_only_given_fields(client: FlaskClient, headers: dict[str, str]) -> None:
    party = add_party(client, headers, notes="window")
    response = client.patch(f"{BASE}/{party['id']}", json={"party_size": 5, "name": "Bo"}, headers=headers)
    assert response.status_code == 200
    body = response.get_json()
    assert body["party_size"] == 5 and body["name"] == "Bo" and body["notes"] == "window"


BAD_PARTIES = [
    ("name", ""), ("name", "   "), ("name", "x" * 61), ("name", 12), ("name", None),
    ("phone", ""), ("phone", "12345"), ("phone", "+1 555 0100"), ("phone", 4155550100),
    ("party_size", 0), ("party_size", -2), ("party_size", 2.5), ("party_size", "4"), ("party_size", True),
    ("party_size", 101), ("notes", "n" * 281), ("seating", "roof"), ("language", "fr"), ("vip", True),
]


@pytest.mark.parametrize(("field", "value"), BAD_PARTIES)
def test_bad_party_fields_get_a_field_error_and_add_nothing(client: FlaskClient, headers: dict[str, str],
                                                            field: str, value: Any) -> None:
    body = {"name": "Ana", "phone": next_phone(), "party_size": 2, field: value}
    response = client.post(BASE, json=body, headers=headers)
    assert response.status_code == 400
    error = response.get_json()["error"]
    assert error["code"] == "invalid_input" and field in error["fields"] and error["message"]
    assert client.get(BASE, headers=headers).get_json()["parties"] == []


@pytest.mark.parametrize("missing", ["name", "phone", "party_size"])
def test_required_party_fields_are_named_when_missing(client: FlaskClient, headers: dict[str, str],
                                                      missing: str) -> None:
    body = {"name": "Ana", "phone": next_phone(), "party_size": 2}
    del body[missing]
    response = client.post(BASE, json=body, headers=headers)
    assert response.status_code == 400 and missing in response.get_json()["error"]["fields"]


@pytest.mark.parametrize(("data", "content_type"), [
    ("not json", "application/json"), ("{\"name\": ", "application/json"), ("[1, 2]", "application/json"),
    ("name=Ana", "application/x-www-form-urlencoded"), ("\"text\"", "application/json"),
    ("null", "application/json"), (b"{\"name\": \"\xff\"}", "application/json"),  # not UTF-8
    ("{\"name\": \"Ana\"} trailing", "application/json; charset=utf-8"),
])
def test_bodies_that_are_not_a_json_object_get_400(client: FlaskClient, headers: dict[str, str], data: str | bytes,
                                                   content_type: str) -> None:
    response = client.post(BASE, data=data, content_type=content_type, headers=headers)
    assert response.status_code == 400
    assert response.is_json and response.get_json()["error"]["message"]


def test_a_body_over_16_kb_gets_413(client: FlaskClient, headers: dict[str, str]) -> None:
    body = json.dumps({"name": "Ana", "phone": next_phone(), "party_size": 2, "notes": "x" * 17_000})
    response = client.post(BASE, data=body, content_type="application/json", headers=headers)
    assert response.status_code == 413
    assert response.get_json()["error"]["code"] == "payload_too_large"


@pytest.mark.parametrize(("method", "path"), [("get", "/nowhere"), ("delete", BASE), ("put", f"{BASE}/x")])
def test_unknown_routes_and_methods_answer_json(client: FlaskClient, headers: dict[str, str], method: str,
                                                path: str) -> None:
    response = getattr(client, method)(path, headers=headers)
    assert response.status_code in (404, 405)
    assert response.is_json and "code" in response.get_json()["error"]


def test_the_estimate_is_public_and_has_no_personal_data(client: FlaskClient, headers: dict[str, str]) -> None:
    add_party(client, headers, name="Secret Name", party_size=2)
    response = client.get("/api/v1/restaurants/noodle-bar/estimate?party_size=2")
    assert response.status_code == 200
    body = response.get_json()
    assert set(body) == {"party_size", "minutes", "low", "high", "parties_ahead", "updated_at", "open", "message"}
    assert body["parties_ahead"] == 1 and body["low"] <= body["minutes"] <= body["high"]
    assert "Secret" not in response.get_data(as_text=True)


@pytest.mark.parametrize("query", ["party_size=0", "party_size=abc", "party_size=2&x=1"])
def test_a_bad_estimate_query_gets_400(client: FlaskClient, restaurant: dict[str, Any], query: str) -> None:
    assert client.get(f"/api/v1/restaurants/noodle-bar/estimate?{query}").status_code == 400


def test_the_estimate_of_an_unknown_restaurant_is_404(client: FlaskClient) -> None:
    assert client.get("/api/v1/restaurants/nowhere/estimate").status_code == 404


def test_the_guest_status_shows_no_phone_and_leave_takes_the_party_off(client: FlaskClient,
                                                                       headers: dict[str, str]) -> None:
    add_party(client, headers)
    party = add_party(client, headers, phone="+14155550166", name="Bo")
    token = guest_token(party)
    status = client.get(f"/api/v1/status/{token}")
    assert status.status_code == 200
    body = status.get_json()
    assert body["restaurant"] == "Noodle Bar" and body["position"] == 2 and body["status"] == "waiting"
    assert "4155550166" not in status.get_data(as_text=True)
    left = client.post(f"/api/v1/status/{token}/leave").get_json()
    assert left["status"] == "cancelled"
    assert client.post(f"/api/v1/status/{token}/leave").status_code == 409


def test_an_unknown_status_token_is_404(client: FlaskClient) -> None:
    response = client.get("/api/v1/status/not-a-token")
    assert response.status_code == 404 and response.get_json()["error"]["code"] == "party_not_found"


def test_joining_texts_the_guest_through_a_worker(client: FlaskClient, headers: dict[str, str],
                                                  dispatcher: RecordingDispatcher, app: Any) -> None:
    party = add_party(client, headers)
    assert len(dispatcher.sent) == 1
    messages = client.get(f"{BASE}/{party['id']}/messages", headers=headers).get_json()["messages"]
    assert [m["kind"] for m in messages] == ["joined"]
    assert messages[0]["status"] == "queued" and party["status_url"] in messages[0]["body"]


def joined_texts(client: FlaskClient, headers: dict[str, str], party_id: str) -> list[dict[str, Any]]:
    return client.get(f"{BASE}/{party_id}/messages", headers=headers).get_json()["messages"]


def test_a_numbers_first_joined_text_says_how_to_opt_out_and_later_ones_do_not(
        client: FlaskClient, headers: dict[str, str]) -> None:
    phone = next_phone()
    first = add_party(client, headers, phone=phone)
    client.post(f"{BASE}/{first['id']}/cancel", headers=headers)
    second = add_party(client, headers, phone=phone)
    assert "STOP" in joined_texts(client, headers, first["id"])[0]["body"]
    assert "STOP" not in joined_texts(client, headers, second["id"])[0]["body"]


def test_an_opted_out_number_joins_but_is_not_texted(client: FlaskClient, headers: dict[str, str],
                                                     dispatcher: RecordingDispatcher, app: Any) -> None:
    phone = next_phone()
    waitlist = app.extensions["waitlist"]
    waitlist.messages.opt_out("noodle-bar", waitlist.digest(phone))
    party = add_party(client, headers, phone=phone)
    assert dispatcher.sent == []
    [message] = joined_texts(client, headers, party["id"])
    assert message["kind"] == "joined" and message["status"] == "suppressed"
    assert "opted_out" in client.get(f"{BASE}/{party['id']}", headers=headers).get_json()["flags"]


def test_a_join_that_lands_behind_a_racing_join_is_texted_its_real_place(
        client: FlaskClient, headers: dict[str, str], dispatcher: RecordingDispatcher, app: Any,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """The joined text is rendered for the end of the line as just read; another join landing in
    between must not leave the guest told the wrong place."""
    waitlist = app.extensions["waitlist"]
    store_join = waitlist.store.join

    def a_racing_join_lands_first(slug: str, *args: Any, **kwargs: Any) -> Any:
        monkeypatch.setattr(waitlist.store, "join", store_join)
        waitlist.join(waitlist.restaurant(slug), name="Racer", phone=next_phone(), party_size=2)
        return store_join(slug, *args, **kwargs)

    monkeypatch.setattr(waitlist.store, "join", a_racing_join_lands_first)
    party = add_party(client, headers, name="Slow")
    assert party["position"] == 2
    [message] = joined_texts(client, headers, party["id"])
    assert "#2" in message["body"] and message["status"] == "queued"
    # Both texts were recorded at the same (test) instant, so the relay may queue them in either order.
    assert len(dispatcher.sent) == 2 and ("noodle-bar", message["id"]) in dispatcher.sent


def test_a_join_works_after_redis_lost_its_scripts(client: FlaskClient, headers: dict[str, str],
                                                   redis: Any) -> None:
    """A restart or failover empties Redis's script cache; the join's batch carries its script's text."""
    add_party(client, headers)
    redis.script_flush()
    party = add_party(client, headers)
    assert party["position"] == 2
    assert client.get(f"/api/v1/status/{party['status_url'].rsplit('/', 1)[1]}").status_code == 200


def test_the_host_can_text_a_guest(client: FlaskClient, headers: dict[str, str],
                                   dispatcher: RecordingDispatcher) -> None:
    party = add_party(client, headers)
    response = client.post(f"{BASE}/{party['id']}/messages", json={"body": "  Table by the window?  "},
                           headers=headers)
    assert response.status_code == 201
    assert response.get_json()["body"] == "Noodle Bar: Table by the window?"
    assert len(dispatcher.sent) == 2
    assert client.post(f"{BASE}/{party['id']}/messages", json={"body": ""}, headers=headers).status_code == 400


def test_health_answers_ok_when_redis_answers(client: FlaskClient) -> None:
    assert client.get("/healthz").get_json() == {"status": "ok"}


def test_a_guest_link_names_its_restaurant_and_lives_in_its_slot(client: FlaskClient, headers: dict[str, str],
                                                                  redis: Any) -> None:
    """The token is the restaurant's code and 128 random bits; the join writes its key with the party, in
    the restaurant's hash slot, so a refused join leaves no link behind."""
    from redis.cluster import key_slot

    from waitlist.store import restaurant_key, token_key

    party = add_party(client, headers, phone="+14155550134")
    token, code = guest_token(party), redis.hget(restaurant_key("noodle-bar"), "code")
    assert len(code) == 3 and token.startswith(code) and len(token) == 3 + 22
    assert redis.get(token_key("noodle-bar", token)) == party["id"]
    assert key_slot(token_key("noodle-bar", token).encode()) == key_slot(restaurant_key("noodle-bar").encode())
    assert redis.get(f"wl:code:{code}") == "noodle-bar"
    before = set(redis.scan_iter(match="wl:*token*"))
    refused = client.post(BASE, json={"name": "Again", "phone": "+14155550134", "party_size": 2}, headers=headers)
    assert refused.status_code == 409 and set(redis.scan_iter(match="wl:*token*")) == before


def test_a_forged_or_foreign_link_finds_nothing(client: FlaskClient, headers: dict[str, str]) -> None:
    token = guest_token(add_party(client, headers))
    assert client.get(f"/api/v1/status/{token}").status_code == 200
    other_code = "zzz" if token[:3] != "zzz" else "yyy"
    for forged in (token[:3] + "A" * 22, other_code + token[3:], token[:-1], token[:3], ""):
        assert client.get(f"/api/v1/status/{forged}").status_code == 404, forged


def test_links_given_before_tokens_carried_a_code_still_work(client: FlaskClient, headers: dict[str, str],
                                                             redis: Any) -> None:
    party = add_party(client, headers)
    redis.set("wl:token:OldStyleToken0123456789ab", f"noodle-bar/{party['id']}", ex=60)
    status = client.get("/api/v1/status/OldStyleToken0123456789ab")
    assert status.status_code == 200 and status.get_json()["position"] == 1


def test_a_restaurant_made_before_codes_gets_one_at_its_first_join(client: FlaskClient, headers: dict[str, str],
                                                                   redis: Any) -> None:
    from waitlist.store import restaurant_key

    redis.hdel(restaurant_key("noodle-bar"), "code")
    first, second = add_party(client, headers), add_party(client, headers)
    code = redis.hget(restaurant_key("noodle-bar"), "code")
    assert code and guest_token(first)[:3] == guest_token(second)[:3] == code
    assert redis.get(f"wl:code:{code}") == "noodle-bar"
    assert client.get(f"/api/v1/status/{guest_token(first)}").get_json()["position"] == 1


def test_a_link_code_released_after_a_lookup_still_finds_its_next_restaurant(redis: Any) -> None:
    """A create that loses its slug releases the code it claimed; a lookup in that window must not
    leave the process pointing the code at the wrong restaurant."""
    from waitlist.store import Store, token_key

    store, token = Store(redis), "Abc" + "x" * 22
    assert store.claim_code("Abc", "lost-slug")
    assert store.resolve_token(token) is None
    store.release_code("Abc", "lost-slug")
    assert store.claim_code("Abc", "noodle-bar")
    redis.set(token_key("noodle-bar", token), "p1")
    assert store.resolve_token(token) == ("noodle-bar", "p1")


def test_the_line_read_for_every_quote_keeps_each_party_size_as_it_changes(client: FlaskClient,
                                                                        headers: dict[str, str],
                                                                        redis: Any) -> None:
    """Quotes read the line's sizes from one hash (store.sizes_key), which every change must keep true."""
    from waitlist.store import Store, line_key, party_key, sizes_key

    store = Store(redis)
    first, second, third = (add_party(client, headers, party_size=2) for _ in range(3))
    assert store.snapshot("noodle-bar").waiting_sizes == [2, 2, 2]
    client.patch(f"{BASE}/{second['id']}", json={"party_size": 6}, headers=headers)
    action(client, headers, first["id"], "notify")
    action(client, headers, third["id"], "seat")
    snapshot = store.snapshot("noodle-bar")
    assert (snapshot.waiting_sizes, snapshot.notified_sizes) == ([6], [2])
    assert redis.hgetall(sizes_key("noodle-bar")) == {first["id"]: "2", second["id"]: "6"}
    action(client, headers, third["id"], "undo")
    assert store.snapshot("noodle-bar").waiting_sizes == [6, 2]
    # A party that joined before the hash existed is read from its own record (when the line is
    # worked out again: no script wrote these changes, so the line key is dropped by hand).
    redis.hdel(sizes_key("noodle-bar"), second["id"])
    redis.delete(line_key("noodle-bar"))
    assert store.snapshot("noodle-bar").waiting_sizes == [6, 2]
    redis.delete(party_key("noodle-bar", second["id"]), line_key("noodle-bar"))
    assert store.snapshot("noodle-bar").waiting_sizes == [2]


def test_the_line_key_always_matches_the_line_worked_out_afresh(client: FlaskClient, headers: dict[str, str],
                                                                 redis: Any) -> None:
    """The snapshot reads the sizes in line order from one key (store.line_key) that joins extend and
    every other change drops; after each kind of change it must equal the line worked out from the
    waiting and notified sets."""
    from waitlist.store import Store, line_key

    store = Store(redis)

    def check() -> None:
        kept = store.snapshot("noodle-bar")
        assert redis.exists(line_key("noodle-bar"))
        redis.delete(line_key("noodle-bar"))
        fresh = store.snapshot("noodle-bar")
        assert (kept.waiting_sizes, kept.notified_sizes) == (fresh.waiting_sizes, fresh.notified_sizes)

    a, b, c, d, e = (add_party(client, headers, party_size=size) for size in (2, 4, 6, 3, 5))
    check()
    changes = [
        lambda: add_party(client, headers, party_size=7),                                  # join at the end
        lambda: client.patch(f"{BASE}/{b['id']}", json={"party_size": 8}, headers=headers),  # a size changes
        lambda: client.post(f"{BASE}/{d['id']}/move", json={"position": 1}, headers=headers),
        lambda: action(client, headers, a["id"], "notify"),
        lambda: action(client, headers, a["id"], "notify"),                                # notified again
        lambda: action(client, headers, a["id"], "seat"),
        lambda: action(client, headers, c["id"], "cancel"),
        lambda: action(client, headers, c["id"], "undo"),
        lambda: action(client, headers, e["id"], "no-show"),
        lambda: action(client, headers, a["id"], "complete"),
        lambda: add_party(client, headers, party_size=1),
    ]
    for change in changes:
        store.snapshot("noodle-bar")  # the key is there before each change, so each must keep it true
        change()
        check()
    assert store.snapshot("noodle-bar").waiting_sizes == [3, 8, 6, 7, 1]


def test_a_join_behind_a_party_moved_to_the_end_still_extends_the_line_right(client: FlaskClient,
                                                                             headers: dict[str, str],
                                                                             redis: Any) -> None:
    """A join appends its size only when it lands last; here the moved party keeps a score above
    the next join's, so the join lands before it and the line key is dropped instead."""
    from waitlist.store import Store, line_key, waiting_key

    store = Store(redis)
    first, _second = add_party(client, headers, party_size=2), add_party(client, headers, party_size=4)
    redis.zadd(waiting_key("noodle-bar"), {first["id"]: 1000})  # as if moved far back by hand
    redis.delete(line_key("noodle-bar"))
    assert store.snapshot("noodle-bar").waiting_sizes == [4, 2]
    add_party(client, headers, party_size=6)
    assert store.snapshot("noodle-bar").waiting_sizes == [4, 6, 2]


# --- the host's quote (issue 25) -------------------------------------------------------------------------

def test_a_quote_given_at_add_time_is_stored_texted_and_shown_to_the_guest(client: FlaskClient,
                                                                           headers: dict[str, str]) -> None:
    party = add_party(client, headers, quote_minutes=45)
    assert party["quote_minutes"] == 45 and party["quote_overridden"] is True
    assert (party["quote_low"], party["quote_high"]) == (40, 50)
    assert "40-50" in joined_texts(client, headers, party["id"])[0]["body"]
    guest = client.get(f"/api/v1/status/{guest_token(party)}").get_json()
    assert guest["quote_minutes"] == 45 and guest["estimate"] == {"minutes": 45, "low": 40, "high": 50}
    assert "40-50" in client.get(f"/s/{guest_token(party)}").text


def test_a_party_without_a_host_quote_is_not_overridden(client: FlaskClient, headers: dict[str, str]) -> None:
    assert add_party(client, headers)["quote_overridden"] is False


def test_the_host_sets_a_quote_later_and_the_guest_page_counts_down_from_it(
        client: FlaskClient, headers: dict[str, str], clock: Clock) -> None:
    party = add_party(client, headers)
    clock.advance(10 * 60)
    changed = client.patch(f"{BASE}/{party['id']}", json={"quote_minutes": 30}, headers=headers)
    assert changed.status_code == 200
    assert changed.get_json()["quote_minutes"] == 30 and changed.get_json()["quote_overridden"] is True
    clock.advance(10 * 60)
    guest = client.get(f"/api/v1/status/{guest_token(party)}").get_json()
    assert guest["estimate"] == {"minutes": 20, "low": 15, "high": 25}


def test_a_notified_partys_quote_can_be_set(client: FlaskClient, headers: dict[str, str]) -> None:
    party = add_party(client, headers)
    action(client, headers, party["id"], "notify")
    assert client.patch(f"{BASE}/{party['id']}", json={"quote_minutes": 0},
                        headers=headers).get_json()["quote_minutes"] == 0


@pytest.mark.parametrize("value", [-1, 241, 2.5, "45", True, None])
def test_a_quote_out_of_range_is_refused_with_its_field(client: FlaskClient, headers: dict[str, str],
                                                        value: Any) -> None:
    added = client.post(BASE, json={"name": "Ana", "phone": next_phone(), "party_size": 2, "quote_minutes": value},
                        headers=headers)
    assert added.status_code == 400 and "quote_minutes" in added.get_json()["error"]["fields"]
    party = add_party(client, headers)
    patched = client.patch(f"{BASE}/{party['id']}", json={"quote_minutes": value}, headers=headers)
    assert patched.status_code == 400 and "quote_minutes" in patched.get_json()["error"]["fields"]


def test_a_finished_partys_quote_cannot_be_set(client: FlaskClient, headers: dict[str, str]) -> None:
    party = add_party(client, headers)
    action(client, headers, party["id"], "seat")
    refused = client.patch(f"{BASE}/{party['id']}", json={"quote_minutes": 20}, headers=headers)
    assert refused.status_code == 409


def test_override_quote_refuses_minutes_out_of_range(app: Any, client: FlaskClient, headers: dict[str, str]) -> None:
    party = add_party(client, headers)
    waitlist = app.extensions["waitlist"]
    with pytest.raises(InvalidInput):
        waitlist.override_quote(waitlist.restaurant("noodle-bar"), party["id"], 300)
    assert waitlist.override_quote(waitlist.restaurant("noodle-bar"), party["id"], 15).quote_minutes == 15


def test_a_seated_host_quote_goes_to_the_owners_stats_apart_from_the_estimators(
        client: FlaskClient, headers: dict[str, str], app: Any, clock: Clock) -> None:
    estimated, told = add_party(client, headers), add_party(client, headers, quote_minutes=20)
    clock.advance(25 * 60)
    action(client, headers, estimated["id"], "seat")
    action(client, headers, told["id"], "seat")
    events = [fields for _id, fields in app.extensions["waitlist"].store.events("noodle-bar")
              if fields.get("to") == "seated"]
    assert [(e["party"], e["quote_source"]) for e in events] == [(estimated["id"], ""), (told["id"], "host")]
    report = stats.summarize(stats.merge(stats.fold(app.extensions["waitlist"].store.events("noodle-bar"),
                                                    ZoneInfo("UTC")).counters.values()))
    assert report["quote"]["n"] == 1 and report["quote_host"]["n"] == 1
    assert report["quote_host"]["mean_quoted"] == 20.0 and report["quote_host"]["mean_waited"] == 25.0
