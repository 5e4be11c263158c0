"""The DFT bank against numpy's FFT, its frequency estimate and its validation."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from trunkline.drivers.dsp.goertzel import DftBank, FrameLayout, MultiBank
from trunkline.drivers.dsp.levels import DBM0_RMS, amplitude

LAYOUT = FrameLayout(length=96, hop=40, frames=4, span=216)


def test_bins_equal_the_fft_at_bin_frequencies():
    rng = np.random.default_rng(0)
    x = rng.normal(0, 1000, (7, 216))
    k = np.array([5, 9, 20, 33])
    bank = DftBank(tuple(k * 8000 / 96), LAYOUT, window="hann")
    got = bank(x.astype(np.float32))
    w = bank.window
    for j, off in enumerate(LAYOUT.offsets):
        ref = np.fft.fft(x[:, off:off + 96] * w, axis=1)[:, k]
        ref *= np.sqrt(2) / (w.sum() * DBM0_RMS)
        np.testing.assert_allclose(got[:, j], ref, rtol=2e-4, atol=2e-6)


def test_power_is_dbm0_and_frequency_estimate_is_sub_hertz():
    bank = DftBank((1000.0,), LAYOUT)
    for level, delta in ((-10.0, 0.0), (-30.0, 17.3), (0.0, -41.0)):
        n = np.arange(216)
        x = amplitude(level) * np.sin(2 * np.pi * (1000 + delta) * n / 8000 + 0.3)
        b = bank(x[None].astype(np.float32))[0, :, 0]
        z = b[1:] * np.conj(b[:-1]) * bank.rotation[0]
        est = bank.offset_hz(z)
        np.testing.assert_allclose(est, delta, atol=0.2)
        power = np.abs(b) ** 2 / bank.response(np.full(4, delta))
        np.testing.assert_allclose(10 * np.log10(power), level, atol=0.1)


def test_closed_form_response_matches_the_exact_transform():
    for window in ("hann", "rect"):
        bank = DftBank((1000.0,), FrameLayout(96, 40, 4, 216), window=window)
        d = np.linspace(-60, 60, 61)
        np.testing.assert_allclose(bank.response(d), bank.response_exact(d), rtol=2e-3)


def test_multibank_is_the_sum_of_its_banks():
    rng = np.random.default_rng(1)
    x = rng.normal(0, 500, (3, 216)).astype(np.float32)
    a = DftBank((697.0, 1209.0), LAYOUT)
    b = DftBank((450.0,), FrameLayout(160, 160, 1, 216), window="rect")
    (ba, bb), (_ea, eb) = MultiBank([a, b])(x)
    np.testing.assert_allclose(ba, a(x), rtol=1e-5)
    np.testing.assert_allclose(bb, b(x), rtol=1e-5)
    np.testing.assert_allclose(eb[:, 0], (x[:, 56:] ** 2).mean(axis=1) / DBM0_RMS**2, rtol=1e-4)


@settings(max_examples=40, deadline=None)
@given(k=st.integers(1, 40), n_a=st.integers(1, 6), n_b=st.integers(1, 3),
       seed=st.integers(0, 2**32 - 1))
def test_multibank_views_are_each_banks_unpack(k, n_a, n_b, seed):
    """MultiBank slices one complex view of its product (issue 15 item 6): the same
    numbers, bit for bit, as each bank's own unpack of its columns of the product."""
    rng = np.random.default_rng(seed)
    x = rng.normal(0, 500, (k, 216)).astype(np.float32)
    a = DftBank(tuple(rng.uniform(100, 3900, n_a)), LAYOUT)
    b = DftBank(tuple(rng.uniform(100, 3900, n_b)), FrameLayout(160, 160, 1, 216),
                window="rect")
    multi = MultiBank([a, b])
    (ba, bb), (ea, eb) = multi(x)
    product = x @ multi.matrix
    np.testing.assert_array_equal(ba, a.unpack(product[:, :a.width]))
    np.testing.assert_array_equal(bb, b.unpack(product[:, a.width:]))
    assert ba.shape == (k, 4, n_a) and bb.shape == (k, 1, n_b)
    energy = (x * x) @ multi.energy_matrix
    np.testing.assert_array_equal(ea, energy[:, :4])
    np.testing.assert_array_equal(eb, energy[:, 4:])


def test_validation_names_the_value():
    with pytest.raises(ValueError, match="freqs="):
        DftBank((5000.0,), LAYOUT)
    with pytest.raises(ValueError, match="window="):
        DftBank((1000.0,), LAYOUT, window="kaiser")
    with pytest.raises(ValueError, match="longer span"):
        FrameLayout(200, 40, 4, 216)
    with pytest.raises(ValueError, match=r"input shape \(2, 100\)"):
        DftBank((1000.0,), LAYOUT)(np.zeros((2, 100), np.float32))
