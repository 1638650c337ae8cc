from __future__ import annotations

import socket

import pytest
from flask import Flask

from tests.conftest import ADMIN_TOKEN, make_config
from tests.fakes import RecordingDispatcher
from waitlist.web.app import create_app


@pytest.fixture
def down_client():  # type: ignore[no-untyped-def]
    """An app whose Redis is a port nothing listens on."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    from waitlist.store.connections import waitlist_redis

    redis = waitlist_redis(f"redis://127.0.0.1:{port}/0")
    app = create_app(make_config(), redis=redis, dispatcher=RecordingDispatcher())
    return app.test_client()


@pytest.mark.parametrize(("method", "path"), [
    ("get", "/healthz"),
    ("get", "/api/v1/restaurants/noodle-bar/estimate"),
    ("get", "/api/v1/status/abc"),
    ("post", "/api/v1/restaurants"),
])
def test_requests_answer_503_in_the_json_shape_while_redis_is_down(down_client, method: str, path: str) -> None:  # type: ignore[no-untyped-def]
    kwargs = {"json": {"slug": "abc", "name": "A", "sms_from": "+14155550100"},
              "headers": {"Authorization": f"Bearer {ADMIN_TOKEN}"}} if method == "post" else {}
    response = getattr(down_client, method)(path, **kwargs)
    assert response.status_code == 503
    assert response.get_json()["error"]["code"] == "store_unavailable"
    assert int(response.headers["Retry-After"]) >= 1


def test_json_answers_are_the_bytes_flasks_own_encoder_would_send(app: Flask) -> None:
    """The orjson provider writes its bytes straight into the response; they must match what Flask's
    encoder makes of the same value, and what orjson cannot encode still goes through Flask's."""
    import json
    from decimal import Decimal

    from flask.json.provider import DefaultJSONProvider

    payload = {"name": "Zoë \"Z\" 王", "sizes": [2, 4], "quote": None, "remote": False, "at": 1.5}
    with app.app_context():
        ours = app.json.response(payload)
        assert ours.get_data() == (json.dumps(payload, ensure_ascii=False, separators=(",", ":")) + "\n").encode()
        assert ours.mimetype == "application/json"
        odd = {"price": Decimal("1.50")}
        assert app.json.response(odd).get_data() == DefaultJSONProvider(app).response(odd).get_data()


def test_jsonify_takes_one_value_several_or_keywords_as_flask_documents(app: Flask) -> None:
    """The provider reads jsonify's arguments itself (Flask's helper for it is private)."""
    from flask.json.provider import DefaultJSONProvider

    flask_own = DefaultJSONProvider(app)
    with app.app_context():
        for args, kwargs in (((), {}), (([1, 2],), {}), ((1, "a"), {}), ((), {"a": 1, "b": [2]})):
            assert app.json.response(*args, **kwargs).get_data() == flask_own.response(*args, **kwargs).get_data()
        with pytest.raises(TypeError):
            app.json.response(1, a=2)
