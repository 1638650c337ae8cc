"""Guest replies and remote joins end to end: a Twilio-signed inbound webhook, the app on a real Redis,
the real ``rq worker`` subprocess and the Twilio-compatible server, asserting on what the guest's phone
gets (the To/From/Body Twilio receives) and on the party's state.

Fixtures and helpers come from ``test_texts_e2e``. Waits poll against generous deadlines; the only
fixed pauses are short settles before asserting that something was *not* sent.
"""
from __future__ import annotations

import itertools
import re
import time
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from flask.testing import FlaskClient
from rq import Queue
from rq.job import Job
from twilio.request_validator import RequestValidator

from tests.conftest import add_party, next_phone
from tests.integration.test_texts_e2e import (  # noqa: F401  (fixtures, used by name)
    PUBLIC_BASE_URL,
    SLUG,
    SMS_FROM,
    WorkerProcess,
    app,
    config,
    conversation,
    eventually,
    job_done,
    show_party,
    start_worker,
    twilio,
    wait_for_send,
    worker,
)
from tests.twilio_server import TwilioServer
from waitlist.texting import texts
from waitlist.texting.dispatch import TIMERS_QUEUE

pytestmark = pytest.mark.integration

BASE = f"/api/v1/restaurants/{SLUG}"
SETTLE_SECONDS = 1.0
"""How long to let a worker that has nothing (more) to send prove it: its texts take milliseconds."""
_sids = itertools.count(1)


# --- helpers ------------------------------------------------------------------------------------------

def signed(form: dict[str, str], token: str) -> dict[str, str]:
    return {"X-Twilio-Signature": RequestValidator(token).compute_signature(f"{PUBLIC_BASE_URL}/sms/inbound", form)}


def inbound_form(body: str, from_: str, sid: str | None = None) -> dict[str, str]:
    return {"From": from_, "To": SMS_FROM, "Body": body, "MessageSid": sid or f"SMin{next(_sids):030d}",
            "AccountSid": "AC" + "0" * 31 + "1", "NumMedia": "0"}


def text_in(client: FlaskClient, twilio: TwilioServer, body: str, from_: str, sid: str | None = None) -> None:
    """The guest texts the restaurant: Twilio calls the webhook, signed with the account's token."""
    form = inbound_form(body, from_, sid)
    response = client.post("/sms/inbound", data=form, headers=signed(form, twilio.auth_token))
    assert response.status_code == 200, response.get_data(as_text=True)
    assert "<Response></Response>" in response.get_data(as_text=True)


def received(twilio: TwilioServer, phone: str, body: str, timeout: float = 20.0) -> None:
    """Twilio got exactly this text for ``phone``, from the restaurant's number."""
    eventually(lambda: body in twilio.bodies_to(phone), timeout, f"Twilio to receive {body!r}")
    [post] = [p for p in twilio.posts_to(phone) if p.form["Body"] == body]
    assert (post.form["To"], post.form["From"]) == (phone, SMS_FROM)


def replies(client: FlaskClient, headers: dict[str, str], party_id: str, kind: str) -> list[dict[str, Any]]:
    return [m for m in conversation(client, headers, party_id) if m["kind"] == kind]


def the_reply(client: FlaskClient, headers: dict[str, str], party_id: str, kind: str) -> dict[str, Any]:
    found = eventually(lambda: replies(client, headers, party_id, kind), 5, f"a {kind} text")
    assert len(found) == 1, found
    return found[0]


def all_sent(client: FlaskClient, headers: dict[str, str], real_rq_redis: Any, party_id: str) -> None:
    """Every text the party was sent (not suppressed) has been through the worker."""
    for message in conversation(client, headers, party_id):
        if message["direction"] == "out" and message["status"] != "suppressed":
            wait_for_send(real_rq_redis, message["id"])


def guest_in_line(client: FlaskClient, headers: dict[str, str], twilio: TwilioServer,
                  **overrides: Any) -> dict[str, Any]:
    party = add_party(client, headers, **overrides)
    received(twilio, party["phone"], the_reply(client, headers, party["id"], "joined")["body"])
    return party


