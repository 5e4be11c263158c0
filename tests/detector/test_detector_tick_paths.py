"""The detector's short paths for a small card's tick (issue 15, item 6) give what the
general paths give.

The per-tick cost at 8-32 channels is the number of numpy calls, so a tick skips what
cannot change anything: digit and single-tone runs on idle ticks (the last frame's
powers are kept, its edge powers computed on the next busy tick), the input checks for
the channel set the last tick checked, the reduction over the VAD's sub-window minima
(a ring with its minimum kept). Each is checked here against the plain computation; the
recorded campaign trace and the golden events (test_detector_golden_events.py) check the whole.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import event, given, settings
from hypothesis import strategies as st

from trunkline.drivers.dsp.detector import (
    BLOCK,
    EDGE_PURITY,
    OFF_BELOW_TONE,
    Detector,
    _dtmf_pair_power,
)
from trunkline.drivers.dsp.progress import OTHER, QUIET, ZoneToneModel
from trunkline.drivers.dsp.runs import RunTracker
from trunkline.drivers.dsp.vad import (
    FLOOR_MAX_DB,
    FLOOR_MIN_DB,
    FLOOR_SUB_BLOCKS,
    FLOOR_SUBWINDOWS,
    Vad,
)
from trunkline.drivers.dsp.zones import load_zone


def test_a_channel_disabled_after_a_checked_tick_is_refused():
    det = Detector("cn", max_channels=3)
    det.enable(0)
    det.enable(2)
    zero = np.zeros((2, BLOCK), np.int16)
    det.process(zero, [0, 2])
    det.process(zero, [0, 2])  # the same set: checked on the tick before
    det.disable(2)
    with pytest.raises(ValueError, match=r"channels \[2\] are not enabled"):
        det.process(zero, [0, 2])


def _floor_reference(levels: list[float]) -> list[float]:
    """Minimum statistics as vad.py's docstring states it: the minimum of the block's
    level (clamped at FLOOR_MIN_DB), the current sub-window's and the last
    FLOOR_SUBWINDOWS completed ones', never above FLOOR_MAX_DB."""
    done: list[float] = []
    cur = 200.0
    n = 0
    out = []
    for lv in levels:
        cur = min(cur, max(lv, FLOOR_MIN_DB))
        out.append(min(cur, *done[-FLOOR_SUBWINDOWS:], FLOOR_MAX_DB))
        n += 1
        if n >= FLOOR_SUB_BLOCKS:
            done.append(cur)
            cur, n = 200.0, 0
    return out


#: Spells of a steady level (dBm0, blocks): a quiet spell must leave the floor once
#: FLOOR_SUBWINDOWS sub-windows have passed since.
_SPELLS = st.lists(st.tuples(st.floats(-80, -30, width=32), st.integers(1, 30)),
                   min_size=1, max_size=8)


@settings(max_examples=80, deadline=None)
@given(_SPELLS, st.integers(0, 15))
def test_vad_floor_is_the_minimum_of_the_last_sub_windows(spells, shift):
    """Two channels hear the same levels, the second ``shift`` blocks later (their
    sub-windows end on different ticks), each absent from some ticks."""
    levels = [lv for lv, n in spells for _ in range(n)]
    vad = Vad(2)
    floors: list[list[float]] = [[], []]
    for tick in range(len(levels) + shift):
        ids = [ch for ch, t in ((0, tick), (1, tick - shift)) if 0 <= t < len(levels)]
        lvl = [levels[tick - (shift if ch else 0)] for ch in ids]
        vad.update(np.array(ids, np.intp), np.array(lvl, np.float32),
                   np.zeros(len(ids), bool), np.zeros(len(ids), np.int64))
        for ch in ids:
            floors[ch].append(float(vad.floor[ch]))
    want = _floor_reference(levels)
    assert floors[0] == want
    assert floors[1] == want


#: A run tracker's frame labels per tick (mostly none, digits 0-2), 1-40 ticks of 4 frames.
TRACKER_FRAMES = st.lists(st.lists(st.sampled_from([-1] * 6 + [0, 1, 2]), min_size=4,
                                   max_size=4), min_size=1, max_size=40)


