"""USB device profiles (firmware-profiles/usb/*.toml): telephony devices by vendor:product
id, as data with their sources.

A profile says what a device is (a mobile module, a stick still in storage mode, a USB
telephony board in some firmware state, a USB-serial bridge that may carry a modem),
which interface carries AT commands and which the call audio, whether voice exists on
it at all, and what to run to get it further: the usb_modeswitch arguments of a storage
stick, the firmware loader of an Astribank. Everything in the files is a fact with a
source (kernel serial drivers' device tables, usb-modeswitch-data, dahdi-tools, vendor
manuals); what was not found says so.

Every file is validated when loaded: a wrong key, id, role or a missing source is a
:class:`~trunkline.errors.ConfigError` naming the file, the device and the field, so a
typo in the data never becomes a silently wrong scan.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

from trunkline.errors import ConfigError

__all__ = [
    "KINDS",
    "ROLES",
    "SPEC",
    "VOICE",
    "BoardFirmware",
    "ModeSwitch",
    "UsbProfile",
    "format_usb_id",
    "load_usb_profiles",
    "parse_usb_id",
    "parse_usb_profiles",
    "usb_table",
]

SPEC = "1.0"

#: What a device is: a mobile ``modem``, a stick in ``storage`` (CD-ROM) mode, a
#: telephony ``board`` (Astribank) in one of its firmware states, a ``usb-serial``
#: bridge that may carry a modem's UART, a module in its firmware ``loader`` mode.
KINDS = frozenset({"modem", "storage", "board", "usb-serial", "loader"})

#: What an interface does. ``at``: the port that takes AT commands while a call is up
#: (Huawei's PCUI, ZTE's AUX); ``modem``: the PPP data port (also answers AT, but a
#: data session holds it); ``audio``/``voice``: call audio as PCM on a serial port;
#: ``nmea``: GNSS (Quectel also sends call PCM there after AT+QPCMV=1,0); ``diag``:
#: Qualcomm DM; ``net``: a network function (QMI, RNDIS, MBIM, ECM); ``storage``.
ROLES = frozenset({"at", "modem", "audio", "voice", "nmea", "diag", "net", "storage"})

#: Whether the device carries voice calls: ``yes``; ``no``; ``firmware`` (the hardware
#: can, but it depends on the firmware: check before buying in bulk); ``analog`` (the
#: module's audio is on analog/PCM pins, not on USB); ``not found`` in our sources.
VOICE = frozenset({"yes", "no", "firmware", "analog", "not found"})

_ID = re.compile(r"([0-9a-fA-F]{4}):([0-9a-fA-F]{4})")
_DEVICE_KEYS = frozenset({"id", "model", "kind", "driver", "interfaces", "at_interface",
                          "audio_interface", "audio", "voice", "voice_note", "sources",
                          "modeswitch", "firmware"})
_FILE_KEYS = frozenset({"spec", "vendor", "sources", "device"})
_MODESWITCH_KEYS = frozenset({"targets", "args", "config"})
_FIRMWARE_KEYS = frozenset({"state", "command", "packages", "files"})
#: usb_modeswitch options a profile may use: -J Huawei's new mode, -K the standard
#: SCSI eject, -M/-2/-3 message contents (hex). Anything else is refused, so a data
#: file cannot smuggle in an option that does more than switch the device.
_MODESWITCH_OPTIONS = frozenset({"-J", "-K", "-M", "-2", "-3"})
_HEX_MESSAGE = re.compile(r"(?:[0-9a-fA-F]{2})+")


def parse_usb_id(text: str) -> tuple[int, int]:
    """``"12d1:1446"`` -> ``(0x12d1, 0x1446)``: vendor and product, four hex digits each
    (the form of lsusb, sysfs ``idVendor``/``idProduct`` and the kernel's tables).

    Raises :class:`ValueError` naming the text when it is anything else."""
    if not isinstance(text, str):
        raise ValueError(f"USB id must be text like '12d1:1446', not {text!r}")
    m = _ID.fullmatch(text.strip())
    if not m:
        raise ValueError(f"not a USB id (vvvv:pppp, hex): {text!r}")
    return int(m.group(1), 16), int(m.group(2), 16)


def format_usb_id(vendor: int, product: int) -> str:
    """``(0x12d1, 0x1446)`` -> ``"12d1:1446"``."""
    for name, value in (("vendor", vendor), ("product", product)):
        if not 0 <= value <= 0xFFFF:
            raise ValueError(f"USB {name} id {value!r} is not in 0..0xffff")
    return f"{vendor:04x}:{product:04x}"


@dataclass(frozen=True, slots=True)
class ModeSwitch:
    """How a storage-mode stick becomes a modem: usb_modeswitch's arguments (after
    ``-v``/``-p``), the ids it may come back as, and the usb-modeswitch-data entry."""

    targets: tuple[str, ...]
    args: tuple[str, ...]
    config: str

    def command(self, vendor_product: str) -> str:
        """The command an installer runs (as root); trunkline never runs it itself."""
        vendor, product = parse_usb_id(vendor_product)
        return " ".join(["usb_modeswitch", "-v", f"0x{vendor:04x}", "-p",
                         f"0x{product:04x}", *self.args])


@dataclass(frozen=True, slots=True)
class BoardFirmware:
    """A USB board's firmware state: what it means, the loader command to move it on
    (``{bus}``/``{dev}`` are filled from the device found), the Debian packages that
    command needs and the firmware files it reads."""

    state: str
    command: str
    packages: tuple[str, ...]
    files: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class UsbProfile:
    """One vendor:product id and what is known about it (see the module docstring)."""

    id: str
    vendor: str
    model: str
    kind: str
    driver: str
    interfaces: Mapping[int, str]
    at_interface: int | None
    audio_interface: int | None
    audio: str
    voice: str
    voice_note: str
    sources: tuple[str, ...]
    modeswitch: ModeSwitch | None
    firmware: BoardFirmware | None
    file: str

    @property
    def name(self) -> str:
        return f"{self.vendor} {self.model}"


def _fail(message: str, source: str, key: str | None = None) -> ConfigError:
    return ConfigError(message, source=source, key=key)


def _text(value: Any, where: str, source: str, key: str, *, required: bool = True) -> str:
    if value is None and not required:
        return ""
    if not isinstance(value, str) or (required and not value.strip()):
        raise _fail(f"{where}: {key} must be non-empty text, not {value!r}", source, key)
    return value


def _texts(value: Any, where: str, source: str, key: str, *, required: bool) -> tuple[str, ...]:
    if value is None and not required:
        return ()
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip()
                                               for v in value):
        raise _fail(f"{where}: {key} must be a list of non-empty texts, not {value!r}",
                    source, key)
    if required and not value:
        raise _fail(f"{where}: {key} must not be empty", source, key)
    return tuple(value)


def _unknown(data: Mapping[str, Any], allowed: frozenset[str], where: str,
             source: str) -> None:
    extra = sorted(set(data) - allowed)
    if extra:
        raise _fail(f"{where}: unknown key(s) {', '.join(extra)} (known: "
                    f"{', '.join(sorted(allowed))})", source, extra[0])


def _interfaces(value: Any, where: str, source: str) -> dict[int, str]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise _fail(f"{where}: interfaces must be a table of number = role", source,
                    "interfaces")
    out: dict[int, str] = {}
    for key, role in value.items():
        if not (isinstance(key, str) and key.isdigit() and int(key) <= 255):
            raise _fail(f"{where}: interface number {key!r} is not 0..255", source,
                        "interfaces")
        if role not in ROLES:
            raise _fail(f"{where}: interface {key} role {role!r} is not one of "
                        f"{', '.join(sorted(ROLES))}", source, "interfaces")
        out[int(key)] = role
    return dict(sorted(out.items()))


def _interface_number(value: Any, interfaces: Mapping[int, str], where: str, source: str,
                      key: str) -> int | None:
    if value is None:
        return None
    if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= 255:
        raise _fail(f"{where}: {key} must be an interface number 0..255, not {value!r}",
                    source, key)
    if interfaces and value not in interfaces:
        raise _fail(f"{where}: {key} {value} is not among its interfaces "
                    f"({', '.join(map(str, interfaces))})", source, key)
    return value


def _modeswitch(value: Any, where: str, source: str) -> ModeSwitch:
    if not isinstance(value, dict):
        raise _fail(f"{where}: a storage-mode device needs a [device.modeswitch] table "
                    "(targets, args, config)", source, "modeswitch")
    _unknown(value, _MODESWITCH_KEYS, f"{where} modeswitch", source)
    targets = _texts(value.get("targets"), f"{where} modeswitch", source, "targets",
                     required=True)
    for target in targets:
        try:
            parse_usb_id(target)
        except ValueError as err:
            raise _fail(f"{where} modeswitch: targets: {err}", source, "targets") from err
    args = _texts(value.get("args"), f"{where} modeswitch", source, "args", required=True)
    expect_message = False
    for arg in args:
        if expect_message:
            if not _HEX_MESSAGE.fullmatch(arg):
                raise _fail(f"{where} modeswitch: message {arg!r} is not hex bytes",
                            source, "args")
            expect_message = False
        elif arg in _MODESWITCH_OPTIONS:
            expect_message = arg in ("-M", "-2", "-3")
        else:
            raise _fail(f"{where} modeswitch: option {arg!r} is not one of "
                        f"{', '.join(sorted(_MODESWITCH_OPTIONS))}", source, "args")
    if expect_message:
        raise _fail(f"{where} modeswitch: {args[-1]} needs a message after it", source,
                    "args")
    config = _text(value.get("config"), f"{where} modeswitch", source, "config")
    return ModeSwitch(targets, args, config)


def _firmware(value: Any, where: str, source: str) -> BoardFirmware:
    if not isinstance(value, dict):
        raise _fail(f"{where}: a board needs a [device.firmware] table (state, and the "
                    "command that loads the next stage)", source, "firmware")
    _unknown(value, _FIRMWARE_KEYS, f"{where} firmware", source)
    return BoardFirmware(
        _text(value.get("state"), f"{where} firmware", source, "state"),
        _text(value.get("command"), f"{where} firmware", source, "command", required=False),
        _texts(value.get("packages"), f"{where} firmware", source, "packages",
               required=False),
        _texts(value.get("files"), f"{where} firmware", source, "files", required=False))


def _device(data: Any, index: int, vendor: str, source: str) -> UsbProfile:
    if not isinstance(data, dict):
        raise _fail(f"device {index}: must be a [[device]] table", source)
    raw_id = data.get("id")
    if not isinstance(raw_id, str):
        raise _fail(f"device {index}: id must be text like '12d1:1446', not {raw_id!r}",
                    source, "id")
    try:
        vid, pid = parse_usb_id(raw_id)
    except ValueError as err:
        raise _fail(f"device {index}: id: {err}", source, "id") from err
    dev_id = format_usb_id(vid, pid)
    where = f"device {index} ({dev_id})"
    _unknown(data, _DEVICE_KEYS, where, source)
    kind = data.get("kind")
    if kind not in KINDS:
        raise _fail(f"{where}: kind {kind!r} is not one of {', '.join(sorted(KINDS))}",
                    source, "kind")
    voice = data.get("voice")
    if voice not in VOICE:
        raise _fail(f"{where}: voice {voice!r} is not one of {', '.join(sorted(VOICE))}",
                    source, "voice")
    interfaces = _interfaces(data.get("interfaces"), where, source)
    at = _interface_number(data.get("at_interface"), interfaces, where, source,
                           "at_interface")
    audio = _interface_number(data.get("audio_interface"), interfaces, where, source,
                              "audio_interface")
    if at is not None and interfaces and interfaces[at] not in ("at", "modem"):
        raise _fail(f"{where}: at_interface {at} has role {interfaces[at]!r}, not at",
                    source, "at_interface")
    modeswitch = _modeswitch(data.get("modeswitch"), where, source) \
        if kind == "storage" else None
    if kind != "storage" and "modeswitch" in data:
        raise _fail(f"{where}: only a storage-mode device has a modeswitch table", source,
                    "modeswitch")
    firmware = _firmware(data.get("firmware"), where, source) if kind == "board" else None
    if kind != "board" and "firmware" in data:
        raise _fail(f"{where}: only a board has a firmware table", source, "firmware")
    return UsbProfile(
        id=dev_id, vendor=vendor,
        model=_text(data.get("model"), where, source, "model"),
        kind=kind,
        driver=_text(data.get("driver"), where, source, "driver", required=False),
        interfaces=interfaces, at_interface=at, audio_interface=audio,
        audio=_text(data.get("audio"), where, source, "audio", required=False),
        voice=voice,
        voice_note=_text(data.get("voice_note"), where, source, "voice_note",
                         required=False),
        sources=_texts(data.get("sources"), where, source, "sources", required=True),
        modeswitch=modeswitch, firmware=firmware, file=source)


def parse_usb_profiles(text: str, source: str) -> tuple[UsbProfile, ...]:
    """The devices of one profile file; ``source`` names it in every error."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        raise _fail(f"not valid TOML: {err}", source) from err
    if str(data.get("spec")) != SPEC:
        raise _fail(f"USB profile spec {data.get('spec')!r}; this trunkline reads "
                    f"{SPEC!r}", source, "spec")
    _unknown(data, _FILE_KEYS, "file", source)
    vendor = _text(data.get("vendor"), "file", source, "vendor")
    _texts(data.get("sources"), "file", source, "sources", required=True)
    devices = data.get("device")
    if not isinstance(devices, list) or not devices:
        raise _fail("no [[device]] tables", source, "device")
    profiles = tuple(_device(d, i, vendor, source) for i, d in enumerate(devices, 1))
    seen: dict[str, int] = {}
    for i, p in enumerate(profiles, 1):
        if p.id in seen:
            raise _fail(f"device {i} ({p.id}): the same id as device {seen[p.id]}", source,
                        "id")
        seen[p.id] = i
    return profiles


@cache
def load_usb_profiles() -> tuple[UsbProfile, ...]:
    """Every bundled USB profile; an id found in two files is an error."""
    folder = resources.files("trunkline.profiles") / "usb"
    out: list[UsbProfile] = []
    owner: dict[str, str] = {}
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if not entry.name.endswith(".toml"):
            continue
        source = f"usb/{entry.name}"
        for prof in parse_usb_profiles(entry.read_text(encoding="utf-8"), source):
            if prof.id in owner:
                raise _fail(f"{prof.id} is also in {owner[prof.id]}", source, "id")
            owner[prof.id] = source
            out.append(prof)
    return tuple(out)


def usb_table() -> dict[str, UsbProfile]:
    """``"vvvv:pppp"`` -> its profile."""
    return {p.id: p for p in load_usb_profiles()}
