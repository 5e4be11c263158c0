"""USB devices as the kernel shows them in sysfs (Documentation/ABI/testing/sysfs-bus-usb
and Documentation/ABI/stable/sysfs-bus-usb).

``/sys/bus/usb/devices/`` holds one entry per device (``1-1``, ``1-1.4``; root hubs are
``usb1``) and one per interface (``1-1:1.2``: configuration 1, interface 2), each a
symlink into ``/sys/devices``. A device has ``idVendor``, ``idProduct``, ``busnum``,
``devnum`` and, when it gave them, ``manufacturer``, ``product``, ``serial``; an
interface has ``bInterfaceNumber``, ``bInterfaceClass``/``SubClass``/``Protocol`` (hex),
a ``driver`` symlink to the kernel driver bound to it, and the nodes that driver made:
``ttyUSB<n>`` (usb-serial drivers: option, qcserial, ch341...), ``tty/ttyACM<n>``
(cdc_acm), ``sound/card<n>`` (snd-usb-audio: a module's USB Audio Class voice).

Reading sysfs needs no permission beyond what every user has, so it works where pyusb
cannot open a device; and only sysfs knows which kernel driver holds an interface and
which tty it became. The root is a parameter so tests build a tree in the kernel's
layout under a temporary directory.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

__all__ = ["SysfsInterface", "SysfsUsbDevice", "read_usb_devices"]


@dataclass(frozen=True, slots=True)
class SysfsInterface:
    number: int
    cls: int
    subclass: int
    protocol: int
    driver: str
    ttys: tuple[str, ...]
    sound_cards: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class SysfsUsbDevice:
    name: str  # the kernel's name for the port path: "1-1.4"
    vendor_id: int
    product_id: int
    busnum: int
    devnum: int
    manufacturer: str
    product: str
    serial: str
    interfaces: tuple[SysfsInterface, ...]


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8", errors="replace").strip()
    except OSError:
        return ""


def _hex(path: Path, default: int = -1) -> int:
    try:
        return int(_read(path), 16)
    except ValueError:
        return default


def _dec(path: Path, default: int = -1) -> int:
    try:
        return int(_read(path))
    except ValueError:
        return default


def _names(folder: Path, prefix: str) -> list[str]:
    try:
        return sorted(e.name for e in folder.iterdir() if e.name.startswith(prefix))
    except OSError:
        return []


def _interface(path: Path) -> SysfsInterface:
    driver = path / "driver"
    bound = os.path.basename(os.readlink(driver)) if driver.is_symlink() else ""
    ttys = _names(path, "ttyUSB") + _names(path / "tty", "ttyACM")
    cards = _names(path / "sound", "card")
    return SysfsInterface(_hex(path / "bInterfaceNumber"), _hex(path / "bInterfaceClass"),
                          _hex(path / "bInterfaceSubClass"),
                          _hex(path / "bInterfaceProtocol"), bound, tuple(ttys),
                          tuple(cards))


def read_usb_devices(sysfs: str | Path = "/sys") -> list[SysfsUsbDevice]:
    """Every USB device under ``sysfs`` (root hubs left out), by name; empty when there
    is no USB bus (a container, a machine without USB) rather than an error."""
    devices = Path(sysfs) / "bus" / "usb" / "devices"
    found: list[SysfsUsbDevice] = []
    for name in _names(devices, ""):
        if ":" in name or name.startswith("usb"):
            continue  # interfaces are read with their device; root hubs are not devices
        path = devices / name
        vendor, product = _hex(path / "idVendor"), _hex(path / "idProduct")
        if not (0 <= vendor <= 0xFFFF and 0 <= product <= 0xFFFF):
            continue  # not a device (or one the kernel is tearing down): no id to match
        interfaces = tuple(_interface(path / i) for i in _names(path, f"{name}:"))
        found.append(SysfsUsbDevice(
            name, vendor, product, _dec(path / "busnum"),
            _dec(path / "devnum"), _read(path / "manufacturer"), _read(path / "product"),
            _read(path / "serial"),
            tuple(sorted(interfaces, key=lambda i: i.number))))
    return found
