"""The MFC/R2 module's options (the gateway's [[span]] tables, as `config import` writes
them from chan_dahdi's mfcr2_* keys): checked, with errors naming the span and the key."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from trunkline.drivers.signalling.r2.signalling import OPTIONS, R2Settings, r2_settings
from trunkline.errors import ConfigError


def test_defaults_are_china_no1_hunting_from_the_top() -> None:
    s = r2_settings(5, {})
    assert s.variant.name == "cn" and s.hunt_descending and not s.accept_on_offer
    assert (s.max_called, s.max_calling, s.request_calling) == (None, None, None)
    assert (s.category, s.calling_category) == (None, None)


def test_openr2_options_map_to_the_engine() -> None:
    s = r2_settings(5, {"variant": "ITU", "max_dnis": 4, "max_ani": 10,
                        "get_ani_first": "yes", "immediate_accept": True,
                        "mfback_timeout": 3000, "metering_pulse_timeout": 400,
                        "seize_timeout": 5000, "answer_timeout": 90000, "hunt": "ascending",
                        "category": "national_priority_subscriber"})
    assert s.variant.name == "itu" and not s.hunt_descending and s.accept_on_offer
    assert (s.max_called, s.max_calling, s.request_calling) == (4, 10, "after_first_digit")
    t = s.variant.timers
    assert (t.mf_back_cycle, t.metering_pulse, t.seize_ack, t.answer) == (3.0, 0.4, 5.0, 90.0)
    assert s.category == 2  # Q.441 II-2, subscriber with priority


def test_in_china_openr2s_category_names_set_ka() -> None:
    s = r2_settings(5, {"category": "national_priority_subscriber"})
    assert (s.category, s.calling_category) == (None, 4)  # KA=4 priority subscriber
    s = r2_settings(5, {"category": 2, "calling_category": 5})
    assert (s.category, s.calling_category) == (2, 5)    # KD=2 toll call, KA=5 free


@pytest.mark.parametrize(("options", "match"), [
    ({"mfcr2_variant": "cn"}, r"span 5: unknown MFC/R2 option mfcr2_variant; known: variant"),
    ({"variant": "xx"}, r"span 5: no MFC/R2 variant 'xx'; known: cn, itu, br, ar, mx"),
    ({"max_dnis": 0}, r"max_dnis must be a whole number 1\.\.32, not 0"),
    ({"max_ani": "ten"}, r"max_ani must be a whole number 0\.\.32"),
    ({"get_ani_first": "maybe"}, r"get_ani_first must be true or false"),
    ({"category": 9}, r"category=9 is not one of this variant's signals: 1 \(KD=1"),
    ({"category": "collect_call"}, r"the names variant cn knows are national_subscriber"),
    ({"variant": "itu", "category": "vip"}, r"names variant itu knows are national_sub"),
    ({"mfback_timeout": -1}, r"mfback_timeout is milliseconds, not -1"),
    ({"answer_timeout": float("nan")}, r"answer_timeout is milliseconds, not nan"),
    ({"seize_timeout": float("inf")}, r"seize_timeout is milliseconds, not inf"),
    ({"hunt": "random"}, r"hunt must be descending or ascending, not 'random'"),
])
def test_bad_options_are_refused_by_name(options: dict, match: str) -> None:
    with pytest.raises(ConfigError, match=match):
        r2_settings(5, options)


values = st.one_of(st.none(), st.booleans(), st.integers(-5, 100_000), st.text(max_size=12),
                   st.floats(allow_nan=True), st.lists(st.integers(), max_size=2))


@given(st.dictionaries(st.sampled_from([*OPTIONS, "other"]), values, max_size=6))
def test_any_table_is_settings_or_a_config_error(options: dict) -> None:
    try:
        assert isinstance(r2_settings(5, options), R2Settings)
    except ConfigError as err:
        assert str(err).startswith("span 5: ")
