"""A password reset by mail end to end: the app on a real Redis queues the link, the real ``rq worker``
(as the Procfile runs it, on every queue) takes it from the mail queue and hands it to an SMTP server of
the test's own on loopback, and the link in the message that arrives sets a new password.

Every wait polls against a generous deadline; nothing asserts on how fast something happened.
"""
from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from flask import Flask
from flask.testing import FlaskClient

from config import Config
from tests.conftest import make_config
from tests.integration import test_webhooks_e2e as hooks_e2e
from tests.integration.test_texts_e2e import WorkerProcess, eventually, worker_env
from tests.people import csrf_of, person, sign_in
from tests.unit.test_mail import Inbox, serve

pytestmark = [pytest.mark.integration, pytest.mark.slow]


@pytest.fixture
def smtp() -> Iterator[tuple[Inbox, Controller]]:
    inbox = Inbox()
    server = serve(inbox)
    yield inbox, server
    server.stop()


@pytest.fixture
def config(smtp: tuple[Inbox, Controller]) -> Config:
    return make_config(public_base_url="https://wait.example.com", smtp_url=f"smtp://127.0.0.1:{smtp[1].port}")


app = hooks_e2e.app
"""The app on the real Redis with the real RQ dispatcher (with this module's ``config``)."""


@pytest.fixture
def worker(real_rq_redis: Any, config: Config, tmp_path: Path) -> Iterator[WorkerProcess]:
    env = {**worker_env(config, None), "SMTP_URL": config.smtp_url or "", "MAIL_FROM": "Noodle Bar <hi@noodle.example>"}
    process = hooks_e2e.every_queue_worker(env, tmp_path / "worker.log", real_rq_redis)
    yield process
    process.stop()


def test_a_reset_link_arrives_by_mail_and_sets_a_new_password(
        app: Flask, client: FlaskClient, headers: dict[str, str], smtp: tuple[Inbox, Controller],
        worker: WorkerProcess) -> None:
    inbox, _server = smtp
    person(app.test_client(), headers, "mei@example.com", "host", "Mei")
    eventually(lambda: len(inbox.received) == 1, 30, "the invitation mail")
    visitor = app.test_client()
    form = visitor.get("/account/reset")
    assert visitor.post("/account/reset", data={"email": "mei@example.com",
                                                "csrf_token": csrf_of(form.text)}).status_code == 200
    eventually(lambda: len(inbox.received) == 2, 30, "the reset mail")
    _sender, recipients, message = inbox.received[1]
    assert recipients == ["mei@example.com"] and message["Subject"] == "Reset your waitlist password"
    assert message["From"] == "Noodle Bar <hi@noodle.example>"
    path = message.get_payload().split()[-1].removeprefix("https://wait.example.com")
    page = visitor.get(path)
    assert visitor.post(path, data={"password": "a brand new password",
                                    "csrf_token": csrf_of(page.text)}).status_code == 303
    assert sign_in(app.test_client(), "mei@example.com", "a brand new password").status_code == 303
