"""Rate limits on the public endpoints, in one table, enforced by flask-limiter.

Counters live in Redis (RATELIMIT_STORAGE_URI, else REDIS_URL) so every web process shares them; the
embedded development store and unit tests count in memory. Over a limit the answer is 429 with
Retry-After and the usual JSON error shape. If the counter store is down, requests are let through
(swallow_errors): a limiter must not take the waitlist down with it.
"""
from __future__ import annotations

import math
import time
from typing import Any

from flask import Flask
from flask_limiter import Limiter, RateLimitExceeded
from flask_limiter.util import get_remote_address

from config import Config
from waitlist.web.http import error_response

PUBLIC_LIMITS: dict[str, str] = {
    # endpoint name -> limit per client IP
    "api.estimate": "120 per minute",
    "api.guest_status": "120 per minute",
    "api.guest_leave": "10 per minute",
    "guest.status_page": "120 per minute",
    "guest.running_late": "10 per minute",
    "guest.leave": "10 per minute",
    "guest.stream": "30 per minute",
    "board.board_page": "60 per minute",
    "host.sign_in": "10 per minute;50 per hour",
    "owner.sign_in": "10 per minute;50 per hour",
    "join.join_page": "60 per minute",
    "join.submit": "5 per minute;20 per hour",
    "join.confirm": "10 per minute",
    "join.qr_code": "30 per minute",
}


def storage_uri(config: Config, embedded: bool) -> str:
    if config.ratelimit_storage_uri:
        return config.ratelimit_storage_uri
    if embedded:
        return "memory://"
    url = config.redis_url or "redis://127.0.0.1:6379/0"
    if config.redis_cluster and "+cluster" not in url:
        url = url.replace("redis://", "redis+cluster://", 1).replace("rediss://", "rediss+cluster://", 1)
    return url


def init_app(app: Flask, config: Config, embedded: bool, key_prefix: str) -> Limiter:
    """Wrap the listed endpoints that this app has (call after registering every blueprint).
    ``key_prefix`` starts every counter's key; the app factory takes it from the store's key builders."""
    # X-RateLimit-* headers would cost two more Redis round trips per request; a 429 still says
    # when to come back (Retry-After, set below).
    limiter = Limiter(key_func=get_remote_address, storage_uri=storage_uri(config, embedded),
                      headers_enabled=False, swallow_errors=True, enabled=config.rate_limits_enabled,
                      strategy="fixed-window", key_prefix=key_prefix)
    limiter.init_app(app)
    _drop_app_wide_hooks(app, limiter)

    @app.errorhandler(RateLimitExceeded)
    def _too_many(exc: RateLimitExceeded) -> Any:
        response = error_response(429, "rate_limited", f"too many requests: {exc.description}")
        current = limiter.current_limit
        wait = current.reset_at - time.time() if current is not None else 60
        response.headers["Retry-After"] = str(max(1, math.ceil(wait)))
        return response

    for endpoint, limit in PUBLIC_LIMITS.items():
        view = app.view_functions.get(endpoint)
        if view is not None:
            app.view_functions[endpoint] = limiter.limit(limit)(view)  # type: ignore[assignment]
    app.extensions["waitlist_limiter"] = limiter
    return limiter


def _drop_app_wide_hooks(app: Flask, limiter: Limiter) -> None:
    """Take out the before/after/teardown hooks ``init_app`` adds to every request.

    They serve default and application-wide limits, which this app has none of: each limited view's
    own decorator (above) checks its limits, and its state lives in the request context, which ends
    with the request. flask-limiter 4 has no option to leave the hooks out, so this edits Flask's
    hook lists, which Flask calls internal.

    What it buys: the documented way to skip them, ``limiter.request_filter(lambda: request.endpoint
    not in PUBLIC_LIMITS)``, still runs all three on every request; bench/add_instructions.py
    (--adds 100) counted 2.114 M instructions per add with it against 1.841 M without: 0.27 M, 15% of
    an add, far over the 3% a private-API use must buy here. tests/unit/test_limits.py checks every
    limit still answers 429.
    """
    def ours(hook: Any) -> bool:
        return getattr(hook, "__self__", None) is limiter or limiter in getattr(hook, "args", ())

    for hooks in (app.before_request_funcs, app.after_request_funcs, app.teardown_request_funcs):
        registered: list[Any] = hooks.get(None, [])  # type: ignore[assignment]
        registered[:] = [hook for hook in registered if not ours(hook)]
