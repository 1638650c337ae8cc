"""Outbound webhooks over fakeredis: signatures, which stream entry is which event, refused addresses,
the relay's cursor (no event twice, none lost, none from before the endpoint), and a day of failures
disabling an endpoint."""
from __future__ import annotations

import json
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.conftest import add_party, make_config
from tests.fakes import Clock
from waitlist.domain.webhooks import event_type, sign, url_problem, verify
from waitlist.services.webhooks import Delivery, Webhooks

SLUG = "noodle-bar"
DAY = 24 * 3600


class Recorded:
    """A delivery queue that records what the relay asked for."""

    def __init__(self) -> None:
        self.deliveries: list[Delivery] = []

    def deliver(self, slug: str, deliveries: list[Delivery]) -> None:
        assert slug == SLUG
        self.deliveries.extend(deliveries)


@pytest.fixture
def config() -> Any:
    return make_config(webhooks_allow_private=True)


@pytest.fixture
def hooks(app: Flask) -> Webhooks:
    return app.extensions["webhooks"]  # type: ignore[no-any-return]


def register(client: FlaskClient, headers: dict[str, str], **overrides: Any) -> dict[str, Any]:
    body = {"url": "http://127.0.0.1:9/hook", "events": ["party.created", "party.seated", "party.left"], **overrides}
    response = client.post(f"/api/v1/restaurants/{SLUG}/webhooks", json=body, headers=headers)
    assert response.status_code == 201, response.get_json()
    return dict(response.get_json())


# --- signing ------------------------------------------------------------------------------------------

def test_a_signature_checks_out_only_for_its_secret_body_and_time() -> None:
    body = b'{"id":"evt_1","type":"party.seated"}'
    header = sign("whsec_abc", 1_790_000_000, body)
    assert header.startswith("t=1790000000,v1=") and len(header.split("v1=")[1]) == 64
    assert verify("whsec_abc", header, body, now=1_790_000_010)
    assert not verify("whsec_abd", header, body, now=1_790_000_010)
    assert not verify("whsec_abc", header, body + b" ", now=1_790_000_010)
    assert not verify("whsec_abc", header, body, now=1_790_000_000 + 3600)  # a replay an hour later
    assert not verify("whsec_abc", "t=x,v1=00", body, now=1_790_000_000)


@pytest.mark.parametrize(("entry", "expected"), [
    ({"type": "status", "from": "", "to": "waiting"}, "party.created"),
    ({"type": "status", "from": "pending", "to": "waiting"}, "party.created"),
    ({"type": "status", "from": "", "to": "pending"}, None),
    ({"type": "status", "from": "notified", "to": "seated"}, "party.seated"),
    ({"type": "status", "from": "waiting", "to": "cancelled"}, "party.left"),
    ({"type": "status", "from": "notified", "to": "no_show"}, "party.left"),
    ({"type": "status", "from": "waiting", "to": "notified"}, "party.updated"),
    ({"type": "status", "from": "seated", "to": "completed"}, "party.updated"),
    ({"type": "move", "party": "p1"}, "party.updated"),
    ({"type": "update", "party": "p1"}, "party.updated"),
    ({"type": "sms", "party": "p1", "to": "delivered"}, "message.delivered"),
    ({"type": "sms", "party": "p1", "to": "undelivered"}, "message.failed"),
    ({"type": "sms", "party": "p1", "to": "sent"}, None),
    ({"type": "table", "table": "T1"}, None),
    ({"type": "floor"}, None),
])
def test_each_stream_entry_is_the_event_a_receiver_expects(entry: dict[str, str], expected: str | None) -> None:
    assert event_type(entry) == expected


@pytest.mark.parametrize("url", [
    "http://example.com/hook", "https://127.0.0.1/hook", "https://10.1.2.3/hook", "https://192.168.0.9/x",
    "https://169.254.169.254/latest/meta-data", "https://[::1]/hook", "https://[::ffff:127.0.0.1]/hook",
    "https://localhost/hook", "https://0.0.0.0/hook", "https://user:pw@example.com/hook", "ftp://example.com/x",
    "https://example.com:notaport/x",
])
def test_production_refuses_plain_http_and_private_addresses(url: str) -> None:
    assert url_problem(url, allow_private=False) is not None
    assert url_problem("https://hooks.example.com/waitlist", allow_private=False) is None
    assert url_problem("https://93.184.215.14/hook", allow_private=False) is None


def test_production_refuses_a_name_that_resolves_to_a_private_address() -> None:
    hooks = Webhooks(None, make_config(), resolver=lambda host: ["10.0.0.7"])  # type: ignore[arg-type]
    assert hooks.check_url("https://internal.example.com/hook") == "must not point at a private or local address " \
                                                                   "(10.0.0.7)"
    public = Webhooks(None, make_config(), resolver=lambda host: ["93.184.215.14"])  # type: ignore[arg-type]
    assert public.check_url("https://hooks.example.com/hook") is None


def test_registering_a_loopback_endpoint_in_production_is_a_400_beside_the_url(
        app: Flask, client: FlaskClient, headers: dict[str, str]) -> None:
    app.extensions["webhooks"].config = make_config()  # production: no private addresses
    response = client.post(f"/api/v1/restaurants/{SLUG}/webhooks", headers=headers,
                           json={"url": "https://127.0.0.1/hook", "events": ["party.seated"]})
    assert response.status_code == 400
    assert "private or local" in response.get_json()["error"]["fields"]["url"][0]


