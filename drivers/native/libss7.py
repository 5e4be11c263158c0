"""The cffi binding to Debian's libss7 (API mode, checked against ``/usr/include/libss7.h``),
and :class:`Libss7`, one libss7 signalling point on one link: the SS7 implementation we did
not write, used to check ours (``tests/ss7/test_ss7_libss7.py``).

Loaded on first use by :func:`load` (never at import). As for libpri
(:mod:`trunkline.drivers.native.libpri`) two builds are tried:

``static``
    ``libss7.a`` linked into the extension, with a hidden ``gettimeofday`` of our own so
    libss7's scheduler (MTP2/MTP3/ISUP timers) reads the time set with
    :meth:`Binding.set_now`: a virtual clock drives it.
``shared``
    ``libss7.so``; its timers follow the wall clock (``virtual_time`` False).

What reference/ss7-libss7.md measured, and what this binding does about it:

* the five callbacks are process-wide: they are installed once and routed by the
  ``struct ss7 *`` to its :class:`Libss7`; the hang-up and call-null callbacks are always
  set (libss7 calls them without a NULL check);
* ``ss7_check_event`` returns a pointer into a 16-slot queue: every event is copied into a
  dict at once, and the queue is drained after every ``ss7_read`` and schedule run;
* every MTP3 and ISUP timer is 0 (off) until set by name: :data:`MTP3_TIMERS` and
  :data:`ISUP_TIMERS` are set on every instance;
* ``ss7_set_default_dpc`` is declared but missing from the library: not bound; the
  adjacent point code goes to ``ss7_add_link``;
* ITU sending appends ``#`` (ST) to the called number: stripped from received numbers;
* the transport is ``SS7_TRANSPORT_DAHDIMTP2`` on a descriptor that keeps frame
  boundaries; libss7 writes 2 dummy FCS octets after each frame and drops 2 from each
  read. Only ITU mode with 14-bit point codes can be used (its ITU mode masks point codes
  to 14 bits).
"""

from __future__ import annotations

import select
import threading
from dataclasses import dataclass
from types import ModuleType
from typing import Any

from trunkline.drivers.native.build import NativeBuildError, load_extension

__all__ = ["EPOCH_US", "ISUP_TIMERS", "MTP3_TIMERS", "Binding", "Libss7", "load"]

EPOCH_US = 1_000_000_000 * 1_000_000

#: MTP3 timers set on every instance, in ms (Q.704 16.8, Q.707 5).
MTP3_TIMERS = {"t1": 800, "t2": 1400, "t3": 800, "t4": 800, "t5": 800, "t6": 800,
               "t7": 1500, "t10": 45000, "t12": 1200, "t13": 1200, "t14": 2500,
               "t19": 68000, "t21": 64000, "t22": 240000, "t23": 240000,
               "q707_t1": 8000, "q707_t2": 60000}
#: ISUP timers set on every instance, in ms (Q.764 Annex A).
ISUP_TIMERS = {"t1": 15000, "t2": 180000, "t5": 300000, "t6": 30000, "t7": 20000,
               "t8": 12000, "t10": 5000, "t12": 15000, "t13": 300000, "t14": 15000,
               "t15": 300000, "t16": 15000, "t17": 300000, "t18": 15000, "t19": 300000,
               "t20": 15000, "t21": 300000, "t22": 15000, "t23": 300000, "t27": 240000,
               "t33": 14000, "t35": 15000}

