"""The pages over the Flask test client: sessions, CSRF, escaping, what each page may show."""
from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import fakeredis
import pytest
from flask import Flask
from flask.testing import FlaskClient
from markupsafe import escape

from tests.conftest import add_party, auth, create_restaurant, make_config
from tests.fakes import Clock, RecordingDispatcher
from waitlist.store import dev_outbox_key, dev_replies_key, events_key
from waitlist.store.events import EventFeed
from waitlist.web import live, page_models
from waitlist.web.app import create_app
from waitlist.web.fanout import Hub

XSS = "<script>alert(1)</script>"
HTML = {"Accept": "text/html"}
TEMPLATES = Path(__file__).resolve().parents[2] / "waitlist" / "web" / "templates"


def csrf_of(html: str) -> str:
    found = re.search(r'(?:name="csrf_token" value|data-csrf)="([^"]+)"', html)
    assert found, "the page carries no CSRF token"
    return found.group(1)


def sign_in(client: FlaskClient, api_key: str, slug: str = "noodle-bar") -> str:
    """Sign in through the form; returns the session's CSRF token."""
    token = csrf_of(client.get(f"/host/{slug}/signin").text)
    response = client.post(f"/host/{slug}/signin", data={"api_key": api_key, "csrf_token": token})
    assert response.status_code == 303, response.text
    return csrf_of(client.get(f"/host/{slug}").text)


def fetch_headers(token: str) -> dict[str, str]:
    return {"X-CSRF-Token": token, "X-Requested-With": "fetch", "Accept": "application/json"}


def token_of(party: dict[str, Any]) -> str:
    return str(party["status_url"].rsplit("/", 1)[1])


# --- signing in ----------------------------------------------------------------------------------------

def test_host_page_without_a_session_redirects_to_sign_in(client: FlaskClient, restaurant: dict[str, Any]) -> None:
    response = client.get("/host/noodle-bar", headers=HTML)
    assert response.status_code == 303
    assert response.headers["Location"].endswith("/host/noodle-bar/signin")


def test_a_wrong_staff_key_is_refused_beside_the_field(client: FlaskClient, restaurant: dict[str, Any]) -> None:
    token = csrf_of(client.get("/host/noodle-bar/signin").text)
    response = client.post("/host/noodle-bar/signin", data={"api_key": "wlk_wrong", "csrf_token": token})
    assert response.status_code == 401
    assert "That key is not valid." in response.text
    cookie = client.get_cookie("session")
    assert cookie is None or "hosts" not in cookie.value


def test_signing_in_sets_an_http_only_same_site_session_that_expires(client: FlaskClient, app: Flask,
                                                                     restaurant: dict[str, Any]) -> None:
    token = csrf_of(client.get("/host/noodle-bar/signin").text)
    response = client.post("/host/noodle-bar/signin", data={"api_key": restaurant["api_key"], "csrf_token": token})
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Expires=" in cookie
    assert "Secure" in cookie  # the public URL is https
    assert restaurant["api_key"] not in cookie
    assert app.permanent_session_lifetime.total_seconds() == 12 * 3600


def test_rotating_the_staff_key_signs_every_tablet_out(client: FlaskClient, app: Flask,
                                                       restaurant: dict[str, Any]) -> None:
    sign_in(client, restaurant["api_key"])
    assert client.get("/host/noodle-bar").status_code == 200
    app.extensions["waitlist"].rotate_key("noodle-bar")
    assert client.get("/host/noodle-bar").status_code == 303
    assert client.get("/host/noodle-bar/list", headers={"Accept": "application/json"}).status_code == 401


def test_signing_out_ends_the_session(client: FlaskClient, restaurant: dict[str, Any]) -> None:
    token = sign_in(client, restaurant["api_key"])
    client.post("/host/noodle-bar/signout", data={"csrf_token": token})
    assert client.get("/host/noodle-bar").status_code == 303


