"""`trunkline scan` lists USB telephony devices beside the card: the table, the verdicts
with the command to run, the JSON, --no-usb, and the listing when DAHDI is missing."""

from __future__ import annotations

import json

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
