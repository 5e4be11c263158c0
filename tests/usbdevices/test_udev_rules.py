"""docs/90-trunkline-mobile.rules: every line is a udev rule as udev(7) writes them, and
the rules name the AT and audio interfaces the USB table gives, for every module in it."""

from __future__ import annotations

import re
from pathlib import Path

from trunkline.drivers.commissioning.usbdevices import load_usb_profiles

RULES = Path(__file__).resolve().parents[2] / "docs" / "90-trunkline-mobile.rules"

# udev(7): a rule is comma-separated key-value pairs; match keys use == or !=,
# assignment keys =, += or :=; values are double-quoted.
_PAIR = re.compile(r'(?P<key>[A-Z_]+)(?:\{(?P<attr>[A-Za-z_0-9]+)\})?'
                   r'(?P<op>==|!=|\+=|:=|=)"(?P<value>[^"]*)"')
_MATCH = {"ACTION", "SUBSYSTEM", "SUBSYSTEMS", "ATTR", "ATTRS", "ENV", "KERNEL"}
_ASSIGN = {"GOTO", "LABEL", "MODE", "GROUP", "SYMLINK", "ENV"}


def rules() -> list[list[tuple[str, str | None, str, str]]]:
    out = []
    for number, line in enumerate(RULES.read_text().splitlines(), 1):
        if not line.strip() or line.startswith("#"):
            continue
        pairs = [p.strip() for p in line.split(", ")]
        parsed = []
        for pair in pairs:
            m = _PAIR.fullmatch(pair)
            assert m, f"line {number}: not a udev key-value pair: {pair!r}"
            key, op = m.group("key"), m.group("op")
            assert key in (_MATCH if op in ("==", "!=") else _ASSIGN), \
                f"line {number}: {key}{op} is not used that way"
            parsed.append((key, m.group("attr"), op, m.group("value")))
        out.append(parsed)
    return out


def test_every_line_is_a_rule_and_every_goto_has_its_label():
    parsed = rules()
    labels = {v for r in parsed for k, _, _, v in r if k == "LABEL"}
    gotos = {v for r in parsed for k, _, _, v in r if k == "GOTO"}
    assert gotos == labels


def test_the_rules_follow_the_usb_table():
    symlinks: dict[tuple[str, str, str], str] = {}
    ignored: set[tuple[str, str]] = set()
    for r in rules():
        match = {(k, a): v for k, a, op, v in r if op == "=="}
        vid = match.get(("ATTRS", "idVendor"))
        pid = match.get(("ATTRS", "idProduct"))
        for k, a, _op, v in r:
            if k == "SYMLINK":
                symlinks[(vid, pid, v.rsplit("-", 1)[1])] = match[("ENV",
                                                                   "ID_USB_INTERFACE_NUM")]
                assert v.startswith("trunkline/usb-%b-")
            if (k, a) == ("ENV", "ID_MM_DEVICE_IGNORE") and vid:
                ignored.add((vid, pid))
    modules = [p for p in load_usb_profiles() if p.kind == "modem"
               and p.at_interface is not None]
    assert modules
    expected = {}
    for p in modules:
        vid, pid = p.id.split(":")
        expected[(vid, pid, "at")] = f"{p.at_interface:02x}"
        if p.audio_interface is not None:
            expected[(vid, pid, "audio")] = f"{p.audio_interface:02x}"
        assert (vid, pid) in ignored, f"{p.id}: ModemManager not told to ignore it"
    assert symlinks == expected
