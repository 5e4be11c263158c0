"""Music ring-back (彩铃) named within 1-2 s of steady music, never on speech.

Real recordings are read from shared/testdata/real-audio (SOURCES.md): operator
announcements, voicemail greetings, read English and Mandarin, speech over noise. Each
is heard as early media from its start and from a point in its middle (a run of sound
may begin anywhere), after half a second of silence; none may be called music. The
tunes are synthetic (the emulated network's and the test kit's), plain, A-law at
-25 dBm0, and under line noise.
"""

from __future__ import annotations

import numpy as np
from detector_testkit import RATE, companded, music, noise_at, real_audio_dir, run, sil

from trunkline.drivers.backends.emulated.sounds import render_music
from trunkline.drivers.dsp.wavfile import read_audio

#: Real speech of every kind in the set (the beeps and the bare SIT are not speech).
SPEECH = ("speech/short_nb_voice.wav", "speech/dam9.wav", "speech/hts1.raw",
          "speech/hts2a.raw", "speech/kristoff.raw", "speech/input.8.wav",
          "speech/OSR_us_000_0034_8k.wav", "speech/aishell-BAC009S0724W0121.wav",
          "speech/demo-congrats.gsm", "answering_machine/vm-intro.gsm",
          "answering_machine/vm-nobodyavail.gsm", "answering_machine/vm-isunavail.gsm",
          "answering_machine/please-leave-a-message-at-the-tone.wav",
          "answering_machine/sorry-i-cant-take-your-call.wav",
          "sit_announcements/ss-noservice.gsm",
          "sit_announcements/not-in-service-with-sit.wav",
          "sit_announcements/disconnected-with-sit.wav")


def music_at(events) -> float | None:
    """When music was named (seconds from the signal's start), or None."""
    named = [e.decided for e in events if e.kind == "tone" and e.tone == "music"]
    return min(named) / RATE if named else None


def test_real_speech_is_never_called_music() -> None:
    root = real_audio_dir()
    signals, names = [], []
    for name in SPEECH:
        x = read_audio(root / name).astype(np.float64)
        for start in (0, x.size // 2 // RATE * RATE):
            signals.append(np.concatenate([sil(500), x[start:start + 8 * RATE]]))
            names.append(f"{name}@{start // RATE}s")
    called = {n: music_at(evs) for n, evs in zip(names, run(signals, "cn"), strict=True)}
    assert {n: t for n, t in called.items() if t is not None} == {}


def test_steady_music_is_named_before_a_person_answers() -> None:
    rng = np.random.default_rng(15)
    tunes = [render_music(np.random.default_rng(seed), 6.0).astype(np.float64)
             for seed in range(4)]
    tunes += [music(6, rng), companded(music(6, rng, -25), "alaw")]
    quiet = music(6, rng, -25)
    tunes.append(companded(quiet + noise_at(np.mean(quiet ** 2), 20, quiet.size, rng),
                           "ulaw"))
    lead = 0.5
    named = [music_at(evs) for evs in run([np.concatenate([sil(lead * 1000), t])
                                            for t in tunes], "cn")]
    assert all(t is not None for t in named), named
    after = [round(t - lead, 2) for t in named if t is not None]
    # 1 s of steady sound at the least; a note's decay or a chord change may add some,
    # never up to the 2 s a person takes to answer
    assert all(1.0 <= t < 1.9 for t in after), after
