from __future__ import annotations

import fakeredis
from rq import Queue
from rq.registry import ScheduledJobRegistry

from waitlist.dispatch import TIMERS_QUEUE
from workers.worker import TextWorker


def test_a_starting_worker_books_the_periodic_jobs_once_however_many_start() -> None:
    connection = fakeredis.FakeRedis()
    queue = Queue(TIMERS_QUEUE, connection=connection)
    for _ in range(3):
        TextWorker([queue], connection=connection).bootstrap()
    booked = ScheduledJobRegistry(queue=queue).get_job_ids()
    assert booked and all(job_id.startswith("periodic-") for job_id in booked)
    assert len(booked) == len(set(booked)) == len({job_id.rsplit("-", 1)[0] for job_id in booked})
