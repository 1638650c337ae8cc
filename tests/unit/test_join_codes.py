"""Remote join without texting strangers: the join page gives a code, the guest's own text joins them.

Texts arrive through the signed Twilio webhook, as in production. "No text to a number that did not text
first" is checked on what the store recorded (every outbound text is recorded before any send), not only
on what was sent.
"""
from __future__ import annotations

import re
from typing import Any

import fakeredis
import pytest
from flask import Flask
from flask.testing import FlaskClient

from config import Config
from tests.conftest import make_config, next_phone
from tests.fakes import Clock, RecordingDispatcher
from tests.unit.test_join import csrf, parties, remote_on
from tests.unit.test_webhooks import AUTH_TOKEN, text_in
from waitlist.domain.errors import JoinCodeLimit
from waitlist.domain.join_codes import (
    CODE_ALPHABET,
    JOIN_CODE_SECONDS,
    JOIN_CODES_PER_ADDRESS,
    JOIN_CODES_PER_RESTAURANT,
    JOIN_ERROR_REPLY_SECONDS,
    looks_like_code,
    new_join_code,
    read_join_code,
    sms_link,
)
from waitlist.texting import texts
from waitlist.texting.commands import Intent, parse

SLUG = "noodle-bar"
BASE = f"/api/v1/restaurants/{SLUG}"


@pytest.fixture
def config() -> Config:
    return make_config(twilio_account_sid="ACtest", twilio_auth_token=AUTH_TOKEN)


@pytest.fixture
def remote(client: FlaskClient, headers: dict[str, str]) -> None:
    remote_on(client, headers)


def open_code(client: FlaskClient, address: str = "203.0.113.7", lang: str = "en", **form: Any) -> tuple[str, str]:
    """The join form sent from ``address``: (the code page's path, the code it shows)."""
    data = {"name": "Ana Lima", "party_size": "3", "csrf_token": csrf(client), "language": lang, **form}
    response = client.post(f"/join/{SLUG}?lang={lang}", data=data, environ_base={"REMOTE_ADDR": address})
    assert response.status_code == 303, response.get_data(as_text=True)
    path = response.headers["Location"].split("?")[0]
    page = client.get(path).get_data(as_text=True)
    return path, re.search(r'id="join-code"[^>]*>([A-Z0-9]+)<', page).group(1)  # type: ignore[union-attr]


def outbound_texts(redis: fakeredis.FakeRedis) -> list[dict[str, str]]:
    """Every outbound text the store recorded for the restaurant, sent or not."""
    found = [redis.hgetall(key) for key in redis.scan_iter(f"wl:{{{SLUG}}}:msg:*")]
    return [message for message in found if message.get("direction") == "out"]


def replies_to(redis: fakeredis.FakeRedis, phone: str) -> list[str]:
    """The kinds of the texts recorded to ``phone``, sorted (the test clock stands still: no order)."""
    return sorted(m["kind"] for m in outbound_texts(redis) if m["to"] == phone)


def state(client: FlaskClient, path: str) -> dict[str, Any]:
    response = client.get(f"{path}/state")
    assert response.status_code == 200
    return dict(response.get_json())


# --- the code itself -------------------------------------------------------------------------------------

def test_codes_use_an_alphabet_without_look_alikes_and_always_read_as_codes() -> None:
    assert not set("0O1IL2Z5S8B6G") & set(CODE_ALPHABET)
    for _ in range(500):
        code = new_join_code()
        assert len(code) == 5 and read_join_code(code) == code and read_join_code(code.lower()) == code


@pytest.mark.parametrize(("body", "code"), [
    ("JOIN K7Q4X", "K7Q4X"), ("join k7q4x", "K7Q4X"), ("Join: K7Q4X.", "K7Q4X"), ("ＪＯＩＮ　Ｋ７Ｑ４Ｘ", "K7Q4X"),
    ("加入 K7Q4X", "K7Q4X"), ("排队k7q4x", "K7Q4X"), ("K7Q4X", "K7Q4X"), ("k7q4x!", "K7Q4X"),
    ("JOIN K7Q40", "K7Q40"),  # a mistyped code is still read as a code (and is unknown), not as a name
])
def test_a_texted_code_is_read_whatever_its_case_width_or_keyword(body: str, code: str) -> None:
    command = parse(body)
    assert command.intent == Intent.JOIN and command.code == code


