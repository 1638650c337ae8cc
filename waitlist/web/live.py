"""Live pages: server-sent events fed from a restaurant's event stream (``wl:{slug}:events``).

Every state change appends to the restaurant's Redis Stream, so each open page runs one blocking
XREAD on it and, when anything arrives, sends a bare ``changed`` event; the page then re-fetches its
own fragment. The event carries no data, so a guest's or the lobby's stream can never leak another
party's details, and any worker of any gunicorn process can serve any page.
"""
from __future__ import annotations

import time
from collections.abc import Callable, Iterator

from flask import Response, current_app

from waitlist.store.events import EventFeed

HEARTBEAT_SECONDS = 15.0
"""A comment line at least this often keeps proxies from closing an idle stream."""

STREAM_LIFETIME_SECONDS = 300.0
"""Streams end after a while; the browser reconnects at once, so graceful restarts never wait long."""

RETRY_MS = 1000


def changes(feed: EventFeed, slug: str, *, block_seconds: float,
            lifetime_seconds: float = STREAM_LIFETIME_SECONDS, still_allowed: Callable[[], bool] = lambda: True,
            clock: Callable[[], float] = time.monotonic) -> Iterator[str]:
    """SSE lines: ``changed`` once at connect (the page may have missed something), then per change.

    ``still_allowed`` is asked between reads, so a staff stream ends when the key is rotated.
    """
    last_id = feed.newest(slug)
    yield f"retry: {RETRY_MS}\nevent: changed\ndata: {last_id}\n\n"
    started = quiet_since = clock()
    while clock() - started < lifetime_seconds:
        found = feed.after(slug, last_id, block_seconds)
        if not still_allowed():
            return
        if found:
            last_id = found
            quiet_since = clock()
            yield f"event: changed\ndata: {last_id}\n\n"
        elif clock() - quiet_since >= HEARTBEAT_SECONDS - 0.5:
            quiet_since = clock()
            yield ": keep-alive\n\n"


def event_stream(slug: str, still_allowed: Callable[[], bool] = lambda: True) -> Response:
    """The SSE response for one restaurant's page; nothing is buffered on the way out."""
    feed: EventFeed = current_app.extensions["event_feed"]
    block = min(feed.block_seconds, float(current_app.config.get("LIVE_BLOCK_SECONDS", feed.block_seconds)))
    lifetime = float(current_app.config.get("LIVE_LIFETIME_SECONDS", STREAM_LIFETIME_SECONDS))
    body = changes(feed, slug, block_seconds=block, lifetime_seconds=lifetime, still_allowed=still_allowed)
    response = Response(body, mimetype="text/event-stream")
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Accel-Buffering"] = "no"
    return response