def notify(client: FlaskClient, headers: dict[str, str], twilio: TwilioServer, party_id: str) -> dict[str, Any]:
    response = client.post(f"{BASE}/parties/{party_id}/notify", headers=headers)
    assert response.status_code == 200, response.get_json()
    party = response.get_json()
    received(twilio, party["phone"], the_reply(client, headers, party_id, "table_ready")["body"])
    return dict(party)


def remote_join_on(client: FlaskClient, headers: dict[str, str]) -> None:
    response = client.patch(f"{BASE}/settings", json={"remote_join": True}, headers=headers)
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["remote_join"] is True


def epoch(iso: str) -> float:
    return datetime.fromisoformat(iso).timestamp()


# --- Issue 4: each guest command, end to end -------------------------------------------------------------

def test_leave_cancels_the_party_and_confirms_by_text(
        client: FlaskClient, headers: dict[str, str], twilio: TwilioServer, worker: WorkerProcess) -> None:
    party = guest_in_line(client, headers, twilio)

    text_in(client, twilio, "9", party["phone"])

    assert show_party(client, headers, party["id"])["status"] == "cancelled"
    left = the_reply(client, headers, party["id"], "left")
    assert left["body"] == texts.left_list("en", "Noodle Bar")
    received(twilio, party["phone"], left["body"])


def test_on_my_way_then_late_after_table_ready_flag_extend_and_acknowledge(
        client: FlaskClient, headers: dict[str, str], twilio: TwilioServer, worker: WorkerProcess,
        restaurant: dict[str, Any]) -> None:
    party = guest_in_line(client, headers, twilio)
    notified = notify(client, headers, twilio, party["id"])

    text_in(client, twilio, "1", party["phone"])

    assert "on_the_way" in show_party(client, headers, party["id"])["flags"]
    ack = the_reply(client, headers, party["id"], "on_the_way_ack")
    assert ack["body"] == texts.on_the_way_ack("en", "Noodle Bar")
    received(twilio, party["phone"], ack["body"])

    text_in(client, twilio, "LATE 10", party["phone"])

    late = show_party(client, headers, party["id"])
    assert late["status"] == "notified" and "running_late" in late["flags"]
    assert epoch(late["hold_until"]) - epoch(notified["hold_until"]) == pytest.approx(600, abs=1)
    hold_hhmm = datetime.fromtimestamp(epoch(late["hold_until"]),
                                       tz=ZoneInfo(restaurant.get("timezone", "UTC"))).strftime("%H:%M")
    late_ack = the_reply(client, headers, party["id"], "late_ack")
    assert late_ack["body"] == texts.late_ack("en", "Noodle Bar", hold_hhmm, 10)
    assert f"until {hold_hhmm}" in late_ack["body"]
    received(twilio, party["phone"], late_ack["body"])


def test_status_tells_the_place_in_line_and_help_lists_the_commands_without_cancel(
        client: FlaskClient, headers: dict[str, str], twilio: TwilioServer, worker: WorkerProcess) -> None:
    guest_in_line(client, headers, twilio)
    party = guest_in_line(client, headers, twilio)  # second in line

    text_in(client, twilio, "S", party["phone"])

    status = the_reply(client, headers, party["id"], "status_reply")
    assert status["body"].startswith("Noodle Bar: You're #2 in line, about ")
    received(twilio, party["phone"], status["body"])

    text_in(client, twilio, "HELP", party["phone"])

    help_text = the_reply(client, headers, party["id"], "help")
    assert help_text["body"] == texts.help_reply("en", "Noodle Bar")
    assert "CANCEL" not in help_text["body"].upper()
    for command in ("S status", "L late", "1 on my way", "9 leave", "STOP"):
        assert command in help_text["body"]
    received(twilio, party["phone"], help_text["body"])
    assert show_party(client, headers, party["id"])["status"] == "waiting"


