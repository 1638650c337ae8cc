"""Following a restaurant's event stream (keys.events_key), for live pages.

Every state change appends to the stream; one reader per restaurant per web process
(waitlist/web/fanout.py) reads what arrived after the last entry it saw and tells that restaurant's
open pages. Reads block, so they go over a client of their own: the app's client times out after 2 s,
which a 15 s ``XREAD BLOCK`` would trip, and followed streams must not take the connections that
requests need.
"""
from __future__ import annotations

from typing import Any

from redis import BlockingConnectionPool, ConnectionPool, Redis

from waitlist.store.connections import ThreadConnectionRedis
from waitlist.store.keys import events_key

LONG_BLOCK_SECONDS = 15.0
"""How long one read may block on a client of our own: a live page's heartbeat interval."""
READER_CONNECTIONS = 10_000
"""One per restaurant with an open page in this process (waitlist/web/fanout.py), each blocking in XREAD."""
READ_COUNT = 500
"""Entries one read returns at most; a reader that falls behind catches up over a few reads."""
SHORT_BLOCK_SECONDS = 1.0
"""Clients we cannot copy (cluster, fakeredis) keep their 2 s socket timeout: block for less."""


class EventFeed:
    """Where each restaurant's event stream stands, and waiting for what comes after."""

    def __init__(self, redis: Any):
        self.redis, self.block_seconds = _blocking_client(redis)

    def newest(self, slug: str) -> str:
        """The id of the stream's last entry ("0-0" when it is empty)."""
        newest = self.redis.xrevrange(events_key(slug), "+", "-", count=1)
        return str(newest[0][0]) if newest else "0-0"

    def read(self, slug: str, last_id: str, block_seconds: float) -> list[tuple[str, dict[str, str]]]:
        """The entries after ``last_id`` (at most READ_COUNT), waiting up to ``block_seconds`` (capped at
        what this feed's client allows) for one; empty when nothing came."""
        block = min(block_seconds, self.block_seconds)
        found = self.redis.xread({events_key(slug): last_id}, count=READ_COUNT, block=max(1, int(block * 1000)))
        if not found:
            return []
        return [(_text(entry_id), {_text(k): _text(v) for k, v in fields.items()}) for entry_id, fields in found[0][1]]


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def _blocking_client(redis: Any) -> tuple[Any, float]:
    """A plain client copied into its own pool with a socket timeout longer than its reads block, and
    how long they may block; other clients as they are, with short blocks."""
    pool = getattr(redis, "connection_pool", None)
    plain = type(redis) in (Redis, ThreadConnectionRedis) and type(pool) in (ConnectionPool, BlockingConnectionPool)
    if not plain:
        return redis, SHORT_BLOCK_SECONDS
    kwargs = {**pool.connection_kwargs, "socket_timeout": LONG_BLOCK_SECONDS + 5.0}  # type: ignore[union-attr]
    copy = ConnectionPool(connection_class=pool.connection_class, max_connections=READER_CONNECTIONS,  # type: ignore[union-attr]
                          **kwargs)
    return Redis(connection_pool=copy), LONG_BLOCK_SECONDS
