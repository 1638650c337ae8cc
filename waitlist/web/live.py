"""Live pages: server-sent events fed from a restaurant's event stream (``wl:{slug}:events``).

Every state change appends to the restaurant's Redis Stream, so each open page runs one blocking
XREAD on it and, when anything arrives, sends a bare ``changed`` event; the page then re-fetches its
own fragment. The event carries no data, so a guest's or the lobby's stream can never leak another
party's details, and any worker of any gunicorn process can serve any page.
"""
from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any

from flask import Response, current_app
from redis import ConnectionPool, Redis

from waitlist.store import events_key
from waitlist.store.connections import ThreadConnectionRedis

HEARTBEAT_SECONDS = 15.0
"""A comment line at least this often keeps proxies from closing an idle stream."""

STREAM_LIFETIME_SECONDS = 300.0
"""Streams end after a while; the browser reconnects at once, so graceful restarts never wait long."""

RETRY_MS = 1000
SHORT_BLOCK_SECONDS = 1.0
"""Clients we cannot copy (cluster, fakeredis) keep their 2 s socket timeout: block for less."""


def blocking_client(redis: Any) -> tuple[Any, float]:
    """A client for long blocking reads, and how long one read may block.

    The app's client times out after 2 s, which a 15 s XREAD BLOCK would trip; a plain Redis client
    is copied into its own pool with a longer timeout (which also keeps idle streams from taking
    the connections that requests need).
    """
    pool = getattr(redis, "connection_pool", None)
    plain = type(redis) in (Redis, ThreadConnectionRedis) and type(pool) is ConnectionPool
    if not plain:
        return redis, SHORT_BLOCK_SECONDS
    kwargs = {**pool.connection_kwargs, "socket_timeout": HEARTBEAT_SECONDS + 5.0}  # type: ignore[union-attr]
    copy = ConnectionPool(connection_class=pool.connection_class, **kwargs)  # type: ignore[union-attr]
    return Redis(connection_pool=copy), HEARTBEAT_SECONDS


def live_client() -> tuple[Any, float]:
    """The app's blocking client, built once per app."""
    found = current_app.extensions.get("live_redis")
    if found is None:
        found = blocking_client(current_app.extensions["redis"])
        current_app.extensions["live_redis"] = found
    client, block = found
    return client, min(block, float(current_app.config.get("LIVE_BLOCK_SECONDS", block)))


def changes(redis: Any, slug: str, *, block_seconds: float, lifetime_seconds: float = STREAM_LIFETIME_SECONDS,
            still_allowed: Callable[[], bool] = lambda: True,
            clock: Callable[[], float] = time.monotonic) -> Iterator[str]:
    """SSE lines: ``changed`` once at connect (the page may have missed something), then per change.

    ``still_allowed`` is asked between reads, so a staff stream ends when the key is rotated.
    """
    key = events_key(slug)
    newest = redis.xrevrange(key, "+", "-", count=1)
    last_id = newest[0][0] if newest else "0-0"
    yield f"retry: {RETRY_MS}\nevent: changed\ndata: {last_id}\n\n"
    started = quiet_since = clock()
    while clock() - started < lifetime_seconds:
        found = redis.xread({key: last_id}, count=100, block=max(1, int(block_seconds * 1000)))
        if not still_allowed():
            return
        if found:
            last_id = found[0][1][-1][0]
            quiet_since = clock()
            yield f"event: changed\ndata: {last_id}\n\n"
        elif clock() - quiet_since >= HEARTBEAT_SECONDS - 0.5:
            quiet_since = clock()
            yield ": keep-alive\n\n"


def event_stream(slug: str, still_allowed: Callable[[], bool] = lambda: True) -> Response:
    """The SSE response for one restaurant's page; nothing is buffered on the way out."""
    client, block = live_client()
    lifetime = float(current_app.config.get("LIVE_LIFETIME_SECONDS", STREAM_LIFETIME_SECONDS))
    body = changes(client, slug, block_seconds=block, lifetime_seconds=lifetime, still_allowed=still_allowed)
    response = Response(body, mimetype="text/event-stream")
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Accel-Buffering"] = "no"
    return response
