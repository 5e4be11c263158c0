"""spandsp's detectors through cffi: the independent cross-check of our detector.

Bound (API mode, checked by the compiler against Debian libspandsp-dev's headers):
``dtmf_rx``, ``super_tone_rx`` (cadenced call-progress tones), ``modem_connect_tones_rx``
(CNG, CED/ANS, ANS/, ANSam), ``bell_mf_rx`` and ``r2_mf_rx``. spandsp is LGPL-2.1
(see NOTICE); nothing of its code is copied here, only its public API is called.

The callbacks spandsp makes (tone reports) land in a small C struct owned by Python,
so no Python callback runs inside spandsp; Python reads the reports after each call.
The native library is built and loaded on first use (:func:`library`), never at import.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from trunkline.drivers.native.build import load_extension

# The report structure, declared once for cffi and for the C source that fills it.
_SHARED_STRUCTS = """
typedef struct {
    int count;
    int codes[256];
    int levels[256];
    long long at[256];
    long long pos;
} tl_report_t;
"""

_CDEF = """
typedef ... dtmf_rx_state_t;
typedef ... super_tone_rx_state_t;
typedef ... super_tone_rx_descriptor_t;
typedef ... modem_connect_tones_rx_state_t;
typedef ... bell_mf_rx_state_t;
typedef ... r2_mf_rx_state_t;
typedef void (*digits_rx_callback_t)(void *user_data, const char *digits, int len);

""" + _SHARED_STRUCTS + """

dtmf_rx_state_t *tl_dtmf_rx_new(tl_report_t *r);
void dtmf_rx_parms(dtmf_rx_state_t *s, int filter_dialtone, int twist, int reverse_twist,
                   int threshold);
int dtmf_rx(dtmf_rx_state_t *s, const int16_t amp[], int samples);
size_t dtmf_rx_get(dtmf_rx_state_t *s, char *digits, int max);
int dtmf_rx_free(dtmf_rx_state_t *s);

super_tone_rx_descriptor_t *super_tone_rx_make_descriptor(super_tone_rx_descriptor_t *desc);
int super_tone_rx_free_descriptor(super_tone_rx_descriptor_t *desc);
int super_tone_rx_add_tone(super_tone_rx_descriptor_t *desc);
int super_tone_rx_add_element(super_tone_rx_descriptor_t *desc, int tone, int f1, int f2,
                              int min, int max);
super_tone_rx_state_t *tl_super_tone_rx_new(super_tone_rx_descriptor_t *desc,
                                            tl_report_t *r);
int super_tone_rx(super_tone_rx_state_t *s, const int16_t amp[], int samples);
int super_tone_rx_free(super_tone_rx_state_t *s);

modem_connect_tones_rx_state_t *tl_modem_connect_tones_rx_new(int tone_type, tl_report_t *r);
int modem_connect_tones_rx(modem_connect_tones_rx_state_t *s, const int16_t amp[], int len);
int modem_connect_tones_rx_get(modem_connect_tones_rx_state_t *s);
int modem_connect_tones_rx_free(modem_connect_tones_rx_state_t *s);
const char *modem_connect_tone_to_str(int tone);

bell_mf_rx_state_t *bell_mf_rx_init(bell_mf_rx_state_t *s, digits_rx_callback_t callback,
                                    void *user_data);
int bell_mf_rx(bell_mf_rx_state_t *s, const int16_t amp[], int samples);
size_t bell_mf_rx_get(bell_mf_rx_state_t *s, char *buf, int max);
int bell_mf_rx_free(bell_mf_rx_state_t *s);
r2_mf_rx_state_t *tl_r2_mf_rx_new(int fwd, tl_report_t *r);
int r2_mf_rx(r2_mf_rx_state_t *s, const int16_t amp[], int samples);
int r2_mf_rx_free(r2_mf_rx_state_t *s);

void tl_advance(tl_report_t *r, int samples);
void tl_batch(dtmf_rx_state_t **dtmf, super_tone_rx_state_t **sup,
              modem_connect_tones_rx_state_t **mct, const int16_t *amp, int channels,
              int samples);
"""

_SOURCE = r"""
#include <stdint.h>
#include <inttypes.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <limits.h>
#include <math.h>
#include <spandsp/telephony.h>
#include <spandsp/logging.h>
#include <spandsp/complex.h>
#include <spandsp/power_meter.h>
#include <spandsp/tone_detect.h>
#include <spandsp/super_tone_rx.h>
#include <spandsp/dtmf.h>
#include <spandsp/modem_connect_tones.h>
#include <spandsp/bell_r2_mf.h>

