"""Number normalisation: Chinese mobile and fixed lines, E.164, and why a number is bad."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from trunkline.dialer.campaigns.numbers import InvalidNumber, normalise, try_normalise


@pytest.mark.parametrize(("raw", "e164", "kind"), [
    ("13800138000", "+8613800138000", "mobile"),
    ("138 0013 8000", "+8613800138000", "mobile"),
    ("+86-138-0013-8000", "+8613800138000", "mobile"),
    ("008613800138000", "+8613800138000", "mobile"),
    ("8613800138000", "+8613800138000", "mobile"),
    ("13800138000.0", "+8613800138000", "mobile"),        # a spreadsheet float
    ("１３８００１３８０００", "+8613800138000", "mobile"),      # full-width digits
    ("tel:+8619912345678", "+8619912345678", "mobile"),
    ("010-65529988", "+861065529988", "fixed"),
    ("(021) 6234 5678", "+862162345678", "fixed"),
    ("+86 10 65529988", "+861065529988", "fixed"),
    ("0571-8888888", "+865718888888", "fixed"),             # 3-digit area, 7 digits
    ("0755-28889999", "+8675528889999", "fixed"),           # 3-digit area, 8 digits
    ("+44 20 7946 0000", "+442079460000", "other"),
    ("+1 (212) 555-0100", "+12125550100", "other"),
])
def test_valid_numbers_normalise_to_e164(raw: str, e164: str, kind: str) -> None:
    number = normalise(raw)
    assert (number.e164, number.kind) == (e164, kind)


@pytest.mark.parametrize(("raw", "reason"), [
    ("", "empty"),
    ("12800138000", "mobile prefix 12"),
    ("1380013800", "11 digits"),
    ("12345", "11 digits"),
    ("1.38E+10", "scientific notation"),
    ("010-6552998", "8-digit local numbers"),
    ("02612345678", "026 is not assigned"),
    ("65529988", "without an area code"),
    ("400-800-8888", "service number"),
    ("13800138000 ext 12", "extension"),
    ("138-abc", "illegal characters"),
    ("+1 112 555 0100", "North American"),
    ("+0123456789", "cannot begin with 0"),
    ("+1234567890123456", "at most 15 digits"),
])
def test_invalid_numbers_say_why(raw: str, reason: str) -> None:
    with pytest.raises(InvalidNumber, match=reason):
        normalise(raw)


def test_area_table_names_the_city_and_strict_mode_rejects_unknown_codes() -> None:
    assert normalise("0755-28889999").region == "Shenzhen"
    assert normalise("0999-2345678").region is None  # structurally valid, not in the table
    with pytest.raises(InvalidNumber, match="not in the area code table"):
        normalise("0999-2345678", strict_area=True)
    assert normalise("62345678", default_area="21").e164 == "+862162345678"


def test_dial_strings_for_a_chinese_trunk() -> None:
    assert normalise("010-65529988").dial_string() == "01065529988"
    assert normalise("13800138000").dial_string() == "13800138000"
    assert normalise("+44 20 7946 0000").dial_string() == "00442079460000"
    assert normalise("13800138000").time_zone == "Asia/Shanghai"


mobiles = st.builds(lambda p, rest: f"1{p}{rest:09d}", st.sampled_from("3456789"),
                    st.integers(0, 10**9 - 1))
separators = st.sampled_from(["", " ", "-", ".", "  "])


@given(mobiles, separators, st.sampled_from(["", "+86", "0086", "86", "+86 "]))
def test_any_spelling_of_a_mobile_gives_one_key(number: str, sep: str, prefix: str) -> None:
    spelled = prefix + sep.join([number[:3], number[3:7], number[7:]])
    assert normalise(spelled).e164 == "+86" + number


@pytest.mark.slow
@given(st.text(max_size=30))
def test_arbitrary_text_is_a_number_or_a_reason(text: str) -> None:
    number, reason = try_normalise(text)
    assert (number is None) != (reason is None)
    if number is not None:  # normalising is idempotent on the key
        assert normalise(number.e164).e164 == number.e164
        assert number.e164.startswith("+") and number.e164[1:].isdigit()
        assert len(number.e164) <= 16
