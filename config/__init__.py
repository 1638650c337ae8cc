"""Configuration read from the environment, in one place.

Nothing here runs at import time: ``Config.from_env()`` reads the environment when the app factory
asks for it, so tests can build apps with their own settings.
"""
from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, replace
from urllib.parse import urlsplit

DEFAULT_TWILIO_API_URL = "https://api.twilio.com"


def _flag(value: str | None) -> bool:
    return (value or "").strip().lower() in {"1", "true", "yes", "on"}


def _seconds_list(value: str | None) -> tuple[int, ...]:
    """"10,30,60" -> (10, 30, 60); tests shorten the retry schedule this way."""
    return tuple(int(part) for part in (value or "").replace(" ", "").split(",") if part)


@dataclass(frozen=True)
class Config:
    """Every setting the service reads; the README's configuration table lists the same names."""

    redis_url: str | None = None
    rq_redis_url: str | None = None
    redis_cluster: bool = False
    secret_key: str = "dev-secret-change-me"
    admin_token: str | None = None
    public_base_url: str = "http://127.0.0.1:5000"
    default_region: str = "US"
    twilio_account_sid: str | None = None
    twilio_auth_token: str | None = None
    twilio_api_url: str = DEFAULT_TWILIO_API_URL
    twilio_timeout_seconds: float = 10.0
    smtp_url: str | None = None
    """Where invitation and password-reset links are mailed from (waitlist.mail); without it they go
    to the local outbox in development and are handed back to whoever makes them."""
    mail_from: str | None = None
    text_retry_intervals: tuple[int, ...] = (10, 30, 60, 90, 120)
    text_job_timeout_seconds: int = 30
    webhook_retry_intervals: tuple[int, ...] = (10, 60, 300, 1800, 7200, 21600, 43200)
    """Seconds before each retry of a failed webhook delivery: about 19 hours of tries in all, and an
    endpoint failing for a day (webhook_disable_after_seconds) is disabled."""
    webhook_timeout_seconds: float = 10.0
    webhook_disable_after_seconds: float = 24 * 3600.0
    webhooks_allow_private: bool = False
    """Endpoints on loopback and private addresses, and plain http: tests and development only."""
    development: bool = False
    trust_proxy_hops: int = 0
    log_level: str = "INFO"
    rate_limits_enabled: bool = True
    ratelimit_storage_uri: str | None = None
    session_hours: float = 12.0
    live_max_streams_per_address: int = 20
    live_max_streams_per_restaurant: int = 1000
    live_max_streams: int = 5000

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Config:
        env = os.environ if environ is None else environ
        return cls(
            redis_url=env.get("REDIS_URL") or None,
            rq_redis_url=env.get("RQ_REDIS_URL") or None,
            redis_cluster=_flag(env.get("REDIS_CLUSTER")),
            secret_key=env.get("SECRET_KEY") or cls.secret_key,
            admin_token=env.get("ADMIN_TOKEN") or None,
            public_base_url=(env.get("PUBLIC_BASE_URL") or cls.public_base_url).rstrip("/"),
            default_region=(env.get("DEFAULT_REGION") or "US").upper(),
            twilio_account_sid=env.get("TWILIO_ACCOUNT_SID") or None,
            twilio_auth_token=env.get("TWILIO_AUTH_TOKEN") or None,
            twilio_api_url=(env.get("TWILIO_API_URL") or DEFAULT_TWILIO_API_URL).rstrip("/"),
            twilio_timeout_seconds=float(env.get("TWILIO_TIMEOUT_SECONDS") or 10.0),
            smtp_url=env.get("SMTP_URL") or None,
            mail_from=env.get("MAIL_FROM") or None,
            text_retry_intervals=_seconds_list(env.get("TEXT_RETRY_INTERVALS")) or cls.text_retry_intervals,
            text_job_timeout_seconds=int(env.get("TEXT_JOB_TIMEOUT_SECONDS") or cls.text_job_timeout_seconds),
            webhook_retry_intervals=_seconds_list(env.get("WEBHOOK_RETRY_INTERVALS")) or cls.webhook_retry_intervals,
            webhook_timeout_seconds=float(env.get("WEBHOOK_TIMEOUT_SECONDS") or cls.webhook_timeout_seconds),
            webhook_disable_after_seconds=float(env.get("WEBHOOK_DISABLE_AFTER_SECONDS")
                                                or cls.webhook_disable_after_seconds),
            webhooks_allow_private=_flag(env.get("WEBHOOKS_ALLOW_PRIVATE")),
            development=_flag(env.get("WAITLIST_DEV")),
            trust_proxy_hops=int(env.get("TRUST_PROXY_HOPS") or 0),
            log_level=(env.get("LOG_LEVEL") or "INFO").upper(),
            rate_limits_enabled=not _flag(env.get("RATE_LIMITS_DISABLED")),
            ratelimit_storage_uri=env.get("RATELIMIT_STORAGE_URI") or None,
            session_hours=float(env.get("SESSION_HOURS") or 12.0),
            live_max_streams_per_address=int(env.get("LIVE_MAX_STREAMS_PER_ADDRESS") or 20),
            live_max_streams_per_restaurant=int(env.get("LIVE_MAX_STREAMS_PER_RESTAURANT") or 1000),
            live_max_streams=int(env.get("LIVE_MAX_STREAMS") or 5000),
        )

    def with_overrides(self, **overrides: object) -> Config:
        return replace(self, **overrides)  # type: ignore[arg-type]

    @property
    def mail_configured(self) -> bool:
        return bool(self.smtp_url)

    @property
    def mail_sender(self) -> str:
        """MAIL_FROM, else no-reply at the public host name."""
        return self.mail_from or f"Waitlist <no-reply@{urlsplit(self.public_base_url).hostname or 'localhost'}>"

    @property
    def twilio_configured(self) -> bool:
        """Texts go to Twilio only with both credentials; otherwise they land in the local outbox."""
        return bool(self.twilio_account_sid and self.twilio_auth_token)
