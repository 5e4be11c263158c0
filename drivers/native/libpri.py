"""The raw cffi binding to libpri (API mode, checked against ``/usr/include/libpri.h``).

Loaded on first use by :func:`load` (never at import), so ``import trunkline`` stays
free of native code. Everything above this module is in :mod:`trunkline.drivers.signalling.pri`.

Two builds are tried, in this order:

``static``
    libpri's static archive (``/usr/lib/libpri.a``, Debian ``libpri-dev``) is linked
    into the extension with ``-l:libpri.a``. The extension defines its own *hidden*
    ``gettimeofday`` (and ``malloc``/``calloc``/``free``/``realloc``), so the static
    linker binds libpri's references to ours and nothing outside the extension is
    affected. ``gettimeofday`` returns the time set from Python with
    :func:`set_now` (per thread), so libpri's Q.921/Q.931 timers (T200, T203, T303,
    T305, T308, T309, T310, T313, T316, ...) run on the span's :class:`Clock`; a
    ``VirtualClock`` fast-forwards them. The allocator hooks count libpri's live heap
    blocks (:func:`live_blocks`), which the leak tests use to prove that call records
    are destroyed.

``shared``
    Fallback when the archive is missing or cannot be linked into a shared object:
    links ``libpri.so``; timers then follow the real wall clock (``virtual_time`` is
    False) and ``live_blocks`` returns -1. :data:`Binding.virtual_time` tells which.

The libpri callbacks are cffi ``extern "Python"`` functions. They dispatch through the
``userdata`` pointer given to ``pri_new_cb`` (a ``ffi.new_handle`` of the owner), to the
owner's ``_io_read(buf, buflen)``, ``_io_write(data)``, ``_pri_message(text)`` and
``_pri_error(text)`` methods. libpri's message and error hooks are process-wide; they
are installed once here and routed per controller.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from types import ModuleType
from typing import Any

from trunkline.drivers.native.build import NativeBuildError, load_extension

__all__ = ["EPOCH_US", "Binding", "load"]

#: Offset added to clock seconds before handing them to libpri, so that time 0 of a
#: VirtualClock is a plausible, non-zero ``struct timeval`` for libpri.
EPOCH_US = 1_000_000_000 * 1_000_000

_CDEF_COMMON = r"""
typedef struct q931_call q931_call;
struct pri;
struct pri_sr;
struct timeval { long tv_sec; long tv_usec; };
typedef int (*pri_io_cb)(struct pri *pri, void *buf, int buflen);

#define PRI_NETWORK ...
#define PRI_CPE ...
#define PRI_DEBUG_Q921_RAW ...
#define PRI_DEBUG_Q921_DUMP ...
#define PRI_DEBUG_Q921_STATE ...
#define PRI_DEBUG_CONFIG ...
#define PRI_DEBUG_Q931_DUMP ...
#define PRI_DEBUG_Q931_STATE ...
#define PRI_DEBUG_APDU ...
#define PRI_DEBUG_ALL ...

#define PRI_SWITCH_NI2 ...
#define PRI_SWITCH_DMS100 ...
#define PRI_SWITCH_LUCENT5E ...
#define PRI_SWITCH_ATT4ESS ...
#define PRI_SWITCH_EUROISDN_E1 ...
#define PRI_SWITCH_EUROISDN_T1 ...
#define PRI_SWITCH_NI1 ...
#define PRI_SWITCH_QSIG ...

#define PRI_EVENT_DCHAN_UP ...
#define PRI_EVENT_DCHAN_DOWN ...
#define PRI_EVENT_RESTART ...
#define PRI_EVENT_CONFIG_ERR ...
#define PRI_EVENT_RING ...
#define PRI_EVENT_HANGUP ...
#define PRI_EVENT_RINGING ...
#define PRI_EVENT_ANSWER ...
#define PRI_EVENT_HANGUP_ACK ...
#define PRI_EVENT_RESTART_ACK ...
#define PRI_EVENT_FACILITY ...
#define PRI_EVENT_INFO_RECEIVED ...
#define PRI_EVENT_PROCEEDING ...
#define PRI_EVENT_SETUP_ACK ...
#define PRI_EVENT_HANGUP_REQ ...
#define PRI_EVENT_NOTIFY ...
#define PRI_EVENT_PROGRESS ...
#define PRI_EVENT_KEYPAD_DIGIT ...
#define PRI_EVENT_SERVICE ...
#define PRI_EVENT_SERVICE_ACK ...
#define PRI_EVENT_CONNECT_ACK ...

