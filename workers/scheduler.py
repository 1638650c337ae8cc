"""RQ's scheduler (which moves due timers onto their queues) in a process that shares nothing with
the worker: a fresh interpreter started with ``spawn``, not RQ's ``fork``.

Why: RQ's ``--with-scheduler`` forks the worker. A forked child inherits every open socket of its
parent, including the connection on which the worker blocks popping the next job. After ``kill -9``
of the worker's main process the child kept that socket open, so Redis handed the next send job to a
connection nobody read: the text stayed ``queued`` until the lost-text sweep found it minutes later.
A spawned process inherits no sockets (Python opens them close-on-exec), so a dead worker's pops die
with it. The process also notices when its worker is gone and exits, releasing its locks at once, so
a replacement worker's scheduler takes over without waiting for the locks' 61 s expiry.

The loop is RQ's own (``RQScheduler.work``) made to survive Redis: each tick catches connection errors
and waits with capped backoff instead of ending the process. The embedded development mode runs the
same ticks in a thread (waitlist.__main__).
"""
from __future__ import annotations

import logging
import multiprocessing
import os
import signal
import time
from collections.abc import Callable
from multiprocessing.process import BaseProcess
from typing import Any

import redis.exceptions
from rq.scheduler import RQScheduler

REDIS_ERRORS = (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError)
TICK_SECONDS = 1.0
"""RQ's scheduler interval: how late a due timer may reach its queue."""
BACKOFF_FIRST_SECONDS = 0.5
BACKOFF_MOST_SECONDS = 30.0
log = logging.getLogger("workers.scheduler")


def tick(scheduler: RQScheduler, queue_names: set[str]) -> None:
    """One round of RQ's scheduler loop: take the queues' locks nobody holds (another worker's
    scheduler may), keep ours alive, and move due jobs onto their queues."""
    if scheduler.acquired_locks != queue_names:
        scheduler.acquire_locks()
    scheduler.heartbeat()
    scheduler.enqueue_scheduled_jobs()


def run_ticks(scheduler: RQScheduler, queue_names: set[str], keep_going: Callable[[], bool],
              sleep: Callable[[float], None] = time.sleep) -> None:
    """Tick until ``keep_going`` says stop, riding out Redis being away for any length of time."""
    delay = BACKOFF_FIRST_SECONDS
    while keep_going():
        try:
            tick(scheduler, queue_names)
        except REDIS_ERRORS as error:
            log.warning("Scheduler: Redis unreachable (%s); retrying in %.1f s", error, delay)
            sleep(delay)
            delay = min(delay * 2, BACKOFF_MOST_SECONDS)
            continue
        delay = BACKOFF_FIRST_SECONDS
        sleep(TICK_SECONDS)


def _scheduler_main(scheduler: RQScheduler, queue_names: set[str], worker_pid: int) -> None:
    """The spawned process: tick while the worker that started it lives and no stop was asked."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    stopping: list[int] = []
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda number, _frame: stopping.append(number))
    log.info("Scheduler for %s started with PID %s", ", ".join(sorted(queue_names)), os.getpid())
    try:
        scheduler.register_birth()
    except REDIS_ERRORS:
        pass  # the first tick waits for Redis
    run_ticks(scheduler, queue_names, lambda: not stopping and os.getppid() == worker_pid)
    try:
        scheduler.stop()  # releases the locks: the next worker's scheduler need not wait for them
    except REDIS_ERRORS:
        pass  # they expire by themselves
    log.info("Scheduler with PID %s stopped (%s)", os.getpid(), "asked to" if stopping else "its worker is gone")


def start_scheduler_process(queue_names: list[str], connection: Any) -> BaseProcess:
    """Start RQ's scheduler for ``queue_names`` in a spawned process that connects on its own."""
    scheduler = RQScheduler(queue_names, connection=connection, interval=int(TICK_SECONDS))
    process = multiprocessing.get_context("spawn").Process(
        target=_scheduler_main, args=(scheduler, set(queue_names), os.getpid()), name="rq-scheduler", daemon=False)
    process.start()
    return process


def stop_scheduler_process(process: BaseProcess | None, timeout: float = 10.0) -> None:
    """Ask the scheduler to stop (it releases its locks) and wait for it."""
    if process is None or not process.is_alive():
        return
    process.terminate()
    process.join(timeout)
    if process.is_alive():
        process.kill()
        process.join(timeout)
