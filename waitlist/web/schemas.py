"""Input validation with marshmallow: unknown fields are refused, strings trimmed, numbers bounded."""
from __future__ import annotations

import re
from collections.abc import Mapping
from functools import cache
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from flask import current_app, has_app_context
from marshmallow import RAISE, Schema, ValidationError, fields, validate, validates

from waitlist.domain.errors import InvalidInput
from waitlist.domain.model import LANGUAGES, MAX_QUOTE_MINUTES, SEATING_CHOICES, TAGS, WEEKDAYS
from waitlist.domain.phones import PHONE_MESSAGE, normalize_phone
from waitlist.domain.text import NAME_MAX, clean_line, clean_lines
from waitlist.domain.webhooks import SUBSCRIBABLE, URL_MAX
from waitlist.texting.templates import FIELDS as TEMPLATE_KINDS
from waitlist.texting.templates import LANGUAGES as TEMPLATE_LANGUAGES
from waitlist.texting.templates import TEMPLATE_MAX

if TYPE_CHECKING:
    from waitlist.domain.model import Restaurant

QUOTE_MINUTES = validate.Range(min=0, max=MAX_QUOTE_MINUTES, error=f"must be between 0 and {MAX_QUOTE_MINUTES}")
"""A host's quote ("tell them 45"), instead of the estimator's."""
SLUG_PATTERN = re.compile(r"^[a-z0-9][a-z0-9-]{0,38}[a-z0-9]\Z")  # \Z: "$" would let "ab\n" through


class Trimmed(fields.String):
    """Text a person typed, cleaned before length checks by the one rule of ``waitlist.domain.text``:
    no control, format or bidi characters, NFC, ends trimmed; '' when nothing visible is left, which a
    required field then refuses in its own words. A one-line field (a name) has its white space made
    single spaces; ``multiline`` fields (notes, a host's text) keep their line breaks."""

    def __init__(self, *, multiline: bool = False, **kwargs: Any):
        super().__init__(**kwargs)
        self.multiline = multiline

    def _deserialize(self, value: Any, attr: str | None, data: Mapping[str, Any] | None, **kwargs: Any) -> str:
        text = super()._deserialize(value, attr, data, **kwargs)
        typed = text.replace("\r\n", "\n").strip()  # a form's line break counts once, as its counter does
        for rule in self.validators:
            if isinstance(rule, validate.Length) and rule.max is not None and len(typed) > rule.max:
                rule(typed)  # too long as sent is refused, even if cleaning would shorten it (the API says so)
        return clean_lines(text) if self.multiline else clean_line(text)


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


# --- a party's fields: the same plain words on the host form, the join page and the API -----------------

NOTES_MAX = 280
"""The longest note: the server's check and every form's maxlength and counter."""
BODY_MAX = 1600
"""The longest text a host may send a party (Twilio's limit for one message)."""
PAUSE_MESSAGE_MAX = 120
TIMEZONE_MAX = 64
"""Longer than any IANA name; a longer one would reach the file system (and raise there)."""
PARTY_SIZE_CEILING = 100
"""The largest max_party_size a restaurant may set; the limit where no restaurant is known."""

MESSAGES = {
    "name": f"enter a name of at most {NAME_MAX} characters",
    "phone": PHONE_MESSAGE,
    "party_size": "must be between 1 and {max}",
    "notes": f"at most {NOTES_MAX} characters",
    "body": f"enter a text of at most {BODY_MAX} characters",
    "choice": "not one of the choices",
}
"""Every error a party's form can show, one per field whatever rule failed. ``party_size`` names the
restaurant's max_party_size, in the words the use case uses when only the size is wrong."""
MESSAGES_ZH = {
    MESSAGES["name"]: f"请填写姓名（最多{NAME_MAX}个字）",
    MESSAGES["phone"]: "无法向此号码发送短信：请检查号码和区号",
    MESSAGES["party_size"]: "人数须在1到{max}之间",
    MESSAGES["notes"]: f"备注最多{NOTES_MAX}个字",
    MESSAGES["body"]: f"请填写短信内容（最多{BODY_MAX}个字）",
    MESSAGES["choice"]: "请从选项中选择",
    "this phone already has a party on the list": "此号码已在候位名单上",
}
"""The same words for Chinese pages (the API answers in English)."""


