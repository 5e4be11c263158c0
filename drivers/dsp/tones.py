"""Tone synthesis: zone tones, DTMF and MF digits, SIT, as int16 sample arrays.

Synthesis is done once per tone into a buffer (a once-only prefix and one cycle); the
per-tick work of playing tones on hundreds of channels is then a gather from these
buffers (see :mod:`trunkline.drivers.dsp.player`), never a per-sample loop.
"""

from __future__ import annotations

import numpy as np

from trunkline.drivers.dsp.levels import amplitude
from trunkline.drivers.dsp.zones import Tone, ToneSegment

RATE = 8000

#: DTMF frequencies (ITU-T Q.23): row (low) and column (high) groups.
DTMF_LOW = (697.0, 770.0, 852.0, 941.0)
DTMF_HIGH = (1209.0, 1336.0, 1477.0, 1633.0)
DTMF_KEYS = ("123A", "456B", "789C", "*0#D")
DTMF_FREQS: dict[str, tuple[float, float]] = {
    key: (DTMF_LOW[r], DTMF_HIGH[c])
    for r, row in enumerate(DTMF_KEYS)
    for c, key in enumerate(row)
}

#: Levels DAHDI and ITU-T E.180 use for call-progress tones when a zone gives none.
DEFAULT_TONE_DBM0 = -13.0

#: Modulation depth of 'f1*f2' tones (DAHDI's zonedata convention).
AM_DEPTH = 0.9


def sine(freqs: tuple[float, ...] | list[float], n: int, dbm0: float = DEFAULT_TONE_DBM0,
         *, start: int = 0, modulated: bool = False) -> np.ndarray:
    """``n`` samples of the given frequencies, each at ``dbm0``, as float64.

    ``start`` is the sample index of the first sample, so consecutive calls join without
    a phase jump.
    """
    t = (np.arange(n) + start) / RATE
    if not freqs:
        return np.zeros(n)
    if modulated and len(freqs) == 2:
        carrier, mod = freqs
        env = 1.0 + AM_DEPTH * np.sin(2 * np.pi * mod * t)
        return amplitude(dbm0) * env * np.sin(2 * np.pi * carrier * t) / (1 + AM_DEPTH)
    out = np.zeros(n)
    for f in freqs:
        out += amplitude(dbm0) * np.sin(2 * np.pi * f * t)
    return out


def _render_segments(segments: tuple[ToneSegment, ...], dbm0: float, start: int,
                     forever_ms: int) -> np.ndarray:
    parts = []
    pos = start
    for seg in segments:
        n = RATE * (seg.duration_ms if seg.duration_ms is not None else forever_ms) // 1000
        parts.append(sine(seg.freqs, n, dbm0, start=pos, modulated=seg.modulated))
        pos += n
    return np.concatenate(parts) if parts else np.zeros(0)


def render_tone(tone: Tone, dbm0: float = DEFAULT_TONE_DBM0) -> tuple[np.ndarray, np.ndarray]:
    """Synthesize ``tone`` as (prefix, cycle) int16 arrays.

    Play the prefix once, then the cycle for ever. A steady tone gets a one-second cycle
    whose length is a whole number of periods of each frequency where possible, so the
    loop joins without a click.
    """
    prefix = _render_segments(tone.prefix, dbm0, 0, 1000)
    cycle = _render_segments(tone.cycle, dbm0, len(prefix), 1000)
    return _to_int16(prefix), _to_int16(cycle)


def dtmf(digit: str, duration_ms: int = 100, *, low_dbm0: float = -7.0,
         high_dbm0: float = -5.0) -> np.ndarray:
    """One DTMF digit as int16 samples (levels per tone; Q.23 allows a few dB of twist)."""
    try:
        low, high = DTMF_FREQS[digit.upper()]
    except KeyError:
        raise ValueError(f"not a DTMF digit: {digit!r} (expected 0-9, *, #, A-D)") from None
    n = RATE * duration_ms // 1000
    return _to_int16(sine([low], n, low_dbm0) + sine([high], n, high_dbm0))


def dtmf_string(digits: str, on_ms: int = 100, off_ms: int = 100, **levels: float) -> np.ndarray:
    """A digit string with ``off_ms`` of silence after each digit."""
    gap = np.zeros(RATE * off_ms // 1000, dtype=np.int16)
    parts = []
    for d in digits:
        parts += [dtmf(d, on_ms, **levels), gap]
    return np.concatenate(parts) if parts else np.zeros(0, dtype=np.int16)


def silence(ms: float) -> np.ndarray:
    return np.zeros(int(RATE * ms / 1000), dtype=np.int16)


def _to_int16(x: np.ndarray) -> np.ndarray:
    return np.clip(np.rint(x), -32768, 32767).astype(np.int16)


def to_int16(x: np.ndarray) -> np.ndarray:
    """Round and clip float samples to int16."""
    return _to_int16(np.asarray(x, dtype=np.float64))
