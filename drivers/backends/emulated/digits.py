"""The exchange's DTMF receiver: which key, if any, each 20 ms frame carries.

This is the network's receiver, not trunkline's detector: it only needs to read the
well-formed digits a dialer sends (Q.23 frequencies, 40 ms or longer), the way an
exchange's register does. It works on whole (lines x 160) blocks: one matrix product
against the eight Q.23 frequencies per tick.
"""

from __future__ import annotations

import numpy as np

from trunkline.drivers.dsp.tones import DTMF_HIGH, DTMF_KEYS, DTMF_LOW, RATE
from trunkline.drivers.model import FRAME_SAMPLES

_FREQS = np.array(DTMF_LOW + DTMF_HIGH)
_t = np.arange(FRAME_SAMPLES) / RATE
_window = np.hanning(FRAME_SAMPLES)
# Complex exponentials at the eight frequencies, windowed: (160 x 8).
_BASIS = (_window[:, None] * np.exp(-2j * np.pi * _t[:, None] * _FREQS[None, :]))
_KEYS = np.array([list(row) for row in DTMF_KEYS])

#: Each tone must carry this share of the frame's energy (twist and noise allowance).
MIN_SHARE = 0.15
#: Quietest tone accepted, as mean power of the frame (about -40 dBm0).
MIN_POWER = 1.0e3


def frame_keys(frames: np.ndarray) -> np.ndarray:
    """The DTMF key in each row of ``frames`` (lines x 160), or '' where none."""
    x = np.asarray(frames, dtype=np.float64)
    power = np.mean(x * x, axis=1)
    spectrum = np.abs(x @ _BASIS) ** 2 / (np.sum(_window**2) * FRAME_SAMPLES / 2)
    low = spectrum[:, :4]
    high = spectrum[:, 4:]
    li, hi = np.argmax(low, axis=1), np.argmax(high, axis=1)
    rows = np.arange(len(x))
    lo_p, hi_p = low[rows, li], high[rows, hi]
    # Each winning bin must dominate its group, and together they must hold the energy.
    ok = (
        (power > MIN_POWER)
        & (lo_p > MIN_SHARE * power)
        & (hi_p > MIN_SHARE * power)
        & (lo_p > 6 * np.sort(low, axis=1)[:, -2])
        & (hi_p > 6 * np.sort(high, axis=1)[:, -2])
    )
    return np.where(ok, _KEYS[li, hi], "")