_CDEF = r"""
struct ss7;
struct isup_call;
struct mtp2;
struct timeval { long tv_sec; long tv_usec; };

#define SS7_ITU ...
#define SS7_TRANSPORT_DAHDIMTP2 ...
#define SS7_EVENT_UP ...
#define SS7_EVENT_DOWN ...
#define MTP2_LINK_UP ...
#define MTP2_LINK_DOWN ...
#define ISUP_EVENT_IAM ...
#define ISUP_EVENT_ACM ...
#define ISUP_EVENT_ANM ...
#define ISUP_EVENT_REL ...
#define ISUP_EVENT_RLC ...
#define ISUP_EVENT_GRS ...
#define ISUP_EVENT_GRA ...
#define ISUP_EVENT_CON ...
#define ISUP_EVENT_BLO ...
#define ISUP_EVENT_UBL ...
#define ISUP_EVENT_BLA ...
#define ISUP_EVENT_UBA ...
#define ISUP_EVENT_CGB ...
#define ISUP_EVENT_CGU ...
#define ISUP_EVENT_RSC ...
#define ISUP_EVENT_CPG ...
#define ISUP_EVENT_CGBA ...
#define ISUP_EVENT_CGUA ...
#define SS7_NAI_NATIONAL ...
#define SS7_PRESENTATION_ALLOWED ...
#define SS7_SCREENING_USER_PROVIDED ...
#define SS7_CIC_USED ...
#define SS7_DEBUG_MTP2 ...
#define SS7_DEBUG_MTP3 ...
#define SS7_DEBUG_ISUP ...

typedef struct { int e; int cic; char called_party_num[50]; unsigned char called_nai;
                 char calling_party_num[50]; unsigned char calling_party_cat;
                 unsigned char calling_nai; unsigned int opc; struct isup_call *call;
                 ...; } ss7_event_iam;
typedef struct { int e; int cic; int cause; unsigned int opc; struct isup_call *call;
                 ...; } ss7_event_rel;
typedef struct { int e; int cic; unsigned int opc; struct isup_call *call; ...; }
    ss7_event_cic;
typedef struct { int e; int cic; unsigned int opc; struct isup_call *call; ...; }
    ss7_event_con;
typedef struct { int e; int cic; unsigned int opc; struct isup_call *call; ...; }
    ss7_event_anm;
typedef struct { int e; int cic; unsigned int opc; struct isup_call *call;
                 unsigned char called_party_status_ind; ...; } ss7_event_acm;
typedef struct { int e; int startcic; int endcic; int type; unsigned int opc;
                 unsigned char status[255]; struct isup_call *call; ...; }
    ss7_event_cicrange;
typedef struct { int e; int cic; unsigned int opc; unsigned char event;
                 struct isup_call *call; ...; } ss7_event_cpg;
typedef struct { int e; struct mtp2 *link; } ss7_event_link;
typedef struct { int e; int cic; unsigned int opc; struct isup_call *call; ...; }
    ss7_event_rsc;

typedef union {
    int e;
    ss7_event_link link;
    ss7_event_iam iam;
    ss7_event_cicrange grs;
    ss7_event_cicrange gra;
    ss7_event_cicrange cgb;
    ss7_event_cicrange cgu;
    ss7_event_cicrange cgba;
    ss7_event_cicrange cgua;
    ss7_event_rel rel;
    ss7_event_cic rlc;
    ss7_event_anm anm;
    ss7_event_acm acm;
    ss7_event_con con;
    ss7_event_cic blo;
    ss7_event_cic ubl;
    ss7_event_cic bla;
    ss7_event_cic uba;
    ss7_event_rsc rsc;
    ss7_event_cpg cpg;
    ...;
} ss7_event;

void ss7_set_message(void (*func)(struct ss7 *ss7, char *message));
void ss7_set_error(void (*func)(struct ss7 *ss7, char *message));
void ss7_set_notinservice(void (*func)(struct ss7 *ss7, int cic, unsigned int dpc));
void ss7_set_hangup(int (*func)(struct ss7 *ss7, int cic, unsigned int dpc, int cause,
                                int do_hangup));
void ss7_set_call_null(void (*func)(struct ss7 *ss7, struct isup_call *c, int lock));
void ss7_set_debug(struct ss7 *ss7, unsigned int flags);
int ss7_schedule_run(struct ss7 *ss7);
int ss7_add_link(struct ss7 *ss7, int transport, int fd, int slc, unsigned int adjpc);
int ss7_set_network_ind(struct ss7 *ss7, int ni);
int ss7_set_pc(struct ss7 *ss7, unsigned int pc);
struct ss7 *ss7_new(int switchtype);
void ss7_destroy(struct ss7 *ss7);
void ss7_set_cause_location(struct ss7 *ss7, unsigned char location);
ss7_event *ss7_check_event(struct ss7 *ss7);
int ss7_start(struct ss7 *ss7);
int ss7_read(struct ss7 *ss7, int fd);
int ss7_write(struct ss7 *ss7, int fd);
int ss7_pollflags(struct ss7 *ss7, int fd);
char *ss7_event2str(int event);
int ss7_set_mtp3_timer(struct ss7 *ss7, char *name, int ms);
int ss7_set_isup_timer(struct ss7 *ss7, char *name, int ms);
struct isup_call *isup_free_call_if_clear(struct ss7 *ss7, struct isup_call *c);
int isup_iam(struct ss7 *ss7, struct isup_call *c);
int isup_anm(struct ss7 *ss7, struct isup_call *c);
struct isup_call *isup_new_call(struct ss7 *ss7, int cic, unsigned int dpc, int outgoing);
int isup_acm(struct ss7 *ss7, struct isup_call *c);
int isup_rel(struct ss7 *ss7, struct isup_call *c, int cause);
int isup_rlc(struct ss7 *ss7, struct isup_call *c);
int isup_gra(struct ss7 *ss7, struct isup_call *c, int endcic, unsigned char state[]);
int isup_grs(struct ss7 *ss7, struct isup_call *c, int endcic);
int isup_bla(struct ss7 *ss7, struct isup_call *c);
int isup_uba(struct ss7 *ss7, struct isup_call *c);
void isup_free_call(struct ss7 *ss7, struct isup_call *c);
void isup_set_called(struct isup_call *c, const char *called, unsigned char called_nai,
                     const struct ss7 *ss7);
void isup_set_calling(struct isup_call *c, const char *calling, unsigned char calling_nai,
                      unsigned char presentation_ind, unsigned char screening_ind);
void isup_set_calling_party_category(struct isup_call *c, unsigned int category);

extern "Python" void _trunkline_ss7_message(struct ss7 *, char *);
extern "Python" void _trunkline_ss7_error(struct ss7 *, char *);
extern "Python" void _trunkline_ss7_notinservice(struct ss7 *, int, unsigned int);
extern "Python" int _trunkline_ss7_hangup(struct ss7 *, int, unsigned int, int, int);
extern "Python" void _trunkline_ss7_call_null(struct ss7 *, struct isup_call *, int);

void trunkline_ss7_set_now(long long us);
long long trunkline_ss7_next_us(struct ss7 *ss7);
int trunkline_ss7_virtual_time(void);
"""

