"""Seeded random durations for the simulator, drawn from numpy in blocks.

Drawing one scalar at a time from a :class:`numpy.random.Generator` costs about a
microsecond; the simulator draws millions, so :class:`Stream` draws blocks of 64k and hands
them out one by one. Every draw comes from the one seeded generator, so a run is
reproducible from its seed.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

_BLOCK = 65_536


class Stream:
    """Uniform and standard-normal variates from one seeded generator."""

    __slots__ = ("_normals", "_rng", "_uniforms")

    def __init__(self, seed: int | np.random.Generator) -> None:
        self._rng = seed if isinstance(seed, np.random.Generator) \
            else np.random.default_rng(seed)
        self._uniforms: list[float] = []
        self._normals: list[float] = []

    def uniform(self) -> float:
        if not self._uniforms:
            self._uniforms = self._rng.random(_BLOCK).tolist()
        return self._uniforms.pop()

    def normal(self) -> float:
        if not self._normals:
            self._normals = self._rng.standard_normal(_BLOCK).tolist()
        return self._normals.pop()


@dataclass(frozen=True, slots=True)
class Dist:
    """A duration: ``fixed`` a, ``uniform`` on [a, b], ``exponential`` with mean a, or
    ``lognormal`` with mean a and log-sigma b."""

    kind: str
    a: float
    b: float = 0.0

    def __post_init__(self) -> None:
        if self.kind not in ("fixed", "uniform", "exponential", "lognormal"):
            raise ValueError(f"unknown distribution kind {self.kind!r}")
        if self.a < 0 or self.b < 0:
            raise ValueError(f"{self.kind} distribution needs parameters >= 0: "
                             f"a={self.a}, b={self.b}")
        if self.kind == "uniform" and self.b < self.a:
            raise ValueError(f"uniform range is backwards: [{self.a}, {self.b}]")

    @classmethod
    def of(cls, value: float | tuple[float, float] | list[float]) -> Dist:
        """A number is fixed; a ``[low, high]`` pair is uniform."""
        if isinstance(value, list | tuple):
            low, high = value
            return cls("uniform", float(low), float(high))
        return cls("fixed", float(value))

    @property
    def mean(self) -> float:
        if self.kind == "uniform":
            return (self.a + self.b) / 2
        return self.a

    def sample(self, stream: Stream) -> float:
        kind = self.kind
        if kind == "fixed":
            return self.a
        if kind == "uniform":
            return self.a + (self.b - self.a) * stream.uniform()
        if kind == "exponential":
            return -self.a * math.log(1.0 - stream.uniform())
        mu = math.log(self.a) - self.b * self.b / 2  # mean a
        return math.exp(mu + self.b * stream.normal())
