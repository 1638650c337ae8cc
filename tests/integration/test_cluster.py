"""The waitlist on a real three-primary Redis Cluster: same code, same Lua, one slot per restaurant.

A module-scoped cluster (tests/redis_servers.py: ``redis-server --cluster-enabled yes`` x 3, then
``redis-cli --cluster create``) on free loopback ports, flushed before each test. RQ, which does not
support Cluster, gets a plain redis-server of its own (RQ_REDIS_URL), as in production.

* The concurrency scenarios of test_concurrency.py run here unchanged: they are imported, and this
  module's ``real_redis`` fixture (a RedisCluster client) replaces the single-server one for them.
* An API round trip through ``create_app`` configured with a ``redis+cluster://`` URL, a real
  ``rq worker`` subprocess on its own Redis sending a text to a Twilio-compatible server and firing a
  hold timer, the owner's stats fold (WATCH/MULTI) and the live screen's stream reads.
"""
from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from redis.cluster import RedisCluster
from redis.exceptions import RedisClusterException, ResponseError

from config import Config
from tests.conftest import auth, create_restaurant, make_config
from tests.fakes import RecordingDispatcher
from tests.integration.test_concurrency import (  # noqa: F401  (re-run here against the cluster)
    service,
    test_a_timer_racing_a_seat_never_releases_a_seated_table,
    test_the_same_phone_joining_from_many_threads_gets_one_party,
    test_twenty_threads_racing_every_action_leave_a_valid_list,
    test_two_hosts_seating_and_cancelling_one_party_end_in_one_state,
)
from tests.integration.test_texts_e2e import WorkerProcess, eventually, worker_env
from tests.redis_servers import RedisCluster3, RedisServer
from tests.twilio_server import TwilioServer
from waitlist.store.connections import waitlist_redis
from waitlist.texting.dispatch import TEXTS_QUEUE, TIMERS_QUEUE
from waitlist.web.app import create_app

pytestmark = [pytest.mark.integration, pytest.mark.slow]

SLUG = "noodle-bar"
PUBLIC_BASE_URL = "https://wait.example.com"


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisCluster3]:
    with RedisCluster3(tmp_path_factory.mktemp("cluster")) as cluster:
        yield cluster


@pytest.fixture
def real_redis(cluster: RedisCluster3) -> Iterator[Any]:
    """The waitlist's client exactly as production builds it from a cluster URL, on an empty cluster."""
    cluster.flushall()
    client = waitlist_redis(cluster.url)
    assert isinstance(client, RedisCluster)
    yield client
    client.close()


# --- what redis-py 8's RedisCluster does with this store's patterns ----------------------------------

def test_the_cluster_client_runs_registered_scripts_and_same_slot_transactions(real_redis: Any) -> None:
    script = real_redis.register_script("return redis.call('INCR', KEYS[1]) + redis.call('INCR', KEYS[2])")
    assert script(keys=["wl:{a}:x", "wl:{a}:y"]) == 2
    real_redis.script_flush()  # a failover or restart empties the script cache: EVALSHA reloads it
    assert script(keys=["wl:{a}:x", "wl:{a}:y"]) == 4

    with real_redis.pipeline(transaction=True) as pipe:
        pipe.incr("wl:{a}:x").hset("wl:{a}:h", mapping={"k": "v"}).xadd("wl:{a}:events", {"type": "t"})
        assert pipe.execute()[:2] == [3, 1]

    with real_redis.pipeline(transaction=True) as pipe:
        pipe.watch("wl:{a}:x")
        value = int(pipe.get("wl:{a}:x"))
        pipe.multi()
        pipe.set("wl:{a}:x", value + 1)
        pipe.execute()
    assert real_redis.get("wl:{a}:x") == "4"


def test_a_cross_slot_script_or_transaction_is_refused_not_half_applied(real_redis: Any) -> None:
    """Why every key of a restaurant carries the {slug} hash tag."""
    script = real_redis.register_script("return redis.call('INCR', KEYS[1]) + redis.call('INCR', KEYS[2])")
    with pytest.raises((RedisClusterException, ResponseError)):
        script(keys=["wl:{a}:x", "wl:{b}:x"])
    with pytest.raises((RedisClusterException, ResponseError)):
        with real_redis.pipeline(transaction=True) as pipe:
            pipe.incr("wl:{a}:x").incr("wl:{b}:x")
            pipe.execute()
    assert real_redis.get("wl:{a}:x") is None and real_redis.get("wl:{b}:x") is None


