"""A sysfs tree in the kernel's real layout (Documentation/ABI/testing/sysfs-bus-usb),
built under a temporary directory: what the USB scan reads on a machine with modems.

Devices live under ``devices/pci0000:00/0000:00:14.0/usb<bus>/<name>``, interfaces are
their ``<name>:1.<n>`` children, ``bus/usb/devices/`` holds a symlink to each, the
``driver`` of an interface is a symlink to ``bus/usb/drivers/<driver>``, and the nodes a
driver made sit where the kernel puts them: ``ttyUSB<n>/tty/ttyUSB<n>`` (usb-serial),
``tty/ttyACM<n>`` (cdc_acm), ``sound/card<n>`` (snd-usb-audio).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class Intf:
    number: int
    cls: int = 0xFF
    subclass: int = 0xFF
    protocol: int = 0xFF
    driver: str = ""
    ttys: list[str] = field(default_factory=list)
    sound_cards: list[str] = field(default_factory=list)


def _write(path: Path, value: str) -> None:
    path.write_text(value + "\n")


def add_device(root: Path, name: str, vendor: int, product: int, *, busnum: int = 1,
               devnum: int = 2, manufacturer: str = "", product_name: str = "",
               serial: str = "", interfaces: list[Intf] = ()) -> Path:
    """One USB device (and its root hub, once) under ``root``; returns its folder."""
    hub = root / "devices" / "pci0000:00" / "0000:00:14.0" / f"usb{busnum}"
    links = root / "bus" / "usb" / "devices"
    links.mkdir(parents=True, exist_ok=True)
    if not hub.exists():
        hub.mkdir(parents=True)
        for key, value in (("idVendor", "1d6b"), ("idProduct", "0002"),
                           ("busnum", str(busnum)), ("devnum", "1")):
            _write(hub / key, value)
        os.symlink(hub, links / f"usb{busnum}")
    dev = hub / name
    dev.mkdir()
    for key, value in (("idVendor", f"{vendor:04x}"), ("idProduct", f"{product:04x}"),
                       ("busnum", str(busnum)), ("devnum", str(devnum)),
                       ("bNumInterfaces", f"{len(interfaces):2d}")):
        _write(dev / key, value)
    for key, value in (("manufacturer", manufacturer), ("product", product_name),
                       ("serial", serial)):
        if value:
            _write(dev / key, value)
    os.symlink(dev, links / name)
    for i in interfaces:
        path = dev / f"{name}:1.{i.number}"
        path.mkdir()
        for key, value in (("bInterfaceNumber", i.number), ("bInterfaceClass", i.cls),
                           ("bInterfaceSubClass", i.subclass),
                           ("bInterfaceProtocol", i.protocol)):
            _write(path / key, f"{value:02x}")
        if i.driver:
            target = root / "bus" / "usb" / "drivers" / i.driver
            target.mkdir(parents=True, exist_ok=True)
            os.symlink(target, path / "driver")
        for tty in i.ttys:
            if tty.startswith("ttyACM"):
                (path / "tty" / tty).mkdir(parents=True)
            else:
                (path / tty / "tty" / tty).mkdir(parents=True)
        for card in i.sound_cards:
            (path / "sound" / card).mkdir(parents=True)
        os.symlink(path, links / path.name)
    return dev


def huawei_e1550(root: Path, *, name: str = "1-1", devnum: int = 3,
                 first_tty: int = 0, driver: str = "option") -> Path:
    """An E1550 switched to modem mode (12d1:1001): modem, voice, PCUI on ttyUSB0-2."""
    return add_device(root, name, 0x12D1, 0x1001, devnum=devnum,
                      manufacturer="HUAWEI Technology", product_name="HUAWEI Mobile",
                      interfaces=[Intf(n, driver=driver,
                                       ttys=[f"ttyUSB{first_tty + n}"] if driver else [])
                                  for n in range(3)])
