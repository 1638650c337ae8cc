"""Text messages in and out, the per-restaurant opt-out list, and the outbox the relays drain.

A text to send is recorded (with the opt-out check, atomically) into its restaurant's outbox; a
worker's relay (workers.relay) leases it from there and queues its send, and the send claims the
message before calling Twilio, so no text goes out twice.
"""
from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import orjson
from redis import Redis

from waitlist.domain.messages import STATUS_RANK, status_rank
from waitlist.store import keys
from waitlist.store.scripts import EVENTS_MAXLEN, Scripts

MESSAGE_TTL_SECONDS = 35 * 24 * 3600
SID_TTL_SECONDS = 8 * 24 * 3600
INBOUND_SEEN_TTL_SECONDS = 24 * 3600
CONVERSATION_MAX = 500


@dataclass(frozen=True)
class OutboundText:
    """An outbound text to record: its fields, and what decides its fate in the store (see
    MessageStore.record_outbound)."""

    message: dict[str, str]
    recipient_digest: str
    first_contact_body: str | None = None
    latch_ttl: int = 0
    relayed: bool = False
    """Put in the restaurant's outbox for a worker's relay to queue (the RQ dispatcher), rather than
    handed over by the caller after recording."""


@dataclass(frozen=True)
class RecordedText:
    opted_out: bool
    first_contact: bool


def record_text_args(slug: str, text: OutboundText) -> tuple[list[str], dict[str, Any]]:
    """KEYS and the JSON object of record_outbound.lua; the join takes the same after its own."""
    message = text.message
    party = message.get("party")
    conv = keys.conversation_key(slug, party) if party else keys.message_key(slug, message["id"])
    script_keys = [keys.message_key(slug, message["id"]), conv, keys.optout_key(slug), keys.outbox_key(slug),
                   keys.unsent_key(slug)]
    if text.first_contact_body is not None:
        script_keys.append(keys.contacted_key(slug, text.recipient_digest))
    return script_keys, {
        "message": message, "digest": text.recipient_digest, "ttl": MESSAGE_TTL_SECONDS,
        "latch_ttl": text.latch_ttl, "first_body": text.first_contact_body or "",
        "in_conv": bool(party), "relay_slug": slug if text.relayed else "",
    }


