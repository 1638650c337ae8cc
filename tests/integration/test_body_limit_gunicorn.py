"""Through a real gunicorn, which dechunks request bodies itself: a chunked body over 16 KB is a 413,
not its first 16 KB taken as the request (a JSON party padded with spaces was added)."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import pytest
import requests

from tests.conftest import ADMIN_TOKEN, served_by
from waitlist.web.http import MAX_BODY_BYTES

pytestmark = [pytest.mark.integration, pytest.mark.slow]


@pytest.fixture
def served(real_redis: Any) -> Iterator[str]:
    with served_by(lambda port: [sys.executable, "-m", "gunicorn", "wsgi:app", "--bind", f"127.0.0.1:{port}",
                                 "--worker-class", "gthread", "--workers", "1", "--threads", "2"]) as url:
        yield url


def in_chunks(body: bytes, size: int = 4096) -> Iterator[bytes]:
    """A generator body: requests sends it with Transfer-Encoding: chunked and no Content-Length."""
    for start in range(0, len(body), size):
        yield body[start:start + size]


def test_a_chunked_body_over_the_limit_gets_413_through_gunicorn(served: str) -> None:
    created = requests.post(f"{served}/api/v1/restaurants", timeout=10,
                            json={"slug": "noodle-bar", "name": "Noodle Bar", "sms_from": "+14155550100"},
                            headers={"Authorization": f"Bearer {ADMIN_TOKEN}"})
    assert created.status_code == 201, created.text
    headers = {"Authorization": f"Bearer {created.json()['api_key']}", "Content-Type": "application/json"}
    parties = f"{served}/api/v1/restaurants/noodle-bar/parties"
    party = json.dumps({"name": "Ana", "phone": "+14155550123", "party_size": 2}).encode()

    too_big = requests.post(parties, data=in_chunks(party + b" " * (MAX_BODY_BYTES + 4000)), headers=headers,
                            timeout=10)
    assert too_big.status_code == 413, too_big.text
    assert too_big.json()["error"]["code"] == "payload_too_large"
    assert requests.get(parties, headers=headers, timeout=10).json()["parties"] == []

    fits = requests.post(parties, data=in_chunks(party + b" " * 1000), headers=headers, timeout=10)
    assert fits.status_code == 201, fits.text