def test_a_session_for_one_restaurant_does_not_open_another(client: FlaskClient, restaurant: dict[str, Any]) -> None:
    create_restaurant(client, slug="taco-stand", name="Taco Stand", sms_from="+14155550111")
    sign_in(client, restaurant["api_key"])
    assert client.get("/host/taco-stand").status_code == 303


def test_a_post_without_the_csrf_token_is_refused(client: FlaskClient, restaurant: dict[str, Any]) -> None:
    sign_in(client, restaurant["api_key"])
    response = client.post("/host/noodle-bar/parties",
                           data={"name": "Ana", "phone": "+14155552671", "party_size": "2"},
                           headers={"Accept": "application/json"})
    assert response.status_code == 403
    assert client.get("/host/noodle-bar/list").text.count('class="party ') == 0


# --- the host stand ------------------------------------------------------------------------------------

def test_adding_a_party_with_the_form_puts_it_on_the_list(client: FlaskClient, restaurant: dict[str, Any],
                                                          dispatcher: RecordingDispatcher) -> None:
    token = sign_in(client, restaurant["api_key"])
    response = client.post("/host/noodle-bar/parties", data={
        "csrf_token": token, "name": "Ana Lima", "phone": "(415) 555-2671", "party_size": "4", "notes": "high chair",
        "seating": "outdoor", "language": ""})
    assert response.status_code == 303
    listing = client.get("/host/noodle-bar/list").text
    assert "Ana Lima" in listing and "high chair" in listing and "outdoor" in listing
    assert len(dispatcher.sent) == 1  # the guest is texted their place


def test_a_bad_phone_re_renders_the_form_with_the_error_beside_the_field(client: FlaskClient,
                                                                         restaurant: dict[str, Any]) -> None:
    token = sign_in(client, restaurant["api_key"])
    response = client.post("/host/noodle-bar/parties", data={"csrf_token": token, "name": "Ana", "phone": "12",
                                                              "party_size": "2"})
    assert response.status_code == 400
    assert re.search(r'data-error-for="phone">[^<]*not a', response.text)
    assert 'value="Ana"' in response.text


def test_a_bad_party_size_from_script_answers_json_field_errors(client: FlaskClient,
                                                                restaurant: dict[str, Any]) -> None:
    token = sign_in(client, restaurant["api_key"])
    response = client.post("/host/noodle-bar/parties", data={"name": "Ana", "phone": "+14155552671",
                                                              "party_size": "two"}, headers=fetch_headers(token))
    assert response.status_code == 400
    assert "party_size" in response.get_json()["error"]["fields"]


def test_the_quote_for_a_size_is_available_before_saving(client: FlaskClient, restaurant: dict[str, Any]) -> None:
    sign_in(client, restaurant["api_key"])
    body = client.get("/host/noodle-bar/quote?party_size=4").get_json()
    assert body["party_size"] == 4 and re.fullmatch(r"\d+-\d+", body["range"])


def test_host_actions_notify_seat_and_undo_within_a_minute(client: FlaskClient, restaurant: dict[str, Any],
                                                          headers: dict[str, str], clock: Clock) -> None:
    token = sign_in(client, restaurant["api_key"])
    party = add_party(client, headers)
    base = f"/host/noodle-bar/parties/{party['id']}"
    assert client.post(f"{base}/notify", headers=fetch_headers(token)).get_json()["status"] == "notified"
    assert client.post(f"{base}/seat", headers=fetch_headers(token)).get_json()["status"] == "seated"
    assert "Undo" in client.get("/host/noodle-bar/list").text
    assert client.post(f"{base}/undo", headers=fetch_headers(token)).get_json()["status"] == "notified"
    client.post(f"{base}/remove", headers=fetch_headers(token))
    clock.advance(61)
    assert "Undo" not in client.get("/host/noodle-bar/list").text
    assert client.post(f"{base}/undo", headers=fetch_headers(token)).status_code == 409


