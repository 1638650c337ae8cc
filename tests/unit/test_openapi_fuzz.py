"""The OpenAPI description against the app: schemathesis fuzzes every operation in-process over fakeredis.

Each operation gets schemathesis' boundary cases (its coverage phase) and a bounded number of generated
requests, valid and invalid (positive and negative modes), the same on every run. Generated path
parameters are steered, most of the time, onto a real restaurant, real parties and real guest links, so
requests get past "no such party" into the use cases; the staff key and the admin token are sent so they
get past authentication. Every answer must be no 500, a status the description lists, the content type
it lists, a body its schema allows, the headers it declares, and a 4xx for any request the description
calls invalid. FUZZ_EXAMPLES=100 (or more) makes a deep run.
"""
from __future__ import annotations

import os
import zlib
from dataclasses import dataclass, field
from typing import Any

import fakeredis
import pytest
import schemathesis
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.conftest import ADMIN_TOKEN, add_party, auth, create_restaurant, make_config
from tests.fakes import Clock, RecordingDispatcher
from waitlist.web import openapi
from waitlist.web.app import create_app

EXAMPLES_PER_OPERATION = int(os.environ.get("FUZZ_EXAMPLES", "10"))  # FUZZ_EXAMPLES=500 for a deep run
PHONES = [f"+1415555{n:04d}" for n in range(3000, 3040)]
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance,
          response_headers_conformance, negative_data_rejection]


@dataclass
class World:
    """What exists before the fuzzing starts: two restaurants, parties in several states, their links."""

    app: Flask
    api_key: str
    slugs: list[str] = field(default_factory=list)
    party_ids: list[str] = field(default_factory=list)
    tokens: list[str] = field(default_factory=list)


@pytest.fixture(scope="module")
def world() -> World:
    """One app for every operation's examples: they act on the same parties, as a busy evening would.
    Rate limits are off (they have their own tests; here most guest-link requests would be 429s)."""
    app = create_app(make_config(rate_limits_enabled=False), redis=fakeredis.FakeRedis(decode_responses=True),
                     dispatcher=RecordingDispatcher(), clock=Clock())
    client = app.test_client()
    restaurant = create_restaurant(client)
    other = create_restaurant(client, slug="taco-stand", name="Taco Stand", sms_from="+14155550101")
    headers = auth(restaurant["api_key"])
    found = World(app=app, api_key=restaurant["api_key"], slugs=[restaurant["slug"], other["slug"]])
    for name in ("Ana Lima", "Bo Chen", "Chloé Martin", "Dev Patel", "Eun Kim", "Femi Okafor"):
        party = add_party(client, headers, name=name, party_size=len(name) % 6 + 1)
        found.party_ids.append(party["id"])
        found.tokens.append(party["status_url"].rsplit("/", 1)[1])
    base = "/api/v1/restaurants/noodle-bar/parties"
    client.post(f"{base}/{found.party_ids[1]}/notify", headers=headers)
    client.post(f"{base}/{found.party_ids[2]}/seat", headers=headers)
    client.post(f"{base}/{found.party_ids[3]}/cancel", headers=headers)
    theirs = add_party(client, auth(other["api_key"]), slug="taco-stand", name="Gil Other")
    found.party_ids.append(theirs["id"])
    return found


# Loaded from the package's file at collection (schemathesis' lazy fixture loader breaks on pytest 9.2);
# every call goes to the test's own app through WSGI.
schema = schemathesis.openapi.from_dict(openapi.description())
# Deterministic: the same requests on every run, so a failure in CI is a failure on a laptop too.
schema.config.generation.update(max_examples=EXAMPLES_PER_OPERATION, deterministic=True)


