"""The README's run command, ``python -m waitlist``, as a newcomer runs it: on the machine's Redis (gunicorn
and ``rq worker`` as subprocesses) and, with no Redis to be found, on the embedded in-process store.
Either way a party added through the API gets its joined text in the local outbox (no Twilio
credentials), which only happens if the web, the worker and the store all work together.

Every wait polls against a generous deadline; nothing asserts on how fast something happened.
"""
from __future__ import annotations

import os
import queue
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.conftest import redis_test_url
from tests.integration.test_texts_e2e import eventually
from tests.redis_servers import free_ports

pytestmark = [pytest.mark.integration, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[2]
PHONE = "+14155552671"
NO_LOCAL_REDIS = ("import sys, waitlist.__main__ as runner; "
                  "runner.redis_answers = lambda url: False; "  # as on a machine with nothing on :6379
                  "sys.exit(runner.main())")


class Runner:
    """``python -m waitlist`` (or an equivalent ``-c`` program) in a process group of its own."""

    def __init__(self, args: list[str], env: dict[str, str]):
        self.port = int(env["PORT"])
        self.process = subprocess.Popen([sys.executable, *args], cwd=ROOT, env=env, stdout=subprocess.PIPE,
                                        stderr=subprocess.STDOUT, text=True, start_new_session=True)
        self.lines: queue.Queue[str] = queue.Queue()
        self.output: list[str] = []
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.output.append(line)
            self.lines.put(line)

    def wait_for_line(self, pattern: str, timeout: float = 60) -> re.Match[str]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                line = self.lines.get(timeout=0.5)
            except queue.Empty:
                assert self.process.poll() is None, "".join(self.output)
                continue
            if match := re.search(pattern, line):
                return match
        raise AssertionError(f"no line matching {pattern!r} in:\n{''.join(self.output)}")

    def exit_and_output(self, timeout: float = 30) -> tuple[int, str]:
        """Wait for the runner to exit by itself; its exit code and everything it printed."""
        code = self.process.wait(timeout=timeout)
        self.stop()
        return code, "".join(self.output)

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def stop(self) -> int | None:
        """SIGTERM as a terminal's Ctrl-C or a process manager would; the runner stops its children."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=5)
        try:
            os.killpg(self.process.pid, signal.SIGKILL)  # anything the runner failed to stop
        except ProcessLookupError:
            pass
        self.reader.join(timeout=5)
        assert self.process.stdout is not None
        self.process.stdout.close()
        return self.process.returncode


def runner_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("TWILIO_") and k not in ("REDIS_URL", "RQ_REDIS_URL", "REDIS_CLUSTER", "ADMIN_TOKEN",
                                                         "PUBLIC_BASE_URL", "WAITLIST_DEV")}
    env.update(PORT=str(free_ports(1)[0]), LOG_LEVEL="WARNING", **extra)
    return env


@pytest.fixture
def start_runner() -> Iterator[Callable[..., Runner]]:
    started: list[Runner] = []

    def start(args: list[str], env: dict[str, str]) -> Runner:
        runner = Runner(args, env)
        started.append(runner)
        return runner

    yield start
    for runner in started:
        runner.stop()


def healthy(runner: Runner) -> bool:
    try:
        return requests.get(runner.url("/healthz"), timeout=2).status_code == 200
    except requests.RequestException:  # not listening yet
        return False


def add_demo_party_and_read_its_text(runner: Runner, staff_key: str) -> dict[str, Any]:
    """Add a party to the demo restaurant; return the joined text the worker put in the outbox."""
    eventually(lambda: healthy(runner), 60, "/healthz")
    response = requests.post(runner.url("/api/v1/restaurants/demo/parties"), timeout=10,
                             headers={"Authorization": f"Bearer {staff_key}"},
                             json={"name": "Ana Lima", "phone": PHONE, "party_size": 2})
    assert response.status_code == 201, response.text
    assert response.json()["status_url"].startswith(runner.url("/s/"))

    def joined_text() -> dict[str, Any] | None:
        messages = requests.get(runner.url("/dev/outbox"), timeout=2).json()["messages"]
        return next((m for m in messages if m.get("to") == PHONE), None)

    return eventually(joined_text, 60, "the joined text in the local outbox")  # type: ignore[no-any-return]


def test_with_no_redis_anywhere_the_runner_serves_and_texts_from_the_embedded_store(
        start_runner: Callable[..., Runner]) -> None:
    runner = start_runner(["-c", NO_LOCAL_REDIS], runner_env())
    runner.wait_for_line(r"EMBEDDED in-process store")
    key = runner.wait_for_line(r"staff key (\S+)").group(1)
    text = add_demo_party_and_read_its_text(runner, key)
    assert "Demo Noodle Bar" in text["body"] and runner.url("/s/") in text["body"]
    assert runner.stop() == 0


def test_on_the_machines_redis_the_runner_starts_gunicorn_and_an_rq_worker(
        start_runner: Callable[..., Runner], real_redis: Any) -> None:
    runner = start_runner(["-m", "waitlist"], runner_env(REDIS_URL=redis_test_url()))
    runner.wait_for_line(r"using Redis at")
    key = runner.wait_for_line(r"staff key (\S+)").group(1)
    text = add_demo_party_and_read_its_text(runner, key)
    assert "Demo Noodle Bar" in text["body"]
    assert any(k.startswith("rq:worker:") for k in real_redis.scan_iter("rq:worker:*")), "no rq worker registered"
    assert runner.stop() == 0


def test_a_redis_url_that_does_not_answer_is_a_clear_error_not_a_traceback(
        start_runner: Callable[..., Runner]) -> None:
    runner = start_runner(["-m", "waitlist"], runner_env(REDIS_URL=f"redis://127.0.0.1:{free_ports(1)[0]}/0"))
    code, output = runner.exit_and_output()
    assert code == 1 and "nothing answers" in output and "Traceback" not in output, output


def test_a_worker_that_dies_is_started_again_and_texts_keep_going(
        start_runner: Callable[..., Runner], real_redis: Any) -> None:
    """As a platform restarts a crashed Procfile process, the runner starts a killed worker again."""
    runner = start_runner(["-m", "waitlist"], runner_env(REDIS_URL=redis_test_url()))
    key = runner.wait_for_line(r"staff key (\S+)").group(1)
    worker = eventually(lambda: rq_worker_child(runner.process.pid), 60, "the runner's rq worker")
    os.kill(worker, signal.SIGKILL)
    runner.wait_for_line(r"the worker exited \(-9\); restarting it")
    assert eventually(lambda: rq_worker_child(runner.process.pid), 60, "a new rq worker") != worker
    text = add_demo_party_and_read_its_text(runner, key)
    assert "Demo Noodle Bar" in text["body"]
    assert runner.stop() == 0


def rq_worker_child(parent: int) -> int | None:
    """The pid of ``parent``'s child running ``rq worker``, if any."""
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                ppid = int((entry / "stat").read_text().rpartition(")")[2].split()[1])
                command = (entry / "cmdline").read_bytes()
            except OSError:
                continue
            if ppid == parent and b"rq\x00worker" in command:
                return int(entry.name)
    return None
