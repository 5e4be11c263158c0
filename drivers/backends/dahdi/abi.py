"""DAHDI's userspace ABI bound with cffi in API mode, checked against ``dahdi/user.h``.

Every constant and ioctl number below is declared as ``#define NAME ...`` and every
struct as a partial declaration (``...;``): cffi then asks the C compiler for the real
values, sizes and field offsets from Debian's ``dahdi-source`` header
(``/usr/include/dahdi/user.h``, LGPL-2.1), so a wrong layout or ioctl number fails the
build instead of corrupting kernel memory. Nothing here is typed in by hand.

The binding is built on first use by :func:`load` (never at import), so ``import
trunkline`` loads no native code. Its one C helper, ``tl_dahdi_ioctl``, returns
``-errno`` instead of setting ``errno``: the native status is converted once, in
:mod:`.device`, into :class:`~trunkline.drivers.backends.dahdi.device.DahdiOperationError`.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from trunkline.drivers.native.build import load_extension

__all__ = ["EVENT_NAMES", "IOCTLS", "Binding", "load"]

#: The ioctls the backend, the simulated kernel and the commissioning tools use.
IOCTLS: tuple[str, ...] = (
    "DAHDI_GET_BLOCKSIZE", "DAHDI_SET_BLOCKSIZE", "DAHDI_FLUSH", "DAHDI_GET_PARAMS",
    "DAHDI_HOOK", "DAHDI_GETEVENT", "DAHDI_SPANSTAT", "DAHDI_MAINT", "DAHDI_SPANCONFIG",
    "DAHDI_CHANCONFIG", "DAHDI_GET_BUFINFO", "DAHDI_SET_BUFINFO", "DAHDI_DIAL",
    "DAHDI_ECHOCANCEL_PARAMS", "DAHDI_DIALING", "DAHDI_HDLCFCSMODE", "DAHDI_SPECIFY",
    "DAHDI_SETLAW", "DAHDI_SETCADENCE", "DAHDI_GETRXBITS", "DAHDI_SETTXBITS",
    "DAHDI_TIMERCONFIG", "DAHDI_TIMERACK", "DAHDI_ECHOTRAIN", "DAHDI_GETVERSION",
    "DAHDI_ATTACH_ECHOCAN", "DAHDI_SETPOLARITY", "DAHDI_STARTUP", "DAHDI_SHUTDOWN",
    "DAHDI_CHANNO", "DAHDI_AUDIOMODE", "DAHDI_LOADZONE", "DAHDI_FREEZONE",
    "DAHDI_DEFAULTZONE", "DAHDI_SETTONEZONE", "DAHDI_GETTONEZONE", "DAHDI_BUFFER_EVENTS",
    "DAHDI_GETGAINS", "DAHDI_SETGAINS", "DAHDI_SETLINEAR",
)

#: Every DAHDI_EVENT_* code of user.h (the backend maps each one; a test checks that
#: this list is the header's complete list).
EVENT_NAMES: tuple[str, ...] = (
    "DAHDI_EVENT_NONE", "DAHDI_EVENT_ONHOOK", "DAHDI_EVENT_RINGOFFHOOK",
    "DAHDI_EVENT_WINKFLASH", "DAHDI_EVENT_ALARM", "DAHDI_EVENT_NOALARM", "DAHDI_EVENT_ABORT",
    "DAHDI_EVENT_OVERRUN", "DAHDI_EVENT_BADFCS", "DAHDI_EVENT_DIALCOMPLETE",
    "DAHDI_EVENT_RINGERON", "DAHDI_EVENT_RINGEROFF", "DAHDI_EVENT_HOOKCOMPLETE",
    "DAHDI_EVENT_BITSCHANGED", "DAHDI_EVENT_PULSE_START", "DAHDI_EVENT_TIMER_EXPIRED",
    "DAHDI_EVENT_TIMER_PING", "DAHDI_EVENT_POLARITY", "DAHDI_EVENT_RINGBEGIN",
    "DAHDI_EVENT_EC_DISABLED", "DAHDI_EVENT_REMOVED", "DAHDI_EVENT_NEONMWI_ACTIVE",
    "DAHDI_EVENT_NEONMWI_INACTIVE", "DAHDI_EVENT_TX_CED_DETECTED",
    "DAHDI_EVENT_RX_CED_DETECTED", "DAHDI_EVENT_TX_CNG_DETECTED",
    "DAHDI_EVENT_RX_CNG_DETECTED", "DAHDI_EVENT_EC_NLP_DISABLED",
    "DAHDI_EVENT_EC_NLP_ENABLED", "DAHDI_EVENT_READ_OVERRUN", "DAHDI_EVENT_WRITE_UNDERRUN",
    "DAHDI_EVENT_PULSEDIGIT", "DAHDI_EVENT_DTMFDOWN", "DAHDI_EVENT_DTMFUP",
)

_CONSTANTS: tuple[str, ...] = (
    *IOCTLS, *EVENT_NAMES, "ELAST", "DAHDI_MAX_SPANS", "DAHDI_MAX_CHANNELS",
    "DAHDI_MAX_CADENCE", "DAHDI_MAX_DTMF_BUF", "DAHDI_MAX_BLOCKSIZE",
    # line configuration bits (struct dahdi_lineconfig.lineconfig, spaninfo.lineconfig)
    "DAHDI_CONFIG_D4", "DAHDI_CONFIG_ESF", "DAHDI_CONFIG_AMI", "DAHDI_CONFIG_B8ZS",
    "DAHDI_CONFIG_CCS", "DAHDI_CONFIG_HDB3", "DAHDI_CONFIG_CRC4", "DAHDI_CONFIG_NOTOPEN",
    # signalling types (sigtype, sigcap)
    "DAHDI_SIG_NONE", "DAHDI_SIG_FXSLS", "DAHDI_SIG_FXSGS", "DAHDI_SIG_FXSKS",
    "DAHDI_SIG_FXOLS", "DAHDI_SIG_FXOGS", "DAHDI_SIG_FXOKS", "DAHDI_SIG_EM",
    "DAHDI_SIG_EM_E1", "DAHDI_SIG_CLEAR", "DAHDI_SIG_HDLCRAW", "DAHDI_SIG_HDLCFCS",
    "DAHDI_SIG_HDLCNET", "DAHDI_SIG_CAS", "DAHDI_SIG_DACS", "DAHDI_SIG_DACS_RBS",
    "DAHDI_SIG_HARDHDLC", "DAHDI_SIG_MTP2", "DAHDI_SIG_SF", "DAHDI_SIG_SLAVE",
    "DAHDI_SIG_BROKEN",
    # laws, hook operations, flush, buffer policy, dial operations
    "DAHDI_LAW_DEFAULT", "DAHDI_LAW_MULAW", "DAHDI_LAW_ALAW",
    "DAHDI_ONHOOK", "DAHDI_OFFHOOK", "DAHDI_WINK", "DAHDI_FLASH", "DAHDI_START",
    "DAHDI_RING", "DAHDI_RINGOFF",
    "DAHDI_FLUSH_READ", "DAHDI_FLUSH_WRITE", "DAHDI_FLUSH_BOTH", "DAHDI_FLUSH_EVENT",
    "DAHDI_FLUSH_ALL", "DAHDI_POLICY_IMMEDIATE", "DAHDI_POLICY_WHEN_FULL",
    "DAHDI_DIAL_OP_APPEND", "DAHDI_DIAL_OP_REPLACE", "DAHDI_DIAL_OP_CANCEL",
    # alarms, with the verbose upper-byte detail
    "DAHDI_ALARM_NONE", "DAHDI_ALARM_RECOVER", "DAHDI_ALARM_LOOPBACK", "DAHDI_ALARM_YELLOW",
    "DAHDI_ALARM_RED", "DAHDI_ALARM_BLUE", "DAHDI_ALARM_NOTOPEN", "DAHDI_ALARM_LOS",
    "DAHDI_ALARM_LFA", "DAHDI_ALARM_LMFA",
    # maintenance commands (DAHDI_MAINT)
    "DAHDI_MAINT_NONE", "DAHDI_MAINT_LOCALLOOP", "DAHDI_MAINT_NETWORKLINELOOP",
    "DAHDI_MAINT_NETWORKPAYLOADLOOP", "DAHDI_MAINT_LOOPUP", "DAHDI_MAINT_LOOPDOWN",
    "DAHDI_MAINT_FAS_DEFECT", "DAHDI_MAINT_MULTI_DEFECT", "DAHDI_MAINT_CRC_DEFECT",
    "DAHDI_MAINT_CAS_DEFECT", "DAHDI_MAINT_PRBS_DEFECT", "DAHDI_MAINT_BIPOLAR_DEFECT",
    "DAHDI_MAINT_PRBS", "DAHDI_RESET_COUNTERS", "DAHDI_MAINT_ALARM_SIM",
    # CAS bits
    "DAHDI_ABIT", "DAHDI_BBIT", "DAHDI_CBIT", "DAHDI_DBIT",
)

_STRUCTS = r"""
struct dahdi_params {
    int channo; int spanno; int chanpos; int sigtype; int sigcap; int rxisoffhook;
    int rxbits; int txbits; int txhooksig; int rxhooksig; int curlaw; int idlebits;
    char name[40];
    uint32_t chan_alarms;
    ...;
};
struct dahdi_spaninfo {
    int spanno; char name[20]; char desc[40]; int alarms; int txlevel; int rxlevel;
    int bpvcount; int crc4count; int ebitcount; int fascount;
    uint32_t fecount; uint32_t cvcount; uint32_t becount; uint32_t prbs; uint32_t errsec;
    int irqmisses; int syncsrc; int numchans; int totalchans; int totalspans; int lbo;
    int lineconfig; char lboname[40]; char location[40]; char manufacturer[40];
    char devicetype[40]; int irq; int linecompat; char spantype[6];
    ...;
};
struct dahdi_maintinfo { int spanno; int command; ...; };
struct dahdi_lineconfig { int span; char name[20]; int lbo; int lineconfig; int sync; ...; };
struct dahdi_chanconfig {
    int chan; char name[40]; int sigtype; int deflaw; int master; int idlebits;
    char netdev_name[16];
    ...;
};
struct dahdi_bufferinfo {
    int txbufpolicy; int rxbufpolicy; int numbufs; int bufsize; int readbufs; int writebufs;
    ...;
};
struct dahdi_dialoperation { int op; char dialstr[]; ...; };
struct dahdi_ring_cadence { int ringcadence[]; ...; };
struct dahdi_echocanparam { char name[16]; int32_t value; ...; };
struct dahdi_echocanparams { uint32_t tap_length; uint32_t param_count; ...; };
struct dahdi_versioninfo { char version[80]; char echo_canceller[80]; ...; };
struct dahdi_attach_echocan { int chan; char echocan[16]; ...; };
struct dahdi_gains { int chan; unsigned char rxgain[256]; unsigned char txgain[256]; ...; };
struct dahdi_tone_def_header { int count; int zone; int ringcadence[...]; char name[40]; ...; };

