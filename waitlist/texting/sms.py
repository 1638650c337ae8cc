"""Senders: Twilio through the official client, or a local outbox when no credentials are set.

Each sender turns the world's answers into three outcomes the send job understands: the message was
accepted (a SID), it never will be (``PermanentSendError``), or it may be later (``TransientSendError``;
``AmbiguousSendError`` when Twilio may have accepted it before the connection broke).
"""
from __future__ import annotations

import logging
import secrets
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

import requests
from twilio.base.exceptions import (
    TwilioException,
    TwilioRestException,
    TwilioServiceException,
)
from twilio.http.http_client import TwilioHttpClient
from twilio.http.response import Response

from waitlist.domain.phones import mask_phone

log = logging.getLogger(__name__)
logging.getLogger("twilio.http_client").setLevel(logging.WARNING)  # it would log numbers and bodies

TWILIO_BASE = "https://api.twilio.com"
RETRYABLE_CODES = {20429, 30500}
OPT_OUT_CODE = 21610


class SendError(Exception):
    def __init__(self, message: str, code: str = ""):
        super().__init__(message)
        self.code = code


class PermanentSendError(SendError):
    """Twilio refused the message for good (bad number, opted out, unreachable...)."""


class TransientSendError(SendError):
    """Twilio answered with an error that a later try may not get (429, 5xx)."""


class AmbiguousSendError(SendError):
    """No answer (timeout, broken connection): Twilio may or may not have taken the message."""


@dataclass(frozen=True)
class Sent:
    sid: str
    status: str


class Sender(Protocol):
    def send(self, *, to: str, from_: str, body: str, status_callback: str | None,
             validity_period: int | None) -> Sent: ...

    def find_sent(self, *, to: str, from_: str, body: str, since: float) -> str | None: ...


class BaseUrlHttpClient(TwilioHttpClient):
    """Sends the client's requests to ``base_url`` instead of api.twilio.com (tests, staging)."""

    def __init__(self, base_url: str, timeout: float):
        super().__init__(timeout=timeout, max_retries=None)
        self.base_url = base_url.rstrip("/")

    def request(self, method: str, url: str, *args: Any, **kwargs: Any) -> Response:
        if url.startswith(TWILIO_BASE):
            url = self.base_url + url[len(TWILIO_BASE):]
        return super().request(method, url, *args, **kwargs)


TwilioErrorAnswer = (TwilioRestException, TwilioServiceException)
"""Twilio answered with an error: the legacy JSON shape, or the RFC 9457 one newer APIs use."""

FIND_SENT_LIMIT = 50
FIND_SENT_SLACK_SECONDS = 60
"""Clock skew allowed between this host and Twilio when matching a message's creation time."""


def is_retryable(exc: TwilioRestException | TwilioServiceException) -> bool:
    return exc.status == 429 or exc.status >= 500 or _code(exc) in RETRYABLE_CODES


def _code(exc: TwilioRestException | TwilioServiceException) -> int:
    try:
        return int(exc.code)
    except (TypeError, ValueError):
        return int(exc.status)


class TwilioSender:
    def __init__(self, account_sid: str, auth_token: str, api_url: str = TWILIO_BASE, timeout: float = 10.0):
        from twilio.rest import Client  # only a worker sends: the web process reads the outbox, never Twilio

        http_client = BaseUrlHttpClient(api_url, timeout) if api_url.rstrip("/") != TWILIO_BASE else \
            TwilioHttpClient(timeout=timeout)
        self.client = Client(account_sid, auth_token, http_client=http_client)

    def send(self, *, to: str, from_: str, body: str, status_callback: str | None,
             validity_period: int | None) -> Sent:
        params: dict[str, Any] = {"to": to, "from_": from_, "body": body}
        if status_callback:
            params["status_callback"] = status_callback
        if validity_period:
            params["validity_period"] = validity_period
        try:
            message = self.client.messages.create(**params)
        except TwilioErrorAnswer as exc:
            code = str(_code(exc))
            if is_retryable(exc):
                raise TransientSendError(f"twilio {exc.status} code {code}", code) from None
            raise PermanentSendError(f"twilio refused: code {code}", code) from None
        except (requests.Timeout, requests.ConnectionError) as exc:
            raise AmbiguousSendError(f"no answer from twilio: {type(exc).__name__}") from None
        except (TwilioException, ValueError) as exc:
            # A garbled 2xx answer: Twilio probably took the message, so look before resending.
            raise AmbiguousSendError(f"unreadable answer from twilio: {type(exc).__name__}") from None
        log.info("sms accepted sid=%s to=%s", message.sid, mask_phone(to))
        return Sent(sid=str(message.sid), status=str(message.status or "queued"))

    def find_sent(self, *, to: str, from_: str, body: str, since: float) -> str | None:
        """After an ambiguous failure: did Twilio take this exact message? (Twilio has no idempotency key.)

        Not filtered on DateSent: a message Twilio accepted but has not sent yet has none. The newest
        messages between the two numbers are compared instead, created no earlier than ours was.
        """
        after = datetime.fromtimestamp(since, tz=UTC) - timedelta(seconds=FIND_SENT_SLACK_SECONDS)
        try:
            for message in self.client.messages.list(to=to, from_=from_, limit=FIND_SENT_LIMIT):
                created = message.date_created
                if message.body == body and (created is None or created >= after):
                    return str(message.sid)
        except TwilioErrorAnswer as exc:
            raise TransientSendError(f"twilio list failed: {exc.status}") from None
        except (requests.Timeout, requests.ConnectionError) as exc:
            raise TransientSendError(f"no answer from twilio: {type(exc).__name__}") from None
        return None


class SentLog(Protocol):
    """Where the development sender keeps what it "sent", newest first (waitlist.store.DevOutbox)."""

    def add_sent(self, entry: dict[str, Any]) -> None: ...

    def sent(self) -> list[dict[str, Any]]: ...


class OutboxSender:
    """Development sender: texts land in a local outbox (shown at /dev/outbox and /dev/phone)."""

    def __init__(self, outbox: SentLog):
        self.outbox = outbox

    def send(self, *, to: str, from_: str, body: str, status_callback: str | None,
             validity_period: int | None) -> Sent:
        sid = "SM" + secrets.token_hex(16)
        self.outbox.add_sent({"sid": sid, "to": to, "from": from_, "body": body, "at": time.time()})
        log.info("outbox sms sid=%s to=%s (%d chars)", sid, mask_phone(to), len(body))
        return Sent(sid=sid, status="delivered")

    def find_sent(self, *, to: str, from_: str, body: str, since: float) -> str | None:
        for entry in self.outbox.sent():
            if entry["to"] == to and entry["from"] == from_ and entry["body"] == body and entry["at"] >= since - 60:
                return str(entry["sid"])
        return None
