"""Abandon accounting on the regime's real window, the hard cap, and redial lockouts.

Regimes (dialer-anchors.md, section 3):

- ``us``: abandoned / live answers, per campaign, per successive 30-day period from the
  campaign's start (16 CFR 310.4(b)(4)(i); 47 CFR 64.1200(a)(7)(i)), cap 3 %.
- ``uk``: (abandoned + estimated AMD false positives) / (live calls + the same estimate),
  per campaign per calendar day, midnight to midnight (Ofcom 2016 statement), cap 3 %.
  No redial within 72 h of an abandoned call; after an answering machine, not again the
  same day unless an agent is guaranteed.
- ``cn`` and ``none``: no numeric cap; the operator's target is held by the pacing
  controller, measured per calendar day.

The hard cap is a worst-case argument, not a forecast: the engine may have ``u`` calls
in flight that no ready agent is certain to take only while, if every one of them were
answered live and abandoned, the window's rate would still be within the cap:
``A + W + u <= cap * (L + u)``, where A and L are the window's abandons and live answers
so far and W the live answers already waiting for an agent. Calls placed close to the end
of a window are counted against the next window, which starts empty. Hence no abandon ever
takes a window's rate so far over the cap, whatever the pacer predicts.
"""

from __future__ import annotations

import heapq
import math
from dataclasses import dataclass, field

from trunkline.dialer.vocab import Regime

DAY = 86_400.0
US_PERIOD = 30 * DAY
UK_REDIAL_AFTER_ABANDON = 72 * 3_600.0


def window_index(regime: Regime, t: float, *, start: float = 0.0, day_offset: float = 0.0) -> int:
    """The index of the measurement window holding time ``t`` under ``regime``."""
    if regime is Regime.US:
        return math.floor((t - start) / US_PERIOD)
    return math.floor((t + day_offset) / DAY)


def next_midnight(t: float, day_offset: float = 0.0) -> float:
    return (math.floor((t + day_offset) / DAY) + 1) * DAY - day_offset


@dataclass(slots=True)
class AbandonLedger:
    """Live answers and abandons of one campaign in its current window.

    Counts are floats because the UK estimate of AMD false positives is fractional (as in
    VICIdial's ``ofcom_uk_drop_calc``).
    """

    regime: Regime
    cap: float | None
    amd_false_positive_rate: float = 0.0
    start: float = 0.0
    day_offset: float = 0.0
    window: int | None = None
    live: float = 0.0
    abandoned: float = 0.0
    total_live: float = 0.0
    total_abandoned: float = 0.0

    def __post_init__(self) -> None:
        # a member, not a look-alike string: the windows are chosen by ``regime is Regime.US``
        self.regime = Regime(self.regime)

    def _roll(self, t: float) -> None:
        w = window_index(self.regime, t, start=self.start, day_offset=self.day_offset)
        if w != self.window:
            self.window, self.live, self.abandoned = w, 0.0, 0.0

    def record_live(self, t: float) -> None:
        self._roll(t)
        self.live += 1.0
        self.total_live += 1.0

    def record_abandon(self, answered_at: float) -> None:
        """Count an abandon in the window of the answer it belongs to."""
        if window_index(self.regime, answered_at, start=self.start,
                        day_offset=self.day_offset) != self.window:
            return  # its window already closed with the answer counted as connected: rare
        self.abandoned += 1.0
        self.total_abandoned += 1.0

    def record_machine(self, t: float) -> None:
        """UK: each machine detection adds its estimated false-positive share to both sides."""
        if self.regime is not Regime.UK or self.amd_false_positive_rate <= 0:
            return
        self._roll(t)
        f = self.amd_false_positive_rate
        self.live += f
        self.abandoned += f
        self.total_live += f
        self.total_abandoned += f

    def rate(self, t: float) -> float:
        """The window's rate so far at ``t`` (0 when nothing was answered yet)."""
        self._roll(t)
        return self.abandoned / self.live if self.live else 0.0

    def max_in_flight(self, now: float, *, ready: int, waiting: int,
                      horizon: float) -> int | None:
        """The most unresolved dials (no agent reserved) the cap allows at ``now``.

        None when the regime has no cap. ``K = ready - waiting`` dials are certain to find
        an agent; each dial beyond K might be answered live and abandoned, so at most
        ``(cap * L - A - W) / (1 - cap)`` of them are allowed. ``horizon`` is the longest
        a call placed now can take to be answered and abandoned; if that crosses into the
        next window, the next window's counts (zero) apply.

        UK: the estimated AMD false positives are already inside A and L. Machines are a
        property of the list, not of pacing (a dial with an agent waiting meets them too),
        so they are counted as they come rather than worst-cased; a share that leaves no
        slack stops all dialing beyond K until live answers restore it.
        """
        if self.cap is None:
            return None
        self._roll(now)
        covered = max(ready - waiting, 0)
        if window_index(self.regime, now + horizon, start=self.start,
                        day_offset=self.day_offset) != self.window:
            return covered
        slack = (self.cap * self.live - self.abandoned - waiting) / (1.0 - self.cap)
        return covered + max(math.floor(slack + 1e-9), 0)


@dataclass(slots=True)
class Lockouts:
    """Numbers that may not be dialed again before a time (UK redial rules).

    ``guarded`` locks (a machine today) may be lifted by dialing with an agent reserved.
    Pruned in time order, so memory holds only locks still in force.
    """

    _until: dict[str, tuple[float, bool]] = field(default_factory=dict)
    _heap: list[tuple[float, str]] = field(default_factory=list)

    def lock(self, number: str, until: float, *, guarded: bool = False) -> None:
        old = self._until.get(number)
        if old is not None:  # the stricter of the two: the later time, unguarded if either is
            until, guarded = max(old[0], until), old[1] and guarded
        self._until[number] = (until, guarded)
        heapq.heappush(self._heap, (until, number))

    def check(self, number: str, now: float) -> tuple[float, bool] | None:
        """``(until, guarded)`` if ``number`` is locked at ``now``, else None."""
        while self._heap and self._heap[0][0] <= now:
            _, num = heapq.heappop(self._heap)
            entry = self._until.get(num)
            if entry is not None and entry[0] <= now:
                del self._until[num]
        entry = self._until.get(number)
        return entry if entry is not None and entry[0] > now else None

    def __len__(self) -> int:
        return len(self._until)
