"""Clocks: the only place trunkline reads time.

Everything above the backend takes time from the clock it is given (DESIGN.md, principle
3). Production uses :class:`RealClock`; tests and simulations use :class:`VirtualClock`,
whose ``sleep_until`` returns at once after moving time forward, so ten minutes of
telephony run in the time the computation takes.
"""

from __future__ import annotations

import time
from typing import Protocol, runtime_checkable


@runtime_checkable
class Clock(Protocol):
    """A monotonic source of seconds that can also wait."""

    def now(self) -> float:
        """Seconds since an arbitrary, fixed origin; never decreases."""
        ...

    def sleep_until(self, deadline: float) -> None:
        """Return once ``now() >= deadline`` (at once if already past)."""
        ...


class RealClock:
    """Wall-clock time from :func:`time.monotonic`."""

    def now(self) -> float:
        return time.monotonic()

    def sleep_until(self, deadline: float) -> None:
        delay = deadline - time.monotonic()
        if delay > 0:
            time.sleep(delay)


class VirtualClock:
    """Time that moves only when told to.

    ``sleep_until`` jumps straight to the deadline, so a loop paced by this clock runs as
    fast as the CPU allows while every timestamp it sees is what real time would give.
    """

    def __init__(self, start: float = 0.0) -> None:
        self._now = float(start)

    def now(self) -> float:
        return self._now

    def sleep_until(self, deadline: float) -> None:
        if deadline > self._now:
            self._now = float(deadline)

    def advance(self, seconds: float) -> None:
        """Move time forward by ``seconds`` (which must not be negative)."""
        if seconds < 0:
            raise ValueError(f"cannot move a clock backwards: {seconds=}")
        self._now += seconds


class ScaledClock:
    """Real time run ``speed`` times faster: paced like the real clock, but quicker.

    For the emulated card only (a real board keeps its own time): it lets a service
    and its clients be tested end to end, over real sockets, in a fraction of the time
    the telephony takes.
    """

    def __init__(self, speed: float = 1.0) -> None:
        if not speed > 0:
            raise ValueError(f"a clock's speed must be > 0: {speed=}")
        self.speed = float(speed)
        self._origin = time.monotonic()

    def now(self) -> float:
        return (time.monotonic() - self._origin) * self.speed

    def sleep_until(self, deadline: float) -> None:
        delay = (deadline - self.now()) / self.speed
        if delay > 0:
            time.sleep(delay)
