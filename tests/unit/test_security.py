"""Security: headers on every page, secrets kept out of the logs, staff sessions that expire, and property
tests for the two parsers that read text from strangers (phone numbers, SMS commands)."""
from __future__ import annotations

import logging
import re
import string
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import fakeredis
import phonenumbers
import pytest
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from itsdangerous import TimestampSigner
from twilio.request_validator import RequestValidator  # type: ignore[import-untyped]

from config import Config
from tests.conftest import ADMIN_TOKEN, add_party, auth, create_restaurant, make_config
from tests.fakes import Clock, FakeSender, RecordingDispatcher
from tests.twilio_server import ACCOUNT_SID, TwilioServer
from tests.unit.test_isolation import csrf_of, requests_for, sign_in
from waitlist.domain.phones import mask_phone, normalize_phone, phone_digest
from waitlist.store import DevOutbox
from waitlist.texting.commands import (
    HELP_WORDS,
    LEAVE_WORDS,
    START_WORDS,
    STOP_WORDS,
    Intent,
    parse,
    rating_of,
)
from waitlist.texting.sms import OutboxSender, PermanentSendError, TwilioSender
from waitlist.web.app import create_app
from workers import context as job_context
from workers import jobs

SLUG = "noodle-bar"
TWILIO_TOKEN = "twilio-secret-auth-token-9f3a"
SECRET_KEY = "flask-secret-key-4c1d"
GUEST = "+14155550177"
GUEST_NATIONAL = "4155550177"
CUSTOM_BODY = "Your koi-pond table is being set now"
INBOUND_BODY = "Is the heated patio open for us tonight?"


def page_rules(app: Flask) -> list[Any]:
    """Every GET route but static files: pages, fragments, streams, and the JSON API."""
    return [rule for rule in app.url_map.iter_rules()
            if "GET" in (rule.methods or set()) and rule.endpoint != "static"]


def each_get(app: Flask, client: FlaskClient, values: dict[str, str]) -> Iterator[tuple[str, Any]]:
    for rule in page_rules(app):
        for _method, url in requests_for(app, rule, values):
            response = client.get(url, headers={"Accept": "text/html"}, buffered=False)
            response.close()  # event streams: the headers are what we want
            yield url, response


@pytest.fixture
def signed_in(app: Flask, client: FlaskClient, restaurant: dict[str, Any], headers: dict[str, str]) -> dict[str, str]:
    """A host session on the restaurant, a party on its list; the values that fill every route."""
    app.config.update(LIVE_LIFETIME_SECONDS=0.05, LIVE_BLOCK_SECONDS=0.01)
    party = add_party(client, headers, name="Ana Lima")
    sign_in(client, restaurant["api_key"], SLUG)
    waitlist = app.extensions["waitlist"]
    waitlist.update_settings(waitlist.restaurant(SLUG), {"remote_join": True})
    code = waitlist.open_join_code(waitlist.restaurant(SLUG), name="Bo", party_size=2, address="192.0.2.5")
    return {"slug": SLUG, "party_id": party["id"], "token": party["status_url"].rsplit("/", 1)[1],
            "ticket": code.ticket, "name": "12"}  # a table name: no such table is a 404 page, headers and all


# --- headers -------------------------------------------------------------------------------------------

def directives(csp: str) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for part in csp.split(";"):
        words = part.split()
        if words:
            found[words[0].lower()] = words[1:]
    return found


def test_every_page_and_answer_carries_the_security_headers(app: Flask, client: FlaskClient,
                                                            signed_in: dict[str, str]) -> None:
    seen = 0
    for url, response in each_get(app, client, signed_in):
        seen += 1
        csp = directives(response.headers.get("Content-Security-Policy", ""))
        assert csp, url
        assert not any("unsafe-inline" in v or "unsafe-eval" in v for values in csp.values() for v in values), url
        assert "script-src" in csp or "default-src" in csp, url
        assert csp.get("frame-ancestors") == ["'none'"] or response.headers.get("X-Frame-Options") == "DENY", url
        assert response.headers.get("X-Frame-Options") == "DENY", url
        assert response.headers.get("X-Content-Type-Options") == "nosniff", url
        assert response.headers.get("Referrer-Policy") in ("no-referrer", "same-origin", "strict-origin"), url
    assert seen >= 25


