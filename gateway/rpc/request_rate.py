"""How many requests a client may send: a token bucket per peer, and when to cut, sans-IO.

Why: every request costs the event loop the media tick shares (decoding, a handler, a
reply), and most call and channel methods do their work on the tick's own thread. The
frame limits and the decode budget (decode_budget.py) bound what large frames cost; a
client flooding *small* requests was limited only by the gateway's throughput, tens of
thousands a second, the whole loop (issue 15, item 4: "a slow or greedy client is cut
with a reason and never stalls the tick").

So each peer (the slot policy's: a Unix user id, a TCP address; client_slots.py) has a
bucket of ``burst`` requests, refilled at ``rate`` a second, which its connections share
(:class:`RequestRate`; a token bucket, as nginx's ``limit_req`` and the SIP proxies'
per-source limits, Kamailio's ``pike``, meter requests per source). Per peer, not per
connection: a connection cut and opened again, or opened 64 times, would otherwise start
with a full bucket each time (a flooder doing so kept the loop busy: benchmarks/
bench_rpc_flood.py, ``pings``). A connection whose peer is unknown has a bucket of its
own.

A request that finds the bucket empty is refused: the session answers it ``overloaded``
(503, the code the protocol already uses for "retry later"), naming the limit and when a
request would be admitted again (:attr:`RequestRate.retry_after`); it is not run.
Refusing is cheap but not free (the frame was decoded, the refusal is encoded), so a
connection that keeps sending regardless is cut (:class:`ConnectionRate`): each of its
refusals is a strike, strikes are forgiven at ``rate`` a second, and a connection with
more than ``burst + 1`` strikes outstanding is cut (reason ``rate_limited``). Strikes
are the connection's own: a peer's well-behaved connection is not cut for another's
flood, only refused while the bucket they share is empty. A connection opened after one
of its peer's was cut, before their bucket has filled up again, starts on probation,
with ``burst - 1`` strikes, so that a flooder that reconnects is cut at its third
refusal, not after another ``burst`` of them (which costs a client that waits as told
nothing: see below).
Hence, for one connection:

* a client within ``rate`` a second and ``burst`` at once is never refused;
* one that waits as told after a refusal (``retry_after``) is never cut, on probation
  or not: between two of its refusals it was admitted at least once, so they are at
  least the time of the tokens it lacked apart, and its strikes stay under what it
  started with plus 2 (so at most ``burst + 1``, on probation too);
* one that ignores refusals is cut about ``(burst + 2) / (sent - 2 * rate)`` seconds after
  its burst is spent (at once when it pipelines more than ``2 * burst + 1`` requests),
  and until then it was answered at most ``2 * (burst + rate * t) + 1`` times: an uncut
  connection costs at most about twice its rate.

Every request counts, whatever its method or role. The admin role is not exempt: on the
Unix socket every client is admin by default, so an exemption would exempt nearly every
client, and one peer's limit takes nothing from any other peer (the admin's way in when
clients misbehave is the reserved slots, client_slots.py). The clock is the caller's (``now``
arguments).
"""

from __future__ import annotations

import enum
import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from trunkline.errors import ConfigError

__all__ = ["DEFAULT_REQUEST_BURST", "DEFAULT_REQUEST_RATE", "ConnectionRate", "PeerRates",
           "RateLimit", "RequestRate", "Verdict"]

#: Requests a second one client (peer) may send. The dialer's runners at full load sent at
#: most 30 in any second and 7 in any 100 ms, 0.5 a second on average (benchmarks/
#: measure_dialer_request_rate.py: the demo's floor, and the card's 120 outbound lines
#: kept full in power mode); and a runner's blocking client waits for each reply, which
#: for the engine's methods comes at the end of the next 20 ms tick: at most about 50 a
#: second of those. Ten times that.
DEFAULT_REQUEST_RATE = 500.0
#: Requests one client may send at once: a runner starting fills every outbound line
#: with one originate each; a large card has a few hundred.
DEFAULT_REQUEST_BURST = 1000


@dataclass(frozen=True)
class RateLimit:
    """``rate`` requests a second and ``burst`` at once, per client (peer).

    Raises ConfigError (key ``request_rate`` or ``request_burst``) for a rate that is
    not a finite number > 0 or a burst that is not a whole number >= 1.
    """

    rate: float = DEFAULT_REQUEST_RATE
    burst: int = DEFAULT_REQUEST_BURST

    def __post_init__(self) -> None:
        if isinstance(self.rate, bool) or not isinstance(self.rate, int | float) \
                or not (math.isfinite(self.rate) and self.rate > 0):
            raise ConfigError(f"request_rate must be requests a second, a finite number "
                              f"> 0, not {self.rate!r}", key="request_rate")
        if isinstance(self.burst, bool) or not isinstance(self.burst, int) or self.burst < 1:
            raise ConfigError(f"request_burst must be a whole number >= 1, not "
                              f"{self.burst!r}", key="request_burst")

    def describe(self) -> str:
        """The limit in words, for refusals and cut messages."""
        return f"{self.rate:g} requests a second, {self.burst} at once"


#: Tokens short of one that still admit a request: a client that waits ``retry_after``
#: must not be refused for the last bit of a float.
_EPSILON = 1e-9


class Verdict(enum.Enum):
    """What to do with one request."""

    ADMIT = "admit"
    REFUSE = "refuse"    # answer it overloaded, do not run it
    CUT = "cut"          # disconnect the client (reason rate_limited)


