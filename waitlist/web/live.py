"""Live pages: server-sent events fed from the restaurant's event stream through the process's fan-out.

An open page is a subscription on the process's hub (waitlist/web/fanout.py): it holds no server thread
(the web process runs gevent: a page is a greenlet waiting on an event) and no Redis connection (one
reader per restaurant per process reads the stream for all its pages).

What a page is told:

* guest and lobby pages (public): ``event: changed`` with ``data:`` the newest stream entry id, and
  nothing else, so a guest's or the lobby's stream can never leak another party's details; the page
  then re-fetches its own fragment;
* host stand (staff): ``event: changed`` with ``data:`` a JSON object ``{"id": "<newest entry id>",
  "parties": ["<party id>", ...]}`` naming the parties whose events arrived since the last push, plus
  ``"all": true`` when something arrived that is not about one party (a table, a setting), and at
  connect (the page may have missed anything). The stream ends when the session is signed out or the
  key rotated: that is checked before every push and heartbeat.

A page gets at most one push per PUBLIC_PUSH_SECONDS (STAFF_PUSH_SECONDS for the host stand) with
everything since its last one. Streams end after a lifetime with a ``retry:`` hint, spread out so
pages opened together do not all come back together; a page refused with 429 (too many open streams)
polls instead and tries its stream again later (static/live.js).
"""
from __future__ import annotations

import json
import random
import time
from collections.abc import Callable, Iterator
from typing import Any

from flask import Response, current_app, request

from waitlist.web.fanout import Change, Hub, Subscription

HEARTBEAT_SECONDS = 15.0
"""A comment line at least this often keeps proxies from closing an idle stream, and finds gone pages."""

STREAM_LIFETIME_SECONDS = 300.0
"""Streams end after about this long (less up to a fifth, at random), then the browser reconnects."""

PUBLIC_PUSH_SECONDS = 0.5
"""A guest or lobby page gets at most two pushes a second, each followed by one re-fetch of its fragment."""

STAFF_PUSH_SECONDS = 0.2
"""A host tablet gets at most five: it applies what changed, so it may hear sooner."""

RETRY_MS = 1000
"""How soon a browser reconnects after a dropped stream."""

END_RETRY_MS = (1000, 5000)
"""The ``retry:`` range sent as a stream ends, so a crowd of pages spreads its reconnections."""


def changes(subscription: Subscription, *, staff: bool, lifetime_seconds: float = STREAM_LIFETIME_SECONDS,
            heartbeat_seconds: float = HEARTBEAT_SECONDS, push_seconds: float | None = None,
            still_allowed: Callable[[], bool] | None = None, clock: Callable[[], float] = time.monotonic,
            sleep: Callable[[float], None] | None = None) -> Iterator[str]:
    """SSE lines: ``changed`` at connect, then at most one push per ``push_seconds`` with what arrived,
    heartbeats when quiet, and a ``retry:`` hint at the end. Closes the subscription however it ends."""
    sleep = sleep or (lambda seconds: time.sleep(seconds))  # looked up late: gevent patches time.sleep
    interval = push_seconds if push_seconds is not None else (STAFF_PUSH_SECONDS if staff else PUBLIC_PUSH_SECONDS)
    try:
        yield f"retry: {RETRY_MS}\n" + _event(Change(subscription.last_id, [], True), staff)
        started = last_push = clock()
        while (left := started + lifetime_seconds - clock()) > 0:
            woke = subscription.wait(min(heartbeat_seconds, left))
            if subscription.closed:
                break
            if woke and (pause := last_push + interval - clock()) > 0:
                sleep(pause)  # coalesce: whatever else arrives meanwhile goes in the same push
            if still_allowed is not None and not still_allowed():
                return
            change = subscription.take()
            if change is not None:
                last_push = clock()
                yield _event(change, staff)
            elif not woke:
                yield ": keep-alive\n\n"
        yield f"retry: {random.randint(*END_RETRY_MS)}\n\n"
    finally:
        subscription.close()


def _event(change: Change, staff: bool) -> str:
    if not staff:
        return f"event: changed\ndata: {change.last_id}\n\n"
    data: dict[str, Any] = {"id": change.last_id, "parties": change.parties}
    if change.everything:
        data["all"] = True
    return f"event: changed\ndata: {json.dumps(data, separators=(',', ':'))}\n\n"


def event_stream(slug: str, still_allowed: Callable[[], bool] | None = None) -> Response:
    """The SSE response for one page of ``slug``: public unless ``still_allowed`` (a staff session check)
    is given. Raises TooManyStreams (429) past a public cap. Nothing is buffered on the way out."""
    hub: Hub = current_app.extensions["live_hub"]
    staff = still_allowed is not None
    subscription = hub.subscribe(slug, request.remote_addr or "", public=not staff)
    # The app's teardown hands this request's Redis connection on as the view returns; a host stream's
    # checks take one again for a moment each.
    release = getattr(current_app.extensions["redis"], "release_thread_connection", lambda: None)

    def checked() -> bool:
        """The staff check, then this page's Redis connection back to the pool until the next check."""
        try:
            return still_allowed is None or still_allowed()
        finally:
            release()

    config = current_app.config
    lifetime = float(config.get("LIVE_LIFETIME_SECONDS", STREAM_LIFETIME_SECONDS)) * random.uniform(0.8, 1.0)
    heartbeat = float(config.get("LIVE_HEARTBEAT_SECONDS", HEARTBEAT_SECONDS))
    body = changes(subscription, staff=staff, lifetime_seconds=lifetime, heartbeat_seconds=heartbeat,
                   still_allowed=checked if staff else None)
    response = Response(body, mimetype="text/event-stream")
    response.call_on_close(subscription.close)  # even if the body never starts
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Accel-Buffering"] = "no"
    return response
