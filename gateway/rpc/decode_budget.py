"""How much of the event loop one client's decoding may take: a token bucket, sans-IO.

The gateway decodes requests on the loop the media tick shares. The frame limits
(bytes, depth, containers, elements, map entries; see :mod:`.protocol`) bound what one
frame costs, to a few milliseconds; they do not bound how many such frames a client
sends. An authenticated client sending them back to back had the loop to itself: a quiet
client's ping waited 54 ms at the median and 115-400 ms at p99 (benchmarks/
bench_rpc_flood.py, load 12). So each connection's decoding is metered in CPU seconds of
the loop's thread (the session measures them; the wall clock would count the machine's
load against the client): it may spend ``burst`` seconds at once and ``share`` of every
second of wall time after that;
a client in debt is not read from (the kernel's socket buffer then holds it back) until
the debt is paid. Its own requests wait; nobody else's do.

Decoding is not moved to a worker thread: msgpack's decoder holds the GIL (a thread
decoding maps of 65,530 keys held the loop's thread off for 137 ms at a time), so a
thread would only move the stall, not remove it.

When several clients are in debt at once, each gets ``share`` divided among them
(``rivals``), so that many greedy connections together still take about ``share`` of
the loop, not ``share`` each. The clock is the caller's (``now`` arguments).
"""

from __future__ import annotations

__all__ = ["DecodeBudget"]


class DecodeBudget:
    """Seconds of decoding a connection may spend: ``burst`` at once, ``share`` per second.

    Raises ValueError for a share outside (0, 1] or a burst that is not > 0.
    """

    def __init__(self, share: float, burst: float, now: float) -> None:
        if not 0 < share <= 1:
            raise ValueError(f"decode share must be in (0, 1], got {share!r}")
        if not 0 < burst < float("inf"):
            raise ValueError(f"decode burst must be seconds > 0, got {burst!r}")
        self.share = share
        self.burst = burst
        self._tokens = burst
        self._at = now
        #: Seconds of decoding charged in all (for statistics and tests).
        self.spent = 0.0

    def charge(self, seconds: float, now: float, rivals: int = 0) -> float:
        """Charge ``seconds`` of decoding done at ``now``; return how long the client must
        now wait before it is read again (0: not in debt). ``rivals``: other clients in
        debt at this moment, who share the refill with this one."""
        rate = self.share / (1 + max(0, rivals))
        self._refill(now, rate)
        self.spent += seconds
        self._tokens -= seconds
        if self._tokens >= 0:
            return 0.0
        return -self._tokens / rate

    def _refill(self, now: float, rate: float) -> None:
        elapsed = max(0.0, now - self._at)
        self._at = max(self._at, now)
        self._tokens = min(self.burst, self._tokens + elapsed * rate)
