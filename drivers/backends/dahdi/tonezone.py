"""libtonezone (dahdi-tools), bound with cffi: the tone zones the DAHDI kernel plays.

Why: dahdi-base.c refuses DAHDI_DIAL (ioctl_dahdi_dial) and DAHDI_HOOK's RING and START
(dahdi_chan_ioctl) with ENODATA while a channel has no tone zone (``chan->curzone``);
a channel takes the kernel's default zone when it is opened (initialize_channel ->
set_tone_zone(DEFAULT_TONE_ZONE)), and there is none until someone loads one. dahdi_cfg
loads them from system.conf (``loadzone=``, ``defaultzone=``) with libtonezone; chan_dahdi
calls libtonezone's tone_zone_set_zone, which loads a zone that is missing. We use the
same library, so the tones, ring cadence and zone numbers are libtonezone's own.

The binding is built on first use (never at import), as :mod:`.abi` is.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any

from trunkline.drivers.native.build import load_extension

_CDEF = r"""
#define DAHDI_MAX_CADENCE ...
struct tone_zone {
    int zone; char country[10]; char description[40]; int ringcadence[...];
    ...;
};
struct tone_zone *tone_zone_find(char *country);
struct tone_zone *tone_zone_find_by_num(int id);
int tone_zone_register(int fd, char *country);
"""

_SOURCE = r"""
#include <dahdi/user.h>
#include <dahdi/tonezone.h>
"""


@dataclass(frozen=True)
class Zone:
    """One of libtonezone's zones: its number (what DAHDI_SETTONEZONE takes), its
    country code (``cn``), description and ring cadence (ms on, off, ...)."""

    number: int
    country: str
    description: str
    ringcadence: tuple[int, ...]


_LOCK = threading.Lock()
_MODULE: Any = None


def _lib() -> Any:
    global _MODULE
    with _LOCK:
        if _MODULE is None:
            _MODULE = load_extension("tonezone", _CDEF, _SOURCE, libraries=("tonezone",),
                                     debian_packages=("libtonezone-dev", "dahdi-source"))
        return _MODULE


def _zone(raw: Any) -> Zone | None:
    if raw == _lib().ffi.NULL:
        return None
    ffi = _lib().ffi
    cadence = tuple(int(x) for x in raw.ringcadence if x)
    return Zone(int(raw.zone), ffi.string(raw.country).decode(),
                ffi.string(raw.description).decode(), cadence)


def find(country: str) -> Zone | None:
    """libtonezone's zone for ``country`` (``cn``, ``us``...), None if it has none."""
    return _zone(_lib().lib.tone_zone_find(_lib().ffi.new("char[]", country.encode())))


def find_by_number(number: int) -> Zone | None:
    """libtonezone's zone numbered ``number`` (what DAHDI_GETTONEZONE reports)."""
    return _zone(_lib().lib.tone_zone_find_by_num(number))


def register(fd: int, country: str) -> int:
    """libtonezone's tone_zone_register on a real /dev/dahdi fd: builds the zone's
    tones and calls DAHDI_LOADZONE. Returns 0, or the errno of the failure."""
    module = _lib()
    status = int(module.lib.tone_zone_register(fd, module.ffi.new("char[]", country.encode())))
    return 0 if status >= 0 else (module.ffi.errno or -status)