def pick(generated: Any, known: list[str]) -> Any:
    """A known value three times in four, chosen by the generated one (so shrinking stays stable)."""
    slot = zlib.crc32(repr(generated).encode()) % (len(known) * 4 // 3 + 1)
    return known[slot] if slot < len(known) else generated


def steer(case: Any, world: World) -> dict[str, str]:
    """Real slugs, party ids and guest tokens in the path; mostly real phone numbers in bodies (random text
    is never a valid number); the right credential in the header."""
    params = case.path_parameters or {}
    if "slug" in params:
        params["slug"] = pick(params["slug"], world.slugs[:1] * 3 + world.slugs[1:])
    if "party_id" in params:
        params["party_id"] = pick(params["party_id"], world.party_ids)
    if "token" in params:
        params["token"] = pick(params["token"], world.tokens)
    if isinstance(case.body, dict):
        for name in ("phone", "sms_from"):
            value = case.body.get(name)
            if isinstance(value, str) and 1 <= len(value) <= 32:  # valid by the description: stays valid
                case.body[name] = pick(value, PHONES)
    secret = ADMIN_TOKEN if case.operation.path == "/api/v1/restaurants" else world.api_key
    return {"Authorization": f"Bearer {secret}"}


@schema.parametrize()
@settings(suppress_health_check=[HealthCheck.too_slow], deadline=None)
def test_no_request_gets_a_server_error_or_an_answer_its_description_does_not_allow(case: Any, world: World) -> None:
    case.call_and_validate(headers=steer(case, world), checks=CHECKS, app=world.app)


def test_the_description_is_served_as_json_at_a_public_address(client: FlaskClient) -> None:
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    assert response.get_json()["openapi"].startswith("3.1")
    assert response.get_json() == openapi.description()


def test_every_api_route_of_the_app_is_described(app: Flask) -> None:
    described = {(path, method.upper()) for path, item in openapi.description()["paths"].items()
                 for method in item if method in ("get", "post", "patch", "put", "delete")}
    missing = []
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/v1/") and rule.rule != "/healthz":
            continue
        path = rule.rule.replace("<", "{").replace(">", "}")
        path = "/".join(_template(part) for part in path.split("/"))
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            if (path, method) not in described:
                missing.append(f"{method} {rule.rule}")
    assert missing == []


def _template(part: str) -> str:
    """Flask's "{any(a, b):action}" or "{slug}" as OpenAPI's "{action}" / "{slug}"."""
    if part.startswith("{") and ":" in part:
        return "{" + part.rsplit(":", 1)[1]
    return part


def test_every_request_body_refuses_unknown_fields_as_the_marshmallow_schemas_do() -> None:
    schemas = openapi.description()["components"]["schemas"]
    for name in ("RestaurantCreate", "SettingsPatch", "Pause", "PartyCreate", "PartyPatch", "Move", "MessageCreate"):
        assert schemas[name]["additionalProperties"] is False, name


@pytest.mark.parametrize(("method", "path", "body"), [
    ("POST", "/api/v1/restaurants", {"slug": "new-place\n", "name": "New Place", "sms_from": "+14155550102"}),
    ("PATCH", "/api/v1/restaurants/noodle-bar/settings", {"tables": {"2\n": 3}}),
    ("PATCH", "/api/v1/restaurants/noodle-bar/settings", {"join_hours": {"mon": [["12:00\n", "14:00"]]}}),
], ids=["slug", "table-size", "joining-hours"])
def test_a_value_with_a_trailing_newline_is_refused_as_the_description_says(
        client: FlaskClient, restaurant: dict[str, Any], method: str, path: str, body: dict[str, Any]) -> None:
    secret = ADMIN_TOKEN if path == "/api/v1/restaurants" else restaurant["api_key"]
    response = client.open(path, method=method, json=body, headers=auth(secret))
    assert response.status_code == 400, response.get_json()


@pytest.mark.parametrize("path", ["stats", "visits.csv"])
def test_a_misspelt_query_parameter_of_the_owner_api_is_refused_not_ignored(
        client: FlaskClient, restaurant: dict[str, Any], path: str) -> None:
    """?form=... (for ?from=) would silently answer for the default two weeks."""
    response = client.get(f"/api/v1/restaurants/noodle-bar/{path}?form=2026-01-01", headers=auth(restaurant["api_key"]))
    assert response.status_code == 400


# --- the error answers the fuzzing cannot provoke: too large, too many, store down ----------------------

def test_a_body_over_16_kb_gets_the_documented_413(client: FlaskClient, restaurant: dict[str, Any]) -> None:
    response = client.post("/api/v1/restaurants/noodle-bar/parties", data='{"name": "' + "x" * 17_000 + '"}',
                           content_type="application/json", headers=auth(restaurant["api_key"]))
    assert response.status_code == 413
    schema["/api/v1/restaurants/{slug}/parties"]["POST"].validate_response(response)


def test_too_many_requests_get_the_documented_429_with_retry_after(client: FlaskClient,
                                                                   restaurant: dict[str, Any]) -> None:
    party = add_party(client, auth(restaurant["api_key"]))
    path = f"/api/v1/status/{party['status_url'].rsplit('/', 1)[1]}"
    answers = [client.get(path) for _ in range(121)]
    assert [a.status_code for a in answers[:120]] == [200] * 120 and answers[120].status_code == 429
    assert answers[120].headers["Retry-After"].isdigit()
    schema["/api/v1/status/{token}"]["GET"].validate_response(answers[120])


def test_a_store_that_does_not_answer_gets_the_documented_503_with_retry_after() -> None:
    from redis import Redis

    down = Redis(host="127.0.0.1", port=1, socket_connect_timeout=0.2, socket_timeout=0.2, decode_responses=True)
    client = create_app(make_config(), redis=down, dispatcher=RecordingDispatcher(), clock=Clock()).test_client()
    for path, operation in (("/healthz", "/healthz"),
                            ("/api/v1/restaurants/noodle-bar/estimate", "/api/v1/restaurants/{slug}/estimate")):
        response = client.get(path)
        assert response.status_code == 503 and response.headers["Retry-After"].isdigit()
        schema[operation]["GET"].validate_response(response)


# --- the description mirrors the code: a field added to a schema or to_dict fails here, not in production --

def _resolve(node: dict[str, Any]) -> dict[str, Any]:
    components = openapi.description()["components"]["schemas"]
    while "$ref" in node:
        node = components[node["$ref"].rsplit("/", 1)[1]]
    return node


def _bounds(field: Any) -> dict[str, Any]:
    """What marshmallow's validators say about a field, in the description's words."""
    from marshmallow import fields, validate

    found: dict[str, Any] = {}
    validators = list(field.validators) + list(getattr(getattr(field, "inner", None), "validators", []))
    for validator in field.validators:
        if isinstance(validator, validate.Range):
            found.update(minimum=validator.min, maximum=validator.max)
        elif isinstance(validator, validate.Length) and validator.equal is None:
            words = ("minItems", "maxItems") if isinstance(field, fields.List) else ("minLength", "maxLength")
            found.update({k: v for k, v in zip(words, (validator.min, validator.max)) if v})
        elif isinstance(validator, validate.OneOf):
            found["enum"] = sorted(validator.choices)
    for validator in validators[len(field.validators):]:
        if isinstance(validator, validate.OneOf):
            found["items.enum"] = sorted(validator.choices)
    return found


@pytest.mark.parametrize(("component", "schema_name"), [
    ("RestaurantCreate", "RestaurantCreateSchema"), ("SettingsPatch", "SettingsPatchSchema"),
    ("PartyCreate", "PartyCreateSchema"), ("PartyPatch", "PartyPatchSchema"), ("Pause", "PauseSchema"),
    ("Move", "MoveSchema"), ("MessageCreate", "MessageSchema"),
])
def test_each_request_body_mirrors_its_marshmallow_schema(component: str, schema_name: str) -> None:
    from waitlist.web import schemas as input_schemas

    loader = getattr(input_schemas, schema_name)()
    described = openapi.description()["components"]["schemas"][component]
    assert set(described["properties"]) == set(loader.fields)
    assert set(described.get("required", [])) == {name for name, f in loader.fields.items() if f.required}
    for name, loaded in loader.fields.items():
        spec = _resolve(described["properties"][name])
        if "oneOf" in spec:  # nullable: the non-null branch
            spec = _resolve(next(s for s in spec["oneOf"] if s.get("type") != "null"))
        for key, value in _bounds(loaded).items():
            if key == "items.enum":
                assert sorted(_resolve(spec["items"])["enum"]) == value, (component, name)
            elif key == "enum":
                assert sorted(spec["enum"]) == value, (component, name)
            else:
                assert spec.get(key) == value, (component, name, key)


def test_the_query_parameters_mirror_their_marshmallow_schemas() -> None:
    from waitlist.web import schemas as input_schemas

    paths = openapi.description()["paths"]
    size = paths["/api/v1/restaurants/{slug}/estimate"]["get"]["parameters"][0]["schema"]
    field = input_schemas.EstimateQuerySchema().fields["party_size"]
    assert (size["minimum"], size["maximum"], size["default"]) == (*_bounds(field).values(), field.load_default)
    status = paths["/api/v1/restaurants/{slug}/parties"]["get"]["parameters"][0]["schema"]
    assert sorted(status["enum"]) == _bounds(input_schemas.StatusFilterSchema().fields["status"])["enum"]


def test_each_answer_schema_lists_exactly_what_to_dict_returns(world: World) -> None:
    from waitlist.domain.model import Party, Settings

    components = openapi.description()["components"]["schemas"]
    waitlist = world.app.extensions["waitlist"]
    restaurant = waitlist.restaurant("noodle-bar")
    assert set(components["Restaurant"]["properties"]) == set(restaurant.to_dict())
    assert set(components["Settings"]["properties"]) == set(Settings().to_dict())
    party = Party(id="p", restaurant="noodle-bar", name="Ana", phone="+14155550134", party_size=2)
    assert set(components["Party"]["properties"]) == set(party.to_dict("https://x/s/t"))
