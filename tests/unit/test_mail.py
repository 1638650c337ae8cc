"""Invitation and reset links by mail: ``waitlist.mail`` against a real SMTP server of the tests' own on
loopback (aiosmtpd, with a certificate from a throwaway authority), the worker's job, and the service
handing links to the mail queue when SMTP_URL is set."""
from __future__ import annotations

import socket
import ssl
from collections.abc import Iterator
from email import message_from_bytes
from pathlib import Path
from typing import Any

import fakeredis
import pytest
import trustme
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from flask import Flask

from tests.conftest import auth, create_restaurant, make_config
from tests.fakes import FakeSender, RecordingDispatcher
from tests.people import csrf_of, person
from waitlist import mail
from waitlist.texting.dispatch import MAIL_QUEUE, MAIL_TTL_SECONDS, QUEUES, RQDispatcher
from waitlist.web.app import create_app
from workers import context as job_context
from workers import jobs

USER, PASSWORD = "waitlist", "p@ss/word"


class Inbox:
    """The server's side: every message it accepted, and every login it was offered."""

    def __init__(self, answer: str = "250 OK", rcpt_answer: str | None = None) -> None:
        self.answer, self.rcpt_answer = answer, rcpt_answer
        self.received: list[tuple[str, list[str], Any]] = []
        self.logins: list[tuple[str, str]] = []

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str, options: Any) -> str:
        if self.rcpt_answer:
            return self.rcpt_answer
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self.answer.startswith("250"):
            self.received.append((envelope.mail_from, list(envelope.rcpt_tos), message_from_bytes(envelope.content)))
        return self.answer

    def authenticate(self, server: Any, session: Any, envelope: Any, mechanism: str, data: Any) -> AuthResult:
        assert isinstance(data, LoginPassword)
        self.logins.append((data.login.decode(), data.password.decode()))
        ok = (data.login.decode(), data.password.decode()) == (USER, PASSWORD)
        return AuthResult(success=ok, handled=False)  # handled=False: aiosmtpd answers a failure with 535


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def authority() -> trustme.CA:
    return trustme.CA()


@pytest.fixture
def client_tls(authority: trustme.CA) -> ssl.SSLContext:
    context = ssl.create_default_context()
    authority.configure_trust(context)
    return context


def serve(inbox: Inbox, authority: trustme.CA | None = None, implicit_tls: bool = False,
          auth_required: bool = False) -> Controller:
    server_tls = None
    if authority is not None:
        server_tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        authority.issue_cert("127.0.0.1", "localhost").configure_cert(server_tls)
    # aiosmtpd offers AUTH over implicit TLS only when told TLS is not required (it sees STARTTLS alone)
    options: dict[str, Any] = {"authenticator": inbox.authenticate, "auth_require_tls": not implicit_tls}
    if implicit_tls:
        options["ssl_context"] = server_tls
    elif server_tls is not None:
        options["tls_context"] = server_tls
    if auth_required:
        options["auth_required"] = True
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port(), **options)
    controller.start()
    return controller


@pytest.fixture
def stopping() -> Iterator[list[Controller]]:
    controllers: list[Controller] = []
    yield controllers
    for controller in controllers:
        controller.stop()


def link_mail(to: str = "mei@example.com") -> Any:
    return mail.message("Waitlist <no-reply@wait.example.com>", to, "Reset your waitlist password",
                        "Reset your waitlist password: https://wait.example.com/account/reset/abc")


def test_smtp_urls_are_read_with_their_default_ports_and_escaped_passwords() -> None:
    assert mail.parse_smtp_url("smtps://a%40b:p%40ss%2Fword@mail.example.com") == mail.SmtpServer(
        "smtps", "mail.example.com", 465, "a@b", "p@ss/word")
    assert mail.parse_smtp_url("smtp://relay:2525") == mail.SmtpServer("smtp", "relay", 2525, None, None)
    assert mail.parse_smtp_url("smtp://mail.example.com").port == 587
    for bad in ("http://mail.example.com", "smtp://", "mail.example.com:25", "smtp://host:99999"):
        with pytest.raises(mail.MailError):
            mail.parse_smtp_url(bad)