def test_moving_a_party_down_and_editing_it(client: FlaskClient, restaurant: dict[str, Any],
                                            headers: dict[str, str]) -> None:
    token = sign_in(client, restaurant["api_key"])
    first, second = add_party(client, headers, name="First"), add_party(client, headers, name="Second")
    assert client.post(f"/host/noodle-bar/parties/{first['id']}/down", headers=fetch_headers(token)).status_code == 204
    listing = client.get("/host/noodle-bar/list").text
    assert listing.index("Second") < listing.index("First")
    response = client.post(f"/host/noodle-bar/parties/{second['id']}/edit", headers=fetch_headers(token),
                           data={"name": "Second Party", "party_size": "5", "notes": ""})
    assert response.status_code == 204
    assert "Second Party" in client.get("/host/noodle-bar/list").text


def test_minutes_waited_turn_red_when_over_the_quote(client: FlaskClient, restaurant: dict[str, Any],
                                                     headers: dict[str, str], clock: Clock) -> None:
    sign_in(client, restaurant["api_key"])
    add_party(client, headers)
    clock.advance(3 * 3600)
    assert "wait over" in client.get("/host/noodle-bar/list").text


def test_the_conversation_drawer_shows_replies_and_sends_a_text(client: FlaskClient, restaurant: dict[str, Any],
                                                                headers: dict[str, str]) -> None:
    token = sign_in(client, restaurant["api_key"])
    party = add_party(client, headers)
    base = f"/host/noodle-bar/parties/{party['id']}"
    assert client.post(f"{base}/messages", data={"body": XSS}, headers=fetch_headers(token)).status_code == 204
    drawer = client.get(f"{base}/conversation").text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in drawer and XSS not in drawer


def pending_join(app: Flask, name: str = "Remote Guest", phone: str = "+14155552699") -> Any:
    """A remote join the guest has not confirmed yet (as the join page made them before join codes)."""
    from tests.unit.test_join import pending_join as made_before_codes

    waitlist = app.extensions["waitlist"]
    waitlist.update_settings(waitlist.restaurant("noodle-bar"), {"remote_join": True})
    return made_before_codes(app, name=name, phone=phone)


def section(listing: str, css_class: str) -> str:
    """One of the list's sections (called, waiting, pending): its <ol> up to the next list."""
    found = re.search(rf'<ol class="parties {css_class}".*?</ol>', listing, re.S)
    return found.group(0) if found else ""


def test_every_field_error_is_shown_at_once_beside_its_field(client: FlaskClient, restaurant: dict[str, Any]) -> None:
    token = sign_in(client, restaurant["api_key"])
    form = {"name": "", "phone": "12", "party_size": "99", "notes": "x" * 300}
    answer = client.post("/host/noodle-bar/parties", data=form, headers=fetch_headers(token)).get_json()
    fields = answer["error"]["fields"]
    assert {"name", "notes"} <= set(fields)  # whatever else the server finds wrong, and in whatever words
    response = client.post("/host/noodle-bar/parties", data={"csrf_token": token, **form})
    assert response.status_code == 400
    for name, messages in fields.items():
        shown = re.search(rf'data-error-for="{name}">([^<]*)<', response.text)
        assert shown and shown.group(1) == str(escape(" ".join(messages))), name
    assert response.text.count('aria-invalid="true"') == len(fields)
    assert re.search(r'id="add-name"[^>]*autofocus', response.text)  # the first field in error


def test_the_name_field_is_focused_on_load_and_the_note_limit_is_the_servers(client: FlaskClient,
                                                                              restaurant: dict[str, Any]) -> None:
    sign_in(client, restaurant["api_key"])
    page = client.get("/host/noodle-bar").text
    assert re.search(r'id="add-name"[^>]*autofocus', page)
    limit = int(re.search(r'id="add-notes" name="notes" maxlength="(\d+)"', page).group(1))  # type: ignore[union-attr]
    assert f'data-max="{limit}"' in page and f"0 / {limit}" in page
    token = csrf_of(page)
    add = {"csrf_token": token, "name": "Ana", "party_size": "2"}
    assert client.post("/host/noodle-bar/parties", data={**add, "phone": "+14155552671",
                                                        "notes": "x" * limit}).status_code == 303
    refused = client.post("/host/noodle-bar/parties", data={**add, "phone": "+14155552672",
                                                           "notes": "x" * (limit + 1)})
    assert refused.status_code == 400 and re.search(r'data-error-for="notes">[^<]+<', refused.text)


