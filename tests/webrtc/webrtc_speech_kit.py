"""Speech for the browser softphone's fake microphone, and the check that it reached the
far end: real recorded speech read in place from ``../shared/testdata/real-audio``
(SOURCES.md there gives each file's origin and licence; nothing is copied into the
project), and a correlation test that tells the agent's own words from any other sound.

Why correlation and not just energy: the trunk also carries comfort noise, concealment and
DTMF, all with energy; only the source speech itself, found again sample by sample (after
Chromium's resampling and two G.711 passes), shows that the customer hears what the agent
said. A time-reversed copy of the same speech (same spectrum and level, different words) is
the control that must not match."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import numpy as np
import pytest
import soundfile

RATE = 8000
REAL_AUDIO = Path(__file__).resolve().parents[3] / "shared" / "testdata" / "real-audio"
#: spandsp's narrowband voice test input (LGPL-2.1, SOURCES.md): 8 kHz 16-bit mono; from
#: 0.2 s to 1.4 s it is continuous speech (measured: every 0.2 s window above -32 dBFS).
SPEECH_FILE = "speech/short_nb_voice.wav"
SPEECH_FROM, SPEECH_TO = 0.2, 1.4
#: Windows of the speech compared one by one (a jitter buffer may slip a frame between
#: them), each searched within this many samples of where the whole clip was found.
WINDOW = 2000
SLIP = 200


def agent_speech() -> np.ndarray:
    """The agent's words (int16 at 8 kHz): the real recording when the shared folder is
    beside the checkout, else the same length of words spoken by espeak-ng (installed by
    scripts/setup), so the audio-path test runs wherever Chromium does; the check needs a
    speech-like waveform to find again, not these words in particular."""
    path = REAL_AUDIO / SPEECH_FILE
    if path.is_file():
        audio, rate = soundfile.read(path, dtype="int16")
        assert rate == RATE, f"{path}: {rate} Hz, expected {RATE}"
        return np.asarray(audio[int(SPEECH_FROM * RATE):int(SPEECH_TO * RATE)], np.int16)
    return synthetic_speech()


#: What espeak-ng says when the real recording is not there (a sentence with no pause).
SPOKEN = "the agent is speaking to the customer on the line now"


def synthetic_speech() -> np.ndarray:
    """1.2 s of espeak-ng's speech at 8 kHz: the loudest stretch of SPOKEN, where every
    0.2 s is above -32 dBFS (as the real clip's is). Skips (fails in CI) without
    espeak-ng and sox."""
    tools = [shutil.which("espeak-ng"), shutil.which("sox")]
    if None in tools:
        why = "neither the shared real speech nor espeak-ng and sox are here"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"CI: the browser tests must run: {why} (bash scripts/setup)")
        pytest.skip(why)
    with tempfile.TemporaryDirectory() as folder:
        raw, wav = Path(folder) / "said.wav", Path(folder) / "said8k.wav"
        subprocess.run([tools[0], "-s", "170", "-w", str(raw), SPOKEN], check=True,
                       capture_output=True)
        subprocess.run([tools[1], str(raw), "-r", str(RATE), "-b", "16", "-c", "1",
                        str(wav)], check=True, capture_output=True)
        audio, rate = soundfile.read(wav, dtype="int16")
    assert rate == RATE
    audio = np.asarray(audio, np.int16)
    n, win = int((SPEECH_TO - SPEECH_FROM) * RATE), int(0.2 * RATE)
    level = np.convolve(audio.astype(np.float64) ** 2, np.ones(win) / win, "valid")
    floor = (32768.0 * 10 ** (-32 / 20)) ** 2
    best = None
    for start in range(0, audio.size - n, 400):
        windows = level[start:start + n - win + 1:win]
        if windows.size and windows.min() > floor and \
                (best is None or level[start] > level[best]):
            best = start
    assert best is not None, "espeak-ng's speech has no 1.2 s without a pause"
    return audio[best:best + n].copy()


def _normalised_xcorr(heard: np.ndarray, clip: np.ndarray) -> np.ndarray:
    """Pearson-like correlation of ``clip`` against every place in ``heard`` (FFT)."""
    n = heard.size + clip.size
    raw = np.fft.irfft(np.fft.rfft(heard, n) * np.conj(np.fft.rfft(clip, n)), n)
    raw = raw[:heard.size - clip.size + 1]
    energy = np.concatenate([[0.0], np.cumsum(heard * heard)])
    local = np.sqrt(np.maximum(energy[clip.size:] - energy[:-clip.size], 1e-9))
    return raw / (local * np.linalg.norm(clip) + 1e-9)


def speech_match(heard: np.ndarray, speech: np.ndarray) -> float:
    """How well ``speech`` is found in ``heard``: the median, over WINDOW-long pieces of
    the speech, of each piece's best correlation within SLIP samples of where the whole
    clip correlates best (1: the same waveform; about 0.3 for unrelated speech)."""
    h = np.asarray(heard, np.float64)
    s = np.asarray(speech, np.float64)
    if h.size < s.size + 2 * SLIP:
        return 0.0
    place = int(np.argmax(_normalised_xcorr(h, s)))
    scores = []
    for start in range(0, s.size - WINDOW + 1, WINDOW):
        piece = s[start:start + WINDOW]
        lo = max(0, place + start - SLIP)
        hi = min(h.size, place + start + WINDOW + SLIP)
        if hi - lo < WINDOW:
            continue
        scores.append(float(np.max(_normalised_xcorr(h[lo:hi], piece))))
    return float(np.median(scores)) if scores else 0.0


def peak_hz(audio: np.ndarray) -> float:
    """The strongest frequency of ``audio`` (8 kHz), to the FFT bin."""
    a = np.asarray(audio, np.float64)
    if a.size < 2 or not np.any(a):
        return 0.0
    spectrum = np.abs(np.fft.rfft(a * np.hanning(a.size)))
    return float(np.argmax(spectrum) * RATE / a.size)
