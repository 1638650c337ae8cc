"""The live pages' fan-out (waitlist/web/fanout.py): one reader per restaurant, coalesced pushes, caps."""
from __future__ import annotations

import json
from typing import Any

import fakeredis
import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.conftest import add_party, create_restaurant
from tests.fakes import Clock, RecordingDispatcher
from waitlist.store import events_key
from waitlist.store.events import EventFeed
from waitlist.web import live
from waitlist.web.app import create_app
from waitlist.web.fanout import Caps, Hub, TooManyStreams


class CountingFeed(EventFeed):
    """The real feed over fakeredis, counting its stream reads."""

    def __init__(self, redis: Any):
        super().__init__(redis)
        self.reads = 0

    def read(self, slug: str, last_id: str, block_seconds: float) -> list[tuple[str, dict[str, str]]]:
        self.reads += 1
        return super().read(slug, last_id, block_seconds)


@pytest.fixture
def redis() -> fakeredis.FakeRedis:
    return fakeredis.FakeRedis(decode_responses=True)


def test_many_pages_of_one_restaurant_share_one_reader_and_one_read(redis: fakeredis.FakeRedis) -> None:
    feed = CountingFeed(redis)
    hub = Hub(feed, Caps(per_address=1000), autostart=False)
    pages = [hub.subscribe("noodle-bar", "10.0.0.1", public=True) for _ in range(300)]
    other = hub.subscribe("taco-stand", "10.0.0.2", public=True)
    newest = redis.xadd(events_key("noodle-bar"), {"type": "status", "party": "p1"})
    assert hub.pump("noodle-bar", block_seconds=0.001) == 1
    assert feed.reads == 1 and set(hub.readers) == {"noodle-bar", "taco-stand"}
    changes = [page.take() for page in pages]
    assert all(change is not None and change.last_id == newest and change.parties == ["p1"] for change in changes)
    assert other.take() is None  # another restaurant's pages hear nothing of it


def test_a_burst_of_events_reaches_a_page_as_one_push(redis: fakeredis.FakeRedis) -> None:
    hub = Hub(EventFeed(redis), autostart=False)
    page = hub.subscribe("noodle-bar", "10.0.0.1", public=False)
    ids = [redis.xadd(events_key("noodle-bar"), {"type": "status", "party": f"p{n % 7}"}) for n in range(60)]
    hub.pump("noodle-bar", block_seconds=0.001)
    change = page.take()
    assert change is not None and change.last_id == ids[-1]
    assert change.parties == sorted(f"p{n}" for n in range(7)) and not change.everything
    assert page.take() is None  # nothing more until something new arrives


def test_the_staff_stream_names_the_parties_and_says_all_for_an_event_of_no_party(redis: fakeredis.FakeRedis) -> None:
    hub = Hub(EventFeed(redis), autostart=False)
    page = hub.subscribe("noodle-bar", "10.0.0.1", public=False)
    stream = live.changes(page, staff=True, sleep=lambda _: None)
    assert json.loads(next(stream).split("data: ", 1)[1]) == {"id": "0-0", "parties": [], "all": True}
    redis.xadd(events_key("noodle-bar"), {"type": "status", "party": "p2"})
    hub.pump("noodle-bar", block_seconds=0.001)
    assert json.loads(next(stream).split("data: ", 1)[1])["parties"] == ["p2"]
    last = redis.xadd(events_key("noodle-bar"), {"type": "tables"})
    hub.pump("noodle-bar", block_seconds=0.001)
    assert json.loads(next(stream).split("data: ", 1)[1]) == {"id": last, "parties": [], "all": True}


def test_a_public_stream_tells_the_entry_id_and_no_party(redis: fakeredis.FakeRedis) -> None:
    hub = Hub(EventFeed(redis), autostart=False)
    page = hub.subscribe("noodle-bar", "10.0.0.1", public=True)
    stream = live.changes(page, staff=False, sleep=lambda _: None)
    next(stream)
    last = str(redis.xadd(events_key("noodle-bar"), {"type": "status", "party": "secret-party-id"}))
    hub.pump("noodle-bar", block_seconds=0.001)
    assert next(stream) == f"event: changed\ndata: {last}\n\n"


def test_a_page_that_goes_away_is_dropped_and_its_restaurant_no_longer_read(redis: fakeredis.FakeRedis) -> None:
    feed = CountingFeed(redis)
    hub = Hub(feed, autostart=False)
    staying, leaving = (hub.subscribe("noodle-bar", f"10.0.0.{n}", public=True) for n in (1, 2))
    leaving.close()
    leaving.close()  # twice is harmless
    assert hub.open_streams() == {"public": 1, "restaurants_followed": 1, "all": 1}
    redis.xadd(events_key("noodle-bar"), {"type": "status", "party": "p1"})
    hub.pump("noodle-bar", block_seconds=0.001)
    assert staying.take() is not None and leaving.take() is None
    staying.close()
    assert hub.open_streams() == {"public": 0, "restaurants_followed": 0, "all": 0}
    assert hub.pump("noodle-bar") == 0 and feed.reads == 1


def test_the_running_reader_wakes_a_waiting_page(redis: fakeredis.FakeRedis) -> None:
    hub = Hub(EventFeed(redis), block_seconds=0.05)
    page = hub.subscribe("noodle-bar", "10.0.0.1", public=True)
    redis.xadd(events_key("noodle-bar"), {"type": "status", "party": "p1"})
    assert page.wait(10.0)  # woken by the reader's thread, not by a timeout
    change = page.take()
    assert change is not None and change.parties == ["p1"]
    page.close()


