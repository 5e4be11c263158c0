"""The login limiter: failed logins counted per user name and per client address in a
sliding window, sans-IO (the caller passes ``now``).

A login is refused without checking the password while the user name has had
``per_user`` failures, or the address ``per_address`` failures, in the last ``window``
seconds; :meth:`LoginLimiter.retry_after` says for how long. A success clears the user
name's failures (not the address's: one good password must not unlock guessing at other
names from that address). OWASP's Authentication Cheat Sheet recommends such
per-account and per-source throttling over permanent lockouts, which let anyone lock an
agent out for good by guessing at its name.

Memory is bounded: at most ``max_keys`` names and addresses are tracked; the ones not
seen for longest are forgotten first.
"""

from __future__ import annotations

from collections import OrderedDict, deque
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Limits:
    """How many failures per ``window`` seconds a user name and an address may have."""

    per_user: int = 5
    per_address: int = 20
    window: float = 300.0
    max_keys: int = 10_000

    def __post_init__(self) -> None:
        if self.per_user < 1 or self.per_address < 1:
            raise ValueError(f"limits must be >= 1: {self.per_user=}, {self.per_address=}")
        if self.window <= 0:
            raise ValueError(f"the window must be > 0: {self.window=}")
        if self.max_keys < 1:
            raise ValueError(f"{self.max_keys=} must be >= 1")


class LoginLimiter:
    """See the module docstring. Not thread-safe: one lock around it in the service."""

    def __init__(self, limits: Limits | None = None) -> None:
        self.limits = limits or Limits()
        self._failures: OrderedDict[tuple[str, str], deque[float]] = OrderedDict()

    def retry_after(self, user: str, address: str, now: float) -> float:
        """Seconds until ``user`` may try again from ``address`` (0: may try now)."""
        wait = 0.0
        for key, limit in ((("user", user), self.limits.per_user),
                           (("address", address), self.limits.per_address)):
            times = self._recent(key, now)
            if len(times) >= limit:
                # the oldest failure that must leave the window for one more to fit
                wait = max(wait, times[len(times) - limit] + self.limits.window - now)
        # never more than the window (float rounding of t + window - now, with t == now)
        return min(wait, self.limits.window)

    def failed(self, user: str, address: str, now: float) -> None:
        """Count a failed login of ``user`` from ``address`` at ``now``."""
        for key in (("user", user), ("address", address)):
            times = self._recent(key, now)
            times.append(now)
            self._failures[key] = times
            self._failures.move_to_end(key)
        while len(self._failures) > self.limits.max_keys:
            self._failures.popitem(last=False)

    def succeeded(self, user: str) -> None:
        """``user`` logged in: its name's failures are forgotten."""
        self._failures.pop(("user", user), None)

    def _recent(self, key: tuple[str, str], now: float) -> deque[float]:
        times = self._failures.get(key)
        if times is None:
            return deque()
        while times and times[0] <= now - self.limits.window:
            times.popleft()
        if not times:
            del self._failures[key]
        return times