def test_the_secret_is_shown_once_and_unknown_events_are_refused(client: FlaskClient, headers: dict[str, str]) -> None:
    made = register(client, headers)
    assert made["secret"].startswith("whsec_")
    listed = client.get(f"/api/v1/restaurants/{SLUG}/webhooks", headers=headers).get_json()["webhooks"]
    assert [h["id"] for h in listed] == [made["id"]] and "secret" not in listed[0]
    response = client.post(f"/api/v1/restaurants/{SLUG}/webhooks", headers=headers,
                           json={"url": "http://127.0.0.1:9/x", "events": ["party.eaten"]})
    assert response.status_code == 400 and "events" in response.get_json()["error"]["fields"]


# --- the relay ----------------------------------------------------------------------------------------

def test_the_relay_queues_each_event_once_with_a_stable_id(client: FlaskClient, headers: dict[str, str],
                                                           hooks: Webhooks) -> None:
    add_party(client, headers, name="Before")  # before any endpoint: never delivered
    hook = register(client, headers)
    party = add_party(client, headers, name="Mei")
    client.post(f"/api/v1/restaurants/{SLUG}/parties/{party['id']}/seat", headers=headers)
    queue = Recorded()
    assert hooks.relay(SLUG, queue, "relay-1") == 2
    bodies = [json.loads(d.body) for d in queue.deliveries]
    assert [b["type"] for b in bodies] == ["party.created", "party.seated"]
    assert all(d.endpoint_id == hook["id"] for d in queue.deliveries)
    assert bodies[1]["data"]["party"]["name"] == "Mei" and bodies[1]["data"]["party"]["status"] == "seated"
    assert "phone" not in bodies[1]["data"]["party"]
    assert [b["id"] for b in bodies] == [d.event_id for d in queue.deliveries]
    assert hooks.relay(SLUG, queue, "relay-1") == 0  # nothing new: the cursor moved


def test_a_relay_that_died_before_moving_the_cursor_queues_the_same_ids_again(
        client: FlaskClient, headers: dict[str, str], hooks: Webhooks, redis: Any) -> None:
    register(client, headers)
    add_party(client, headers)
    cursor = hooks.store.cursor(SLUG)
    first, again = Recorded(), Recorded()
    hooks.relay(SLUG, first, "relay-1")
    assert cursor is not None
    hooks.store.set_cursor(SLUG, cursor)  # as if it died after queueing, before moving the cursor
    hooks.relay(SLUG, again, "relay-1")
    assert [d.event_id for d in again.deliveries] == [d.event_id for d in first.deliveries] != []


def test_another_relay_waits_while_one_holds_the_restaurant(client: FlaskClient, headers: dict[str, str],
                                                            hooks: Webhooks) -> None:
    register(client, headers)
    hooks.relay(SLUG, Recorded(), "relay-1")
    add_party(client, headers)
    other = Recorded()
    assert hooks.relay(SLUG, other, "relay-2") == 0 and other.deliveries == []
    assert hooks.relay(SLUG, Recorded(), "relay-1") == 1


def test_only_the_chosen_events_of_enabled_endpoints_are_queued(client: FlaskClient, headers: dict[str, str],
                                                                hooks: Webhooks) -> None:
    seated_only = register(client, headers, events=["party.seated"])
    off = register(client, headers, events=["party.created"])
    assert client.patch(f"/api/v1/restaurants/{SLUG}/webhooks/{off['id']}", json={"enabled": False},
                        headers=headers).get_json()["disabled"] is True
    party = add_party(client, headers)
    client.post(f"/api/v1/restaurants/{SLUG}/parties/{party['id']}/seat", headers=headers)
    queue = Recorded()
    hooks.relay(SLUG, queue, "relay-1")
    assert [(d.endpoint_id, json.loads(d.body)["type"]) for d in queue.deliveries] == [
        (seated_only["id"], "party.seated")]


# --- outcomes -----------------------------------------------------------------------------------------

def test_a_day_of_failures_disables_an_endpoint_and_a_success_resets_the_clock(
        client: FlaskClient, headers: dict[str, str], hooks: Webhooks, clock: Clock) -> None:
    hook_id = register(client, headers)["id"]

    def fail() -> Any:
        return hooks.record_try(SLUG, hook_id, "evt_x", "party.seated", ok=False, status=500, error="HTTP 500",
                                attempt=1, millis=3)

    assert fail().failing_since == clock.now
    clock.advance(DAY - 60)
    assert fail().disabled is False
    hooks.record_try(SLUG, hook_id, "evt_y", "party.seated", ok=True, status=200, error="", attempt=1, millis=2)
    clock.advance(120)
    assert fail().disabled is False  # the clock started over at the success
    clock.advance(DAY)
    assert fail().disabled is True
    assert hooks.delivery_target(SLUG, hook_id) is None  # queued retries end quietly
    log = client.get(f"/api/v1/restaurants/{SLUG}/webhooks/deliveries", headers=headers).get_json()["deliveries"]
    assert [entry["ok"] for entry in log] == [False, False, True, False, False]
    enabled = client.patch(f"/api/v1/restaurants/{SLUG}/webhooks/{hook_id}", json={"enabled": True},
                           headers=headers).get_json()
    assert enabled["disabled"] is False and enabled["failing_since"] is None


def test_removing_the_last_endpoint_stops_the_relay_for_that_restaurant(
        client: FlaskClient, headers: dict[str, str], hooks: Webhooks) -> None:
    hook_id = register(client, headers)["id"]
    assert hooks.store.hooked_slugs() == [SLUG]
    assert client.delete(f"/api/v1/restaurants/{SLUG}/webhooks/{hook_id}", headers=headers).status_code == 204
    assert hooks.store.hooked_slugs() == [] and hooks.store.cursor(SLUG) is None
    assert client.get(f"/api/v1/restaurants/{SLUG}/webhooks/{hook_id}", headers=headers).status_code == 404
