"""Email for people's links (invitations and password resets), over SMTP with the standard library.

A link is mailed by a worker (``workers.jobs.send_mail``), never by the web request that made it: an
SMTP server can take seconds to answer, and ``/account/reset`` must take as long for an unknown address
as for a known one, or its timing would tell which emails have accounts.

``SMTP_URL`` names the server: ``smtps://user:password@host:465`` speaks TLS from the start,
``smtp://user:password@host:587`` upgrades with STARTTLS. A password is never sent over a connection that
is not encrypted: a server that does not offer STARTTLS gets no login (a refusal, not a retry). Only
``smtp://host:port`` without a user may stay plain, for a relay on the same host or network.
"""
from __future__ import annotations

import smtplib
import ssl
from dataclasses import dataclass
from email.message import EmailMessage
from urllib.parse import unquote, urlsplit

DEFAULT_PORTS = {"smtp": 587, "smtps": 465}


class MailError(Exception):
    """The message was not sent and trying again will not help (bad address, refused login, bad URL)."""


class TransientMailError(Exception):
    """The message was not sent this time (server away, busy, a 4xx answer): the job is retried."""


@dataclass(frozen=True)
class SmtpServer:
    scheme: str
    host: str
    port: int
    user: str | None
    password: str | None


def parse_smtp_url(url: str) -> SmtpServer:
    """``smtp[s]://[user[:password]@]host[:port]``; percent-escapes in the user and password are undone
    (a password holding "@" or "/" is written %40, %2F)."""
    parts = urlsplit(url)
    if parts.scheme not in DEFAULT_PORTS or not parts.hostname:
        raise MailError("SMTP_URL must look like smtps://user:password@host:465 or smtp://host:587")
    try:
        port = parts.port or DEFAULT_PORTS[parts.scheme]
    except ValueError as exc:
        raise MailError(f"SMTP_URL has a bad port: {exc}") from None
    return SmtpServer(parts.scheme, parts.hostname, port, unquote(parts.username) if parts.username else None,
                      unquote(parts.password) if parts.password else None)


def mask_email(email: str) -> str:
    """"a***@example.com": enough to tell two people apart in a log, not to mail them."""
    name, _at, domain = email.partition("@")
    return f"{name[:1]}***@{domain}"


def message(sender: str, to: str, subject: str, body: str) -> EmailMessage:
    """The subject is put on one line (it holds a restaurant's name, and a header cannot hold a line
    break: the email library would refuse the message)."""
    mail = EmailMessage()
    mail["From"], mail["To"], mail["Subject"] = sender, to, " ".join(subject.split())
    mail.set_content(body)
    return mail


def send(url: str, mail: EmailMessage, timeout: float = 10.0, tls: ssl.SSLContext | None = None) -> None:
    """Send ``mail`` through the server of ``url``. Raises TransientMailError for what a later try may
    get through (connection refused or dropped, a timeout, a 4xx answer) and MailError otherwise.
    ``tls``: the context certificates are checked with (the system's by default; tests pass one that
    trusts their own server)."""
    server = parse_smtp_url(url)
    context = tls or ssl.create_default_context()
    try:
        if server.scheme == "smtps":
            client: smtplib.SMTP = smtplib.SMTP_SSL(server.host, server.port, timeout=timeout, context=context)
        else:
            client = smtplib.SMTP(server.host, server.port, timeout=timeout)
        with client:
            client.ehlo()
            if server.scheme == "smtp" and client.has_extn("starttls"):
                client.starttls(context=context)
                client.ehlo()
            if server.user:
                if server.scheme == "smtp" and not isinstance(client.sock, ssl.SSLSocket):
                    raise MailError("the SMTP server offers no STARTTLS: the password is not sent in the clear")
                client.login(server.user, server.password or "")
            client.send_message(mail)
    except smtplib.SMTPResponseException as exc:
        if 400 <= exc.smtp_code < 500:
            raise TransientMailError(f"SMTP {exc.smtp_code}: {exc.smtp_error!r}") from None
        raise MailError(f"SMTP {exc.smtp_code}: {exc.smtp_error!r}") from None
    except smtplib.SMTPRecipientsRefused as exc:
        codes = [code for code, _text in exc.recipients.values()]
        if all(400 <= code < 500 for code in codes):
            raise TransientMailError(f"recipient deferred: {codes}") from None
        raise MailError(f"recipient refused: {codes}") from None
    except smtplib.SMTPNotSupportedError as exc:
        raise MailError(f"the SMTP server cannot do this: {exc}") from None
    except ssl.SSLCertVerificationError as exc:
        raise MailError(f"the SMTP server's certificate is not trusted: {exc.verify_message}") from None
    except (smtplib.SMTPServerDisconnected, OSError) as exc:  # SMTPException is an OSError: this comes last
        raise TransientMailError(f"SMTP server unreachable: {exc}") from None
