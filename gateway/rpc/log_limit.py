"""How many warnings a flood of refused or cut connections may write to the log.

Why: every refused connection (``overloaded``) and every cut one (a protocol error, a
full queue, a stalled reader, failed auth) is worth a warning, but a hostile client or a
dialer's reconnect loop makes thousands of them a second, which fills the journal and
the disk and hides every other line. So per key (a peer and a reason) the first
``burst`` events of a window of ``interval`` seconds are logged at once, the rest are
only counted, and when the window ends one summary line says how many were not shown
("N more ... in the last T s"). A key that stayed over its burst starts its next window
quiet (summaries only), so a sustained flood writes one line per interval; a key whose
window passed without a suppressed event is forgotten and gets its burst again. The
metrics are not touched here: the counters count every event.

Sans-IO: the caller passes the time (any monotonic clock) to :meth:`LogLimiter.hit`
and :meth:`LogLimiter.due`, and asks :meth:`LogLimiter.next_due` when to call
:meth:`LogLimiter.due` again, so the tests drive it with made-up times.

Memory is bounded: at most ``max_keys`` keys are tracked, the last place kept for
:data:`OVERFLOW_KEY`, which the events of further keys (a flood from many addresses)
share.
"""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass

__all__ = ["OVERFLOW_KEY", "LogLimiter", "Summary"]

#: The key of events whose own key found the table full.
OVERFLOW_KEY = ("*", "*")


@dataclass(frozen=True)
class Summary:
    """``count`` events of ``key`` were not logged in the window of ``seconds`` s that
    ended at ``until`` (a window lasts ``interval`` or a little more: until the caller
    next asks :meth:`LogLimiter.due`)."""

    key: Hashable
    count: int
    seconds: float
    until: float


@dataclass
class _Window:
    start: float
    budget: int        # lines this window may still log at once
    suppressed: int = 0


class LogLimiter:
    """Decide which per-connection warnings are logged; see the module docstring.

    Per key and window: at most ``burst`` lines at once (none in a quiet window) and one
    summary line when the window ends, so never more than ``burst + 1`` lines.
    """

    def __init__(self, burst: int = 5, interval: float = 10.0, max_keys: int = 1024) -> None:
        if burst < 0:
            raise ValueError(f"burst must be 0 or more, not {burst}")
        if not interval > 0:
            raise ValueError(f"interval must be more than 0 s, not {interval}")
        if max_keys < 1:
            raise ValueError(f"max_keys must be 1 or more, not {max_keys}")
        self.burst = burst
        self.interval = interval
        self.max_keys = max_keys
        self._windows: dict[Hashable, _Window] = {}

    def __len__(self) -> int:
        """How many keys are tracked now."""
        return len(self._windows)

    def hit(self, key: Hashable, now: float) -> bool:
        """Count one event of ``key`` at ``now``; True when it should be logged now.

        Windows that ended by ``now`` are closed first; their summaries stay for
        :meth:`due`, which the caller should call as well (or at :meth:`next_due`)."""
        window = self._windows.get(key)
        if window is not None and now >= window.start + self.interval \
                and window.suppressed == 0:
            del self._windows[key]  # a quiet window ended: a fresh burst
            window = None
        if window is None:
            if len(self._windows) >= self.max_keys - 1 and key != OVERFLOW_KEY:
                return self.hit(OVERFLOW_KEY, now)
            window = self._windows[key] = _Window(now, self.burst)
        elif now >= window.start + self.interval:
            return self._suppress(window)  # ended with suppressed events: due() reports
        if window.budget > 0:
            window.budget -= 1
            return True
        return self._suppress(window)

    @staticmethod
    def _suppress(window: _Window) -> bool:
        window.suppressed += 1
        return False

    def due(self, now: float) -> list[Summary]:
        """The summaries of windows that ended by ``now`` with events not logged (each
        once); those keys start a quiet window at ``now``, the others are forgotten."""
        summaries: list[Summary] = []
        for key, window in list(self._windows.items()):
            if now < window.start + self.interval:
                continue
            if window.suppressed:
                summaries.append(Summary(key, window.suppressed, now - window.start, now))
                self._windows[key] = _Window(now, 0)
            else:
                del self._windows[key]
        return summaries

    def next_due(self) -> float | None:
        """When the next window with events not logged ends (None: no summary pending)."""
        ends = [w.start + self.interval for w in self._windows.values() if w.suppressed]
        return min(ends) if ends else None

    def flush(self) -> list[Summary]:
        """Every pending summary now, whatever the time (at shutdown); forgets all keys."""
        summaries = [Summary(key, w.suppressed, self.interval, w.start + self.interval)
                     for key, w in self._windows.items() if w.suppressed]
        self._windows.clear()
        return summaries
