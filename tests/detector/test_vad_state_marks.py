"""The VAD reads its states only on ticks where a count is at its mark (issue 15,
item 6): the same changes, voiced flags and states as the straightforward rule (read
every tick, compare every count with its threshold), on generated level and tone
scripts with resets in between, so voice, silence and a tone's break all happen.
"""

from __future__ import annotations

import numpy as np
from hypothesis import event, given, settings
from hypothesis import strategies as st

from trunkline.drivers.dsp import vad as vad_mod
from trunkline.drivers.dsp.vad import (
    SILENCE,
    SILENCE_BLOCKS,
    TONE_BREAK_BLOCKS,
    UNKNOWN,
    VOICE,
    VOICE_ON_BLOCKS,
    Vad,
)

CHANNELS = 4


def _changes_every_tick(state, ids, counters, block_start):
    """The state rule as first written: every count against its threshold, from the
    channels' states before the tick (``state``, all channels)."""
    vrun, srun, trun = counters[:, 1], counters[:, 2], counters[:, 3]
    state = state[ids]
    broken = (trun == TONE_BREAK_BLOCKS) & (state == VOICE)
    state = np.where(broken, UNKNOWN, state)
    to_voice = (vrun >= VOICE_ON_BLOCKS) & (state != VOICE)
    to_silence = (srun >= SILENCE_BLOCKS) & (state != SILENCE)
    changes = [(int(ids[i]), "voice", int(max(block_start[i] - (vrun[i] - 1) * 160, 0)))
               for i in to_voice.nonzero()[0]]
    changes += [(int(ids[i]), "silence", int(max(block_start[i] - (srun[i] - 1) * 160, 0)))
                for i in to_silence.nonzero()[0]]
    state = np.where(to_voice, VOICE, np.where(to_silence, SILENCE, state))
    return changes, state


#: (kind, blocks): 0 silence, 1 voice, 2 tone, 3 voice with tone blips.
_run = st.tuples(st.integers(0, 3), st.integers(1, 40))


@settings(max_examples=50, deadline=None)
@given(scripts=st.lists(st.lists(_run, min_size=1, max_size=10), min_size=CHANNELS,
                        max_size=CHANNELS),
       resets=st.lists(st.tuples(st.integers(0, 299), st.integers(0, CHANNELS - 1)),
                       max_size=6),
       seed=st.integers(0, 2**32 - 1))
def test_state_changes_as_when_read_every_tick(scripts, resets, seed):
    rng = np.random.default_rng(seed)
    ticks = 300
    kinds = np.zeros((CHANNELS, ticks), np.int8)
    for ch, script in enumerate(scripts):
        seq = [k for k, n in script for _ in range(n)]
        kinds[ch] = np.resize(seq, ticks)
    v = Vad(CHANNELS)
    n_changes = 0
    for t in range(ticks):
        for at, ch in resets:
            if at == t:
                v.reset(ch)
        ids = np.flatnonzero(rng.random(CHANNELS) < 0.9)
        kind = kinds[ids, t]
        level = np.where(kind == 0, -65.0, -20.0 + rng.normal(0, 3, len(ids)))
        tonal = (kind == 2) | ((kind == 3) & (rng.random(len(ids)) < 0.3))
        start = np.full(len(ids), t * 160)
        state_before = v.state.copy()
        voiced, changes = v.update(ids, level.astype(np.float32), tonal, start)
        want, want_state = _changes_every_tick(state_before, ids, v.counters[ids], start)
        assert changes == want, f"tick {t}"
        np.testing.assert_array_equal(v.state[ids], want_state)
        assert len(voiced) == len(ids)
        n_changes += len(changes)
    event(f"changes: {min(n_changes, 20)}+")


assert vad_mod._MARKS.tolist() == [-1, VOICE_ON_BLOCKS, SILENCE_BLOCKS, TONE_BREAK_BLOCKS]
