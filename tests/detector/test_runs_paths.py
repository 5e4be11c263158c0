"""RunTracker's two paths (issue 15, item 6) give the same runs and leave the same state.

An update of a few busy channels runs one channel at a time on plain numbers
(``RunTracker._update_channels``), of many on arrays; the first is a rewrite of the
second for speed. Generated label scripts (runs, bridged gaps, switches, float32 label
and edge powers as the detector gives them) are fed to one tracker per path.
"""

from __future__ import annotations

import numpy as np
from hypothesis import event, given, settings
from hypothesis import strategies as st

from trunkline.drivers.dsp.runs import RunTracker

CHANNELS = 4
FRAMES = 4
LABELS = 5
FIELDS = ("label", "hits", "misses", "esum", "emax", "ecentre", "xsum", "last", "csum")


@settings(max_examples=40, deadline=None)
@given(script=st.lists(st.tuples(st.integers(-1, LABELS - 1), st.integers(1, 12)),
                       min_size=1, max_size=30),
       seed=st.integers(0, 2**32 - 1), switch_ends=st.booleans(),
       bridge=st.integers(0, 3), dtype=st.sampled_from([np.float32, np.float64]))
def test_channel_path_equals_array_path(script, seed, switch_ends, bridge, dtype):
    rng = np.random.default_rng(seed)
    seq = np.array([lab for lab, n in script for _ in range(n)], np.int16)
    ticks = -(-len(seq) // FRAMES) + 2
    labels = np.full((CHANNELS, ticks * FRAMES), -1, np.int16)
    for ch in range(CHANNELS):  # the script, shifted and thinned per channel
        shifted = np.roll(np.resize(seq, ticks * FRAMES), ch * 3)
        labels[ch] = np.where(rng.random(ticks * FRAMES) < 0.1 * ch, -1, shifted)
    arrays = RunTracker(CHANNELS, hop=40, bridge=bridge, switch_ends=switch_ends)
    channels = RunTracker(CHANNELS, hop=40, bridge=bridge, switch_ends=switch_ends)
    arrays.channels_path_max = 0
    channels.channels_path_max = 1 << 30
    ended = 0
    for t in range(ticks):
        ids = np.flatnonzero(rng.random(CHANNELS) < 0.85)
        k = len(ids)
        lab = labels[ids, t * FRAMES:(t + 1) * FRAMES]
        energy = rng.random((k, FRAMES)).astype(dtype)
        extra = rng.normal(0, 5, (k, FRAMES)).astype(dtype)
        centres = np.maximum(t * 160 + np.arange(FRAMES)[None, :] * 40 - 60
                             + np.zeros((k, 1), np.int64), 0)
        power = (rng.random((k, FRAMES, LABELS)) * 3).astype(dtype)
        edge = np.where(rng.random(power.shape) < 0.3, 0.0, power).astype(dtype)
        got = channels.update(ids, lab, energy, extra, centres, power, edge)
        want = arrays.update(ids, lab, energy, extra, centres, power, edge)
        for g, w in zip(got, want, strict=True):
            for name in ("channel", "label", "start", "duration", "hits", "extra", "end"):
                np.testing.assert_array_equal(getattr(g, name), getattr(w, name),
                                              err_msg=f"{name} at tick {t}")
                assert getattr(g, name).dtype == getattr(w, name).dtype
        ended += len(got[0])
        for name in FIELDS:
            np.testing.assert_array_equal(getattr(channels, name), getattr(arrays, name),
                                          err_msg=f"{name} after tick {t}")
        np.testing.assert_array_equal(channels._prev_power, arrays._prev_power)
        # running() skips its gather while no channel has a run: the same answer as
        # the gather, for every channel and for this tick's channels.
        for tracker in (channels, arrays):
            for some in (np.arange(CHANNELS), ids, np.array([t % CHANNELS])):
                assert tracker.running(some) == bool((tracker.label[some] >= 0).any())
        if t % 5 == 4:  # a channel restarted (reset) now and then, on both
            for tracker in (channels, arrays):
                tracker.reset(t % CHANNELS)
    event(f"runs ended: {min(ended, 10)}+")
