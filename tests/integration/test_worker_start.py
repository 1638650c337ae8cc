"""A starting worker on the real Redis: it books the periodic jobs once and its relay thread queues

texts recorded while no worker ran."""
from __future__ import annotations

from collections.abc import Iterator
from typing import Any

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

pytestmark = pytest.mark.integration


@pytest.fixture
def connection(real_rq_redis: Any) -> Any:
    """RQ's connection (bytes) to the same database as the waitlist's."""
    return real_rq_redis


@pytest.fixture
def waitlist(real_redis: Any, connection: Any) -> Iterator[Waitlist]:
    config = make_config()
    service = Waitlist(Store(real_redis), MessageStore(real_redis), RQDispatcher(connection, config), config)
    context.use(context.JobContext(waitlist=service, sender=FakeSender()))
    yield service
    context.use(None)


def test_a_starting_worker_books_the_periodic_jobs_once_however_many_start(
        connection: Any, waitlist: Waitlist) -> None:
    queue = Queue(TIMERS_QUEUE, connection=connection)
    workers = [TextWorker([queue], connection=connection) for _ in range(3)]
    for worker in workers:
        worker.bootstrap()
    booked = ScheduledJobRegistry(queue=queue).get_job_ids()
    assert booked and all(job_id.startswith("periodic-") for job_id in booked)
    assert len(booked) == len(set(booked)) == len({job_id.rsplit("-", 1)[0] for job_id in booked})
    stop_workers(workers)


def test_a_starting_worker_relays_texts_recorded_while_no_worker_ran(
        connection: Any, waitlist: Waitlist) -> None:
    waitlist.store.redis.sadd(restaurants_key(), "noodle-bar")
    message = {"id": "m1", "party": "", "to": "+14155552671", "from": "+14155550100", "body": "Hi",
               "created_at": "1.0", "status": "queued"}
    waitlist.messages.record_outbound("noodle-bar", OutboundText(message, "digest", relayed=True))
    texts = Queue(TEXTS_QUEUE, connection=connection)
    worker = TextWorker([texts], connection=connection)

    worker.bootstrap()

    wait_until(lambda: texts.job_ids == ["send-noodle-bar-m1"])
    assert waitlist.store.redis.zcard(outbox_key("noodle-bar")) == 0
    stop_workers([worker])


def stop_workers(workers: list[Any]) -> None:
    """End each worker as its main loop would: stop its relay, then RQ's own teardown (which ends the
    pub/sub thread that listens for RQ's commands)."""
    for worker in workers:
        worker.relay_stop.set()
    for worker in workers:
        worker.relay_thread.join(timeout=5)
        assert not worker.relay_thread.is_alive()
        worker.teardown()
