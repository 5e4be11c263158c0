"""Every refused number carries one of the documented codes (the console translates
them): any text normalise refuses, it refuses with a code from REFUSAL_CODES."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from trunkline.dialer.campaigns.numbers import REFUSAL_CODES, InvalidNumber, normalise

#: Digits, the separators and marks lists carry, and a few letters.
CHARS = st.sampled_from([*"0123456789+-. ()'xX#eE转０１８", "tel:", "ext", "分机"])


@settings(max_examples=400, deadline=None)
@given(st.lists(CHARS, max_size=24).map("".join), st.sampled_from(["86", "1", "44", "81"]),
       st.sampled_from([None, "21", "571"]))
def test_a_refusal_always_has_a_documented_code(text: str, country: str,
                                                area: str | None) -> None:
    try:
        normalise(text, default_country=country, default_area=area)
    except InvalidNumber as err:
        assert err.code in REFUSAL_CODES and err.reason