@pytest.mark.parametrize(("body", "size", "name"), [
    ("JOIN 4 Ana", 4, "Ana"), ("JOIN 4ANNA", 4, "ANNA"), ("join wynne", None, "wynne"), ("JOIN 2", 2, None),
])
def test_join_with_a_size_and_a_name_is_not_mistaken_for_a_code(body: str, size: int | None, name: str | None) -> None:
    command = parse(body)
    assert (command.intent, command.code, command.party_size, command.name) == (Intent.JOIN, None, size, name)


def test_a_bare_word_is_a_code_only_when_it_can_be_one() -> None:
    assert parse("K7Q40").intent == Intent.OTHER and looks_like_code("K7Q40") == "K7Q40"
    assert read_join_code("K7Q40") is None and parse("HELLO").intent == Intent.OTHER


def test_the_sms_link_fills_in_the_number_and_the_text_on_ios_and_android() -> None:
    assert sms_link("+14155550100", "K7Q4X") == "sms:+14155550100?&body=JOIN%20K7Q4X"


# --- the flow ---------------------------------------------------------------------------------------------

def test_the_join_page_asks_for_no_number(client: FlaskClient, remote: None) -> None:
    page = client.get(f"/join/{SLUG}").get_data(as_text=True)
    assert 'name="phone"' not in page and 'type="tel"' not in page and "text us a short code" in page


def test_the_code_page_shows_the_code_a_link_that_writes_the_text_and_plain_instructions(
        client: FlaskClient, remote: None) -> None:
    path, code = open_code(client)
    page = client.get(path).get_data(as_text=True)
    assert f'href="sms:+14155550100?&amp;body=JOIN%20{code}"' in page
    assert f"Or text JOIN {code} to (415) 555-0100 from your phone." in re.sub("<[^>]+>", "", page)
    assert '<span class="nowrap">(415) 555-0100</span>' in page
    assert f"{JOIN_CODE_SECONDS // 60} minutes" in page
    assert client.get(path).headers["Cache-Control"] == "no-store"


def test_the_code_page_speaks_chinese_when_the_guest_joined_in_chinese(client: FlaskClient, remote: None) -> None:
    path, code = open_code(client, lang="zh")
    page = client.get(path).get_data(as_text=True)
    assert f"或用手机发送短信 JOIN {code} 至 (415) 555-0100。" in re.sub("<[^>]+>", "", page)
    assert "正在等待您的短信" in page


def test_a_web_join_texts_nobody_until_the_guest_texts_and_then_joins_with_their_number(
        client: FlaskClient, headers: dict[str, str], remote: None, redis: fakeredis.FakeRedis,
        dispatcher: RecordingDispatcher) -> None:
    path, code = open_code(client, tags=["accessible"], notes="stroller")
    client.get(path)
    assert state(client, path) == {"state": "open", "code": code, "expires_at": state(client, path)["expires_at"],
                                   "status_url": None}
    assert outbound_texts(redis) == [] and dispatcher.sent == [] and parties(client, headers) == []

    text_in(client, f"join {code.lower()}", from_="+14155550181")
    [party] = parties(client, headers)
    assert (party["name"], party["party_size"], party["phone"], party["status"], party["position"]) == (
        "Ana Lima", 3, "+14155550181", "waiting", 1)
    assert party["remote"] and party["tags"] == ["accessible"] and party["notes"] == "stroller"
    assert replies_to(redis, "+14155550181") == ["joined"] and len(dispatcher.sent) == 1
    token = party["status_url"].rsplit("/", 1)[1]
    assert state(client, path)["state"] == "joined" and state(client, path)["status_url"] == f"/s/{token}"
    assert client.get(path).headers["Location"].endswith(f"/s/{token}")


def test_a_code_texted_twice_joins_once(client: FlaskClient, headers: dict[str, str], remote: None,
                                       redis: fakeredis.FakeRedis) -> None:
    _path, code = open_code(client)
    text_in(client, f"JOIN {code}", from_="+14155550182")
    text_in(client, f"JOIN {code}", from_="+14155550182")
    assert len(parties(client, headers)) == 1
    assert replies_to(redis, "+14155550182") == ["joined", "status_reply"]


