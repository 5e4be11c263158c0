"""spandsp's T.30 fax terminal over audio, bound with cffi (API mode).

One :class:`FaxTerminal` is a complete G3 fax machine on 8 kHz linear audio: spandsp's
``fax_state_t`` (the V.21 control channel, the V.27ter/V.29/V.17 image modems, CED/CNG)
with its T.30 engine (negotiation, ECM, TIFF-F pages in and out). Everything is driven
by :meth:`FaxTerminal.step`: 160 samples heard in, 160 samples to send out, so the
terminal runs inside the gateway's 20 ms media tick or on the emulated network's far
side, in real or virtual time alike (spandsp counts time in samples, never reads a clock).

Why the callbacks are C, not ``extern "Python"``: T.30 reports phases (B: negotiated,
D: a page done, E: the call's completion code) from inside ``fax_rx``/``fax_tx``. A small
C handler appends each report to a ring in a struct Python owns, and Python drains it
after the step. No Python code runs inside spandsp, so a Python error can never unwind
through the library, a terminal needs no global handle table, and the tick pays one
native call per fax per frame (``tl_fax_step``: receive, then transmit).

spandsp is LGPL-2.1 (NOTICE); only its public API (``spandsp/fax.h``, ``t30_api.h``) is
used, nothing of its code is copied. The extension is built on first use
(:func:`library`), never at import; a missing header raises ``NativeBuildError`` naming
``libspandsp-dev``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from trunkline.drivers.native.build import load_extension
from trunkline.errors import TrunklineError

# The report structures, declared once for cffi and for the C source that fills them.
_SHARED_STRUCTS = """
typedef struct {
    int count;
    int kinds[64];
    int codes[64];
    long long at[64];
    long long samples;
    int finished;
    int completion;
} tl_fax_report_t;

typedef struct {
    fax_state_t *fax;
    t30_state_t *t30;
    tl_fax_report_t report;
} tl_fax_t;
"""

_CDEF = """
typedef ... fax_state_t;
typedef ... t30_state_t;

typedef struct {
    int bit_rate;
    int error_correcting_mode;
    int pages_tx;
    int pages_rx;
    int pages_in_file;
    int x_resolution;
    int y_resolution;
    int width;
    int length;
    int image_size;
    int encoding;
    int bad_rows;
    int longest_bad_row_run;
    int error_correcting_mode_retries;
    int current_status;
    ...;
} t30_stats_t;

""" + _SHARED_STRUCTS + """

tl_fax_t *tl_fax_new(int calling_party, int log_level);
void tl_fax_free(tl_fax_t *f);
int tl_fax_step(tl_fax_t *f, const int16_t *rx, int16_t *tx, int samples);

int t30_set_tx_ident(t30_state_t *s, const char *id);
const char *t30_get_rx_ident(t30_state_t *s);
int t30_set_tx_page_header_info(t30_state_t *s, const char *info);
void t30_set_rx_file(t30_state_t *s, const char *file, int stop_page);
void t30_set_tx_file(t30_state_t *s, const char *file, int start_page, int stop_page);
int t30_set_ecm_capability(t30_state_t *s, int enabled);
int t30_set_supported_modems(t30_state_t *s, int supported_modems);
int t30_set_supported_compressions(t30_state_t *s, int supported_compressions);
int t30_set_supported_resolutions(t30_state_t *s, int supported_resolutions);
int t30_set_supported_image_sizes(t30_state_t *s, int supported_image_sizes);
void t30_get_transfer_statistics(t30_state_t *s, t30_stats_t *t);
void t30_terminate(t30_state_t *s);
int t30_call_active(t30_state_t *s);
const char *t30_completion_code_to_str(int result);

#define T30_ERR_CALLDROPPED ...
#define T30_ERR_NOPOLL ...
#define T30_SUPPORT_V17 ...
#define T30_SUPPORT_T6_COMPRESSION ...
#define T30_SUPPORT_US_LEGAL_LENGTH ...
#define T30_SUPPORT_R8_RESOLUTION ...
"""

_SOURCE = r"""
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <tiffio.h>
#define SPANDSP_EXPOSE_INTERNAL_STRUCTURES 0
#include <spandsp.h>

""" + _SHARED_STRUCTS + r"""

/* kinds: 'B' negotiation (phase B), 'D' end of a page (phase D), 'E' end of call. */
static void tl_fax_note(tl_fax_report_t *r, int kind, int code)
{
    if (r->count < 64) {
        r->kinds[r->count] = kind;
        r->codes[r->count] = code;
        r->at[r->count] = r->samples;
        r->count++;
    }
}

