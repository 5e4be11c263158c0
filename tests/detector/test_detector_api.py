"""The detector's public surface: channels, state, events and their JSON form."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pytest
from detector_testkit import digit, run, sil, tone

from trunkline.drivers.dsp.detector import BLOCK, ChannelConfig, Detector, detect_file
from trunkline.drivers.dsp.events import (
    AmdEvent,
    AnnouncementEvent,
    DtmfEvent,
    SilenceEvent,
    SitEvent,
    ToneEvent,
    VoiceEvent,
    to_json,
)
from trunkline.drivers.dsp.tones import dtmf_string, to_int16


def _blocks(x: np.ndarray) -> np.ndarray:
    x = to_int16(np.concatenate([x, np.zeros((-len(x)) % BLOCK)]))
    return x.reshape(-1, BLOCK)


def test_channels_are_independent_of_their_neighbours():
    rng = np.random.default_rng(4)
    signals = [np.concatenate([sil(100), digit(d, 60, rng=rng), sil(200)]) for d in "159#"]
    signals.append(tone(450.0, 3000, -15))
    together = run(signals, "cn")
    alone = [run([s], "cn")[0] for s in signals]
    def key(evs):
        return [to_json(e) | {"decided": e.decided} for e in evs]

    assert [key(evs) for evs in together] == [key(evs) for evs in alone]
    assert [e.channel for evs in together for e in evs if e.kind == "dtmf"] == [0, 1, 2, 3]


def test_subsets_of_channels_per_tick_and_time_per_channel():
    det = Detector("cn", max_channels=4)
    det.enable(1, progress=False, vad=False)
    det.enable(3, progress=False, vad=False)
    x = _blocks(np.concatenate([sil(100), digit("8", 80), sil(200)]))
    events = []
    for b in x:  # channel 3 only
        events += det.process(b[None], [3])
    det.reset(3)
    for b in x:  # then both, in reverse order
        events += det.process(np.stack([b, b]), [3, 1])
    assert [(e.channel, e.digit) for e in events] == [(3, "8"), (3, "8"), (1, "8")]
    assert {e.sample // 80 for e in events} == {10}  # 100 ms after each channel's start


def test_process_validates_its_input():
    det = Detector("cn", max_channels=2)
    det.enable(0)
    with pytest.raises(ValueError, match=r"block shape \(1, 100\)"):
        det.process(np.zeros((1, 100), np.int16), [0])
    with pytest.raises(ValueError, match=r"channels \[1\] are not enabled"):
        det.process(np.zeros((1, BLOCK), np.int16), [1])
    with pytest.raises(ValueError, match=r"channel_ids must lie in 0\.\.1"):
        det.process(np.zeros((1, BLOCK), np.int16), [2])
    with pytest.raises(ValueError, match="max_channels=0"):
        Detector("cn", max_channels=0)
    with pytest.raises(ValueError, match="channel ch=5"):
        det.enable(5)
    with pytest.raises(ValueError, match="mf='r3'"):
        ChannelConfig(mf="r3")
    with pytest.raises(ValueError, match="channel 1 is not enabled"):
        det.mark_answered(1)
    with pytest.raises(ValueError, match="must not repeat a channel"):
        det.process(np.zeros((2, BLOCK), np.int16), [0, 0])
    assert det.process(np.zeros((0, BLOCK), np.int16), []) == []


def test_dtmf_only_channel_gets_only_digits():
    s = np.concatenate([tone(450.0, 2000, -15), digit("3", 80), sil(3000)])
    (evs,) = run([s], "cn", progress=False, fax=False, vad=False)
    assert [e.kind for e in evs] == ["dtmf"]


def test_mark_answered_starts_amd():
    det = Detector("cn", max_channels=1)
    det.enable(0, amd=True)
    zero = np.zeros((1, BLOCK), np.int16)
    events = []
    for _ in range(50):
        events += det.process(zero, [0])
    det.mark_answered(0)
    for _ in range(250):
        events += det.process(zero, [0])
    (amd,) = [e for e in events if e.kind == "amd"]
    assert amd.after_answer == pytest.approx(4 * 8000, abs=BLOCK)
    assert amd.sample == pytest.approx(5 * 8000, abs=BLOCK)


def test_json_shapes_match_design():
    cases = [
        (DtmfEvent(0, 8160, 8800, "5", 640), {"t": 1.02, "event": "dtmf", "digit": "5",
                                              "duration": 0.08}),
        (ToneEvent(0, 800, 9000, "busy"), {"t": 0.1, "event": "tone", "tone": "busy"}),
        (SitEvent(0, 800, 9000, "IC"), {"t": 0.1, "event": "sit", "code": "IC"}),
        (VoiceEvent(0, 80, 100), {"t": 0.01, "event": "voice"}),
        (SilenceEvent(0, 80, 100), {"t": 0.01, "event": "silence"}),
        (AmdEvent(0, 16000, 16000, "human", 16000),
         {"t": 2.0, "event": "amd", "result": "human", "after_answer": 2.0}),
        (AnnouncementEvent(0, 800, 900, "powered_off", "", 0.9),
         {"t": 0.1, "event": "announcement", "kind": "powered_off", "confidence": 0.9}),
    ]
    for event, expected in cases:
        assert to_json(event) == expected
        json.dumps(to_json(event))
    assert to_json(cases[0][0], channel=True)["channel"] == 0


def test_events_validate_when_built():
    with pytest.raises(ValueError, match="digit='E'"):
        DtmfEvent(0, 0, 0, "E", 1)
    with pytest.raises(ValueError, match="tone='ring'"):
        ToneEvent(0, 0, 0, "ring")
    with pytest.raises(ValueError, match="result='maybe'"):
        AmdEvent(0, 0, 0, "maybe", 0)
    with pytest.raises(ValueError, match="0 <= sample <= decided"):
        VoiceEvent(0, 10, 5)
    with pytest.raises(dataclasses.FrozenInstanceError):
        VoiceEvent(0, 1, 2).sample = 3  # type: ignore[misc]


def test_detect_file_sorts_and_trims():
    x = dtmf_string("12", 80, 80)
    events = detect_file(x, "cn")
    assert [e.digit for e in events if e.kind == "dtmf"] == ["1", "2"]
    assert all(e.sample < len(x) for e in events)
    with pytest.raises(ValueError, match="answered_at=-1"):
        detect_file(x, "cn", answered_at=-1)
