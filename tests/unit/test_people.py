"""People (issue 24): passwords, invitations, lockout, sessions, removal, API keys and who acted."""
from __future__ import annotations

import json
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.conftest import add_party, auth, create_restaurant
from tests.fakes import Clock
from tests.people import PASSWORD, accept, account_id, csrf_of, invite, person, sign_in
from waitlist.domain.people import MAX_LOCK_SECONDS, actor_name, allows, lock_seconds
from waitlist.store import keys

PEOPLE = "/api/v1/restaurants/noodle-bar/people"
KEYS = "/api/v1/restaurants/noodle-bar/keys"


def test_a_password_is_kept_only_as_an_argon2id_hash(client: FlaskClient, headers: dict[str, str],
                                                      redis: Any) -> None:
    person(client, headers, "mei@example.com", "host", "Mei")
    stored = redis.hget(keys.account_key(account_id(client, headers, "mei@example.com")), "pw")
    assert stored.startswith("$argon2id$") and PASSWORD not in stored


def test_an_invitation_works_once(app: Flask, headers: dict[str, str], client: FlaskClient) -> None:
    token = invite(client, headers, "mei@example.com", "host")
    assert accept(client, token, "Mei").status_code == 303
    other = app.test_client()
    assert other.get(f"/account/invite/{token}").status_code == 410
    assert other.post(f"/account/invite/{token}", data={"name": "Eve", "password": PASSWORD,
                                                        "csrf_token": csrf_of(other.get("/account/signin").text)}
                      ).status_code == 410


def test_an_invitation_expires_and_is_kept_only_hashed(app: Flask, headers: dict[str, str], client: FlaskClient,
                                                       redis: Any) -> None:
    token = invite(client, headers, "mei@example.com", "host")
    found = redis.keys("wl:invite:*")
    assert len(found) == 1 and token not in found[0]
    assert 0 < redis.ttl(found[0]) <= app.extensions["people"].invite_seconds


def test_a_role_above_the_inviters_own_cannot_be_given(client: FlaskClient, headers: dict[str, str]) -> None:
    csrf = person(client, headers, "kim@example.com", "manager", "Kim")
    assert client.get("/people/noodle-bar").status_code == 200
    # a manager is not an owner: inviting anyone is an owner's
    response = client.post("/people/noodle-bar/invite", data={"email": "x@example.com", "role": "host",
                                                              "csrf_token": csrf})
    assert response.status_code == 403


def test_a_wrong_password_for_an_existing_account_leaves_the_invitation_usable(
        app: Flask, client: FlaskClient, headers: dict[str, str]) -> None:
    create_restaurant(client, slug="taco-stand", name="Taco Stand", sms_from="+14155550101")
    person(client, headers, "mei@example.com", "host", "Mei")
    token = invite(client, headers, "mei@example.com", "manager", slug="noodle-bar")
    other = app.test_client()
    assert accept(other, token, "", password="wrong password!").status_code == 401
    assert accept(other, token, "", password=PASSWORD).status_code == 303


def test_wrong_passwords_make_the_account_wait_doubling_to_a_cap(app: Flask, clock: Clock,
                                                                 headers: dict[str, str]) -> None:
    owner = app.test_client()
    person(owner, headers, "own@example.com", "owner", "Olu")
    guesser = app.test_client()
    for _ in range(5):
        assert sign_in(guesser, "own@example.com", "not the password").status_code == 401
    refused = sign_in(owner, "own@example.com")  # the right password must wait too
    assert refused.status_code == 429 and "try again in 2 s" in refused.text
    clock.advance(2)
    assert sign_in(owner, "own@example.com").status_code == 303  # and a success starts the count over
    assert [lock_seconds(n) for n in (4, 5, 6, 7)] == [0, 2, 4, 8]
    assert lock_seconds(10_000) == MAX_LOCK_SECONDS  # never locked out for good


