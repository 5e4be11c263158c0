"""What the campaign runner and the cleaning runner share: a gateway driven in turns.

Both runners place calls through a :class:`~trunkline.dialer.runner.gateway.GatewayPort`
and work the same way, which :class:`GatewayRunner` does once:

- **start**: the attempts a previous run left open (a crash) are settled
  (:func:`~trunkline.dialer.runner.settling.settle_open_attempts`), each unknown one
  recorded as the runner says (:meth:`GatewayRunner._record_unknown`), then the runner
  begins (:meth:`GatewayRunner._begin`);
- **a step** (:meth:`GatewayRunner.step`): wait for gateway events until the next thing
  to do (a timer, the runner's own deadline, at most a second), hand each event to the
  runner, run the timers that are due, then the runner's own end of the turn; a progress
  line now and then;
- **a shift** (:meth:`GatewayRunner.run`): steps until the list is finished, the time is
  up or a stop was requested; then no new calls, the calls in flight end, and a summary;
- **timers**: ``(when, kind, key)`` in one heap, dispatched to
  :meth:`GatewayRunner._on_timer`;
- gateway errors are recorded (:attr:`GatewayRunner.gateway_errors`) and logged, and a
  live gateway is opened subscribed to the events the runner reads
  (:meth:`GatewayRunner.live_gateway`);
- **commits**: a step's store writes are deferred (:meth:`Store.deferred_commits
  <trunkline.dialer.store.database.Database.deferred_commits>`) and committed together
  before the runner's next gateway request (:class:`CommitsFirst` wraps the port), before
  it publishes an event, and at the end of the step: durable before acted on, as
  before, with one disk wait where a step made a dozen (issue 17 item 7).

Time is the gateway's (:meth:`GatewayPort.now`): epoch seconds, virtual in process.
"""

from __future__ import annotations

import heapq
import itertools
import math
from collections.abc import Callable, Collection, Mapping, Sequence
from typing import Any, ClassVar, Generic, TypeVar, cast

import structlog

from trunkline.dialer.campaigns.numbers import InvalidNumber, normalise
from trunkline.dialer.runner.gateway import EVENTS as GATEWAY_EVENTS
from trunkline.dialer.runner.gateway import GatewayPort, LiveGateway
from trunkline.dialer.runner.settling import settle_open_attempts
from trunkline.dialer.runner.summary import Summary
from trunkline.dialer.store import Store
from trunkline.gateway.rpc.errors import CallTimeout, RpcError

S = TypeVar("S", bound=Summary)


#: Gateway events that may put a customer through to an agent (the engine's Connect:
#: bridge and screen pop): the line answered, AMD's verdict.
ANSWER_EVENTS = frozenset({"amd"})


def _answers(event: Mapping[str, Any]) -> bool:
    kind = event.get("event")
    return kind in ANSWER_EVENTS or (kind == "call.state" and event.get("state") == "answered")


def answers_first(events: Sequence[Mapping[str, Any]], urgent: Collection[Any] = ()
                  ) -> list[Mapping[str, Any]]:
    """A step's gateway events with those of the calls answered in it (and of the
    ``urgent`` calls) first, each call's own events in their order. Why: a step of a
    busy floor holds ~100 events, and the others (hang-ups, releases) each cost the
    gateway round trips (a hang-up, the next dials) of 20-50 ms; handled in arrival
    order, an answer waited behind them all before its agent saw the screen pop. Events
    of different calls do not depend on each other's order, except an agent's own leg
    (an agent who hung up is not put through to): those go first too."""
    first = {e.get("call") for e in events if _answers(e)} - {None}
    first |= {e.get("call") for e in events if e.get("call") in urgent}
    if not first:
        return list(events)
    return [e for e in events if e.get("call") in first] \
        + [e for e in events if e.get("call") not in first]


