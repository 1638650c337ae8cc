"""The worker class named in the Procfile.

RQ 3's default worker starts a fresh Python interpreter per job (``posix_spawn``), which re-imports
twilio each time and manages a few jobs a second. ``SimpleWorker`` runs jobs in the worker process
itself, an order of magnitude faster (bench/texts_bench.py), and is safe for these jobs because they
never crash the process on purpose and are guarded to run exactly once (see workers.jobs).
The job modules are imported here, once, when the worker starts.
"""
from __future__ import annotations

from typing import Any

from rq import SimpleWorker
from rq.defaults import DEFAULT_WORKER_TTL
from rq.job import Job

import workers.jobs  # noqa: F401  (preload: the first job should not pay for importing twilio)
from waitlist.texting.dispatch import RQDispatcher
from workers.context import current
from workers.relay import OutboxRelay

ABANDONED_AFTER_SECONDS = 10
"""How long past its timeout a job's entry in RQ's StartedJobRegistry lives.

RQ gives a SimpleWorker's job ``timeout + 60`` seconds before its registry cleanup calls the job
abandoned and retries it. The job runs in the worker's main thread under a SIGALRM death penalty, so
it is over at ``timeout`` unless the worker process died: then the sooner the cleanup retries it,
the fresher the guest's text. The worker's maintenance interval (``--maintenance-interval``) bounds
how soon after this the cleanup actually runs.
"""


class TextWorker(SimpleWorker):
    """SimpleWorker with the job modules preloaded and abandoned sends retried sooner; on start it
    books the periodic jobs (stats fold, retention sweep) and starts its outbox relay, which queues
    the sends of recorded texts (workers.relay)."""

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

    def get_heartbeat_ttl(self, job: Job, working_time: float = 0.0) -> int:
        if job.timeout == -1:
            return DEFAULT_WORKER_TTL
        return int(job.timeout or DEFAULT_WORKER_TTL) + ABANDONED_AFTER_SECONDS
