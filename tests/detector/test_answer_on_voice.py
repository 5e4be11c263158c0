"""Answers with no answer signal: speech that replaces music ring-back or a tone at once,
tone-fragment cadence decisions around dialing, and AMD when the answer is marked late."""

from __future__ import annotations

import numpy as np
import pytest
from answer_signals_kit import dial_and_record, early_media, greetings
from detector_testkit import companded, dbm0_power, digit, kinds, music, noise_at, sil, tone

from trunkline.drivers.backends.emulated.sounds import render_music
from trunkline.drivers.dsp.progress import CadenceMatcher, ProgressChannel, Segment, ZoneToneModel
from trunkline.drivers.dsp.tones import render_tone
from trunkline.drivers.dsp.zones import load_zone

RATE = 8000
CN = load_zone("cn")
_, RING = render_tone(CN.tone("ringback"), -15)
RING = RING.astype(np.float64)  # one cycle: 1 s of 450 Hz, 4 s off


def voices(events) -> list[tuple[float, float]]:
    """(onset, decided) of each ``voice``, in seconds."""
    return [(e.sample / RATE, e.decided / RATE) for e in kinds(events, "voice")]


def tone_names(events) -> list[str]:
    return [e.tone for e in kinds(events, "tone")]


# -- Problem 1: music ring-back (彩铃) or ringback giving way to speech -------------------
def test_emulated_music_ringback_then_answer_gives_voice_at_the_answer():
    audio, answer = dial_and_record("13810000001", 12.0)  # human, music, answers at 7 s
    assert answer is not None and answer > 6.0
    events = early_media(audio)
    assert tone_names(events) == ["music"]
    music_at = kinds(events, "tone")[0].decided / RATE
    after = [(on, dec) for on, dec in voices(events) if dec > music_at]
    assert after, "no voice after the music was reported"
    onset, decided = after[0]
    assert onset == pytest.approx(answer, abs=0.3)
    assert decided - onset <= 0.5


def test_emulated_ringback_then_answer_gives_voice_at_the_answer():
    audio, answer = dial_and_record("13800000001", 14.0)  # answers as a burst ends
    assert answer is not None
    events = early_media(audio)
    assert tone_names(events) == ["ringback"]
    ((onset, decided),) = voices(events)[:1]
    assert onset == pytest.approx(answer, abs=0.3) and decided - onset <= 0.3


@pytest.mark.slow
@pytest.mark.parametrize("line", ["clean", "alaw_noise"])
def test_music_then_greeting_without_a_gap(line):
    rng = np.random.default_rng(31)
    for name, greeting in greetings().items():
        for gain in (1.0, 0.3):
            tune = render_music(rng, 8.0).astype(np.float64)
            x = np.concatenate([tune, greeting * gain, sil(2000)])
            if line == "alaw_noise":
                x = companded(x + noise_at(dbm0_power(-50), 0, x.size, rng), "alaw")
            events = early_media(x)
            assert tone_names(events) == ["music"], name
            after = [v for v in voices(events) if v[0] > 1.0]
            assert after, f"{name} x{gain}: no voice at the greeting"
            onset, decided = after[0]
            assert onset == pytest.approx(8.0, abs=0.3), (name, gain)
            assert decided - 8.0 <= 0.6, (name, gain)


@pytest.mark.slow
def test_music_alone_and_ringback_alone_give_no_voice():
    rng = np.random.default_rng(4)
    signals = [render_music(np.random.default_rng(s), 16.0).astype(np.float64)
               for s in range(3)]
    signals += [music(16, rng), companded(music(16, rng, -25) + noise_at(
        dbm0_power(-50), 0, 16 * RATE, rng), "ulaw")]
    for x in signals:
        events = early_media(x)
        assert tone_names(events) == ["music"]
        # Music is sound: one voice where it starts, none later.
        assert [on for on, _ in voices(events)] == [0.0]
    ring = np.tile(RING, 4)
    for x in (ring, companded(ring + noise_at(dbm0_power(-50), 0, ring.size, rng), "alaw")):
        events = early_media(x)
        assert tone_names(events) == ["ringback"] and not voices(events)


@pytest.mark.parametrize("cut_ms", [1000, 600, 200])
def test_speech_right_after_a_ringback_burst(cut_ms):
    greeting = greetings()["zh_greeting_1"]
    x = np.concatenate([sil(500), RING, RING[: int(cut_ms * RATE / 1000)], greeting,
                        sil(1000)])
    events = early_media(x)
    assert tone_names(events) == ["ringback"]
    ((onset, _),) = voices(events)
    assert onset == pytest.approx(5.5 + cut_ms / 1000, abs=0.3)


def test_speech_right_after_a_short_tone_is_a_new_voice():
    # Speech, 300 ms of 450 Hz (shorter than the 500 ms a silence needs), speech again.
    greeting = greetings()["zh_greeting_3"]
    x = np.concatenate([sil(500), greeting, tone(450.0, 300, -12), greeting, sil(1000)])
    events = early_media(x, progress=False)
    onsets = [on for on, _ in voices(events)]
    second = 0.5 + greeting.size / RATE + 0.3
    assert len(onsets) == 2 and onsets[1] == pytest.approx(second, abs=0.1)


