"""The relay's lost-text sweep over fakeredis: a send job that nobody ran (a dead worker's connection
popped it) is queued again and the text sent once; one lost too often ends failed, the party flagged."""
from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.conftest import add_party
from tests.fakes import Clock, FakeSender, RecordingDispatcher
from waitlist.domain.phones import phone_digest
from waitlist.store import message_key, outbox_key, unsent_key
from workers import jobs
from workers.relay import LOST_AFTER_SECONDS, MOST_REQUEUES, OutboxRelay

SLUG = "noodle-bar"


@pytest.fixture
def relay(app: Flask, dispatcher: RecordingDispatcher, clock: Clock) -> OutboxRelay:
    """The relay under test, with no dispatcher sweep of its own (every send recorded came from it)."""
    dispatcher.relay = None
    waitlist = app.extensions["waitlist"]
    return OutboxRelay(waitlist.messages, waitlist.store, dispatcher, clock=clock)


def unsent(redis: Any) -> list[str]:
    return list(redis.zrange(unsent_key(SLUG), 0, -1))


def flags(client: FlaskClient, headers: dict[str, str], party_id: str) -> list[str]:
    return list(client.get(f"/api/v1/restaurants/{SLUG}/parties/{party_id}", headers=headers).get_json()["flags"])


def relayed_text(client: FlaskClient, headers: dict[str, str], relay: OutboxRelay,
                 dispatcher: RecordingDispatcher, **overrides: Any) -> tuple[dict[str, Any], str]:
    """A party added and its joined text's send queued by the relay (the job not run yet)."""
    party = add_party(client, headers, **overrides)
    assert relay.relay(SLUG) == 1
    _slug, message_id = dispatcher.sent[-1]
    return party, message_id


def test_a_lost_send_is_queued_again_once_and_the_text_sent_once(
        client: FlaskClient, headers: dict[str, str], relay: OutboxRelay, dispatcher: RecordingDispatcher,
        sender: FakeSender, clock: Clock, redis: Any) -> None:
    party, message_id = relayed_text(client, headers, relay, dispatcher)
    assert unsent(redis) == [message_id]

    assert relay.requeue_lost() == 0  # too early: its job may still run
    clock.advance(LOST_AFTER_SECONDS + 1)
    assert relay.requeue_lost() == 1
    assert relay.requeue_lost() == 0  # looked at again only after another bound
    assert dispatcher.sent == [(SLUG, message_id), (SLUG, message_id)]

    assert jobs.send_text(SLUG, message_id) == "sent"
    assert jobs.send_text(SLUG, message_id) == "done"  # the first, late job finds it sent
    assert sender.sent[party["phone"]] != [] and len(sender.requests) == 1
    assert unsent(redis) == []
    clock.advance(10 * LOST_AFTER_SECONDS)
    assert relay.requeue_lost() == 0 and len(dispatcher.sent) == 2


def test_a_send_lost_too_often_ends_failed_and_the_party_is_flagged(
        client: FlaskClient, headers: dict[str, str], relay: OutboxRelay, dispatcher: RecordingDispatcher,
        clock: Clock, app: Flask, redis: Any) -> None:
    party, message_id = relayed_text(client, headers, relay, dispatcher)
    for _ in range(MOST_REQUEUES):
        clock.advance(LOST_AFTER_SECONDS + 1)
        assert relay.requeue_lost() == 1
    assert flags(client, headers, party["id"]) == []

    clock.advance(LOST_AFTER_SECONDS + 1)
    assert relay.requeue_lost() == 0

    message = app.extensions["waitlist"].messages.get(SLUG, message_id)
    assert (message["status"], message["error_code"]) == ("failed", "not_sent")
    assert "sms_failed" in flags(client, headers, party["id"])
    assert unsent(redis) == [] and len(dispatcher.sent) == 1 + MOST_REQUEUES


