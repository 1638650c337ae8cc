"""The HTTP edge shared by every blueprint: one error shape, request parsing, the service getter."""
from __future__ import annotations

import io
import logging
from typing import IO, Any

import orjson
from flask import Flask, Request, Response, current_app, jsonify, request
from flask.json.provider import DefaultJSONProvider
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge
from werkzeug.sansio.response import Response as BaseResponse
from werkzeug.utils import cached_property

from waitlist.domain.errors import InvalidInput, StoreUnavailable, WaitlistError
from waitlist.services.dev_phone import DevPhone
from waitlist.services.inbound import InboundHandler
from waitlist.services.waitlist import Waitlist
from waitlist.store.connections import STORE_UNAVAILABLE

log = logging.getLogger(__name__)

MAX_BODY_BYTES = 16 * 1024
_HTTP_CODES = {
    400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found", 405: "method_not_allowed",
    413: "payload_too_large", 415: "unsupported_media_type", 429: "rate_limited",
}


class FastJSONProvider(DefaultJSONProvider):
    """orjson for the API's plain dicts and lists: a list of 100 parties encodes in a fifth of the
    time. Anything orjson cannot encode falls back to Flask's encoder."""

    def __init__(self, app: Flask) -> None:
        super().__init__(app)
        self.response_class = app.response_class

    def dumps(self, obj: Any, **kwargs: Any) -> str:
        try:
            return orjson.dumps(obj).decode()
        except TypeError:
            return super().dumps(obj, **kwargs)

    def loads(self, s: str | bytes, **kwargs: Any) -> Any:
        return orjson.loads(s)

    def response(self, *args: Any, **kwargs: Any) -> BaseResponse:
        """``jsonify``: orjson's bytes go straight into the response, the same bytes Flask's would
        send after decoding them to text and encoding them again. The arguments mean what Flask's
        documentation says: one value, several (a list), or keywords (an object), never both."""
        if args and kwargs:
            raise TypeError("jsonify() takes either args or kwargs, not both")
        obj = args[0] if len(args) == 1 else args or kwargs or None
        try:
            body = orjson.dumps(obj, option=orjson.OPT_APPEND_NEWLINE)
        except TypeError:
            return super().response(*args, **kwargs)
        return self.response_class(body, mimetype=self.mimetype)


class BoundedRequest(Request):
    """Flask's request, holding a body sent without Content-Length (chunked) to the same limit.

    For such a body Werkzeug reads up to MAX_CONTENT_LENGTH and stops without an error when the
    body goes on, so a 20 KB chunked body was parsed as its first 16 KB (a JSON object padded with
    spaces was taken). Here it is read once, one byte past the limit, and a longer body is a 413
    before any view, form parser or CSRF check sees a byte of it.
    """

    @cached_property
    def stream(self) -> IO[bytes]:
        limit = self.max_content_length
        if self.content_length is not None or limit is None or "wsgi.input_terminated" not in self.environ \
                or self.shallow:
            return super().stream
        body = _read_up_to(self.environ["wsgi.input"], limit + 1)
        if len(body) > limit:
            raise RequestEntityTooLarge()
        return io.BytesIO(body)


def _read_up_to(stream: IO[bytes], size: int) -> bytes:
    """Up to ``size`` bytes: a server's chunked input may hand them over a chunk at a time."""
    body = bytearray()
    while len(body) < size:
        chunk = stream.read(size - len(body))
        if not chunk:
            break
        body += chunk
    return bytes(body)


def get_waitlist() -> Waitlist:
    return current_app.extensions["waitlist"]  # type: ignore[no-any-return]


def get_inbound() -> InboundHandler:
    """Texts from guests: Twilio's webhook and the development phone hand them to the same handler."""
    return current_app.extensions["inbound"]  # type: ignore[no-any-return]


def get_dev_phone() -> DevPhone:
    """The local outbox and the development phone (development without Twilio only)."""
    return current_app.extensions["dev_phone"]  # type: ignore[no-any-return]


def error_response(status: int, code: str, message: str, fields: dict[str, list[str]] | None = None,
                   **extra: Any) -> Response:
    body: dict[str, Any] = {"code": code, "message": message}
    if fields:
        body["fields"] = fields
    body.update(extra)
    response = jsonify({"error": body})
    response.status_code = status
    return response


def json_body() -> dict[str, Any]:
    """The request's JSON object, or a 400 that says what was wrong with it."""
    if not request.content_length and not request.data:
        return {}
    if not request.is_json:
        raise InvalidInput("send a JSON body with Content-Type: application/json")
    try:  # orjson straight on the body: Flask's get_json would check the content type a second time
        data = orjson.loads(request.get_data(cache=True))
    except orjson.JSONDecodeError:
        raise InvalidInput("the body is not valid JSON") from None
    if not isinstance(data, dict):
        raise InvalidInput("expected a JSON object", fields={"_schema": ["expected a JSON object"]})
    return data


def bearer_token() -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


def wants_html() -> bool:
    """Pages answer errors with HTML; the API, webhooks and anything asking for JSON get JSON."""
    path = request.path
    if path.startswith(("/api/", "/sms/", "/healthz", "/metrics", "/dev/outbox")):
        return False
    return "text/html" in request.headers.get("Accept", "")


def register_error_handlers(app: Flask) -> None:
    app.register_error_handler(WaitlistError, domain_error_response)

    @app.errorhandler(HTTPException)
    def _http_error(exc: HTTPException) -> Any:
        status = exc.code or 500
        message = exc.description or exc.name
        if status == 413:
            message = f"the request body is larger than {MAX_BODY_BYTES // 1024} KB"
        html = _html_error(status, message)
        if html is not None:
            return html
        response = error_response(status, _HTTP_CODES.get(status, "http_error"), message)
        if exc.response is not None and exc.response.headers.get("Retry-After"):
            response.headers["Retry-After"] = exc.response.headers["Retry-After"]
        if status == 405 and getattr(exc, "valid_methods", None):
            response.headers["Allow"] = ", ".join(exc.valid_methods)  # type: ignore[attr-defined]
        return response

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception) -> Any:
        if isinstance(exc, STORE_UNAVAILABLE):
            return domain_error_response(StoreUnavailable(f"the waitlist store is unavailable ({type(exc).__name__}), "
                                                  "please retry shortly"))
        log.exception("unexpected error on %s %s", request.method, request.path)
        return error_response(500, "internal_error", "something went wrong on our side")


def domain_error_response(exc: WaitlistError) -> Any:
    """The answer to a domain error: the friendly page for a page, else the JSON error shape."""
    if exc.status == 503:
        log.warning("store unavailable: %s", exc.message)
    html = _html_error(exc.status, exc.message)
    if html is not None:
        return html
    response = error_response(exc.status, exc.code, exc.message, exc.fields, **exc.extra)
    if exc.retry_after:
        response.headers["Retry-After"] = str(exc.retry_after)
    return response


def _html_error(status: int, message: str) -> Any:
    """Pages register a renderer for friendly HTML errors; without one every error is JSON."""
    renderer = current_app.extensions.get("html_error_renderer")
    if renderer is None or not wants_html():
        return None
    return renderer(status, message)
