"""AMD's two paths (issue 15, item 6) decide alike and leave the same state.

A tick of a few channels runs the rules one channel at a time on plain numbers
(``Amd._update_channels``), a tick of many on arrays (``Amd._update_arrays``); the
first is a rewrite of the second for speed, so each generated call here is fed to one
Amd per path and the decisions and every counter are compared after each tick. The
scripts are runs of silence, voice (loud, soft, or at exactly the thresholds' float32
edges) and steady or wandering tones, with answers (some late, with speech running),
stops and tone-detector verdicts in between, so every rule gets its turn.
"""

from __future__ import annotations

import numpy as np
from hypothesis import event, given, settings
from hypothesis import strategies as st

from trunkline.drivers.dsp.amd import _FLAG_FIELDS, _INT_FIELDS, _PEAK_FIELDS, Amd

CHANNELS = 5
BINS = 81

#: (kind, tone bin or level, blocks): kinds 0 silence, 1 voice, 2 pure tone, 3 noise.
_segment = st.tuples(st.sampled_from([0, 0, 1, 1, 1, 2, 3]), st.integers(0, BINS - 1),
                     st.integers(1, 60))


def _spectrum_row(kind: int, b: int, level: float, rng: np.random.Generator) -> np.ndarray:
    row = np.full(BINS, 1e-12)
    if kind == 2:  # a pure tone at bin b, above or below the beep level
        row[b] = 10 ** (level / 10)
        row[max(b - 1, 0)] += row[b] * 0.05
    elif kind in (1, 3):
        row = rng.random(BINS) * 10 ** (level / 10) / 40
    return row


@settings(max_examples=20, deadline=None)
@given(scripts=st.lists(st.lists(_segment, min_size=1, max_size=12),
                        min_size=CHANNELS, max_size=CHANNELS),
       controls=st.lists(st.tuples(st.integers(0, 420), st.integers(0, CHANNELS - 1),
                                   st.integers(0, 5), st.integers(0, 40)), max_size=12),
       seed=st.integers(0, 2**32 - 1), with_level=st.booleans())