def served(app: Flask, path: str, headers: dict[str, str]) -> Any:
    """What a client gets from a view at ``path`` that answers with ``headers`` of its own."""
    from flask import Response

    app.add_url_rule(path, "own_headers", lambda: Response("{}", headers=headers))
    return app.test_client().get(path)


def test_a_view_that_sets_its_own_security_header_keeps_it_and_gets_the_others(app: Flask) -> None:
    response = served(app, "/framed-on-purpose", {"x-frame-options": "SAMEORIGIN"})
    assert response.headers.getlist("X-Frame-Options") == ["SAMEORIGIN"]
    assert response.headers["X-Content-Type-Options"] == "nosniff" and "Content-Security-Policy" in response.headers
    assert "Cache-Control" not in response.headers


@pytest.mark.parametrize(("path", "private"), [
    ("/host/", True), ("/host", True), ("/s/abc", True), ("/s", True), ("/owner/x/dashboard", True),
    ("/join/noodle-bar", True), ("/join/noodle-bar/qr.png", False), ("/join/noodle-bar/qr.svg", False),
    ("/join/noodle-bar/qr.png/x", True), ("/api/v1/restaurants", False), ("/healthz", False), ("/", False),
])
def test_which_paths_are_never_stored(path: str, private: bool) -> None:
    from waitlist.web.pages import is_private

    assert is_private(path) is private


def test_a_private_page_s_own_cache_control_is_replaced_by_no_store(app: Flask) -> None:
    response = served(app, "/host/cached-by-mistake", {"Cache-Control": "public, max-age=600"})
    assert response.headers.getlist("Cache-Control") == ["no-store"]


def test_staff_guest_and_lobby_pages_are_never_stored_by_a_browser_or_cache(app: Flask, client: FlaskClient,
                                                                            signed_in: dict[str, str]) -> None:
    private = ("/host/", "/owner/", "/s/", "/board/")
    checked = []
    for url, response in each_get(app, client, signed_in):
        if url.startswith(private):
            checked.append(url)
            assert "no-store" in response.headers.get("Cache-Control", ""), url
    assert any(u.startswith("/host/") for u in checked) and any(u.startswith("/s/") for u in checked)
    assert any(u.startswith("/owner/") for u in checked)


def test_staff_api_answers_are_not_stored_either(client: FlaskClient, signed_in: dict[str, str],
                                                 headers: dict[str, str]) -> None:
    """Bearer-authenticated answers are private by HTTP's rules; the CSV is said to be no-store outright."""
    response = client.get(f"/api/v1/restaurants/{SLUG}/visits.csv", headers=headers)
    assert "no-store" in response.headers.get("Cache-Control", "")
    listing = client.get(f"/api/v1/restaurants/{SLUG}/parties", headers=headers)
    assert "public" not in listing.headers.get("Cache-Control", "")


@pytest.mark.parametrize("page", ["confirm", "join"])
def test_the_confirm_and_join_pages_are_never_stored(app: Flask, client: FlaskClient, restaurant: dict[str, Any],
                                                     headers: dict[str, str], page: str) -> None:
    client.patch(f"/api/v1/restaurants/{SLUG}/settings", json={"remote_join": True}, headers=headers)
    from tests.unit.test_join import pending_join

    pending = pending_join(app, phone=GUEST)
    url = f"/c/{pending.token}" if page == "confirm" else f"/join/{SLUG}"
    response = client.get(url, headers={"Accept": "text/html"})
    assert response.status_code == 200
    assert "no-store" in response.headers.get("Cache-Control", "")


# --- secrets stay out of the logs ----------------------------------------------------------------------

@pytest.fixture
def config() -> Config:
    return make_config(secret_key=SECRET_KEY, twilio_account_sid="ACtest", twilio_auth_token=TWILIO_TOKEN)


def signed_post(client: FlaskClient, path: str, form: dict[str, str], token: str = TWILIO_TOKEN) -> Any:
    signature = RequestValidator(token).compute_signature(f"https://wait.example.com{path}", form)
    return client.post(path, data=form, headers={"X-Twilio-Signature": signature})