_SOURCE_STATIC = r"""
#include <libss7.h>
#include <sys/time.h>
#include <time.h>

static __thread long long tl_now_us = 0;
static void trunkline_ss7_set_now(long long us) { tl_now_us = us; }
static int trunkline_ss7_virtual_time(void) { return 1; }

__attribute__((visibility("hidden")))
int gettimeofday(struct timeval *restrict tv, void *restrict tz)
{
    (void)tz;
    if (tl_now_us) {
        tv->tv_sec = (time_t)(tl_now_us / 1000000);
        tv->tv_usec = (suseconds_t)(tl_now_us % 1000000);
    } else {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        tv->tv_sec = ts.tv_sec;
        tv->tv_usec = ts.tv_nsec / 1000;
    }
    return 0;
}
"""

_SOURCE_SHARED = r"""
#include <libss7.h>
#include <sys/time.h>
static void trunkline_ss7_set_now(long long us) { (void)us; }
static int trunkline_ss7_virtual_time(void) { return 0; }
"""

_SOURCE_TAIL = r"""
static long long trunkline_ss7_next_us(struct ss7 *ss7)
{
    struct timeval *tv = ss7_schedule_next(ss7);
    if (!tv) return -1;
    return (long long)tv->tv_sec * 1000000LL + (long long)tv->tv_usec;
}
"""