def test_called_parties_are_on_top_with_their_hold_and_seat_as_the_one_button(
        client: FlaskClient, app: Flask, restaurant: dict[str, Any], headers: dict[str, str]) -> None:
    token = sign_in(client, restaurant["api_key"])
    add_party(client, headers, name="Waiting Party")
    called = add_party(client, headers, name="Called Party")
    client.post(f"/host/noodle-bar/parties/{called['id']}/notify", headers=fetch_headers(token))
    listing = client.get("/host/noodle-bar/list").text
    assert listing.index('class="parties called"') < listing.index('class="parties waiting"')
    top = section(listing, "called")
    assert "Called Party" in top and "Waiting Party" not in top
    hold = app.extensions["waitlist"].restaurant("noodle-bar").settings.hold_minutes * 60
    assert f'data-countdown="{int(hold)}"' in top and re.search(r"until </span>\d\d:\d\d", top)
    assert re.search(r'main-action">\s*<form[^>]*/seat"', top)
    assert re.search(r'main-action">\s*<form[^>]*/notify"', section(listing, "waiting"))


def test_an_unconfirmed_remote_join_awaits_confirmation_without_notify_or_seat(
        client: FlaskClient, app: Flask, restaurant: dict[str, Any], headers: dict[str, str]) -> None:
    sign_in(client, restaurant["api_key"])
    add_party(client, headers, name="Waiting Party")
    party = pending_join(app)
    listing = client.get("/host/noodle-bar/list").text
    pending = section(listing, "pending")
    assert "Remote Guest" in pending and "awaiting confirmation" in pending and "Called" not in pending
    assert f"/parties/{party.id}/notify" not in listing and f"/parties/{party.id}/seat" not in listing
    assert f"/parties/{party.id}/remove" in pending
    assert 'id="pending-title">Awaiting confirmation<' in listing


def test_flags_and_badges_are_icons_that_carry_their_words(client: FlaskClient, restaurant: dict[str, Any],
                                                           headers: dict[str, str]) -> None:
    sign_in(client, restaurant["api_key"])
    party = add_party(client, headers, tags=["vip"], seating="outdoor")
    client.post(f"/s/{token_of(party)}/late")
    listing = client.get("/host/noodle-bar/list").text
    for label in ("running late", "VIP", "outdoor seating"):
        assert re.search(rf'role="img" tabindex="0" title="{label}" aria-label="{label}"', listing), label


def test_a_walk_in_who_says_they_are_here_shows_as_here(client: FlaskClient, restaurant: dict[str, Any],
                                                        headers: dict[str, str]) -> None:
    sign_in(client, restaurant["api_key"])
    party = add_party(client, headers)
    assert client.post(f"/api/v1/restaurants/noodle-bar/parties/{party['id']}/check-in",
                       headers=headers).status_code == 200
    listing = client.get("/host/noodle-bar/list").text
    assert re.search(r'role="img" tabindex="0" title="here" aria-label="here"', listing)


def test_the_host_sets_a_quote_in_one_tap_and_the_form_post_is_csrf_checked(
        client: FlaskClient, app: Flask, restaurant: dict[str, Any], headers: dict[str, str]) -> None:
    token = sign_in(client, restaurant["api_key"])
    party = add_party(client, headers)
    url = f"/host/noodle-bar/parties/{party['id']}/quote"
    assert client.post(url, data={"minutes": "45"}).status_code == 403
    assert client.post(url, data={"csrf_token": token, "minutes": "45"}).status_code == 303
    shown = client.get(f"/api/v1/restaurants/noodle-bar/parties/{party['id']}", headers=headers).get_json()
    assert shown["quote_minutes"] == 45 and shown["quote_overridden"] is True
    assert re.search(r'class="quoted set">/45<', client.get("/host/noodle-bar/list").text)
    refused = client.post(url, data={"minutes": "lots"}, headers=fetch_headers(token))
    assert refused.status_code == 400 and "quote_minutes" in refused.get_json()["error"]["fields"]


