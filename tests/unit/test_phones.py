from __future__ import annotations

import phonenumbers
import pytest
from hypothesis import given
from hypothesis import strategies as st

from waitlist.domain.errors import InvalidInput
from waitlist.domain.phones import E164, PHONE_MESSAGE, mask_phone, normalize_phone, phone_digest


@pytest.mark.parametrize(("raw", "region", "e164"), [
    ("415 555 0134", "US", "+14155550134"),
    ("(415) 555-0134", "US", "+14155550134"),
    ("+1 415-555-0134", "GB", "+14155550134"),
    ("020 7946 0018", "GB", "+442079460018"),
    ("138 0013 8000", "CN", "+8613800138000"),
])
def test_numbers_are_stored_in_e164(raw: str, region: str, e164: str) -> None:
    assert normalize_phone(raw, region) == e164


@pytest.mark.parametrize("raw", ["", "abc", "123", "+1 555 0000", "999999999999999999999"])
def test_invalid_numbers_are_refused_with_a_field_error(raw: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        normalize_phone(raw)
    assert (caught.value.fields or {}) == {"phone": [PHONE_MESSAGE]}
    assert "string supplied" not in PHONE_MESSAGE and "area code" in PHONE_MESSAGE


@given(st.text(max_size=64))
def test_the_parser_never_crashes_on_any_text(raw: str) -> None:
    try:
        result = normalize_phone(raw)
    except InvalidInput:
        return
    assert result.startswith("+")


@given(st.from_regex(r"\+?[0-9]{6,15}", fullmatch=True), st.sampled_from(["US", "CA", "GB", "GG", "CN", "HK", "FR"]))
def test_a_number_is_accepted_exactly_when_phonenumbers_calls_it_valid(digits: str, region: str) -> None:
    """The shortcut (valid for the host's region, else valid anywhere) accepts what is_valid_number does."""
    try:
        valid = phonenumbers.is_valid_number(phonenumbers.parse(digits, region))
    except phonenumbers.NumberParseException:
        valid = False
    try:
        normalize_phone(digits, region)
        accepted = True
    except InvalidInput:
        accepted = False
    assert accepted == valid


@pytest.mark.parametrize(("country", "region"), [("CA", "US"), ("US", "CA"), ("GG", "GB"), ("GB", "US"), ("CN", "US")])
def test_a_number_of_another_region_is_valid_too(country: str, region: str) -> None:
    example = phonenumbers.example_number_for_type(country, phonenumbers.PhoneNumberType.MOBILE)
    e164 = phonenumbers.format_number(example, phonenumbers.PhoneNumberFormat.E164)
    assert normalize_phone(e164, region) == e164


def test_masking_keeps_only_the_country_code_and_last_four_digits() -> None:
    assert mask_phone("+14155550134") == "+1******0134"
    assert "555" not in mask_phone("+14155550134")


def test_the_digest_depends_on_the_secret() -> None:
    assert phone_digest("a", "+14155550134") != phone_digest("b", "+14155550134")
    assert "4155550134" not in phone_digest("a", "+14155550134")


def test_a_number_already_checked_is_not_parsed_again(monkeypatch: pytest.MonkeyPatch) -> None:
    checked = normalize_phone("(415) 555-0134", "US")
    assert isinstance(checked, E164) and checked == "+14155550134"

    def no_parsing(*_args: object) -> None:
        raise AssertionError("parsed again")

    monkeypatch.setattr(phonenumbers, "parse", no_parsing)
    assert normalize_phone(checked, "GB") is checked
    with pytest.raises(AssertionError):
        normalize_phone("+14155550134", "US")  # a plain string is always checked
