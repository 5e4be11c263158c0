"""The simulated kernel's tone zones: the zones loaded and each channel's zone.

Why apart: the zone list is kernel-wide state with its own ioctls; the ringer
(simanalog.py) only reads a zone's cadence from it. From dahdi-base.c:
``dahdi_ioctl_loadzone`` and ``dahdi_register_tone_zone`` (zone 0-255, EINVAL if loaded),
``dahdi_ioctl_freezone``, ``dahdi_ioctl_defaultzone``, ``set_tone_zone``
(DAHDI_SETTONEZONE, ENODATA) and DAHDI_GETTONEZONE; libtonezone's ``tone_zone_register``
(``register_zone``). Only a zone's header is kept, not its tones.
"""

# The methods take ``self: SimulatedKernel`` (the class they are mixed into), so mypy checks
# each body against the whole kernel; mypy calls such a self type "not a supertype of its
# class" (code misc), which is expected of a mixin and is switched off here only.
# mypy: disable-error-code="misc"

from __future__ import annotations

import errno
from typing import TYPE_CHECKING, Any

from trunkline.drivers.backends.dahdi.device import DahdiOperationError
from trunkline.drivers.backends.dahdi.simstate import _Fd

if TYPE_CHECKING:
    from trunkline.drivers.backends.dahdi.simkernel import SimulatedKernel


class ToneZones:
    """The tone zones (a mixin of :class:`~.simkernel.SimulatedKernel`)."""

    def _load_named_zone(self: SimulatedKernel, country: str) -> None:
        from trunkline.drivers.backends.dahdi import tonezone

        zone = tonezone.find(country)
        if zone is None:
            raise self._error(f"loadzones: libtonezone has no zone {country!r}")
        self._register_zone(zone.number, zone.country, zone.ringcadence, "LOADZONE")

    def _register_zone(self: SimulatedKernel, number: int, name: str,
                       cadence: tuple[int, ...], op: str) -> None:
        # dahdi-base.c dahdi_ioctl_loadzone: zone 0..255 (MAX_ZONE, an unsigned char);
        # dahdi_register_tone_zone: EINVAL for a zone number already loaded; the new zone
        # goes at the list's tail (the first one loaded stays the default).
        if not 0 <= number <= 255 or number in self.zones:
            raise DahdiOperationError(errno.EINVAL, op, f"tone zone {number}")
        self.zones[number] = (name, cadence)

    def register_zone(self: SimulatedKernel, fd: int, country: str) -> None:
        """What libtonezone's tone_zone_register does on this kernel: DAHDI_LOADZONE with
        the zone's header (number, name, ring cadence) from libtonezone; the tone
        definitions that follow it on a real kernel are not modelled (the sim plays
        trunkline's own tones)."""
        from trunkline.drivers.backends.dahdi import tonezone

        zone = tonezone.find(country)
        if zone is None:
            raise DahdiOperationError(errno.EINVAL, "tone_zone_register", country)
        header = self.ffi.new("struct dahdi_tone_def_header *")
        header.zone = zone.number
        header.name = zone.country.encode()[:39]
        for i, ms in enumerate(zone.ringcadence[: self.lib.DAHDI_MAX_CADENCE]):
            header.ringcadence[i] = ms
        self.ioctl(fd, self.lib.DAHDI_LOADZONE, header)

    def _default_zone(self: SimulatedKernel) -> int | None:
        return next(iter(self.zones), None)

    def _ioctl_loadzone(self: SimulatedKernel, f: _Fd, arg: Any, name: str) -> None:
        header = self.ffi.cast("struct dahdi_tone_def_header *", arg)
        cadence = tuple(int(x) for x in header.ringcadence if x)
        self._register_zone(int(header.zone), self.ffi.string(header.name).decode(),
                            cadence, name)

    def _ioctl_freezone(self: SimulatedKernel, f: _Fd, arg: Any, name: str) -> None:
        # dahdi-base.c dahdi_ioctl_freezone: the zone leaves the list (channels using it
        # keep their reference); an unknown number is not an error.
        self.zones.pop(int(arg[0]), None)

    def _ioctl_defaultzone(self: SimulatedKernel, f: _Fd, arg: Any, name: str) -> None:
        # dahdi-base.c dahdi_ioctl_defaultzone: the zone moves to the list's head;
        # EINVAL when it is not loaded.
        number = int(arg[0])
        if number not in self.zones:
            raise DahdiOperationError(errno.EINVAL, name, f"tone zone {number}")
        self.zones = {number: self.zones[number]} | self.zones

    def _ioctl_settonezone(self: SimulatedKernel, f: _Fd, arg: Any, name: str) -> None:
        # dahdi-base.c set_tone_zone: -1 is the default zone; ENODATA when not loaded.
        ch = self._chan_of(f, name)
        number = self._default_zone() if arg[0] == -1 else int(arg[0])
        if number is None or number not in self.zones:
            raise DahdiOperationError(errno.ENODATA, name, f"tone zone {arg[0]}")
        ch.dial_until = None  # stop_tone
        ch.curzone = number
        self._take_zone_cadence(ch)

    def _ioctl_gettonezone(self: SimulatedKernel, f: _Fd, arg: Any, name: str) -> None:
        # dahdi-base.c DAHDI_GETTONEZONE: 0 when the channel has none (0 is also "us").
        zone = self._chan_of(f, name).curzone
        arg[0] = zone if zone is not None else 0
