"""The fax/modem tone counters' two paths (issue 15, item 6) decide alike.

An update of a few active channels runs one channel at a time on plain numbers
(``ModemToneState._update_channels``), of many on arrays; the first is a rewrite of the
second for speed. Generated label scripts (CNG and 2100 Hz runs with gaps, other
labels, float32 magnitudes with and without a 15 Hz modulation) are fed to one state per
path, compared on the decisions and every counter after each update.
"""

from __future__ import annotations

import numpy as np
from hypothesis import event, given, settings
from hypothesis import strategies as st

from trunkline.drivers.dsp.modemtones import CED_LABEL, CNG_LABEL, ModemToneState

CHANNELS = 4
FRAMES = 4
FIELDS = ("cng_hits", "cng_gap", "cng_start", "ced_hits", "ced_gap", "ced_start",
          "first_rev", "am_s", "am_m", "am_w", "am_n", "done_cng", "done_ced")


@settings(max_examples=40, deadline=None)
@given(script=st.lists(st.tuples(st.sampled_from([-1, 0, CNG_LABEL, CED_LABEL, CED_LABEL]),
                                 st.integers(1, 130)), min_size=1, max_size=12),
       seed=st.integers(0, 2**32 - 1), am=st.floats(0.0, 0.6))
def test_channel_path_equals_array_path(script, seed, am):
    rng = np.random.default_rng(seed)
    seq = np.array([lab for lab, n in script for _ in range(n)], np.int16)
    ticks = -(-len(seq) // FRAMES) + 2
    labels = np.full((CHANNELS, ticks * FRAMES), -1, np.int16)
    for ch in range(CHANNELS):
        shifted = np.roll(np.resize(seq, ticks * FRAMES), ch * 5)
        labels[ch] = np.where(rng.random(ticks * FRAMES) < 0.05 * ch, -1, shifted)
    arrays, channels = ModemToneState(CHANNELS), ModemToneState(CHANNELS)
    arrays.channels_path_max = 0
    channels.channels_path_max = 1 << 30
    decided = []
    for t in range(ticks):
        ids = np.flatnonzero(rng.random(CHANNELS) < 0.9)
        lab = labels[ids, t * FRAMES:(t + 1) * FRAMES]
        centres = t * 160 + np.arange(FRAMES)[None, :] * 40 + np.zeros((len(ids), 1),
                                                                        np.int64)
        mag = ((1 + am * np.sin(2 * np.pi * 15 * centres / 8000))
               * rng.uniform(0.9, 1.1, centres.shape)).astype(np.float32)
        got = channels.update(ids, lab, mag, centres)
        want = arrays.update(ids, lab, mag, centres)
        assert got == want, f"tick {t}"
        decided += got
        for name in FIELDS:
            np.testing.assert_array_equal(getattr(channels, name), getattr(arrays, name),
                                          err_msg=f"{name} after tick {t}")
        # idle() skips its gathers while no counter goes: the same answer as they give.
        quiet = np.full((1, FRAMES), -1, np.int16)
        for state in (channels, arrays):
            for some in (np.arange(CHANNELS), ids, np.array([t % CHANNELS])):
                going = bool(state.cng_hits[some].any() or state.ced_hits[some].any())
                assert state.idle(some, np.resize(quiet, (len(some), FRAMES))) == (not going)
                assert state.idle(some, quiet, labelled=False) == (not going)
        if t % 7 == 6:  # a channel restarted now and then, on both
            for state in (channels, arrays):
                state.reset(t % CHANNELS)
    for _, name, _ in decided:
        event(name)


def test_modem_answer_with_a_reversal_agrees():
    """2100 Hz with a phase reversal 460 ms in (a V.25 modem answer), scripted: both
    paths name it modem_ans."""
    seq = [CED_LABEL] * 92 + [-1] * 2 + [CED_LABEL] * 40
    labels = np.array([seq + [-1] * (-len(seq) % FRAMES)], np.int16)
    out = {}
    for path_max in (0, 1 << 30):
        state = ModemToneState(1)
        state.channels_path_max = path_max
        got = []
        for t in range(labels.shape[1] // FRAMES):
            centres = t * 160 + np.arange(FRAMES)[None, :] * 40
            got += state.update(np.array([0]), labels[:, t * FRAMES:(t + 1) * FRAMES],
                                np.ones((1, FRAMES), np.float32), centres)
        out[path_max] = got
    assert out[0] == out[1 << 30] == [(0, "modem_ans", 0)]