# -- Problem 2: tone fragments around dialing ----------------------------------------------
@pytest.mark.parametrize("fragment_ms", [40, 80])
def test_dial_tone_fragment_after_reset_reports_nothing(fragment_ms):
    # Dial tone until the controller resets detection at dial start; the last fragment
    # of dial tone (shorter than any cn cadence element, 100 ms) then the digits' silence
    # (DTMF is sent, not received) and ringback.
    from trunkline.drivers.dsp.detector import BLOCK, Detector
    from trunkline.drivers.dsp.tones import to_int16

    det = Detector("cn", 1, announcements=[])
    det.enable(0, dtmf=False, progress=True, fax=True, vad=True, amd=True,
               announcements=True)
    before = to_int16(tone(450.0, 2000, -12))
    after = to_int16(np.concatenate([tone(450.0, fragment_ms, -12), sil(2000 - fragment_ms),
                                     np.tile(RING, 2), sil(1000)]))
    got_before, got_after = [], []
    for b in range(before.size // BLOCK):
        got_before += det.process(before[None, b * BLOCK:(b + 1) * BLOCK], [0])
    det.reset(0)
    for b in range(after.size // BLOCK):
        got_after += det.process(after[None, b * BLOCK:(b + 1) * BLOCK], [0])
    assert tone_names(got_before) == ["dial"]
    (ring,) = kinds(got_after, "tone")
    assert ring.tone == "ringback" and ring.sample / RATE == pytest.approx(2.0, abs=0.05)
    assert ring.decided / RATE <= 3.1  # decided at the end of the first burst
    assert not voices(got_after)


@pytest.mark.parametrize("dial_ms", [1500, 1200])
def test_ringback_replaces_a_dial_tone_fragment_after_one_burst(dial_ms):
    # No reset: the dial tone heard before the digits was reported from its one
    # (truncated) segment; ringback must not wait for a second cycle to replace it.
    digits = [np.concatenate([digit(d, 100), sil(100)]) for d in "13800000001"]
    lead = dial_ms + 300 + 200 * len(digits) + 1000
    x = np.concatenate([tone(450.0, dial_ms, -12), sil(300), *digits, sil(1000),
                        np.tile(RING, 2)])
    events = early_media(x)
    assert tone_names(events) == ["dial", "ringback"]
    ring = kinds(events, "tone")[1]
    assert ring.sample / RATE == pytest.approx(lead / 1000, abs=0.05)
    assert (ring.decided - ring.sample) / RATE <= 1.2


def test_a_confirmed_tone_still_needs_a_cycle_to_be_replaced():
    m = CadenceMatcher(ZoneToneModel(CN))
    ch = ProgressChannel()
    # Busy and congestion are verdicts on two whole cycles (progress.CONFIRM_CYCLES).
    ch.history.extend([Segment(0, 0, 350.0), Segment(-1, 2800, 350.0),
                       Segment(0, 5600, 350.0), Segment(-1, 8400, 350.0)])
    assert m.decide(ch, Segment(0, 11200, 40.0)) == ("busy", 0)
    ch.reported, ch.support = "busy", 4
    # One 700 ms on-segment then its off-part fits congestion, not busy: not enough.
    ch.history.extend([Segment(0, 11200, 700.0)])
    assert m.decide(ch, Segment(-1, 16800, 40.0)) is None
    ch.support = 1  # even a busy decided on one segment needs two cycles of congestion
    assert m.decide(ch, Segment(-1, 16800, 40.0)) is None
    ch.history.extend([Segment(-1, 16800, 700.0), Segment(0, 22400, 700.0),
                       Segment(-1, 28000, 700.0)])
    assert m.decide(ch, Segment(0, 33600, 40.0)) == ("congestion", 11200)


# -- AMD when the answer is marked late -------------------------------------------------
@pytest.mark.slow
def test_live_answer_marked_late_is_not_a_machine():
    clips = greetings()
    results = []
    for name, g in clips.items():
        for pause_ms in (None, 500, 1200):  # greeting once, or "喂 ... 喂" again
            parts = [sil(500), g] + ([] if pause_ms is None else [sil(pause_ms), g])
            x = np.concatenate([*parts, sil(5000)])
            events = early_media(x, mark_answered_at=0.5 + 1.5, exact=False)  # 1.5 s late
            (amd,) = kinds(events, "amd")
            results.append((name, pause_ms, amd.result))
    assert not [r for r in results if r[2] == "machine"], results
    # The rest are "notsure": a greeting over before the late answer, or a long pair.
    assert sum(r[2] == "human" for r in results) >= 0.6 * len(results), results


def test_machine_marked_late_is_still_a_machine(speech):
    for m in ("machine_en", "machine_zh"):
        x = np.concatenate([sil(500), speech[m], sil(300), tone(1000.0, 500, -12),
                            sil(3000)])
        (amd,) = kinds(early_media(x, mark_answered_at=2.0, exact=False), "amd")
        assert amd.result == "machine", m


@pytest.mark.slow
def test_an_exact_answer_during_music_starts_amd_from_nothing():
    """Polarity reversal or CONNECT while music still plays: the music is not a greeting."""
    from trunkline.drivers.backends.emulated.sounds import render_music

    clips = greetings()
    for seed in range(3):
        music = render_music(np.random.default_rng(seed), seconds=2.5).astype(float)
        for g in clips.values():
            x = np.concatenate([music, g, sil(4000)])
            (amd,) = kinds(early_media(x, mark_answered_at=music.size / RATE), "amd")
            assert amd.result != "machine", seed
