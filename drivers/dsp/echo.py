"""A software line echo canceller: an adaptive FIR (normalised LMS) that models the echo
path from what we send to what comes back, and subtracts its estimate.

The card model has no echo canceller of its own: DAHDI boards use the kernel's
(``echocancel``, DAHDI_ECHOCANCEL_PARAMS), the emulated card has none. This one is for a
channel whose backend has nothing in the path, first the mobile card's modules (an
option per module, off by default: docs/mobile.md says when it helps). It is sans-IO:
frames in, frames out, no clock.

How it works (the textbook NLMS canceller of G.168-style line echo cancellers, without
G.168's non-linear processor or comfort noise):

* ``taps`` samples of what we sent (the tail: 8 per ms at 8 kHz, up to 128 ms) are the
  filter's input; its output is the echo estimate, subtracted from what we received;
* the taps adapt by NLMS, ``w += mu * e * x / (|x|^2 + delta)``, in sub-blocks of 20
  samples (8 updates a 20 ms frame, vectorised with numpy);
* a Geigel double-talk detector freezes the adaptation while the far end talks (a
  received sample above half the largest sent sample of the tail: ITU-T G.168's
  classic 6 dB rule), and for a hangover after, so speech from the far end is not
  learnt as echo.

:func:`erle_db` measures what it takes away: echo return loss enhancement, the power of
the echo before the canceller over the power left after it.
"""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

__all__ = ["EchoCanceller", "erle_db"]

#: Samples per adaptation step (8 steps a 160-sample frame).
SUB_BLOCK = 20
#: Sub-blocks adaptation stays frozen after double talk was last seen (60 ms).
HANGOVER = 24
#: Tails an installer may choose, in ms (a line echo's dispersion plus its bulk delay).
MIN_TAIL_MS, MAX_TAIL_MS = 8, 128


class EchoCanceller:
    """One channel's canceller (see the module docstring). :meth:`process` takes the
    frame received and the frame we sent at the same tick, in that order (what we send
    now can only come back later)."""

    def __init__(self, tail_ms: int = 64, *, mu: float = 0.4, rate: int = 8000) -> None:
        if not MIN_TAIL_MS <= tail_ms <= MAX_TAIL_MS:
            raise ValueError(f"an echo canceller's tail is {MIN_TAIL_MS}..{MAX_TAIL_MS} "
                             f"ms, not {tail_ms}")
        self.taps = tail_ms * rate // 1000
        self.mu = mu
        self.damping = 0.5
        self.weights = np.zeros(self.taps)
        # What we sent, newest last: the tail before the current frame.
        self._sent = np.zeros(self.taps - 1)
        self._pending = np.zeros(0)
        self._hold = 0
        #: Sub-blocks in which double talk froze the adaptation (for status and tests).
        self.double_talk = 0
        self._delta = float(self.taps) * 64.0  # regularisation: |x|^2 of near silence

    def process(self, received: np.ndarray, sent_before: np.ndarray | None = None
                ) -> np.ndarray:
        """``received`` (int16) with the echo estimate taken away. ``sent_before`` is the
        frame we sent on the previous tick: it joins the reference before this frame is
        processed (None: we sent nothing, silence)."""
        n = len(received)
        sent = np.zeros(n) if sent_before is None else np.asarray(sent_before, np.float64)
        if len(sent) != n:
            raise ValueError(f"sent and received frames differ: {len(sent)} vs {n}")
        history = np.concatenate([self._sent, sent])
        self._sent = history[-(self.taps - 1):]
        # Row i holds the taps samples ending at the i-th new sample, newest first.
        windows = sliding_window_view(history, self.taps)[:, ::-1]
        d = np.asarray(received, dtype=np.float64)
        out = np.empty(n)
        for start in range(0, n, SUB_BLOCK):
            rows = windows[start:start + SUB_BLOCK]
            target = d[start:start + SUB_BLOCK]
            error = target - rows @ self.weights
            out[start:start + SUB_BLOCK] = error
            peak_sent = float(np.max(np.abs(rows[-1]))) if rows.size else 0.0
            if float(np.max(np.abs(target))) > 0.5 * peak_sent:
                self._hold = HANGOVER  # Geigel: the far end is talking (or no reference)
            if self._hold > 0:
                self._hold -= 1
                self.double_talk += 1
                continue
            energy = np.einsum("ij,ij->i", rows, rows) + self._delta
            direction = rows.T @ (error / energy)  # the sub-block's NLMS updates, summed
            # Summing the updates of correlated rows (a tone, coloured speech) would
            # overshoot and diverge: step along them only as far as halves the
            # sub-block's error at best (an exact line search, damped), and never
            # further than mu.
            change = rows @ direction
            power = float(change @ change)
            if power > 0.0:
                step = min(self.mu, self.damping * float(error @ change) / power)
                if step > 0.0:
                    self.weights += step * direction
        return np.clip(np.rint(out), -32768, 32767).astype(np.int16)


def erle_db(echo: np.ndarray, residual: np.ndarray) -> float:
    """Echo return loss enhancement in dB: the power of the echo (what came back before
    the canceller) over the power of what is left after it."""
    before = float(np.mean(np.asarray(echo, np.float64) ** 2))
    after = float(np.mean(np.asarray(residual, np.float64) ** 2))
    return 10 * np.log10((before + 1e-9) / (after + 1e-9))
