"""The cadence fast path's kept deadline (issue 15, item 6): after a tick whose segments
all went on, the next such tick for the same channels only lengthens them while the
nearest deadline is more than a block away. Driven here with generated label scripts
(the zone's tones, quiet, other sound, channel sets changing and restarts), a detector
keeping it and one made to forget it every tick give the same events and cadence state.
"""

from __future__ import annotations

import numpy as np
from hypothesis import event, given, settings
from hypothesis import strategies as st

from trunkline.drivers.dsp.detector import BLOCK, Detector

CHANNELS = 3
STATE = ("seg_label", "seg_len", "seg_start", "pend_label", "pend_n", "next_check",
         "rep_pat", "rep_phase", "broken", "long_other", "stale")
#: Runs of a block label (0 and 1: the zone's tone sets, -1 quiet, -2 other sound)
#: shaped like cadences: a ring-back's 1 s on and 4 s off, a busy's 350 ms, blips.
_run = st.tuples(st.sampled_from([0, 0, 1, -1, -1, -2]),
                 st.sampled_from([1, 2, 3, 17, 18, 35, 50, 51, 200, 201]))


@settings(max_examples=25, deadline=None)
@given(scripts=st.lists(st.lists(_run, min_size=1, max_size=12), min_size=CHANNELS,
                        max_size=CHANNELS),
       restarts=st.lists(st.tuples(st.integers(0, 399), st.integers(0, CHANNELS - 1)),
                         max_size=4),
       seed=st.integers(0, 2**32 - 1))
def test_kept_deadline_changes_nothing(scripts, restarts, seed):
    rng = np.random.default_rng(seed)
    ticks = 400
    labels = np.zeros((CHANNELS, ticks), np.int16)
    for ch, script in enumerate(scripts):
        labels[ch] = np.resize([lab for lab, n in script for _ in range(n)], ticks)
    keeps, forgets = Detector("cn", CHANNELS), Detector("cn", CHANNELS)
    for det in (keeps, forgets):
        for ch in range(CHANNELS):
            det.enable(ch)
    ids = np.arange(CHANNELS)
    found = 0
    for t in range(ticks):
        for at, ch in restarts:
            if at == t:
                for det in (keeps, forgets):
                    det.reset(ch)
        if t % 97 == 0:  # the tick's channel set changes now and then
            ids = np.flatnonzero(rng.random(CHANNELS) < 0.8) if t else ids
        if not ids.size:
            continue
        key = ids.tobytes()
        tick = labels[ids, t]
        forgets._steady = None
        outs = []
        for det in (keeps, forgets):
            pos = det.pos[ids].copy()
            outs.append(det._cadence(ids, tick, pos, key))
            det.pos[ids] = pos + BLOCK
        assert outs[0] == outs[1], f"tick {t}"
        found += len(outs[0])
        for name in STATE:
            np.testing.assert_array_equal(getattr(keeps, name), getattr(forgets, name),
                                          err_msg=f"{name} after tick {t}")
    event(f"tones named: {min(found, 5)}+")
