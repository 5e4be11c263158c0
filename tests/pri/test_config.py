"""SpanConfig: defaults, normalisation and errors naming the field, all without libpri."""

from __future__ import annotations

import dataclasses
import subprocess
import sys

import pytest

from trunkline.drivers.signalling.pri.config import (
    E1_CHANNELS,
    SERVICE_SWITCHES,
    SWITCH_TYPES,
    SpanConfig,
    default_hunt,
    default_law,
)
from trunkline.drivers.signalling.pri.errors import PriConfigError


def test_defaults_are_an_e1_cpe_span() -> None:
    config = SpanConfig.create()
    assert config == SpanConfig()
    assert (config.role, config.switchtype, config.law, config.hunt) == (
        "cpe", "euroisdn_e1", "alaw", "descending")
    assert config.channels == E1_CHANNELS
    assert len(config.channels) == 30 and 16 not in config.channels
    assert config.timers == () and config.debug == 0 and not config.service_messages


@pytest.mark.parametrize(("switchtype", "law"), [
    ("euroisdn_e1", "alaw"), ("qsig", "alaw"), ("euroisdn_t1", "ulaw"), ("ni2", "ulaw"),
    ("dms100", "ulaw"), ("5ess", "ulaw"), ("4ess", "ulaw"), ("ni1", "ulaw"),
])
def test_the_law_follows_the_switch_type_unless_given(switchtype: str, law: str) -> None:
    assert default_law(switchtype) == law
    assert SpanConfig.create(switchtype=switchtype).law == law
    other = "ulaw" if law == "alaw" else "alaw"
    assert SpanConfig.create(switchtype=switchtype, law=other).law == other


def test_the_hunting_order_keeps_the_two_sides_apart() -> None:
    assert default_hunt("cpe") == "descending"
    assert default_hunt("network") == "ascending"
    assert SpanConfig.create(role="network").hunt == "ascending"
    assert SpanConfig.create(role="network", hunt="descending").hunt == "descending"


def test_channels_are_sorted_without_duplicates() -> None:
    config = SpanConfig.create(channels=[9, 1, 9, 31, 17])
    assert config.channels == (1, 9, 17, 31)
    assert SpanConfig(channels=(5, 3, 3)).channels == (3, 5)  # built directly, too


def test_timers_keep_their_order_and_the_value_is_frozen() -> None:
    config = SpanConfig.create(timers={"T310": 30000, "T303": 4000}, debug=3)
    assert config.timers == (("T310", 30000), ("T303", 4000))
    with pytest.raises(dataclasses.FrozenInstanceError):
        config.role = "network"  # type: ignore[misc]
    assert hash(config) == hash(SpanConfig.create(timers={"T310": 30000, "T303": 4000},
                                                  debug=3))


@pytest.mark.parametrize(("kwargs", "key", "message"), [
    ({"role": "user"}, "role", "span 4: unknown role 'user'; expected one of "
                               "['cpe', 'network']"),
    ({"switchtype": "euroisdn_e2"}, "switchtype", "span 4: unknown switch type "
                                                  "'euroisdn_e2'; expected one of"),
    ({"channels": [1, 16, 24]}, "channels", "span 4: B-channels 1..24 with 16 fit neither "
                                            "an E1 (1..15, 17..31) nor a T1 (1..23) span"),
    ({"channels": [0]}, "channels", "span 4: B-channel 0 is not"),
    ({"channels": [32]}, "channels", "span 4: B-channel 32 is not"),
    ({"channels": [True]}, "channels", "span 4: B-channel True is not"),
    ({"channels": [2.0]}, "channels", "span 4: B-channel 2.0 is not"),
    ({"channels": []}, "channels", "span 4: no B-channels given"),
    ({"law": "slinear"}, "law", "span 4: unknown law 'slinear'; expected 'alaw' or 'ulaw'"),
    ({"hunt": "random"}, "hunt", "span 4: unknown hunt order 'random'"),
    ({"switchtype": "euroisdn_e1", "service_messages": True}, "service_messages",
     "span 4: switch type 'euroisdn_e1' has no B-channel SERVICE messages; they exist on "
     "['4ess', '5ess', 'ni2']"),
])
def test_errors_name_the_field(kwargs: dict, key: str, message: str) -> None:
    with pytest.raises(PriConfigError) as info:
        SpanConfig.create(span_id=4, **kwargs)
    assert str(info.value).startswith(message)
    assert info.value.key == key


def test_the_first_bad_field_is_reported_in_a_fixed_order() -> None:
    """role, switch type, channels, law, hunt, service messages: as PriSpan always did."""
    with pytest.raises(PriConfigError, match="unknown role"):
        SpanConfig.create(role="x", switchtype="y", channels=[16, 31], law="z")
    with pytest.raises(PriConfigError, match="unknown switch type"):
        SpanConfig.create(switchtype="y", channels=[16, 31], law="z")
    with pytest.raises(PriConfigError, match="with 16 fit neither"):
        SpanConfig.create(channels=[16, 31], law="z", hunt="q")
    with pytest.raises(PriConfigError, match="unknown law"):
        SpanConfig.create(law="z", hunt="q")


@pytest.mark.parametrize("switchtype", sorted(SERVICE_SWITCHES))
def test_service_messages_where_the_switch_has_them(switchtype: str) -> None:
    assert SpanConfig.create(switchtype=switchtype, service_messages=True).service_messages


def test_every_switch_type_is_accepted() -> None:
    for switchtype in SWITCH_TYPES:
        assert SpanConfig.create(switchtype=switchtype).switchtype == switchtype


def test_checking_a_configuration_loads_no_native_code() -> None:
    code = ("import sys; from trunkline.drivers.signalling.pri.config import SpanConfig;"
            "SpanConfig.create(switchtype='ni2', service_messages=True);"
            "print([m for m in sys.modules if m.startswith('_trunkline_') or "
            "m == '_cffi_backend'])")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == "[]"


def test_a_t1_span_takes_timeslots_1_to_23() -> None:
    """Timeslot 16 is a B-channel on T1 (the D-channel is 24, ITU-T I.431)."""
    from trunkline.drivers.signalling.pri.config import T1_CHANNELS

    assert tuple(range(1, 24)) == T1_CHANNELS
    assert SpanConfig.create(switchtype="ni2", channels=T1_CHANNELS).channels == T1_CHANNELS
