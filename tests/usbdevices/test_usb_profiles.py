"""The USB device table: every bundled file loads with sources, ids parse and print
back, and each kind of mistake in a file is refused with the file, device and field."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from trunkline.drivers.commissioning.usbdevices.profiles import (
    ROLES,
    format_usb_id,
    load_usb_profiles,
    parse_usb_id,
    parse_usb_profiles,
    usb_table,
)
from trunkline.errors import ConfigError

ids = st.integers(min_value=0, max_value=0xFFFF)


@given(ids, ids)
def test_an_id_prints_and_parses_back(vendor, product):
    text = format_usb_id(vendor, product)
    assert re.fullmatch(r"[0-9a-f]{4}:[0-9a-f]{4}", text)
    assert parse_usb_id(text) == (vendor, product)
    assert parse_usb_id(text.upper()) == (vendor, product)


@given(st.text(max_size=12))
def test_anything_else_is_refused_by_name_or_parses(text):
    try:
        vendor, product = parse_usb_id(text)
    except ValueError as err:
        assert repr(text) in str(err)
    else:
        assert format_usb_id(vendor, product) == text.strip().lower()


@pytest.mark.parametrize("text", ["12d1-1446", "12d1:144", "0x12d1:0x1446", "12d1:14466",
                                  "g2d1:1446", ""])
def test_malformed_ids(text):
    with pytest.raises(ValueError, match="not a USB id"):
        parse_usb_id(text)


@given(st.integers().filter(lambda v: not 0 <= v <= 0xFFFF), ids)
def test_out_of_range_ids_are_refused(vendor, product):
    with pytest.raises(ValueError, match="vendor id"):
        format_usb_id(vendor, product)


def test_every_bundled_file_loads_with_sources():
    profiles = load_usb_profiles()
    assert len(profiles) >= 40
    vendors = {p.vendor for p in profiles}
    assert {"Quectel", "SIMCom", "Huawei", "ZTE", "Sierra Wireless", "Xorcom"} <= vendors
    for p in profiles:
        assert p.sources, p.id
        assert set(p.interfaces.values()) <= ROLES
        if p.kind == "storage":
            assert p.modeswitch is not None and p.modeswitch.targets
        if p.kind == "board":
            assert p.firmware is not None and p.firmware.state


def test_the_table_says_what_installers_need():
    table = usb_table()
    e1550 = table["12d1:1001"]
    assert (e1550.at_interface, e1550.audio_interface, e1550.voice) == (2, 1, "firmware")
    assert table["12d1:1446"].modeswitch.command("12d1:1446") == \
        "usb_modeswitch -v 0x12d1 -p 0x1446 -J"
    assert "12d1:1001" in table["12d1:1446"].modeswitch.targets
    assert table["19d2:2000"].modeswitch.command("19d2:2000").startswith(
        "usb_modeswitch -v 0x19d2 -p 0x2000 -K -M 5553424312345670")
    ec25 = table["2c7c:0125"]
    assert ec25.interfaces[ec25.at_interface] == "at" and "QPCMV" in ec25.audio
    assert table["1e0e:9001"].interfaces[4] == "audio"
    assert table["1199:9071"].at_interface == 3  # qcserial's Sierra layout
    assert table["e4e4:1150"].firmware.command.startswith("fxload -t fx2")
    assert table["e4e4:1151"].firmware.command.endswith("FPGA_1151.hex")
    assert table["12d1:1f01"].voice == "no"


GOOD = """\
spec = "1.0"
vendor = "Example"
sources = ["a manual"]

[[device]]
id = "1234:5678"
model = "M1"
kind = "modem"
interfaces = { "0" = "diag", "2" = "at", "3" = "audio" }
at_interface = 2
audio_interface = 3
voice = "yes"
sources = ["the manual, page 4"]
"""


def test_a_good_file():
    (p,) = parse_usb_profiles(GOOD, "usb/example.toml")
    assert (p.id, p.name, p.at_interface, p.file) == ("1234:5678", "Example M1", 2,
                                                      "usb/example.toml")


@pytest.mark.parametrize(("change", "message"), [
    (('id = "1234:5678"', 'id = "1234-5678"'), r"device 1: id: not a USB id"),
    (('kind = "modem"', 'kind = "phone"'), r"device 1 \(1234:5678\): kind 'phone'"),
    (('voice = "yes"', 'voice = "maybe"'), r"voice 'maybe' is not one of"),
    (('"2" = "at"', '"2" = "atx"'), r"interface 2 role 'atx'"),
    (('"0" = "diag"', '"x" = "diag"'), r"interface number 'x'"),
    (("at_interface = 2", "at_interface = 7"), r"at_interface 7 is not among its "
                                               r"interfaces \(0, 2, 3\)"),
    (("at_interface = 2", "at_interface = 0"), r"at_interface 0 has role 'diag'"),
    (('sources = ["the manual, page 4"]', "sources = []"), r"sources must not be empty"),
    (('model = "M1"', 'model = "M1"\nmodle = "x"'), r"unknown key\(s\) modle"),
    (('spec = "1.0"', 'spec = "2.0"'), r"spec '2.0'; this trunkline reads '1.0'"),
    (('kind = "modem"', 'kind = "storage"'), r"needs a \[device.modeswitch\] table"),
])
def test_each_mistake_is_named(change, message):
    with pytest.raises(ConfigError, match=message) as err:
        parse_usb_profiles(GOOD.replace(*change), "usb/example.toml")
    assert str(err.value).startswith("usb/example.toml: ")


STORAGE = GOOD.replace('kind = "modem"', 'kind = "storage"') + """\
[device.modeswitch]
targets = ["1234:0001"]
args = ARGS
config = "1234:5678"
"""


@pytest.mark.parametrize(("args", "message"), [
    ('["-J"]', None),
    ('["-K", "-M", "55534243"]', None),
    ('["-M"]', r"-M needs a message after it"),
    ('["-M", "zz"]', r"message 'zz' is not hex bytes"),
    ('["-W", "--reset-usb"]', r"option '-W' is not one of"),
    ('["-J", "; rm -rf /"]', r"option '; rm -rf /' is not one of"),
])
def test_modeswitch_arguments_are_checked(args, message):
    text = STORAGE.replace("ARGS", args)
    if message is None:
        (p,) = parse_usb_profiles(text, "usb/x.toml")
        assert p.modeswitch.command(p.id).startswith("usb_modeswitch -v 0x1234 -p 0x5678 ")
    else:
        with pytest.raises(ConfigError, match=message):
            parse_usb_profiles(text, "usb/x.toml")


def test_the_same_id_twice_in_a_file():
    text = GOOD + GOOD[GOOD.index("[[device]]"):]
    with pytest.raises(ConfigError, match=r"device 2 \(1234:5678\): the same id as "
                                          r"device 1"):
        parse_usb_profiles(text, "usb/x.toml")


def test_not_toml():
    with pytest.raises(ConfigError, match=r"usb/x.toml: not valid TOML"):
        parse_usb_profiles("[[device]\n", "usb/x.toml")
