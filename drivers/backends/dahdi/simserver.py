"""The server behind the dahdisim interposer: one simulated DAHDI kernel for other programs.

Why: :mod:`.simkernel` answers DAHDI's system calls inside a Python process; the real
dahdi-tools (and ``trunkline --card dahdi``) make those calls through libc. The
``LD_PRELOAD`` library built from ``dahdisim.c`` (see :mod:`.preload`) turns each call
on a ``/dev/dahdi/*`` descriptor into a request on a Unix socket; this module applies
each request to one :class:`~.simkernel.SimulatedKernel` and sends the answer back.

An ioctl's argument arrives as the bytes the request number's ``_IOC_SIZE`` names;
:data:`STRUCT_IOCTLS` says which ``dahdi/user.h`` struct they are (every other ioctl
the backend knows takes an ``int``), so the kernel's handlers see the same cffi structs
they see in-process, and the bytes go back after the call.

``/proc/dahdi`` (what dahdi-tools' Perl modules, ``dahdi_genconf``, read) is a directory
this server writes from the kernel's state (:mod:`.simprocfs`) each time the interposer is
about to open, ``stat`` or list a path under it (``OP_PROC``).

Kernel behaviours the real tools need are answered here while the simulated kernel
does not model them (only when it answers ``ENOTTY``, or ``EINVAL`` for a read on the
pseudo device, so a simulated kernel that models them takes over):

* tone zones (``DAHDI_FREEZONE``, ``DAHDI_LOADZONE``, ``DAHDI_DEFAULTZONE``, which
  ``dahdi_cfg`` issues through libtonezone): as dahdi-base.c's
  ``dahdi_ioctl_freezone`` (always 0), ``dahdi_ioctl_loadzone`` (the zone is
  registered) and ``dahdi_ioctl_defaultzone`` (``EINVAL`` unless loaded);
* ``DAHDI_HDLC_RATE`` (``dahdi_cfg`` sets it on every channel it configured): as
  dahdi_chan_ioctl, 0 on a channel that DAHDI_SPECIFY named;
* ``/dev/dahdi/pseudo`` reads (``dahdi_test``): a block of
  ``DAHDI_DEFAULT_BLOCKSIZE`` mu-law silence every block time of the kernel's clock.
"""

from __future__ import annotations

import contextlib
import errno
import os
import socket
import socketserver
import struct
import sys
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from trunkline.drivers.backends.dahdi.device import POLLIN, POLLOUT, PSEUDO, DahdiOperationError
from trunkline.drivers.backends.dahdi.simkernel import RATE, SimulatedKernel
from trunkline.drivers.backends.dahdi.simprocfs import write_tree
from trunkline.drivers.native.build import load_extension

__all__ = ["REQUEST", "RESPONSE", "STRUCT_IOCTLS", "SimServer"]

#: Wire format (dahdisim.c's struct req / struct rsp), little-endian.
REQUEST = struct.Struct("<IiQII")
RESPONSE = struct.Struct("<iiII")
POLL_ITEM = struct.Struct("<ihh")
OP_OPEN, OP_CLOSE, OP_READ, OP_WRITE, OP_IOCTL, OP_POLL, OP_EXISTS, OP_PROC = range(1, 9)
#: The longest a request may wait here (the interposer asks in slices of 20 ms).
MAX_WAIT = 0.1

#: ioctl -> the user.h struct its argument is (the others the binding knows take int).
STRUCT_IOCTLS: dict[str, str] = {
    "DAHDI_GET_PARAMS": "struct dahdi_params",
    "DAHDI_SPANSTAT": "struct dahdi_spaninfo",
    "DAHDI_MAINT": "struct dahdi_maintinfo",
    "DAHDI_SPANCONFIG": "struct dahdi_lineconfig",
    "DAHDI_CHANCONFIG": "struct dahdi_chanconfig",
    "DAHDI_GET_BUFINFO": "struct dahdi_bufferinfo",
    "DAHDI_SET_BUFINFO": "struct dahdi_bufferinfo",
    "DAHDI_DIAL": "struct dahdi_dialoperation",
    "DAHDI_ECHOCANCEL_PARAMS": "struct dahdi_echocanparams",
    "DAHDI_SETCADENCE": "struct dahdi_ring_cadence",
    "DAHDI_GETVERSION": "struct dahdi_versioninfo",
    "DAHDI_ATTACH_ECHOCAN": "struct dahdi_attach_echocan",
    "DAHDI_GETGAINS": "struct dahdi_gains",
    "DAHDI_SETGAINS": "struct dahdi_gains",
}

#: What the answers above need from user.h (ioctl numbers of requests the binding in
#: :mod:`.abi` does not declare), compiled against the header as abi.py is.
_EXTRA_CDEF = """
#define DAHDI_LOADZONE ...
#define DAHDI_FREEZONE ...
#define DAHDI_DEFAULTZONE ...
#define DAHDI_HDLC_RATE ...
#define DAHDI_CHANNO ...
#define DAHDI_DEFAULT_BLOCKSIZE ...
struct dahdi_tone_def_header { int count; int zone; char name[40]; ...; };
"""
_EXTRA_SOURCE = "#include <dahdi/user.h>\n"