""" + _SHARED_STRUCTS + r"""

/* Our own small callback: record the report with the sample position it refers to. */
static void tl_report(void *user_data, int code, int level, int delay)
{
    tl_report_t *r = (tl_report_t *) user_data;
    if (r->count < 256) {
        r->codes[r->count] = code;
        r->levels[r->count] = level;
        r->at[r->count] = r->pos;
        (void) delay;
        r->count++;
    }
}

void tl_advance(tl_report_t *r, int samples) { r->pos += samples; }

dtmf_rx_state_t *tl_dtmf_rx_new(tl_report_t *r)
{
    dtmf_rx_state_t *s = dtmf_rx_init(NULL, NULL, NULL);
    if (s && r)
        dtmf_rx_set_realtime_callback(s, tl_report, r);
    return s;
}

super_tone_rx_state_t *tl_super_tone_rx_new(super_tone_rx_descriptor_t *desc, tl_report_t *r)
{
    return super_tone_rx_init(NULL, desc, tl_report, r);
}

modem_connect_tones_rx_state_t *tl_modem_connect_tones_rx_new(int tone_type, tl_report_t *r)
{
    return modem_connect_tones_rx_init(NULL, tone_type, tl_report, r);
}

/* One media tick for many channels in one C loop (the benchmark's C-speed baseline). */
void tl_batch(dtmf_rx_state_t **dtmf, super_tone_rx_state_t **sup,
              modem_connect_tones_rx_state_t **mct, const int16_t *amp, int channels,
              int samples)
{
    int c;
    for (c = 0;  c < channels;  c++) {
        const int16_t *x = amp + (size_t) c * samples;
        if (dtmf) dtmf_rx(dtmf[c], x, samples);
        if (sup) super_tone_rx(sup[c], x, samples);
        if (mct) modem_connect_tones_rx(mct[c], x, samples);
    }
}

r2_mf_rx_state_t *tl_r2_mf_rx_new(int fwd, tl_report_t *r)
{
    return r2_mf_rx_init(NULL, fwd, tl_report, r);
}
"""

#: spandsp's modem_connect_tones.h enumeration (MODEM_CONNECT_TONES_*).
MODEM_TONE_NAMES = {1: "fax_cng", 2: "fax_ced", 3: "modem_ans", 4: "ansam", 5: "ansam",
                    6: "fax_preamble", 7: "fax_ced", 8: "bell_ans", 9: "calling"}
MODEM_CONNECT_TONES_FAX_CNG = 1
MODEM_CONNECT_TONES_ANSAM_PR = 5
MODEM_CONNECT_TONES_FAX_CED_OR_PREAMBLE = 7


def library():
    """The compiled binding (built on first use; NativeBuildError names libspandsp-dev)."""
    return load_extension("spandsp_detect", _CDEF, _SOURCE, libraries=("spandsp",),
                          debian_packages=("libspandsp-dev",))


@dataclass
class _Reports:
    lib: object
    ptr: object = field(init=False)

    def __post_init__(self) -> None:
        self.ptr = self.lib.ffi.new("tl_report_t *")

    log: list[tuple[int, int, int]] = field(default_factory=list)

    def collect(self) -> None:
        """Move the C buffer's reports to Python before it fills (256 entries)."""
        r = self.ptr
        if r.count:
            self.log += [(r.codes[i], r.levels[i], r.at[i]) for i in range(r.count)]
            r.count = 0

    def drain(self) -> list[tuple[int, int, int]]:
        self.collect()
        out, self.log = self.log, []
        return out


class DtmfRx:
    """One spandsp DTMF receiver (dtmf.c: Goertzel on 102-sample blocks)."""

    def __init__(self) -> None:
        self.lib = library()
        self.reports = _Reports(self.lib)
        self.state = self.lib.ffi.gc(self.lib.lib.tl_dtmf_rx_new(self.reports.ptr),
                                     self.lib.lib.dtmf_rx_free)
        self._buf = self.lib.ffi.new("char[]", 128)

    def process(self, samples: np.ndarray) -> None:
        x = np.ascontiguousarray(samples, dtype=np.int16)
        self.lib.lib.dtmf_rx(self.state, self.lib.ffi.from_buffer("int16_t[]", x), x.size)
        self.lib.lib.tl_advance(self.reports.ptr, x.size)
        if self.reports.ptr.count > 128:
            self.reports.collect()

    def digits(self) -> str:
        n = self.lib.lib.dtmf_rx_get(self.state, self._buf, 127)
        return self.lib.ffi.string(self._buf, n).decode()

    def events(self) -> list[tuple[str, int]]:
        """(digit, onset sample) of each digit start reported so far."""
        return [(chr(c), at) for c, _, at in self.reports.drain() if c]


