"""A Twilio-compatible Messages API on loopback, for end-to-end tests and the benchmark.

It speaks just enough of Twilio's REST API for the official ``twilio`` client, pointed at it with
TWILIO_API_URL (``waitlist.texting.sms.BaseUrlHttpClient``), to send and list messages:

    POST /2010-04-01/Accounts/{sid}/Messages.json   records the form (To, From, Body, StatusCallback,
                                                     ValidityPeriod...) and answers 201 + the message
    GET  /2010-04-01/Accounts/{sid}/Messages.json   accepted messages, newest first, filtered by To/From,
                                                     in Twilio's paged shape (``find_sent`` reads it)

Tests script the answers to the next POSTs (``server.script(rate_limited(), accepted())``); once the
script runs out, every POST is accepted. Use the ``twilio_server`` fixture (import it into a conftest:
``from tests.twilio_server import twilio_server  # noqa: F401``) or ``with TwilioServer() as server``.
"""
from __future__ import annotations

import json
import secrets
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Self

import pytest
from werkzeug.test import EnvironBuilder
from werkzeug.wrappers import Request, Response

ACCOUNT_SID = "AC" + "0" * 31 + "1"
AUTH_TOKEN = "test-auth-token"
API_VERSION = "2010-04-01"
STALL_LIMIT_SECONDS = 30.0
"""A stalled answer never waits longer than this, so a forgotten ``release()`` cannot hang a test."""


@dataclass(frozen=True)
class Reply:
    """How the server answers one POST.

    ``accept``: the message counts as taken by Twilio (listed, and in ``server.accepted``) even when the
    answer is an error or never arrives, which is what makes a timeout ambiguous.
    """

    status: int = 201
    error_code: int | None = None
    html: str | None = None
    delay: float = 0.0
    stall: bool = False
    accept: bool = True


def accepted(delay: float = 0.0) -> Reply:
    """201 with the message resource; a ``delay`` longer than the client's timeout makes it ambiguous."""
    return Reply(delay=delay)


def twilio_error(status: int, code: int) -> Reply:
    """Twilio's JSON error body, e.g. ``twilio_error(400, 21211)`` (invalid 'To' number)."""
    return Reply(status=status, error_code=code, accept=False)


def rate_limited() -> Reply:
    return twilio_error(429, 20429)


def server_error(status: int = 500) -> Reply:
    return twilio_error(status, 20500)


def html_error(status: int = 502) -> Reply:
    """What a load balancer in front of Twilio answers: an HTML page, not JSON."""
    return Reply(status=status, html=f"<html><body><h1>{status} Bad Gateway</h1></body></html>", accept=False)


def stalled(accept: bool = True) -> Reply:
    """Hold the answer until ``server.release()``: the send is in flight (``server.stalled`` is set)."""
    return Reply(stall=True, accept=accept)


@dataclass
class Post:
    """One POST as received, with the exact form fields."""

    form: dict[str, str]
    received_at: float
    """time.time() when the request arrived."""
    received_perf: float
    """time.perf_counter() when the request arrived (same process only: the benchmark's clock)."""
    reply: Reply


