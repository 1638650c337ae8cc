"""The worker class named in the Procfile.

RQ 3's default worker starts a fresh Python interpreter per job (``posix_spawn``), which re-imports
twilio each time and manages a few jobs a second. ``SimpleWorker`` runs jobs in the worker process
itself, an order of magnitude faster (bench/texts_bench.py), and is safe for these jobs because they
never crash the process on purpose and are guarded to run exactly once (see workers.jobs).
The job modules are imported here, once, when the worker starts.
"""
from __future__ import annotations

import time
from collections.abc import Callable
from multiprocessing.process import BaseProcess
from typing import Any, TypeVar

import redis.exceptions
from rq import Queue, SimpleWorker
from rq.defaults import DEFAULT_LOGGING_DATE_FORMAT, DEFAULT_LOGGING_FORMAT, DEFAULT_WORKER_TTL
from rq.job import Job
from rq.scheduler import RQScheduler
from rq.worker import DequeueStrategy

import workers.jobs  # noqa: F401  (preload: the first job should not pay for importing twilio)
from waitlist.texting.dispatch import RQDispatcher
from workers.context import current
from workers.relay import OutboxRelay
from workers.scheduler import start_scheduler_process, stop_scheduler_process, tick
from workers.webhooks import start_relay as start_webhook_relay

ABANDONED_AFTER_SECONDS = 10
"""How long past its timeout a job's entry in RQ's StartedJobRegistry lives.

RQ gives a SimpleWorker's job ``timeout + 60`` seconds before its registry cleanup calls the job
abandoned and retries it. The job runs in the worker's main thread under a SIGALRM death penalty, so
it is over at ``timeout`` unless the worker process died: then the sooner the cleanup retries it,
the fresher the guest's text. The worker's maintenance interval (``--maintenance-interval``) bounds
how soon after this the cleanup actually runs.
"""
REDIS_ERRORS = (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError)
RECONNECT_FIRST_SECONDS = 0.5
RECONNECT_MOST_SECONDS = 30.0
"""Backoff while Redis is unreachable: doubling from half a second, then every 30 s however long it
lasts (a restart is back within the first seconds; a long outage costs one PING per 30 s)."""

T = TypeVar("T")