def test_a_preset_quote_at_add_time_replaces_the_estimate(client: FlaskClient, restaurant: dict[str, Any],
                                                          headers: dict[str, str]) -> None:
    token = sign_in(client, restaurant["api_key"])
    response = client.post("/host/noodle-bar/parties", headers=fetch_headers(token), data={
        "name": "Ana Lima", "phone": "+14155552671", "party_size": "2", "quote_minutes": "30"})
    assert response.status_code == 201
    shown = client.get(f"/api/v1/restaurants/noodle-bar/parties/{response.get_json()['id']}",
                       headers=headers).get_json()
    assert shown["quote_minutes"] == 30 and shown["quote_overridden"] is True


def test_a_notify_can_be_undone_from_the_partys_menu_within_the_minute(
        client: FlaskClient, restaurant: dict[str, Any], headers: dict[str, str], clock: Clock) -> None:
    token = sign_in(client, restaurant["api_key"])
    party = add_party(client, headers)
    base = f"/host/noodle-bar/parties/{party['id']}"
    client.post(f"{base}/notify", headers=fetch_headers(token))
    assert f'{base}/undo"' in section(client.get("/host/noodle-bar/list").text, "called")
    assert client.post(f"{base}/undo", headers=fetch_headers(token)).get_json()["status"] == "waiting"
    client.post(f"{base}/notify", headers=fetch_headers(token))
    clock.advance(61)
    assert f'{base}/undo"' not in client.get("/host/noodle-bar/list").text


def test_staff_pages_are_never_cached_and_allow_no_inline_script(client: FlaskClient,
                                                                 restaurant: dict[str, Any]) -> None:
    sign_in(client, restaurant["api_key"])
    response = client.get("/host/noodle-bar")
    assert response.headers["Cache-Control"] == "no-store"
    csp = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert response.headers["Referrer-Policy"] == "no-referrer"


@pytest.mark.parametrize("template", sorted(p.name for p in TEMPLATES.glob("*.html")))
def test_templates_have_no_inline_script_or_event_handlers(template: str) -> None:
    text = (TEMPLATES / template).read_text()
    assert not re.search(r"<script(?![^>]*\bsrc=)", text)
    assert not re.search(r"\son[a-z]+\s*=", text)
    assert "javascript:" not in text and "|safe" not in text.replace(" ", "")


# --- escaping and what public pages show ---------------------------------------------------------------

def test_a_script_name_is_escaped_on_every_page(client: FlaskClient, restaurant: dict[str, Any],
                                                headers: dict[str, str]) -> None:
    sign_in(client, restaurant["api_key"])
    party = add_party(client, headers, name=XSS, notes=XSS)
    client.post(f"/api/v1/restaurants/noodle-bar/parties/{party['id']}/notify", headers=headers)
    for path in ("/host/noodle-bar", "/host/noodle-bar/list", f"/s/{token_of(party)}", "/board/noodle-bar"):
        text = client.get(path).text
        assert XSS not in text, path
    assert "&lt;script&gt;" in client.get("/host/noodle-bar/list").text


def test_the_guest_page_shows_place_estimate_and_never_the_phone(client: FlaskClient, restaurant: dict[str, Any],
                                                                 headers: dict[str, str]) -> None:
    add_party(client, headers, name="Someone Else")
    party = add_party(client, headers, name="Ana Lima", party_size=3)
    page = client.get(f"/s/{token_of(party)}")
    assert page.status_code == 200 and page.headers["Cache-Control"] == "no-store"
    text = page.text
    assert "Noodle Bar" in text and "Ana Lima" in text and "Party of 3" in text
    assert re.search(r'id="position">2<', text) and re.search(r'id="estimate">\d+-\d+ min<', text)
    assert party["phone"] not in text and party["phone"][-4:] not in text and "Someone Else" not in text


