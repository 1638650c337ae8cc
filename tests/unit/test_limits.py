from __future__ import annotations

from typing import Any

from flask.testing import FlaskClient

from tests.conftest import add_party


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