# --- the service over HTTP, with a real worker -------------------------------------------------------

@pytest.fixture
def rq_server(tmp_path: Path) -> Iterator[RedisServer]:
    with RedisServer(tmp_path, name="rq") as server:
        yield server


@pytest.fixture
def twilio() -> Iterator[TwilioServer]:
    with TwilioServer() as server:
        yield server


@pytest.fixture
def config(cluster: RedisCluster3, rq_server: RedisServer, twilio: TwilioServer) -> Config:
    return make_config(redis_url=cluster.url, rq_redis_url=rq_server.url, public_base_url=PUBLIC_BASE_URL,
                       twilio_account_sid=twilio.account_sid, twilio_auth_token=twilio.auth_token,
                       twilio_api_url=twilio.url, text_retry_intervals=(1, 1), text_job_timeout_seconds=3)


@pytest.fixture
def app(real_redis: Any, config: Config) -> Flask:
    """Built from configuration alone, as gunicorn builds it: the cluster client and RQ's own Redis."""
    app = create_app(config)
    app.testing = True
    assert isinstance(app.extensions["redis"], RedisCluster)
    return app


class ClusterWorker(WorkerProcess):
    """``rq worker`` on RQ's own Redis, with the waitlist on the cluster (REDIS_URL, RQ_REDIS_URL)."""

    def __init__(self, env: dict[str, str], log_path: Path, rq_url: str):
        super().__init__(env, log_path)
        self.rq_url = rq_url

    def start(self) -> ClusterWorker:
        import subprocess

        from tests.integration.test_texts_e2e import ROOT, RQ

        command = [str(RQ), "worker", "--with-scheduler", "-w", self.worker_class, "--url", self.rq_url,
                   "--maintenance-interval", "1", TEXTS_QUEUE, TIMERS_QUEUE]
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(command, cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT,
                                            start_new_session=True)
        return self


@pytest.fixture
def worker(config: Config, twilio: TwilioServer, cluster: RedisCluster3, rq_server: RedisServer,
           tmp_path: Path) -> Iterator[ClusterWorker]:
    env = worker_env(config, twilio)
    env.update(REDIS_URL=cluster.url, RQ_REDIS_URL=rq_server.url)
    worker = ClusterWorker(env, tmp_path / "worker.log", rq_server.url).start()
    rq = rq_server.client(decode_responses=False)
    try:
        worker.wait_ready(rq)
        yield worker
    finally:
        worker.stop()
        rq.close()


def call(client: Any, method: str, path: str, expect: int = 200, **kwargs: Any) -> Any:
    response = getattr(client, method)(path, **kwargs)
    assert response.status_code == expect, (path, response.status_code, response.get_data(as_text=True)[:500])
    return response.get_json() if response.is_json else response.get_data(as_text=True)