def test_channel_path_equals_array_path(scripts, controls, seed, with_level):
    rng = np.random.default_rng(seed)
    n_ticks = 420
    kinds = np.zeros((CHANNELS, n_ticks), np.int8)
    bins = np.zeros((CHANNELS, n_ticks), np.int16)
    for ch, script in enumerate(scripts):
        blocks = [(kind, b) for kind, b, length in script for _ in range(length)]
        blocks = (blocks * (n_ticks // len(blocks) + 1))[:n_ticks]
        kinds[ch] = [kd for kd, _ in blocks]
        bins[ch] = [b for _, b in blocks]
    # Levels: voice near -20 dBm0 with jitter, some blocks exactly 12 and 20 dB under
    # a round peak (the float32 edges of the word and utterance thresholds).
    levels = np.where(kinds == 0, -70.0, -20.0 + rng.normal(0, 6, kinds.shape))
    edges = rng.random(kinds.shape) < 0.15
    levels = np.where(edges, rng.choice([-32.0, -40.0, -20.0, -8.0], kinds.shape), levels)
    voiced = (kinds == 1) | ((kinds == 3) & (rng.random(kinds.shape) < 0.5)) | \
        ((kinds == 2) & (rng.random(kinds.shape) < 0.7))
    arrays, channels = Amd(CHANNELS), Amd(CHANNELS)
    arrays.channels_path_max = 0
    channels.channels_path_max = 1 << 30
    for ch in range(CHANNELS):
        for amd in (arrays, channels):
            amd.start(ch, 0)
    decided = 0
    for tick in range(n_ticks):
        for at, ch, what, arg in controls:
            if at != tick:
                continue
            for amd in (arrays, channels):
                if what == 0:
                    amd.start(ch, arg)  # a late answer when arg > 0
                elif what == 1:
                    amd.stop(ch)
                elif what == 2:
                    amd.tone_heard(ch, "fax", "CED")
                elif what == 3:
                    amd.tone_heard(ch, "sit", "sit IC")
                else:
                    amd.start(ch, 0)
        ids = np.flatnonzero(rng.random(CHANNELS) < 0.9)
        spec = np.array([_spectrum_row(int(kinds[c, tick]), int(bins[c, tick]),
                                       float(levels[c, tick]), rng) for c in ids])
        spec = spec.reshape(len(ids), BINS)
        lv = levels[ids, tick] if with_level else None
        got = channels.update(ids, voiced[ids, tick], spec, lv)
        want = arrays.update(ids, voiced[ids, tick], spec, lv)
        assert got == want, f"tick {tick}"
        decided += len(got)
        for _, result, _, reason in got:
            event(f"{result}: {reason}")
        for name in _INT_FIELDS + _FLAG_FIELDS + _PEAK_FIELDS:
            np.testing.assert_array_equal(getattr(channels, name), getattr(arrays, name),
                                          err_msg=f"{name} after tick {tick}")
        assert channels.heard == arrays.heard
        for amd in (channels, arrays):  # the flag callers skip ``done`` by is never wrong
            assert amd.some_live or amd.done.all()
    event(f"decisions: {min(decided, 5)}+")


def test_thresholds_round_as_float32():
    """A level exactly at the float32 rounding of (peak - 20 dB) but under the exact
    difference is voice to numpy's float32 arithmetic: the plain path rounds alike."""
    for j in range(1, 1000):
        peak = float(np.float32(-0.001 * j))
        edge = float(np.float32(peak - 20.0))
        if edge < peak - 20.0:
            break
    else:
        raise AssertionError("no float32 peak whose threshold rounds down")
    arrays, channels = Amd(1), Amd(1)
    arrays.channels_path_max = 0
    ids = np.array([0])
    for amd in (arrays, channels):
        amd.start(0, 0)
        for level in (peak, edge, edge, edge):
            amd.update(ids, np.array([True]), None, np.array([level]))
    assert arrays.run[0] == channels.run[0] == 4


def test_no_spectrum_paths_agree():
    """Without a spectrum (no tone rules), voice alone: both paths decide alike."""
    rng = np.random.default_rng(7)
    arrays, channels = Amd(8), Amd(8)
    arrays.channels_path_max = 0
    for amd in (arrays, channels):
        for ch in range(8):
            amd.start(ch, ch % 3)
    ids = np.arange(8)
    for tick in range(400):
        voiced = rng.random(8) < (0.8 if (tick // 40) % 2 else 0.1)
        assert channels.update(ids, voiced, None) == arrays.update(ids, voiced, None)
        np.testing.assert_array_equal(channels._ints, arrays._ints)
        np.testing.assert_array_equal(channels._flags, arrays._flags)
    assert channels.done.all()


def test_phrase_rules_agree():
    """The next-phrase and medium rules, which random scripts seldom reach, scripted:
    both paths give each channel the verdict its script is written for."""
    scripts = {  # (voiced?, blocks) runs; 20 ms blocks
        "short greeting, said again": [(1, 75), (0, 40), (1, 25), (0, 80)],
        "two phrases": [(1, 110), (0, 40), (1, 25), (0, 80)],
        "medium greeting": [(1, 110), (0, 80)],
        "greeting goes on": [(1, 75), (0, 40)] + [(1, 10), (0, 3)] * 10,
    }
    want = {"short greeting, said again": "human", "two phrases": "notsure",
            "medium greeting": "notsure", "greeting goes on": "machine"}
    seqs = [[v for v, n in runs for _ in range(n)] for runs in scripts.values()]
    n_ticks = max(len(s) for s in seqs) + 100
    voiced = np.zeros((len(seqs), n_ticks), bool)
    for ch, seq in enumerate(seqs):
        voiced[ch, 5:5 + len(seq)] = seq
    got: dict[str, list] = {}
    for path_max in (0, 1 << 30):
        amd = Amd(len(seqs))
        amd.channels_path_max = path_max
        for ch in range(len(seqs)):
            amd.start(ch, 0)
        ids = np.arange(len(seqs))
        out = []
        for tick in range(n_ticks):
            out += amd.update(ids, voiced[:, tick], None,
                              np.where(voiced[:, tick], -20.0, -70.0))
        got[str(path_max)] = out
    assert got["0"] == got[str(1 << 30)]
    verdicts = {reason: result for _, result, _, reason in got["0"]}
    assert verdicts == want