def in_language(errors: dict[str, list[str]], language: str, max_party_size: int) -> dict[str, list[str]]:
    """``errors`` as a page in ``language`` shows them; a message without a translation stays as it is."""
    if language != "zh":
        return errors
    table = {en.format(max=max_party_size): zh.format(max=max_party_size) for en, zh in MESSAGES_ZH.items()}
    return {name: [table.get(message, message) for message in messages] for name, messages in errors.items()}


def _region() -> str:
    """The region for numbers typed without a country code: the app's configuration."""
    return str(current_app.config["WAITLIST"].default_region) if has_app_context() else "US"


class Phone(fields.String):
    """A number phonenumbers calls valid, loaded in its E.164 form; checked here so its error comes with
    the other fields'."""

    def __init__(self, **kwargs: Any):
        message = MESSAGES["phone"]
        super().__init__(error_messages={"required": message, "null": message, "invalid": message}, **kwargs)

    def _deserialize(self, value: Any, attr: str | None, data: Mapping[str, Any] | None, **kwargs: Any) -> str:
        text = super()._deserialize(value, attr, data, **kwargs)
        if not 0 < len(text) <= 32:
            raise self.make_error("invalid")
        try:
            return normalize_phone(text, _region())  # an E164, which the use case then takes as checked
        except InvalidInput:
            raise self.make_error("invalid") from None


class PartySize(fields.Integer):
    """1 up to the restaurant's max_party_size, which ``load`` checks with every other field (and the use
    case again); any size error is worded with that limit. Form text must be ASCII digits: int("²")
    raises, int("٣") is 3."""

    def __init__(self, *, strict: bool = True, **kwargs: Any):
        super().__init__(strict=strict, validate=validate.Range(min=1, max=PARTY_SIZE_CEILING), **kwargs)

    def _validated(self, value: Any) -> int:
        if isinstance(value, bool) or (isinstance(value, str) and not (value.isascii() and value.strip().isdigit())):
            raise self.make_error("invalid")
        return super()._validated(value)


def _party_size_errors(schema: Schema, loaded: Mapping[str, Any], errors: dict[str, list[str]],
                       restaurant: Restaurant | None) -> dict[str, list[str]]:
    """``errors`` with the size checked against the restaurant's limit and any size error in its words
    (a size the list refuses gets no quote either)."""
    if not isinstance(schema.fields.get("party_size"), PartySize):
        return errors
    limit = _party_size_limit(restaurant)
    size = loaded.get("party_size")
    if "party_size" in errors or (isinstance(size, int) and size > limit):
        errors = {**errors, "party_size": [MESSAGES["party_size"].format(max=limit)]}
    return errors


def _party_size_limit(restaurant: Restaurant | None) -> int:
    """The restaurant's max_party_size. Every view that takes a party size passes its restaurant; without
    one (the CLI, a restaurant not found) only the ceiling applies."""
    return restaurant.settings.max_party_size if restaurant is not None else PARTY_SIZE_CEILING


def _validate_timezone(value: str) -> None:
    """An IANA name ZoneInfo can load. A name it cannot look up may raise more than ZoneInfoNotFoundError:
    ValueError ("../x", a NUL byte) or OSError (a name too long for the file system), so the length is
    bounded first and each is caught."""
    try:
        if not 0 < len(value) <= TIMEZONE_MAX:
            raise ValueError(value)
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        raise ValidationError("not an IANA time zone (e.g. America/New_York)") from None


class RestaurantCreateSchema(_Strict):
    slug = fields.String(required=True, validate=validate.Regexp(
        SLUG_PATTERN, error="2-40 lowercase letters, digits or dashes"))
    name = Trimmed(required=True, validate=validate.Length(min=1, max=NAME_MAX, error=MESSAGES["name"]),
                   error_messages={"required": MESSAGES["name"]})
    sms_from = fields.String(required=True, validate=validate.Length(min=1, max=32))
    timezone = fields.String(load_default="UTC", validate=_validate_timezone)
    language = fields.String(load_default="en", validate=validate.OneOf(LANGUAGES))


JOIN_MAX = 26
"""Characters of one join: up to 8 tables of 2 digits (the most a party may sit at), "=" and the seats."""


