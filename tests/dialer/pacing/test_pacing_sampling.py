"""Seeded durations for the simulator: validated, reproducible, with the means they say."""

from __future__ import annotations

import statistics

import pytest

from trunkline.dialer.pacing.sampling import Dist, Stream


@pytest.mark.parametrize(("dist", "mean"), [
    (Dist("fixed", 4.0), 4.0), (Dist("uniform", 2.0, 6.0), 4.0),
    (Dist("exponential", 4.0), 4.0), (Dist("lognormal", 4.0, 0.5), 4.0),
])
def test_each_kind_has_the_mean_it_says(dist: Dist, mean: float) -> None:
    assert dist.sample(Stream(7)) == dist.sample(Stream(7))   # the seed decides
    stream = Stream(7)
    values = [dist.sample(stream) for _ in range(50_000)]
    assert dist.mean == mean
    assert statistics.fmean(values) == pytest.approx(mean, rel=0.02)
    assert min(values) >= 0.0


def test_a_seed_gives_the_same_draws() -> None:
    one, two = Stream(3), Stream(3)
    assert [one.uniform() for _ in range(5)] == [two.uniform() for _ in range(5)]
    assert [one.normal() for _ in range(5)] == [two.normal() for _ in range(5)]
    assert Stream(4).uniform() != Stream(3).uniform()


def test_numbers_and_pairs_and_bad_parameters() -> None:
    assert Dist.of(3) == Dist("fixed", 3.0)
    assert Dist.of([1, 5]) == Dist("uniform", 1.0, 5.0)
    with pytest.raises(ValueError, match="unknown distribution kind 'gamma'"):
        Dist("gamma", 1.0)
    with pytest.raises(ValueError, match="needs parameters >= 0"):
        Dist("exponential", -1.0)
    with pytest.raises(ValueError, match=r"uniform range is backwards: \[5.0, 1.0\]"):
        Dist("uniform", 5.0, 1.0)