@dataclass(frozen=True, slots=True)
class Binding:
    ffi: Any
    lib: Any
    virtual_time: bool
    linkage: str
    fallback_reason: str = ""

    def set_now(self, seconds: float) -> None:
        """The time libss7 reads (this thread), in seconds of the caller's clock."""
        self.lib.trunkline_ss7_set_now(EPOCH_US + round(seconds * 1_000_000))


_LOCK = threading.Lock()
_BINDING: Binding | None = None
#: Live instances by their ``struct ss7 *`` address (the callbacks are process-wide).
_OWNERS: dict[int, Libss7] = {}


def load() -> Binding:
    """Build (once) and return the binding; raises :class:`NativeBuildError` naming
    ``libss7-dev`` when neither build works."""
    global _BINDING
    with _LOCK:
        if _BINDING is not None:
            return _BINDING
        try:
            module = load_extension("libss7_static", _CDEF, _SOURCE_STATIC + _SOURCE_TAIL,
                                    libraries=(":libss7.a",), debian_packages=("libss7-dev",))
            binding = Binding(module.ffi, module.lib, True, "static")
        except NativeBuildError as err:
            module = load_extension("libss7_shared", _CDEF, _SOURCE_SHARED + _SOURCE_TAIL,
                                    libraries=("ss7",), debian_packages=("libss7-dev",))
            binding = Binding(module.ffi, module.lib, False, "shared", str(err))
        _install_callbacks(module)
        _BINDING = binding
        return binding


def _key(ffi: Any, ss7: Any) -> int:
    return int(ffi.cast("uintptr_t", ss7))


def _install_callbacks(module: ModuleType) -> None:
    ffi, lib = module.ffi, module.lib  # type: ignore[attr-defined]

    def owner(ss7: Any) -> Libss7 | None:
        return _OWNERS.get(_key(ffi, ss7))

    @ffi.def_extern()
    def _trunkline_ss7_message(ss7: Any, text: Any) -> None:
        found = owner(ss7)
        if found is not None and found.keep_messages:
            found.messages.append(ffi.string(text).decode("latin-1"))

    @ffi.def_extern()
    def _trunkline_ss7_error(ss7: Any, text: Any) -> None:
        found = owner(ss7)
        if found is not None:
            found.errors.append(ffi.string(text).decode("latin-1"))

    @ffi.def_extern()
    def _trunkline_ss7_notinservice(ss7: Any, cic: int, dpc: int) -> None:
        found = owner(ss7)
        if found is not None:
            found.events.append({"event": "NOTINSERVICE", "cic": cic, "dpc": dpc})

    @ffi.def_extern(error=0)
    def _trunkline_ss7_hangup(ss7: Any, cic: int, dpc: int, cause: int, do_hangup: int
                              ) -> int:
        found = owner(ss7)
        if found is not None:
            found.events.append({"event": "HANGUP", "cic": cic, "cause": cause,
                                 "do_hangup": do_hangup})
        return int(lib.SS7_CIC_USED)

    @ffi.def_extern()
    def _trunkline_ss7_call_null(ss7: Any, call: Any, lock: int) -> None:
        found = owner(ss7)
        if found is not None:
            address = _key(ffi, call)
            for cic, known in list(found.calls.items()):
                if _key(ffi, known) == address:
                    del found.calls[cic]

    lib.ss7_set_message(lib._trunkline_ss7_message)
    lib.ss7_set_error(lib._trunkline_ss7_error)
    lib.ss7_set_notinservice(lib._trunkline_ss7_notinservice)
    lib.ss7_set_hangup(lib._trunkline_ss7_hangup)
    lib.ss7_set_call_null(lib._trunkline_ss7_call_null)


_RANGES = ("GRS", "GRA", "CGB", "CGU", "CGBA", "CGUA")