def run_jobs(app: Flask, dispatcher: RecordingDispatcher, sender: Any) -> None:
    """The worker's part: send every text queued so far (each is sent once; re-runs return quietly)."""
    job_context.use(job_context.JobContext(waitlist=app.extensions["waitlist"], sender=sender))
    try:
        for slug, message_id in list(dispatcher.sent):
            jobs.send_text(slug, message_id)
    finally:
        job_context.use(None)


def test_no_key_token_full_phone_number_or_message_body_is_ever_logged(
        app: Flask, client: FlaskClient, dispatcher: RecordingDispatcher, redis: fakeredis.FakeRedis,
        caplog: pytest.LogCaptureFixture) -> None:
    for name in (None, "waitlist", "workers"):  # explicitly: a module elsewhere may have raised their level
        caplog.set_level(logging.DEBUG, logger=name)
    restaurant = create_restaurant(client)
    key = restaurant["api_key"]
    party = add_party(client, auth(key), name="Ana Lima", phone="(415) 555-0177")
    client.post(f"/api/v1/restaurants/{SLUG}/parties/{party['id']}/messages", json={"body": CUSTOM_BODY},
                headers=auth(key))
    client.post(f"/api/v1/restaurants/{SLUG}/parties/{party['id']}/notify", headers=auth(key))
    # wrong credentials of every kind
    client.get(f"/api/v1/restaurants/{SLUG}", headers=auth("wlk_" + "x" * 32))
    client.post("/api/v1/restaurants", json={"slug": "x"}, headers=auth("not-the-admin-token"))
    csrf = csrf_of(client.get(f"/owner/{SLUG}/signin").text)
    client.post(f"/owner/{SLUG}/signin", data={"api_key": "wlk_wrong", "csrf_token": csrf})
    sign_in(client, key, SLUG)
    run_jobs(app, dispatcher, OutboxSender(DevOutbox(redis)))  # the development sender logs each text
    notify = client.post(f"/api/v1/restaurants/{SLUG}/parties/{party['id']}/notify", headers=auth(key))
    assert notify.status_code == 200
    with TwilioServer(auth_token=TWILIO_TOKEN) as twilio:  # the real Twilio client, on loopback
        run_jobs(app, dispatcher, TwilioSender(ACCOUNT_SID, TWILIO_TOKEN, api_url=twilio.url))
        assert twilio.bodies_to(GUEST), "the Twilio client sent nothing: its logging went untested"
    # the guest texts in; a reply fails at Twilio for good
    for sid, body in (("SMin1", INBOUND_BODY), ("SMin2", "late 10")):
        signed_post(client, "/sms/inbound", {"From": GUEST, "To": "+14155550100", "Body": body, "MessageSid": sid})
    signed_post(client, "/sms/inbound", {"From": GUEST, "To": "+14155550100", "Body": "x"}, token="forged")
    failing = FakeSender()
    failing.fail_with = [PermanentSendError("twilio refused: code 21211", "21211")] * 10
    run_jobs(app, dispatcher, failing)
    signed_post(client, "/sms/inbound", {"From": GUEST, "To": "+14155550100", "Body": "STOP", "MessageSid": "SMin3"})
    signed_post(client, "/sms/status", {"MessageSid": "SMunknown", "MessageStatus": "failed", "ErrorCode": "30003"})

    logged = caplog.text + "\n".join(r.getMessage() for r in caplog.records)
    assert len(caplog.records) >= 5, "nothing was logged: the test would prove nothing"
    for secret in (key, key[4:], ADMIN_TOKEN, TWILIO_TOKEN, SECRET_KEY, GUEST, GUEST_NATIONAL, "555-0177",
                   CUSTOM_BODY, INBOUND_BODY, party["status_url"].rsplit("/", 1)[1]):
        assert secret not in logged, f"{secret!r} was logged"
    assert mask_phone(GUEST) in logged  # the number is logged masked, so guests can still be told apart


@pytest.mark.parametrize("phone", ["+14155550177", "+442079460018", "+8613800138000", "+33612345678"])
def test_a_masked_number_shows_only_its_first_two_and_last_four_characters(phone: str) -> None:
    masked = mask_phone(phone)
    assert len(masked) == len(phone) and masked.endswith(phone[-4:]) and masked.startswith(phone[:2])
    assert set(masked[2:-4]) == {"*"}