def test_a_reset_link_works_while_the_account_waits_and_ends_every_session(
        app: Flask, config: Any, headers: dict[str, str], redis: Any) -> None:
    app.config["WAITLIST"] = config
    people = app.extensions["people"]
    people.config = config.with_overrides(development=True)
    tablet = app.test_client()
    person(tablet, headers, "own@example.com", "owner", "Olu")
    guesser = app.test_client()
    for _ in range(8):
        sign_in(guesser, "own@example.com", "not the password")
    people.request_reset("OWN@example.com")
    sent = json.loads(redis.lindex(keys.dev_outbox_key(), 0))
    assert sent["to"] == "own@example.com"
    token = sent["body"].rsplit("/", 1)[1]
    phone = app.test_client()
    page = phone.get(f"/account/reset/{token}")
    assert phone.post(f"/account/reset/{token}", data={"password": "a brand new one",
                                                       "csrf_token": csrf_of(page.text)}).status_code == 303
    assert tablet.get("/host/noodle-bar").status_code == 303  # the old session is over
    assert sign_in(app.test_client(), "own@example.com", "a brand new one").status_code == 303
    assert phone.get(f"/account/reset/{token}").status_code == 410  # once


def test_signing_in_opens_a_new_session_and_closes_the_one_before(app: Flask, headers: dict[str, str],
                                                                  redis: Any) -> None:
    client = app.test_client()
    person(client, headers, "mei@example.com", "host", "Mei")
    with client.session_transaction() as s:
        before = s["person"]
    copy = app.test_client()
    with copy.session_transaction() as s:
        s["person"] = before
    assert copy.get("/host/noodle-bar").status_code == 200
    client.post("/account/signout", data={"csrf_token": csrf_of(client.get("/account").text)})
    sign_in(client, "mei@example.com")
    with client.session_transaction() as s:
        after = s["person"]
    assert after != before and after.split(".")[0] == before.split(".")[0]
    assert copy.get("/host/noodle-bar").status_code == 303  # the copied cookie's session is over
    assert redis.exists(keys.person_session_key(before.split(".")[1])) == 0


def test_signing_in_again_over_a_live_session_rotates_it(app: Flask, headers: dict[str, str]) -> None:
    client = app.test_client()
    person(client, headers, "mei@example.com", "host", "Mei")
    with client.session_transaction() as s:
        before = s["person"]
    copy = app.test_client()
    with copy.session_transaction() as s:
        s["person"] = before
    client.post("/account/signin", data={"email": "mei@example.com", "password": PASSWORD,
                                         "csrf_token": csrf_of(client.get("/account").text)})
    with client.session_transaction() as s:
        assert s["person"] != before
    assert copy.get("/host/noodle-bar").status_code == 303


def test_sign_out_everywhere_ends_the_sessions_on_other_devices(app: Flask, headers: dict[str, str]) -> None:
    tablet, phone = app.test_client(), app.test_client()
    person(tablet, headers, "mei@example.com", "host", "Mei")
    sign_in(phone, "mei@example.com")
    assert tablet.get("/host/noodle-bar").status_code == 200
    phone.post("/account/signout-everywhere", data={"csrf_token": csrf_of(phone.get("/account").text)})
    assert tablet.get("/host/noodle-bar").status_code == 303
    assert tablet.get("/host/noodle-bar/list").status_code == 401


def test_removing_a_person_ends_their_access_at_once(app: Flask, client: FlaskClient,
                                                     headers: dict[str, str]) -> None:
    tablet = app.test_client()
    person(tablet, headers, "mei@example.com", "host", "Mei")
    party = add_party(client, headers)
    assert client.delete(f"{PEOPLE}/{account_id(client, headers, 'mei@example.com')}",
                         headers=headers).status_code == 204
    assert tablet.get("/host/noodle-bar").status_code == 303
    assert tablet.post(f"/host/noodle-bar/parties/{party['id']}/seat").status_code == 403  # no session: no token
    assert sign_in(tablet, "mei@example.com").status_code == 303  # the account stays, the restaurant is gone
    assert tablet.get("/host/noodle-bar").status_code == 404


