"""Finding USB telephony devices: pyusb (libusb) first, sysfs for what only the kernel
knows, sysfs alone when pyusb cannot help, and always the reason why.

pyusb enumerates the bus through libusb and reads each device's descriptors; its string
descriptors (manufacturer, product, serial) need the device opened, which an ordinary
user may not do: then the strings come from sysfs and the scan says which udev rule
gives the trunkline group access. Which kernel driver holds each interface and which
``/dev/ttyUSB<n>`` it made are only in sysfs (:mod:`.sysfs`), so sysfs is read either
way. Without pyusb or without a libusb backend the scan is sysfs-only, with the reason
and the package to install.

Each device is matched against the USB profiles (:mod:`.profiles`): its model, the AT
and audio ports, whether it is a stick still in storage mode (and the usb_modeswitch
command to send: printed, never run), or a board in a firmware state (and the loader
command). Devices from modem makers that the table does not know are listed too, with
their interfaces, so a new module shows up rather than vanishing.
"""

from __future__ import annotations

import errno
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .profiles import UsbProfile, format_usb_id, usb_table
from .sysfs import SysfsInterface, SysfsUsbDevice, read_usb_devices

__all__ = [
    "MODEM_VENDORS",
    "UDEV_RULES",
    "FoundUsbDevice",
    "UsbInterface",
    "UsbScan",
    "discover_usb",
    "udev_rule_for",
]

#: Vendor ids whose unknown products are still listed (usb.ids names; 0x1e0e is the
#: vendor id SIMCom's LTE modules report, ALINK_VENDOR_ID in the kernel's option.c).
MODEM_VENDORS = {0x2C7C: "Quectel", 0x1E0E: "SIMCom", 0x12D1: "Huawei", 0x19D2: "ZTE",
                 0x1199: "Sierra Wireless", 0xE4E4: "Xorcom"}

#: Where the rules an installer copies live (docs/mobile.md explains them).
UDEV_RULES = "docs/90-trunkline-mobile.rules"

_MASS_STORAGE = 0x08  # bInterfaceClass, USB-IF class codes
_VENDOR_SPECIFIC = 0xFF


def udev_rule_for(vendor_id: int) -> str:
    """A udev line giving the trunkline group the USB device nodes of one vendor."""
    return (f'SUBSYSTEM=="usb", ATTR{{idVendor}}=="{vendor_id:04x}", MODE="0660", '
            f'GROUP="trunkline"')


@dataclass(frozen=True, slots=True)
class UsbInterface:
    number: int
    cls: int
    subclass: int
    protocol: int
    driver: str  # the kernel driver bound to it ("" when none)
    ttys: tuple[str, ...]
    sound_cards: tuple[str, ...]
    role: str  # from the profile ("" when the profile does not say)

    @property
    def class_triple(self) -> str:
        return f"{self.cls:02x}/{self.subclass:02x}/{self.protocol:02x}"

    def as_dict(self) -> dict[str, Any]:
        return {"number": self.number, "class": self.class_triple, "driver": self.driver,
                "ttys": [f"/dev/{t}" for t in self.ttys],
                "sound_cards": list(self.sound_cards), "role": self.role}


