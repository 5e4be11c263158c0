"""dtmf._gather is take_along_axis on the last axis (it replaced it on the tick's path)."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from trunkline.drivers.dsp.dtmf import _gather


@settings(max_examples=60, deadline=None)
@given(st.integers(0, 9), st.integers(1, 5), st.integers(1, 13), st.integers(0, 3),
       st.booleans(), st.integers(0, 2**31 - 1))
def test_gather_equals_take_along_axis(k, frames, width, skip, complex_, seed):
    rng = np.random.default_rng(seed)
    full = rng.normal(size=(k, frames, width + skip)).astype(np.float32)
    if complex_:
        full = full + 1j * rng.normal(size=full.shape).astype(np.float32)
    a = full[..., skip:]  # a slice of the last axis, as the detector passes them
    idx = rng.integers(0, width, size=(k, frames))
    expected = np.take_along_axis(a, idx[..., None], axis=-1)[..., 0]
    got = _gather(a, idx)
    assert got.shape == expected.shape and got.dtype == expected.dtype
    assert np.array_equal(got, expected)
