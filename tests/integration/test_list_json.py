"""JSON through the real Redis's cjson, both ways: the join script decodes the fields it is sent, the list
scripts encode their answer. What a host typed comes back exact."""
from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import auth, create_restaurant, make_config
from tests.fakes import RecordingDispatcher
from waitlist import store
from waitlist.domain.model import quote_range_text
from waitlist.domain.text import clean_line, clean_lines
from waitlist.texting import texts
from waitlist.web.app import create_app
from workers.relay import OutboxRelay

pytestmark = pytest.mark.integration

AWKWARD = [
    ('Zoë "Z" \\ 李/🍜', "tab\there, line\nthere <b>&amp;</b> ' \" \\ /"),
    ("123", "0.5"),
    ("李小龙", ""),
    ("\u00a0Nbsp\u2028Sep", "\x7f del and \u200b zero width"),
]


def test_list_round_trips_awkward_text_in_queue_order(real_redis: Any) -> None:
    """What survives the typed-text rule (waitlist.domain.text) comes back exact, in queue order."""
    app = create_app(make_config(), redis=real_redis, dispatcher=RecordingDispatcher())
    client = app.test_client()
    headers = auth(create_restaurant(client, slug="json-bar", sms_from="+14155550177")["api_key"])
    url = "/api/v1/restaurants/json-bar/parties"

    assert client.get(url, headers=headers).get_json() == {"parties": []}

    ids = []
    for n, (name, notes) in enumerate(AWKWARD):
        response = client.post(url, headers=headers, json={"name": name, "phone": f"+1415555{2100 + n:04d}",
                                                             "party_size": 2 + n, "notes": notes})
        assert response.status_code == 201, response.get_json()
        ids.append(response.get_json()["id"])
    client.post(f"{url}/{ids[1]}/notify", headers=headers)
    client.post(f"{url}/{ids[3]}/cancel", headers=headers)

    listed = client.get(url, headers=headers).get_json()["parties"]
    assert [p["id"] for p in listed] == [ids[0], ids[2], ids[1]]
    assert [(p["status"], p["position"]) for p in listed] == [("waiting", 1), ("waiting", 2), ("notified", None)]
    by_id = {p["id"]: p for p in listed}
    for n in (0, 1, 2):
        assert (by_id[ids[n]]["name"], by_id[ids[n]]["notes"], by_id[ids[n]]["party_size"]) == \
            (clean_line(AWKWARD[n][0]), clean_lines(AWKWARD[n][1]), 2 + n)

    cancelled = client.get(f"{url}?status=cancelled", headers=headers).get_json()["parties"]
    assert [(p["id"], p["name"], p["notes"]) for p in cancelled] == \
        [(ids[3], "Nbsp Sep", "del and  zero width")]  # control and zero-width characters are cleaned away


def test_join_stores_awkward_fields_and_joined_text_exactly_as_sent(real_redis: Any) -> None:
    """The join script takes the party's and the text's fields as JSON decoded by the real Redis's cjson:
    every field must land byte for byte, with nothing added but what the script itself sets."""

    dispatcher = RecordingDispatcher()
    app = create_app(make_config(), redis=real_redis, dispatcher=dispatcher)
    waitlist = app.extensions["waitlist"]
    dispatcher.relay = OutboxRelay(waitlist.messages, waitlist.store, dispatcher)  # as the app fixture does
    client = app.test_client()
    name = 'Café "Ünïcode" \\ 麵/🍜'
    headers = auth(create_restaurant(client, slug="json-join", name=name, sms_from="+14155550178")["api_key"])
    guest, notes = AWKWARD[0]
    response = client.post("/api/v1/restaurants/json-join/parties", headers=headers,
                           json={"name": guest, "phone": "+14155552199", "party_size": 3, "notes": notes,
                                 "tags": ["vip"]})
    assert response.status_code == 201, response.get_json()
    party = response.get_json()

    stored = real_redis.hgetall(store.party_key("json-join", party["id"]))
    assert (stored["name"], stored["notes"], stored["party_size"], stored["tags"]) == (guest, notes, "3", "vip")
    assert stored["status"] == "waiting" and stored["almost_sent"] == "1"  # first in line: no "almost" text later
    assert real_redis.hget(store.sizes_key("json-join"), party["id"]) == "3"
    event = real_redis.xrange(store.events_key("json-join"))[-1][1]
    assert (event["size"], event["tags"], event["to"]) == ("3", "vip", "waiting")

    [(slug, message_id)] = dispatcher.sent
    message = real_redis.hgetall(store.message_key(slug, message_id))
    wait = quote_range_text(party["quote_low"], party["quote_high"])
    assert message["body"] == texts.joined("en", name, 1, wait, party["status_url"], True)  # first contact
    assert (message["id"], message["party"], message["to"], message["status"]) == \
        (message_id, party["id"], "+14155552199", "queued")
    assert real_redis.lrange(store.conversation_key(slug, party["id"]), 0, -1) == [message_id]