class SettingsPatchSchema(_Strict):
    hold_minutes = FiniteFloat(validate=validate.Range(min=0.05, max=240))
    almost_ready_position = StrictInteger(validate=validate.Range(min=0, max=50))
    max_party_size = StrictInteger(validate=validate.Range(min=1, max=PARTY_SIZE_CEILING))
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
    clearing_minutes = FiniteFloat(validate=validate.Range(min=0, max=120))
    joins = fields.List(fields.String(validate=[
        validate.Length(max=JOIN_MAX, error=f"at most {JOIN_MAX} characters"),
        validate.Regexp(r"^[1-9][0-9]?(\+[1-9][0-9]?)+=[1-9][0-9]?\Z", error="like 4+4=8")]),
        validate=validate.Length(max=8), allow_none=True)


TABLE_NAME = validate.Regexp(r"^[A-Za-z0-9][A-Za-z0-9 ._-]{0,11}\Z",
                             error="1-12 letters, digits, spaces, dots, dashes or underscores, starting with a "
                                   "letter or digit")


class TableSchema(_Strict):
    """One named table of a floor; the rules across tables (unique names, joins, seats up to
    max_party_size) are the domain's (waitlist.domain.tables.validate_floor)."""

    name = fields.String(required=True, validate=TABLE_NAME)
    seats = StrictInteger(required=True, validate=validate.Range(min=1, max=PARTY_SIZE_CEILING))
    min_seats = StrictInteger(load_default=1, validate=validate.Range(min=1, max=PARTY_SIZE_CEILING))
    section = fields.String(load_default="any", validate=validate.OneOf(SEATING_CHOICES, error=MESSAGES["choice"]))
    joins_with = fields.List(fields.String(validate=TABLE_NAME), load_default=list,
                             validate=validate.Length(max=20))


class FloorSchema(_Strict):
    tables = fields.List(fields.Nested(TableSchema), required=True, validate=validate.Length(max=200))


class TablesChoiceSchema(_Strict):
    """The named tables a notify holds or a seat occupies (one, or several pushed together)."""

    tables = fields.List(fields.String(validate=TABLE_NAME), validate=validate.Length(min=1, max=8))

    @validates("tables")
    def _distinct(self, value: list[str], **_: Any) -> None:
        if len(set(value)) != len(value):
            raise ValidationError("a table is named twice")


class PartyCreateSchema(_Strict):
    name = Trimmed(required=True, validate=validate.Length(min=1, max=NAME_MAX, error=MESSAGES["name"]),
                   error_messages={"required": MESSAGES["name"]})
    phone = Phone(required=True)
    party_size = PartySize(required=True)
    notes = Trimmed(multiline=True, load_default="", validate=validate.Length(max=NOTES_MAX, error=MESSAGES["notes"]))
    seating = fields.String(load_default="any", validate=validate.OneOf(SEATING_CHOICES, error=MESSAGES["choice"]))
    language = fields.String(load_default=None, allow_none=True,
                             validate=validate.OneOf(LANGUAGES, error=MESSAGES["choice"]))
    tags = fields.List(fields.String(validate=validate.OneOf(TAGS, error=MESSAGES["choice"])), load_default=list,
                       validate=validate.Length(max=len(TAGS)))
    quote_minutes = StrictInteger(validate=QUOTE_MINUTES)


class PartyPatchSchema(_Strict):
    name = Trimmed(validate=validate.Length(min=1, max=NAME_MAX, error=MESSAGES["name"]))
    party_size = PartySize()
    notes = Trimmed(multiline=True, validate=validate.Length(max=NOTES_MAX, error=MESSAGES["notes"]))
    seating = fields.String(validate=validate.OneOf(SEATING_CHOICES, error=MESSAGES["choice"]))
    tags = fields.List(fields.String(validate=validate.OneOf(TAGS, error=MESSAGES["choice"])),
                       validate=validate.Length(max=len(TAGS)))
    quote_minutes = StrictInteger(validate=QUOTE_MINUTES)

    @validates("name")
    def _name_not_blank(self, value: str, **_: Any) -> None:
        if not value:
            raise ValidationError(MESSAGES["name"])


class PauseSchema(_Strict):
    message = Trimmed(load_default="", validate=validate.Length(max=PAUSE_MESSAGE_MAX,
                                                                error=f"at most {PAUSE_MESSAGE_MAX} characters"))