#define PRI_PROG_INBAND_AVAILABLE ...
#define PRI_TRANS_CAP_SPEECH ...
#define PRI_TRANS_CAP_3_1K_AUDIO ...
#define PRI_LAYER_1_ULAW ...
#define PRI_LAYER_1_ALAW ...

typedef struct { int e; ...; } pri_event_generic;
typedef struct { int e; char err[256]; ...; } pri_event_error;
typedef struct { int e; int channel; ...; } pri_event_restart;
typedef struct { int e; int channel; int cref; int progress; int progressmask;
                 q931_call *call; ...; } pri_event_ringing;
typedef struct { int e; int channel; int cref; int progress; int progressmask;
                 q931_call *call; ...; } pri_event_answer;
typedef struct {
    int e; int channel; int callingpres; int callingplanani; int callingplan;
    char callingani[256]; char callingnum[256]; char callingname[256];
    int calledplan; char callednum[256]; char redirectingnum[256];
    int flexible; int cref; int ctype; int layer1; int complete; q931_call *call;
    int progress; int progressmask; char keypad_digits[64];
    ...;
} pri_event_ring;
typedef struct { int e; int channel; int cause; int cref; q931_call *call; ...; }
    pri_event_hangup;
typedef struct { int e; int channel; ...; } pri_event_restart_ack;
typedef struct { int e; int channel; int cref; int progress; int progressmask; int cause;
                 q931_call *call; ...; } pri_event_proceeding;
typedef struct { int e; int channel; q931_call *call; int progressmask; ...; }
    pri_event_setup_ack;
typedef struct { int e; int channel; int info; q931_call *call; ...; } pri_event_notify;
typedef struct { int e; int channel; q931_call *call; char digits[64]; ...; }
    pri_event_keypad_digit;
typedef struct { int e; int channel; int changestatus; ...; } pri_event_service;
typedef struct { int e; int channel; int changestatus; ...; } pri_event_service_ack;
struct pri_event_connect_ack { int e; int channel; q931_call *call; ...; };

typedef union {
    int e;
    pri_event_generic gen;
    pri_event_restart restart;
    pri_event_error err;
    pri_event_ring ring;
    pri_event_hangup hangup;
    pri_event_ringing ringing;
    pri_event_answer answer;
    pri_event_restart_ack restartack;
    pri_event_proceeding proceeding;
    pri_event_setup_ack setup_ack;
    pri_event_notify notify;
    pri_event_keypad_digit digit;
    pri_event_service service;
    pri_event_service_ack service_ack;
    struct pri_event_connect_ack connect_ack;
    ...;
} pri_event;

struct pri *pri_new_cb(int fd, int nodetype, int switchtype, pri_io_cb io_read,
                       pri_io_cb io_write, void *userdata);
void *pri_get_userdata(struct pri *pri);
void pri_set_debug(struct pri *pri, int debug);
int pri_get_debug(struct pri *pri);
pri_event *pri_check_event(struct pri *pri);
struct timeval *pri_schedule_next(struct pri *pri);
pri_event *pri_schedule_run(struct pri *pri);
char *pri_event2str(int id);
char *pri_switch2str(int id);
char *pri_node2str(int id);
char *pri_cause2str(int cause);
const char *pri_get_version(void);

q931_call *pri_new_call(struct pri *pri);
struct pri_sr *pri_sr_new(void);
void pri_sr_free(struct pri_sr *sr);
int pri_sr_set_channel(struct pri_sr *sr, int channel, int exclusive, int nonisdn);
int pri_sr_set_bearer(struct pri_sr *sr, int transmode, int userl1);
int pri_sr_set_called(struct pri_sr *sr, char *called, int calledplan, int complete);
int pri_sr_set_caller(struct pri_sr *sr, char *caller, char *callername, int callerplan,
                      int callerpres);
