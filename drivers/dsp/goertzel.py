"""DFT banks at chosen frequencies, applied to (channels x samples) blocks with one matmul.

A Goertzel filter computes one DFT bin of one block. Across hundreds of channels it is
faster to build, once, a real matrix whose columns are ``window * cos`` and
``window * -sin`` at each wanted frequency and frame offset, and to apply it to the
whole (channels x samples) block as a single float32 matrix product (BLAS does the
work; see detection-anchors.md section 5 for measured numbers). The columns are
interleaved ``re, im`` so the product can be viewed as complex64 without a copy.

Scaling is chosen so ``|X|**2`` is the power of a sine at that frequency relative to
0 dBm0 (1.0 means 0 dBm0), whatever the window: levels in the detector compare
directly against dBm0 thresholds taken from the standards.

Frequency estimation uses the phase advance between two frames ``hop`` samples apart
(a phase-vocoder estimate): for a sine at ``f = f_k + delta`` the bin's phase advances
by ``2*pi*f*hop/rate``, so ``delta`` is measured to a fraction of a hertz, far finer
than the bin width, and unambiguously within ``+-rate/(2*hop)``. This is what lets the
DTMF receiver meet Q.24's accept +-1.5 % / reject +-3.5 % windows and the fax detector
meet spandsp's +-23 / +-80 Hz windows exactly, rather than through the bin shape.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np

from trunkline.drivers.dsp.levels import DBM0_RMS

RATE = 8000
_F32_1 = np.float32(1.0)
_F32_1_9 = np.float32(1.9)
_F32_0_95 = np.float32(0.95)
_F32_1E_3 = np.float32(1e-3)
_F32_1E_6 = np.float32(1e-6)
_F32_PI = np.float32(np.pi)
_F32_EPS = np.finfo(np.float32).eps


def _sinc32(v: np.ndarray) -> np.ndarray:
    """``np.sinc`` of a float32 array, the same operations without its Python wrapper
    (the detector calls it a few times every tick, where the wrapper cost more)."""
    x = v * _F32_PI
    y = np.where(x, x, _F32_EPS)
    out = np.sin(y)
    out /= y
    return out


def hann(length: int) -> np.ndarray:
    """Periodic Hann window (its squares overlap-add to a near constant at hop L/2.4)."""
    if length < 2:
        raise ValueError(f"window {length=} must be >= 2")
    n = np.arange(length)
    return 0.5 - 0.5 * np.cos(2 * np.pi * n / length)


@dataclass(frozen=True)
class FrameLayout:
    """Where analysis frames sit inside an input span (the last frame ends at the span end).

    ``span`` samples are analysed per call: ``history = span - block`` samples of the
    previous call followed by the ``block`` new ones. Frame ``j`` covers
    ``[offsets[j], offsets[j] + length)``.
    """

    length: int
    hop: int
    frames: int
    span: int

    def __post_init__(self) -> None:
        if self.hop < 1 or self.length < 2 or self.frames < 1:
            raise ValueError(f"bad frame layout {self}")
        if self.offsets[0] < 0:
            raise ValueError(f"frame layout {self} needs a longer span")

    @property
    def offsets(self) -> np.ndarray:
        last = self.span - self.length
        return last - self.hop * np.arange(self.frames - 1, -1, -1)


class DftBank:
    """Complex DFT bins at ``freqs`` for every frame of a :class:`FrameLayout`.

    Precompute, then apply: ``bank(x)`` with ``x`` float32 of shape (channels, span)
    returns complex64 (channels, frames, bins). ``bank.columns`` is the real matrix, so
    several banks can be concatenated into one product (see :class:`MultiBank`).
    """

    def __init__(self, freqs: tuple[float, ...] | list[float], layout: FrameLayout, *,
                 window: str = "hann", rate: int = RATE) -> None:
        self.freqs = np.asarray(freqs, dtype=np.float64)
        if self.freqs.ndim != 1 or self.freqs.size == 0:
            raise ValueError(f"{freqs=} must be a non-empty list of frequencies")
        if np.any(self.freqs <= 0) or np.any(self.freqs >= rate / 2):
            raise ValueError(f"{freqs=} must lie strictly between 0 and {rate / 2} Hz")
        self.layout = layout
        self.rate = rate
        if window == "hann":
            w = hann(layout.length)
        elif window == "rect":
            w = np.ones(layout.length)
        else:
            raise ValueError(f"{window=} is not 'hann' or 'rect'")
        self.window = w
        self._is_hann = window == "hann"
        self._bin_inv = layout.length / rate
        self._bin_inv32 = np.float32(self._bin_inv)
        self._hz_per_rad = rate / (2 * np.pi * layout.hop)
        n = np.arange(layout.length)
        gain = np.sqrt(2.0) / (w.sum() * DBM0_RMS)
        kernel = w[:, None] * np.exp(-2j * np.pi * np.outer(n, self.freqs) / rate) * gain
        cols = np.zeros((layout.span, layout.frames, self.freqs.size, 2))
        for j, off in enumerate(layout.offsets):
            cols[off:off + layout.length, j, :, 0] = kernel.real
            cols[off:off + layout.length, j, :, 1] = kernel.imag
        self.columns = cols.reshape(layout.span, -1).astype(np.float32)
        # Energy of each frame through the squared window, in the same units as |X|^2.
        ecols = np.zeros((layout.span, layout.frames))
        for j, off in enumerate(layout.offsets):
            ecols[off:off + layout.length, j] = w**2 / ((w**2).sum() * DBM0_RMS**2)
        self.energy_columns = ecols.astype(np.float32)
        # Phase rotation that removes each bin's own advance over one hop.
        self.rotation = np.exp(-2j * np.pi * self.freqs * layout.hop / rate).astype(np.complex64)
        # |W(delta)|^2 / |W(0)|^2, to correct a bin's power for a measured offset.
        self._delta_grid = np.linspace(-rate / (2 * layout.hop), rate / (2 * layout.hop), 801)
        resp = np.abs(np.exp(-2j * np.pi * np.outer(self._delta_grid, n) / rate) @ w) / w.sum()
        self._response = np.maximum(resp**2, 1e-6)

    @property
    def width(self) -> int:
        return self.columns.shape[1]

    def __call__(self, x: np.ndarray) -> np.ndarray:
        x = np.asarray(x, dtype=np.float32)
        if x.ndim != 2 or x.shape[1] != self.layout.span:
            raise ValueError(f"input shape {x.shape} must be (channels, {self.layout.span})")
        return self.unpack(x @ self.columns)

    def unpack(self, product: np.ndarray) -> np.ndarray:
        """View this bank's slice of a real matmul product as complex (ch, frames, bins)."""
        return product.view(np.complex64).reshape(product.shape[0], self.layout.frames, -1)

    def offset_hz(self, z: np.ndarray) -> np.ndarray:
        """Frequency offsets (Hz) from the rotated phase-advance products ``z``."""
        # np.angle's own arithmetic, without its Python wrapper (a tick calls it often).
        a = np.arctan2(z.imag, z.real)
        a *= self._hz_per_rad
        return a

    def response(self, delta_hz: np.ndarray) -> np.ndarray:
        """Power response of a bin to a sine ``delta_hz`` away (1.0 at 0 Hz).

        Closed forms of the window's transform (a sinc; for Hann ``sinc(v)/(1-v^2)``,
        v in bins), cheaper per element than a table lookup; tested against the exact
        transform (:meth:`response_exact`).
        """
        v = np.abs(np.asarray(delta_hz, dtype=np.float32))
        v *= self._bin_inv32
        if self._is_hann:
            np.minimum(v, _F32_1_9, out=v)
            den = v * v
            np.subtract(_F32_1, den, out=den)
            den = np.where(np.abs(den) < 1e-3, _F32_1E_3, den)
            r = _sinc32(v)
            r /= den
        else:
            r = _sinc32(np.minimum(v, _F32_0_95))
        r *= r
        return np.maximum(r, _F32_1E_6, out=r)

    def response_exact(self, delta_hz: np.ndarray) -> np.ndarray:
        """The same from a fine table of the exact (finite-length) transform."""
        return np.interp(delta_hz, self._delta_grid, self._response)