def test_an_api_round_trip_on_the_cluster_texts_the_guest_and_fires_the_hold_timer(
        app: Flask, real_redis: Any, twilio: TwilioServer, worker: ClusterWorker) -> None:
    client = app.test_client()
    restaurant = create_restaurant(client, slug=SLUG)
    headers = auth(restaurant["api_key"])
    base = f"/api/v1/restaurants/{SLUG}"
    call(client, "patch", f"{base}/settings", json={"hold_minutes": 0.05}, headers=headers)

    first = call(client, "post", f"{base}/parties", 201, json={"name": "Ana Lima", "phone": "+14155552671",
                                                                "party_size": 2}, headers=headers)
    second = call(client, "post", f"{base}/parties", 201, json={"name": "Bo Chen", "phone": "+14155552672",
                                                                 "party_size": 4}, headers=headers)
    assert [p["id"] for p in call(client, "get", f"{base}/parties", headers=headers)["parties"]] == \
        [first["id"], second["id"]]
    call(client, "post", f"{base}/parties/{second['id']}/move", json={"position": 1}, headers=headers)
    token = first["status_url"].rsplit("/", 1)[1]
    assert call(client, "get", f"/api/v1/status/{token}")["position"] == 2
    assert "Ana" in call(client, "get", f"/s/{token}")
    assert call(client, "get", f"{base}/estimate?party_size=2")["parties_ahead"] == 2

    # The joined texts go out through the worker (RQ on its own Redis, the waitlist on the cluster).
    assert twilio.wait_for(lambda s: len(s.accepted) >= 2, timeout=30), worker.log()

    # Notify with a three-second hold and let the timer release the table.
    call(client, "post", f"{base}/parties/{first['id']}/notify", headers=headers)
    eventually(lambda: call(client, "get", f"{base}/parties/{first['id']}", headers=headers)["status"] == "no_show",
               30, "the hold timer")
    call(client, "post", f"{base}/parties/{second['id']}/seat", headers=headers)
    kinds = [m["kind"] for m in call(client, "get", f"{base}/parties/{first['id']}/messages",
                                     headers=headers)["messages"]]
    assert kinds == ["joined", "table_ready", "hold_expired"]
    assert twilio.wait_for(lambda s: len(s.accepted) >= 4, timeout=30), worker.log()

    # The live screen and the owner's numbers read the same keys (streams; WATCH/MULTI fold).
    assert "Bo" not in call(client, "get", f"/board/{SLUG}/content")
    stats = call(client, "get", f"{base}/stats", headers=headers)
    assert stats, stats

    # Every key of the restaurant is in one slot, so every script and transaction above was single-slot.
    slot = real_redis.keyslot(f"wl:{{{SLUG}}}")
    keys = list(real_redis.scan_iter(match=f"wl:{{{SLUG}}}:*", target_nodes=RedisCluster.ALL_NODES))
    assert len(keys) > 10
    assert {real_redis.keyslot(key) for key in keys} == {slot}


def test_the_live_stream_reads_a_restaurants_events_on_the_cluster(app: Flask, real_redis: Any) -> None:
    client = app.test_client()
    restaurant = create_restaurant(client, slug=SLUG)
    headers = auth(restaurant["api_key"])
    call(client, "post", f"/api/v1/restaurants/{SLUG}/parties", 201,
         json={"name": "Ana Lima", "phone": "+14155552671", "party_size": 2}, headers=headers)
    events = app.extensions["waitlist"].store.events(SLUG)
    assert [(fields["type"], fields["to"]) for _, fields in events] == [("status", "waiting")], events
    response = client.get(f"/board/{SLUG}/events", headers={"Accept": "text/event-stream"}, buffered=False)
    try:
        assert response.status_code == 200
        assert response.mimetype == "text/event-stream"
        first_chunk = next(iter(response.response))
        assert first_chunk
    finally:
        response.close()



def test_rate_limits_count_in_the_cluster_shared_by_every_web_process(cluster: RedisCluster3, real_redis: Any,
                                                                     config: Config) -> None:
    """No RATELIMIT_STORAGE_URI: the limiter's counters live in the waitlist's cluster (redis+cluster)."""
    app = create_app(config.with_overrides(ratelimit_storage_uri=None))
    client = app.test_client()
    create_restaurant(client, slug=SLUG)
    codes = [client.get(f"/api/v1/restaurants/{SLUG}/estimate").status_code for _ in range(125)]
    assert (codes.count(200), codes.count(429)) == (120, 5)
    assert list(real_redis.scan_iter(match="*ratelimit*", target_nodes=RedisCluster.ALL_NODES))


def test_rq_refuses_a_cluster_url_with_a_message_naming_rq_redis_url(cluster: RedisCluster3) -> None:
    from waitlist.store.connections import rq_redis

    with pytest.raises(ValueError, match="RQ_REDIS_URL"):
        rq_redis(cluster.url)
    with pytest.raises(ValueError, match="RQ_REDIS_URL"):
        create_app(make_config(redis_url=cluster.url))


# --- a primary fails over ------------------------------------------------------------------------------

