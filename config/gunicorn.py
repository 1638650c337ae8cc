"""gunicorn settings of the Procfile's web process: ``gunicorn wsgi:app -c python:config.gunicorn``.

Why gevent (docs/architecture.md, "Live pages"): an open live page is a greenlet waiting on an event
(waitlist/web/fanout.py), so thousands of open pages leave the staff's requests the whole CPU, where a
thread per page (gthread) ran out of threads after a few dozen.
"""
from __future__ import annotations

import os

worker_class = "waitlist.web.server.Worker"  # gunicorn's gevent worker with time limits on slow clients
workers = int(os.environ.get("WEB_CONCURRENCY") or 2)
worker_connections = int(os.environ.get("WEB_CONNECTIONS") or 10000)
"""Connections one process serves at once: above the live pages' cap (LIVE_MAX_STREAMS, 5,000), so the
staff always find room."""
backlog = 4096
timeout = 60
graceful_timeout = 20
keepalive = 5
"""An idle kept-alive connection is closed after this, and every request's headers must arrive within it."""