class TwilioServer:
    """The server, its script and everything it was sent. Thread-safe; start and stop it once."""

    def __init__(self, account_sid: str = ACCOUNT_SID, auth_token: str = AUTH_TOKEN):
        self.account_sid = account_sid
        self.auth_token = auth_token
        self.posts: list[Post] = []
        self.accepted: list[dict[str, Any]] = []
        self.list_requests: list[dict[str, str]] = []
        self.stalled = threading.Event()
        self.on_post: Callable[[Post], None] | None = None
        self._release = threading.Event()
        self._script: deque[Reply] = deque()
        self._lock = threading.RLock()
        self._changed = threading.Condition(self._lock)
        self._server: _HTTPServer | None = None
        self._thread: threading.Thread | None = None

    # --- lifecycle --------------------------------------------------------------------------------

    def start(self) -> Self:
        self._server = _HTTPServer(self)
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                                        name="twilio-server", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._release.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def url(self) -> str:
        assert self._server is not None, "start the server first"
        return f"http://127.0.0.1:{self._server.server_port}"

    def env(self) -> dict[str, str]:
        """The environment a worker needs to send here."""
        return {"TWILIO_ACCOUNT_SID": self.account_sid, "TWILIO_AUTH_TOKEN": self.auth_token,
                "TWILIO_API_URL": self.url}

    # --- scripting and inspection -----------------------------------------------------------------

    def script(self, *replies: Reply) -> None:
        """Answer the next POSTs with ``replies``, in order; later ones are accepted."""
        with self._lock:
            self._script.extend(replies)

    def release(self) -> None:
        """Let stalled answers go (they are then written to a client that may be long gone)."""
        self._release.set()

    def bodies_to(self, to: str) -> list[str]:
        """Bodies of the messages accepted for ``to``, oldest first: what the guest's phone shows."""
        with self._lock:
            return [m["body"] for m in self.accepted if m["to"] == to]

    def posts_to(self, to: str) -> list[Post]:
        with self._lock:
            return [p for p in self.posts if p.form.get("To") == to]

    def wait_for(self, predicate: Callable[[TwilioServer], bool], timeout: float = 10.0) -> bool:
        """Block until ``predicate(self)`` holds after some request, or ``timeout`` passes."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while not predicate(self):
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._changed.wait(min(left, 0.2))
        return True

    # --- the API ----------------------------------------------------------------------------------

    def _dispatch(self, request: Request) -> Response:
        base = f"/{API_VERSION}/Accounts/{self.account_sid}/Messages.json"
        if request.path != base:
            return _error(404, 20404, "The requested resource was not found")
        auth = request.authorization
        if auth is None or auth.username != self.account_sid or auth.password != self.auth_token:
            return _error(401, 20003, "Authenticate")
        if request.method == "POST":
            return self._create(request)
        if request.method == "GET":
            return self._list(request, base)
        return _error(405, 20004, "Method not allowed")

    def _create(self, request: Request) -> Response:
        form = {key: request.form[key] for key in request.form}
        with self._lock:
            reply = self._script.popleft() if self._script else Reply()
            post = Post(form=form, received_at=time.time(), received_perf=time.perf_counter(), reply=reply)
            self.posts.append(post)
            resource = self._resource(form) if reply.accept else None
            if resource is not None:
                self.accepted.append(resource)
            self._changed.notify_all()
        if self.on_post is not None:
            self.on_post(post)
        if reply.stall:
            self.stalled.set()
            self._release.wait(STALL_LIMIT_SECONDS)
        if reply.delay:
            time.sleep(reply.delay)
        if reply.html is not None:
            return Response(reply.html, status=reply.status, content_type="text/html")
        if reply.error_code is not None:
            return _error(reply.status, reply.error_code, f"error {reply.error_code}")
        return _json(resource or self._resource(form), 201)

    def _resource(self, form: dict[str, str]) -> dict[str, Any]:
        sid = "SM" + secrets.token_hex(16)
        created = format_datetime(datetime.now(UTC), usegmt=False)
        return {
            "account_sid": self.account_sid, "api_version": API_VERSION, "body": form.get("Body", ""),
            "date_created": created, "date_updated": created, "date_sent": None,
            "direction": "outbound-api", "error_code": None, "error_message": None,
            "from": form.get("From"), "messaging_service_sid": None, "num_media": "0", "num_segments": "1",
            "price": None, "price_unit": "USD", "sid": sid, "status": "queued", "to": form.get("To"),
            "uri": f"/{API_VERSION}/Accounts/{self.account_sid}/Messages/{sid}.json",
            "subresource_uris": {"media": f"/{API_VERSION}/Accounts/{self.account_sid}/Messages/{sid}/Media.json"},
        }

    def _list(self, request: Request, base: str) -> Response:
        args = request.args.to_dict()
        with self._lock:
            self.list_requests.append(args)
            found = [m for m in reversed(self.accepted)
                     if m["to"] == args.get("To", m["to"]) and m["from"] == args.get("From", m["from"])]
        page_size = int(args.get("PageSize", 50))
        page = found[:page_size]
        uri = f"{base}?PageSize={page_size}&Page=0"
        return _json({
            "messages": page, "end": max(len(page) - 1, 0), "first_page_uri": uri, "next_page_uri": None,
            "page": 0, "page_size": page_size, "previous_page_uri": None, "start": 0, "uri": uri,
        }, 200)


def _json(payload: dict[str, Any], status: int) -> Response:
    return Response(json.dumps(payload), status=status, content_type="application/json")


def _error(status: int, code: int, message: str) -> Response:
    return _json({"code": code, "message": message, "more_info": f"https://www.twilio.com/docs/errors/{code}",
                  "status": status}, status)


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, twilio: TwilioServer):
        super().__init__(("127.0.0.1", 0), _Handler)
        self.twilio = twilio


class _Handler(BaseHTTPRequestHandler):
    """HTTP/1.1 with keep-alive, as api.twilio.com answers (werkzeug's development server closes every
    connection, which would make each send pay for a new TCP connection)."""

    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body go out as two writes: no 40 ms delayed-ACK stall
    server: _HTTPServer

    def do_GET(self) -> None:
        self._answer()

    def do_POST(self) -> None:
        self._answer()

    def _answer(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        path, _, query = self.path.partition("?")
        headers = [(k, v) for k, v in self.headers.items() if k.lower() != "content-length"]
        environ = EnvironBuilder(method=self.command, path=path, query_string=query, headers=headers,
                                 data=body).get_environ()
        response = self.server.twilio._dispatch(Request(environ))
        payload = response.get_data()
        try:
            self.send_response(response.status_code)
            self.send_header("Content-Type", response.content_type or "application/octet-stream")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)
        except OSError:  # the client gave up on a slow answer
            self.close_connection = True

    def log_message(self, format: str, *args: Any) -> None:
        """No access log, and no traceback when a client hung up before a slow answer."""


@pytest.fixture
def twilio_server() -> Iterator[TwilioServer]:
    """A started server on a free loopback port; stopped (stalled answers released) after the test."""
    with TwilioServer() as server:
        yield server