def test_a_code_texted_from_a_second_number_joins_nothing_and_says_why(
        client: FlaskClient, headers: dict[str, str], remote: None, redis: fakeredis.FakeRedis) -> None:
    _path, code = open_code(client)
    text_in(client, f"JOIN {code}", from_="+14155550183")
    text_in(client, f"JOIN {code}", from_="+14155550184")
    assert [p["phone"] for p in parties(client, headers)] == ["+14155550183"]
    [reply] = [m for m in outbound_texts(redis) if m["to"] == "+14155550184"]
    assert reply["kind"] == "join_code_used" and reply["body"] == texts.join_code_used("en", "Noodle Bar")


def test_an_expired_code_joins_nothing_and_says_so(client: FlaskClient, headers: dict[str, str], remote: None,
                                                  redis: fakeredis.FakeRedis, clock: Clock) -> None:
    path, code = open_code(client)
    clock.advance(JOIN_CODE_SECONDS + 1)
    assert state(client, path)["state"] == "expired"
    assert "This code has expired" in client.get(path).get_data(as_text=True)
    text_in(client, f"JOIN {code}", from_="+14155550185")
    assert parties(client, headers) == [] and replies_to(redis, "+14155550185") == ["join_code_expired"]


def test_an_unknown_or_mistyped_code_joins_nothing_and_one_reply_answers_a_burst_of_them(
        client: FlaskClient, headers: dict[str, str], remote: None, redis: fakeredis.FakeRedis) -> None:
    for body in ("JOIN K7Q4X", "JOIN K7Q40", "join 9XTY3", "K7Q4X"):
        text_in(client, body, from_="+14155550186")
    assert parties(client, headers) == []
    assert replies_to(redis, "+14155550186") == ["join_code_unknown"]
    latch = redis.ttl(next(redis.scan_iter(f"wl:{{{SLUG}}}:once:joinerror:*")))
    assert 0 < latch <= JOIN_ERROR_REPLY_SECONDS  # (Redis's own clock ends the window: not the test's)


def test_an_unknown_ticket_is_a_404_in_the_error_shape(client: FlaskClient, remote: None) -> None:
    response = client.get(f"/join/{SLUG}/code/not-a-ticket/state")
    assert response.status_code == 404
    assert response.get_json()["error"]["code"] == "join_code_unknown"


def test_a_code_from_another_restaurant_is_unknown_here(client: FlaskClient, headers: dict[str, str],
                                                        remote: None, redis: fakeredis.FakeRedis) -> None:
    from tests.conftest import ADMIN_TOKEN, auth

    other = client.post("/api/v1/restaurants", json={"slug": "taco-bar", "name": "Taco Bar",
                                                     "sms_from": "+14155550199"},
                        headers={"Authorization": f"Bearer {ADMIN_TOKEN}"}).get_json()
    client.patch("/api/v1/restaurants/taco-bar/settings", json={"remote_join": True}, headers=auth(other["api_key"]))
    _path, code = open_code(client)
    assert client.get(f"/join/taco-bar/code/{_path.rsplit('/', 1)[1]}/state").status_code == 404
    form = {"From": "+14155550187", "To": "+14155550199", "Body": f"JOIN {code}", "MessageSid": "SMtaco",
            "AccountSid": "ACtest", "NumMedia": "0"}
    from tests.unit.test_webhooks import signed_post

    assert signed_post(client, "/sms/inbound", form).status_code == 200
    assert parties(client, headers) == []
    assert client.get("/api/v1/restaurants/taco-bar/parties", headers=auth(other["api_key"])).get_json()[
        "parties"] == []


# --- the caps -----------------------------------------------------------------------------------------------

def test_one_address_holds_a_few_open_codes_then_gets_a_clear_429(client: FlaskClient, remote: None,
                                                                 clock: Clock) -> None:
    for _ in range(JOIN_CODES_PER_ADDRESS):
        open_code(client, address="198.51.100.9")
    data = {"name": "Ana", "party_size": "2", "csrf_token": csrf(client)}
    refused = client.post(f"/join/{SLUG}", data=data, environ_base={"REMOTE_ADDR": "198.51.100.9"})
    assert refused.status_code == 429 and "join codes waiting" in refused.get_data(as_text=True)
    assert 0 < int(refused.headers["Retry-After"]) <= JOIN_CODE_SECONDS
    open_code(client, address="198.51.100.10")  # another address is not held up
    clock.advance(JOIN_CODE_SECONDS + 1)
    open_code(client, address="198.51.100.9")  # lapsed codes free the address


