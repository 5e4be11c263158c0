"""Party numbers: what is accepted, what is refused and how it is named; octet encoding."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from trunkline.drivers.signalling.pri.errors import PriConfigError, PriNumberError
from trunkline.drivers.signalling.pri.numbers import (
    MAX_DIGITS,
    MAX_NAME_LENGTH,
    NUMBER_TYPES,
    NUMBERING_PLANS,
    PRESENTATIONS,
    SCREENINGS,
    encode_plan,
    encode_presentation,
    validate_calling_name,
    validate_number,
)

DIALLABLE = "0123456789*#"
legal_digits = st.text(alphabet=DIALLABLE, max_size=MAX_DIGITS)


@given(legal_digits, st.booleans())
def test_legal_numbers_come_back_without_the_plus(digits: str, plus: bool) -> None:
    value = ("+" if plus else "") + digits
    got, international = validate_number(value, field="called number", allow_empty=True)
    assert got == digits
    assert international is plus


@given(st.text(alphabet=DIALLABLE, min_size=1, max_size=MAX_DIGITS))
def test_a_non_empty_legal_number_needs_no_allow_empty(digits: str) -> None:
    assert validate_number(digits, field="called number") == (digits, False)


@given(legal_digits, st.characters().filter(lambda c: c not in DIALLABLE), legal_digits)
def test_one_illegal_character_is_refused_naming_it(before: str, bad: str, after: str
                                                     ) -> None:
    value = before + bad + after
    if bad == "+" and not before:
        value = "+" + value  # one leading + is legal; a second one is not
    with pytest.raises(PriNumberError) as info:
        validate_number(value, field="calling number", allow_empty=True)
    assert str(info.value) == (
        f"calling number {value!r} has the illegal character {bad!r}: "
        "only digits 0-9, * and # (and one leading +) are allowed")


@given(st.text(alphabet=DIALLABLE, min_size=MAX_DIGITS + 1, max_size=MAX_DIGITS + 40),
       st.booleans())
def test_too_many_digits_are_refused_with_the_count(digits: str, plus: bool) -> None:
    value = ("+" if plus else "") + digits
    with pytest.raises(PriNumberError, match=f"has {len(digits)} digits; at most "
                                             f"{MAX_DIGITS} are allowed"):
        validate_number(value, field="called number")


@given(st.text(max_size=40), st.booleans())
def test_the_outcome_is_the_rule(value: str, allow_empty: bool) -> None:
    """Accepted exactly when the rule says so, and then unchanged but for the plus."""
    digits = value[1:] if value.startswith("+") else value
    legal = (all(ch in DIALLABLE for ch in digits) and len(digits) <= MAX_DIGITS
             and (allow_empty or digits != ""))
    try:
        got = validate_number(value, field="number", allow_empty=allow_empty)
    except PriNumberError as err:
        assert not legal
        assert repr(value) in str(err)
    else:
        assert legal
        assert got == (digits, value.startswith("+"))


@pytest.mark.parametrize("value", ["", "+"])
def test_empty_numbers_are_refused_unless_allowed(value: str) -> None:
    with pytest.raises(PriNumberError, match=re.escape(f"called number {value!r} is empty")):
        validate_number(value, field="called number")
    assert validate_number(value, field="called number", allow_empty=True)[0] == ""


@pytest.mark.parametrize("value", [None, 123, b"123"])
def test_a_number_must_be_a_string(value: object) -> None:
    with pytest.raises(PriNumberError, match="called number must be a string of digits"):
        validate_number(value, field="called number")  # type: ignore[arg-type]


def test_non_ascii_digits_are_illegal() -> None:
    with pytest.raises(PriNumberError, match="illegal character '١'"):
        validate_number("1١2", field="called number")


@given(st.sampled_from(sorted(NUMBER_TYPES)), st.sampled_from(sorted(NUMBERING_PLANS)))
def test_octet_3_holds_type_and_plan(number_type: str, plan: str) -> None:
    octet = encode_plan(number_type, plan, field="called")
    assert octet >> 4 == NUMBER_TYPES[number_type]
    assert octet & 0x0F == NUMBERING_PLANS[plan]
    assert 0 <= octet <= 0x7F  # bit 8 is the extension bit, libpri sets it


def test_octet_3_examples() -> None:
    assert encode_plan("international", "isdn", field="called") == 0x11
    assert encode_plan("national", "e164", field="calling") == 0x21
    assert encode_plan("unknown", "unknown", field="called") == 0x00


def test_unknown_type_and_plan_name_the_field() -> None:
    with pytest.raises(PriConfigError, match="called type 'galactic' is unknown") as info:
        encode_plan("galactic", "isdn", field="called")
    assert info.value.key == "called_type"
    with pytest.raises(PriConfigError, match="calling numbering plan 'x' is unknown") as info:
        encode_plan("unknown", "x", field="calling")
    assert info.value.key == "calling_plan"


@given(st.sampled_from(sorted(PRESENTATIONS)), st.sampled_from(sorted(SCREENINGS)))
def test_octet_3a_holds_presentation_and_screening(presentation: str, screening: str
                                                  ) -> None:
    octet = encode_presentation(presentation, screening)
    assert octet & 0x60 == PRESENTATIONS[presentation]
    assert octet & 0x03 == SCREENINGS[screening]


def test_unknown_presentation_and_screening_name_the_field() -> None:
    with pytest.raises(PriConfigError, match="presentation 'secret' is unknown") as info:
        encode_presentation("secret", "network")
    assert info.value.key == "presentation"
    with pytest.raises(PriConfigError, match="screening 'maybe' is unknown") as info:
        encode_presentation("allowed", "maybe")
    assert info.value.key == "screening"


@given(st.text(max_size=80))
def test_calling_names_up_to_the_limit_are_sent_as_latin1(name: str) -> None:
    octets = name.encode("latin-1", "replace")
    if len(octets) > MAX_NAME_LENGTH:
        with pytest.raises(PriNumberError, match="is longer than 50 characters"):
            validate_calling_name(name)
    else:
        assert validate_calling_name(name) == octets


def test_no_calling_name() -> None:
    assert validate_calling_name(None) is None
