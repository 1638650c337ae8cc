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

from redis import BlockingConnectionPool, Redis
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


MAX_CONNECTIONS = 256
"""Connections one web process's client holds at most (redis-py 8 would refuse past 100). Under gevent a
burst of requests (thousands of live pages reconnecting after a deploy) can all reach Redis at once;
past this they wait their turn for up to POOL_WAIT_SECONDS, then answer 503 with Retry-After."""
POOL_WAIT_SECONDS = 2.0


class ThreadConnectionRedis(Redis):
    """A client whose commands go over a single-connection client held by the calling thread for the
    whole request, instead of a connection checked out of the pool and back for every command.

    redis-py 8's checkout and return cost about a third of a command's client-side CPU (observability
    hooks, a deprecated-argument check and a poll of the socket for stray data): some 35 us of an
    add's two scripts (bench/add_cost.py). A thread's connection is redis-py's own single-connection
    client on this client's pool, so a dropped connection reconnects and retries as before, and
    pipelines, transactions and pub/sub, which take connections of their own from the pool, are
    unchanged. At the end of each request (app.py's teardown) the client goes to a list of spares for
    the next request of any thread: under gevent a "thread" is a connection's greenlet, and an idle
    kept-alive connection or an open live page must not hold a Redis connection. A forked child (an
    RQ work horse, a preloaded gunicorn worker) never uses its parent's socket: it makes its own.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._threads = threading.local()
        self._spares: list[Redis] = []
        self._spares_pid = os.getpid()

    def execute_command(self, *args: Any, **options: Any) -> Any:
        return self._thread_client().execute_command(*args, **options)

    def release_thread_connection(self) -> None:
        """The calling thread's client (and its connection) to the spares: the request is over."""
        own = self._threads
        client = getattr(own, "client", None)
        if client is not None:
            del own.client
            if own.pid == os.getpid() == self._spares_pid:
                self._spares.append(client)

    def _thread_client(self) -> Redis:
        own = self._threads
        client: Redis | None = getattr(own, "client", None)
        if client is not None and own.pid == os.getpid():
            return client
        if self._spares_pid != os.getpid():  # a forked child: the parent's spares hold the parent's sockets
            self._spares, self._spares_pid = [], os.getpid()
        try:
            client = self._spares.pop()
        except IndexError:  # not self.client(): that would be another of this class
            client = Redis(connection_pool=self.connection_pool, single_connection_client=True)
        own.client, own.pid = client, os.getpid()
        return client


def is_cluster_url(url: str) -> bool:
    return urlparse(url).scheme in ("redis+cluster", "rediss+cluster")


def waitlist_redis(url: str | None, cluster: bool = False) -> Redis:
    """The waitlist's client; a cluster scheme or ``cluster=True`` gives a RedisCluster client."""
    url = url or DEFAULT_REDIS_URL
    if is_cluster_url(url) or cluster:
        plain = url.replace("+cluster", "", 1)
        return RedisCluster.from_url(plain, decode_responses=True, socket_timeout=2.0,  # type: ignore[return-value]
                                     socket_connect_timeout=1.0)
    pool = BlockingConnectionPool.from_url(url, decode_responses=True, retry=fail_fast_retry(),
                                           timeout=POOL_WAIT_SECONDS, max_connections=MAX_CONNECTIONS,
                                           **CLIENT_OPTIONS)
    client = ThreadConnectionRedis(connection_pool=pool)
    client.auto_close_connection_pool = True
    return client


def waiting_pool_options(url: str) -> dict[str, Any]:
    """Options for another library's Redis client (the rate limiter's) on ``url``: a pool that waits for
    a free connection, as the waitlist's does, instead of refusing past redis-py's 100."""
    if urlparse(url).scheme not in ("redis", "rediss"):
        return {}
    return {"connection_pool": BlockingConnectionPool.from_url(url, max_connections=MAX_CONNECTIONS,
                                                               timeout=POOL_WAIT_SECONDS, **CLIENT_OPTIONS)}


def rq_redis(url: str | None) -> Redis:
    """RQ stores pickled jobs, so its client must not decode responses. RQ does not support Redis
    Cluster (its keys span slots): with the waitlist on a cluster, RQ_REDIS_URL names a plain Redis."""
    url = url or DEFAULT_REDIS_URL
    if is_cluster_url(url):
        raise ValueError("RQ cannot use Redis Cluster: set RQ_REDIS_URL to a single Redis primary")
    # A pool that waits for a free connection, as the waitlist's does: under gevent a burst of adds may
    # enqueue past redis-py's 100 at once.
    pool = BlockingConnectionPool.from_url(url, socket_connect_timeout=1.0, socket_timeout=10.0,
                                           max_connections=MAX_CONNECTIONS, timeout=POOL_WAIT_SECONDS)
    client = Redis(connection_pool=pool)
    client.auto_close_connection_pool = True
    return client


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
