from __future__ import annotations

from typing import Any

import pytest
from flask.testing import FlaskClient

from tests.conftest import ADMIN_TOKEN, add_party, auth, create_restaurant

ADMIN = {"Authorization": f"Bearer {ADMIN_TOKEN}"}


def test_creating_a_restaurant_returns_its_key_once(client: FlaskClient) -> None:
    body = create_restaurant(client, slug="pho-place", name="Pho Place", timezone="America/New_York", language="zh")
    assert body["slug"] == "pho-place"
    assert body["timezone"] == "America/New_York"
    assert body["language"] == "zh"
    assert body["api_key"].startswith("wlk_") and len(body["api_key"]) >= 30
    shown = client.get("/api/v1/restaurants/pho-place", headers=auth(body["api_key"])).get_json()
    assert "api_key" not in shown and "api_key_hash" not in str(shown)


def test_the_key_is_stored_only_as_a_hash(client: FlaskClient, redis: Any) -> None:
    key = create_restaurant(client)["api_key"]
    dump = str({k: redis.type(k) == "hash" and redis.hgetall(k) for k in redis.keys("*")})
    assert key not in dump


def test_a_taken_slug_is_refused(client: FlaskClient) -> None:
    create_restaurant(client)
    response = client.post("/api/v1/restaurants", json={"slug": "noodle-bar", "name": "Other",
                                                        "sms_from": "+14155550199"}, headers=ADMIN)
    assert response.status_code == 409
    assert response.get_json()["error"]["code"] == "slug_taken"


def test_two_restaurants_cannot_share_a_sending_number(client: FlaskClient) -> None:
    create_restaurant(client)
    response = client.post("/api/v1/restaurants", json={"slug": "other", "name": "Other",
                                                        "sms_from": "+14155550100"}, headers=ADMIN)
    assert response.status_code == 400
    assert "sms_from" in response.get_json()["error"]["fields"]


@pytest.mark.parametrize(("headers", "status"), [({}, 401), ({"Authorization": "Bearer wrong"}, 403)])
def test_creating_a_restaurant_needs_the_admin_token(client: FlaskClient, headers: dict[str, str],
                                                     status: int) -> None:
    response = client.post("/api/v1/restaurants", json={"slug": "x1", "name": "X", "sms_from": "+14155550100"},
                           headers=headers)
    assert response.status_code == status


@pytest.mark.parametrize(("field", "value"), [
    ("slug", "Has Spaces"), ("slug", "a"), ("slug", "{tag}"), ("slug", "x" * 41), ("name", "   "),
    ("name", "n" * 61), ("sms_from", "not-a-number"), ("timezone", "Mars/Olympus"), ("language", "fr"),
])
def test_bad_restaurant_fields_get_field_errors(client: FlaskClient, field: str, value: str) -> None:
    body = {"slug": "ok-slug", "name": "Ok", "sms_from": "+14155550100", field: value}
    response = client.post("/api/v1/restaurants", json=body, headers=ADMIN)
    assert response.status_code == 400
    assert field in response.get_json()["error"]["fields"]


def test_staff_endpoints_tell_missing_wrong_and_foreign_keys_apart(client: FlaskClient) -> None:
    mine = create_restaurant(client)
    theirs = create_restaurant(client, slug="taco-hut", name="Taco Hut", sms_from="+14155550101")
    url = "/api/v1/restaurants/noodle-bar/parties"
    assert client.get(url).status_code == 401
    assert client.get(url, headers=auth("wlk_unknown")).status_code == 401
    assert client.get(url, headers=auth(theirs["api_key"])).status_code == 403
    assert client.get(url, headers=auth(mine["api_key"])).status_code == 200
    assert client.get("/api/v1/restaurants/nowhere/parties", headers=auth(mine["api_key"])).status_code == 404


def test_rotating_the_key_revokes_the_old_one(app: Any, client: FlaskClient) -> None:
    old = create_restaurant(client)["api_key"]
    result = app.test_cli_runner().invoke(args=["restaurant", "rotate-key", "noodle-bar"])
    assert result.exit_code == 0, result.output
    new = __import__("json").loads(result.output)["api_key"]
    assert client.get("/api/v1/restaurants/noodle-bar", headers=auth(old)).status_code == 401
    assert client.get("/api/v1/restaurants/noodle-bar", headers=auth(new)).status_code == 200


def test_the_cli_creates_a_restaurant_like_the_api(app: Any, client: FlaskClient) -> None:
    result = app.test_cli_runner().invoke(args=[
        "restaurant", "create", "dim-sum", "--name", "Dim Sum", "--sms-from", "+14155550177",
        "--timezone", "Asia/Shanghai", "--language", "zh"])
    assert result.exit_code == 0, result.output
    body = __import__("json").loads(result.output)
    assert body["slug"] == "dim-sum" and body["language"] == "zh" and body["api_key"]
    again = app.test_cli_runner().invoke(args=["restaurant", "create", "dim-sum", "--name", "X",
                                               "--sms-from", "+14155550178"])
    assert again.exit_code == 1
    assert "slug_taken" in again.output


def test_settings_can_be_read_and_patched(client: FlaskClient, headers: dict[str, str]) -> None:
    url = "/api/v1/restaurants/noodle-bar/settings"
    assert client.get(url, headers=headers).get_json()["hold_minutes"] == 10
    patched = client.patch(url, json={"hold_minutes": 0.1, "tables": {"2": 6, "4": 8, "6": 2},
                                      "remote_join": True}, headers=headers)
    assert patched.status_code == 200, patched.get_json()
    body = client.get(url, headers=headers).get_json()
    assert body["hold_minutes"] == 0.1 and body["tables"] == {"2": 6, "4": 8, "6": 2} and body["remote_join"]