def test_stop_opts_out_silently_and_start_opts_back_in(
        client: FlaskClient, headers: dict[str, str], twilio: TwilioServer, worker: WorkerProcess,
        real_redis: Any, real_rq_redis: Any) -> None:
    party = guest_in_line(client, headers, twilio)
    phone = party["phone"]

    text_in(client, twilio, "STOP", phone)

    after = show_party(client, headers, party["id"])
    assert after["status"] == "cancelled" and "opted_out" in after["flags"]
    assert [m["kind"] for m in conversation(client, headers, party["id"])] == ["joined", "inbound"]

    # The host adds the number again and tells it the table is ready: Twilio hears nothing of it.
    again = add_party(client, headers, phone=phone)
    response = client.post(f"{BASE}/parties/{again['id']}/notify", headers=headers)
    assert response.status_code == 200, response.get_json()
    assert "opted_out" in response.get_json()["flags"]
    outbound = [m for m in conversation(client, headers, again["id"]) if m["direction"] == "out"]
    assert [(m["kind"], m["status"]) for m in outbound] == [("joined", "suppressed"), ("table_ready", "suppressed")]
    # Texts to an opted-out number are recorded as suppressed and never reach the outbox, so no send
    # job is ever queued for them.
    time.sleep(SETTLE_SECONDS)
    for message in outbound:
        assert not Job.exists(f"send-{SLUG}-{message['id']}", connection=real_rq_redis)
    assert real_redis.zcard(f"wl:{{{SLUG}}}:outbox") == 0
    assert len(twilio.posts_to(phone)) == 1  # the first joined text only

    text_in(client, twilio, "START", phone)

    assert "opted_out" not in show_party(client, headers, again["id"])["flags"]
    text_in(client, twilio, "S", phone)
    status = the_reply(client, headers, again["id"], "status_reply")
    assert status["body"] == texts.status_reply("en", "Noodle Bar", None, "", True)
    received(twilio, phone, status["body"])
    assert len(twilio.posts_to(phone)) == 2


def test_join_by_text_with_remote_join_on_adds_the_party_and_texts_it(
        client: FlaskClient, headers: dict[str, str], twilio: TwilioServer, worker: WorkerProcess) -> None:
    remote_join_on(client, headers)
    phone = next_phone()

    text_in(client, twilio, "JOIN 4 Ana", phone)

    [party] = client.get(f"{BASE}/parties", headers=headers).get_json()["parties"]
    assert (party["name"], party["party_size"], party["phone"], party["status"], party["position"]) == \
        ("Ana", 4, phone, "waiting", 1)
    assert party["remote"]
    joined = the_reply(client, headers, party["id"], "joined")
    assert joined["body"].startswith("Noodle Bar: You're #1, ~") and party["status_url"] in joined["body"]
    received(twilio, phone, joined["body"])


def test_other_texts_are_stored_for_the_host_with_one_acknowledgement(
        client: FlaskClient, headers: dict[str, str], twilio: TwilioServer, worker: WorkerProcess,
        real_rq_redis: Any) -> None:
    party = guest_in_line(client, headers, twilio)

    text_in(client, twilio, "Can we sit outside?", party["phone"])
    text_in(client, twilio, "Also a high chair please", party["phone"])

    assert "new_message" in show_party(client, headers, party["id"])["flags"]
    messages = conversation(client, headers, party["id"])
    assert [(m["kind"], m["direction"]) for m in messages] == \
        [("joined", "out"), ("inbound", "in"), ("host_will_see", "out"), ("inbound", "in")]
    assert [m["body"] for m in messages if m["direction"] == "in"] == \
        ["Can we sit outside?", "Also a high chair please"]
    ack = texts.host_will_see("en", "Noodle Bar")
    assert messages[2]["body"] == ack
    received(twilio, party["phone"], ack)
    all_sent(client, headers, real_rq_redis, party["id"])
    time.sleep(SETTLE_SECONDS)
    assert twilio.bodies_to(party["phone"]).count(ack) == 1
    assert len(twilio.posts_to(party["phone"])) == 2


def test_forged_or_missing_signatures_are_refused_and_a_replayed_sid_acts_once(
        client: FlaskClient, headers: dict[str, str], twilio: TwilioServer, worker: WorkerProcess,
        real_rq_redis: Any) -> None:
    party = guest_in_line(client, headers, twilio)
    phone = party["phone"]

    forged = inbound_form("9", phone)
    assert client.post("/sms/inbound", data=forged, headers=signed(forged, "not-the-token")).status_code == 403
    tampered = inbound_form("S", phone)
    assert client.post("/sms/inbound", data={**tampered, "Body": "9"},
                       headers=signed(tampered, twilio.auth_token)).status_code == 403
    assert client.post("/sms/inbound", data=inbound_form("9", phone)).status_code == 403

    assert show_party(client, headers, party["id"])["status"] == "waiting"
    assert [m["kind"] for m in conversation(client, headers, party["id"])] == ["joined"]

    text_in(client, twilio, "S", phone, sid="SMreplayed")
    text_in(client, twilio, "S", phone, sid="SMreplayed")  # Twilio retrying its webhook

    assert [m["kind"] for m in conversation(client, headers, party["id"])] == ["joined", "inbound", "status_reply"]
    status = the_reply(client, headers, party["id"], "status_reply")
    received(twilio, phone, status["body"])
    all_sent(client, headers, real_rq_redis, party["id"])
    time.sleep(SETTLE_SECONDS)
    assert len(twilio.posts_to(phone)) == 2
    assert show_party(client, headers, party["id"])["status"] == "waiting"