def test_the_chinese_page_says_the_address_cap_in_chinese(client: FlaskClient, remote: None) -> None:
    for _ in range(JOIN_CODES_PER_ADDRESS):
        open_code(client, address="198.51.100.12", lang="zh")
    data = {"name": "Ana", "party_size": "2", "language": "zh", "csrf_token": csrf(client)}
    refused = client.post(f"/join/{SLUG}?lang=zh", data=data, environ_base={"REMOTE_ADDR": "198.51.100.12"})
    assert refused.status_code == 429 and "您已有待发送的验证码" in refused.get_data(as_text=True)


def test_a_confirmed_code_no_longer_counts_toward_its_address_cap(client: FlaskClient, remote: None) -> None:
    codes = [open_code(client, address="198.51.100.11")[1] for _ in range(JOIN_CODES_PER_ADDRESS)]
    text_in(client, f"JOIN {codes[0]}", from_=next_phone())
    open_code(client, address="198.51.100.11")


def test_the_restaurant_holds_a_bounded_number_of_open_codes(app: Flask, remote: None) -> None:
    waitlist = app.extensions["waitlist"]
    restaurant = waitlist.restaurant(SLUG)
    for i in range(JOIN_CODES_PER_RESTAURANT):
        waitlist.open_join_code(restaurant, name="Ana", party_size=2, address=f"10.0.{i // 3}.{i % 3}")
    with pytest.raises(JoinCodeLimit) as refused:
        waitlist.open_join_code(restaurant, name="Ana", party_size=2, address="10.9.9.9")
    assert refused.value.status == 429 and "text JOIN" in refused.value.message


def test_open_codes_take_no_remote_slot_and_text_joins_still_work(client: FlaskClient, headers: dict[str, str],
                                                                 redis: fakeredis.FakeRedis) -> None:
    remote_on(client, headers, remote_max_active=2)
    for i in range(6):
        open_code(client, address=f"192.0.2.{i}")
    text_in(client, "JOIN 4 Ana", from_="+14155550191")
    text_in(client, "JOIN 2 Bo", from_="+14155550192")
    assert sorted(p["name"] for p in parties(client, headers)) == ["Ana", "Bo"]


def test_a_full_list_refuses_new_codes_up_front(client: FlaskClient, headers: dict[str, str]) -> None:
    remote_on(client, headers, remote_max_active=1)
    text_in(client, "JOIN 4 Ana", from_="+14155550193")
    refused = client.post(f"/join/{SLUG}", data={"name": "Bo", "party_size": "2", "csrf_token": csrf(client)})
    assert refused.status_code == 429 and "no more remote joins" in refused.get_data(as_text=True)


def test_refused_joins_do_not_use_up_a_numbers_daily_cap(client: FlaskClient, headers: dict[str, str],
                                                         redis: fakeredis.FakeRedis) -> None:
    remote_on(client, headers, remote_max_active=1, daily_join_cap=1)
    blocker = "+14155550194"
    text_in(client, "JOIN 2 Full", from_=blocker)
    victim = "+14155550195"
    for _ in range(5):
        text_in(client, "JOIN 2 Ana", from_=victim)  # refused: the list's remote slots are full
    [blocking] = parties(client, headers)
    client.post(f"{BASE}/parties/{blocking['id']}/cancel", headers=headers)
    _path, code = open_code(client)
    text_in(client, f"JOIN {code}", from_=victim)
    assert [p["phone"] for p in parties(client, headers)] == [victim]
    [mine] = parties(client, headers)
    client.post(f"{BASE}/parties/{mine['id']}/cancel", headers=headers)
    text_in(client, "JOIN 2 Ana", from_=victim)  # the one join today was made: now the cap says no
    assert parties(client, headers) == []
    # six refusals, one reply: a refused join gets one error reply per number per JOIN_ERROR_REPLY_SECONDS
    assert replies_to(redis, victim).count("join_limit") == 1 and replies_to(redis, victim).count("joined") == 1


def test_a_code_texted_after_the_restaurant_paused_joins_nothing(client: FlaskClient, headers: dict[str, str],
                                                                 remote: None, redis: fakeredis.FakeRedis) -> None:
    _path, code = open_code(client)
    client.post(f"{BASE}/pause", json={"message": "Kitchen closed"}, headers=headers)
    text_in(client, f"JOIN {code}", from_="+14155550196")
    assert parties(client, headers) == [] and replies_to(redis, "+14155550196") == ["closed"]
