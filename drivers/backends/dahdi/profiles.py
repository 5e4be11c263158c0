"""Board profiles (firmware-profiles/boards/*.toml) and finding boards on the PCI bus.

A profile holds facts about one board family, each with its source: PCI ids, the kernel
module, spans, echo canceller and firmware files. :func:`find_boards` reads
``/sys/bus/pci/devices/*/{vendor,device,subsystem_vendor,subsystem_device}`` and matches
them most specific first (``vendor:device/subvendor:subdevice``, then
``vendor:device/subvendor``, then ``vendor:device``), the order dahdi-tools'
``dahdi_hardware`` uses, so `trunkline scan` names a board and the module it needs even
when DAHDI is not loaded. ``/sys/bus/pci/devices/*/driver`` says which module has it.
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path

from trunkline.errors import ConfigError

SPEC = "1.0"


@dataclass(frozen=True)
class PciId:
    id: str
    description: str
    module: str


@dataclass(frozen=True)
class BoardProfile:
    id: str
    vendor: str
    name: str
    module: str
    spans: int
    span_kinds: tuple[str, ...]
    echo_canceller: str
    firmware: tuple[str, ...]
    sources: tuple[str, ...]
    pci: tuple[PciId, ...]


@dataclass(frozen=True)
class FoundBoard:
    """A board on the bus that a profile knows."""

    address: str
    pci_id: str
    description: str
    module: str
    loaded_driver: str
    profile: BoardProfile

    @property
    def driver_loaded(self) -> bool:
        return bool(self.loaded_driver)


def parse_profile(text: str, source: str) -> BoardProfile:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        raise ConfigError(f"not valid TOML: {err}", source=source) from err
    if str(data.get("spec")) != SPEC:
        raise ConfigError(f"board profile spec {data.get('spec')!r}; this trunkline reads "
                          f"{SPEC!r}", source=source)
    missing = [k for k in ("id", "vendor", "name", "module", "spans", "sources", "pci")
               if k not in data]
    if missing:
        raise ConfigError(f"board profile lacks {', '.join(missing)}", source=source)
    if not data["sources"]:
        raise ConfigError("a board profile must name its sources", source=source)
    pci = tuple(PciId(p["id"].lower(), p.get("description", ""), p.get("module",
                                                                         data["module"]))
                for p in data["pci"])
    return BoardProfile(data["id"], data["vendor"], data["name"], data["module"],
                        int(data["spans"]), tuple(data.get("span_kinds", ())),
                        data.get("echo_canceller", "not found"),
                        tuple(data.get("firmware", ())), tuple(data["sources"]), pci)


@cache
def load_profiles() -> tuple[BoardProfile, ...]:
    """Every bundled board profile."""
    folder = resources.files("trunkline.profiles") / "boards"
    out = []
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if entry.name.endswith(".toml"):
            out.append(parse_profile(entry.read_text(encoding="utf-8"),
                                     f"boards/{entry.name}"))
    return tuple(out)


def pci_table() -> dict[str, tuple[PciId, BoardProfile]]:
    return {p.id: (p, prof) for prof in load_profiles() for p in prof.pci}


def _read(path: Path) -> str:
    try:
        return path.read_text().strip().lower().removeprefix("0x")
    except OSError:
        return ""


def find_boards(sysfs: str | Path = "/sys") -> list[FoundBoard]:
    """Known telephony boards on the PCI bus (empty if none, or no sysfs)."""
    devices = Path(sysfs) / "bus" / "pci" / "devices"
    table = pci_table()
    found: list[FoundBoard] = []
    if not devices.is_dir():
        return found
    for dev in sorted(devices.iterdir()):
        vendor, device = _read(dev / "vendor"), _read(dev / "device")
        subv, subd = _read(dev / "subsystem_vendor"), _read(dev / "subsystem_device")
        for key in (f"{vendor}:{device}/{subv}:{subd}", f"{vendor}:{device}/{subv}",
                    f"{vendor}:{device}"):
            if key in table:
                pci, prof = table[key]
                driver = dev / "driver"
                loaded = os.path.basename(os.readlink(driver)) if driver.is_symlink() else ""
                found.append(FoundBoard(dev.name, key, pci.description, pci.module, loaded,
                                        prof))
                break
    return found


def profile_for(devicetype: str) -> BoardProfile | None:
    """The profile whose PCI descriptions name ``devicetype`` (SPANSTAT's devicetype)."""
    text = devicetype.lower().strip()
    if not text:
        return None
    for prof in load_profiles():
        for p in prof.pci:
            if p.description.lower().strip() and (p.description.lower().strip() in text
                                                  or text in p.description.lower()):
                return prof
    return None