# --- staff sessions expire -----------------------------------------------------------------------------

def test_the_staff_session_lifetime_comes_from_the_configuration() -> None:
    app = create_app(make_config(session_hours=2.5), redis=fakeredis.FakeRedis(decode_responses=True),
                     dispatcher=RecordingDispatcher(), clock=Clock())
    assert app.permanent_session_lifetime == timedelta(hours=2.5)


def sign_in_at(monkeypatch: pytest.MonkeyPatch, client: FlaskClient, api_key: str, seconds_ago: float) -> None:
    """Sign in with a session cookie whose signature is dated ``seconds_ago``."""
    real = TimestampSigner.get_timestamp
    with monkeypatch.context() as patched:
        patched.setattr(TimestampSigner, "get_timestamp", lambda self: int(real(self) - seconds_ago))
        sign_in(client, api_key, SLUG)


@pytest.mark.parametrize(("age", "allowed"), [
    (timedelta(hours=11, minutes=59), True),
    (timedelta(hours=12, minutes=1), False),
    (timedelta(days=30), False),
])
def test_a_staff_session_older_than_its_lifetime_is_refused(
        app: Flask, client: FlaskClient, restaurant: dict[str, Any], monkeypatch: pytest.MonkeyPatch,
        age: timedelta, allowed: bool) -> None:
    assert app.permanent_session_lifetime == timedelta(hours=12)
    sign_in_at(monkeypatch, client, restaurant["api_key"], age.total_seconds())
    page = client.get(f"/host/{SLUG}", headers={"Accept": "text/html"})
    fragment = client.get(f"/host/{SLUG}/list", headers={"Accept": "application/json"})
    if allowed:
        assert (page.status_code, fragment.status_code) == (200, 200)
    else:
        assert page.status_code == 303 and page.headers["Location"].endswith(f"/host/{SLUG}/signin")
        assert fragment.status_code == 401


def test_a_session_cookie_signed_with_another_secret_is_refused(app: Flask, client: FlaskClient,
                                                                restaurant: dict[str, Any]) -> None:
    sign_in(client, restaurant["api_key"], SLUG)
    cookie = client.get_cookie("session")
    assert cookie is not None
    other = create_app(make_config(secret_key="another-secret"), redis=app.extensions["redis"],
                       dispatcher=RecordingDispatcher(), clock=Clock()).test_client()
    other.set_cookie("session", cookie.value)
    assert other.get(f"/host/{SLUG}", headers={"Accept": "text/html"}).status_code == 303


def copy_of_session(app: Flask, client: FlaskClient) -> FlaskClient:
    """Another browser holding a copy of ``client``'s session cookie, as a thief would."""
    cookie = client.get_cookie("session")
    assert cookie is not None
    thief = app.test_client()
    thief.set_cookie("session", cookie.value)
    return thief


def test_a_session_cookie_copied_before_sign_out_is_refused_after_it(app: Flask, client: FlaskClient,
                                                                     restaurant: dict[str, Any]) -> None:
    csrf = sign_in(client, restaurant["api_key"], SLUG)
    thief = copy_of_session(app, client)
    assert thief.get(f"/host/{SLUG}/list", headers={"Accept": "application/json"}).status_code == 200
    assert client.post(f"/host/{SLUG}/signout", data={"csrf_token": csrf}).status_code == 303
    page = thief.get(f"/host/{SLUG}", headers={"Accept": "text/html"})
    assert page.status_code == 303 and page.headers["Location"].endswith(f"/host/{SLUG}/signin")
    assert thief.get(f"/host/{SLUG}/list", headers={"Accept": "application/json"}).status_code == 401
    assert thief.get(f"/owner/{SLUG}", headers={"Accept": "text/html"}).status_code == 303
    assert not app.extensions["redis"].keys(f"wl:{{{SLUG}}}:session:*")


def test_signing_out_one_tablet_leaves_the_other_tablets_signed_in(app: Flask, client: FlaskClient,
                                                                   restaurant: dict[str, Any]) -> None:
    other = app.test_client()
    sign_in(other, restaurant["api_key"], SLUG)
    csrf = sign_in(client, restaurant["api_key"], SLUG)
    client.post(f"/host/{SLUG}/signout", data={"csrf_token": csrf})
    assert other.get(f"/host/{SLUG}/list", headers={"Accept": "application/json"}).status_code == 200