int pri_setup(struct pri *pri, q931_call *call, struct pri_sr *req);
int pri_proceeding(struct pri *pri, q931_call *c, int channel, int info);
int pri_acknowledge(struct pri *pri, q931_call *call, int channel, int info);
int pri_progress(struct pri *pri, q931_call *c, int channel, int info);
int pri_progress_with_cause(struct pri *pri, q931_call *c, int channel, int info, int cause);
int pri_answer(struct pri *pri, q931_call *call, int channel, int nonisdn);
int pri_hangup(struct pri *pri, q931_call *call, int cause);
void pri_hangup_fix_enable(struct pri *ctrl, int enable);
void pri_connect_ack_enable(struct pri *ctrl, int enable);
int pri_connect_ack(struct pri *ctrl, q931_call *call, int channel);
void pri_destroycall(struct pri *pri, q931_call *call);
int pri_reset(struct pri *pri, int channel);
int pri_maintenance_service(struct pri *pri, int span, int channel, int changestatus);
int pri_set_service_message_support(struct pri *pri, int supportflag);
void pri_set_inbanddisconnect(struct pri *pri, unsigned int enable);
void pri_facility_enable(struct pri *pri);
int pri_set_timer(struct pri *pri, int timer, int value);
int pri_get_timer(struct pri *pri, int timer);
int pri_timer2idx(const char *timer_name);
void pri_set_message(void (*func)(struct pri *pri, char *));
void pri_set_error(void (*func)(struct pri *pri, char *));

extern "Python" int _trunkline_pri_io_read(struct pri *, void *, int);
extern "Python" int _trunkline_pri_io_write(struct pri *, void *, int);
extern "Python" void _trunkline_pri_message(struct pri *, char *);
extern "Python" void _trunkline_pri_error(struct pri *, char *);

void trunkline_pri_set_now(long long us);
long long trunkline_pri_next_us(struct pri *pri);
long trunkline_pri_live_blocks(void);
int trunkline_pri_virtual_time(void);
"""

# Hidden definitions bind libpri's references inside this extension only.
_SOURCE_STATIC = r"""
#include <libpri.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

extern void *__libc_malloc(size_t);
extern void *__libc_calloc(size_t, size_t);
extern void *__libc_realloc(void *, size_t);
extern void __libc_free(void *);

static __thread long long tl_now_us = 0;
static long tl_live_blocks = 0;

static void trunkline_pri_set_now(long long us) { tl_now_us = us; }
static long trunkline_pri_live_blocks(void)
{ return __atomic_load_n(&tl_live_blocks, __ATOMIC_RELAXED); }
static int trunkline_pri_virtual_time(void) { return 1; }

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

__attribute__((visibility("hidden"))) void *malloc(size_t n)
{
    void *p = __libc_malloc(n);
    if (p) __atomic_add_fetch(&tl_live_blocks, 1, __ATOMIC_RELAXED);
    return p;
}
__attribute__((visibility("hidden"))) void *calloc(size_t n, size_t m)
{
    void *p = __libc_calloc(n, m);
    if (p) __atomic_add_fetch(&tl_live_blocks, 1, __ATOMIC_RELAXED);
    return p;
}
__attribute__((visibility("hidden"))) void *realloc(void *old, size_t n)
{
    void *p = __libc_realloc(old, n);
    if (p && !old) __atomic_add_fetch(&tl_live_blocks, 1, __ATOMIC_RELAXED);
    return p;
}
__attribute__((visibility("hidden"))) void free(void *p)
{
    if (p) __atomic_sub_fetch(&tl_live_blocks, 1, __ATOMIC_RELAXED);
    __libc_free(p);
}
"""

_SOURCE_SHARED = r"""
#include <libpri.h>
#include <sys/time.h>
static void trunkline_pri_set_now(long long us) { (void)us; }
static long trunkline_pri_live_blocks(void) { return -1; }
static int trunkline_pri_virtual_time(void) { return 0; }
"""

_SOURCE_TAIL = r"""
static long long trunkline_pri_next_us(struct pri *pri)
{
    struct timeval *tv = pri_schedule_next(pri);
    if (!tv) return -1;
    return (long long)tv->tv_sec * 1000000LL + (long long)tv->tv_usec;
}
"""


@dataclass(frozen=True, slots=True)
class Binding:
    """The loaded extension: ``ffi``, ``lib`` and how it was built."""

    ffi: Any
    lib: Any
    #: True when libpri's timers follow :func:`set_now` (static build).
    virtual_time: bool
    #: ``"static"`` or ``"shared"``.
    linkage: str
    #: Why the static build was not used (empty when it was).
    fallback_reason: str = ""

    def set_now(self, seconds: float) -> None:
        """Set the time libpri reads (this thread) to ``seconds`` of the caller's clock."""
        self.lib.trunkline_pri_set_now(EPOCH_US + round(seconds * 1_000_000))

    def next_timer(self, pri: Any) -> float | None:
        """Clock seconds of libpri's next scheduled timer, or None when none is set."""
        us = self.lib.trunkline_pri_next_us(pri)
        if us < 0:
            return None
        if not self.virtual_time:
            return None  # caller converts real time itself; see PriSpan
        return (us - EPOCH_US) / 1_000_000

    def timer_due(self, pri: Any, seconds: float) -> bool:
        """Whether libpri has a timer due at ``seconds`` of the caller's clock.

        Compared in libpri's own microseconds, rounded as :meth:`set_now` rounds: a
        timer libpri set for "now" (its 0 ms MDL-ERROR handling) converted back to
        float seconds can come out a hair later than the float ``now`` it came from.
        """
        us = self.lib.trunkline_pri_next_us(pri)
        return bool(us >= 0 and self.virtual_time
                    and us <= EPOCH_US + round(seconds * 1_000_000))

    def next_timer_us(self, pri: Any) -> int:
        """Raw ``struct timeval`` of the next timer in microseconds, or -1."""
        return int(self.lib.trunkline_pri_next_us(pri))

    def live_blocks(self) -> int:
        """libpri heap blocks currently allocated (static build), else -1."""
        return int(self.lib.trunkline_pri_live_blocks())