def test_a_restaurant_keeps_at_least_one_owner(client: FlaskClient, headers: dict[str, str]) -> None:
    person(client, headers, "own@example.com", "owner", "Olu")
    owner_id = account_id(client, headers, "own@example.com")
    assert client.delete(f"{PEOPLE}/{owner_id}", headers=headers).status_code == 400
    assert client.patch(f"{PEOPLE}/{owner_id}", json={"role": "host"}, headers=headers).status_code == 400


def test_a_person_of_another_restaurant_gets_404_there(app: Flask, client: FlaskClient,
                                                       headers: dict[str, str]) -> None:
    other = create_restaurant(client, slug="taco-stand", name="Taco Stand", sms_from="+14155550101")
    tablet = app.test_client()
    person(tablet, auth(other["api_key"]), "mei@example.com", "manager", "Mei", slug="taco-stand")
    for path in ("/host/noodle-bar", "/host/noodle-bar/list", "/owner/noodle-bar", "/people/noodle-bar"):
        assert tablet.get(path).status_code == 404, path
    assert tablet.get("/host/taco-stand").status_code == 200


def test_integration_keys_act_within_their_scope_until_revoked(client: FlaskClient, headers: dict[str, str]) -> None:
    made = {scope: client.post(KEYS, json={"name": f"{scope} app", "scope": scope}, headers=headers).get_json()
            for scope in ("read", "host", "admin")}
    read, host, admin = (auth(made[s]["api_key"]) for s in ("read", "host", "admin"))
    assert client.get("/api/v1/restaurants/noodle-bar/parties", headers=read).status_code == 200
    refused = client.post("/api/v1/restaurants/noodle-bar/parties", headers=read,
                          json={"name": "Ana", "phone": "+14155552999", "party_size": 2})
    assert refused.status_code == 403 and refused.get_json()["error"]["code"] == "forbidden"
    party = add_party(client, host)
    assert client.patch("/api/v1/restaurants/noodle-bar/settings", json={"hold_minutes": 12},
                        headers=host).status_code == 403
    assert client.patch("/api/v1/restaurants/noodle-bar/settings", json={"hold_minutes": 12},
                        headers=admin).status_code == 200
    listed = client.get(KEYS, headers=headers).get_json()["keys"]
    assert [k["name"] for k in listed] == ["restaurant key", "read app", "host app", "admin app"]
    assert all("api_key" not in k and "key_hash" not in k for k in listed)
    assert client.delete(f"{KEYS}/{made['host']['id']}", headers=admin).status_code == 204
    assert client.get(f"/api/v1/restaurants/noodle-bar/parties/{party['id']}", headers=host).status_code == 401


def test_nobody_makes_a_key_that_may_do_more_than_they_may(app: Flask, client: FlaskClient,
                                                           headers: dict[str, str]) -> None:
    manager = app.test_client()
    csrf = person(manager, headers, "kim@example.com", "manager", "Kim")
    assert manager.post("/people/noodle-bar/keys", data={"name": "pos", "scope": "admin",
                                                         "csrf_token": csrf}).status_code == 403
    assert manager.post("/people/noodle-bar/keys", data={"name": "pos", "scope": "host",
                                                         "csrf_token": csrf}).status_code == 303
    page = manager.get("/people/noodle-bar").text
    assert "wlk_" in page and "pos" in page  # shown once
    assert "wlk_" not in manager.get("/people/noodle-bar").text


def test_the_restaurant_key_works_as_an_admin_key_until_revoked(app: Flask, client: FlaskClient,
                                                                headers: dict[str, str]) -> None:
    tablet = app.test_client()
    page = tablet.get("/host/noodle-bar/signin")
    tablet.post("/host/noodle-bar/signin", data={"api_key": headers["Authorization"][7:],
                                                 "csrf_token": csrf_of(page.text)})
    assert tablet.get("/owner/noodle-bar").status_code == 200
    admin = client.post(KEYS, json={"name": "ops", "scope": "admin"}, headers=headers).get_json()
    assert client.delete(f"{KEYS}/restaurant-key", headers=headers).status_code == 204
    assert client.get("/api/v1/restaurants/noodle-bar", headers=headers).status_code == 401
    assert tablet.get("/host/noodle-bar").status_code == 303  # signed out with it
    keys_now = client.get(KEYS, headers=auth(admin["api_key"])).get_json()["keys"]
    assert [k["id"] for k in keys_now] == [admin["id"]]


