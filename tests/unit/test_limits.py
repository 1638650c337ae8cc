from __future__ import annotations

from typing import Any

from flask import Flask
from flask.testing import FlaskClient

from tests.conftest import add_party, auth
from tests.unit.test_isolation import csrf_of


def test_the_public_estimate_answers_429_with_retry_after_past_its_limit(client: FlaskClient,
                                                                         restaurant: dict[str, Any]) -> None:
    url = "/api/v1/restaurants/noodle-bar/estimate"
    statuses = [client.get(url).status_code for _ in range(121)]
    assert statuses[:120] == [200] * 120
    response = client.get(url)
    assert response.status_code == 429
    assert int(response.headers["Retry-After"]) > 0
    assert response.get_json()["error"]["code"] == "rate_limited"


def test_guest_actions_are_limited_per_client(client: FlaskClient, headers: dict[str, str]) -> None:
    tokens = [add_party(client, headers)["status_url"].rsplit("/", 1)[1] for _ in range(11)]
    statuses = [client.post(f"/api/v1/status/{token}/leave").status_code for token in tokens]
    assert statuses[:10] == [200] * 10 and statuses[10] == 429


def test_other_clients_are_not_slowed_by_one_noisy_client(client: FlaskClient, restaurant: dict[str, Any]) -> None:
    url = "/api/v1/restaurants/noodle-bar/estimate"
    for _ in range(121):
        client.get(url, environ_base={"REMOTE_ADDR": "10.0.0.1"})
    assert client.get(url, environ_base={"REMOTE_ADDR": "10.0.0.2"}).status_code == 200


def test_staff_endpoints_have_no_public_limit(client: FlaskClient, headers: dict[str, str]) -> None:
    statuses = {client.get("/api/v1/restaurants/noodle-bar/parties", headers=headers).status_code
                for _ in range(150)}
    assert statuses == {200}


PARTIES = "/api/v1/restaurants/noodle-bar/parties"
ATTACKER = {"REMOTE_ADDR": "10.0.0.66"}
HOST = {"REMOTE_ADDR": "10.0.0.7"}


def wrong_keys(client: FlaskClient, times: int, path: str = PARTIES) -> list[int]:
    return [client.get(path, headers=auth(f"wlk_guess{n}"), environ_base=ATTACKER).status_code
            for n in range(times)]


def test_wrong_staff_keys_from_one_address_get_429_past_the_limit(client: FlaskClient,
                                                                   restaurant: dict[str, Any]) -> None:
    assert wrong_keys(client, 20) == [401] * 20
    response = client.get(PARTIES, headers=auth("wlk_guess-21"), environ_base=ATTACKER)
    assert response.status_code == 429
    assert response.get_json()["error"]["code"] == "rate_limited"
    assert 0 < int(response.headers["Retry-After"]) <= 60


def test_past_the_limit_even_the_right_key_from_that_address_is_refused(client: FlaskClient,
                                                                         headers: dict[str, str]) -> None:
    """Otherwise the guesses would still be answered: 429 for a wrong key, 200 for the right one."""
    wrong_keys(client, 21)
    assert client.get(PARTIES, headers=headers, environ_base=ATTACKER).status_code == 429


def test_another_address_s_failures_never_slow_a_valid_key(client: FlaskClient, headers: dict[str, str]) -> None:
    wrong_keys(client, 40)
    assert client.get(PARTIES, headers=headers, environ_base=HOST).status_code == 200


def test_a_host_s_own_valid_requests_never_count(client: FlaskClient, headers: dict[str, str]) -> None:
    for _ in range(100):
        assert client.get(PARTIES, headers=headers, environ_base=ATTACKER).status_code == 200
    assert wrong_keys(client, 20) == [401] * 20


def test_wrong_admin_tokens_get_429_past_the_limit(client: FlaskClient) -> None:
    statuses = [client.post("/api/v1/restaurants", json={"slug": "x"}, headers=auth(f"guess{n}"),
                            environ_base=ATTACKER).status_code for n in range(21)]
    assert statuses == [403] * 20 + [429]


def test_requests_offering_no_key_are_not_counted(client: FlaskClient, restaurant: dict[str, Any]) -> None:
    assert {client.get(PARTIES, environ_base=ATTACKER).status_code for _ in range(30)} == {401}
    assert wrong_keys(client, 1) == [401]


def test_wrong_keys_on_the_api_also_close_the_sign_in_form(client: FlaskClient, restaurant: dict[str, Any]) -> None:
    wrong_keys(client, 21)
    response = client.post("/host/noodle-bar/signin", data={"api_key": restaurant["api_key"]},
                           environ_base=ATTACKER)
    assert response.status_code == 429
    assert response.headers["Retry-After"]


def test_wrong_keys_at_the_sign_in_form_count_too(app: Flask, client: FlaskClient,
                                                  restaurant: dict[str, Any]) -> None:
    guard = app.extensions["failed_key_guard"]
    for _ in range(19):
        guard.failed("10.0.0.66")
    form = {"api_key": "wlk_wrong", "csrf_token": csrf_of(client.get("/host/noodle-bar/signin").text)}
    assert client.post("/host/noodle-bar/signin", data=form, environ_base=ATTACKER).status_code == 401
    response = client.post("/host/noodle-bar/signin", data=form, environ_base=ATTACKER)
    assert response.status_code == 429
    assert client.get(PARTIES, headers=auth(restaurant["api_key"]), environ_base=ATTACKER).status_code == 429
