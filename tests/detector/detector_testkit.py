"""Signal generators and runners shared by the detector tests (seeded, self-contained)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from trunkline.drivers.dsp import g711
from trunkline.drivers.dsp.detector import BLOCK, Detector
from trunkline.drivers.dsp.events import DetectionEvent
from trunkline.drivers.dsp.levels import DBM0_RMS, amplitude
from trunkline.drivers.dsp.tones import DTMF_FREQS, to_int16

RATE = 8000
REAL_AUDIO = Path(__file__).resolve().parents[2] / ".." / "shared" / "testdata" / "real-audio"


def real_audio_dir() -> Path:
    if not REAL_AUDIO.is_dir():
        pytest.skip(f"real audio not found at {REAL_AUDIO}")
    return REAL_AUDIO


def sil(ms: float) -> np.ndarray:
    return np.zeros(int(RATE * ms / 1000))


def tone(freqs, ms: float, dbm0: float = -15.0, *, phase: float = 0.0, am: float = 0.0,
         am_hz: float = 15.0, reversal_ms: float | None = None) -> np.ndarray:
    """Float samples of one or more sines, each at ``dbm0``."""
    n = int(RATE * ms / 1000)
    t = np.arange(n) / RATE
    out = np.zeros(n)
    for f in np.atleast_1d(freqs):
        ph = phase + (np.pi * np.floor(t * 1000 / reversal_ms) if reversal_ms else 0.0)
        out += amplitude(dbm0) * np.sin(2 * np.pi * f * t + ph)
    if am:
        out *= 1 + am * np.sin(2 * np.pi * am_hz * t)
    return out


def digit(d: str, ms: float, low: float = -10.0, high: float = -10.0, *, dlow: float = 0.0,
          dhigh: float = 0.0, rng: np.random.Generator | None = None) -> np.ndarray:
    """A DTMF digit with per-tone levels and relative frequency offsets."""
    f1, f2 = DTMF_FREQS[d]
    ph = rng.uniform(0, 2 * np.pi, 2) if rng is not None else (0.0, 0.0)
    return (tone(f1 * (1 + dlow), ms, low, phase=ph[0])
            + tone(f2 * (1 + dhigh), ms, high, phase=ph[1]))


def noise_at(signal_power: float, snr_db: float, n: int, rng: np.random.Generator) -> np.ndarray:
    return rng.normal(0, np.sqrt(signal_power / 10 ** (snr_db / 10)), n)


def dbm0_power(dbm0: float) -> float:
    return (DBM0_RMS ** 2) * 10 ** (dbm0 / 10)


def companded(x: np.ndarray, law: str = "alaw") -> np.ndarray:
    """Through G.711 and back, as every sample crossing a real E1/T1 line is."""
    return g711.decode(g711.encode(to_int16(x), law), law)


def run(signals: list[np.ndarray], zone: str = "cn", *, answered_at: int | None = None,
        templates=None, **flags) -> list[list[DetectionEvent]]:
    """Run several signals as channels of one Detector; events per channel, by onset.

    One second of silence is appended to flush what is still going on at the end.
    ``templates`` is the announcement library (none by default); ``flags`` go to
    :meth:`Detector.enable`.
    """
    n = max(len(s) for s in signals) + RATE
    n += (-n) % BLOCK
    audio = np.zeros((len(signals), n), np.int16)
    for i, s in enumerate(signals):
        audio[i, : len(s)] = to_int16(np.asarray(s, dtype=np.float64))
    det = Detector(zone, len(signals), announcements=templates if templates is not None else [])
    for ch in range(len(signals)):
        det.enable(ch, answered_at=answered_at, **flags)
    ids = np.arange(len(signals))
    out: list[list[DetectionEvent]] = [[] for _ in signals]
    for b in range(n // BLOCK):
        for e in det.process(audio[:, b * BLOCK:(b + 1) * BLOCK], ids):
            out[e.channel].append(e)
    for evs in out:
        evs.sort(key=lambda e: e.sample)
    return out


def digits_of(events: list[DetectionEvent]) -> str:
    return "".join(e.digit for e in events if e.kind == "dtmf")


def kinds(events: list[DetectionEvent], kind: str) -> list[DetectionEvent]:
    return [e for e in events if e.kind == kind]


def tones_of(events: list[DetectionEvent]) -> list[str]:
    return [e.tone for e in events if e.kind == "tone"]


def espeak(text: str, voice: str, path: Path, speed: int = 160, pitch: int = 50) -> np.ndarray:
    """Speech from espeak-ng, telephone-band filtered to 8 kHz (skip if unavailable)."""
    if shutil.which("espeak-ng") is None or shutil.which("sox") is None:
        pytest.skip("espeak-ng and sox are needed to synthesize speech")
    from trunkline.drivers.dsp.wavfile import read_audio

    raw = path.with_suffix(".raw.wav")
    subprocess.run(["espeak-ng", "-v", voice, "-s", str(speed), "-p", str(pitch), "-w",
                    str(raw), text], check=True, capture_output=True)
    subprocess.run(["sox", str(raw), "-r", "8000", "-c", "1", "-b", "16", str(path),
                    "sinc", "300-3400"], check=True, capture_output=True)
    return read_audio(path).astype(np.float64)


def music(seconds: float, rng: np.random.Generator, dbm0: float = -16.0) -> np.ndarray:
    """A synthesized tune: harmonic notes of a pentatonic melody over slow chords."""
    n = int(seconds * RATE)
    out = np.zeros(n)
    scale = [0, 2, 4, 7, 9, 12]
    note_n = int(0.3 * RATE)
    t = np.arange(note_n) / RATE
    env = np.minimum(1.0, t / 0.015) * np.exp(-2.5 * t)
    for pos in range(0, n, note_n):
        f = 293.66 * 2 ** (scale[rng.integers(len(scale))] / 12)
        note = sum(np.sin(2 * np.pi * f * h * t) / h for h in (1, 2, 3))
        seg = (note * env)[: n - pos]
        out[pos:pos + seg.size] += seg
    tt = np.arange(n) / RATE
    out += 0.3 * sum(np.sin(2 * np.pi * f * tt) for f in (146.8, 185.0, 220.0))
    return out * amplitude(dbm0) / (np.sqrt(2 * np.mean(out ** 2)))