def test_a_send_rq_still_holds_is_left_to_it(
        client: FlaskClient, headers: dict[str, str], app: Flask, dispatcher: RecordingDispatcher,
        clock: Clock, redis: Any) -> None:
    """A job waiting for a retry, running, or still in the queue will run: no second one is queued."""
    dispatcher.relay = None
    waitlist = app.extensions["waitlist"]
    asked: list[list[str]] = []

    def live(slug: str, ids: Any) -> list[bool]:
        asked.append(list(ids))
        return [True] * len(ids)

    relay = OutboxRelay(waitlist.messages, waitlist.store, dispatcher, clock=clock, live_sends=live)
    _party, message_id = relayed_text(client, headers, relay, dispatcher)
    clock.advance(LOST_AFTER_SECONDS + 1)
    assert relay.requeue_lost() == 0
    assert asked == [[message_id]] and len(dispatcher.sent) == 1 and unsent(redis) == [message_id]


def test_a_text_still_in_the_outbox_is_not_requeued(
        client: FlaskClient, headers: dict[str, str], relay: OutboxRelay, dispatcher: RecordingDispatcher,
        clock: Clock, redis: Any) -> None:
    """Nobody relayed it yet (no worker ran): the ordinary sweep queues it, the lost-text sweep waits."""
    add_party(client, headers)
    clock.advance(LOST_AFTER_SECONDS + 1)
    assert relay.requeue_lost() == 0
    [message_id] = unsent(redis)
    assert redis.hget(message_key(SLUG, message_id), "requeues") is None
    assert relay.sweep() == 1 and dispatcher.sent == [(SLUG, message_id)]


def test_a_claim_left_by_a_dead_try_is_requeued_and_looked_up_in_twilio_first(
        client: FlaskClient, headers: dict[str, str], relay: OutboxRelay, dispatcher: RecordingDispatcher,
        sender: FakeSender, clock: Clock, app: Flask, redis: Any) -> None:
    """The worker died after claiming the text, maybe after Twilio took it: the resend finds it sent."""
    _party, message_id = relayed_text(client, headers, relay, dispatcher)
    redis.hset(message_key(SLUG, message_id), "claimed_at", repr(clock()))
    body = app.extensions["waitlist"].messages.get(SLUG, message_id)["body"]
    sender.already_sent[body] = "SM" + "9" * 32

    clock.advance(LOST_AFTER_SECONDS / 2)
    assert relay.requeue_lost() == 0  # the claim is recent: that try may still be running
    clock.advance(LOST_AFTER_SECONDS)
    assert relay.requeue_lost() == 1

    assert jobs.send_text(SLUG, message_id) == "found"
    assert sender.requests == [] and unsent(redis) == []


def test_texts_that_will_never_be_sent_leave_the_index(
        client: FlaskClient, headers: dict[str, str], relay: OutboxRelay, dispatcher: RecordingDispatcher,
        sender: FakeSender, app: Flask, redis: Any) -> None:
    waitlist = app.extensions["waitlist"]
    party, message_id = relayed_text(client, headers, relay, dispatcher)
    waitlist.messages.opt_out(SLUG, phone_digest(waitlist.config.secret_key, party["phone"]))
    assert jobs.send_text(SLUG, message_id) == "opted_out"
    assert unsent(redis) == []

    _other, failing = relayed_text(client, headers, relay, dispatcher, phone="+14155552672")
    waitlist.messages.advance(SLUG, failing, "failed", now=0.0, error_code="21211")
    assert unsent(redis) == [] and redis.zcard(outbox_key(SLUG)) == 0


def test_rq_holds_a_send_until_a_dead_connection_pops_it() -> None:
    """RQDispatcher.live_sends: a queued job still in the queue is live; one popped by a connection
    nobody reads (its status still 'queued') is not, nor is one RQ dropped."""
    import fakeredis

    from waitlist.texting.dispatch import RQDispatcher

    rq_redis = fakeredis.FakeRedis()
    dispatcher = RQDispatcher(rq_redis)
    dispatcher.send_texts(SLUG, ["m1", "m2"])
    assert dispatcher.live_sends(SLUG, ["m1", "m2", "never"]) == [True, True, False]

    rq_redis.lpop(dispatcher.texts.key)  # the dead worker's scheduler child pops m1; nobody runs it
    assert dispatcher.live_sends(SLUG, ["m1", "m2"]) == [False, True]
    rq_redis.hset(f"rq:job:send-{SLUG}-m1", "status", "scheduled")  # waiting for a retry
    assert dispatcher.live_sends(SLUG, ["m1"]) == [True]
    assert dispatcher.live_sends(SLUG, []) == []