int tl_dahdi_ioctl(int fd, unsigned long request, void *arg);
"""

_SOURCE = r"""
#include <errno.h>
#include <sys/ioctl.h>
#include <dahdi/user.h>

/* One ioctl; returns 0 or -errno, so Python converts the status in one place. */
static int tl_dahdi_ioctl(int fd, unsigned long request, void *arg)
{
    return ioctl(fd, request, arg) < 0 ? -errno : 0;
}
"""


def _cdef() -> str:
    defines = "\n".join(f"#define {name} ..." for name in _CONSTANTS)
    return defines + "\n" + _STRUCTS


@dataclass(frozen=True)
class Binding:
    """The compiled binding: ``ffi`` (structs) and ``lib`` (constants, the ioctl helper)."""

    ffi: Any
    lib: Any

    @cached_property
    def ioctl_names(self) -> dict[int, str]:
        """ioctl number -> name, for error messages (several share a number: first wins)."""
        names: dict[int, str] = {}
        for name in IOCTLS:
            names.setdefault(getattr(self.lib, name), name)
        return names

    @cached_property
    def event_codes(self) -> dict[str, int]:
        return {name: getattr(self.lib, name) for name in EVENT_NAMES}

    def new(self, ctype: str, init: Any = None) -> Any:
        return self.ffi.new(ctype, init)

    def int_arg(self, value: int = 0) -> Any:
        """An ``int *`` argument, as every integer DAHDI ioctl takes."""
        return self.ffi.new("int *", value)

    def string(self, field: Any) -> str:
        """A NUL-terminated ``char[]`` field as text."""
        return self.ffi.string(field).decode("utf-8", "replace")

    def echocan_params(self, tap_length: int, params: dict[str, int] | None = None) -> Any:
        """``struct dahdi_echocanparams`` followed by its parameters, as the ioctl wants.

        user.h: "immediately follow this structure with dahdi_echocanparam structures".
        """
        params = params or {}
        head = self.ffi.sizeof("struct dahdi_echocanparams")
        one = self.ffi.sizeof("struct dahdi_echocanparam")
        buf = self.ffi.new("char[]", head + one * len(params))
        hdr = self.ffi.cast("struct dahdi_echocanparams *", buf)
        hdr.tap_length = tap_length
        hdr.param_count = len(params)
        items = self.ffi.cast("struct dahdi_echocanparam *", buf + head)
        for i, (name, value) in enumerate(params.items()):
            items[i].name = name.encode()[:15]
            items[i].value = value
        return _Owned(hdr, buf)


class _Owned:
    """A cast pointer that keeps the buffer it points into alive."""

    def __init__(self, pointer: Any, owner: Any) -> None:
        self.pointer = pointer
        self._owner = owner


_LOCK = threading.Lock()
_BINDING: Binding | None = None


def load() -> Binding:
    """Build (first time only) and load the binding; raises ``NativeBuildError``.

    The error names Debian's ``dahdi-source`` (which ships ``dahdi/user.h``) when the
    header is missing.
    """
    global _BINDING
    with _LOCK:
        if _BINDING is None:
            module = load_extension("dahdi", _cdef(), _SOURCE,
                                    debian_packages=("dahdi-source",))
            _BINDING = Binding(module.ffi, module.lib)
        return _BINDING
