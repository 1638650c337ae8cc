"""What a job needs (the services and a sender), built once per worker process from the environment.

Tests and the embedded development runner install their own with ``use()``.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from config import Config
from waitlist.services.owner_stats import OwnerStats
from waitlist.services.waitlist import Waitlist
from waitlist.store import DevOutbox, MessageStore, StatsStore, Store
from waitlist.store.connections import rq_redis, waitlist_redis
from waitlist.texting.dispatch import RQDispatcher
from waitlist.texting.sms import OutboxSender, Sender, TwilioSender


@dataclass
class JobContext:
    waitlist: Waitlist
    sender: Sender
    owner_stats: OwnerStats = field(init=False)

    def __post_init__(self) -> None:
        """The periodic fold and sweep's service, over the waitlist's own Redis."""
        self.owner_stats = OwnerStats(self.waitlist, StatsStore(self.waitlist.store.redis))

    @property
    def messages(self) -> MessageStore:
        return self.waitlist.messages


_current: JobContext | None = None


def use(context: JobContext | None) -> None:
    global _current
    _current = context


def build(config: Config, redis: object | None = None, rq_connection: object | None = None,
          sender: Sender | None = None) -> JobContext:
    redis = redis if redis is not None else waitlist_redis(config.redis_url, config.redis_cluster)
    rq_connection = rq_connection if rq_connection is not None else rq_redis(config.rq_redis_url or config.redis_url)
    waitlist = Waitlist(Store(redis), MessageStore(redis), RQDispatcher(rq_connection, config), config)  # type: ignore[arg-type]
    if sender is None:
        sender = (TwilioSender(config.twilio_account_sid or "", config.twilio_auth_token or "",
                               config.twilio_api_url, config.twilio_timeout_seconds)
                  if config.twilio_configured else OutboxSender(DevOutbox(redis)))  # type: ignore[arg-type]
    return JobContext(waitlist=waitlist, sender=sender)


def current() -> JobContext:
    global _current
    if _current is None:
        _current = build(Config.from_env())
    return _current
