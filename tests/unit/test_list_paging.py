"""Paging the list with a cursor, and reading a long list in bounded slices (issue 26)."""
from __future__ import annotations

from typing import Any

import orjson
import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.conftest import add_party
from waitlist.store import keys, listing

BASE = "/api/v1/restaurants/noodle-bar/parties"


def pages(client: FlaskClient, headers: dict[str, str], query: str = "limit=3",
          between: Any = None) -> list[list[str]]:
    """Every page's party ids, following next_cursor; ``between(n)`` runs after page n is read."""
    found: list[list[str]] = []
    url = f"{BASE}?{query}"
    while True:
        body = client.get(url, headers=headers).get_json()
        found.append([p["id"] for p in body["parties"]])
        if between:
            between(len(found))
        if body["next_cursor"] is None:
            return found
        url = f"{BASE}?{query}&cursor={body['next_cursor']}"


def act(client: FlaskClient, headers: dict[str, str], party_id: str, name: str) -> None:
    assert client.post(f"{BASE}/{party_id}/{name}", headers=headers).status_code == 200


def test_pages_hold_the_whole_list_once_in_order_across_sections(client: FlaskClient,
                                                                 headers: dict[str, str]) -> None:
    parties = [add_party(client, headers, name=f"Guest {i}") for i in range(8)]
    for party in parties[:3]:
        act(client, headers, party["id"], "notify")
    whole = client.get(BASE, headers=headers).get_json()
    assert list(whole) == ["parties"]  # no limit, no cursor: the whole list, shaped as before paging
    found = pages(client, headers)
    assert [len(page) for page in found] == [3, 3, 2]
    assert [pid for page in found for pid in page] == [p["id"] for p in whole["parties"]]
    first = client.get(f"{BASE}?limit=3", headers=headers).get_json()["parties"]
    assert [p["position"] for p in first] == [1, 2, 3]


def test_a_page_after_the_first_keeps_places_in_line(client: FlaskClient, headers: dict[str, str]) -> None:
    for i in range(5):
        add_party(client, headers, name=f"Guest {i}")
    first = client.get(f"{BASE}?limit=2", headers=headers).get_json()
    second = client.get(f"{BASE}?limit=2&cursor={first['next_cursor']}", headers=headers).get_json()
    assert [p["position"] for p in second["parties"]] == [3, 4]


def test_nobody_is_lost_or_shown_twice_while_parties_join_and_leave(client: FlaskClient,
                                                                    headers: dict[str, str]) -> None:
    parties = [add_party(client, headers, name=f"Guest {i}") for i in range(12)]
    joined: list[str] = []

    def meanwhile(page: int) -> None:
        if page == 1:  # the last party of page 1 (the cursor's own) and one further on leave
            act(client, headers, parties[2]["id"], "seat")
            act(client, headers, parties[7]["id"], "cancel")
        if page in (1, 2):  # and two new parties join at the end
            joined.append(add_party(client, headers, name=f"Late {page}")["id"])

    found = [pid for page in pages(client, headers, between=meanwhile) for pid in page]
    assert len(found) == len(set(found))
    stayed = [p["id"] for i, p in enumerate(parties) if i not in (2, 7)]
    assert [pid for pid in found if pid in stayed] == stayed
    assert set(joined) <= set(found) and parties[7]["id"] not in found


def test_finished_statuses_page_too(client: FlaskClient, headers: dict[str, str]) -> None:
    parties = [add_party(client, headers, name=f"Guest {i}") for i in range(7)]
    for i, party in enumerate(parties):
        act(client, headers, party["id"], "seat" if i % 2 else "cancel")
    for status, expected in (("seated", 3), ("finished", 7)):
        whole = [p["id"] for p in client.get(f"{BASE}?status={status}", headers=headers).get_json()["parties"]]
        paged = [pid for page in pages(client, headers, f"status={status}&limit=2") for pid in page]
        assert paged == whole and len(set(paged)) == expected  # (one clock: ties at one score, by id)