def test_the_host_stand_and_the_events_name_the_person_who_acted(app: Flask, client: FlaskClient,
                                                                 headers: dict[str, str], redis: Any) -> None:
    tablet = app.test_client()
    csrf = person(tablet, headers, "mei@example.com", "host", "Mei")
    party = add_party(client, headers)
    assert tablet.post(f"/host/noodle-bar/parties/{party['id']}/seat", data={"csrf_token": csrf}).status_code == 303
    assert '<span class="muted by">by Mei</span>' in tablet.get("/host/noodle-bar").text
    events = redis.xrange(keys.events_key("noodle-bar"))
    seated = [fields for _id, fields in events if fields.get("to") == "seated"]
    mei = account_id(client, headers, "mei@example.com")
    assert seated[-1]["actor"] == f"person:{mei}:Mei" and actor_name(seated[-1]["actor"]) == "Mei"


def test_a_tablet_on_the_restaurant_key_still_records_host(client: FlaskClient, headers: dict[str, str],
                                                           redis: Any) -> None:
    party = add_party(client, headers)
    client.post(f"/api/v1/restaurants/noodle-bar/parties/{party['id']}/seat", headers=headers)
    seated = [f for _i, f in redis.xrange(keys.events_key("noodle-bar")) if f.get("to") == "seated"]
    assert seated[-1]["actor"] == "host"


def test_a_person_of_several_restaurants_switches_in_one_click_and_an_owner_compares_them(
        app: Flask, client: FlaskClient, headers: dict[str, str]) -> None:
    other = create_restaurant(client, slug="taco-stand", name="Taco Stand", sms_from="+14155550101")
    owner = app.test_client()
    person(owner, headers, "own@example.com", "owner", "Olu")
    accept(owner, invite(client, auth(other["api_key"]), "own@example.com", "owner", slug="taco-stand"), "")
    home = owner.get("/account").text
    assert 'href="/host/noodle-bar"' in home and 'href="/host/taco-stand"' in home and "/account/group" in home
    stand = owner.get("/host/noodle-bar").text
    assert '<a class="switch" href="/host/taco-stand">Taco Stand</a>' in stand  # one click from the stand
    add_party(client, headers)
    group = owner.get("/account/group")
    assert group.status_code == 200 and "Noodle Bar" in group.text and "Taco Stand" in group.text


@pytest.mark.parametrize(("role", "needed", "allowed"), [
    ("viewer", "viewer", True), ("viewer", "host", False), ("host", "host", True), ("host", "manager", False),
    ("manager", "manager", True), ("manager", "owner", False), ("owner", "owner", True), ("nobody", "viewer", False),
])
def test_a_role_allows_what_the_roles_below_it_allow(role: str, needed: str, allowed: bool) -> None:
    assert allows(role, needed) is allowed


def test_a_named_key_is_recorded_as_the_actor_of_what_it_does(client: FlaskClient, headers: dict[str, str],
                                                               redis: Any) -> None:
    made = client.post(KEYS, json={"name": "POS", "scope": "host"}, headers=headers).get_json()
    pos = auth(made["api_key"])
    party = add_party(client, pos)
    client.post(f"/api/v1/restaurants/noodle-bar/parties/{party['id']}/move", json={"position": 1}, headers=pos)
    client.post(f"/api/v1/restaurants/noodle-bar/parties/{party['id']}/seat", headers=pos)
    actors = {f.get("type"): f["actor"] for _i, f in redis.xrange(keys.events_key("noodle-bar")) if "actor" in f}
    assert set(actors.values()) == {f"key:{made['id']}:POS"}, actors