class SuperToneRx:
    """spandsp's cadence detector configured with a zone's tones (super_tone_rx.c).

    Each zone tone becomes a tone of (f1, f2, min ms, max ms) elements with the same
    +-12 % + 40 ms windows our matcher uses, so differences come from detection.
    """

    def __init__(self, zone, names: tuple[str, ...] = ("dial", "ringback", "busy",
                                                        "congestion", "callwaiting")) -> None:
        from trunkline.drivers.dsp.progress import _components

        self.lib = library()
        ffi, lib = self.lib.ffi, self.lib.lib
        self.desc = ffi.gc(lib.super_tone_rx_make_descriptor(ffi.NULL),
                           lib.super_tone_rx_free_descriptor)
        self.names: dict[int, str] = {}
        for name in names:
            tone = zone.tones.get(name)
            if tone is None:
                continue
            tid = lib.super_tone_rx_add_tone(self.desc)
            self.names[tid] = name
            for freqs, ms in _components(tone):
                f1 = int(freqs[0]) if freqs else 0
                f2 = int(freqs[1]) if len(freqs) > 1 else 0
                if ms is None:
                    lib.super_tone_rx_add_element(self.desc, tid, f1, f2, 1000, 0)
                else:
                    lo = max(int(ms * 0.88 - 40), 20)
                    hi = int(ms * 1.12 + 40)
                    lib.super_tone_rx_add_element(self.desc, tid, f1, f2, lo, hi)
        # super_tone_rx only separates one tone from two when it monitors at least two
        # frequencies (with one, every tone block reads as "f1 and f2"): a zone whose
        # tones all use one frequency (cn: 450 Hz) gets an unused 3 kHz guard tone.
        guard = lib.super_tone_rx_add_tone(self.desc)
        lib.super_tone_rx_add_element(self.desc, guard, 3000, 0, 60000, 0)
        self.reports = _Reports(self.lib)
        self.state = ffi.gc(lib.tl_super_tone_rx_new(self.desc, self.reports.ptr),
                            lib.super_tone_rx_free)

    def process(self, samples: np.ndarray) -> None:
        x = np.ascontiguousarray(samples, dtype=np.int16)
        self.lib.lib.super_tone_rx(self.state, self.lib.ffi.from_buffer("int16_t[]", x), x.size)
        self.lib.lib.tl_advance(self.reports.ptr, x.size)
        if self.reports.ptr.count > 128:
            self.reports.collect()

    def events(self) -> list[tuple[str, int]]:
        return [(self.names.get(c, f"tone{c}"), at) for c, _, at in self.reports.drain()
                if c >= 0]


class ModemTonesRx:
    """spandsp's modem_connect_tones_rx in CNG or CED/ANS mode."""

    def __init__(self, mode: str = "ced") -> None:
        self.lib = library()
        tone_type = {"cng": MODEM_CONNECT_TONES_FAX_CNG,
                     "ced": MODEM_CONNECT_TONES_ANSAM_PR}[mode]
        self.reports = _Reports(self.lib)
        self.state = self.lib.ffi.gc(
            self.lib.lib.tl_modem_connect_tones_rx_new(tone_type, self.reports.ptr),
            self.lib.lib.modem_connect_tones_rx_free)

    def process(self, samples: np.ndarray) -> None:
        x = np.ascontiguousarray(samples, dtype=np.int16)
        self.lib.lib.modem_connect_tones_rx(self.state, self.lib.ffi.from_buffer("int16_t[]", x),
                                            x.size)
        self.lib.lib.tl_advance(self.reports.ptr, x.size)
        if self.reports.ptr.count > 128:
            self.reports.collect()

    def events(self) -> list[tuple[str, int]]:
        return [(MODEM_TONE_NAMES.get(c, str(c)), at) for c, _, at in self.reports.drain()
                if c > 0]


def run_blocks(rx, samples: np.ndarray, block: int = 160) -> None:
    """Feed a whole signal in media-tick blocks."""
    x = np.ascontiguousarray(samples, dtype=np.int16)
    for i in range(0, x.size, block):
        rx.process(x[i:i + block])