def test_public_caps_refuse_per_address_per_restaurant_and_in_all(redis: fakeredis.FakeRedis) -> None:
    hub = Hub(EventFeed(redis), Caps(per_address=2, per_restaurant=3, total=4), autostart=False)
    hub.subscribe("a", "10.0.0.1", public=True)
    first = hub.subscribe("a", "10.0.0.1", public=True)
    with pytest.raises(TooManyStreams, match="from this address"):
        hub.subscribe("b", "10.0.0.1", public=True)
    hub.subscribe("a", "10.0.0.2", public=True)
    with pytest.raises(TooManyStreams, match="for this restaurant"):
        hub.subscribe("a", "10.0.0.3", public=True)
    hub.subscribe("b", "10.0.0.3", public=True)
    with pytest.raises(TooManyStreams, match="on this server"):
        hub.subscribe("c", "10.0.0.4", public=True)
    hub.subscribe("a", "10.0.0.1", public=False)  # a staff stream is never refused for the crowd
    first.close()
    hub.subscribe("c", "10.0.0.1", public=True)  # a closed page's place is free again


def test_a_graceful_stop_ends_every_stream_with_a_retry_hint(redis: fakeredis.FakeRedis) -> None:
    hub = Hub(EventFeed(redis), autostart=False)
    streams = [live.changes(hub.subscribe("noodle-bar", "10.0.0.1", public=True), staff=False) for _ in range(3)]
    for stream in streams:
        next(stream)
    hub.close_all()
    for stream in streams:
        assert [line.split(" ")[0] for line in stream] == ["retry:"]
    assert hub.open_streams()["all"] == 0


# --- over HTTP ---------------------------------------------------------------------------------------------

@pytest.fixture
def capped_app(redis: fakeredis.FakeRedis, dispatcher: RecordingDispatcher, clock: Clock, config: Any) -> Flask:
    app = create_app(config.with_overrides(live_max_streams_per_address=2, live_max_streams_per_restaurant=3),
                     redis=redis, dispatcher=dispatcher, clock=clock)
    app.testing = True
    return app


def open_stream(client: FlaskClient, path: str, address: str) -> Any:
    return client.get(path, buffered=False, environ_base={"REMOTE_ADDR": address},
                      headers={"Accept": "text/event-stream"})


def test_past_its_cap_an_address_gets_a_429_in_the_error_shape(capped_app: Flask) -> None:
    client = capped_app.test_client()
    restaurant = create_restaurant(client)
    party = add_party(client, {"Authorization": f"Bearer {restaurant['api_key']}"})
    token = party["status_url"].rsplit("/", 1)[1]
    opened = [open_stream(client, "/board/noodle-bar/events", "10.0.0.1"),
              open_stream(client, f"/s/{token}/events", "10.0.0.1")]
    assert [response.status_code for response in opened] == [200, 200]
    refused = open_stream(client, "/board/noodle-bar/events", "10.0.0.1")
    assert refused.status_code == 429 and int(refused.headers["Retry-After"]) > 0
    assert refused.get_json()["error"]["code"] == "too_many_streams"
    opened.append(open_stream(client, "/board/noodle-bar/events", "10.0.0.2"))  # another address may
    assert opened[-1].status_code == 200
    assert open_stream(client, "/board/noodle-bar/events", "10.0.0.3").status_code == 429  # the restaurant's cap
    for response in opened:
        response.close()  # closing frees the places, even of streams never read
    assert capped_app.extensions["live_hub"].open_streams()["public"] == 0
    assert open_stream(client, "/board/noodle-bar/events", "10.0.0.1").status_code == 200


def test_a_signed_in_host_stream_names_the_added_party_and_ends_at_sign_out(
        app: Flask, client: FlaskClient, restaurant: dict[str, Any], headers: dict[str, str]) -> None:
    from tests.unit.test_pages import sign_in

    app.config["LIVE_HEARTBEAT_SECONDS"] = 0.05  # the session is checked at each heartbeat too
    app.config["LIVE_LIFETIME_SECONDS"] = 30  # a broken push fails the test instead of hanging it
    csrf = sign_in(client, restaurant["api_key"])
    response = client.get("/host/noodle-bar/events", buffered=False, headers={"Accept": "text/event-stream"})
    assert response.status_code == 200
    lines = iter(response.response)
    first = json.loads(_text(next(lines)).split("data: ", 1)[1])
    assert first["all"] is True and first["parties"] == []
    party = add_party(client, headers)
    pushed = next(line for line in map(_text, lines) if line.startswith("event: changed"))  # the reader's thread
    assert json.loads(pushed.split("data: ", 1)[1])["parties"] == [party["id"]]
    assert client.post("/host/noodle-bar/signout", data={"csrf_token": csrf}).status_code == 303
    rest = [_text(line) for line in lines]  # ends by itself: the session is gone
    assert not any(line.startswith("event:") for line in rest)
    response.close()
    assert app.extensions["live_hub"].open_streams()["all"] == 0


def _text(chunk: Any) -> str:
    return chunk.decode() if isinstance(chunk, bytes) else str(chunk)
