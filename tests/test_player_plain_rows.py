"""Player.frame reads most rows as 160 consecutive samples (issue 15, item 6): the
result must be the sample-by-sample rule's for every state a row can be in."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from trunkline.drivers.dsp.player import AudioBank, Clip, Player
from trunkline.drivers.model import FRAME_SAMPLES

ROW = st.tuples(st.booleans(), st.integers(1, 700), st.booleans(), st.integers(0, 2000),
                st.one_of(st.none(), st.integers(1, 2000)), st.floats(0.1, 2.0))


def _reference(p: Player) -> np.ndarray:
    """The rule sample by sample, over every row (the code before the shortcut)."""
    off = p.pos[:, None] + np.arange(FRAME_SAMPLES)
    wrapped = p.start[:, None] + off % p.length[:, None]
    single = np.where(off < p.length[:, None], p.start[:, None] + off, 0)
    index = np.where(p.loop[:, None], wrapped, single)
    index = np.where((off < p.until[:, None]) & p.active[:, None], index, 0)
    return (p.bank.array[index].astype(np.float32)) * p.gain[:, None]


@settings(max_examples=100, deadline=None)
@given(rows=st.lists(ROW, min_size=1, max_size=6), frames=st.integers(1, 8))
def test_frame_equals_the_sample_by_sample_rule(rows, frames):
    bank = AudioBank()
    rng = np.random.default_rng(len(rows))
    clips = [bank.add(rng.integers(-3000, 3000, 50 + 97 * i).astype(np.int16), f"c{i}")
             for i in range(8)]
    p = Player(bank, len(rows))
    for r, (active, length, loop, skip, samples, gain) in enumerate(rows):
        base = clips[length % len(clips)]
        # Every fifth row plays silence (clip None); the others a cut of a clip.
        clip = None if length % 5 == 0 else Clip(base.start, min(length, base.length))
        p.play(r, clip, loop=loop, samples=samples, gain=gain)
        p.pos[r] = skip
        if not active:
            p.stop(r)
    for _ in range(frames):
        want = _reference(p)
        pos = p.pos.copy()
        got, ended = p.frame()
        np.testing.assert_array_equal(got, want)
        np.testing.assert_array_equal(p.pos, pos + FRAME_SAMPLES)
        np.testing.assert_array_equal(ended, np.flatnonzero(p.active & (p.pos >= p.until)))