@pytest.mark.parametrize("query", [
    "cursor=nonsense", "cursor=%E2%80%AE", "limit=0", "limit=501", "limit=%D9%A3", "limit=2.5", "limit=",
    "cursor=" + "A" * 301,
])
def test_a_bad_cursor_or_limit_is_a_400_in_the_one_error_shape(client: FlaskClient, headers: dict[str, str],
                                                               query: str) -> None:
    add_party(client, headers)
    response = client.get(f"{BASE}?{query}", headers=headers)
    assert response.status_code == 400
    error = response.get_json()["error"]
    assert error["code"] and error["message"] and set(error["fields"]) <= {"cursor", "limit"}


def test_a_cursor_given_for_one_status_is_refused_for_another(client: FlaskClient, headers: dict[str, str]) -> None:
    for _ in range(3):
        add_party(client, headers)
    cursor = client.get(f"{BASE}?limit=1", headers=headers).get_json()["next_cursor"]
    response = client.get(f"{BASE}?status=finished&cursor={cursor}", headers=headers)
    assert response.status_code == 400 and "cursor" in response.get_json()["error"]["fields"]
    for forged in (listing.Cursor("active", 9, "1", "abc"), listing.Cursor("active", 1, "nan", "abc"),
                   listing.Cursor("active", 1, " 1", "abc"), listing.Cursor("active", 1, "1", "a|b")):
        assert client.get(f"{BASE}?cursor={forged.text()}", headers=headers).status_code == 400, forged
    genuine = listing.Cursor("active", 1, "1.5e+20", "abc").text()  # a score as Redis may write one
    assert client.get(f"{BASE}?cursor={genuine}", headers=headers).status_code == 200


def fill(redis: Any, slug: str, count: int) -> None:
    """A long line written straight into Redis (joining 3,000 parties through fakeredis's Lua takes
    minutes): what the join script leaves, a party hash and its place in the waiting set."""
    pipe = redis.pipeline(transaction=False)
    for i in range(count):
        pid = f"p{i:05d}"
        pipe.hset(keys.party_key(slug, pid), mapping={
            "name": f"Guest {i}", "phone": f"+1415556{i:04d}", "party_size": str(1 + i % 6), "status": "waiting",
            "joined_at": "1700000000.0", "token": f"tok{i}", "notes": "", "seating": "", "language": "en"})
        pipe.zadd(keys.waiting_key(slug), {pid: i + 1})
    pipe.execute()


def test_a_list_of_3000_is_read_in_scripts_of_at_most_one_slice(app: Flask, client: FlaskClient,
                                                                 headers: dict[str, str], redis: Any) -> None:
    fill(redis, "noodle-bar", 3000)
    store = app.extensions["waitlist"].store
    calls: list[tuple[str, int, int]] = []
    run = store._run

    def counting(name: str, script_keys: Any, args: Any = ()) -> Any:
        reply = run(name, script_keys, args)
        if name == "list_page":
            calls.append((name, orjson.loads(args[0])["count"], len(orjson.loads(reply[0]))))
        else:
            calls.append((name, 0, 0))
        return reply

    store._run = counting
    whole = client.get(BASE, headers=headers).get_json()["parties"]
    assert len(whole) == 3000 and [p["position"] for p in whole] == list(range(1, 3001))
    assert [name for name, *_ in calls] == ["list_page"] * 60  # the last slice knows it ends the list
    assert max(asked for _, asked, _ in calls) == listing.SLICE
    assert max(read for *_, read in calls) == listing.SLICE
    calls.clear()
    page = client.get(f"{BASE}?limit=500", headers=headers).get_json()
    assert len(page["parties"]) == 500 and page["next_cursor"]
    assert len(calls) == 10 and max(read for *_, read in calls) <= listing.SLICE
    calls.clear()
    assert client.get("/host/noodle-bar/list").status_code == 401  # (not signed in: nothing read)
    assert calls == []


def test_a_list_of_one_slice_is_one_script(app: Flask, client: FlaskClient,
                                                                  headers: dict[str, str], redis: Any) -> None:
    fill(redis, "noodle-bar", listing.SLICE)
    store = app.extensions["waitlist"].store
    names: list[str] = []
    run = store._run
    store._run = lambda name, *args: names.append(name) or run(name, *args)
    assert len(client.get(BASE, headers=headers).get_json()["parties"]) == listing.SLICE
    assert names == ["list_page"]