class MultiBank:
    """Several banks over the same span, applied with one matrix product per block."""

    def __init__(self, banks: list[DftBank]) -> None:
        spans = {b.layout.span for b in banks}
        if len(spans) != 1:
            raise ValueError(f"banks must share one span, got {sorted(spans)}")
        self.banks = banks
        self.span = spans.pop()
        self.matrix = np.ascontiguousarray(np.concatenate([b.columns for b in banks], axis=1))
        self.energy_matrix = np.ascontiguousarray(
            np.concatenate([b.energy_columns for b in banks], axis=1))
        edges = np.cumsum([0] + [b.width for b in banks])
        self._slices = [slice(int(a), int(b)) for a, b in itertools.pairwise(edges)]
        eedges = np.cumsum([0] + [b.layout.frames for b in banks])
        self._eslices = [slice(int(a), int(b))
                         for a, b in itertools.pairwise(eedges)]
        # Each bank's columns in the product seen as complex (re, im pairs), with its
        # frame count: one complex view of the whole product a call, then a slice and a
        # reshape per bank (what unpack does per bank, in fewer calls on a small tick).
        self._complex = [(slice(s.start // 2, s.stop // 2), b.layout.frames)
                         for b, s in zip(banks, self._slices, strict=True)]

    def __call__(self, x: np.ndarray) -> tuple[list[np.ndarray], list[np.ndarray]]:
        """Return each bank's complex bins and each bank's frame energies."""
        product = x @ self.matrix
        energy = (x * x) @ self.energy_matrix
        as_complex = product.view(np.complex64)
        k = product.shape[0]
        bins = [as_complex[:, s].reshape(k, frames, -1) for s, frames in self._complex]
        energies = [energy[:, s] for s in self._eslices]
        return bins, energies
