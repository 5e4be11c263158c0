"""Real WAV files for tests that need a prompt or a message on disk.

One writer for the abandon messages, hold prompts and ring-back clips the tests give the
gateway and the dialer (8 kHz 16-bit mono, as the prompts folder takes them): a tone is
enough to be heard by the far end and checked by ``prompts.check``.
"""

from __future__ import annotations

import wave
from pathlib import Path

import numpy as np


def tone_wav(path: Path, seconds: float = 1.0, hz: float = 440.0) -> Path:
    """A tone at ``hz`` (silence with ``hz`` = 0), 8 kHz 16-bit mono, at ``path``."""
    t = np.arange(int(8000 * seconds)) / 8000
    samples = (8000 * np.sin(2 * np.pi * hz * t)).astype("<i2")
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(8000)
        out.writeframes(samples.tobytes())
    return path