def _tracker_tick(rng: np.random.Generator, t: int, labels: list[int]) -> tuple:
    """One tick's inputs to a one-channel RunTracker: labels, energies, bin powers, the
    edge powers (the bin powers of 0.5 or more) and frame centres."""
    lab = np.array([labels], np.int16)
    energy = rng.uniform(0, 1, (1, 4)).astype(np.float32)
    power = rng.uniform(0, 1, (1, 4, 3)).astype(np.float32)
    edge = np.where(power >= 0.5, power, 0.0)
    centres = (t * 160 + np.arange(4) * 40)[None, :].astype(np.int64)
    return lab, energy, power, edge, centres


def _assert_same_runs(want: tuple, got: tuple) -> None:
    """The (ended, started) runs of two trackers are the same, field by field."""
    for a, b in zip(want, got, strict=True):
        for name in ("channel", "label", "start", "duration", "hits", "extra", "end"):
            assert np.array_equal(getattr(a, name), getattr(b, name))


@settings(max_examples=80, deadline=None)
@given(TRACKER_FRAMES, st.integers(0, 2**32 - 1))
def test_idle_ticks_of_a_run_tracker_give_what_update_gives(frames, seed):
    rng = np.random.default_rng(seed)
    plain = RunTracker(1, hop=40, bridge=1, switch_ends=True)
    short = RunTracker(1, hop=40, bridge=1, switch_ends=True)
    ids = np.zeros(1, np.intp)
    idle = 0
    for t, labels in enumerate(frames):
        lab, energy, power, edge, centres = _tracker_tick(rng, t, labels)
        want = plain.update(ids, lab, energy, energy, centres, power, edge)
        if short.idle(ids, lab):
            short.carry(ids, edge[:, -1])
            got = None
        else:
            got = short.update(ids, lab, energy, energy, centres, power, edge)
        if got is None:
            idle += 1
            assert len(want[0]) == len(want[1]) == 0
        else:
            _assert_same_runs(want, got)
        for name in ("label", "hits", "misses", "esum", "emax", "ecentre", "xsum", "last",
                     "csum", "_prev_power"):
            assert np.array_equal(getattr(plain, name), getattr(short, name)), name
    event(f"idle ticks: {min(idle, 3)}+" if idle >= 3 else f"idle ticks: {idle}")


@settings(max_examples=60, deadline=None)
@given(TRACKER_FRAMES, st.integers(0, 2**32 - 1))
def test_a_run_tracker_given_the_frame_before_gives_what_it_gives_keeping_it(frames, seed):
    """The detector keeps the last frame's inputs itself (Detector.last_frame) and hands
    the trackers the edge power of the frame before a block only on busy ticks."""
    rng = np.random.default_rng(seed)
    kept = RunTracker(1, hop=40, bridge=1, switch_ends=True)
    given_ = RunTracker(1, hop=40, bridge=1, switch_ends=True)
    ids = np.zeros(1, np.intp)
    before = np.zeros((1, 3))
    for t, labels in enumerate(frames):
        lab, energy, power, edge, centres = _tracker_tick(rng, t, labels)
        want = kept.update(ids, lab, energy, energy, centres, power, edge)
        if given_.idle(ids, lab):
            assert len(want[0]) == len(want[1]) == 0
        else:
            got = given_.update(ids, lab, energy, energy, centres, power, edge,
                                lambda rows, b=before: b if rows is None else b[rows])
            _assert_same_runs(want, got)
        before = edge[:, -1].astype(np.float64)
        for name in ("label", "hits", "misses", "esum", "emax", "ecentre", "xsum", "last",
                     "csum"):
            assert np.array_equal(getattr(kept, name), getattr(given_, name)), name