# --- Issue 25: replies in guests' own words ----------------------------------------------------------------

def test_running_10_min_late_in_the_guests_words_extends_a_notified_partys_hold(
        client: FlaskClient, headers: dict[str, str], twilio: TwilioServer, worker: WorkerProcess,
        restaurant: dict[str, Any], real_rq_redis: Any) -> None:
    party = guest_in_line(client, headers, twilio)
    notified = notify(client, headers, twilio, party["id"])

    text_in(client, twilio, "Running about 10 min late, sorry!", party["phone"])

    late = show_party(client, headers, party["id"])
    assert late["status"] == "notified" and "running_late" in late["flags"]
    assert "new_message" not in late["flags"]  # nothing in it for the host to read
    assert epoch(late["hold_until"]) - epoch(notified["hold_until"]) == pytest.approx(600, abs=1)
    hold_hhmm = datetime.fromtimestamp(epoch(late["hold_until"]),
                                       tz=ZoneInfo(restaurant.get("timezone", "UTC"))).strftime("%H:%M")
    late_ack = the_reply(client, headers, party["id"], "late_ack")
    assert late_ack["body"] == texts.late_ack("en", "Noodle Bar", hold_hhmm, 10)
    received(twilio, party["phone"], late_ack["body"])
    # A new hold timer (a new hold version) fires at the extended end; the first one will do nothing.
    registry = Queue(TIMERS_QUEUE, connection=real_rq_redis).scheduled_job_registry
    holds = sorted((job_id for job_id in registry.get_job_ids() if job_id.startswith(f"hold-{SLUG}-{party['id']}-")),
                   key=lambda job_id: int(job_id.rsplit("-", 1)[1]))
    assert len(holds) == 2
    newest = registry.get_scheduled_time(Job.fetch(holds[-1], connection=real_rq_redis))
    assert newest.timestamp() == pytest.approx(epoch(late["hold_until"]), abs=1.5)


def test_be_there_in_15_flags_on_the_way_and_holds_the_table_until_the_guests_own_estimate(
        client: FlaskClient, headers: dict[str, str], twilio: TwilioServer, worker: WorkerProcess) -> None:
    party = guest_in_line(client, headers, twilio)
    notified = notify(client, headers, twilio, party["id"])
    held = epoch(notified["hold_until"]) - time.time()
    assert held < 15 * 60  # the default hold is shorter than the guest's estimate

    sent_at = time.time()
    text_in(client, twilio, "On our way, be there in fifteen", party["phone"])

    coming = show_party(client, headers, party["id"])
    assert coming["status"] == "notified" and {"on_the_way", "running_late"} <= set(coming["flags"])
    assert sent_at + 15 * 60 - 1 <= epoch(coming["hold_until"]) <= time.time() + 16 * 60 + 1
    ack = the_reply(client, headers, party["id"], "late_ack")
    assert "we'll hold your table until" in ack["body"]
    received(twilio, party["phone"], ack["body"])


