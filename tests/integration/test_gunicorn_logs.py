"""gunicorn's own log lines print in full once the app is loaded: the app must not change how the
process's log records are built (a record without a process id breaks gunicorn's ``[%(process)d]``)."""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.conftest import ADMIN_TOKEN, REPO, free_port, redis_test_url, wait_until_serving

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def run_gunicorn(*flags: str) -> str:
    """Start gunicorn on the app, wait for /healthz, stop it as a process manager would; its stderr."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = {**os.environ, "REDIS_URL": redis_test_url(), "SECRET_KEY": "gunicorn-test", "ADMIN_TOKEN": ADMIN_TOKEN,
           "PUBLIC_BASE_URL": url, "RATE_LIMITS_DISABLED": "1", "LOG_LEVEL": "INFO"}
    process = subprocess.Popen([sys.executable, "-m", "gunicorn", "wsgi:app", "--bind", f"127.0.0.1:{port}",
                                "--worker-class", "gthread", "--workers", "2", "--threads", "4",
                                "--graceful-timeout", "2", *flags],
                               cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        wait_until_serving(url, process)
        process.send_signal(signal.SIGTERM)
        _, stderr = process.communicate(timeout=20)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    return stderr


def test_a_worker_shutting_down_prints_gunicorn_lines_and_no_logging_error(real_redis: Any) -> None:
    """Each worker loaded the app, then logs "Worker exiting" through gunicorn's own format."""
    stderr = run_gunicorn()
    assert "Logging error" not in stderr, stderr
    assert stderr.count("Worker exiting (pid: ") == 2, stderr
    assert "[INFO] Shutting down: Master" in stderr, stderr


def test_with_the_app_preloaded_the_master_still_prints_booting_worker_lines(real_redis: Any) -> None:
    """--preload loads the app in the master before it forks: every line after that is the master's."""
    stderr = run_gunicorn("--preload")
    assert "Logging error" not in stderr, stderr
    assert stderr.count("[INFO] Booting worker with pid: ") == 2, stderr
    assert stderr.count("Worker exiting (pid: ") == 2, stderr