@pytest.mark.parametrize(("field", "value"), [
    ("hold_minutes", 0), ("hold_minutes", -1), ("hold_minutes", "ten"), ("hold_minutes", 1e9),
    ("almost_ready_position", 2.5), ("almost_ready_position", -1), ("max_party_size", 0),
    ("max_party_size", True), ("tables", {"two": 3}), ("tables", {"2": -1}), ("tables", [2, 4]),
    ("tables", {"2": 0, "4": 0}), ("tables", {}),
    ("language", "de"), ("remote_join", "yes"), ("feedback", 1), ("unknown_setting", 1),
])
def test_bad_settings_are_refused_with_a_field_error(client: FlaskClient, headers: dict[str, str], field: str,
                                                     value: Any) -> None:
    response = client.patch("/api/v1/restaurants/noodle-bar/settings", json={field: value}, headers=headers)
    assert response.status_code == 400
    assert field in response.get_json()["error"]["fields"]


@pytest.mark.parametrize(("joins", "words"), [
    (["2+2=3"], "more than the biggest table (4) or as many as one"), (["4+4=4"], "more than each of its tables"),
    (["2+4=6"], "tables of one size"),
    (["6+6=12"], "fewer than 2 tables of 6"), (["4+4+4=12"], "fewer than 3 tables of 4"),
    (["four and four"], "like 4+4=8"), ("4+4=8", "Not a valid list."), (["+".join(["4"] * 30) + "=99"], "at most 26"),
])
def test_joins_must_push_together_tables_the_inventory_has(client: FlaskClient, headers: dict[str, str],
                                                           joins: Any, words: str) -> None:
    url = "/api/v1/restaurants/noodle-bar/settings"
    response = client.patch(url, json={"tables": {"2": 4, "4": 2}, "joins": joins}, headers=headers)
    assert response.status_code == 400
    assert any(words in message for message in response.get_json()["error"]["fields"]["joins"])
    assert client.get(url, headers=headers).get_json()["joins"] is None  # nothing saved


def test_a_party_at_joined_tables_is_quoted_for_both(client: FlaskClient, headers: dict[str, str]) -> None:
    """Two 4-tops and joins 4+4=8: with one 4-top taken, a party of 8 waits for the other to free too."""
    base = "/api/v1/restaurants/noodle-bar"
    client.patch(f"{base}/settings", json={"tables": {"2": 2, "4": 2}}, headers=headers)
    seated = add_party(client, headers, party_size=4)
    assert client.post(f"{base}/parties/{seated['id']}/seat", headers=headers).status_code == 200

    def wait_for_eight() -> int:
        return int(client.get(f"{base}/estimate?party_size=8").get_json()["minutes"])

    assert wait_for_eight() == 0  # one 4-top is free, and an 8 was taken to fit at one
    assert client.patch(f"{base}/settings", json={"joins": ["4+4=8"]}, headers=headers).status_code == 200
    assert client.get(f"{base}/settings", headers=headers).get_json()["joins"] == ["4+4=8"]
    assert wait_for_eight() > 5


def test_beside_an_8_top_a_party_of_8_is_quoted_for_it_or_two_4_tops(client: FlaskClient,
                                                                      headers: dict[str, str]) -> None:
    """One 8-top, taken, and two free 4-tops: with joins 4+4=8 the 8 can sit now, the host's row and the
    public estimate agree, and a party of 4 still has a 4-top of its own."""
    base = "/api/v1/restaurants/noodle-bar"
    client.patch(f"{base}/settings", json={"tables": {"2": 2, "4": 2, "8": 1}}, headers=headers)
    seated = add_party(client, headers, party_size=8)
    assert client.post(f"{base}/parties/{seated['id']}/seat", headers=headers).status_code == 200

    def wait_for(size: int) -> int:
        return int(client.get(f"{base}/estimate?party_size={size}").get_json()["minutes"])

    assert wait_for(8) > 30  # for the 8-top's party to finish
    assert client.patch(f"{base}/settings", json={"joins": ["4+4=8"]}, headers=headers).status_code == 200
    assert wait_for(8) == 0 and wait_for(4) == 0
    assert add_party(client, headers, party_size=7)["quote_minutes"] == 0


def test_joins_of_tables_the_named_floor_lacks_are_left_out_of_the_quote(client: FlaskClient,
                                                                         headers: dict[str, str]) -> None:
    """Joins are checked against tables by count; a named floor may lack their tables (no 4-tops here)."""
    base = "/api/v1/restaurants/noodle-bar"
    floor = {"tables": [{"name": "1", "seats": 2}, {"name": "2", "seats": 2}, {"name": "3", "seats": 6}]}
    assert client.put(f"{base}/tables", json=floor, headers=headers).status_code == 200
    assert client.patch(f"{base}/settings", json={"joins": ["4+4=8"]}, headers=headers).status_code == 200
    add_party(client, headers, party_size=6)
    response = client.get(f"{base}/estimate?party_size=8")
    assert response.status_code == 200 and response.get_json()["minutes"] > 0  # behind the 6, for the 6-top
    assert add_party(client, headers, party_size=7)["quote_minutes"] > 0


def test_max_party_size_applies_to_new_parties(client: FlaskClient, headers: dict[str, str]) -> None:
    client.patch("/api/v1/restaurants/noodle-bar/settings", json={"max_party_size": 6}, headers=headers)
    response = client.post("/api/v1/restaurants/noodle-bar/parties",
                           json={"name": "Big", "phone": "+14155550150", "party_size": 7}, headers=headers)
    assert response.status_code == 400
    assert "party_size" in response.get_json()["error"]["fields"]
    add_party(client, headers, party_size=6)
