"""The outbox relay over fakeredis: recorded texts reach the send queue once, announced or swept, and
a lapsed claim is taken over."""
from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.conftest import add_party
from tests.fakes import Clock, RecordingDispatcher
from waitlist.domain.phones import phone_digest
from waitlist.store import outbox_key
from workers.relay import LEASE_SECONDS, OutboxRelay

SLUG = "noodle-bar"


@pytest.fixture
def relay(app: Flask, dispatcher: RecordingDispatcher, clock: Clock) -> OutboxRelay:
    """The relay under test. The dispatcher's own sweep is switched off, so every send it records
    here came from this relay (or the relays a test starts)."""
    dispatcher.relay = None
    waitlist = app.extensions["waitlist"]
    return OutboxRelay(waitlist.messages, waitlist.store, dispatcher, clock=clock)


def outbox(redis: Any) -> list[str]:
    return list(redis.zrange(outbox_key(SLUG), 0, -1))


def texts(client: FlaskClient, headers: dict[str, str], party_id: str) -> list[dict[str, Any]]:
    response = client.get(f"/api/v1/restaurants/{SLUG}/parties/{party_id}/messages", headers=headers)
    return list(response.get_json()["messages"])


def test_a_joined_text_waits_in_the_outbox_until_a_relay_queues_it_once(
        client: FlaskClient, headers: dict[str, str], dispatcher: RecordingDispatcher, relay: OutboxRelay,
        redis: Any) -> None:
    party = add_party(client, headers)
    [message] = texts(client, headers, party["id"])
    assert dispatcher.sent == [] and outbox(redis) == [message["id"]]

    assert relay.relay(SLUG) == 1

    assert dispatcher.sent == [(SLUG, message["id"])]
    assert outbox(redis) == []
    assert relay.relay(SLUG) == 0 and len(dispatcher.sent) == 1


def test_every_kind_of_text_goes_through_the_outbox(client: FlaskClient, headers: dict[str, str],
                                                     dispatcher: RecordingDispatcher, relay: OutboxRelay) -> None:
    party = add_party(client, headers)
    client.post(f"/api/v1/restaurants/{SLUG}/parties/{party['id']}/notify", headers=headers)
    client.post(f"/api/v1/restaurants/{SLUG}/parties/{party['id']}/messages", json={"body": "Hi"}, headers=headers)

    assert relay.relay(SLUG) == 3
    assert sorted(message_id for _slug, message_id in dispatcher.sent) == sorted(
        m["id"] for m in texts(client, headers, party["id"]))


def test_a_text_to_an_opted_out_number_never_reaches_the_outbox(
        client: FlaskClient, headers: dict[str, str], app: Flask, relay: OutboxRelay, redis: Any) -> None:
    waitlist = app.extensions["waitlist"]
    phone = "+14155552671"
    waitlist.messages.opt_out(SLUG, phone_digest(waitlist.config.secret_key, phone))

    party = add_party(client, headers, phone=phone)

    [message] = texts(client, headers, party["id"])
    assert message["status"] == "suppressed"
    assert outbox(redis) == [] and relay.relay(SLUG) == 0


def test_a_refused_join_leaves_nothing_in_the_outbox(client: FlaskClient, headers: dict[str, str],
                                                     relay: OutboxRelay, redis: Any) -> None:
    party = add_party(client, headers)
    relay.relay(SLUG)
    again = client.post(f"/api/v1/restaurants/{SLUG}/parties", headers=headers,
                        json={"name": "Ana", "phone": party["phone"], "party_size": 2})
    assert again.status_code == 409
    assert outbox(redis) == []


def test_a_claimed_text_is_left_to_its_claimer_until_the_lease_ends(
        client: FlaskClient, headers: dict[str, str], app: Flask, dispatcher: RecordingDispatcher,
        relay: OutboxRelay, clock: Clock) -> None:
    """A relay that claimed a text and died before queueing it: another takes it over after the lease."""
    add_party(client, headers)
    [claimed] = app.extensions["waitlist"].messages.claim_outbox(SLUG, now=clock(), lease_seconds=LEASE_SECONDS,
                                                                 limit=10)

    assert relay.relay(SLUG) == 0 and relay.sweep() == 0
    clock.advance(LEASE_SECONDS + 1)
    assert relay.sweep() == 1
    assert dispatcher.sent == [(SLUG, claimed)]


def test_the_sweep_finds_texts_that_were_never_announced(
        client: FlaskClient, headers: dict[str, str], dispatcher: RecordingDispatcher, relay: OutboxRelay) -> None:
    """Texts recorded while no relay listened (every worker down) are queued by the next sweep."""
    add_party(client, headers)
    add_party(client, headers)
    assert relay.sweep() == 2 and len(dispatcher.sent) == 2


def test_a_relay_queues_in_batches(client: FlaskClient, headers: dict[str, str], app: Flask,
                                   dispatcher: RecordingDispatcher, clock: Clock) -> None:
    waitlist = app.extensions["waitlist"]
    for _ in range(5):
        add_party(client, headers)
    small = OutboxRelay(waitlist.messages, waitlist.store, dispatcher, clock=clock, batch=2)
    assert small.relay(SLUG) == 5
    assert len(set(dispatcher.sent)) == 5