@settings(max_examples=25, deadline=None)
@given(st.integers(0, 2**32 - 1), st.integers(1, 6))
def test_the_last_frame_kept_gives_the_edge_powers_of_the_whole_path(seed, k):
    """Detector.last_frame's row, turned into edge powers on the next busy tick, is what
    the digit and single-tone edges of the block's last frame were: digits, SIT and
    2100 Hz tones at random levels over noise, and digital silence."""
    rng = np.random.default_rng(seed)
    det = Detector("cn", k)
    for ch in range(k):
        det.enable(ch)
    ids = np.arange(k)
    t = np.arange(BLOCK) / 8000
    for _ in range(3):
        hist = det.hist[ids].copy()
        block = np.zeros((k, BLOCK))
        for ch in range(k):
            kind = rng.integers(4)
            amp = 10 ** rng.uniform(1, 3.5)
            if kind == 1:
                block[ch] = amp * (np.sin(2 * np.pi * 770 * t) + np.sin(2 * np.pi * 1336 * t))
            elif kind == 2:
                block[ch] = amp * np.sin(2 * np.pi * rng.choice([913.8, 1370.6, 2100.0]) * t)
            if kind:
                block[ch] += rng.normal(0, amp / 10, BLOCK)
        block = block.astype(np.int16)
        det.process(block, ids)
        x = np.concatenate([hist, block.astype(np.float32)], axis=1)
        (bins, _), (energy, _) = det.multibank(x)
        power = np.abs(bins)
        power *= power
        inter = np.add.reduce(power[..., 13:], axis=-1)
        last = slice(3, 4)
        _, edge = _dtmf_pair_power(power[:, last], energy[:, last], inter[:, last])
        got = det._prev_edges(det.last_frame[ids], digits=True)(None)
        assert np.array_equal(got, edge[:, 0].astype(np.float64))
        odd = np.arange(1, k, 2)  # the rows a tracker asks for
        assert np.array_equal(det._prev_edges(det.last_frame[ids], digits=True)(odd),
                              got[odd])
        sp = power[:, -1, 8:13]
        want = np.where(sp >= EDGE_PURITY * energy[:, -1, None], sp, 0.0)
        assert np.array_equal(det._prev_edges(det.last_frame[ids], digits=False)(None),
                              want.astype(np.float64))


def _label_then_quiet_rule(model: ZoneToneModel, power, energy, tone_ref, off):
    """The two steps label_blocks_after_tone stands for: the block labels, then other
    sound under ``off`` of the last tone's level taken as quiet."""
    labels = model.label_blocks(power, energy)
    ref = np.where(labels >= 0, energy, tone_ref)
    return np.where((labels == OTHER) & (energy < ref * off), QUIET, labels).astype(np.int16), ref


@settings(max_examples=60, deadline=None)
@given(st.sampled_from(["cn", "jp", "us", "uk", "none"]), st.integers(1, 12),
       st.integers(0, 2**32 - 1))
def test_the_cadence_labels_after_a_tone_are_the_labels_then_the_quiet_rule(zone, k, seed):
    """jp has sub-100 Hz components (left out of the energy), us and uk several tone sets;
    "none" is a zone without progress tones."""
    rng = np.random.default_rng(seed)
    model = ZoneToneModel(load_zone("cn" if zone == "none" else zone))
    if zone == "none":
        model.sets = []
    level = 10 ** rng.uniform(-8, 0, k)
    energy = (level * rng.uniform(0.5, 3, k)).astype(np.float32)
    share = rng.dirichlet(np.ones(len(model.freqs) + 1), k)[:, :-1] * rng.uniform(0, 1.2, (k, 1))
    power = (share * energy[:, None]).astype(np.float32)
    tone_ref = (energy * 10 ** rng.uniform(-1, 3, k)).astype(np.float32)
    tone_ref[rng.uniform(size=k) < 0.3] = 0.0
    want = _label_then_quiet_rule(model, power, energy, tone_ref, OFF_BELOW_TONE)
    got = model.label_blocks_after_tone(power, energy, tone_ref.copy(), OFF_BELOW_TONE)
    assert np.array_equal(got[0], want[0]) and got[0].dtype == np.int16
    assert np.array_equal(got[1], want[1]) and got[1].dtype == want[1].dtype
    event(f"labels: {sorted(set(want[0].tolist()))[:3]}")