@dataclass(frozen=True, slots=True)
class FoundUsbDevice:
    """A USB device the scan reports, with what its profile says about it."""

    name: str  # the kernel's port path, "1-1.4"
    vendor_id: int
    product_id: int
    busnum: int
    devnum: int
    manufacturer: str
    product: str
    serial: str
    interfaces: tuple[UsbInterface, ...]
    profile: UsbProfile | None
    seen_by: str  # "pyusb" or "sysfs"

    @property
    def id(self) -> str:
        return format_usb_id(self.vendor_id, self.product_id)

    @property
    def kind(self) -> str:
        if self.profile is not None:
            return self.profile.kind
        return "storage" if self.storage_mode else "unknown"

    @property
    def description(self) -> str:
        if self.profile is not None:
            return self.profile.name
        vendor = MODEM_VENDORS.get(self.vendor_id, self.manufacturer or "unknown vendor")
        return f"{vendor} {self.product or 'device'} (not in trunkline's USB table)"

    @property
    def storage_mode(self) -> bool:
        """A modem stick still showing only its CD-ROM / card reader."""
        if self.profile is not None:
            return self.profile.kind == "storage"
        return bool(self.interfaces) and all(i.cls == _MASS_STORAGE
                                             for i in self.interfaces)

    def _port(self, number: int | None) -> str | None:
        for i in self.interfaces:
            if i.number == number and i.ttys:
                return f"/dev/{i.ttys[0]}"
        return None

    @property
    def at_port(self) -> str | None:
        """The tty of the AT interface, once a driver has made one."""
        return self._port(self.profile.at_interface if self.profile else None)

    @property
    def audio_port(self) -> str | None:
        """The tty carrying call PCM (Huawei's voice port, SIMCom's audio port, the
        Quectel NMEA port after AT+QPCMV=1,0)."""
        return self._port(self.profile.audio_interface if self.profile else None)

    @property
    def sound_card(self) -> str | None:
        """An ALSA card the device made (Quectel UAC after AT+QPCMV=1,2)."""
        for i in self.interfaces:
            if i.sound_cards:
                return i.sound_cards[0]
        return None

    @property
    def modeswitch_command(self) -> str | None:
        """The usb_modeswitch command for a storage-mode stick (trunkline only prints
        it). A Huawei stick our table lacks gets -J: usb-modeswitch-data switches any
        Huawei device showing mass storage on interface 0 (40-usb_modeswitch.rules)."""
        if self.profile is not None and self.profile.modeswitch is not None:
            return self.profile.modeswitch.command(self.id)
        if self.profile is None and self.storage_mode and self.vendor_id == 0x12D1:
            return f"usb_modeswitch -v 0x12d1 -p 0x{self.product_id:04x} -J"
        return None

    @property
    def firmware_command(self) -> str | None:
        """A board's next firmware loader command, with this device's bus and address."""
        if self.profile is None or self.profile.firmware is None \
                or not self.profile.firmware.command:
            return None
        return self.profile.firmware.command.format(bus=f"{self.busnum:03d}",
                                                    dev=f"{self.devnum:03d}")

    @property
    def unbound_interfaces(self) -> list[int]:
        """Interfaces the profile gives a serial role that no kernel driver holds."""
        if self.profile is None:
            return []
        found = {i.number: i for i in self.interfaces}
        return [n for n, role in self.profile.interfaces.items()
                if role in ("at", "audio", "voice") and n in found and not found[n].driver]

    def as_dict(self) -> dict[str, Any]:
        prof = self.profile
        return {
            "name": self.name, "id": self.id, "bus": self.busnum, "device": self.devnum,
            "kind": self.kind, "description": self.description,
            "manufacturer": self.manufacturer, "product": self.product,
            "serial": self.serial, "seen_by": self.seen_by,
            "storage_mode": self.storage_mode,
            "modeswitch_command": self.modeswitch_command,
            "firmware_state": prof.firmware.state if prof and prof.firmware else None,
            "firmware_command": self.firmware_command,
            "at_port": self.at_port, "audio_port": self.audio_port,
            "sound_card": self.sound_card,
            "voice": prof.voice if prof else "not found",
            "voice_note": prof.voice_note if prof else "",
            "audio": prof.audio if prof else "",
            "sources": list(prof.sources) if prof else [],
            "interfaces": [i.as_dict() for i in self.interfaces],
        }


@dataclass(frozen=True, slots=True)
class UsbScan:
    """What the scan found, how (``pyusb`` or ``sysfs``), and why it fell back."""

    devices: tuple[FoundUsbDevice, ...]
    method: str
    notes: tuple[str, ...] = field(default=())

    def as_dict(self) -> dict[str, Any]:
        return {"method": self.method, "notes": list(self.notes),
                "devices": [d.as_dict() for d in self.devices]}


