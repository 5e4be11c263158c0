"""What a campaign learns as it runs: answer probability and the time distributions.

Each distribution is a histogram with exponential forgetting, so the model follows a list
that changes during the day (morning answer rates differ from evening ones) without
keeping every sample. Adding a sample is O(1): instead of decaying every bin, each new
sample weighs a little more than the last, and the weights are rescaled once they grow
large. Queries rebuild the cumulative sums lazily, at most once per pacing decision.

Priors are a few pseudo-samples, so a new campaign paces sensibly from its first call and
the data take over within a few dozen calls.
"""

from __future__ import annotations

import math

import numpy as np


class DecayingHistogram:
    """A distribution of durations on fixed bins, forgetting old samples.

    ``half_life`` is in samples. Durations beyond the last edge are kept in a tail bin whose
    mean is tracked, so conditional probabilities in the tail stay sensible.
    """

    __slots__ = (
        "_cdf",
        "_decay",
        "_dirty",
        "_edges",
        "_inc",
        "_inv_width",
        "_n",
        "_sum",
        "_total",
        "_w",
    )

    def __init__(self, upper: float, width: float, half_life: float) -> None:
        if upper <= 0 or width <= 0 or half_life <= 0:
            raise ValueError(f"bad histogram: {upper=} {width=} {half_life=}")
        self._n = math.ceil(upper / width)
        self._edges = np.arange(self._n + 1, dtype=float) * width
        self._inv_width = 1.0 / width
        self._w = np.zeros(self._n + 1)  # last bin: tail beyond upper
        self._decay = 0.5 ** (-1.0 / half_life)  # growth of the increment per sample
        self._inc = 1.0
        self._total = 0.0
        self._sum = 0.0
        self._dirty = True
        self._cdf = np.zeros(self._n + 1)

    def add(self, x: float, weight: float = 1.0) -> None:
        i = int(x * self._inv_width) if x > 0 else 0
        w = self._inc * weight
        self._w[i if i < self._n else self._n] += w
        self._total += w
        self._sum += w * x
        self._inc *= self._decay
        if self._inc > 1e9:
            scale = 1.0 / self._inc
            self._w *= scale
            self._total *= scale
            self._sum *= scale
            self._inc = 1.0
        self._dirty = True

    @property
    def mean(self) -> float:
        return self._sum / self._total if self._total else 0.0

    def _refresh(self) -> np.ndarray:
        if self._dirty:
            # cdf[k] = P(X <= edges[k]); samples are spread uniformly inside their bin
            c = np.cumsum(self._w[: self._n]) / max(self._total, 1e-300)
            self._cdf = np.concatenate(([0.0], c))
            self._dirty = False
        return self._cdf

    def cdf(self, x: np.ndarray | float) -> np.ndarray:
        """P(X <= x), linear inside bins."""
        return np.interp(x, self._edges, self._refresh())

    def quantiles(self, qs: np.ndarray) -> np.ndarray:
        cdf = self._refresh()
        top = cdf[-1]
        if top <= 0:
            return np.full(len(qs), self.mean)
        # the tail bin holds whatever mass is above the last edge
        return np.interp(np.minimum(qs, top), cdf, self._edges)

    def finished_within(self, elapsed: np.ndarray, horizon: np.ndarray | float) -> np.ndarray:
        """P(X <= elapsed + horizon | X > elapsed), element-wise.

        Where almost no mass is left above ``elapsed`` (the tail), fall back to an
        exponential remainder with the distribution's mean: long calls still end.
        """
        f0 = self.cdf(elapsed)
        f1 = self.cdf(elapsed + horizon)
        survive = 1.0 - f0
        tail = survive < 1e-3
        out = np.where(tail, 0.0, (f1 - f0) / np.where(tail, 1.0, survive))
        if tail.any():
            mean = max(self.mean, 1.0)
            out = np.where(tail, 1.0 - np.exp(-np.maximum(horizon, 0.0) / mean), out)
        return np.clip(out, 0.0, 1.0)


class CampaignModel:
    """The learned behaviour of one campaign's list and agents.

    - ``answer``: the share of resolved dials answered by a live person;
    - ``ring``: seconds from dial to a live answer;
    - ``other``: seconds from dial to any other resolution (machine, busy, no answer);
    - ``talk`` and ``wrap``: agent talk and wrap-up durations.
    """

    def __init__(self, *, prior_answer: float = 0.25, prior_talk: float = 120.0,
                 prior_wrap: float = 10.0, ring_timeout: float = 26.0) -> None:
        upper = max(ring_timeout, 30.0) + 4.0
        self.ring = DecayingHistogram(upper, 0.25, half_life=2_000)
        self.other = DecayingHistogram(upper, 0.5, half_life=4_000)
        self.talk = DecayingHistogram(1_800.0, 2.0, half_life=2_000)
        self.wrap = DecayingHistogram(600.0, 0.5, half_life=1_000)
        self._answered = 0.0
        self._resolved = 0.0
        self._decay = 0.5 ** (1.0 / 3_000)
        # priors: a handful of pseudo-samples each
        for x in np.linspace(3.0, 20.0, 8):
            self.ring.add(float(x), 0.5)
        for x in np.linspace(3.0, ring_timeout, 8):
            self.other.add(float(x), 0.5)
        for q in np.linspace(0.05, 0.95, 10):
            self.talk.add(float(-prior_talk * math.log(1 - q)), 0.5)
        self.wrap.add(prior_wrap, 2.0)
        self._answered = prior_answer * 10.0
        self._resolved = 10.0

    def resolved(self, seconds: float, *, live: bool) -> None:
        """A dial resolved after ``seconds``: answered live, or anything else."""
        self._answered = self._answered * self._decay + (1.0 if live else 0.0)
        self._resolved = self._resolved * self._decay + 1.0
        (self.ring if live else self.other).add(seconds)

    @property
    def answer_probability(self) -> float:
        return self._answered / self._resolved

    def live_within(self, elapsed: np.ndarray, horizon: np.ndarray) -> np.ndarray:
        """P(a pending dial is answered live in (elapsed, elapsed+horizon] | still pending).

        ``elapsed`` has shape (n, 1), ``horizon`` shape (k,): the result is (n, k).
        """
        p = self.answer_probability
        r0 = self.ring.cdf(elapsed)
        r1 = self.ring.cdf(elapsed + horizon)
        pending = p * (1.0 - r0) + (1.0 - p) * (1.0 - self.other.cdf(elapsed))
        return np.clip(p * (r1 - r0) / np.maximum(pending, 1e-9), 0.0, 1.0)