_LOCK = threading.Lock()
_BINDING: Binding | None = None


def load() -> Binding:
    """Build (once, cached) and return the libpri binding.

    Raises :class:`NativeBuildError` naming ``libpri-dev`` when neither build works.
    """
    global _BINDING
    with _LOCK:
        if _BINDING is not None:
            return _BINDING
        reason = ""
        try:
            module = load_extension(
                "libpri_static", _CDEF_COMMON, _SOURCE_STATIC + _SOURCE_TAIL,
                libraries=(":libpri.a",), debian_packages=("libpri-dev",),
            )
            binding = Binding(module.ffi, module.lib, True, "static")
        except NativeBuildError as err:
            reason = str(err)
            module = load_extension(
                "libpri_shared", _CDEF_COMMON, _SOURCE_SHARED + _SOURCE_TAIL,
                libraries=("pri",), debian_packages=("libpri-dev",),
            )
            binding = Binding(module.ffi, module.lib, False, "shared", reason)
        _install_callbacks(module)
        _BINDING = binding
        return binding


def _owner(ffi: Any, lib: Any, pri: Any) -> Any:
    if pri == ffi.NULL:
        return None
    userdata = lib.pri_get_userdata(pri)
    if userdata == ffi.NULL:
        return None
    return ffi.from_handle(userdata)


def _install_callbacks(module: ModuleType) -> None:
    ffi, lib = module.ffi, module.lib  # type: ignore[attr-defined]

    @ffi.def_extern(onerror=_on_callback_error)
    def _trunkline_pri_io_read(pri: Any, buf: Any, buflen: int) -> int:
        owner = _owner(ffi, lib, pri)
        if owner is None:
            return 0
        return int(owner._io_read(buf, buflen))

    @ffi.def_extern(onerror=_on_callback_error)
    def _trunkline_pri_io_write(pri: Any, buf: Any, buflen: int) -> int:
        owner = _owner(ffi, lib, pri)
        if owner is None:
            return buflen
        return int(owner._io_write(bytes(ffi.buffer(buf, buflen))))

    @ffi.def_extern(onerror=_on_callback_error)
    def _trunkline_pri_message(pri: Any, text: Any) -> None:
        owner = _owner(ffi, lib, pri)
        message = ffi.string(text).decode("latin-1")
        if owner is not None:
            owner._pri_message(message)

    @ffi.def_extern(onerror=_on_callback_error)
    def _trunkline_pri_error(pri: Any, text: Any) -> None:
        owner = _owner(ffi, lib, pri)
        message = ffi.string(text).decode("latin-1")
        if owner is not None:
            owner._pri_error(message)
        else:
            _ORPHAN_ERRORS.append(message)

    lib.pri_set_message(lib._trunkline_pri_message)
    lib.pri_set_error(lib._trunkline_pri_error)


#: libpri errors raised with no controller to route them to (kept for inspection).
_ORPHAN_ERRORS: list[str] = []
#: Exceptions raised inside callbacks; the span re-raises them after the libpri call.
CALLBACK_ERRORS: list[BaseException] = []


def _on_callback_error(exc_type: Any, exc_value: BaseException | None, tb: Any) -> None:
    if exc_value is not None:
        CALLBACK_ERRORS.append(exc_value)
