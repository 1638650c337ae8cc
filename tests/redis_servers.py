"""Throwaway ``redis-server`` processes and Redis Clusters on free loopback ports, for tests and benches
that need Redis settings the machine's shared server (127.0.0.1:6379) must not be given: persistence to
test a restart, cluster mode, a server of its own to measure memory on.

Each server lives in its own temporary directory (its AOF, RDB and nodes.conf) and is stopped on the way
out of its ``with`` block or fixture, whatever happened::

    with RedisServer(tmp_path, appendonly=True) as server:
        server.kill()           # SIGKILL, as a host failure would
        server.start()          # same port, same directory: it reloads its AOF

    with RedisCluster3(tmp_path) as cluster:
        client = RedisCluster.from_url(cluster.url)
"""
from __future__ import annotations

import os
import random
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Self

import pytest
from redis import Redis
from redis.exceptions import BusyLoadingError
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeout

REDIS_SERVER = shutil.which("redis-server") or "/usr/bin/redis-server"
REDIS_CLI = shutil.which("redis-cli") or "/usr/bin/redis-cli"

PRODUCTION_SETTINGS: dict[str, str] = {
    "appendonly": "yes",
    "appendfsync": "everysec",
    "maxmemory-policy": "noeviction",
}
"""The documented production settings (README, Deployment): an append-only file synced every second,
and no eviction, so a full Redis refuses writes (a 503) instead of silently dropping a waiting party."""


def _port_free(port: int) -> bool:
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def free_ports(count: int, cluster_bus: bool = False) -> list[int]:
    """``count`` free loopback ports (and, for cluster nodes, their bus ports ``port + 10000`` too).
    Never 6379, the machine's shared server."""
    chosen: list[int] = []
    rng = random.Random(os.getpid() ^ time.monotonic_ns())
    for _ in range(5000):
        port = rng.randrange(20000, 40000)
        wanted = [port, port + 10000] if cluster_bus else [port]
        if port in chosen or any(p in chosen or p == 6379 or not _port_free(p) for p in wanted):
            continue
        chosen.append(port)
        if len(chosen) == count:
            return chosen
    raise RuntimeError("no free loopback ports")


class RedisServer:
    """One ``redis-server`` on 127.0.0.1 with its own directory; can be killed and started again."""

    def __init__(self, directory: Path | str | None = None, port: int | None = None,
                 settings: dict[str, str] | None = None, cluster: bool = False, name: str = "redis"):
        self._own_dir = directory is None
        self.directory = Path(directory or tempfile.mkdtemp(prefix="redis-test-")) / f"{name}"
        self.directory.mkdir(parents=True, exist_ok=True)
        self.port = port or free_ports(1, cluster_bus=cluster)[0]
        self.settings = dict(settings or {})
        self.cluster = cluster
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    @property
    def log_path(self) -> Path:
        return self.directory / "redis.log"

    def command(self) -> list[str]:
        args = [REDIS_SERVER, "--port", str(self.port), "--bind", "127.0.0.1", "--dir", str(self.directory),
                "--save", "", "--appendonly", "no", "--protected-mode", "yes", "--daemonize", "no",
                "--logfile", str(self.log_path)]
        if self.cluster:
            args += ["--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf",
                     "--cluster-node-timeout", "2000"]
        for name, value in self.settings.items():
            args += [f"--{name}", value]
        return args

    def start(self, timeout: float = 15.0) -> Self:
        """Start (or start again, on the same port and directory) and wait until it has loaded its data."""
        assert self.process is None or self.process.poll() is not None, "already running"
        self.process = subprocess.Popen(self.command(), stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT,
                                        start_new_session=True)
        self.wait_ready(timeout)
        return self

    def wait_ready(self, timeout: float = 15.0) -> None:
        deadline = time.monotonic() + timeout
        client = self.client()
        try:
            while True:
                if self.process is not None and self.process.poll() is not None:
                    raise RuntimeError(f"redis-server exited with {self.process.returncode}: {self.log()}")
                try:
                    if client.ping():
                        return
                except (RedisConnectionError, RedisTimeout, BusyLoadingError):
                    pass
                if time.monotonic() > deadline:
                    raise RuntimeError(f"redis-server on {self.port} not ready after {timeout} s: {self.log()}")
                time.sleep(0.02)
        finally:
            client.close()

    def client(self, **options: Any) -> Any:
        """A client of this server only (text replies unless ``decode_responses=False``)."""
        options.setdefault("decode_responses", True)
        options.setdefault("socket_timeout", 2.0)
        options.setdefault("socket_connect_timeout", 1.0)
        return Redis(host="127.0.0.1", port=self.port, **options)

    def kill(self, sig: int = signal.SIGKILL) -> None:
        """Kill the server without letting it write anything more (SIGKILL by default)."""
        if self.process is None or self.process.poll() is not None:
            return
        os.killpg(self.process.pid, sig)
        self.process.wait(timeout=10)

    def stop(self) -> None:
        """Stop it for good (SIGTERM, then SIGKILL) and remove a directory this object created."""
        if self.process is not None and self.process.poll() is None:
            try:
                os.killpg(self.process.pid, signal.SIGTERM)
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=10)
        if self._own_dir:
            shutil.rmtree(self.directory.parent, ignore_errors=True)

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def log(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-3000:]
        except OSError:
            return ""

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


