"""The OS boundary of the DAHDI backend: open, ioctl, read, write and poll on /dev/dahdi/*.

One small class, :class:`OsDevice`, does every system call the backend makes, so that
the simulated kernel (:class:`~trunkline.drivers.backends.dahdi.simkernel.SimulatedKernel`) can
take its place and run the backend's own code in CI. Both raise
:class:`DahdiOperationError` for a failed call: the native status (``errno``, or the
``-errno`` of the ioctl helper) is converted here, once, and nowhere else.
"""

from __future__ import annotations

import errno as errno_mod
import os
import select
import threading
from collections.abc import Mapping
from typing import Any, Protocol

from trunkline.drivers.backends.dahdi.abi import Binding
from trunkline.errors import BackendError

#: Device nodes (dahdi-linux: drivers/dahdi/dahdi-base.c registers them under /dev/dahdi/).
CTL = "/dev/dahdi/ctl"
CHANNEL = "/dev/dahdi/channel"
TIMER = "/dev/dahdi/timer"
PSEUDO = "/dev/dahdi/pseudo"

POLLIN, POLLOUT, POLLPRI = select.POLLIN, select.POLLOUT, select.POLLPRI


class DahdiOperationError(BackendError, OSError):
    """A system call on a DAHDI device failed; ``errno`` and ``operation`` say how."""

    def __init__(self, errno: int, operation: str, target: str) -> None:
        self.operation = operation
        self.target = target
        text = os.strerror(errno) if errno < 500 else "event pending (ELAST)"
        OSError.__init__(self, errno, f"{operation} on {target} failed: {text} "
                                      f"[{errno_mod.errorcode.get(errno, errno)}]")

    def __str__(self) -> str:
        return str(self.strerror)


class Device(Protocol):
    """What the backend needs from the OS (real: :class:`OsDevice`; CI: the simulation)."""

    binding: Binding

    def exists(self, path: str) -> bool: ...

    def open(self, path: str) -> int: ...

    def close(self, fd: int) -> None: ...

    def ioctl(self, fd: int, request: int, arg: Any) -> None: ...

    def read(self, fd: int, size: int) -> bytes: ...

    def write(self, fd: int, data: bytes) -> int: ...

    def poll(self, fds: Mapping[int, int], timeout: float | None) -> dict[int, int]: ...

    def register_zone(self, fd: int, country: str) -> None:
        """Load libtonezone's zone ``country`` into the kernel (DAHDI_LOADZONE)."""


class OsDevice:
    """The real /dev/dahdi nodes, through the kernel."""

    #: System calls may come from any thread (a PRI span's D-channel keeper reads its fd
    #: while the tick reads the B-channels), as the kernel serialises them.
    threadsafe = True

    def __init__(self, binding: Binding) -> None:
        self.binding = binding
        self._paths: dict[int, str] = {}

    def exists(self, path: str) -> bool:
        return os.path.exists(path)

    def open(self, path: str) -> int:
        try:
            fd = os.open(path, os.O_RDWR | os.O_NONBLOCK)
        except OSError as err:
            raise DahdiOperationError(err.errno or 0, "open", path) from err
        self._paths[fd] = path
        return fd

    def close(self, fd: int) -> None:
        self._paths.pop(fd, None)
        try:
            os.close(fd)
        except OSError as err:
            raise DahdiOperationError(err.errno or 0, "close", f"fd {fd}") from err

    def ioctl(self, fd: int, request: int, arg: Any) -> None:
        pointer = getattr(arg, "pointer", arg)
        status = self.binding.lib.tl_dahdi_ioctl(fd, request, pointer)
        if status < 0:
            name = self.binding.ioctl_names.get(request, hex(request))
            raise DahdiOperationError(-status, name, self._paths.get(fd, f"fd {fd}"))

    def read(self, fd: int, size: int) -> bytes:
        try:
            return os.read(fd, size)
        except OSError as err:
            raise DahdiOperationError(err.errno or 0, "read",
                                      self._paths.get(fd, f"fd {fd}")) from err

    def write(self, fd: int, data: bytes) -> int:
        try:
            return os.write(fd, data)
        except OSError as err:
            raise DahdiOperationError(err.errno or 0, "write",
                                      self._paths.get(fd, f"fd {fd}")) from err

    def poll(self, fds: Mapping[int, int], timeout: float | None) -> dict[int, int]:
        poller = select.poll()
        for fd, events in fds.items():
            poller.register(fd, events)
        ready = poller.poll(None if timeout is None else int(timeout * 1000))
        return dict(ready)

    def register_zone(self, fd: int, country: str) -> None:
        """libtonezone's tone_zone_register: the zone's tones built by the library that
        dahdi_cfg and chan_dahdi use, loaded with DAHDI_LOADZONE."""
        from trunkline.drivers.backends.dahdi import tonezone

        status = tonezone.register(fd, country)
        if status:
            raise DahdiOperationError(status, "DAHDI_LOADZONE",
                                      f"{self._paths.get(fd, f'fd {fd}')} (zone {country})")


class SerializedDevice:
    """Any :class:`Device` (the in-process simulated kernel) made safe to call from
    several threads: each call runs under one lock, as the kernel's own locking makes
    the real device safe. Other attributes are the wrapped device's."""

    threadsafe = True

    def __init__(self, device: Device) -> None:
        self.wrapped = device
        self.binding = device.binding
        self.lock = threading.RLock()

    def __getattr__(self, name: str) -> Any:
        return getattr(self.wrapped, name)

    def exists(self, path: str) -> bool:
        with self.lock:
            return self.wrapped.exists(path)

    def open(self, path: str) -> int:
        with self.lock:
            return self.wrapped.open(path)

    def close(self, fd: int) -> None:
        with self.lock:
            self.wrapped.close(fd)

    def ioctl(self, fd: int, request: int, arg: Any) -> None:
        with self.lock:
            self.wrapped.ioctl(fd, request, arg)

    def read(self, fd: int, size: int) -> bytes:
        with self.lock:
            return self.wrapped.read(fd, size)

    def write(self, fd: int, data: bytes) -> int:
        with self.lock:
            return self.wrapped.write(fd, data)

    def poll(self, fds: Mapping[int, int], timeout: float | None) -> dict[int, int]:
        # The simulated kernel's poll sleeps at most until its next block (20 ms) when
        # the tick waits for audio: the D-channel keeper waits that long at worst.
        with self.lock:
            return self.wrapped.poll(fds, timeout)

    def register_zone(self, fd: int, country: str) -> None:
        with self.lock:
            self.wrapped.register_zone(fd, country)


def open_device() -> Device:
    """The real device, after checking that DAHDI is there (CardNotFound if not)."""
    from trunkline.drivers.backends.dahdi.abi import load
    from trunkline.errors import CardNotFound

    for path in (CTL, CHANNEL):
        if not os.path.exists(path):
            raise CardNotFound(
                f"{path} not found: is the dahdi kernel module loaded? (modprobe dahdi; "
                "and the board driver, e.g. wct4xxp, wcte13xp, wctdm24xxp, opvxa24xx; "
                "`trunkline scan --card dahdi` lists the boards on the PCI bus and the "
                "module each needs)"
            )
    return OsDevice(load())