def test_the_guest_page_says_table_ready_with_the_hold_time(client: FlaskClient, restaurant: dict[str, Any],
                                                            headers: dict[str, str]) -> None:
    party = add_party(client, headers)
    client.post(f"/api/v1/restaurants/noodle-bar/parties/{party['id']}/notify", headers=headers)
    text = client.get(f"/s/{token_of(party)}/status").text
    assert "Your table is ready" in text and re.search(r"Held for you until \d\d:\d\d", text)


def test_the_guest_page_speaks_chinese_to_a_chinese_party(client: FlaskClient, restaurant: dict[str, Any],
                                                          headers: dict[str, str]) -> None:
    party = add_party(client, headers, language="zh")
    text = client.get(f"/s/{token_of(party)}").text
    assert 'lang="zh-Hans"' in text and "排队位置" in text and "退出候位" in text


def test_an_unknown_guest_link_shows_a_friendly_404_page(client: FlaskClient) -> None:
    response = client.get("/s/not-a-real-token", headers=HTML)
    assert response.status_code == 404
    assert "This link has expired" in response.text and response.mimetype == "text/html"


def test_a_guest_can_say_they_are_late_and_leave_from_their_page(client: FlaskClient, restaurant: dict[str, Any],
                                                                 headers: dict[str, str]) -> None:
    party = add_party(client, headers)
    token = token_of(party)
    assert client.post(f"/s/{token}/late").status_code == 303
    assert "running_late" in client.get(f"/api/v1/restaurants/noodle-bar/parties/{party['id']}",
                                        headers=headers).get_json()["flags"]
    assert client.post(f"/s/{token}/leave").status_code == 303
    assert "no longer on the waitlist" in client.get(f"/s/{token}").text


def test_the_lobby_screen_shows_first_names_with_an_initial_and_waits(client: FlaskClient,
                                                                      restaurant: dict[str, Any],
                                                                      headers: dict[str, str]) -> None:
    called = add_party(client, headers, name="Margaret Hamilton")
    add_party(client, headers, name="Barbara Liskov", notes="allergic to nuts")
    client.post(f"/api/v1/restaurants/noodle-bar/parties/{called['id']}/notify", headers=headers)
    text = client.get("/board/noodle-bar").text
    assert "Margaret H." in text and "Hamilton" not in text and "Liskov" not in text and "nuts" not in text
    assert re.search(r'id="waiting-count">1<', text) and "1–2 guests" in text
    assert called["phone"] not in text


@pytest.mark.parametrize("name, shown", [("Ana Lima", "Ana L."), ("Ana", "Ana"), ("ana de la cruz", "ana C."),
                                         ("  ", "")])
def test_short_names_keep_the_first_name_and_last_initial(name: str, shown: str) -> None:
    assert page_models.short_name(name) == shown


# --- live updates --------------------------------------------------------------------------------------

def test_the_event_stream_says_changed_at_connect_and_after_each_change() -> None:
    redis = fakeredis.FakeRedis(decode_responses=True)
    first = str(redis.xadd(events_key("noodle-bar"), {"type": "join", "party": "p1"}))
    hub = Hub(EventFeed(redis), autostart=False)
    stream = live.changes(hub.subscribe("noodle-bar", "10.0.0.1", public=True), staff=False, sleep=lambda _: None)
    assert next(stream) == f"retry: 1000\nevent: changed\ndata: {first}\n\n"
    second = str(redis.xadd(events_key("noodle-bar"), {"type": "status", "party": "p1"}))
    hub.pump("noodle-bar", block_seconds=0.001)
    assert next(stream) == f"event: changed\ndata: {second}\n\n"  # the entry id, no party's details