def _extra() -> Any:
    return load_extension("dahdisim", _EXTRA_CDEF, _EXTRA_SOURCE,
                          debian_packages=("dahdi-source",))


@dataclass
class _Pseudo:
    """A pseudo-device read stream answered here (see the module's docstring)."""

    t0: float
    blocksize: int
    blocks_read: int = 0


@dataclass
class _Conn:
    """What one connected process opened (closed for it when it goes away)."""

    fds: set[int] = field(default_factory=set)


class SimServer:
    """One simulated kernel served on a Unix socket at ``path`` (in its own threads)."""

    def __init__(self, kernel: SimulatedKernel, path: str, root: str | None = None) -> None:
        self.kernel = kernel
        self.path = path
        #: Where ``/proc/dahdi`` is written for the interposer (OP_PROC; see simprocfs).
        self.root = root
        self.lock = threading.Lock()
        self._extra = _extra()
        lib = kernel.lib
        self._types: dict[int, str] = {}
        for name, ctype in STRUCT_IOCTLS.items():
            self._types[getattr(lib, name)] = ctype
        self._paths: dict[int, str] = {}
        self._pseudo: dict[int, _Pseudo] = {}
        self.zones: dict[int, str] = {}
        self.default_zone: int | None = None
        #: Requests answered here instead of by the kernel (for tests and --verbose).
        self.shimmed: list[str] = []
        server = self

        class Handler(socketserver.BaseRequestHandler):
            def handle(self) -> None:
                server._serve(self.request)

        class Server(socketserver.ThreadingUnixStreamServer):
            daemon_threads = True

        self._server = Server(path, Handler)
        info = os.lstat(path)
        #: The socket file this server bound (st_dev, st_ino): stop() unlinks only that.
        self._identity = (info.st_dev, info.st_ino)
        self._thread = threading.Thread(target=self._server.serve_forever,
                                        name="dahdisim-server", daemon=True)

    def start(self) -> SimServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        with contextlib.suppress(FileNotFoundError):
            info = os.lstat(self.path)
            if (info.st_dev, info.st_ino) == self._identity:
                os.unlink(self.path)

    # -- the connection ------------------------------------------------------------
    def _serve(self, sock: socket.socket) -> None:
        conn = _Conn()
        try:
            while True:
                head = _recv(sock, REQUEST.size)
                if head is None:
                    return
                op, fd, arg, length, _ = REQUEST.unpack(head)
                payload = _recv(sock, length) if length else b""
                if payload is None:
                    return
                result, err, out = self._answer(conn, op, fd, arg, payload)
                sock.sendall(RESPONSE.pack(result, err, len(out), 0) + out)
        except OSError:
            return
        finally:
            with self.lock:
                for fd in conn.fds:
                    self._close(fd)

    def _answer(self, conn: _Conn, op: int, fd: int, arg: int,
                payload: bytes) -> tuple[int, int, bytes]:
        try:
            if op == OP_POLL:
                return self._poll(payload, arg / 1000.0)
            with self.lock:
                return self._apply(conn, op, fd, arg, payload)
        except DahdiOperationError as err:
            return -1, err.errno or errno.EIO, b""
        except Exception as err:  # a simulation bug must not take the server down
            print(f"dahdisim: {type(err).__name__}: {err}", file=sys.stderr)
            return -1, errno.EIO, b""

    def _apply(self, conn: _Conn, op: int, fd: int, arg: int,
               payload: bytes) -> tuple[int, int, bytes]:
        kernel = self.kernel
        if op == OP_OPEN:
            path = payload.rstrip(b"\0").decode()
            kfd = kernel.open(path)
            self._paths[kfd] = path
            conn.fds.add(kfd)
            return kfd, 0, b""
        if op == OP_CLOSE:
            conn.fds.discard(fd)
            self._close(fd)
            return 0, 0, b""
        if op == OP_READ:
            data = self._read(fd, arg)
            return len(data), 0, data
        if op == OP_WRITE:
            if fd in self._pseudo:
                return len(payload), 0, b""
            return kernel.write(fd, payload), 0, b""
        if op == OP_IOCTL:
            return self._ioctl(fd, arg, payload)
        if op == OP_EXISTS:
            return int(kernel.exists(payload.rstrip(b"\0").decode())), 0, b""
        if op == OP_PROC:
            # The interposer is about to read ROOT/proc/dahdi: bring it up to date.
            if self.root is None:
                return -1, errno.ENOENT, b""
            write_tree(kernel, self.root)
            return 0, 0, b""
        return -1, errno.ENOSYS, b""

    def _close(self, fd: int) -> None:
        self._paths.pop(fd, None)
        self._pseudo.pop(fd, None)
        with contextlib.suppress(DahdiOperationError):
            self.kernel.close(fd)

    # -- read and poll -------------------------------------------------------------
    def _read(self, fd: int, size: int) -> bytes:
        pseudo = self._pseudo.get(fd)
        if pseudo is None:
            try:
                return self.kernel.read(fd, size)
            except DahdiOperationError as err:
                if err.errno != errno.EINVAL or self._paths.get(fd) != PSEUDO:
                    raise
                pseudo = self._pseudo[fd] = _Pseudo(
                    self.kernel.now(), self._extra.lib.DAHDI_DEFAULT_BLOCKSIZE)
                self.shimmed.append("pseudo read")
        if self._pseudo_due(pseudo) <= 0:
            raise DahdiOperationError(errno.EAGAIN, "read", PSEUDO)
        pseudo.blocks_read += 1
        return b"\xff" * min(size, pseudo.blocksize)  # mu-law silence

    def _pseudo_due(self, pseudo: _Pseudo) -> int:
        samples = int((self.kernel.now() - pseudo.t0) * RATE)
        return samples // pseudo.blocksize - pseudo.blocks_read

    def _poll(self, payload: bytes, wait: float) -> tuple[int, int, bytes]:
        items = [POLL_ITEM.unpack_from(payload, i)
                 for i in range(0, len(payload), POLL_ITEM.size)]
        deadline = time.monotonic() + min(max(wait, 0.0), MAX_WAIT)
        while True:
            with self.lock:
                got = self._ready(items)
            if any(got) or time.monotonic() >= deadline:
                out = b"".join(POLL_ITEM.pack(fd, events, rev)
                               for (fd, events, _), rev in zip(items, got, strict=True))
                return sum(1 for r in got if r), 0, out
            time.sleep(0.001)

    def _ready(self, items: list[tuple[int, int, int]]) -> list[int]:
        kernel_fds = {fd: events for fd, events, _ in items if fd not in self._pseudo}
        ready = self.kernel.poll(kernel_fds, 0.0) if kernel_fds else {}
        out = []
        for fd, events, _ in items:
            pseudo = self._pseudo.get(fd)
            if pseudo is not None:
                got = (POLLIN if self._pseudo_due(pseudo) > 0 else 0) | POLLOUT
                out.append(got & events)
            else:
                out.append(ready.get(fd, 0))
        return out

    # -- ioctl ---------------------------------------------------------------------
    def _ioctl(self, fd: int, request: int, payload: bytes) -> tuple[int, int, bytes]:
        ffi = self.kernel.ffi
        ctype = self._types.get(request, "int")
        size = max(len(payload), ffi.sizeof(ctype))
        buf = ffi.new("char[]", size)
        ffi.memmove(buf, payload, len(payload))
        arg = ffi.cast(f"{ctype} *", buf)
        try:
            self.kernel.ioctl(fd, request, arg)
        except DahdiOperationError as err:
            if err.errno != errno.ENOTTY or not (self._zone_ioctl(request, buf)
                                                 or self._hdlc_rate(fd, request)):
                raise
        return 0, 0, ffi.buffer(buf, len(payload))[:]

    def _hdlc_rate(self, fd: int, request: int) -> bool:
        """dahdi_chan_ioctl's DAHDI_HDLC_RATE (dahdi_cfg sends it to every configured
        channel): a flag for the kernel's soft HDLC, so 0 on any specified channel."""
        if request != self._extra.lib.DAHDI_HDLC_RATE:
            return False
        self.kernel.ioctl(fd, self._extra.lib.DAHDI_CHANNO,
                          self.kernel.ffi.new("int *"))  # EINVAL before DAHDI_SPECIFY
        self.shimmed.append("hdlc rate")
        return True

    def _zone_ioctl(self, request: int, buf: Any) -> bool:
        """Tone zones as dahdi-base.c keeps them; False: not a zone ioctl."""
        lib, ffi = self._extra.lib, self._extra.ffi
        if request == lib.DAHDI_FREEZONE:
            self.zones.pop(ffi.cast("int *", buf)[0], None)
        elif request == lib.DAHDI_LOADZONE:
            header = ffi.cast("struct dahdi_tone_def_header *", buf)
            self.zones[header.zone] = ffi.string(header.name).decode("utf-8", "replace")
        elif request == lib.DAHDI_DEFAULTZONE:
            zone = ffi.cast("int *", buf)[0]
            if zone not in self.zones:
                raise DahdiOperationError(errno.EINVAL, "DAHDI_DEFAULTZONE", f"zone {zone}")
            self.default_zone = zone
        else:
            return False
        self.shimmed.append("tone zone")
        return True


def _recv(sock: socket.socket, size: int) -> bytes | None:
    """Exactly ``size`` bytes, or None when the process went away."""
    data = bytearray()
    while len(data) < size:
        chunk = sock.recv(size - len(data))
        if not chunk:
            return None
        data += chunk
    return bytes(data)
