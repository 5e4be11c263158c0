"""DTMF (Q.23/Q.24) and MF (Bell MF, MFC/R2) frame classification, vectorised.

Each 20 ms block is analysed as four 12 ms Hann frames, 5 ms apart (see
:mod:`trunkline.drivers.dsp.detector`). Per frame and channel the classifier decides
"digit d" or "nothing"; :class:`~trunkline.drivers.dsp.runs.RunTracker` then turns the
frame labels into digits with durations. The frame tests, each against ITU-T Q.24
(AT&T column, detection-anchors.md section 1):

* **frequency**: the strongest row and column bins' frequencies, measured from the
  phase advance between frames, must be within 2.5 % of nominal -- midway between
  Q.24's "accept within +-1.5 %" and "reject beyond +-3.5 %";
* **level**: each tone >= -42 dBm0 (spandsp's gate; Q.24 accepts 0 to -25 dBm0 per
  tone; we keep detecting to about -40 dBm0 for a >= 35 dB dynamic range, and stay
  well above the -55 dBm0 "must reject" level);
* **twist**: high-group minus low-group level within -9 .. +5 dB (Q.24 accepts
  -8 .. +4 dB; one dB of margin for the measurement in noise);
* **purity**: the two tones hold >= 80 % of the frame's energy, once the zone's dial
  tone frequencies (below 660 Hz) are discounted, so digits are found with dial tone
  12 dB above them (spandsp and the MT8870 spec test this) while speech, whose energy
  spreads over many harmonics, fails -- this is the main talk-off defence.
"""

from __future__ import annotations

import functools

import numpy as np

from trunkline.drivers.dsp.tones import DTMF_HIGH, DTMF_KEYS, DTMF_LOW

#: Bins of the DTMF bank, rows then columns.
DTMF_BINS: tuple[float, ...] = DTMF_LOW + DTMF_HIGH
#: Digit of label ``row * 4 + col``.
DTMF_DIGIT_OF_LABEL = "".join(DTMF_KEYS)

DTMF_MIN_LEVEL = 10 ** (-42 / 10)       # -42 dBm0 per tone, spandsp's gate
DTMF_FREQ_TOL = 0.025                   # Q.24: accept +-1.5 %, reject +-3.5 %
DTMF_TWIST_HIGH = 10 ** (5 / 10)        # Q.24: high group may be 4 dB above low
DTMF_TWIST_LOW = 10 ** (-9 / 10)        # Q.24: ... or 8 dB below
_DTMF_LOW32 = np.asarray(DTMF_LOW, np.float32)
_DTMF_HIGH32 = np.asarray(DTMF_HIGH, np.float32)
DTMF_PURITY = 0.80                      # share of frame energy in the two tones
#: Q.24: accept >= 40 ms, reject <= 23 ms; decided on the on-time measured in the
#: digit's own bins (runs.py), which 10 dB of noise and G.711 leave within +-3 ms.
DTMF_MIN_DURATION_MS = 31.0
#: ...and on at least 3 frames that are the digit (12 ms frames 5 ms apart: a 31 ms tone
#: holds 4 whole), as spandsp needs two 12.75 ms blocks that agree (dtmf.c).
DTMF_MIN_FRAMES = 3
#: Q.24 bridges interruptions of <= 10 ms; a 40 ms pause separates digits.
DTMF_BRIDGE_FRAMES = 3

#: Bell MF (ITU-T Q.320/Q.322 R1) and MFC/R2 (ITU-T Q.441) frequencies.
BELL_MF_FREQS = (700.0, 900.0, 1100.0, 1300.0, 1500.0, 1700.0)
R2_FORWARD_FREQS = (1380.0, 1500.0, 1620.0, 1740.0, 1860.0, 1980.0)
R2_BACKWARD_FREQS = (1140.0, 1020.0, 900.0, 780.0, 660.0, 540.0)
#: Signal number of each frequency pair (i < j), as in Q.441 Table 5 / R1: 1 = f0+f1, ...
_PAIR_ORDER = [(0, 1), (0, 2), (1, 2), (0, 3), (1, 3), (2, 3), (0, 4), (1, 4), (2, 4), (3, 4),
               (0, 5), (1, 5), (2, 5), (3, 5), (4, 5)]
#: Characters for signals 1..15 (spandsp's conventions: Bell KP '*', ST '#', ST' 'A',
#: ST'' 'B', ST''' 'C'; R2 10 as '0' and 11..15 as 'B'..'F').
MF_CHARS = {"bell": "1234567890CA*B#", "r2_forward": "1234567890BCDEF",
            "r2_backward": "1234567890BCDEF"}
MF_FREQS = {"bell": BELL_MF_FREQS, "r2_forward": R2_FORWARD_FREQS,
            "r2_backward": R2_BACKWARD_FREQS}
#: Levels and twist: spandsp bell_r2_mf.c gates Bell at -30.5 dBm0 with 6 dB twist and
#: R2 at -36.5 dBm0 with 7 dB (detection-anchors.md section 2); Q.441 allows +-10 Hz.
MF_MIN_LEVEL = {"bell": 10 ** (-32 / 10), "r2_forward": 10 ** (-38 / 10),
                "r2_backward": 10 ** (-38 / 10)}