class MessageStore:
    """Text messages in and out, and the per-restaurant opt-out list."""

    def __init__(self, redis: Redis):
        self.redis: Any = redis  # decoded replies (str), which redis-py's stubs cannot express
        self._run = Scripts(redis)

    # --- outbound ---

    def record_outbound(self, slug: str, text: OutboundText) -> RecordedText:
        """Store an outbound text in one round trip: checks the opt-out list (an opted-out number's text
        is kept as ``suppressed``) and, given a first-contact body, uses it when this is the
        restaurant's first text to the number."""
        script_keys, args = record_text_args(slug, text)
        opted, first = self._run("record_outbound", script_keys, [orjson.dumps(args)])
        return RecordedText(opted_out=bool(opted), first_contact=bool(first))

    def claim_outbox(self, slug: str, *, now: float, lease_seconds: float, limit: int) -> list[str]:
        """Up to ``limit`` ids of the restaurant's texts due for a relay, leased to the caller: no other
        relay takes them before ``now + lease_seconds``, unless they are still there then."""
        return list(self._run("claim_outbox", [keys.outbox_key(slug)],
                              [orjson.dumps({"now": repr(now), "lease": lease_seconds, "limit": limit})]))

    def clear_outbox(self, slug: str, message_ids: Sequence[str]) -> None:
        """The relay has queued these texts' sends."""
        if message_ids:
            self.redis.zrem(keys.outbox_key(slug), *message_ids)

    def outbox_sizes(self, slugs: Sequence[str], *, due_by: float | None = None) -> list[int]:
        """Texts in each restaurant's outbox (only those due by ``due_by``, not leased past it, when
        given), in one pipelined round trip."""
        pipe = self.redis.pipeline(transaction=False)
        for slug in slugs:
            pipe.zcount(keys.outbox_key(slug), "-inf", "+inf" if due_by is None else repr(due_by))
        return list(pipe.execute()) if slugs else []

    def lost_counts(self, slugs: Sequence[str], *, due_by: float) -> list[int]:
        """Texts in each restaurant's unsent index due a look by the lost-text sweep, in one pipelined
        round trip."""
        pipe = self.redis.pipeline(transaction=False)
        for slug in slugs:
            pipe.zcount(keys.unsent_key(slug), "-inf", repr(due_by))
        return list(pipe.execute()) if slugs else []

    def unsent_due(self, slug: str, *, due_by: float, limit: int) -> list[str]:
        """Ids of up to ``limit`` texts of the unsent index due a look by ``due_by``, oldest first."""
        return list(self.redis.zrangebyscore(keys.unsent_key(slug), "-inf", repr(due_by), start=0, num=limit))

    def requeue_lost(self, slug: str, message_ids: Sequence[str], live: Sequence[bool], *, now: float,
                     stale_before: float, look_again: float, most: int) -> tuple[list[str], list[str]]:
        """Put back in the outbox the texts whose send is lost (see requeue_lost.lua); returns
        (requeued ids, ids given up after ``most`` requeues, which the caller marks failed)."""
        if not message_ids:
            return [], []
        script_keys = [keys.unsent_key(slug), keys.outbox_key(slug)]
        script_keys += [keys.message_key(slug, message_id) for message_id in message_ids]
        requeued, lost = self._run("requeue_lost", script_keys, [orjson.dumps({
            "ids": list(message_ids), "live": list(live), "now": repr(now), "stale_before": repr(stale_before),
            "look_again": repr(look_again), "most": most})])
        return list(requeued), list(lost)

    def subscribe_outbox(self) -> Any:
        """A pub/sub connection told the slug of every restaurant whose outbox gets a text."""
        pubsub = self.redis.pubsub(ignore_subscribe_messages=True)
        pubsub.subscribe(keys.OUTBOX_CHANNEL)
        return pubsub

    # --- any message ---

    def add(self, slug: str, message: dict[str, str]) -> None:
        """Store a message and append it to its party's conversation, atomically."""
        key = keys.message_key(slug, message["id"])
        pipe = self.redis.pipeline(transaction=True)
        pipe.hset(key, mapping=message)
        pipe.expire(key, MESSAGE_TTL_SECONDS)
        if message.get("party"):
            conv = keys.conversation_key(slug, message["party"])
            pipe.rpush(conv, message["id"])
            pipe.ltrim(conv, -CONVERSATION_MAX, -1)
            pipe.expire(conv, MESSAGE_TTL_SECONDS)
        if message.get("direction") == "in":
            pipe.xadd(keys.events_key(slug), {"type": "sms_in", "message": message["id"],
                                              "party": message.get("party", ""), "at": message.get("created_at", "")},
                      maxlen=EVENTS_MAXLEN, approximate=True)
        pipe.execute()

    def get(self, slug: str, message_id: str) -> dict[str, str] | None:
        data = self.redis.hgetall(keys.message_key(slug, message_id))
        return data or None

    def conversation(self, slug: str, party_id: str) -> list[dict[str, str]]:
        ids = self.redis.lrange(keys.conversation_key(slug, party_id), 0, -1)
        pipe = self.redis.pipeline(transaction=False)
        for message_id in ids:
            pipe.hgetall(keys.message_key(slug, message_id))
        return [m for m in pipe.execute() if m]

    # --- sending and its callbacks ---

    def claim(self, slug: str, message_id: str, *, now: float, recipient_digest: str) -> str:
        """'claimed' (send it), 'ambiguous' (an earlier try may have reached Twilio), 'done',
        'opted_out' or 'missing' (see claim_message.lua)."""
        return str(self._run("claim_message", [keys.message_key(slug, message_id), keys.optout_key(slug),
                                               keys.unsent_key(slug)],
                             [orjson.dumps({"now": repr(now), "digest": recipient_digest, "id": message_id})]))

    def record_sid(self, slug: str, message_id: str, sid: str, status: str, *, now: float) -> None:
        """Twilio accepted the message: remember its SID so no re-run ever sends it again. The global
        SID index is written first, so a status callback racing this finds the message."""
        self.redis.set(keys.sid_key(sid), f"{slug}/{message_id}", ex=SID_TTL_SECONDS)
        self.advance(slug, message_id, status, now=now, sid=sid)

    def release_claim(self, slug: str, message_id: str, error: str, *, now: float) -> None:
        """Twilio answered with an error, so it did not take the message: a retry may send it."""
        self.redis.hset(keys.message_key(slug, message_id), mapping={
            "claimed_at": "", "last_error": error[:200], "updated_at": repr(now)})

    def note_error(self, slug: str, message_id: str, error: str, *, now: float) -> None:
        self.redis.hset(keys.message_key(slug, message_id),
                        mapping={"last_error": error[:200], "updated_at": repr(now)})

    def advance(self, slug: str, message_id: str, status: str, *, now: float, error_code: str = "",
                sid: str = "") -> tuple[str, str, str]:
        """Move a message's status forward only; duplicates and late callbacks are ignored. Returns
        ('updated', party id, kind), or ('ignored' | 'missing', '', '')."""
        result = self._run("advance_status", [keys.message_key(slug, message_id), keys.events_key(slug),
                                              keys.unsent_key(slug)],
                           [orjson.dumps({"id": message_id, "status": status, "rank": status_rank(status),
                                          "now": repr(now), "error_code": error_code, "sid": sid,
                                          "ranks": STATUS_RANK})])
        if result[0] != "updated":
            return result[0], "", ""
        return "updated", result[1], result[2]

    def locate_sid(self, sid: str) -> tuple[str, str] | None:
        value = self.redis.get(keys.sid_key(sid))
        if not value or "/" not in value:
            return None
        slug, message_id = value.split("/", 1)
        return slug, message_id

    # --- opting out, latches and inbound caps ---

    def opt_out(self, slug: str, digest: str) -> None:
        self.redis.sadd(keys.optout_key(slug), digest)

    def opt_in(self, slug: str, digest: str) -> None:
        self.redis.srem(keys.optout_key(slug), digest)

    def is_opted_out(self, slug: str, digest: str) -> bool:
        return bool(self.redis.sismember(keys.optout_key(slug), digest))

    def first_time(self, key_suffix: str, slug: str, ttl_seconds: int) -> bool:
        """A once-per-window latch (e.g. one "not on the list" reply an hour per number)."""
        return bool(self.redis.set(keys.once_key(slug, key_suffix), "1", nx=True, ex=ttl_seconds))

    def count_inbound(self, slug: str, digest: str, window_seconds: int) -> int:
        """Texts received from one number in the current window (a fixed window, started by the first)."""
        key = keys.inbound_rate_key(slug, digest)
        pipe = self.redis.pipeline(transaction=True)
        pipe.incr(key)
        pipe.expire(key, window_seconds, nx=True)
        count, _ = pipe.execute()
        return int(count)

    def seen_inbound(self, slug: str, message_sid: str) -> bool:
        """True when this MessageSid was already handled (Twilio retries webhooks)."""
        return not self.redis.set(keys.inbound_seen_key(slug, message_sid), "1", nx=True,
                                  ex=INBOUND_SEEN_TTL_SECONDS)


