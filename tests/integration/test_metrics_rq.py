from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import ADMIN_TOKEN, add_party, auth, create_restaurant, make_config
from waitlist.web.app import create_app
from workers.relay import OutboxRelay

pytestmark = pytest.mark.integration


def test_metrics_show_the_outbox_and_rq_queue_depth_from_the_real_redis(real_redis: Any, real_rq_redis: Any) -> None:
    app = create_app(make_config(), redis=real_redis, rq_connection=real_rq_redis)
    client = app.test_client()
    key = create_restaurant(client)["api_key"]
    add_party(client, auth(key))

    def scrape() -> str:
        return client.get("/metrics", headers={"Authorization": f"Bearer {ADMIN_TOKEN}"}).get_data(as_text=True)
    before = scrape()
    assert "waitlist_outbox_texts 1" in before and 'rq_queue_jobs{queue="texts"} 0' in before
    waitlist = app.extensions["waitlist"]
    assert OutboxRelay(waitlist.messages, waitlist.store, waitlist.dispatcher).sweep() == 1

    body = scrape()
    assert "waitlist_outbox_texts 0" in body
    assert 'rq_queue_jobs{queue="texts"} 1' in body
    assert 'rq_failed_jobs{queue="texts"} 0' in body
    assert "rq_workers 0" in body