def test_a_subject_is_one_line_whatever_the_restaurant_is_called() -> None:
    assert mail.message("a@b.example", "c@d.example", "Join Noodle\r\nBcc: x@evil.example Bar", "hi")[
        "Subject"] == "Join Noodle Bcc: x@evil.example Bar"


def test_a_mistyped_smtp_url_stops_the_app_from_starting() -> None:
    with pytest.raises(mail.MailError, match="SMTP_URL"):
        create_app(make_config(smtp_url="smtp:/mail.example.com"), redis=fakeredis.FakeRedis(decode_responses=True),
                   dispatcher=RecordingDispatcher())


def test_a_plain_relay_gets_the_exact_message(stopping: list[Controller]) -> None:
    inbox = Inbox()
    stopping.append(server := serve(inbox))
    mail.send(f"smtp://127.0.0.1:{server.port}", link_mail())
    [(sender, recipients, message)] = inbox.received
    assert sender == "no-reply@wait.example.com" and recipients == ["mei@example.com"]
    assert message["From"] == "Waitlist <no-reply@wait.example.com>" and message["To"] == "mei@example.com"
    assert message["Subject"] == "Reset your waitlist password"
    assert message.get_payload().strip() == \
        "Reset your waitlist password: https://wait.example.com/account/reset/abc"


def test_starttls_then_login_with_an_escaped_password(stopping: list[Controller], authority: trustme.CA,
                                                      client_tls: ssl.SSLContext) -> None:
    inbox = Inbox()
    stopping.append(server := serve(inbox, authority, auth_required=True))
    mail.send(f"smtp://{USER}:p%40ss%2Fword@127.0.0.1:{server.port}", link_mail(), tls=client_tls)
    assert inbox.logins == [(USER, PASSWORD)] and len(inbox.received) == 1


def test_implicit_tls_with_a_wrong_password_is_refused_for_good(stopping: list[Controller],
                                                                 authority: trustme.CA,
                                                                 client_tls: ssl.SSLContext) -> None:
    inbox = Inbox()
    stopping.append(server := serve(inbox, authority, implicit_tls=True))
    with pytest.raises(mail.MailError, match="535"):
        mail.send(f"smtps://{USER}:wrong@127.0.0.1:{server.port}", link_mail(), tls=client_tls)
    assert set(inbox.logins) == {(USER, "wrong")} and inbox.received == []  # smtplib tries PLAIN, then LOGIN
    mail.send(f"smtps://{USER}:p%40ss%2Fword@127.0.0.1:{server.port}", link_mail(), tls=client_tls)
    assert len(inbox.received) == 1


def test_an_untrusted_certificate_is_refused(stopping: list[Controller], authority: trustme.CA) -> None:
    inbox = Inbox()
    stopping.append(server := serve(inbox, authority, implicit_tls=True))
    with pytest.raises(mail.MailError, match="certificate"):
        mail.send(f"smtps://127.0.0.1:{server.port}", link_mail())  # the system's authorities only
    assert inbox.received == []


def test_a_password_is_never_sent_to_a_server_without_starttls(stopping: list[Controller]) -> None:
    inbox = Inbox()
    stopping.append(server := serve(inbox))
    with pytest.raises(mail.MailError, match="STARTTLS"):
        mail.send(f"smtp://{USER}:p%40ss%2Fword@127.0.0.1:{server.port}", link_mail())
    assert inbox.logins == [] and inbox.received == []


def test_a_busy_server_or_none_at_all_is_worth_another_try(stopping: list[Controller]) -> None:
    with pytest.raises(mail.TransientMailError):
        mail.send(f"smtp://127.0.0.1:{free_port()}", link_mail(), timeout=2)
    stopping.append(busy := serve(Inbox(answer="451 4.3.0 try again later")))
    with pytest.raises(mail.TransientMailError, match="451"):
        mail.send(f"smtp://127.0.0.1:{busy.port}", link_mail())
    stopping.append(refusing := serve(Inbox(rcpt_answer="550 5.1.1 no such mailbox")))
    with pytest.raises(mail.MailError, match="550"):
        mail.send(f"smtp://127.0.0.1:{refusing.port}", link_mail())


@pytest.fixture
def mailing(stopping: list[Controller]) -> tuple[Inbox, Controller]:
    inbox = Inbox()
    stopping.append(server := serve(inbox))
    return inbox, server