class RedisCluster3:
    """A Redis Cluster of ``primaries`` nodes (three by default) with ``replicas`` replicas each (none by
    default) on free loopback ports; node timeout 2 s, so a killed primary's replica takes over in ~3 s."""

    def __init__(self, directory: Path | str | None = None, primaries: int = 3,
                 settings: dict[str, str] | None = None, replicas: int = 0):
        self._own_dir = directory is None
        self.directory = Path(directory or tempfile.mkdtemp(prefix="redis-cluster-"))
        self.replicas = replicas
        ports = free_ports(primaries * (1 + replicas), cluster_bus=True)
        settings = {"repl-diskless-sync-delay": "0", **(settings or {})}
        self.nodes = [RedisServer(self.directory, port, settings, cluster=True, name=f"node-{port}")
                      for port in ports]

    @property
    def ports(self) -> list[int]:
        return [node.port for node in self.nodes]

    @property
    def url(self) -> str:
        """The waitlist's cluster URL (waitlist.store.connections understands the ``redis+cluster`` scheme)."""
        return f"redis+cluster://127.0.0.1:{self.ports[0]}/0"

    def start(self, timeout: float = 30.0) -> Self:
        try:
            for node in self.nodes:
                node.start()
            addresses = [f"127.0.0.1:{port}" for port in self.ports]
            created = subprocess.run([REDIS_CLI, "--cluster", "create", *addresses, "--cluster-replicas",
                                      str(self.replicas), "--cluster-yes"], capture_output=True, text=True, timeout=60)
            if created.returncode != 0:
                raise RuntimeError(f"redis-cli --cluster create failed: {created.stdout}{created.stderr}")
            self.wait_ok(timeout)
        except BaseException:
            self.stop()
            raise
        return self

    def wait_ok(self, timeout: float = 30.0) -> None:
        """Every node says cluster_state:ok and knows every node (the gossip has converged), and every
        replica has synced (a replica that never synced cannot be promoted)."""
        deadline = time.monotonic() + timeout
        while True:
            states = []
            for node in self.nodes:
                client = node.client()
                try:
                    info = client.cluster("info")
                    known = int(info.get("cluster_known_nodes", 0)) if isinstance(info, dict) else 0
                    replication = client.info("replication")
                    synced = replication["role"] == "master" or replication.get("master_link_status") == "up"
                    states.append(isinstance(info, dict) and info.get("cluster_state") == "ok"
                                  and known == len(self.nodes) and synced)
                except Exception:
                    states.append(False)
                finally:
                    client.close()
            if all(states):
                return
            if time.monotonic() > deadline:
                raise RuntimeError(f"cluster not ok after {timeout} s: {states}")
            time.sleep(0.1)

    def node_at(self, port: int) -> RedisServer:
        [node] = [n for n in self.nodes if n.port == port]
        return node

    def stop(self) -> None:
        for node in self.nodes:
            node.stop()
        if self._own_dir:
            shutil.rmtree(self.directory, ignore_errors=True)

    def flushall(self) -> None:
        for node in self.nodes:
            if not node.running:
                continue
            client = node.client()
            try:
                if client.info("replication")["role"] == "master":
                    client.flushall()
            finally:
                client.close()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


@pytest.fixture
def persistent_redis(tmp_path: Path) -> Iterator[RedisServer]:
    """A redis-server of the test's own with the production settings (AOF everysec, noeviction)."""
    with RedisServer(tmp_path, settings=PRODUCTION_SETTINGS) as server:
        yield server


@pytest.fixture(scope="module")
def redis_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisCluster3]:
    """A real three-primary Redis Cluster on loopback, shared by a module's tests (each flushes it)."""
    with RedisCluster3(tmp_path_factory.mktemp("cluster")) as cluster:
        yield cluster
