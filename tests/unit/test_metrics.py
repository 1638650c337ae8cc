from __future__ import annotations

from typing import Any

from flask.testing import FlaskClient

from tests.conftest import ADMIN_TOKEN, add_party


def test_metrics_count_parties_by_status_across_restaurants(client: FlaskClient, headers: dict[str, str]) -> None:
    first = add_party(client, headers)
    add_party(client, headers)
    client.post(f"/api/v1/restaurants/noodle-bar/parties/{first['id']}/notify", headers=headers)
    response = client.get("/metrics", headers={"Authorization": f"Bearer {ADMIN_TOKEN}"})
    assert response.status_code == 200 and response.mimetype == "text/plain"
    body = response.get_data(as_text=True)
    assert "waitlist_restaurants 1" in body
    assert 'waitlist_parties{status="waiting"} 1' in body
    assert 'waitlist_parties{status="notified"} 1' in body


def test_metrics_need_the_admin_token(client: FlaskClient, restaurant: dict[str, Any]) -> None:
    assert client.get("/metrics").status_code == 401
    assert client.get("/metrics", headers={"Authorization": "Bearer nope"}).status_code == 403