def test_the_worker_job_mails_and_a_refusal_is_final(mailing: tuple[Inbox, Controller],
                                                     caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level("INFO")
    inbox, server = mailing
    config = make_config(smtp_url=f"smtp://127.0.0.1:{server.port}", mail_from="Noodle Bar <hi@noodle.example>")
    app = create_app(config, redis=fakeredis.FakeRedis(decode_responses=True), dispatcher=RecordingDispatcher())
    job_context.use(job_context.JobContext(waitlist=app.extensions["waitlist"], sender=FakeSender()))
    try:
        assert jobs.send_mail("mei@example.com", "Hello", "A link") == "sent"
        inbox.rcpt_answer = "550 5.1.1 no such mailbox"
        assert jobs.send_mail("nobody@example.com", "Hello", "A link") == "failed"  # no retry
        inbox.rcpt_answer, inbox.answer = None, "421 4.3.2 shutting down"
        with pytest.raises(mail.TransientMailError):  # RQ tries again
            jobs.send_mail("mei@example.com", "Hello", "A link")
    finally:
        job_context.use(None)
    [(_sender, recipients, message)] = inbox.received
    assert recipients == ["mei@example.com"] and message["From"] == "Noodle Bar <hi@noodle.example>"
    ours = " ".join(r.getMessage() for r in caplog.records if r.name.startswith(("workers", "waitlist")))
    assert "m***@example.com" in ours and "n***@example.com" in ours
    assert "mei@" not in ours and "nobody@" not in ours  # addresses are masked in our logs


def test_the_mail_job_is_queued_without_keeping_the_link_longer_than_it_lives() -> None:
    connection = fakeredis.FakeRedis()
    RQDispatcher(connection).send_mail("mei@example.com", "Reset", "https://wait.example.com/account/reset/abc")
    from rq import Queue

    [job] = Queue(MAIL_QUEUE, connection=connection).get_jobs()
    assert job.func_name == "workers.jobs.send_mail"
    assert job.args == ("mei@example.com", "Reset", "https://wait.example.com/account/reset/abc")
    assert job.result_ttl == 0 and job.ttl == MAIL_TTL_SECONDS and job.failure_ttl == MAIL_TTL_SECONDS
    assert job.retries_left == 3


def mail_app(dispatcher: RecordingDispatcher) -> tuple[Flask, dict[str, str]]:
    app = create_app(make_config(smtp_url="smtp://mail.example.com"), redis=fakeredis.FakeRedis(decode_responses=True),
                     dispatcher=dispatcher)
    app.testing = True
    return app, auth(create_restaurant(app.test_client())["api_key"])


def test_with_smtp_set_a_reset_is_mailed_only_to_an_account_and_the_page_stays_neutral() -> None:
    dispatcher = RecordingDispatcher()
    app, headers = mail_app(dispatcher)
    person(app.test_client(), headers, "mei@example.com", "host", "Mei")
    invited = dispatcher.mails.pop()
    assert invited[0] == "mei@example.com" and invited[1] == "Join Noodle Bar on the waitlist"
    visitor = app.test_client()
    form = visitor.get("/account/reset")
    answers = [visitor.post("/account/reset", data={"email": email, "csrf_token": csrf_of(form.text)})
               for email in ("Mei@Example.com ", "nobody@example.com")]
    assert [a.status_code for a in answers] == [200, 200]
    [(to, subject, body)] = dispatcher.mails
    assert (to, subject) == ("mei@example.com", "Reset your waitlist password")
    link = body.split()[-1]
    assert link.startswith("https://wait.example.com/account/reset/")
    page = app.test_client().get(link.removeprefix("https://wait.example.com"))
    assert page.status_code == 200 and "Choose a new password" in page.text
    assert app.extensions["people"].links.sent() == []  # nothing in the development outbox


def test_the_procfile_worker_listens_on_every_queue_the_service_fills() -> None:
    worker = next(line for line in (Path(__file__).parents[2] / "Procfile").read_text().splitlines()
                  if line.startswith("worker:"))
    assert worker.split()[-len(QUEUES):] == list(QUEUES) and QUEUES[-1] == MAIL_QUEUE