static int tl_phase_b(t30_state_t *s, void *user_data, int result)
{
    (void) s;
    tl_fax_note((tl_fax_report_t *) user_data, 'B', result);
    return T30_ERR_OK;
}

static int tl_phase_d(t30_state_t *s, void *user_data, int result)
{
    (void) s;
    tl_fax_note((tl_fax_report_t *) user_data, 'D', result);
    return T30_ERR_OK;
}

static void tl_phase_e(t30_state_t *s, void *user_data, int completion_code)
{
    tl_fax_report_t *r = (tl_fax_report_t *) user_data;
    (void) s;
    tl_fax_note(r, 'E', completion_code);
    r->finished = 1;
    r->completion = completion_code;
}

tl_fax_t *tl_fax_new(int calling_party, int log_level)
{
    tl_fax_t *f = calloc(1, sizeof(*f));
    if (f == NULL)
        return NULL;
    f->fax = fax_init(NULL, calling_party);
    if (f->fax == NULL) {
        free(f);
        return NULL;
    }
    f->t30 = fax_get_t30_state(f->fax);
    f->report.completion = -1;
    /* Always produce a full frame (silence between signals): the line is a TDM slot. */
    fax_set_transmit_on_idle(f->fax, 1);
    span_log_set_level(fax_get_logging_state(f->fax), log_level);
    span_log_set_level(t30_get_logging_state(f->t30), log_level);
    t30_set_phase_b_handler(f->t30, tl_phase_b, &f->report);
    t30_set_phase_d_handler(f->t30, tl_phase_d, &f->report);
    t30_set_phase_e_handler(f->t30, tl_phase_e, &f->report);
    return f;
}

void tl_fax_free(tl_fax_t *f)
{
    if (f == NULL)
        return;
    fax_free(f->fax);
    free(f);
}