MF_TWIST = {"bell": 10 ** (6 / 10), "r2_forward": 10 ** (7 / 10),
            "r2_backward": 10 ** (7 / 10)}
MF_FREQ_TOL_HZ = {"bell": lambda f: 0.015 * f + 5.0, "r2_forward": lambda f: 20.0,
                  "r2_backward": lambda f: 20.0}
MF_MIN_DURATION_MS = 30.0


def _gather(a: np.ndarray, idx: np.ndarray) -> np.ndarray:
    """``a[..., idx]`` element-wise: the same as ``take_along_axis`` without its index
    grids, whose construction cost more than the gather at a few channels a tick."""
    m = a.shape[-1]
    # A slice of the last axis is not contiguous: gather from a compact copy of it.
    flat = (a if a.flags.c_contiguous else np.ascontiguousarray(a)).reshape(-1)
    return flat[_gather_base(idx.shape, m) + idx]


@functools.lru_cache(maxsize=64)
def _gather_base(shape: tuple[int, ...], m: int) -> np.ndarray:
    """Flat offsets of each row of ``m``: the same few shapes come back every tick."""
    base = np.arange(0, int(np.prod(shape)) * m, m).reshape(shape)
    base.flags.writeable = False
    return base


def classify_dtmf_gathered(pr: np.ndarray, pc: np.ndarray, dr: np.ndarray, dc: np.ndarray,
                           r: np.ndarray, c: np.ndarray, energy: np.ndarray,
                           interference: np.ndarray | float) -> np.ndarray:
    """:func:`classify_dtmf` from its strongest row and column already picked: powers
    corrected for their offsets (``pr``, ``pc``), offsets in Hz (``dr``, ``dc``) and
    bin numbers (``r``, ``c``). The detector gathers them for DTMF and its single tones
    in one pass."""
    fr = _DTMF_LOW32[r]
    fc = _DTMF_HIGH32[c]
    ok = (pr >= DTMF_MIN_LEVEL) & (pc >= DTMF_MIN_LEVEL)
    ok &= (pc <= pr * DTMF_TWIST_HIGH) & (pc >= pr * DTMF_TWIST_LOW)
    ok &= (np.abs(dr) <= DTMF_FREQ_TOL * fr) & (np.abs(dc) <= DTMF_FREQ_TOL * fc)
    ok &= (pr + pc) >= DTMF_PURITY * np.maximum(energy - interference, 1e-12)
    return np.where(ok, r * 4 + c, -1).astype(np.int16)


def classify_dtmf(power: np.ndarray, z: np.ndarray, energy: np.ndarray,
                  interference: np.ndarray, offset_hz, response) -> np.ndarray:
    """Per-frame DTMF labels (0..15, or -1) from the DTMF bins of a bank.

    ``power`` is |X|^2 (k, frames, 8), ``z`` the rotated phase-advance products of the
    same bins, ``energy`` the frame energies (k, frames) and ``interference`` the power
    at the zone's dial-tone frequencies, discounted from the energy.
    """
    low = power[..., :4]
    high = power[..., 4:]
    r = np.argmax(low, axis=-1)
    c = np.argmax(high, axis=-1)
    pr = _gather(low, r)
    pc = _gather(high, c)
    dr = offset_hz(_gather(z[..., :4], r))
    dc = offset_hz(_gather(z[..., 4:], c))
    return classify_dtmf_gathered(pr / response(dr), pc / response(dc), dr, dc, r, c,
                                  energy, interference)


def classify_mf(system: str, power: np.ndarray, z: np.ndarray, energy: np.ndarray,
                offset_hz, response) -> np.ndarray:
    """Per-frame MF signal numbers minus one (0..14, or -1) for a 6-bin MF bank."""
    order = np.argsort(power, axis=-1)
    a = order[..., -1]
    b = order[..., -2]
    pa = _gather(power, a)
    pb = _gather(power, b)
    da = offset_hz(_gather(z, a))
    db = offset_hz(_gather(z, b))
    freqs = np.asarray(MF_FREQS[system], np.float32)
    tol = MF_FREQ_TOL_HZ[system]
    pa = pa / response(da)
    pb = pb / response(db)
    ok = (pa >= MF_MIN_LEVEL[system]) & (pb >= MF_MIN_LEVEL[system])
    ok &= pa <= pb * MF_TWIST[system]
    ok &= (np.abs(da) <= tol(freqs[a])) & (np.abs(db) <= tol(freqs[b]))
    ok &= (pa + pb) >= DTMF_PURITY * energy
    lo = np.minimum(a, b)
    hi = np.maximum(a, b)
    table = np.full((6, 6), -1, np.int16)
    for n, (i, j) in enumerate(_PAIR_ORDER):
        table[i, j] = n
    return np.where(ok, table[lo, hi], -1).astype(np.int16)
