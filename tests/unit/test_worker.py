from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import fakeredis
import pytest
from rq import Queue
from rq.registry import ScheduledJobRegistry

from tests.conftest import make_config, wait_until
from tests.fakes import FakeSender
from waitlist.services.waitlist import Waitlist
from waitlist.store import MessageStore, OutboundText, Store, outbox_key, restaurants_key
from waitlist.texting.dispatch import TEXTS_QUEUE, TIMERS_QUEUE, RQDispatcher
from workers import context
from workers.worker import TextWorker


@pytest.fixture
def server() -> fakeredis.FakeServer:
    return fakeredis.FakeServer()


@pytest.fixture
def connection(server: fakeredis.FakeServer) -> fakeredis.FakeRedis:
    """RQ's connection (bytes) to the same in-process server as the waitlist's."""
    return fakeredis.FakeRedis(server=server)


@pytest.fixture
def waitlist(server: fakeredis.FakeServer, connection: fakeredis.FakeRedis) -> Iterator[Waitlist]:
    redis = fakeredis.FakeRedis(server=server, decode_responses=True)
    config = make_config()
    service = Waitlist(Store(redis), MessageStore(redis), RQDispatcher(connection, config), config)
    context.use(context.JobContext(waitlist=service, sender=FakeSender()))
    yield service
    context.use(None)


def test_a_starting_worker_books_the_periodic_jobs_once_however_many_start(
        connection: fakeredis.FakeRedis, waitlist: Waitlist) -> None:
    queue = Queue(TIMERS_QUEUE, connection=connection)
    workers = [TextWorker([queue], connection=connection) for _ in range(3)]
    for worker in workers:
        worker.bootstrap()
    booked = ScheduledJobRegistry(queue=queue).get_job_ids()
    assert booked and all(job_id.startswith("periodic-") for job_id in booked)
    assert len(booked) == len(set(booked)) == len({job_id.rsplit("-", 1)[0] for job_id in booked})
    stop_relays(workers)


def test_a_starting_worker_relays_texts_recorded_while_no_worker_ran(
        connection: fakeredis.FakeRedis, waitlist: Waitlist) -> None:
    waitlist.store.redis.sadd(restaurants_key(), "noodle-bar")
    message = {"id": "m1", "party": "", "to": "+14155552671", "from": "+14155550100", "body": "Hi",
               "created_at": "1.0", "status": "queued"}
    waitlist.messages.record_outbound("noodle-bar", OutboundText(message, "digest", relayed=True))
    texts = Queue(TEXTS_QUEUE, connection=connection)
    worker = TextWorker([texts], connection=connection)

    worker.bootstrap()

    wait_until(lambda: texts.job_ids == ["send-noodle-bar-m1"])
    assert waitlist.store.redis.zcard(outbox_key("noodle-bar")) == 0
    stop_relays([worker])


def stop_relays(workers: list[Any]) -> None:
    for worker in workers:
        worker.relay_stop.set()
    for worker in workers:
        worker.relay_thread.join(timeout=5)
        assert not worker.relay_thread.is_alive()