class TextWorker(SimpleWorker):
    """SimpleWorker with the job modules preloaded and abandoned sends retried sooner; on start it
    books the periodic jobs (stats fold, retention sweep) and starts its outbox relay, which queues
    the sends of recorded texts (workers.relay). It outlives Redis restarts and network blips.

    Why: RQ's ``work()`` loop retries a failed *dequeue* with backoff, so an idle worker survives a
    Redis restart, but any other Redis error in the loop (the job's own bookkeeping in ``execute_job``,
    the ``heartbeat`` after it, ``check_for_suspension``, ``run_maintenance_tasks``) lands in its
    catch-all ``except`` that logs "found an unhandled exception, quitting" and ends the process: a
    worker busy when Redis went away quit, and texts and timers stopped until someone restarted it.
    So those steps here wait for Redis with capped backoff instead of raising:

    - ``heartbeat``, ``check_for_suspension`` and ``run_maintenance_tasks`` are retried until Redis
      answers (each is idempotent);
    - a job whose bookkeeping failed is not run again here: it is left where RQ keeps a job it started
      (the started registry or the intermediate queue), and RQ's registry cleanup retries it like a dead
      worker's job. A send job claims its text before sending and looks it up in Twilio when a claim
      was left by a try that died, so the text still goes out exactly once (workers.jobs).

    ``--with-scheduler`` runs RQ's scheduler in a spawned process of ours instead of RQ's fork, which
    inherited the worker's sockets (workers.scheduler); it rides out Redis by itself, and
    ``run_maintenance_tasks`` starts it again if it died. The outbox relay thread retries on its own
    (workers.relay). A stop request (SIGTERM) during an outage is honoured: the wait gives up and RQ
    quits as asked.
    """

    scheduler_process: BaseProcess | None = None

    def work(self, burst: bool = False, logging_level: str | None = None,
             date_format: str = DEFAULT_LOGGING_DATE_FORMAT, log_format: str = DEFAULT_LOGGING_FORMAT,
             max_jobs: int | None = None, max_idle_time: int | None = None, with_scheduler: bool = False,
             dequeue_strategy: DequeueStrategy = DequeueStrategy.DEFAULT) -> bool:
        """RQ's loop, with our scheduler process in place of RQ's forked one (see the class)."""
        self.runs_scheduler = with_scheduler and not burst
        if with_scheduler and burst:  # a burst moves what is due once, in this process
            names = set(self.queue_names())
            scheduler = RQScheduler(list(names), connection=self.connection)
            tick(scheduler, names)
            scheduler.release_locks()
        return super().work(burst, logging_level, date_format, log_format, max_jobs, max_idle_time,
                            with_scheduler=False, dequeue_strategy=dequeue_strategy)

    def bootstrap(self, *args: Any, **kwargs: Any) -> None:
        """Booking is idempotent (one job id per time slot), and relays claim before they queue, so
        every worker may do both."""
        super().bootstrap(*args, **kwargs)
        workers.jobs.schedule_periodic(self.connection)
        waitlist = current().waitlist
        dispatcher = waitlist.dispatcher
        live_sends = dispatcher.live_sends if isinstance(dispatcher, RQDispatcher) else None
        self.relay_thread, self.relay_stop = OutboxRelay(waitlist.messages, waitlist.store, dispatcher,
                                                         live_sends=live_sends).start()
        self.hook_thread, self.hook_stop = start_webhook_relay(self.connection)  # outbound webhooks
        if getattr(self, "runs_scheduler", False):
            self.scheduler_process = start_scheduler_process(self.queue_names(), self.connection)

    def teardown(self) -> None:
        stop_scheduler_process(self.scheduler_process)
        super().teardown()

    def execute_job(self, job: Job, queue: Queue) -> None:
        try:
            super().execute_job(job, queue)
        except REDIS_ERRORS as error:
            self.log.warning("Worker %s: Redis lost around job %s (%s); RQ's cleanup will retry it",
                             self.name, job.id, error)
            self._wait_for_redis()

    def heartbeat(self, timeout: int | None = None, pipeline: Any = None) -> None:
        if pipeline is not None:  # only queued on the pipeline: its execute is the caller's
            super().heartbeat(timeout, pipeline)
            return
        self._ride_out(lambda: super(TextWorker, self).heartbeat(timeout))

    def check_for_suspension(self, burst: bool) -> None:
        self._ride_out(lambda: super(TextWorker, self).check_for_suspension(burst))

    def run_maintenance_tasks(self) -> None:
        process = self.scheduler_process
        if process is not None and not process.is_alive() and not self._stop_requested:
            self.log.warning("Worker %s: scheduler process ended (exit code %s); starting another",
                             self.name, process.exitcode)
            self.scheduler_process = start_scheduler_process(self.queue_names(), self.connection)
        self._ride_out(super().run_maintenance_tasks)

    def _ride_out(self, step: Callable[[], T]) -> T:
        """Run ``step``, retrying it (after Redis answers again) until it gets through."""
        while True:
            try:
                return step()
            except REDIS_ERRORS as error:
                self.log.warning("Worker %s: Redis unreachable (%s); waiting for it", self.name, error)
                self._wait_for_redis()

    def _wait_for_redis(self) -> None:
        """Return once Redis answers a PING, backing off up to RECONNECT_MOST_SECONDS; if a stop was
        requested meanwhile, re-raise the Redis error instead, so RQ's loop ends as it would have."""
        delay = RECONNECT_FIRST_SECONDS
        while True:
            try:
                self.connection.ping()
                return
            except REDIS_ERRORS:
                if self._stop_requested:
                    raise
                time.sleep(delay)
                delay = min(delay * 2, RECONNECT_MOST_SECONDS)

    def get_heartbeat_ttl(self, job: Job, working_time: float = 0.0) -> int:
        if job.timeout == -1:
            return DEFAULT_WORKER_TTL
        return int(job.timeout or DEFAULT_WORKER_TTL) + ABANDONED_AFTER_SECONDS