class MoveSchema(_Strict):
    position = StrictInteger(required=True, validate=validate.Range(min=1, max=10_000))


class MessageSchema(_Strict):
    body = Trimmed(multiline=True, required=True, validate=validate.Length(min=1, max=BODY_MAX, error=MESSAGES["body"]),
                   error_messages={"required": MESSAGES["body"]})


class EstimateQuerySchema(Schema):
    class Meta:
        unknown = RAISE

    party_size = PartySize(strict=False, load_default=2)


class QueryInteger(fields.Integer):
    """A number in a query string: ASCII digits only (int("٣") is 3, int("²") raises)."""

    def _validated(self, value: Any) -> int:
        if isinstance(value, str) and not (value.isascii() and value.strip().isdigit()):
            raise self.make_error("invalid")
        return super()._validated(value)


class StatusFilterSchema(Schema):
    class Meta:
        unknown = RAISE

    status = fields.String(load_default=None, validate=validate.OneOf(
        ["pending", "waiting", "notified", "seated", "completed", "cancelled", "no_show", "active", "finished"]))
    limit = QueryInteger(load_default=None, validate=validate.Range(min=1, max=500))
    """A page's size (paging: see waitlist.store.listing)."""
    cursor = fields.String(load_default=None, validate=validate.Length(min=1, max=300))


# --- message templates and webhooks (the settings screen and the API) -----------------------------------

class TemplateSchema(_Strict):
    """A restaurant's wording of one text; its rules (placeholders, required parts) are
    waitlist.texting.templates', checked by the use case."""

    body = Trimmed(multiline=True, required=True, validate=validate.Length(
        min=1, max=TEMPLATE_MAX, error=f"enter a text of at most {TEMPLATE_MAX} characters"),
        error_messages={"required": "enter a text"})


class TemplatePreviewSchema(TemplateSchema):
    language = fields.String(required=True, validate=validate.OneOf(TEMPLATE_LANGUAGES, error=MESSAGES["choice"]))
    kind = fields.String(required=True, validate=validate.OneOf(list(TEMPLATE_KINDS), error=MESSAGES["choice"]))


class WebhookSchema(_Strict):
    url = fields.String(required=True, validate=validate.Length(
        min=1, max=URL_MAX, error=f"enter an https:// address of at most {URL_MAX} characters"))
    events = fields.List(fields.String(validate=validate.OneOf(SUBSCRIBABLE, error=MESSAGES["choice"])),
                         required=True, validate=validate.Length(min=1, max=len(SUBSCRIBABLE),
                                                                 error="choose at least one event"))
    description = Trimmed(load_default="", validate=validate.Length(max=80, error="at most 80 characters"))


class WebhookPatchSchema(_Strict):
    enabled = StrictBoolean(required=True)


@cache
def _instance(schema_class: type[Schema]) -> Schema:
    """One instance per schema class: building a schema costs more than validating with it."""
    return schema_class()


def load(schema: Schema | type[Schema], data: Any, *, restaurant: Restaurant | None = None) -> dict[str, Any]:
    """Validate ``data`` or raise ``InvalidInput`` carrying every field's error at once. A party size is
    also checked against ``restaurant``'s max_party_size, so there is one limit and one wording."""
    if isinstance(schema, type):
        schema = _instance(schema)
    if not isinstance(data, Mapping):
        raise InvalidInput("expected a JSON object", fields={"_schema": ["expected a JSON object"]})
    field_errors: dict[str, list[str]] = {}
    try:
        loaded: dict[str, Any] = schema.load(data)
    except ValidationError as exc:
        loaded = exc.valid_data if isinstance(exc.valid_data, dict) else {}
        messages = exc.messages if isinstance(exc.messages, dict) else {"_schema": exc.messages}
        field_errors = {str(k): _flatten(v) for k, v in messages.items()}
    field_errors = _party_size_errors(schema, loaded, field_errors, restaurant)
    if field_errors:
        raise InvalidInput("some fields are not valid", fields=field_errors)
    return loaded


def _flatten(value: Any) -> list[str]:
    if isinstance(value, list):
        return [str(v) for v in value]
    if isinstance(value, dict):
        return [msg for sub in value.values() for msg in _flatten(sub)]
    return [str(value)]