@dataclass(slots=True)
class _PyusbDevice:
    vendor_id: int
    product_id: int
    busnum: int
    devnum: int
    name: str
    interfaces: list[tuple[int, int, int, int]]  # number, class, subclass, protocol
    strings: tuple[str, str, str] | None  # manufacturer, product, serial (None: unread)


def _pyusb_devices(backend: Any, notes: list[str],
                   wanted: Callable[[int, int], bool]) -> list[_PyusbDevice] | None:
    """Devices as pyusb sees them, or None (with a note) when pyusb cannot be used."""
    try:
        import usb.backend.libusb1
        import usb.core
        import usb.util
    except ImportError:
        notes.append("pyusb is not installed (pip install pyusb): devices read from "
                     "sysfs only")
        return None
    if backend is None:
        backend = usb.backend.libusb1.get_backend()
    if backend is None:
        notes.append("pyusb found no libusb backend: install the Debian package "
                     "libusb-1.0-0 (scripts/setup lists it); devices read from sysfs only")
        return None
    try:
        devices = list(usb.core.find(find_all=True, backend=backend))
    except usb.core.USBError as err:
        notes.append(f"pyusb could not list the bus ({err}): devices read from sysfs only")
        return None
    out: list[_PyusbDevice] = []
    denied: list[str] = []
    for dev in devices:
        vid, pid = int(dev.idVendor), int(dev.idProduct)
        ports = getattr(dev, "port_numbers", None) or ()
        name = f"{dev.bus}-{'.'.join(map(str, ports))}" if ports else f"{dev.bus}-?"
        interfaces: list[tuple[int, int, int, int]] = []
        try:
            for cfg in dev:
                for intf in cfg:
                    if intf.bAlternateSetting == 0:
                        interfaces.append((intf.bInterfaceNumber, intf.bInterfaceClass,
                                           intf.bInterfaceSubClass,
                                           intf.bInterfaceProtocol))
                break  # the first configuration: the one Linux selects for these devices
        except (usb.core.USBError, ValueError):
            interfaces = []
        strings: tuple[str, str, str] | None = None
        if wanted(vid, pid):
            strings = _strings(dev, usb, denied, name)
        out.append(_PyusbDevice(vid, pid, int(dev.bus or 0), int(dev.address or 0), name,
                                interfaces, strings))
    if denied:
        vendors = sorted({int(d.split(":")[0], 16) for d in denied})
        notes.append(
            f"pyusb could not open {', '.join(denied)} (permission denied): names read "
            f"from sysfs. To let the trunkline group open them, install {UDEV_RULES} "
            f"into /etc/udev/rules.d/ or add: "
            + "; ".join(udev_rule_for(v) for v in vendors))
    return out


def _strings(dev: Any, usb: Any, denied: list[str], name: str) -> tuple[str, str, str] | None:
    """The device's manufacturer, product and serial strings: a GET_DESCRIPTOR for the
    language ids first (USB 2.0 section 9.6.7), which needs the device opened."""
    try:
        langids = usb.util.get_langids(dev)
    except usb.core.USBError as err:
        if getattr(err, "errno", None) in (errno.EACCES, errno.EPERM):
            denied.append(f"{format_usb_id(dev.idVendor, dev.idProduct)} at {name}")
        return None
    if not langids:
        return ("", "", "")
    values = []
    for index in (dev.iManufacturer, dev.iProduct, dev.iSerialNumber):
        try:
            values.append(usb.util.get_string(dev, index, langids[0]) or "" if index else "")
        except (usb.core.USBError, ValueError):
            values.append("")
    return values[0], values[1], values[2]


def _interesting(vid: int, pid: int, table: dict[str, UsbProfile]) -> bool:
    return format_usb_id(vid, pid) in table or vid in MODEM_VENDORS