/* One frame: hear rx, then fill tx (zero-padded). Returns the samples spandsp made. */
int tl_fax_step(tl_fax_t *f, const int16_t *rx, int16_t *tx, int samples)
{
    int made;
    fax_rx(f->fax, (int16_t *) rx, samples);
    made = fax_tx(f->fax, tx, samples);
    if (made < samples)
        memset(tx + made, 0, (size_t) (samples - made) * sizeof(int16_t));
    f->report.samples += samples;
    return made;
}
"""

# t30.h enumerations we use (checked against the header by the tests' constant probe).
T30_SUPPORT_V27TER = 0x01
T30_SUPPORT_V29 = 0x02
T30_SUPPORT_V17 = 0x04
T30_SUPPORT_T4_1D = 0x02
T30_SUPPORT_T4_2D = 0x04
T30_SUPPORT_T6 = 0x08
T30_SUPPORT_STANDARD_RESOLUTION = 0x01
T30_SUPPORT_FINE_RESOLUTION = 0x02
T30_SUPPORT_SUPERFINE_RESOLUTION = 0x04
T30_SUPPORT_R8_RESOLUTION = 0x20000
T30_SUPPORT_215MM_WIDTH = 0x01
T30_SUPPORT_255MM_WIDTH = 0x02
T30_SUPPORT_303MM_WIDTH = 0x04
T30_SUPPORT_UNLIMITED_LENGTH = 0x10000
T30_SUPPORT_A4_LENGTH = 0x20000
T30_SUPPORT_B4_LENGTH = 0x40000
T30_SUPPORT_US_LETTER_LENGTH = 0x80000
T30_SUPPORT_US_LEGAL_LENGTH = 0x100000
T30_ERR_OK = 0

#: Image modems by the names the gateway accepts.
MODEMS = {"v27ter": T30_SUPPORT_V27TER, "v29": T30_SUPPORT_V29, "v17": T30_SUPPORT_V17}

#: T.30 completion codes (t30.h, ``T30_ERR_*``) by our short names, for results and docs.
COMPLETION_NAMES = (
    "ok", "ced_tone", "t0_expired", "t1_expired", "t3_expired", "hdlc_carrier",
    "cannot_train", "oper_int_fail", "incompatible", "rx_incapable", "tx_incapable",
    "no_res_support", "no_size_support", "unexpected", "tx_bad_dcs", "tx_bad_page",
    "tx_ecm_phd", "tx_got_dcn", "tx_invalid_response", "tx_no_dis", "tx_phase_b_dead",
    "tx_phase_d_dead", "tx_t5_expired", "rx_ecm_phd", "rx_got_dcs", "rx_invalid_command",
    "rx_no_carrier", "rx_no_eol", "rx_no_fax", "rx_t2_expired_dcn", "rx_t2_expired_d",
    "rx_t2_expired_fax", "rx_t2_expired_mps", "rx_t2_expired_rr", "rx_t2_expired",
    "rx_dcn_why", "rx_dcn_data", "rx_dcn_fax", "rx_dcn_phd", "rx_dcn_rrd", "rx_dcn_nortn",
    "file_error", "no_page", "bad_tiff", "bad_page", "bad_tag", "bad_tiff_header",
    "no_memory", "retry_dcn", "call_dropped", "no_poll", "ident_unacceptable",
    "sub_unacceptable", "sep_unacceptable", "psa_unacceptable", "sid_unacceptable",
    "pwd_unacceptable", "tsa_unacceptable", "ira_unacceptable", "cia_unacceptable",
    "isp_unacceptable", "csa_unacceptable",
)

#: Completion codes that mean "the two machines never agreed" (a retry may help).
NEGOTIATION_FAILURES = frozenset(range(1, 13)) | {14, 17, 19, 20}
#: Completion codes that mean "our document could not be read".
FILE_FAILURES = frozenset(range(41, 48))


def completion_name(code: int) -> str:
    """``0`` -> ``"ok"``; unknown codes -> ``"t30_<code>"``."""
    if 0 <= code < len(COMPLETION_NAMES):
        return COMPLETION_NAMES[code]
    return f"t30_{code}"


class FaxBindingError(TrunklineError):
    """spandsp refused to create or configure a fax terminal."""


def library() -> Any:
    """The compiled binding (built on first use; NativeBuildError names the packages)."""
    return load_extension("spandsp_fax", _CDEF, _SOURCE, libraries=("spandsp", "tiff"),
                          debian_packages=("libspandsp-dev", "libtiff-dev"))


@dataclass(frozen=True, slots=True)
class FaxReport:
    """One T.30 report: ``kind`` ``"B"`` (negotiated), ``"D"`` (page), ``"E"`` (ended)."""

    kind: str
    code: int
    sample: int


class FaxTerminal:
    """A G3 fax machine on audio (see the module docstring).

    ``calling`` is True for the side that placed the call (it waits for the called
    side's CED and DIS); the called side sends CED then DIS, as T.30 requires. Give
    ``tx_file`` (a TIFF-F file) to send, ``rx_file`` to receive into; a terminal with
    both can be polled. ``modems`` is a subset of ``{"v17", "v29", "v27ter"}``.
    """

    def __init__(self, *, calling: bool, tx_file: str | Path | None = None,
                 rx_file: str | Path | None = None, ident: str = "", header: str = "",
                 ecm: bool = True, modems: tuple[str, ...] = ("v17", "v29", "v27ter"),
                 fine: bool = True, log_level: int = 0) -> None:
        unknown = set(modems) - set(MODEMS)
        if unknown or not modems:
            raise FaxBindingError(f"fax modems {sorted(modems)!r}: expected a non-empty subset "
                                  f"of {sorted(MODEMS)}")
        if len(ident) > 20 or not ident.isascii():
            raise FaxBindingError(f"fax station id {ident!r}: at most 20 ASCII characters")
        if len(header) > 50 or not header.isascii():
            raise FaxBindingError(f"fax header line {header!r}: at most 50 ASCII characters")
        mod = library()
        self._ffi, self._lib = mod.ffi, mod.lib
        handle = self._lib.tl_fax_new(1 if calling else 0, int(log_level))
        if handle == self._ffi.NULL:
            raise FaxBindingError("spandsp could not allocate a fax terminal")
        self._handle = handle
        self._t30 = handle.t30
        self.calling = calling
        self.tx_file = str(tx_file) if tx_file else None
        self.rx_file = str(rx_file) if rx_file else None
        self._keep: list[Any] = []  # C strings spandsp keeps pointers to
        lib = self._lib
        if ident:
            lib.t30_set_tx_ident(self._t30, self._cstr(ident))
        if header:
            lib.t30_set_tx_page_header_info(self._t30, self._cstr(header))
        lib.t30_set_ecm_capability(self._t30, 1 if ecm else 0)
        mask = 0
        for name in modems:
            mask |= MODEMS[name]
        lib.t30_set_supported_modems(self._t30, mask)
        lib.t30_set_supported_compressions(
            self._t30, T30_SUPPORT_T4_1D | T30_SUPPORT_T4_2D | T30_SUPPORT_T6)
        res = T30_SUPPORT_STANDARD_RESOLUTION | T30_SUPPORT_R8_RESOLUTION
        if fine:
            res |= T30_SUPPORT_FINE_RESOLUTION | T30_SUPPORT_SUPERFINE_RESOLUTION
        lib.t30_set_supported_resolutions(self._t30, res)
        lib.t30_set_supported_image_sizes(
            self._t30, T30_SUPPORT_215MM_WIDTH | T30_SUPPORT_255MM_WIDTH
            | T30_SUPPORT_303MM_WIDTH | T30_SUPPORT_UNLIMITED_LENGTH | T30_SUPPORT_A4_LENGTH
            | T30_SUPPORT_B4_LENGTH | T30_SUPPORT_US_LETTER_LENGTH
            | T30_SUPPORT_US_LEGAL_LENGTH)
        if self.rx_file:
            lib.t30_set_rx_file(self._t30, self._cstr(self.rx_file), -1)
        if self.tx_file:
            lib.t30_set_tx_file(self._t30, self._cstr(self.tx_file), -1, -1)
        self._rx = np.zeros(160, np.int16)
        self._tx = np.zeros(160, np.int16)

    def _cstr(self, text: str) -> Any:
        buf = self._ffi.new("char[]", text.encode("ascii", "replace"))
        self._keep.append(buf)
        return buf

    # -- audio ----------------------------------------------------------------------
    def step(self, heard: np.ndarray) -> np.ndarray:
        """Hear one frame (any numeric dtype, int16 range), return the frame to send."""
        if self._handle is None:
            raise FaxBindingError("fax terminal is closed: cannot step it")
        n = heard.shape[0]
        if n != self._rx.shape[0]:
            self._rx = np.zeros(n, np.int16)
            self._tx = np.zeros(n, np.int16)
        if heard.dtype == np.int16:
            self._rx[:] = heard
        else:
            np.clip(np.rint(heard), -32768, 32767, out=self._rx, casting="unsafe")
        self._lib.tl_fax_step(self._handle, self._ffi.from_buffer("int16_t[]", self._rx),
                              self._ffi.from_buffer("int16_t[]", self._tx), n)
        return self._tx.copy()

    # -- state ----------------------------------------------------------------------
    def reports(self) -> list[FaxReport]:
        """The T.30 reports since the last call (phase B, D and E, in order)."""
        if self._handle is None:
            return []
        r = self._handle.report
        out = [FaxReport(chr(r.kinds[i]), int(r.codes[i]), int(r.at[i]))
               for i in range(r.count)]
        r.count = 0
        return out

    @property
    def finished(self) -> bool:
        """True once T.30 reached phase E (success or failure)."""
        return self._handle is not None and bool(self._handle.report.finished)

    @property
    def completion_code(self) -> int | None:
        """The phase E completion code (``T30_ERR_*``), None before phase E."""
        if self._handle is None or not self._handle.report.finished:
            return None
        return int(self._handle.report.completion)

    @property
    def far_ident(self) -> str:
        if self._handle is None:
            return ""
        ptr = self._lib.t30_get_rx_ident(self._t30)
        return "" if ptr == self._ffi.NULL else self._ffi.string(ptr).decode("ascii", "replace")

    def stats(self) -> dict[str, int]:
        """spandsp's transfer statistics: rate, ECM, pages, resolution, bad rows."""
        if self._handle is None:
            return {}
        st = self._ffi.new("t30_stats_t *")
        self._lib.t30_get_transfer_statistics(self._t30, st)
        return {"bit_rate": st.bit_rate, "ecm": st.error_correcting_mode,
                "pages_tx": st.pages_tx, "pages_rx": st.pages_rx,
                "pages_in_file": st.pages_in_file, "x_resolution": st.x_resolution,
                "y_resolution": st.y_resolution, "width": st.width, "length": st.length,
                "bad_rows": st.bad_rows, "ecm_retries": st.error_correcting_mode_retries,
                "encoding": st.encoding, "status": st.current_status}

    def terminate(self) -> None:
        """The line went away: let T.30 finish (phase E with ``call_dropped`` if mid-way)."""
        if self._handle is not None and not self.finished:
            self._lib.t30_terminate(self._t30)

    def close(self) -> None:
        """Free the native terminal (closing its TIFF files); safe to call twice."""
        if self._handle is not None:
            self.terminate()
            self._lib.tl_fax_free(self._handle)
            self._handle = None
            self._keep.clear()

    def __del__(self) -> None:  # a forgotten terminal still closes its files
        try:  # noqa: SIM105 - at interpreter exit contextlib may be gone already
            self.close()
        except Exception:
            pass
