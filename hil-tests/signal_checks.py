"""Independent measurements of received audio: frequencies and on/off cadences.

These use plain FFTs per 20 ms frame, not trunkline's detectors, so the suite checks
what actually arrived on the line rather than what our classifier thinks of it.
"""

from __future__ import annotations

import numpy as np
import pytest

from trunkline.drivers.model import SpanKind

RATE = 8000
FRAME = 160


def frames_of(audio: np.ndarray) -> np.ndarray:
    n = audio.size // FRAME
    return audio[: n * FRAME].reshape(n, FRAME).astype(np.float64)


def band_share(audio: np.ndarray, freq: float, width: float = 100.0) -> np.ndarray:
    """Per 20 ms frame, the share of the frame's energy within ``freq`` +- ``width``.

    A 20 ms Hann-windowed frame smears a pure tone over about +-100 Hz, hence the
    default width; use :func:`dominant_frequency` on longer stretches for precision.
    """
    x = frames_of(audio) * np.hanning(FRAME)
    spectrum = np.abs(np.fft.rfft(x, n=1024, axis=1)) ** 2
    freqs = np.fft.rfftfreq(1024, 1 / RATE)
    band = (freqs >= freq - width) & (freqs <= freq + width)
    total = spectrum.sum(axis=1) + 1e-9
    return spectrum[:, band].sum(axis=1) / total


def level_db(audio: np.ndarray) -> np.ndarray:
    x = frames_of(audio)
    return 10 * np.log10(np.mean(x * x, axis=1) + 1e-9)


def on_off_runs(on: np.ndarray) -> list[tuple[bool, int]]:
    """Runs of a boolean per-frame signal, as (on, milliseconds)."""
    runs: list[tuple[bool, int]] = []
    for value in on:
        if runs and runs[-1][0] == bool(value):
            runs[-1] = (runs[-1][0], runs[-1][1] + 20)
        else:
            runs.append((bool(value), 20))
    return runs


def tone_cadence(audio: np.ndarray, freq: float) -> list[tuple[bool, int]]:
    """On/off runs of a tone at ``freq`` (frames where it is loud and dominant).

    The first and last runs are cut by the window and are dropped.
    """
    on = (band_share(audio, freq) > 0.8) & (level_db(audio) > 40)
    return on_off_runs(on)[1:-1]


def dominant_frequency(audio: np.ndarray) -> float:
    x = audio.astype(np.float64) * np.hanning(audio.size)
    spectrum = np.abs(np.fft.rfft(x, n=max(8192, audio.size)))
    return float(np.argmax(spectrum) * RATE / max(8192, audio.size))


def channels_of(card, kind: SpanKind) -> list[int]:
    """The card's channels of ``kind``; skips the test when it has none."""
    chans = [c for s in card.spans if s.kind is kind for c in s.channels]
    if not chans:
        pytest.skip(f"the card has no {kind} channels")
    return chans
