"""Live updates through the Procfile's web command (two gevent workers), as production runs the app.

Each open page holds one server-sent events stream (a greenlet, waiting on the fan-out); every worker
follows the restaurant's Redis stream with one reader, so a change made through any worker reaches
every page.
"""
from __future__ import annotations

import os
import queue
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.conftest import ADMIN_TOKEN, served_by
from tests.integration.test_live_gunicorn import procfile_web_command

REPO = Path(__file__).resolve().parents[2]
STREAMS = 6

pytestmark = [pytest.mark.integration, pytest.mark.slow]


@pytest.fixture
def streams() -> Iterator[list[requests.Response]]:
    """Open event streams, closed after the server has stopped (closing one mid-read blocks)."""
    opened: list[requests.Response] = []
    yield opened
    for response in opened:
        response.close()


@pytest.fixture
def gunicorn(real_redis: Any, streams: list[requests.Response]) -> Iterator[str]:
    with served_by(lambda port: [*procfile_web_command(port), "--graceful-timeout", "1"], {"LOG_LEVEL": "WARNING"},
                   stop_within=15) as url:
        yield url


def _read_events(response: requests.Response, events: queue.Queue[str]) -> None:
    try:
        for line in response.iter_lines():
            if line.startswith(b"event:"):
                events.put(line.decode())
    except (requests.ConnectionError, requests.exceptions.ChunkedEncodingError, AttributeError):
        pass  # closed at the end of the test


def test_every_stream_across_gunicorn_workers_hears_a_change_within_a_second(
        gunicorn: str, streams: list[requests.Response]) -> None:
    admin = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
    created = requests.post(f"{gunicorn}/api/v1/restaurants", headers=admin, timeout=5, json={
        "slug": "gunicorn-grill", "name": "Gunicorn Grill", "sms_from": "+14155550177"}).json()
    key = {"Authorization": f"Bearer {created['api_key']}"}
    inboxes = []
    for _ in range(STREAMS):
        response = requests.get(f"{gunicorn}/board/gunicorn-grill/events", stream=True, timeout=5)
        assert response.headers["Content-Type"].startswith("text/event-stream")
        inbox: queue.Queue[str] = queue.Queue()
        threading.Thread(target=_read_events, args=(response, inbox), daemon=True).start()
        assert inbox.get(timeout=5) == "event: changed"  # sent at connect
        streams.append(response)
        inboxes.append(inbox)
    started = time.monotonic()
    joined = requests.post(f"{gunicorn}/api/v1/restaurants/gunicorn-grill/parties", headers=key, timeout=2,
                           json={"name": "Ana Lima", "phone": "+14155552671", "party_size": 2})
    assert joined.status_code == 201  # open streams do not starve ordinary requests
    for inbox in inboxes:
        assert inbox.get(timeout=1.0) == "event: changed"
    assert time.monotonic() - started < 1.5
    assert requests.get(f"{gunicorn}/board/gunicorn-grill", timeout=2).status_code == 200
