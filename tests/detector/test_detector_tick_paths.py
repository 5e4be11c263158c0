"""The detector's short paths for a small card's tick (issue 15, item 6) give what the
general paths give.

The per-tick cost at 8-32 channels is the number of numpy calls, so a tick skips what
cannot change anything: digit and single-tone runs on idle ticks (only the last frame's
edge power is kept), the input checks for the channel set the last tick checked, the
reduction over the VAD's sub-window minima (a ring with its minimum kept). Each is
checked here against the plain computation; the recorded campaign trace and the golden
events (test_detector_golden_events.py) check the whole.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import event, given, settings
from hypothesis import strategies as st

from trunkline.drivers.dsp.detector import BLOCK, Detector
from trunkline.drivers.dsp.runs import RunTracker
from trunkline.drivers.dsp.vad import (
    FLOOR_MAX_DB,
    FLOOR_MIN_DB,
    FLOOR_SUB_BLOCKS,
    FLOOR_SUBWINDOWS,
    Vad,
)


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


@settings(max_examples=80, deadline=None)
@given(st.lists(st.lists(st.sampled_from([-1] * 6 + [0, 1, 2]), min_size=4, max_size=4),
                min_size=1, max_size=40),
       st.integers(0, 2**32 - 1))
def test_idle_ticks_of_a_run_tracker_give_what_update_gives(frames, seed):
    rng = np.random.default_rng(seed)
    plain = RunTracker(1, hop=40, bridge=1, switch_ends=True)
    short = RunTracker(1, hop=40, bridge=1, switch_ends=True)
    ids = np.zeros(1, np.intp)
    idle = 0
    for t, labels in enumerate(frames):
        lab = np.array([labels], np.int16)
        energy = rng.uniform(0, 1, (1, 4)).astype(np.float32)
        power = rng.uniform(0, 1, (1, 4, 3)).astype(np.float32)
        edge = np.where(power >= 0.5, power, 0.0)
        centres = (t * 160 + np.arange(4) * 40)[None, :].astype(np.int64)
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
            for a, b in zip(want, got, strict=True):
                for name in ("channel", "label", "start", "duration", "hits", "extra", "end"):
                    assert np.array_equal(getattr(a, name), getattr(b, name))
        for name in ("label", "hits", "misses", "esum", "emax", "ecentre", "xsum", "last",
                     "csum", "_prev_power"):
            assert np.array_equal(getattr(plain, name), getattr(short, name)), name
    event(f"idle ticks: {min(idle, 3)}+" if idle >= 3 else f"idle ticks: {idle}")