class Libss7:
    """One libss7 signalling point (ITU, 14-bit point codes, national network by default)
    with one link on descriptor ``fd`` (DAHDIMTP2 transport), driven from Python.

    Call :meth:`pump` with ``now`` as often as frames may arrive; it reads what is
    readable, runs libss7's timers when due, writes what libss7 wants to write and
    returns the events (dicts, copied out of libss7's queue). Not thread-safe: serialise
    calls per instance.
    """

    def __init__(self, fd: int, *, pc: int, adjacent: int, ni: int = 2, slc: int = 0,
                 now: float = 0.0, debug: bool = False) -> None:
        self.binding = b = load()
        self.ffi, self.lib = b.ffi, b.lib
        self.fd = fd
        self.now = now
        b.set_now(now)
        self.ss7 = self.lib.ss7_new(self.lib.SS7_ITU)
        if self.ss7 == self.ffi.NULL:
            raise RuntimeError("libss7: ss7_new failed")
        _OWNERS[_key(self.ffi, self.ss7)] = self
        self.events: list[dict[str, Any]] = []
        self.errors: list[str] = []
        self.messages: list[str] = []
        self.keep_messages = debug
        self.calls: dict[int, Any] = {}   # CIC -> struct isup_call *
        self.adjacent = adjacent
        lib = self.lib
        lib.ss7_set_network_ind(self.ss7, ni)
        lib.ss7_set_pc(self.ss7, pc)
        for name, ms in MTP3_TIMERS.items():
            lib.ss7_set_mtp3_timer(self.ss7, name.encode(), ms)
        for name, ms in ISUP_TIMERS.items():
            lib.ss7_set_isup_timer(self.ss7, name.encode(), ms)
        if lib.ss7_add_link(self.ss7, lib.SS7_TRANSPORT_DAHDIMTP2, fd, slc, adjacent) < 0:
            raise RuntimeError("libss7: ss7_add_link failed")
        if debug:
            lib.ss7_set_debug(self.ss7, lib.SS7_DEBUG_MTP2 | lib.SS7_DEBUG_MTP3
                              | lib.SS7_DEBUG_ISUP)

    # -- driving ------------------------------------------------------------------------------
    def start(self, now: float) -> list[dict[str, Any]]:
        self._at(now)
        self.lib.ss7_start(self.ss7)
        return self.pump(now)

    def pump(self, now: float) -> list[dict[str, Any]]:
        """Read, run timers, write; returns the events since the last call."""
        self._at(now)
        lib = self.lib
        for _ in range(64):
            if not self._readable():
                break
            lib.ss7_read(self.ss7, self.fd)
            self._drain()
        next_us = lib.trunkline_ss7_next_us(self.ss7)
        if next_us >= 0 and (not self.binding.virtual_time
                                              or next_us <= EPOCH_US + round(now * 1e6)):
            lib.ss7_schedule_run(self.ss7)
            self._drain()
        for _ in range(64):
            if not lib.ss7_pollflags(self.ss7, self.fd) & 0x004:   # POLLOUT
                break
            if lib.ss7_write(self.ss7, self.fd) <= 0:
                break
        out, self.events = self.events, []
        return out

    def _readable(self) -> bool:
        ready, _, _ = select.select([self.fd], [], [], 0)
        return bool(ready)

    def _at(self, now: float) -> None:
        self.now = now
        self.binding.set_now(now)

    def _drain(self) -> None:
        lib, ffi = self.lib, self.ffi
        while True:
            e = lib.ss7_check_event(self.ss7)
            if e == ffi.NULL:
                return
            self.events.append(self._copy(e))

    def _copy(self, e: Any) -> dict[str, Any]:
        ffi, lib = self.ffi, self.lib
        name = ffi.string(lib.ss7_event2str(e.e)).decode()
        short = name.split("_")[-1] if name.startswith("ISUP") else name
        out: dict[str, Any] = {"event": short, "code": e.e}
        if e.e == lib.ISUP_EVENT_IAM:
            out.update(cic=e.iam.cic, called=ffi.string(e.iam.called_party_num).decode()
                       .rstrip("#"), calling=ffi.string(e.iam.calling_party_num).decode(),
                       category=e.iam.calling_party_cat, opc=e.iam.opc)
            self.calls[e.iam.cic] = e.iam.call
        elif e.e == lib.ISUP_EVENT_REL:
            out.update(cic=e.rel.cic, cause=e.rel.cause)
            self.calls[e.rel.cic] = e.rel.call
        elif e.e == lib.ISUP_EVENT_ACM:
            out.update(cic=e.acm.cic, status=e.acm.called_party_status_ind)
        elif e.e == lib.ISUP_EVENT_CPG:
            out.update(cic=e.cpg.cic, cpg_event=e.cpg.event)
        elif e.e in (lib.ISUP_EVENT_ANM, lib.ISUP_EVENT_CON, lib.ISUP_EVENT_RLC,
                     lib.ISUP_EVENT_BLO, lib.ISUP_EVENT_UBL, lib.ISUP_EVENT_BLA,
                     lib.ISUP_EVENT_UBA, lib.ISUP_EVENT_RSC):
            out.update(cic=e.rlc.cic)
            if e.rlc.call != ffi.NULL:
                out["call"] = e.rlc.call
        elif short in _RANGES:
            rng = e.grs
            count = rng.endcic - rng.startcic + 1
            out.update(start=rng.startcic, end=rng.endcic, type=rng.type,
                       status=[rng.status[i] for i in range(max(0, min(count, 255)))])
            out["call"] = rng.call
        return out

    # -- requests -----------------------------------------------------------------------------
    def iam(self, cic: int, called: str, calling: str = "", category: int = 0x0A) -> None:
        lib, ffi = self.lib, self.ffi
        call = lib.isup_new_call(self.ss7, cic, self.adjacent, 1)
        if call == ffi.NULL:
            raise RuntimeError(f"libss7: no call for CIC {cic}")
        lib.isup_set_called(call, called.encode(), lib.SS7_NAI_NATIONAL, self.ss7)
        if calling:
            lib.isup_set_calling(call, calling.encode(), lib.SS7_NAI_NATIONAL,
                                 lib.SS7_PRESENTATION_ALLOWED, lib.SS7_SCREENING_USER_PROVIDED)
        lib.isup_set_calling_party_category(call, category)
        self.calls[cic] = call
        lib.isup_iam(self.ss7, call)

    def acm(self, cic: int) -> None:
        self.lib.isup_acm(self.ss7, self.calls[cic])

    def anm(self, cic: int) -> None:
        self.lib.isup_anm(self.ss7, self.calls[cic])

    def rel(self, cic: int, cause: int = 16) -> None:
        self.lib.isup_rel(self.ss7, self.calls[cic], cause)

    def rlc(self, cic: int) -> None:
        """RLC for a REL received, then free the call (as chan_dahdi does)."""
        call = self.calls.pop(cic)
        self.lib.isup_rlc(self.ss7, call)
        self.lib.isup_free_call_if_clear(self.ss7, call)

    def free(self, cic: int) -> None:
        """Free the call on ``cic`` after RLC received."""
        call = self.calls.pop(cic, None)
        if call is not None:
            self.lib.isup_free_call_if_clear(self.ss7, call)

    def grs(self, start: int, end: int) -> None:
        call = self.lib.isup_new_call(self.ss7, start, self.adjacent, 0)
        self.lib.isup_grs(self.ss7, call, end)

    def gra(self, event: dict[str, Any]) -> None:
        """GRA for a GRS event (no circuit blocked)."""
        state = self.ffi.new("unsigned char[]", 255)
        self.lib.isup_gra(self.ss7, event["call"], event["end"], state)
        self.lib.isup_free_call_if_clear(self.ss7, event["call"])

    def release_range(self, event: dict[str, Any]) -> None:
        """Free the call record of a group event (our GRS answered by GRA, ...)."""
        self.lib.isup_free_call_if_clear(self.ss7, event["call"])

    def close(self) -> None:
        if self.ss7 is not None and self.ss7 != self.ffi.NULL:
            _OWNERS.pop(_key(self.ffi, self.ss7), None)
            self.calls.clear()
            self.lib.ss7_destroy(self.ss7)
            self.ss7 = self.ffi.NULL
