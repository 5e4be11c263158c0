"""The cadence block labels' shorter forms (issue 15, item 6) give the general form's
labels and tone levels bit for bit: a zone whose tone sets are one tone each skips the
product with its incidence matrix (the identity), and the quiet test is one comparison
with the larger of the two levels. Generated here with energies exactly at the quiet
level and at the level under the last tone, float32 and float64 tone levels, and NaN.
"""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from trunkline.drivers.dsp.detector import OFF_BELOW_TONE
from trunkline.drivers.dsp.progress import OTHER, QUIET, QUIET_LEVEL, ZoneToneModel
from trunkline.drivers.dsp.zones import load_zone


def _general(model: ZoneToneModel, power, energy, tone_ref, off):
    """label_blocks_after_tone as first written: the product, then two comparisons."""
    if model._n_ignored:
        energy_q = np.maximum(energy - np.maximum.reduce(power[:, -model._n_ignored:], axis=1),
                              0.0)
        power = power[:, :-model._n_ignored]
    else:
        energy_q = energy
    share = (power @ model._incidence) / np.maximum(energy_q, 1e-12)[:, None]
    score = np.minimum(share, 1.0) - model._penalty
    best = score.argmax(axis=1)
    best_share = share[np.arange(len(share)), best]
    on = (best_share >= 0.60) & (energy_q >= 10 ** (-42 / 10))
    ref = np.where(on, energy, tone_ref)
    quiet = np.where((energy_q < QUIET_LEVEL) | (energy < ref * off), QUIET, OTHER)
    return np.where(on, best, quiet).astype(np.int16), ref


@settings(max_examples=80, deadline=None)
@given(zone=st.sampled_from(["cn", "de", "jp", "us", "uk"]), k=st.integers(1, 12),
       seed=st.integers(0, 2**32 - 1), ref64=st.booleans(), nan=st.booleans())
def test_shorter_forms_label_as_the_general_form(zone, k, seed, ref64, nan):
    rng = np.random.default_rng(seed)
    model = ZoneToneModel(load_zone(zone))
    level = 10 ** rng.uniform(-8, 0, k)
    energy = (level * rng.uniform(0.5, 3, k)).astype(np.float32)
    share = rng.dirichlet(np.ones(len(model.freqs) + 1), k)[:, :-1] * rng.uniform(0, 1.2, (k, 1))
    power = (share * energy[:, None]).astype(np.float32)
    tone_ref = (energy * 10 ** rng.uniform(-1, 3, k)).astype(np.float32)
    tone_ref[rng.uniform(size=k) < 0.3] = 0.0
    # The edges: energy exactly at the quiet level (as float32) and at the tone rule's.
    edge = rng.uniform(size=k)
    energy[edge < 0.2] = np.float32(QUIET_LEVEL)
    at_rule = (edge >= 0.2) & (edge < 0.4)
    energy[at_rule] = (tone_ref[at_rule] * np.float32(OFF_BELOW_TONE)).astype(np.float32)
    if ref64:
        tone_ref = tone_ref.astype(np.float64)
    if nan:
        tone_ref[0] = np.nan
    want = _general(model, power, energy, tone_ref.copy(), OFF_BELOW_TONE)
    for one_tone in ({model._one_tone_sets, False}):
        model._one_tone_sets = one_tone
        got = model.label_blocks_after_tone(power, energy, tone_ref.copy(), OFF_BELOW_TONE)
        assert np.array_equal(got[0], want[0]) and got[0].dtype == np.int16
        np.testing.assert_array_equal(got[1], want[1])
        assert got[1].dtype == want[1].dtype


def test_one_tone_sets_are_recognised():
    assert ZoneToneModel(load_zone("cn"))._one_tone_sets
    assert not ZoneToneModel(load_zone("us"))._one_tone_sets
