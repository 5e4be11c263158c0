"""Early media: music ring-back and operator announcements (fingerprints)."""

from __future__ import annotations

import numpy as np
from detector_testkit import companded, kinds, music, real_audio_dir, run, sil, tones_of

from trunkline.drivers.dsp.announcements import (
    add_template,
    bit_error_rate,
    fingerprint,
    load_library,
)
from trunkline.drivers.dsp.tones import render_tone
from trunkline.drivers.dsp.wavfile import read_audio
from trunkline.drivers.dsp.zones import load_zone


def test_music_ringback_is_told_from_ringback_speech_and_sit(speech):
    rng = np.random.default_rng(8)
    _, ring = render_tone(load_zone("cn").tone("ringback"), -15)
    signals = [music(8, rng), companded(music(8, rng, -25), "alaw"),
               np.tile(ring, 2).astype(float), speech["talk_en"], speech["talk_zh"]]
    got = [tones_of(evs) for evs in run(signals, "cn")]
    assert got == [["music"], ["music"], ["ringback"], [], []]


def test_no_music_after_answer():
    (evs,) = run([music(6, np.random.default_rng(1))], "cn", answered_at=0)
    assert "music" not in tones_of(evs)


def test_fingerprint_is_robust_and_discriminating(speech):
    a = fingerprint(speech["machine_zh"])
    rng = np.random.default_rng(0)
    noisy = companded(speech["machine_zh"] * 0.4 + rng.normal(0, 30, len(speech["machine_zh"])),
                      "ulaw")
    ber_same, _ = bit_error_rate(fingerprint(noisy)[50:150], a)
    ber_other, _ = bit_error_rate(fingerprint(speech["talk_zh"])[50:150], a)
    assert ber_same < 0.25 < 0.4 < ber_other


def test_announcement_added_from_a_recording_is_recognised(tmp_path, speech):
    lib = tmp_path / "lib"
    add_template(speech["machine_zh"], kind="powered_off", zone="cn", name="cn-test-off",
                 directory=lib)
    add_template(speech["talk_zh"], kind="invalid_number", zone="cn", name="cn-test-invalid",
                 directory=lib)
    templates = load_library(lib)
    rng = np.random.default_rng(3)
    _, ring = render_tone(load_zone("cn").tone("ringback"), -15)
    rec = speech["machine_zh"]
    heard = np.concatenate([ring[:16000], sil(500), rec * 0.5 + rng.normal(0, 20, len(rec))])
    signals = [companded(heard, "alaw"), speech["talk_en"], speech["machine_en"]]
    results = run(signals, "cn", templates=templates, announcements=True)
    assert [(e.announcement, e.template) for e in kinds(results[0], "announcement")] == \
        [("powered_off", "cn-test-off")]
    assert not kinds(results[1], "announcement") and not kinds(results[2], "announcement")


def test_bundled_library_loads_and_a_real_recording_can_be_added(tmp_path):
    assert {t.kind for t in load_library()} >= {"invalid_number", "powered_off",
                                                "unreachable", "busy"}
    rec = read_audio(real_audio_dir() / "sit_announcements" / "ss-noservice.gsm")
    add_template(rec, kind="not_in_service", zone="us", name="us-asterisk", directory=tmp_path)
    templates = load_library(tmp_path)
    rng = np.random.default_rng(2)
    heard = companded(np.concatenate([sil(700), rec * 0.6 + rng.normal(0, 15, rec.size)]), "ulaw")
    (evs,) = run([heard], "cn", templates=templates, announcements=True)
    assert [e.announcement for e in kinds(evs, "announcement")] == ["not_in_service"]
