"""Rate limits on the public endpoints, in one table, enforced by flask-limiter.

Counters live in Redis (RATELIMIT_STORAGE_URI, else REDIS_URL) so every web process shares them; the
embedded development store and unit tests count in memory. Over a limit the answer is 429 with
Retry-After and the usual JSON error shape. If the counter store is down, requests are let through
(swallow_errors): a limiter must not take the waitlist down with it.
"""
from __future__ import annotations

import logging
import math
import threading
import time
from typing import Any

from flask import Flask, current_app, request
from flask_limiter import Limiter, RateLimitExceeded
from flask_limiter.util import get_remote_address
from limits import RateLimitItem, parse_many

from config import Config
from waitlist.domain.errors import Forbidden, Unauthorized, WaitlistError
from waitlist.store.connections import waiting_pool_options
from waitlist.web.http import bearer_token, domain_error_response, error_response

log = logging.getLogger(__name__)

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
    "account.sign_in": "10 per minute;50 per hour",
    "account.request_reset": "5 per minute;20 per hour",
    "account.accept_invite": "10 per minute",
    "account.reset": "10 per minute",
    "join.join_page": "60 per minute",
    "join.submit": "5 per minute;20 per hour",
    "join.code_page": "60 per minute",
    "join.code_state": "120 per minute",
    "join.confirm": "10 per minute",
    "join.qr_code": "30 per minute",
    "reservations.availability": "120 per minute",
    "booking.book_page": "60 per minute",
    "booking.book": "5 per minute;20 per hour",
    "booking.code_page": "60 per minute",
    "booking.code_state": "120 per minute",
    "booking.manage_page": "60 per minute",
    "booking.manage": "10 per minute",
    "booking.cancel": "10 per minute",
}

FAILED_KEY_LIMIT = "20 per minute;100 per hour"
"""Wrong admin tokens and staff keys per client IP, over the API and the sign-in forms together. Only
failures count: a valid key is never slowed, and one address's guesses never slow another's key."""
SIGN_IN_ENDPOINTS = frozenset({"host.sign_in", "owner.sign_in", "account.sign_in"})


class FailedKeyGuard:
    """Counts failed key attempts per address in the limiter's shared store, and refuses every request
    offering a key from an address past the limit until its window ends (a right key too: otherwise a
    429 for wrong keys and a 200 for the right one would still answer every guess).

    The refusal needs no round trip: the process that counts the failure over the limit remembers the
    address until the window's end, so a staff request costs one dict lookup. Another process learns
    it at its own first failure from that address, which it answers 429 as well.
    """

    def __init__(self, limiter: Limiter, key_prefix: str, limit: str = FAILED_KEY_LIMIT):
        self.limiter = limiter
        self.key_prefix = key_prefix
        self.items: list[RateLimitItem] = parse_many(limit)
        self.blocked: dict[str, float] = {}
        self.lock = threading.Lock()

    def retry_after(self, address: str) -> int | None:
        """Seconds until this address may offer a key again; None when it may now."""
        if not self.blocked:
            return None
        until = self.blocked.get(address)
        if until is None:
            return None
        wait = until - time.time()
        if wait <= 0:
            with self.lock:
                self.blocked.pop(address, None)
            return None
        return max(1, math.ceil(wait))

    def failed(self, address: str) -> int | None:
        """Count one failure; the seconds to wait when the address is now over the limit."""
        try:
            strategy = self.limiter.limiter
            over = [item for item in self.items if not strategy.hit(item, self.key_prefix, "failed-key", address)]
            if not over:
                return None
            until = max(strategy.get_window_stats(item, self.key_prefix, "failed-key", address).reset_time
                        for item in over)
        except Exception:  # the counters' store is down: let the request through, as every limit does
            log.warning("failed-key counter unavailable", exc_info=True)
            return None
        with self.lock:
            if len(self.blocked) > 10_000:  # a flood of addresses: drop the ones whose window ended
                now = time.time()
                self.blocked = {addr: end for addr, end in self.blocked.items() if end > now}
            self.blocked[address] = until
        return self.retry_after(address) or 1

    def reset(self) -> None:
        with self.lock:
            self.blocked.clear()


def offers_a_key() -> bool:
    return bearer_token() is not None or (request.method == "POST" and request.endpoint in SIGN_IN_ENDPOINTS)


class TooManyFailures(WaitlistError):
    code = "rate_limited"
    status = 429

    def __init__(self, retry_after: int):
        super().__init__(f"too many wrong keys from this address: try again in {retry_after} s")
        self.retry_after = retry_after


def too_many_failures(retry_after: int) -> Any:
    """The 429 in the one error shape (the friendly page for a page), with Retry-After."""
    return domain_error_response(TooManyFailures(retry_after))


def failed_key() -> int | None:
    """Count a wrong key offered where no error handler sees it (the sign-in forms): the seconds to
    wait when this address is now over the limit."""
    guard: FailedKeyGuard | None = current_app.extensions.get("failed_key_guard")
    return guard.failed(get_remote_address()) if guard is not None else None


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
    uri = storage_uri(config, embedded)
    limiter = Limiter(key_func=get_remote_address, storage_uri=uri, storage_options=waiting_pool_options(uri),
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

    if config.rate_limits_enabled:
        _guard_keys(app, FailedKeyGuard(limiter, key_prefix))
    for endpoint, limit in PUBLIC_LIMITS.items():
        view = app.view_functions.get(endpoint)
        if view is not None:
            app.view_functions[endpoint] = limiter.limit(limit)(view)  # type: ignore[assignment]
    app.extensions["waitlist_limiter"] = limiter
    return limiter


def _guard_keys(app: Flask, guard: FailedKeyGuard) -> None:
    """Wrong keys from one address answer 429 past FAILED_KEY_LIMIT (see FailedKeyGuard)."""
    app.extensions["failed_key_guard"] = guard

    @app.before_request
    def _refuse_a_blocked_address() -> Any:
        if not guard.blocked or not offers_a_key():
            return None
        wait = guard.retry_after(get_remote_address())
        return too_many_failures(wait) if wait else None

    def count(exc: Unauthorized | Forbidden) -> Any:
        if offers_a_key():
            wait = guard.failed(get_remote_address())
            if wait:
                return too_many_failures(wait)
        return domain_error_response(exc)

    app.register_error_handler(Unauthorized, count)
    app.register_error_handler(Forbidden, count)


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