class RequestRate:
    """One peer's bucket (or one connection's, when its peer is unknown): ``burst``
    requests at once, refilled at ``rate`` a second."""

    def __init__(self, limit: RateLimit, now: float) -> None:
        self.limit = limit
        self._tokens = float(limit.burst)
        self._at = now
        self._cut = False

    def take(self, now: float) -> bool:
        """Count one request at ``now``; True when it is admitted."""
        self._refill(now)
        if self._tokens >= 1.0 - _EPSILON:  # a client back at retry_after, to the float
            self._tokens = max(0.0, self._tokens - 1.0)
            return True
        return False

    def empty(self, now: float) -> bool:
        """No request would be admitted at ``now``."""
        self._refill(now)
        return self._tokens < 1.0 - _EPSILON

    def mark_cut(self) -> None:
        """One of the peer's connections was cut: its next ones start on probation
        until the bucket is full again."""
        self._cut = True

    def probation(self, now: float) -> bool:
        """A connection opened at ``now`` starts on probation: one of the peer's was cut
        and the bucket has not filled up since."""
        if self._cut and self.full(now):
            self._cut = False
        return self._cut

    def full(self, now: float) -> bool:
        """The bucket is full again at ``now`` (a peer without connections whose bucket
        is full is as good as new: it may be forgotten)."""
        self._refill(now)
        return self._tokens >= self.limit.burst

    @property
    def retry_after(self) -> float:
        """Seconds from the last call until a request would be admitted."""
        return max(0.0, (1.0 - self._tokens) / self.limit.rate)

    def change(self, limit: RateLimit, now: float) -> None:
        """Apply a new limit (a configuration reload): what was earned so far is kept,
        capped to the new burst."""
        self._refill(now)
        self.limit = limit
        self._tokens = min(self._tokens, float(limit.burst))

    def _refill(self, now: float) -> None:
        elapsed = max(0.0, now - self._at)
        self._at = max(self._at, now)
        self._tokens = min(float(self.limit.burst), self._tokens + elapsed * self.limit.rate)


class ConnectionRate:
    """One connection's verdicts: its peer's ``bucket`` and its own strikes (see the
    module docstring). Opened on probation when one of the peer's connections was cut
    and its bucket has not filled up since."""

    def __init__(self, bucket: RequestRate, now: float) -> None:
        self.bucket = bucket
        burst = bucket.limit.burst
        self._strikes = float(burst - 1) if bucket.probation(now) else 0.0
        self._at = now
        #: Requests of this connection refused in all (for statistics and messages).
        self.refused = 0
        self.cut = False

    @property
    def limit(self) -> RateLimit:
        return self.bucket.limit

    @property
    def strikes(self) -> float:
        """Refusals not yet forgiven (as of the last :meth:`take`)."""
        return self._strikes

    @property
    def retry_after(self) -> float:
        """Seconds from the last :meth:`take` until a request would be admitted."""
        return self.bucket.retry_after

    def take(self, now: float) -> Verdict:
        """Count one request arriving at ``now``; what to do with it. Once CUT, always
        CUT (the connection is going)."""
        if self.cut:
            return Verdict.CUT
        elapsed = max(0.0, now - self._at)
        self._at = max(self._at, now)
        self._strikes = max(0.0, self._strikes - elapsed * self.bucket.limit.rate)
        if self.bucket.take(now):
            return Verdict.ADMIT
        self.refused += 1
        self._strikes += 1.0
        if self._strikes > self.bucket.limit.burst + 1:
            self.cut = True
            self.bucket.mark_cut()
            return Verdict.CUT
        return Verdict.REFUSE


class PeerRates:
    """The limit and the buckets of the peers, for the server: a new connection's
    :class:`ConnectionRate` (:meth:`connection`) and a changed limit (:meth:`change`).

    At most about ``max_peers`` buckets are kept: when a new peer finds the table that
    full, the buckets of peers without connections that are full again (as good as new)
    are forgotten. A peer with connections, or one that was busy moments ago (a flooder
    between two connections), keeps its bucket.
    """

    def __init__(self, limit: RateLimit | None, max_peers: int) -> None:
        #: None: requests are not limited.
        self.limit = limit
        self.max_peers = max_peers
        self._buckets: dict[str, RequestRate] = {}

    def __len__(self) -> int:
        return len(self._buckets)

    def __contains__(self, peer: object) -> bool:
        return peer in self._buckets

    def connection(self, peer: str | None, now: float,
                   connected: Callable[[], Iterable[str | None]]) -> ConnectionRate | None:
        """The meter of a connection of ``peer`` opened at ``now`` (None: a bucket of its
        own); None when requests are not limited. ``connected`` names the peers with
        connections, asked only when the table is full."""
        limit = self.limit
        if limit is None:
            return None
        if peer is None:
            return ConnectionRate(RequestRate(limit, now), now)
        bucket = self._buckets.get(peer)
        if bucket is None:
            if len(self._buckets) >= self.max_peers:
                self._forget_idle(now, set(connected()))
            bucket = self._buckets[peer] = RequestRate(limit, now)
        return ConnectionRate(bucket, now)

    def change(self, limit: RateLimit | None, now: float) -> None:
        """A new limit for the peers' buckets (a reload; None: no limit, all forgotten).
        Connections with buckets of their own (no peer) are changed by their owner."""
        self.limit = limit
        if limit is None:
            self._buckets.clear()
            return
        for bucket in self._buckets.values():
            bucket.change(limit, now)

    def _forget_idle(self, now: float, connected: set[str | None]) -> None:
        for peer, bucket in list(self._buckets.items()):
            if peer not in connected and bucket.full(now):
                del self._buckets[peer]