def _keep_unknown(interfaces: tuple[UsbInterface, ...]) -> bool:
    """An unknown device from a modem maker is listed when it looks like one: a
    vendor-specific (serial) interface, or mass storage only (a stick not switched)."""
    return any(i.cls in (_VENDOR_SPECIFIC, _MASS_STORAGE) for i in interfaces)


def _merge_interfaces(profile: UsbProfile | None, from_sysfs: tuple[SysfsInterface, ...],
                      from_pyusb: list[tuple[int, int, int, int]]) -> tuple[UsbInterface, ...]:
    roles = profile.interfaces if profile else {}
    sysfs_by_number = {i.number: i for i in from_sysfs}
    merged: dict[int, UsbInterface] = {}
    for number, cls, sub, proto in from_pyusb:
        s = sysfs_by_number.get(number)
        merged[number] = UsbInterface(number, cls, sub, proto, s.driver if s else "",
                                      s.ttys if s else (), s.sound_cards if s else (),
                                      roles.get(number, ""))
    for s in from_sysfs:
        if s.number not in merged:
            merged[s.number] = UsbInterface(s.number, s.cls, s.subclass, s.protocol,
                                            s.driver, s.ttys, s.sound_cards,
                                            roles.get(s.number, ""))
    return tuple(merged[n] for n in sorted(merged))


def discover_usb(sysfs: str | Path = "/sys", *, use_pyusb: bool | None = None,
                 backend: Any = None) -> UsbScan:
    """The USB telephony devices on this machine (or under ``sysfs``).

    pyusb is used when ``sysfs`` is the real ``/sys`` (its bus is this machine's) or
    when ``backend`` (a pyusb backend) is given; ``use_pyusb`` forces either way. Never
    raises for a missing bus, library or permission: those become notes."""
    table = usb_table()
    notes: list[str] = []
    if use_pyusb is None:
        use_pyusb = backend is not None or Path(sysfs) == Path("/sys")
    kernel = {(d.busnum, d.devnum): d for d in read_usb_devices(sysfs)}
    seen: list[tuple[SysfsUsbDevice | None, _PyusbDevice | None]] = []
    method = "sysfs"
    pyusb_found = _pyusb_devices(backend, notes,
                                 lambda v, p: _interesting(v, p, table)) \
        if use_pyusb else None
    if pyusb_found is not None:
        method = "pyusb"
        matched = set()
        for dev in pyusb_found:
            k = kernel.get((dev.busnum, dev.devnum))
            if k is not None:
                matched.add((dev.busnum, dev.devnum))
            seen.append((k, dev))
        seen += [(k, None) for key, k in kernel.items() if key not in matched]
    else:
        seen = [(k, None) for k in kernel.values()]
    found: list[FoundUsbDevice] = []
    for k, p in seen:
        vid = p.vendor_id if p else k.vendor_id if k else -1
        pid = p.product_id if p else k.product_id if k else -1
        if not _interesting(vid, pid, table):
            continue
        profile = table.get(format_usb_id(vid, pid))
        interfaces = _merge_interfaces(profile, k.interfaces if k else (),
                                       p.interfaces if p else [])
        if profile is None and not _keep_unknown(interfaces):
            continue
        strings = p.strings if p and p.strings is not None else \
            ((k.manufacturer, k.product, k.serial) if k else ("", "", ""))
        found.append(FoundUsbDevice(
            name=k.name if k else p.name if p else "?", vendor_id=vid, product_id=pid,
            busnum=p.busnum if p else k.busnum if k else -1,
            devnum=p.devnum if p else k.devnum if k else -1,
            manufacturer=strings[0], product=strings[1], serial=strings[2],
            interfaces=interfaces, profile=profile, seen_by="pyusb" if p else "sysfs"))
    found.sort(key=lambda d: (d.busnum, d.name))
    if use_pyusb and pyusb_found is not None and not kernel and pyusb_found:
        notes.append(f"no USB devices under {sysfs}/bus/usb: kernel drivers and ttys unknown")
    return UsbScan(tuple(found), method, tuple(notes))