def test_rotating_the_key_still_signs_every_tablet_out(app: Flask, client: FlaskClient,
                                                       restaurant: dict[str, Any]) -> None:
    sign_in(client, restaurant["api_key"], SLUG)
    app.extensions["waitlist"].rotate_key(SLUG)
    assert client.get(f"/host/{SLUG}/list", headers={"Accept": "application/json"}).status_code == 401


def test_a_staff_session_lives_on_the_server_for_the_session_lifetime(app: Flask, client: FlaskClient,
                                                                      restaurant: dict[str, Any]) -> None:
    sign_in(client, restaurant["api_key"], SLUG)
    redis = app.extensions["redis"]
    [key] = redis.keys(f"wl:{{{SLUG}}}:session:*")
    assert 11 * 3600 < redis.ttl(key) <= 12 * 3600


# --- the phone number parser -----------------------------------------------------------------------------

REGIONS = ("US", "CA", "GB", "DE", "FR", "CN", "IN", "BR", "JP", "AU", "MX", "ES")
E164 = re.compile(r"^\+[1-9][0-9]{6,14}$")


@st.composite
def typed_numbers(draw: st.DrawFn) -> tuple[str, str, str]:
    """(what a person typed, the region it was typed in, its E.164 form) for real mobile numbers."""
    region = draw(st.sampled_from(REGIONS))
    example = phonenumbers.example_number_for_type(region, phonenumbers.PhoneNumberType.MOBILE)
    assert example is not None
    e164 = phonenumbers.format_number(example, phonenumbers.PhoneNumberFormat.E164)
    style = draw(st.sampled_from([phonenumbers.PhoneNumberFormat.NATIONAL,
                                  phonenumbers.PhoneNumberFormat.INTERNATIONAL,
                                  phonenumbers.PhoneNumberFormat.E164]))
    text = phonenumbers.format_number(example, style)
    separator = draw(st.sampled_from(["", " ", "-", "."]))
    if separator and style != phonenumbers.PhoneNumberFormat.NATIONAL:
        text = re.sub(r"(?<=\d) (?=\d)", separator, text)
    padding = st.text(alphabet=" \t", max_size=3)
    return draw(padding) + text + draw(padding), region, e164


@given(typed_numbers())
def test_a_number_typed_any_usual_way_is_stored_in_its_one_e164_form(typed: tuple[str, str, str]) -> None:
    text, region, e164 = typed
    assert normalize_phone(text, region) == e164


@given(st.text(max_size=40), st.sampled_from(REGIONS))
def test_whatever_the_parser_accepts_is_e164_and_parses_to_itself_from_any_region(raw: str, region: str) -> None:
    try:
        result = normalize_phone(raw, region)
    except Exception as exc:  # only the one documented refusal
        assert type(exc).__name__ == "InvalidInput"
        return
    assert E164.match(result)
    assert normalize_phone(result, "US") == result == normalize_phone(result, "GB")


@given(st.from_regex(E164, fullmatch=True))
def test_masking_never_shows_more_than_two_leading_and_four_trailing_characters(e164: str) -> None:
    masked = mask_phone(e164)
    assert len(masked) == len(e164)
    assert masked[:2] == e164[:2] and masked[-4:] == e164[-4:]
    assert set(masked[2:-4]) <= {"*"}


# HMAC pads keys with NUL bytes, so "k" and "k\0" are the same key: secrets here have no NUL.
SECRETS = st.text(alphabet=st.characters(exclude_characters="\x00", exclude_categories=("Cs",)),
                  min_size=1, max_size=20)
"""Environment variables cannot hold lone surrogates, so secrets here do not either."""


@given(st.from_regex(E164, fullmatch=True), SECRETS, SECRETS)
def test_a_phone_digest_is_stable_keyed_and_never_holds_the_number(e164: str, secret: str, other: str) -> None:
    digest = phone_digest(secret, e164)
    assert digest == phone_digest(secret, e164) and re.fullmatch(r"[0-9a-f]{64}", digest)
    assert e164[1:] not in digest or len(e164) < 8
    if other != secret:
        assert phone_digest(other, e164) != digest


