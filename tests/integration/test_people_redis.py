"""People on the real Redis (issue 24): links expire, and one invitation accepted by two clicks at once
makes one membership."""
from __future__ import annotations

import threading
import time
from typing import Any

from tests.conftest import auth, create_restaurant, make_config
from tests.fakes import RecordingDispatcher
from tests.people import PASSWORD, accept, invite
from waitlist.domain.people import LinkInvalid
from waitlist.store import keys
from waitlist.web.app import create_app


def test_an_invitation_and_a_reset_link_stop_working_when_they_expire(real_redis: Any) -> None:
    app = create_app(make_config(rate_limits_enabled=False), redis=real_redis, dispatcher=RecordingDispatcher())
    client = app.test_client()
    headers = auth(create_restaurant(client)["api_key"])
    people = app.extensions["people"]
    people.invite_seconds = people.reset_seconds = 1
    token = invite(client, headers, "mei@example.com", "host")
    time.sleep(1.3)
    assert client.get(f"/account/invite/{token}").status_code == 410
    people.invite_seconds = 60
    assert accept(client, invite(client, headers, "mei@example.com", "host"), "Mei").status_code == 303
    people.request_reset("mei@example.com")
    assert len(real_redis.keys("wl:pwreset:*")) == 1
    time.sleep(1.3)
    assert real_redis.keys("wl:pwreset:*") == []


def test_one_invitation_clicked_twice_at_once_is_used_once(real_redis: Any) -> None:
    app = create_app(make_config(rate_limits_enabled=False), redis=real_redis, dispatcher=RecordingDispatcher())
    client = app.test_client()
    headers = auth(create_restaurant(client)["api_key"])
    people = app.extensions["people"]
    token = invite(client, headers, "mei@example.com", "host")
    outcomes: list[str] = []
    start = threading.Barrier(4)

    def click(name: str) -> None:
        start.wait()
        try:
            people.accept_invite(token, name, PASSWORD)
            outcomes.append("accepted")
        except LinkInvalid:
            outcomes.append("refused")

    threads = [threading.Thread(target=click, args=(f"Mei {i}",)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["accepted", "refused", "refused", "refused"]
    assert len(real_redis.hgetall(keys.members_key("noodle-bar"))) == 1
