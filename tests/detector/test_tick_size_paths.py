"""A large tick and the same channels in small ticks give the same events (issue 15,
item 6): a tick of up to SMALL_TICK channels picks each frame's strongest DTMF row,
column and single tone with one gather and one argmax, a larger one with three argmaxes
over slices. The same signals (digits, SIT and fax tones, ring-back, noise) on
2 x (SMALL_TICK + 6) channels, fed as one tick each or as two halves, must give the same
events; so must each half, split again at another point.
"""

from __future__ import annotations

import numpy as np
from detector_testkit import digit, sil, tone

from trunkline.drivers.dsp.detector import BLOCK, SMALL_TICK, Detector
from trunkline.drivers.dsp.levels import amplitude


def _signals(n: int, rng: np.random.Generator) -> np.ndarray:
    kinds = [
        lambda: np.concatenate([digit(d, 60) for d in "1590*#"] + [sil(40)]),
        lambda: np.concatenate([tone([913.8], 274), tone([1370.6], 274),
                                tone([1776.7], 380), sil(300)]),
        lambda: np.concatenate([tone([1100], 500), sil(300)]),
        lambda: np.concatenate([tone([2100], 900), sil(100)]),
        lambda: np.concatenate([tone([450], 1000), sil(400)]),
        lambda: rng.normal(0, amplitude(-30), 8000),
    ]
    out = np.zeros((n, 8000), np.int16)
    for ch in range(n):
        x = kinds[ch % len(kinds)]()
        x = np.roll(np.resize(x, 8000), int(rng.integers(0, 8000)))
        out[ch] = np.clip(x + rng.normal(0, amplitude(-55), 8000), -32768, 32767)
    return out


def _events(audio: np.ndarray, splits: list[int]) -> list:
    n = audio.shape[0]
    det = Detector("cn", n, announcements=[])
    for ch in range(n):
        det.enable(ch, answered_at=4000 if ch % 3 == 0 else None, amd=ch % 3 == 0)
    for ch in range(1, n, 9):  # answered during the run: AMD waits, then starts
        det.configure(ch, amd=True)
    parts = np.split(np.arange(n), splits)
    events = []
    for b in range(audio.shape[1] // BLOCK):
        if b == 10:
            for ch in range(1, n, 9):
                det.mark_answered(ch)
        if b == 20:  # call progress off and on again, a channel restarted
            det.configure(2, progress=False)
            det.reset(5)
        if b == 30:
            det.configure(2, progress=True)
        for ids in parts:
            events += det.process(audio[ids, b * BLOCK:(b + 1) * BLOCK], ids)
        # The flags a tick skips its AMD tests by are never wrong, nor the early-media
        # rows it keeps from the last tick.
        assert det._amd_waiting or not det.amd_wait.any()
        assert det.amd.some_live or det.amd.done.all()
        if det._early is not None:
            ids = np.frombuffer(det._early[0], np.intp)
            early = (det.answered_at[ids] < 0) & det.en_progress[ids]
            rows = early.nonzero()[0]
            assert det._early[1] == len(rows)
            assert det._early[2] is None or np.array_equal(det._early[2], rows)
    return sorted(events, key=repr)


def test_large_and_small_ticks_give_the_same_events():
    n = 2 * (SMALL_TICK + 6)
    audio = _signals(n, np.random.default_rng(3))
    whole = _events(audio, [])
    assert len(whole) > n  # digits, tones and voice were heard
    assert _events(audio, [n // 2]) == whole
    assert _events(audio, [SMALL_TICK // 3, SMALL_TICK + 1]) == whole