DEV_OUTBOX_MAX = 1000
"""The development sender's list and the development phone's replies each keep the newest this many."""


class DevOutbox:
    """Development only (no Twilio): the texts the local sender "sent", newest first, and what the
    development phone texted back, so its chats show both sides. Entries are JSON objects."""

    def __init__(self, redis: Redis):
        self.redis: Any = redis

    def add_sent(self, entry: dict[str, Any]) -> None:
        self._push(keys.dev_outbox_key(), entry)

    def sent(self, limit: int = DEV_OUTBOX_MAX) -> list[dict[str, Any]]:
        return self._newest(keys.dev_outbox_key(), limit)

    def add_reply(self, entry: dict[str, Any]) -> None:
        self._push(keys.dev_replies_key(), entry)

    def replies(self, limit: int = DEV_OUTBOX_MAX) -> list[dict[str, Any]]:
        return self._newest(keys.dev_replies_key(), limit)

    def _push(self, key: str, entry: dict[str, Any]) -> None:
        self.redis.lpush(key, json.dumps(entry))
        self.redis.ltrim(key, 0, DEV_OUTBOX_MAX - 1)

    def _newest(self, key: str, limit: int) -> list[dict[str, Any]]:
        return [json.loads(raw) for raw in self.redis.lrange(key, 0, limit - 1)]
