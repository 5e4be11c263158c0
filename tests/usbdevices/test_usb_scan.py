"""`trunkline scan` lists USB telephony devices beside the card: the table, the verdicts
with the command to run, the JSON, --no-usb, and the listing when DAHDI is missing."""

from __future__ import annotations

import json

import pytest
from usb_sysfs_kit import Intf, add_device, huawei_e1550

from trunkline.cli import main


def machine(root):
    huawei_e1550(root)
    add_device(root, "1-2", 0x12D1, 0x1446, devnum=4,
               interfaces=[Intf(0, 0x08, 0x06, 0x50, "usb-storage")])
    add_device(root, "1-3", 0xE4E4, 0x1150, devnum=5, interfaces=[Intf(0)])
    return root


def test_scan_lists_usb_devices_with_what_to_do(tmp_path, capsys):
    assert main(["scan", "--sysfs", str(machine(tmp_path))]) == 0  # WARNs do not fail
    out = capsys.readouterr().out
    assert "USB: 3 telephony device(s) (sysfs)" in out
    assert "1-1      12d1:1001 modem      /dev/ttyUSB2  /dev/ttyUSB1  firmware  not probed" \
        in out
    assert "PASS  USB 1-1 [12d1:1001]: Huawei E1550" in out
    assert "AT /dev/ttyUSB2, audio /dev/ttyUSB1" in out
    assert "WARN  USB 1-2 [12d1:1446]" in out and "still in storage (CD-ROM) mode" in out
    assert "usb_modeswitch -v 0x12d1 -p 0x1446 -J" in out
    assert "fxload -t fx2 -D /dev/bus/usb/001/005 -I /usr/share/dahdi/USB_FW.hex" in out
    assert "SIM: not probed" in out
    assert "verdict: WARN" in out


def test_scan_json_carries_the_usb_devices(tmp_path, capsys):
    assert main(["scan", "--json", "--sysfs", str(machine(tmp_path))]) == 0
    data = json.loads(capsys.readouterr().out)
    usb = data["usb"]
    assert usb["method"] == "sysfs"
    modem, stick, board = usb["devices"]
    assert (modem["at_port"], modem["audio_port"], modem["voice"]) == (
        "/dev/ttyUSB2", "/dev/ttyUSB1", "firmware")
    assert modem["sim"]["probed"] is False and "not probed" in modem["sim"]["reason"]
    assert stick["storage_mode"] and stick["modeswitch_command"].endswith("-J")
    assert board["firmware_state"].startswith("no firmware") and board["sim"] is None
    assert data["spans"] and data["verdict"] == "WARN"
    assert any(f["subject"] == "USB 1-2 [12d1:1446]" for f in data["findings"])


def test_scan_with_no_usb_devices_says_so(tmp_path, capsys):
    assert main(["scan", "--sysfs", str(tmp_path)]) == 0
    assert "USB: no telephony device found (sysfs)" in capsys.readouterr().out


def test_no_usb_leaves_usb_out(tmp_path, capsys):
    assert main(["scan", "--no-usb", "--sysfs", str(machine(tmp_path))]) == 0
    out = capsys.readouterr().out
    assert "USB" not in out and "verdict: PASS" in out
    assert main(["scan", "--json", "--no-usb"]) == 0
    assert "usb" not in json.loads(capsys.readouterr().out)


def test_without_dahdi_the_usb_devices_are_listed_too(monkeypatch, capsys, tmp_path):
    huawei_e1550(tmp_path)
    monkeypatch.setattr("os.path.exists", lambda path: False)
    assert main(["scan", "--card", "dahdi", "--sysfs", str(tmp_path)]) == 1
    err = capsys.readouterr().err
    assert "no known telephony board on the PCI bus" in err
    assert "USB: 1 telephony device(s) (sysfs)" in err and "/dev/ttyUSB2" in err
    assert "/dev/dahdi/ctl not found" in err


# -- SIM status from the mobile card --------------------------------------------------------
MODULE = {"span": 1, "name": "ec25-1", "location": "/dev/ttyUSB2", "manufacturer": "quectel",
          "sim": "ready", "imsi": "460001234567890", "iccid": "89860012345678901234",
          "operator": "CHINA MOBILE", "registered": True, "registration": "home",
          "rssi": 20, "dbm": -73, "initialised": True, "responding": True}


def test_the_mobile_cards_sim_status_fills_the_usb_device_it_drives(tmp_path):
    from trunkline.drivers.commissioning.usbdevices import discover_usb
    from trunkline.drivers.commissioning.usbdevices.verdicts import (
        module_for,
        usb_lines,
        usb_report,
    )

    huawei_e1550(tmp_path / "sys")
    scan = discover_usb(tmp_path / "sys")
    # the card's configuration names the port by its udev symlink
    link = tmp_path / "usb-1-1-at"
    link.symlink_to("/dev/ttyUSB2")
    module = {**MODULE, "location": str(link)}
    assert module_for(scan.devices[0], [module]) is module
    sim = usb_report(scan, [module])["devices"][0]["sim"]
    assert sim["probed"] is True and sim["span"] == 1
    assert (sim["sim"], sim["imsi"], sim["dbm"]) == ("ready", "460001234567890", -73)
    lines = usb_lines(scan, [module])
    assert "firmware  ready" in lines[2] and not any("not probed" in x for x in lines)
    # a module on another tty leaves the stick "not probed"
    other = {**MODULE, "location": "/dev/ttyUSB7"}
    assert usb_report(scan, [other])["devices"][0]["sim"]["probed"] is False


def test_scan_of_a_mobile_card_shows_each_modules_sim(capsys):
    pytest.importorskip("trunkline.drivers.backends.mobile.card")
    assert main(["scan", "--card", "mobile", "--no-usb"]) == 0
    out = capsys.readouterr().out
    assert "module span 1: gsm1 (emulated) at /dev/pts/" in out
    assert "SIM ready, IMSI " in out and " dBm" in out