def test_a_quiet_event_stream_sends_heartbeats_and_ends_after_its_lifetime_with_a_retry_hint() -> None:
    redis = fakeredis.FakeRedis(decode_responses=True)
    hub = Hub(EventFeed(redis), autostart=False)
    ticks = iter(range(100))
    lines = list(live.changes(hub.subscribe("quiet", "10.0.0.1", public=True), staff=False, lifetime_seconds=40,
                              heartbeat_seconds=0.001, clock=lambda: float(next(ticks))))
    assert lines[0].startswith("retry:") and ": keep-alive\n\n" in lines[1:]
    assert all(not line.startswith("event:") for line in lines[1:])
    assert lines[-1].startswith("retry: ") and hub.open_streams()["all"] == 0  # its place is freed


def test_a_staff_event_stream_ends_when_the_key_no_longer_matches() -> None:
    redis = fakeredis.FakeRedis(decode_responses=True)
    hub = Hub(EventFeed(redis), autostart=False)
    subscription = hub.subscribe("noodle-bar", "10.0.0.1", public=False)
    subscription.offer("1-1", {"p1"}, False)
    lines = list(live.changes(subscription, staff=True, still_allowed=lambda: False, sleep=lambda _: None))
    assert len(lines) == 1 and "p1" not in lines[0]  # nothing more is told to a signed-out tablet


def test_the_host_event_stream_needs_a_session(client: FlaskClient, restaurant: dict[str, Any]) -> None:
    assert client.get("/host/noodle-bar/events", headers={"Accept": "text/event-stream"}).status_code == 401


def test_event_streams_answer_as_uncached_event_streams(client: FlaskClient, restaurant: dict[str, Any],
                                                        headers: dict[str, str]) -> None:
    party = add_party(client, headers)
    for path in (f"/s/{token_of(party)}/events", "/board/noodle-bar/events"):
        response = client.get(path, buffered=False)
        assert response.mimetype == "text/event-stream" and response.headers["Cache-Control"] == "no-store"
        first: Any = next(iter(response.response))
        assert (first if isinstance(first, str) else first.decode()).startswith("retry:")
        response.close()


# --- the development phone -----------------------------------------------------------------------------

def test_the_development_phone_is_hidden_outside_development(client: FlaskClient) -> None:
    assert client.get("/dev/phone", headers=HTML).status_code == 404


@pytest.fixture
def dev_client() -> FlaskClient:
    app = create_app(make_config(development=True), redis=fakeredis.FakeRedis(decode_responses=True),
                     dispatcher=RecordingDispatcher(), clock=Clock())
    app.testing = True
    return app.test_client()


def test_a_reply_from_the_development_phone_goes_through_the_inbound_path(dev_client: FlaskClient) -> None:
    restaurant = create_restaurant(dev_client)
    party = add_party(dev_client, auth(restaurant["api_key"]), phone="+14155552671")
    token = csrf_of(dev_client.get("/dev/phone").text)
    response = dev_client.post("/dev/phone/reply", data={"csrf_token": token, "number": "+14155552671",
                                                         "to": restaurant["sms_from"], "body": "LATE"})
    assert response.status_code == 303
    shown = dev_client.get(f"/api/v1/restaurants/noodle-bar/parties/{party['id']}",
                           headers=auth(restaurant["api_key"])).get_json()
    assert "running_late" in shown["flags"]
    chat = dev_client.get("/dev/phone/chat?number=%2B14155552671").text
    assert "LATE" in chat
    assert dev_client.application.extensions["redis"].llen(dev_replies_key()) == 1


def test_the_development_phone_shows_each_numbers_texts_with_the_status_link(dev_client: FlaskClient) -> None:
    redis = dev_client.application.extensions["redis"]
    for to, body in (("+14155552671", "Noodle Bar: You're #1. https://wait.example.com/s/abc <b>"),
                     ("+14155552672", "Noodle Bar: someone else")):
        redis.lpush(dev_outbox_key(), json.dumps({"sid": "SM1", "to": to, "from": "+14155550100", "body": body,
                                            "at": 1.0}))
    text = dev_client.get("/dev/phone?number=%2B14155552671").text
    assert '<a href="https://wait.example.com/s/abc"' in text and "&lt;b&gt;" in text
    assert "someone else" not in text and "+14155552672" in text
