"""Input validation with marshmallow: unknown fields are refused, strings trimmed, numbers bounded."""
from __future__ import annotations

import re
from collections.abc import Mapping
from functools import cache
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from marshmallow import RAISE, Schema, ValidationError, fields, validate, validates

from waitlist.domain.errors import InvalidInput
from waitlist.domain.model import LANGUAGES, MAX_QUOTE_MINUTES, SEATING_CHOICES, TAGS, WEEKDAYS

SLUG_PATTERN = re.compile(r"^[a-z0-9][a-z0-9-]{0,38}[a-z0-9]\Z")  # \Z: "$" would let "ab\n" through
QUOTE_MINUTES = validate.Range(min=0, max=MAX_QUOTE_MINUTES, error=f"must be between 0 and {MAX_QUOTE_MINUTES}")
"""A host's quote ("tell them 45"), instead of the estimator's."""


class Trimmed(fields.String):
    """A string with surrounding white space removed before length checks."""

    def _deserialize(self, value: Any, attr: str | None, data: Mapping[str, Any] | None, **kwargs: Any) -> str:
        return super()._deserialize(value, attr, data, **kwargs).strip()


class StrictInteger(fields.Integer):
    """An integer that refuses booleans and floats like 2.5 (JSON true is not a party size)."""

    def __init__(self, **kwargs: Any):
        super().__init__(strict=True, **kwargs)

    def _validated(self, value: Any) -> int:
        if isinstance(value, bool):
            raise self.make_error("invalid")
        return super()._validated(value)


class StrictBoolean(fields.Boolean):
    """JSON true or false only: 1, "yes" and "true" are refused (1 == True in Python sets)."""

    def _deserialize(self, value: Any, attr: str | None, data: Mapping[str, Any] | None, **kwargs: Any) -> bool:
        if not isinstance(value, bool):
            raise self.make_error("invalid")
        return value


class FiniteFloat(fields.Float):
    def __init__(self, **kwargs: Any):
        super().__init__(allow_nan=False, **kwargs)

    def _validated(self, value: Any) -> float:
        if isinstance(value, (bool, str)):
            raise self.make_error("invalid")
        return super()._validated(value)


class _Strict(Schema):
    class Meta:
        unknown = RAISE


def _validate_timezone(value: str) -> None:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValidationError("not an IANA time zone (e.g. America/New_York)") from None


class RestaurantCreateSchema(_Strict):
    slug = fields.String(required=True, validate=validate.Regexp(
        SLUG_PATTERN, error="2-40 lowercase letters, digits or dashes"))
    name = Trimmed(required=True, validate=validate.Length(min=1, max=60))
    sms_from = fields.String(required=True, validate=validate.Length(min=1, max=32))
    timezone = fields.String(load_default="UTC", validate=_validate_timezone)
    language = fields.String(load_default="en", validate=validate.OneOf(LANGUAGES))


class SettingsPatchSchema(_Strict):
    hold_minutes = FiniteFloat(validate=validate.Range(min=0.05, max=240))
    almost_ready_position = StrictInteger(validate=validate.Range(min=0, max=50))
    max_party_size = StrictInteger(validate=validate.Range(min=1, max=100))
    tables = fields.Dict(keys=fields.String(validate=validate.Regexp(r"^[1-9][0-9]?\Z", error="seats 1-99")),
                         values=StrictInteger(validate=validate.Range(min=0, max=500)), allow_none=True)
    language = fields.String(validate=validate.OneOf(LANGUAGES))
    remote_join = StrictBoolean()
    feedback = StrictBoolean()
    feedback_delay_minutes = FiniteFloat(validate=validate.Range(min=0.05, max=24 * 60))
    retention_days = StrictInteger(validate=validate.Range(min=1, max=3650))
    remote_max_active = StrictInteger(validate=validate.Range(min=0, max=500))
    require_checkin = StrictBoolean()
    daily_join_cap = StrictInteger(validate=validate.Range(min=1, max=50))
    join_hours = fields.Dict(keys=fields.String(validate=validate.OneOf(WEEKDAYS)),
                             values=fields.List(fields.List(fields.String(validate=validate.Regexp(
                                 r"^([01][0-9]|2[0-3]):[0-5][0-9]\Z", error="HH:MM, 24-hour")),
                                 validate=validate.Length(equal=2)), validate=validate.Length(max=4)),
                             allow_none=True)


class PartyCreateSchema(_Strict):
    name = Trimmed(required=True, validate=validate.Length(min=1, max=60))
    phone = fields.String(required=True, validate=validate.Length(min=1, max=32))
    party_size = StrictInteger(required=True, validate=validate.Range(min=1, max=100))
    notes = Trimmed(load_default="", validate=validate.Length(max=280))
    seating = fields.String(load_default="any", validate=validate.OneOf(SEATING_CHOICES))
    language = fields.String(load_default=None, allow_none=True, validate=validate.OneOf(LANGUAGES))
    tags = fields.List(fields.String(validate=validate.OneOf(TAGS)), load_default=list,
                       validate=validate.Length(max=len(TAGS)))
    quote_minutes = StrictInteger(validate=QUOTE_MINUTES)


class PartyPatchSchema(_Strict):
    name = Trimmed(validate=validate.Length(min=1, max=60))
    party_size = StrictInteger(validate=validate.Range(min=1, max=100))
    notes = Trimmed(validate=validate.Length(max=280))
    seating = fields.String(validate=validate.OneOf(SEATING_CHOICES))
    tags = fields.List(fields.String(validate=validate.OneOf(TAGS)), validate=validate.Length(max=len(TAGS)))
    quote_minutes = StrictInteger(validate=QUOTE_MINUTES)

    @validates("name")
    def _name_not_blank(self, value: str, **_: Any) -> None:
        if not value:
            raise ValidationError("must not be blank")


class PauseSchema(_Strict):
    message = Trimmed(load_default="", validate=validate.Length(max=120))


class MoveSchema(_Strict):
    position = StrictInteger(required=True, validate=validate.Range(min=1, max=10_000))


class MessageSchema(_Strict):
    body = Trimmed(required=True, validate=validate.Length(min=1, max=1600))


class EstimateQuerySchema(Schema):
    class Meta:
        unknown = RAISE

    party_size = fields.Integer(load_default=2, validate=validate.Range(min=1, max=100))


class StatusFilterSchema(Schema):
    class Meta:
        unknown = RAISE

    status = fields.String(load_default=None, validate=validate.OneOf(
        ["pending", "waiting", "notified", "seated", "completed", "cancelled", "no_show", "active", "finished"]))


@cache
def _instance(schema_class: type[Schema]) -> Schema:
    """One instance per schema class: building a schema costs more than validating with it."""
    return schema_class()


def load(schema: Schema | type[Schema], data: Any) -> dict[str, Any]:
    """Validate ``data`` or raise ``InvalidInput`` carrying marshmallow's per-field messages."""
    if isinstance(schema, type):
        schema = _instance(schema)
    if not isinstance(data, Mapping):
        raise InvalidInput("expected a JSON object", fields={"_schema": ["expected a JSON object"]})
    try:
        return schema.load(data)
    except ValidationError as exc:
        messages = exc.messages if isinstance(exc.messages, dict) else {"_schema": exc.messages}
        field_errors = {str(k): _flatten(v) for k, v in messages.items()}
        raise InvalidInput("some fields are not valid", fields=field_errors) from None


def _flatten(value: Any) -> list[str]:
    if isinstance(value, list):
        return [str(v) for v in value]
    if isinstance(value, dict):
        return [msg for sub in value.values() for msg in _flatten(sub)]
    return [str(value)]