class CommitsFirst:
    """A gateway port whose every request first commits the store's deferred writes
    (``flush``): nothing reaches the gateway that the store has not made durable. The
    clock (``now``) and plain attributes pass through untouched."""

    def __init__(self, port: GatewayPort, flush: Callable[[], None]) -> None:
        object.__setattr__(self, "_port", port)
        object.__setattr__(self, "_flush", flush)

    def __getattr__(self, name: str) -> Any:
        value = getattr(self._port, name)
        if name == "now" or not callable(value):
            return value
        flush = self._flush

        def request(*args: Any, **kwargs: Any) -> Any:
            flush()
            return value(*args, **kwargs)
        return request

    def __setattr__(self, name: str, value: Any) -> None:
        setattr(self._port, name, value)


class GatewayRunner(Generic[S]):
    """The shared part of a runner (see the module docstring); subclasses fill in the
    ``_`` hooks below and give their summary type ``S``. ``home_country`` turns stored
    E.164 numbers into dial strings; ``progress(line)`` is called every
    ``progress_every`` seconds of gateway time."""

    #: The gateway events the runner reads; :meth:`live_gateway` subscribes to them.
    EVENTS: ClassVar[tuple[str, ...]] = tuple(GATEWAY_EVENTS)
    #: Its log, and the prefix of its log events (``<prefix>_gateway_error``...).
    log: ClassVar[Any] = structlog.get_logger("trunkline.dialer.runner")
    log_prefix: ClassVar[str] = "runner"
    #: How long the calls in flight may take to end after the shift, by default.
    drain: float = 600.0

    def __init__(self, store: Store, gateway: GatewayPort, *, home_country: str = "86",
                 progress: Callable[[str], None] | None = None,
                 progress_every: float = 60.0) -> None:
        self.store = store
        self.gateway: GatewayPort = cast(GatewayPort, CommitsFirst(gateway, store.flush))
        self.home_country = home_country
        self.progress = progress
        self.progress_every = progress_every
        self.gateway_errors: list[str] = []
        self._timers: list[tuple[float, int, str, Any]] = []
        self._seq = itertools.count()
        self._started: float | None = None
        self._next_progress = math.inf
        self._stop_requested = False

    @classmethod
    def live_gateway(cls, address: str, *, token: str | None = None) -> LiveGateway:
        """A :class:`LiveGateway` on ``address``, subscribed to :attr:`EVENTS` (it
        subscribes to the gateway module's own list; subscriptions add up)."""
        gateway = LiveGateway(address, token=token)
        extra = [e for e in cls.EVENTS if e not in GATEWAY_EVENTS]
        if extra:
            gateway.client.subscribe(extra)
        return gateway

    # -- public ----------------------------------------------------------------------------

    def start(self) -> None:
        """Settle the attempts a previous run left open, then begin."""
        now = self.gateway.now()
        self._started = now
        self._next_progress = now + self.progress_every
        counts = settle_open_attempts(self.store, self.gateway, self._own_campaigns(),
                                      self.dial_string,
                                      lambda attempt: self._record_unknown(attempt, now), now)
        if any(counts.values()):
            self.log.info(f"{self.log_prefix}_reconciled", **self._log_context(), **counts)
        self._begin(now)

    def run(self, *, seconds: float | None = None, drain: float | None = None,
            on_step: Callable[[float], None] | None = None) -> S:
        """Run until the list is finished or ``seconds`` have passed (or a stop was
        requested), then end the shift: no new calls, the calls in flight end (at most
        ``drain`` seconds, default :attr:`drain`), and return the summary. ``on_step(now)``
        runs after every step (a live display)."""
        if self._started is None:
            self.start()
        assert self._started is not None
        until = math.inf if seconds is None else self._started + seconds
        finished = False
        while not self._stop_requested:
            now = self.step(until)
            if on_step is not None:
                on_step(now)
            if self._list_finished():
                finished = True
                break
            if now >= until or self._nothing_due_before(until):
                break
        self._close()
        end = self.gateway.now() + (self.drain if drain is None else drain)
        while self._in_flight() and self.gateway.now() < end:
            now = self.step(end)
            if on_step is not None:
                on_step(now)
        self._end()
        return self.summary(finished=finished or self._list_finished())

    def request_stop(self) -> None:
        """End the shift early (a signal handler may call it): no new calls, calls in
        flight finish, then :meth:`run` returns, as at the end of ``seconds``."""
        self._stop_requested = True

    def step(self, until: float = math.inf) -> float:
        """One turn: wait for gateway events (or the next deadline), handle them, run the
        due timers; returns the time."""
        with self.store.deferred_commits():   # committed before each request, and here
            now = self.gateway.now()
            self._before_wait(now)
            deadline = min(until, now + 1.0, self._next_deadline(now))
            if self._timers:
                deadline = min(deadline, self._timers[0][0])
            events = self.gateway.wait(deadline)   # the commands' writes committed first
            now = self.gateway.now()
            for event in answers_first(events, self._urgent_calls()):
                self._on_event(event, now)
            self._run_timers(now)
            self._after_events(now)
        if self.progress is not None and now >= self._next_progress:
            self._next_progress = now + self.progress_every
            self.progress(self.progress_line(now))
        return now

    def dial_string(self, e164: str) -> str:
        """What to send to the gateway for a stored (E.164) number."""
        try:
            return normalise(e164).dial_string(self.home_country)
        except InvalidNumber:
            return e164.lstrip("+")

    def progress_line(self, now: float) -> str:
        raise NotImplementedError

    def summary(self, *, finished: bool = False) -> S:
        raise NotImplementedError

    # -- timers and errors -----------------------------------------------------------------

    def _schedule(self, when: float, kind: str, key: Any) -> None:
        """Call :meth:`_on_timer` with ``kind`` and ``key`` at the first step at or after
        ``when``."""
        heapq.heappush(self._timers, (when, next(self._seq), kind, key))

    def _run_timers(self, now: float) -> None:
        while self._timers and self._timers[0][0] <= now:
            _, _, kind, key = heapq.heappop(self._timers)
            self._on_timer(kind, key, now)

    def _hang_up(self, call: int) -> None:
        """Hang gateway call ``call`` up; one that ended meanwhile is no error."""
        try:
            self.gateway.hangup(call)
        except RpcError as err:
            if err.name != "not_found":  # not_found: it ended meanwhile; hungup follows
                self._gateway_error(f"cannot hang up call {call}: {err}")
        except CallTimeout as err:  # a slow gateway: this hang-up failed, the shift goes on
            self._gateway_error(f"cannot hang up call {call}: {err}")

    def _gateway_error(self, message: str) -> None:
        self.gateway_errors.append(message)
        self.log.warning(f"{self.log_prefix}_gateway_error", **self._log_context(),
                         error=message)

    # -- hooks -----------------------------------------------------------------------------

    def _own_campaigns(self) -> Collection[str]:
        """The campaigns whose open attempts :meth:`start` settles."""
        raise NotImplementedError

    def _log_context(self) -> Mapping[str, Any]:
        """What every log event of the runner carries (its campaigns)."""
        raise NotImplementedError

    def _record_unknown(self, attempt: int, now: float) -> None:
        """Record an attempt a previous run left ``dialing``, its call's fate unknown."""
        raise NotImplementedError

    def _urgent_calls(self) -> Collection[Any]:
        """Gateway calls whose events go first in a step besides the answered ones
        (see :func:`answers_first`): the agents' own legs, so an agent who hung up in the
        same tick is not put through to."""
        return ()

    def _begin(self, now: float) -> None:
        """What :meth:`start` does once the previous run is settled."""

    def _before_wait(self, now: float) -> None:
        """At the start of a step, before waiting for events."""

    def _next_deadline(self, now: float) -> float:
        """The runner's own next thing to do besides the timers (inf: none)."""
        return math.inf

    def _on_event(self, event: Mapping[str, Any], now: float) -> None:
        raise NotImplementedError

    def _on_timer(self, kind: str, key: Any, now: float) -> None:
        raise NotImplementedError

    def _after_events(self, now: float) -> None:
        """At the end of a step, after the events and the timers."""

    def _list_finished(self) -> bool:
        """Nothing in flight and no contact left to call."""
        raise NotImplementedError

    def _nothing_due_before(self, until: float) -> bool:
        """Nothing in flight and nothing due before ``until``: the shift may end."""
        return False

    def _in_flight(self) -> bool:
        raise NotImplementedError

    def _close(self) -> None:
        """The shift is over: no new calls."""
        raise NotImplementedError

    def _end(self) -> None:
        """After the calls in flight ended (or ``drain`` ran out)."""
