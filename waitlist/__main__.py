"""`python -m waitlist`: run the whole service on one machine for development.

With a Redis server (REDIS_URL, or one answering on 127.0.0.1:6379) it runs the Procfile's processes:
gunicorn for the web and an RQ worker with its scheduler. With none, it runs everything in this one
process over an embedded in-process store: the web app, a worker thread and a scheduler thread
(RQ's worker cannot use fakeredis over TCP, but works in-process). Without Twilio credentials, texts
go to a local outbox shown at /dev/phone and /dev/outbox.
"""
from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import threading
import time
from urllib.parse import urlparse

from config import Config
from waitlist.store.connections import embedded_pair, redis_answers

DEV_ADMIN_TOKEN = "dev-admin-token"
DEMO_SLUG = "demo"
WORKER_RESTART_FIRST_SECONDS = 1.0
WORKER_RESTART_MOST_SECONDS = 30.0
"""A worker that exits is started again, waiting longer each time (a crash loop costs little)."""
log = logging.getLogger("waitlist.dev")


def main() -> int:
    os.environ.setdefault("WAITLIST_DEV", "1")
    os.environ.setdefault("ADMIN_TOKEN", DEV_ADMIN_TOKEN)
    port = int(os.environ.get("PORT", "5000"))
    os.environ.setdefault("PUBLIC_BASE_URL", f"http://127.0.0.1:{port}")
    config = Config.from_env()
    logging.basicConfig(level=config.log_level, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))  # a process manager's stop is a clean exit
    texts_to = "Twilio" if config.twilio_configured else f"the local outbox (http://127.0.0.1:{port}/dev/phone)"
    if config.redis_url and not redis_answers(config.redis_url):
        print(f"waitlist: REDIS_URL is set to {redacted(config.redis_url)} but nothing answers there: start that "
              "Redis, or unset REDIS_URL to run on the embedded store", file=sys.stderr, flush=True)
        return 1
    if config.redis_url or redis_answers(None):
        print(f"waitlist: using Redis at {redacted(config.redis_url or '127.0.0.1:6379')}; texts go to {texts_to}",
              flush=True)
        return run_processes(config, port)
    print("waitlist: no Redis found (REDIS_URL unset, nothing on 127.0.0.1:6379): using an EMBEDDED "
          f"in-process store (data is lost on exit); texts go to {texts_to}", flush=True)
    return run_embedded(config, port)


def redacted(url: str) -> str:
    """The URL without its password, fit for a terminal."""
    parsed = urlparse(url)
    return parsed._replace(netloc=parsed.netloc.rpartition("@")[2]).geturl() if "@" in parsed.netloc else url


def run_processes(config: Config, port: int) -> int:
    """The Procfile's web and worker processes: a worker that exits is started again; a stop stops both."""
    create_demo_restaurant(config, None, port)
    bin_dir = os.path.dirname(sys.executable)
    web = subprocess.Popen([os.path.join(bin_dir, "gunicorn"), "wsgi:app", "--config", "python:config.gunicorn",
                            "-b", f"127.0.0.1:{port}"])  # the Procfile's web command
    from waitlist.texting.dispatch import QUEUES

    worker_command = [os.path.join(bin_dir, "rq"), "worker", "--with-scheduler",
                      "-w", "workers.worker.TextWorker", "--maintenance-interval", "30",
                      "--worker-ttl", "45", "--url",
                      config.rq_redis_url or config.redis_url or "redis://127.0.0.1:6379/0",
                      *QUEUES]
    worker = subprocess.Popen(worker_command)
    restart_delay = WORKER_RESTART_FIRST_SECONDS
    try:
        while web.poll() is None:
            time.sleep(0.5)
            if worker.poll() is not None:  # as a platform restarts a crashed Procfile process
                print(f"waitlist: the worker exited ({worker.returncode}); restarting it in {restart_delay:.0f} s",
                      file=sys.stderr, flush=True)
                time.sleep(restart_delay)
                restart_delay = min(restart_delay * 2, WORKER_RESTART_MOST_SECONDS)
                worker = subprocess.Popen(worker_command)
    except KeyboardInterrupt:
        pass
    finally:
        for process in (web, worker):
            if process.poll() is None:
                process.terminate()
        for process in (web, worker):
            process.wait(timeout=15)
    return 0


def run_embedded(config: Config, port: int) -> int:
    from waitlist.store import DevOutbox
    from waitlist.texting.sms import OutboxSender
    from waitlist.web.app import create_app
    from workers import context

    redis, rq_connection = embedded_pair()
    context.use(context.build(config, redis=redis, rq_connection=rq_connection,
                              sender=None if config.twilio_configured else OutboxSender(DevOutbox(redis))))
    app = create_app(config, redis=redis, rq_connection=rq_connection)
    start_embedded_worker(rq_connection)
    create_demo_restaurant(config, app, port)
    app.run(host="127.0.0.1", port=port, threaded=True, use_reloader=False)
    return 0


def start_embedded_worker(rq_connection: object) -> None:
    """An RQ worker and its scheduler as daemon threads over the in-process store."""
    from rq import Queue
    from rq.scheduler import RQScheduler
    from rq.timeouts import TimerDeathPenalty

    from waitlist.texting.dispatch import QUEUES
    from workers.scheduler import run_ticks
    from workers.worker import TextWorker

    class ThreadWorker(TextWorker):
        death_penalty_class = TimerDeathPenalty  # SIGALRM only works in the main thread

        def _install_signal_handlers(self) -> None:
            """Signals belong to the main thread (the web server)."""

    queues = [Queue(name, connection=rq_connection) for name in QUEUES]  # type: ignore[arg-type]
    worker = ThreadWorker(queues, connection=rq_connection)  # type: ignore[arg-type]
    threading.Thread(target=worker.work, kwargs={"logging_level": "WARNING"}, daemon=True,
                     name="rq-worker").start()
    scheduler = RQScheduler(queues, connection=rq_connection)  # type: ignore[arg-type]
    threading.Thread(target=run_ticks, args=(scheduler, set(QUEUES), lambda: True), daemon=True,
                     name="rq-scheduler").start()


def create_demo_restaurant(config: Config, app: object, port: int) -> None:
    """A ready-made restaurant so a newcomer can sign in at once; its key is printed."""
    from waitlist.domain.errors import SlugTaken, WaitlistError
    from waitlist.web.app import create_app

    app = app or create_app(config)
    service = app.extensions["waitlist"]  # type: ignore[attr-defined]
    try:
        _restaurant, key = service.create_restaurant(DEMO_SLUG, "Demo Noodle Bar", "+14155550123")
    except SlugTaken:
        key = service.rotate_key(DEMO_SLUG)
    except WaitlistError as exc:
        print(f"waitlist: could not create the demo restaurant: {exc.message}", flush=True)
        return
    print(f"waitlist: demo restaurant '{DEMO_SLUG}', staff key {key}\n"
          f"  host stand  http://127.0.0.1:{port}/host/{DEMO_SLUG}\n"
          f"  dev phone   http://127.0.0.1:{port}/dev/phone\n"
          f"  admin token {config.admin_token}", flush=True)


if __name__ == "__main__":
    sys.exit(main())
