"""How often list cleaning may start a call on one trunk (sans-IO, time passed in).

Ring-and-release traffic (many calls cut before the answer) is what carriers' fraud and
nuisance filters look for: a burst of short calls on one trunk gets the trunk's calls
flagged or the CLI blocked. So cleaning keeps, per trunk (the channel group it dials,
or a span given its own group), at most ``per_minute`` call attempts in any 60 s and at
least ``min_gap`` seconds between two of them, on top of the run's overall ``rate``.
Only calls the gateway placed count: a Dial refused for want of a free channel never
reached the carrier.
"""

from __future__ import annotations

import math
from collections import deque

WINDOW = 60.0


class TrunkLimiter:
    """Attempts per trunk in a sliding minute, and the gap between two of them."""

    def __init__(self, *, per_minute: int | None, min_gap: float) -> None:
        if per_minute is not None and (isinstance(per_minute, bool)
                                       or not isinstance(per_minute, int) or per_minute < 1):
            raise ValueError(f"per_minute must be a whole number >= 1 or None, "
                             f"got {per_minute!r}")
        if isinstance(min_gap, bool) or not isinstance(min_gap, int | float) \
                or not math.isfinite(min_gap) or min_gap < 0:
            raise ValueError(f"min_gap must be a finite number >= 0, got {min_gap!r}")
        self.per_minute = per_minute
        self.min_gap = float(min_gap)
        self._placed: dict[str, deque[float]] = {}

    def next_allowed(self, trunk: str, now: float) -> float:
        """The earliest time (>= ``now``) a new attempt may start on ``trunk``."""
        times = self._placed.get(trunk)
        if not times:
            return now
        while times and times[0] + WINDOW <= now:
            times.popleft()  # out of the sliding minute (an attempt at t counts until t+60)
        earliest = now
        if times:
            earliest = max(earliest, times[-1] + self.min_gap)
            if self.per_minute is not None and len(times) >= self.per_minute:
                # the oldest attempt that must leave the window before one more fits
                earliest = max(earliest, times[len(times) - self.per_minute] + WINDOW)
        return earliest

    def record(self, trunk: str, now: float) -> None:
        """An attempt started on ``trunk`` at ``now`` (the gateway placed it)."""
        times = self._placed.setdefault(trunk, deque())
        times.append(now)
        keep = max(self.per_minute or 0, 1)
        while len(times) > keep and times[0] + WINDOW <= now:
            times.popleft()

    def attempts_in_window(self, trunk: str, now: float) -> int:
        """Attempts on ``trunk`` in the 60 s up to ``now`` (what the tests read)."""
        return sum(1 for t in self._placed.get(trunk, ()) if t + WINDOW > now)