def test_a_killed_primary_fails_over_its_restaurants_see_503s_then_recover_and_others_never_notice(
        tmp_path: Path) -> None:
    """3 primaries + 3 replicas. SIGKILL the primary holding one restaurant's slot while both restaurants
    add parties: that restaurant answers 503 (never 500) until its replica is promoted, then 201 again;
    the other restaurant, on another primary, keeps answering (its few 503s are requests touching a
    global index key that lives on the failed primary); every add acknowledged a second before the kill
    is still there (replication is asynchronous: the last moment may be lost)."""
    # Without this, a cluster missing one primary refuses every slot (CLUSTERDOWN) until the failover.
    settings = {"cluster-require-full-coverage": "no"}
    with RedisCluster3(tmp_path / "failover", replicas=1, settings=settings) as cluster:
        redis: Any = waitlist_redis(cluster.url)
        app = create_app(make_config(redis_url=cluster.url), redis=redis, dispatcher=RecordingDispatcher())
        client = app.test_client()
        slugs = ["noodle-bar", "taco-stand"]
        owners = {slug: redis.get_node_from_key(f"wl:{{{slug}}}") for slug in slugs}
        if owners[slugs[0]].port == owners[slugs[1]].port:  # pragma: no cover - depends on the slot map
            slugs[1] = "dumpling-house"
            owners = {slug: redis.get_node_from_key(f"wl:{{{slug}}}") for slug in slugs}
        assert owners[slugs[0]].port != owners[slugs[1]].port
        keys = {slug: auth(create_restaurant(client, slug=slug, sms_from=f"+1415555010{i}")["api_key"])
                for i, slug in enumerate(slugs)}
        victim, bystander = slugs
        acked: dict[str, list[tuple[str, float]]] = {slug: [] for slug in slugs}
        codes: dict[str, list[tuple[int, float]]] = {slug: [] for slug in slugs}
        killed_at = 0.0
        start = time.time()
        n = 0
        while time.time() - start < 14:
            n += 1
            if not killed_at and time.time() - start > 3:
                killed_at = time.time()
                cluster.node_at(owners[victim].port).kill()
            for i, slug in enumerate(slugs):
                response = client.post(f"/api/v1/restaurants/{slug}/parties", headers=keys[slug],
                                       json={"name": "Ana Lima", "phone": f"+1{('415', '212')[i]}555{n:04d}",
                                             "party_size": 2})
                codes[slug].append((response.status_code, time.time()))
                if response.status_code == 201:
                    acked[slug].append((response.get_json()["id"], time.time()))
            time.sleep(0.02)

        outage = [at for code, at in codes[victim] if code == 503]
        report = (f"victim answers {Counter(c for c, _ in codes[victim])}, bystander "
                  f"{Counter(c for c, _ in codes[bystander])}, victim 503s for "
                  f"{(max(outage) - min(outage)) if outage else 0:.1f} s after the kill; bystander 503s at "
                  f"{[round(at - killed_at, 1) for c, at in codes[bystander] if c == 503]} s")
        print(report)
        assert {c for c, _ in codes[victim]} <= {201, 503}, report
        assert outage and min(outage) >= killed_at, report
        assert any(code == 201 and at > max(outage) for code, at in codes[victim]), report  # recovered
        # The bystander's own keys are on a live primary (its guest links' keys too, in its own slot); only
        # its requests that touch a global index key (an API key's) living on the failed primary get a 503,
        # and only during the failover.
        assert {c for c, _ in codes[bystander]} <= {201, 503}, report
        during = [c for c, at in codes[bystander] if killed_at <= at <= max(outage)]
        assert all(killed_at <= at <= max(outage) + 2 for c, at in codes[bystander] if c == 503), report
        assert 201 in during, report  # kept being served while the other shard failed over
        for slug in slugs:
            listed = {p["id"] for p in client.get(f"/api/v1/restaurants/{slug}/parties",
                                                  headers=keys[slug]).get_json()["parties"]}
            durable = {pid for pid, at in acked[slug] if at < killed_at - 1}
            assert durable <= listed, (slug, len(durable - listed), report)
        redis.close()
