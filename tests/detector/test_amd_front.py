"""What Amd.update hands its rule paths (issue 15, item 6): the live channels only, and
each block's strongest bin and purity, computed with fewer numpy calls than the
straightforward form (a flat gather of three-bin sums instead of three gathers; no
filtering when every channel given is live). Compared here against that form, written
out, on generated spectra with ties, edge bins, float32 and float64 rows and channels
already decided in between.
"""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from trunkline.drivers.dsp.amd import BEEP_MIN_DBM0, BEEP_PURITY, Amd

BINS = 81


def _reference(done: np.ndarray, ids: np.ndarray, voiced: np.ndarray,
               spectrum: np.ndarray, level_db: np.ndarray) -> tuple[np.ndarray, ...]:
    """The front as first written: filter by liveness, then three gathers."""
    live = ~done[ids]
    spec = spectrum[live]
    k = np.minimum(np.maximum(np.argmax(spec, axis=1), 1), spec.shape[1] - 2)
    rows = np.arange(int(np.count_nonzero(live)))
    peak = spec[rows, k - 1] + spec[rows, k] + spec[rows, k + 1]
    total = np.add.reduce(spec, axis=1)
    blevel = 10 * np.log10(np.maximum(total, 1e-30))
    pure = (peak >= BEEP_PURITY * total) & (blevel >= BEEP_MIN_DBM0)
    return ids[live], voiced[live], level_db[live].astype(np.float32), k, pure


_row = st.tuples(st.sampled_from(["noise", "tone", "edge", "tie", "silent"]),
                 st.integers(0, BINS - 1), st.floats(-80, 0), st.booleans())


@settings(max_examples=60, deadline=None)
@given(rows=st.lists(_row, min_size=1, max_size=12), done=st.lists(st.booleans(), min_size=12,
                                                                    max_size=12),
       f32=st.booleans(), seed=st.integers(0, 2**32 - 1))
def test_update_hands_the_rules_what_the_plain_form_computes(rows, done, f32, seed):
    rng = np.random.default_rng(seed)
    spectrum = np.full((len(rows), BINS), 1e-12)
    for i, (kind, b, level, _) in enumerate(rows):
        power = 10 ** (level / 10)
        if kind == "noise":
            spectrum[i] = rng.random(BINS) * power / 40
        elif kind == "tone":
            spectrum[i, b] = power
            spectrum[i, max(b - 1, 0)] += power * rng.random() * 0.3
        elif kind == "edge":  # the strongest bin at either end: k is clipped
            spectrum[i, 0 if b % 2 else BINS - 1] = power
        elif kind == "tie":  # two equal maxima: argmax takes the first
            spectrum[i, b] = spectrum[i, (b + 7) % BINS] = power
    if f32:
        spectrum = spectrum.astype(np.float32)
    ids = np.arange(len(rows))
    voiced = np.array([v for *_, v in rows])
    level_db = np.array([lv for _, _, lv, _ in rows], np.float32)
    amd = Amd(len(rows))
    for ch in ids:
        amd.start(int(ch))
        if done[ch]:
            amd.stop(int(ch))
    want = _reference(amd.done.copy(), ids, voiced, spectrum, level_db)
    seen: list[tuple[np.ndarray, ...]] = []

    def capture(ids, voiced, level, k, pure):
        seen.append((ids, voiced, level, k, pure))
        return []

    amd._update_channels = capture  # type: ignore[method-assign]
    amd._update_arrays = capture  # type: ignore[method-assign]
    amd.update(ids, voiced, spectrum, level_db)
    if not want[0].size:
        assert seen == []
        return
    (got,) = seen
    for a, b in zip(got, want, strict=True):
        np.testing.assert_array_equal(a, b)
        assert a.dtype == b.dtype