# --- the SMS command parser ---------------------------------------------------------------------------

PUNCTUATION = " \t\n.,!?;:-_*'\"()[]…¡¿"


def fullwidth(text: str) -> str:
    return "".join(chr(ord(c) + 0xFEE0) if c in string.ascii_letters + string.digits else c for c in text)


@st.composite
def spelled(draw: st.DrawFn, words: set[str]) -> str:
    """A keyword as a guest might type it: any case, punctuation around and between letters, maybe fullwidth."""
    word = draw(st.sampled_from(sorted(w for w in words if w.isascii())))
    cased = "".join(c.lower() if draw(st.booleans()) else c for c in word)
    joined = "".join(c + draw(st.text(alphabet=PUNCTUATION, max_size=1)) for c in cased)
    text = draw(st.text(alphabet=PUNCTUATION, max_size=4)) + joined + draw(st.text(alphabet=PUNCTUATION, max_size=4))
    if text.strip() == "?":
        text = word
    return fullwidth(text) if draw(st.booleans()) else text


@given(spelled(STOP_WORDS))
def test_any_stop_word_in_any_case_or_punctuation_opts_out(body: str) -> None:
    assert parse(body).intent == Intent.STOP


@given(spelled(START_WORDS))
def test_any_start_word_in_any_case_or_punctuation_opts_back_in(body: str) -> None:
    assert parse(body).intent == Intent.START


@pytest.mark.parametrize(("words", "intent"), [(HELP_WORDS, Intent.HELP), (LEAVE_WORDS, Intent.LEAVE)])
def test_help_and_leave_words_survive_case_and_punctuation_too(words: set[str], intent: Intent) -> None:
    @given(spelled(words))
    @settings(max_examples=50)
    def check(body: str) -> None:
        assert parse(body).intent == intent

    check()


@given(st.text(max_size=200))
def test_any_text_parses_to_one_intent_with_values_in_range(body: str) -> None:
    command = parse(body)
    assert isinstance(command.intent, Intent)
    if command.intent == Intent.LATE:
        assert command.minutes is not None and 1 <= command.minutes <= 30
    if command.intent == Intent.JOIN:
        assert command.party_size is None or 0 <= command.party_size <= 999
        assert command.name is None or (0 < len(command.name) <= 60 and command.name == command.name.strip())
    if command.intent == Intent.RATING:
        assert command.rating in range(1, 6)
    rating = rating_of(body)
    assert rating is None or 1 <= rating <= 5


@given(st.sampled_from(sorted(STOP_WORDS)), st.text(alphabet=string.ascii_letters, min_size=1, max_size=8))
def test_a_stop_word_inside_a_longer_message_is_not_an_opt_out(word: str, extra: str) -> None:
    """"stop by at 8?" is a question for the host, not an opt-out: only the whole message counts."""
    body = f"{word} {extra} please"
    assert parse(body).intent != Intent.STOP


@pytest.fixture
def open_list(client: FlaskClient, restaurant: dict[str, Any], headers: dict[str, str]) -> None:
    """Remote joins on and the guest on the list, so texts reach JOIN, LATE, LEAVE, STOP and the rest."""
    client.patch(f"/api/v1/restaurants/{SLUG}/settings", json={"remote_join": True}, headers=headers)
    add_party(client, headers, phone=GUEST)


@given(body=st.one_of(st.text(max_size=300), st.sampled_from(["JOIN 4 Ana", "late 45", "9", "1", "STOP", "START",
                                                               "?", "5", "排队 3", "HELP"])),
       sender=st.sampled_from([GUEST, "+14155550188", "not a number", "", "+1"]))
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_any_text_from_anyone_is_acted_on_or_ignored_never_a_server_error(
        client: FlaskClient, open_list: None, body: str, sender: str) -> None:
    """The inbound webhook runs the parser and the use cases on strangers' text: it must always answer."""
    response = signed_post(client, "/sms/inbound", {"From": sender, "To": "+14155550100", "Body": body,
                                                    "MessageSid": "SM" + phone_digest("sid", sender + body)[:32]})
    assert response.status_code == 200 and "<Response></Response>" in response.get_data(as_text=True)
