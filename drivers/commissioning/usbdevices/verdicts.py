"""What ``trunkline scan`` says about the USB devices found: one verdict per device with
what to do, the table lines and the JSON.

Nothing here changes a device. A stick in storage mode gets the usb_modeswitch command
to run (as root), a board the firmware loader to run: printed, never executed, because
switching or flashing hardware from a read-only command would surprise an installer,
and udev does both at every plug once usb-modeswitch-data and dahdi's rules are
installed.

SIM status (PIN, IMSI/ICCID, operator, signal) is not probed by the USB scan: it would
mean opening the AT port, which a running gateway may hold (a second reader on a modem's
AT port breaks the session that owns it: the ModemManager problem docs/mobile.md
describes). When the card being scanned is the mobile card that drives the modules
(``trunkline scan --card mobile:CARD.toml``), the SIM status its backend read is put
beside the USB device whose tty is the module's AT port (:func:`module_for`); otherwise
the ``sim`` field says "not probed" and why.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import Any

from ..common import make_finding
from .discover import FoundUsbDevice, UsbScan

__all__ = ["SIM_NOT_PROBED", "module_for", "usb_findings", "usb_lines", "usb_report"]

SIM_NOT_PROBED = ("not probed: the scan does not open AT ports a gateway may hold; the "
                  "mobile backend reports SIM status for the modules it drives")

_NEW_ID = ("if the kernel does not know this id: echo {vid:04x} {pid:04x} > "
           "/sys/bus/usb-serial/drivers/{driver}1/new_id")


def _subject(dev: FoundUsbDevice) -> str:
    return f"USB {dev.name} [{dev.id}]"


def _device_findings(dev: FoundUsbDevice) -> list[Any]:
    prof = dev.profile
    subject = _subject(dev)
    if dev.storage_mode:
        command = dev.modeswitch_command
        cause = (f"switch it: {command} (as root; Debian package usb-modeswitch, and "
                 "usb-modeswitch-data to switch it at every plug)") if command else \
            "no mode switch known for it: see usb-modeswitch-data's device list"
        return [make_finding("WARN", subject, f"{dev.description}: still in storage "
                             "(CD-ROM) mode, no modem ports yet", cause)]
    if prof is None:
        return [make_finding("WARN", subject, f"{dev.description}",
                             "its interfaces are listed; the AT port is the tty that "
                             "answers AT. Please report the id with its lsusb -v")]
    if prof.kind == "board":
        assert prof.firmware is not None  # the loader requires it for boards
        command = dev.firmware_command
        if command:
            needs = f" (packages: {', '.join(prof.firmware.packages)}" \
                if prof.firmware.packages else " ("
            files = f"; firmware {', '.join(prof.firmware.files)} in /usr/share/dahdi)" \
                if prof.firmware.files else ")"
            return [make_finding("WARN", subject, f"{dev.description}: "
                                 f"{prof.firmware.state}",
                                 f"run: {command}{needs}{files}; the dahdi package's "
                                 "60-dahdi.rules runs /usr/share/dahdi/xpp_fxloader for "
                                 "it at every plug")]
        if any(i.driver == prof.driver for i in dev.interfaces):
            return [make_finding("PASS", subject, f"{dev.description}: driven by "
                                 f"{prof.driver}")]
        return [make_finding("WARN", subject, f"{dev.description}: {prof.firmware.state}",
                             f"modprobe {prof.driver}")]
    if prof.kind == "loader":
        return [make_finding("WARN", subject, f"{dev.description}", prof.voice_note)]
    if prof.kind == "usb-serial":
        return []  # a bridge may or may not carry a modem: listed, no verdict
    out = []
    unbound = dev.unbound_interfaces
    if unbound:
        cause = f"modprobe {prof.driver}" if prof.driver else "no driver named"
        if prof.driver in ("option", "qcserial"):
            cause += "; " + _NEW_ID.format(vid=dev.vendor_id, pid=dev.product_id,
                                           driver=prof.driver)
        out.append(make_finding("WARN", subject, f"{dev.description}: interface(s) "
                                f"{', '.join(map(str, unbound))} have no kernel driver",
                                cause))
    elif dev.at_port:
        ports = f"AT {dev.at_port}"
        if dev.audio_port:
            ports += f", audio {dev.audio_port}"
        if dev.sound_card:
            ports += f", USB audio {dev.sound_card}"
        out.append(make_finding("PASS", subject, f"{dev.description}: {ports}"))
    elif prof.at_interface is None:
        out.append(make_finding("WARN", subject, f"{dev.description}: which interface "
                                "takes AT is not in trunkline's table",
                                "the AT port is the tty that answers AT"))
    if prof.voice in ("no", "not found"):
        out.append(make_finding("WARN", subject, f"{dev.description}: no voice calls "
                                "(SMS and SIM status only)",
                                prof.voice_note or "no voice path found for it"))
    return out


def usb_findings(scan: UsbScan) -> list[Any]:
    """One or two verdicts per device, and a WARN for each reason the scan fell back."""
    findings = [make_finding("WARN", "USB scan", note) for note in scan.notes]
    for dev in scan.devices:
        findings += _device_findings(dev)
    return findings


def module_for(dev: FoundUsbDevice, modules: Sequence[Mapping[str, Any]]) -> \
        Mapping[str, Any] | None:
    """The mobile card's module (its hardware entry, with the SIM status the backend
    read) whose AT port is one of this device's ttys: the port in the card's
    configuration may be a udev symlink (/dev/trunkline/usb-1-1.4-at), so it is
    resolved to the tty it names."""
    ttys = {t for i in dev.interfaces for t in i.ttys}
    for module in modules:
        port = str(module.get("location") or module.get("port") or "")
        if port and os.path.basename(os.path.realpath(port)) in ttys:
            return module
    return None


def _sim(dev: FoundUsbDevice, modules: Sequence[Mapping[str, Any]]) -> dict[str, Any] | None:
    if dev.kind != "modem":
        return None
    module = module_for(dev, modules)
    if module is None:
        return {"probed": False, "reason": SIM_NOT_PROBED}
    return {"probed": True, "span": module.get("span"),
            **{k: module.get(k) for k in _SIM_KEYS if k in module}}


_SIM_KEYS = ("sim", "imsi", "iccid", "operator", "registered", "registration", "rssi",
             "dbm", "model", "initialised", "responding")


def usb_report(scan: UsbScan, modules: Sequence[Mapping[str, Any]] = ()) -> dict[str, Any]:
    """The scan's JSON ``usb`` object: the devices, each modem with a ``sim`` field that
    the mobile card fills when the scanned card drives it (``modules``: its hardware
    entries), and says "not probed" otherwise."""
    data = scan.as_dict()
    for dev, out in zip(scan.devices, data["devices"], strict=True):
        out["sim"] = _sim(dev, modules)
    return data


def usb_lines(scan: UsbScan, modules: Sequence[Mapping[str, Any]] = ()) -> list[str]:
    """The table ``trunkline scan`` prints."""
    if not scan.devices:
        return [f"USB: no telephony device found ({scan.method})"]
    lines = [f"USB: {len(scan.devices)} telephony device(s) ({scan.method})",
             f"  {'port':<8} {'id':<9} {'kind':<10} {'AT':<13} {'audio':<13} "
             f"{'voice':<9} {'SIM':<10} device"]
    for dev in scan.devices:
        prof = dev.profile
        audio = dev.audio_port or (f"ALSA {dev.sound_card}" if dev.sound_card else "-")
        status = _sim(dev, modules)
        sim = "-" if status is None else str(status.get("sim", "?")) \
            if status["probed"] else "not probed"
        lines.append(f"  {dev.name:<8} {dev.id:<9} {dev.kind:<10} {dev.at_port or '-':<13} "
                     f"{audio:<13} {prof.voice if prof else '?':<9} {sim:<10} "
                     f"{dev.description}")
        for i in dev.interfaces:
            ttys = ",".join(f"/dev/{t}" for t in i.ttys) or "-"
            lines.append(f"      if{i.number} {i.class_triple} {i.role or '?':<7} "
                         f"{i.driver or 'no driver':<14} {ttys}")
    if any((s := _sim(d, modules)) is not None and not s["probed"] for d in scan.devices):
        lines.append(f"  SIM: {SIM_NOT_PROBED} (scan --card mobile:CARD.toml opens them "
                     "and shows it)")
    return lines
