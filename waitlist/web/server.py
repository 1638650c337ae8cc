"""The web process's gunicorn worker: gevent's, with time limits on slow clients and a clean end of live pages.

gunicorn's gevent worker serves each connection on a greenlet, so an open live page costs a greenlet and
a socket, not one of a few dozen threads (docs/architecture.md, "Live pages"). What it leaves open:

* a client that stops reading (or sending its body) would keep its greenlet and socket for ever: every
  socket operation here gives up after SOCKET_TIMEOUT_SECONDS, and gunicorn closes the connection;
* headers must arrive within the keep-alive timeout (gunicorn applies it to every request of a
  connection, the first included), so connections that never finish their headers are closed;
* on a graceful stop, open live pages are ended at once with a ``retry:`` hint, instead of being cut
  at the end of the graceful timeout: the browsers reconnect to the next process.

Only gunicorn imports this module (config/gunicorn.py names it), after gevent has patched the standard
library.
"""
from __future__ import annotations

from typing import Any

import gevent  # type: ignore[import-untyped]
from gunicorn.workers.base_async import AsyncWorker  # type: ignore[import-untyped]
from gunicorn.workers.ggevent import GeventWorker  # type: ignore[import-untyped]

SOCKET_TIMEOUT_SECONDS = 30.0
"""Longest wait for one read or write on a client's socket (a body that stops coming, a page that stops
reading); a live page's heartbeat write every 15 s never waits this long on a reading client."""


class Worker(GeventWorker):
    """gunicorn's gevent worker with per-operation socket time limits and a clean end of live pages."""

    def handle(self, listener: Any, client: Any, addr: Any) -> None:
        client.settimeout(SOCKET_TIMEOUT_SECONDS)  # GeventWorker.handle would make it wait for ever
        AsyncWorker.handle(self, listener, client, addr)  # it closes the socket, whatever happened

    def run(self) -> None:
        gevent.spawn(self._end_live_pages_at_exit)
        super().run()

    def _end_live_pages_at_exit(self) -> None:
        while self.alive:
            gevent.sleep(0.5)
        hub = getattr(self.wsgi, "extensions", {}).get("live_hub")
        if hub is not None:
            hub.close_all()