def test_were_here_checks_a_remote_party_in_and_tells_a_notified_party_to_come_to_the_stand(
        client: FlaskClient, headers: dict[str, str], twilio: TwilioServer, worker: WorkerProcess) -> None:
    remote_join_on(client, headers)
    response = client.patch(f"{BASE}/settings", json={"require_checkin": True}, headers=headers)
    assert response.status_code == 200, response.get_json()
    phone = next_phone()
    text_in(client, twilio, "JOIN 2 Ana", phone)
    [party] = client.get(f"{BASE}/parties", headers=headers).get_json()["parties"]
    received(twilio, phone, the_reply(client, headers, party["id"], "joined")["body"])
    assert client.post(f"{BASE}/parties/{party['id']}/seat", headers=headers).status_code == 409  # not at the door

    text_in(client, twilio, "We're here!", phone)

    waiting = show_party(client, headers, party["id"])
    assert waiting["status"] == "waiting" and "checked_in" in waiting["flags"]
    assert "on_the_way" not in waiting["flags"] and "new_message" not in waiting["flags"]
    ack = the_reply(client, headers, party["id"], "arrived_ack")
    assert ack["body"] == texts.arrived_ack("en", "Noodle Bar", False)
    received(twilio, phone, ack["body"])

    notify(client, headers, twilio, party["id"])
    text_in(client, twilio, "我们到了", phone)

    notified = show_party(client, headers, party["id"])
    assert notified["status"] == "notified" and {"checked_in", "on_the_way"} <= set(notified["flags"])
    [_, ready] = replies(client, headers, party["id"], "arrived_ack")
    assert ready["body"] == texts.arrived_ack("en", "Noodle Bar", True)
    received(twilio, phone, ready["body"])
    response = client.post(f"{BASE}/parties/{party['id']}/seat", headers=headers)
    assert response.status_code == 200, response.get_json()


# --- Issue 9: join from anywhere, over HTTP ---------------------------------------------------------------

def join_from_the_page(client: FlaskClient, name: str = "Ana Lima", size: str = "3") -> tuple[str, str]:
    """The join page's form sent: (the code page's path, the code to text)."""
    page = client.get(f"/join/{SLUG}")
    assert page.status_code == 200
    match = re.search(r'name="csrf_token" value="([^"]+)"', page.get_data(as_text=True))
    assert match, page.get_data(as_text=True)
    response = client.post(f"/join/{SLUG}", data={"name": name, "party_size": size, "csrf_token": match.group(1)})
    assert response.status_code == 303, response.get_data(as_text=True)
    path = response.headers["Location"].split("?")[0]
    code = re.search(r'id="join-code"[^>]*>([A-Z0-9]+)<', client.get(path).get_data(as_text=True))
    assert code
    return path, code.group(1)


def test_a_remote_join_from_the_page_joins_when_the_guest_texts_its_code(
        client: FlaskClient, headers: dict[str, str], twilio: TwilioServer, worker: WorkerProcess) -> None:
    remote_join_on(client, headers)
    phone = next_phone()

    path, code = join_from_the_page(client)
    time.sleep(SETTLE_SECONDS)
    assert twilio.posts_to(phone) == [] and client.get(f"{BASE}/parties", headers=headers).get_json()["parties"] == []
    assert client.get(f"{path}/state").get_json()["state"] == "open"

    text_in(client, twilio, f"JOIN {code}", phone)

    [party] = client.get(f"{BASE}/parties", headers=headers).get_json()["parties"]
    assert (party["phone"], party["status"], party["position"], party["remote"]) == (phone, "waiting", 1, True)
    joined = the_reply(client, headers, party["id"], "joined")
    assert joined["body"].startswith("Noodle Bar: You're #1, ~") and party["status_url"] in joined["body"]
    received(twilio, phone, joined["body"])
    assert twilio.bodies_to(phone) == [joined["body"]]
    assert client.get(f"{path}/state").get_json()["status_url"] == "/s/" + party["status_url"].rsplit("/", 1)[1]


def test_a_code_nobody_texts_sends_nothing_and_a_wrong_code_gets_one_reply(
        client: FlaskClient, headers: dict[str, str], twilio: TwilioServer, worker: WorkerProcess) -> None:
    remote_join_on(client, headers)
    _path, code = join_from_the_page(client)
    stranger = next_phone()
    wrong = "JOIN " + ("K7Q4X" if code != "K7Q4X" else "X4Q7K")
    for _ in range(3):
        text_in(client, twilio, wrong, stranger)
    received(twilio, stranger, texts.join_code_unknown("en", "Noodle Bar"))
    time.sleep(SETTLE_SECONDS)
    assert twilio.bodies_to(stranger) == [texts.join_code_unknown("en", "Noodle Bar")]
    assert client.get(f"{BASE}/parties", headers=headers).get_json()["parties"] == []
