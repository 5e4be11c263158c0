"""The campaign model learns what it sees, and the pacer explains its decisions."""

from __future__ import annotations

import logging

import numpy as np
import pytest
import structlog
from dialer_testkit import Driver

from trunkline.dialer.pacing.campaign import CampaignConfig
from trunkline.dialer.pacing.learning import CampaignModel, DecayingHistogram
from trunkline.dialer.pacing.sampling import Dist, Stream


def test_histogram_matches_a_known_distribution():
    h = DecayingHistogram(60.0, 0.25, half_life=1e9)
    rng = np.random.default_rng(3)
    for x in rng.uniform(4.0, 16.0, 20_000):
        h.add(float(x))
    assert h.cdf(10.0) == pytest.approx(0.5, abs=0.02)
    assert h.mean == pytest.approx(10.0, abs=0.1)
    # 4 s into a U(4, 16) wait, half of what is left is over by 10 s
    assert h.finished_within(np.array([4.0]), 6.0)[0] == pytest.approx(0.5, abs=0.02)
    # memoryless tail fallback beyond the data
    assert 0 < h.finished_within(np.array([100.0]), 10.0)[0] < 1


def test_histogram_forgets_old_samples():
    h = DecayingHistogram(100.0, 1.0, half_life=100)
    for _ in range(2000):
        h.add(10.0)
    for _ in range(1000):
        h.add(50.0)
    assert h.cdf(20.0) < 0.01


def test_model_learns_answer_probability_and_times():
    m = CampaignModel()
    s = Stream(7)
    ring = Dist("uniform", 5.0, 9.0)
    for _ in range(5000):
        live = s.uniform() < 0.4
        m.resolved(ring.sample(s) if live else 26.0, live=live)
    assert m.answer_probability == pytest.approx(0.4, abs=0.03)
    assert m.ring.quantiles(np.array([0.5]))[0] == pytest.approx(7.0, abs=0.3)
    # a call ringing for 20 s is now very unlikely to be answered live
    assert m.live_within(np.array([[20.0]]), np.array([5.0]))[0, 0] < 0.02


def test_every_pacing_decision_that_dials_is_explained():
    cap = structlog.testing.CapturingLogger()
    log = structlog.wrap_logger(
        cap, processors=[], wrapper_class=structlog.make_filtering_bound_logger(logging.DEBUG))
    from trunkline.dialer.pacing.contacts import SyntheticContacts

    d = Driver(CampaignConfig("c", mode="predictive"), queue=SyntheticContacts(), log=log)
    for i in range(5):
        d.login(f"a{i}", ("c", "standard"))
    d.tick(0.0)
    lines = [c for c in cap.calls if c.kwargs.get("event") == "pace"]
    assert lines
    fields = lines[0].kwargs
    for key in ("dials", "why", "ready", "in_flight", "alpha", "answer_p", "room",
                "window_rate"):
        assert key in fields
    assert fields["campaign"] == "c"
