"""DTMF talk-off: false digits on speech (synthesized Mandarin and English, real speech).

The Bellcore/Mitel talk-off tapes are not redistributable (detection-anchors.md section
1), so the measure is false digits per hour of speech (NTT's requirement is about 0.13
per hour). The rate is printed (``pytest -s``) for the report.
"""

from __future__ import annotations

import numpy as np
import pytest
from detector_testkit import companded, kinds, real_audio_dir, run

from trunkline.drivers.dsp.wavfile import read_audio

REAL = ["speech/OSR_us_000_0034_8k.wav", "speech/dam9.wav", "speech/short_nb_voice.wav",
        "speech/demo-congrats.gsm", "speech/hts1.raw", "speech/hts2a.raw",
        "speech/kristoff.raw", "speech/input.8.wav", "speech/aishell-BAC009S0724W0121.wav",
        "answering_machine/vm-intro.gsm", "sit_announcements/ss-noservice.gsm"]


def _false_digits(signals) -> tuple[int, float]:
    seconds = sum(len(s) for s in signals) / 8000
    results = run(signals, "cn", progress=False, fax=False, vad=False)
    return sum(len(kinds(evs, "dtmf")) for evs in results), seconds


def _variants(x: np.ndarray) -> list[np.ndarray]:
    """The speech at three levels and through A-law (louder speech tests the level gate)."""
    return [x * 0.5, x * 2.0, companded(x * 4.0, "alaw")]


def test_no_talk_off_on_synthesized_speech(speech):
    signals = [v for x in speech.values() for v in _variants(x)]
    false, seconds = _false_digits(signals)
    print(f"\nsynthesized speech: {false} false digits in {seconds:.0f} s "
          f"({false / seconds * 3600:.2f} per hour)")
    assert false == 0


@pytest.mark.slow
def test_no_talk_off_on_real_speech():
    d = real_audio_dir()
    signals = [v for name in REAL for v in _variants(read_audio(d / name).astype(float))]
    false, seconds = _false_digits(signals)
    print(f"\nreal speech: {false} false digits in {seconds:.0f} s "
          f"({false / seconds * 3600:.2f} per hour)")
    assert false == 0
