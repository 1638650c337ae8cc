"""Redis connections: the waitlist's (text, maybe Cluster) and RQ's (bytes, single primary).

With no REDIS_URL and nothing on 127.0.0.1:6379 the development runner falls back to an embedded,
in-process store (fakeredis with Lua) shared by the app and an in-process worker.
"""
from __future__ import annotations

import os
import socket
import threading
from typing import Any
from urllib.parse import urlparse

from redis import Redis
from redis.backoff import ExponentialBackoff
from redis.cluster import RedisCluster
from redis.exceptions import (
    BusyLoadingError,
    ClusterDownError,
    OutOfMemoryError,
    ReadOnlyError,
    TryAgainError,
)
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeout
from redis.retry import Retry

DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/0"

STORE_UNAVAILABLE = (RedisConnectionError, RedisTimeout, BusyLoadingError, ReadOnlyError, OutOfMemoryError,
                     ClusterDownError, TryAgainError)
"""Redis cannot take the request right now: down, loading its AOF, a demoted primary (READONLY) or a
cluster mid-failover (CLUSTERDOWN, TRYAGAIN), or full (OOM under noeviction). The store lets these
through; the web layer answers 503 + Retry-After, as the request changed nothing and may be retried."""

def fail_fast_retry() -> Retry:
    """Two quick retries (a failover or a dropped connection), then a 503: a host at the door should
    not stare at a spinner for redis-py's default ten-second backoff."""
    return Retry(ExponentialBackoff(cap=0.1, base=0.02), 2)


CLIENT_OPTIONS: dict[str, Any] = {
    "socket_timeout": 2.0,
    "socket_connect_timeout": 1.0,
    "health_check_interval": 15,
}


class ThreadConnectionRedis(Redis):
    """A client whose commands go over a connection of the calling thread's own, held for the thread's
    life, instead of one checked out of the pool and back for every command.

    redis-py 8's checkout and return cost about a third of a command's client-side CPU (observability
    hooks, a deprecated-argument check and a poll of the socket for stray data): some 35 us of an
    add's two scripts (bench/add_cost.py). A thread's connection is redis-py's own single-connection
    client on this client's pool, so a dropped connection reconnects and retries as before, and
    pipelines, transactions and pub/sub, which take connections of their own from the pool, are
    unchanged. A gthread worker holds one connection per thread, as its busiest moment would check
    out anyway. A forked child (an RQ work horse, a preloaded gunicorn worker) never uses its
    parent's socket: it makes its own.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._threads = threading.local()

    def execute_command(self, *args: Any, **options: Any) -> Any:
        return self._thread_client().execute_command(*args, **options)

    def release_thread_connection(self) -> None:
        """Give the calling thread's connection back to the pool (an open live page, which is a greenlet
        under gevent, must not hold one while it waits); its next command takes one again."""
        client = getattr(self._threads, "client", None)
        if client is not None and getattr(self._threads, "pid", None) == os.getpid():
            del self._threads.client, self._threads.pid
            client.close()

    def _thread_client(self) -> Redis:
        own = self._threads
        if getattr(own, "pid", None) != os.getpid():  # not self.client(): that would be another of this class
            own.client = Redis(connection_pool=self.connection_pool, single_connection_client=True)
            own.pid = os.getpid()
        return own.client  # type: ignore[no-any-return]


def is_cluster_url(url: str) -> bool:
    return urlparse(url).scheme in ("redis+cluster", "rediss+cluster")


def waitlist_redis(url: str | None, cluster: bool = False) -> Redis:
    """The waitlist's client; a cluster scheme or ``cluster=True`` gives a RedisCluster client."""
    url = url or DEFAULT_REDIS_URL
    if is_cluster_url(url) or cluster:
        plain = url.replace("+cluster", "", 1)
        return RedisCluster.from_url(plain, decode_responses=True, socket_timeout=2.0,  # type: ignore[return-value]
                                     socket_connect_timeout=1.0)
    return ThreadConnectionRedis.from_url(url, decode_responses=True, retry=fail_fast_retry(), **CLIENT_OPTIONS)


def rq_redis(url: str | None) -> Redis:
    """RQ stores pickled jobs, so its client must not decode responses. RQ does not support Redis
    Cluster (its keys span slots): with the waitlist on a cluster, RQ_REDIS_URL names a plain Redis."""
    url = url or DEFAULT_REDIS_URL
    if is_cluster_url(url):
        raise ValueError("RQ cannot use Redis Cluster: set RQ_REDIS_URL to a single Redis primary")
    return Redis.from_url(url, socket_connect_timeout=1.0, socket_timeout=10.0)


def redis_answers(url: str | None) -> bool:
    """Whether a Redis server accepts connections at ``url`` (the default when None)."""
    parsed = urlparse((url or DEFAULT_REDIS_URL).replace("+cluster", "", 1))
    try:
        with socket.create_connection((parsed.hostname or "127.0.0.1", parsed.port or 6379), timeout=0.5) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(64).startswith((b"+PONG", b"-NOAUTH"))
    except OSError:
        return False


def embedded_pair() -> tuple[Redis, Redis]:
    """An in-process store: two fakeredis clients over one server, text and bytes flavours."""
    import fakeredis

    server = fakeredis.FakeServer()
    return (fakeredis.FakeRedis(server=server, decode_responses=True),  # type: ignore[return-value]
            fakeredis.FakeRedis(server=server))  # type: ignore[return-value]
