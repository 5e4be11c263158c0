"""The music ring-back rules' two paths (issue 15, item 6) give the same events.

A tick of a few channels before the answer runs the rules one channel at a time on
plain numbers (``MusicRingback._update_channels``), of many on arrays
(``MusicRingback._update_arrays``); the first is a rewrite of the second for speed.
Generated scripts of level spells (steady music, wandering music, speech with dips,
silence, tones, hiss) are fed to one MusicRingback per path, compared on the events and
every music counter after each tick.
"""

from __future__ import annotations

import numpy as np
from hypothesis import event, given, settings
from hypothesis import strategies as st

from trunkline.drivers.dsp.music import BLOCK, MusicRingback

CHANNELS = 4
FIELDS = ("run", "gap", "dips", "peak", "last", "window", "moves", "state", "bits", "levels")

#: (kind, blocks): 0 silence, 1 steady music, 2 wandering music, 3 speech, 4 tone.
_spell = st.tuples(st.sampled_from([0, 1, 1, 2, 3, 3, 4]), st.integers(1, 120))


def _spells(scripts: list[list[tuple[int, int]]], ticks: int,
            rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Each channel's block kinds (its script repeated to ``ticks``) and levels (dB)."""
    kinds = np.zeros((len(scripts), ticks), np.int8)
    for ch, script in enumerate(scripts):
        seq = [kind for kind, n in script for _ in range(n)]
        kinds[ch] = np.resize(seq, ticks)
    base = np.where(kinds == 0, -70.0, -25.0)
    jitter = np.select([kinds == 1, kinds == 2, kinds == 3],
                       [rng.normal(0, 0.8, kinds.shape), rng.normal(0, 4, kinds.shape),
                        rng.normal(0, 9, kinds.shape)], 0.0)
    return kinds, base + jitter


@settings(max_examples=20, deadline=None)
@given(scripts=st.lists(st.lists(_spell, min_size=1, max_size=8), min_size=CHANNELS,
                        max_size=CHANNELS),
       seed=st.integers(0, 2**32 - 1), modem=st.booleans())
def test_channel_path_equals_array_path(scripts, seed, modem):
    rng = np.random.default_rng(seed)
    ticks = 400
    kinds, levels = _spells(scripts, ticks, rng)
    voiced = (kinds != 0) & (rng.random(kinds.shape) < 0.97)
    tonal = kinds == 4
    hiss = rng.random(kinds.shape) < 0.02
    arrays, channels = MusicRingback(CHANNELS), MusicRingback(CHANNELS)
    if modem:
        arrays.answer_tone_heard(1)
        channels.answer_tone_heard(1)
    heard = 0
    for t in range(ticks):
        ids = np.flatnonzero(rng.random(CHANNELS) < 0.9)
        pos = np.full(len(ids), t * BLOCK, np.int64)
        args = (ids, levels[ids, t], voiced[ids, t], tonal[ids, t], pos, hiss[ids, t])
        got = channels._update_channels(*args)
        want = arrays._update_arrays(*args)
        assert got == want, f"tick {t}"
        heard += len(got)
        for name in FIELDS:
            np.testing.assert_array_equal(getattr(channels, name), getattr(arrays, name),
                                          err_msg=f"{name} after tick {t}")
    event(f"events: {min(heard, 4)}+")


WIDE = 24


@settings(max_examples=15, deadline=None)
@given(scripts=st.lists(st.lists(_spell, min_size=1, max_size=6), min_size=WIDE,
                        max_size=WIDE),
       seed=st.integers(0, 2**32 - 1), share=st.sampled_from([0.3, 0.7, 0.95]))
def test_idle_channels_aged_apart_equal_array_path(scripts, seed, share):
    """``update`` ages the idle channels (no run, no voice, no music to watch) apart and
    runs the rules on the rest: the same events and state as the array path on all."""
    rng = np.random.default_rng(seed)
    ticks = 300
    kinds, levels = _spells(scripts, ticks, rng)
    levels = levels.astype(np.float32)
    voiced = (kinds != 0) & (kinds != 4) & (rng.random(kinds.shape) < 0.97)
    tonal = kinds == 4
    hiss = rng.random(kinds.shape) < 0.02
    # Blocks whose zero crossings say hiss (every sample changes sign) or not (none).
    alternate = np.where(np.arange(BLOCK) % 2, -100, 100).astype(np.int16)
    steady = np.full(BLOCK, 100, np.int16)
    split, whole = MusicRingback(WIDE), MusicRingback(WIDE)
    whole.idle_from = whole.channels_max = WIDE  # no idle split; arrays below WIDE + 1
    heard = 0
    for t in range(ticks):
        ids = np.flatnonzero(rng.random(WIDE) < share)
        if ids.size == 0:
            continue
        pos = np.full(len(ids), t * BLOCK, np.int64)
        block = np.where(hiss[ids, t][:, None], alternate, steady)
        args = (ids, block, levels[ids, t], voiced[ids, t], tonal[ids, t], pos)
        got = split.update(*args)
        want = whole._update_arrays(ids, levels[ids, t], voiced[ids, t], tonal[ids, t], pos,
                                    hiss[ids, t])
        assert got == want, f"tick {t}"
        heard += len(got)
        for name in FIELDS:
            np.testing.assert_array_equal(getattr(split, name), getattr(whole, name),
                                          err_msg=f"{name} after tick {t}")
    event(f"events: {min(heard, 4)}+")
