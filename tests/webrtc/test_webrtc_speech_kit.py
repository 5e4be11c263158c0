"""The speech check of the Chromium softphone test (webrtc_speech_kit), on audio made
here: it must find the agent's words after what the path does to them (resampling as
Chromium's fake microphone does, G.711 twice, a slipped frame, noise, other sounds around)
and must not find them where they are not (reversed speech, noise, DTMF alone)."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.signal import resample_poly
from webrtc_speech_kit import (
    REAL_AUDIO,
    SPEECH_FILE,
    agent_speech,
    peak_hz,
    speech_match,
    synthetic_speech,
)

from trunkline.drivers.dsp import g711
from trunkline.drivers.dsp.tones import dtmf_string


def _through_the_path(speech: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """8 kHz -> 48 kHz -> 8 kHz, mu-law then A-law, one 20 ms frame lost, between noise
    and keys."""
    there = resample_poly(resample_poly(speech.astype(np.float64), 6, 1), 1, 6)
    there = np.clip(there, -32768, 32767).astype(np.int16)
    there = g711.decode(g711.encode(there, "ulaw"), "ulaw")
    there = g711.decode(g711.encode(there, "alaw"), "alaw")
    slipped = np.concatenate([there[:4000], there[4160:]])
    noise = rng.normal(0, 200, 3000).astype(np.int16)
    heard = np.concatenate([noise, slipped, dtmf_string("159#", 150, 150), noise]
                           ).astype(np.float64)
    return heard + rng.normal(0, 60, heard.size)


@pytest.fixture(scope="module", params=["recorded", "espeak-ng"])
def speech(request: pytest.FixtureRequest) -> np.ndarray:
    """Both sources the browser test may use: the shared recording, and the synthetic
    words it falls back to where the recordings are not beside the checkout."""
    if request.param == "recorded":
        if not (REAL_AUDIO / SPEECH_FILE).is_file():
            pytest.skip("the shared recordings are not beside the checkout")
        return agent_speech()
    return synthetic_speech()


def test_the_agents_words_are_found_after_the_path(speech: np.ndarray) -> None:
    heard = _through_the_path(speech, np.random.default_rng(1))
    assert speech_match(heard, speech) > 0.9


def test_other_sounds_are_not_taken_for_the_words(speech: np.ndarray) -> None:
    rng = np.random.default_rng(2)
    heard = _through_the_path(speech, rng)
    assert speech_match(heard, speech[::-1]) < 0.5
    assert speech_match(rng.normal(0, 3000, 30000), speech) < 0.5
    keys = dtmf_string("159#" * 4, 150, 150).astype(np.float64)
    assert speech_match(keys, speech) < 0.5
    assert speech_match(np.zeros(100), speech) == 0.0   # too short to hold the words


def test_peak_hz_reads_a_tone() -> None:
    t = np.arange(2400) / 8000
    assert abs(peak_hz(3000 * np.sin(2 * np.pi * 1000 * t)) - 1000) < 5
    assert peak_hz(np.zeros(2400)) == 0.0
