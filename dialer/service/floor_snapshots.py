"""The live floor's snapshots: each gateway's facts, taken on its own worker thread and
left there as one immutable value that the floor reads without waiting (issue 18 item 1).

Why: the floor used to ask each worker for its facts *between two runner steps*, so one
long step (a slow gateway reply, a burst of a hundred events) held the whole floor
back: with 200 agents it came every 1.8 s at p99 instead of every second, and an agent's
state change showed 1.5 s late. Now the worker leaves a snapshot behind:

- after every runner step (and, with no campaign running, after every inbox item and
  every half second): the running campaigns' counters, every agent's desk at most
  every ``agents_every`` seconds in full, the spans and channels at most every
  ``spans_every`` seconds (two gateway requests, so not after every step);
- **at once** when the runner's desk emits an event naming an agent (a state change, a
  screen pop): that agent's fact is taken again, a new snapshot left, and ``on_change``
  called so the feed pushes the floor without waiting for its next second.

The feed (:mod:`~trunkline.dialer.service.floor_feed`) reads the latest snapshot of every
gateway on its own cadence, so a runner stuck in a gateway call delays nothing: the
floor goes on showing that gateway's last snapshot, with its age.

**Thread-safety by construction.** A :class:`GatewaySnapshot` is a frozen dataclass of
tuples of frozen facts, built on the gateway's worker thread (the only thread that
touches its runner and port) and published by rebinding one attribute of the gateway's
:class:`SnapshotTaker`. Each taker has exactly one writer (its worker thread); the feed
only reads that attribute. Rebinding a reference is atomic in Python (one
``STORE_ATTR``), so a reader gets the old snapshot or the new one, whole, never a mix:
nothing is torn and no lock is needed.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import structlog

from trunkline.dialer.service.floor import AgentFact, CampaignFact, ChannelFact, SpanFact

log = structlog.get_logger("trunkline.dialer.floor")

__all__ = ["FloorSnapshots", "GatewaySnapshot", "SnapshotTaker", "agent_fact",
           "campaign_counters", "read_spans"]


@dataclass(frozen=True, slots=True)
class GatewaySnapshot:
    """One gateway's floor facts at one moment (see the module docstring).

    ``now`` is the gateway's time when it was taken (None: the gateway was never opened,
    no campaign ran there); ``taken`` the taker's monotonic clock then (the snapshot's
    age on the floor); ``spans_now`` the gateway time of the spans' reading.
    ``campaigns`` hold the runner's counters only: the feed completes them with the
    host's status and the lists' counts."""

    gateway: str
    now: float | None
    taken: float
    agents: tuple[AgentFact, ...] = ()
    campaigns: tuple[CampaignFact, ...] = ()
    spans: tuple[SpanFact, ...] = ()
    spans_now: float | None = None


def agent_fact(seat: Any, gateway: str) -> AgentFact:
    """An agent's fact from its desk seat (read on the runner's thread)."""
    card = seat.card
    return AgentFact(
        agent=seat.agent, state=seat.state, since=seat.since, reason=seat.reason,
        campaigns=tuple(c for c, _ in seat.campaigns),
        campaign=card.campaign if card else None,
        contact=card.contact_id if card else None,
        number=card.number if card else None, gateway=gateway)


def campaign_counters(runner: Any, gateway: str, now: float) -> tuple[CampaignFact, ...]:
    """The running campaigns' counters from the runner's engine (its thread)."""
    engine = getattr(runner, "engine", None)
    if engine is None:
        return ()
    out = []
    for campaign in list(getattr(runner, "campaigns", ())):
        stats = engine.stats(campaign)
        ledger = engine.ledger(campaign)
        ledger.rate(now)  # rolls the window over if a new one began
        config = runner.configs[campaign]
        pace_kind, pace = engine.pacing(campaign)
        idle = getattr(runner, "idle_states", {}).get(campaign)
        out.append(CampaignFact(
            name=campaign, state="", mode=str(config.mode), regime=str(config.regime),
            cap=config.cap, target_abandon=config.target_abandon, dials=stats.dials,
            live=stats.live, abandoned=stats.abandoned, window_live=ledger.live,
            window_abandoned=ledger.abandoned, gateway=gateway, pace_kind=pace_kind,
            pace=pace, idle=None if idle is None else tuple(idle.items())))
    return tuple(out)


def read_spans(port: Any, gateway: str) -> tuple[SpanFact, ...]:
    """Every span of the gateway with its channels (``spans.list`` and
    ``channels.list``; both ports send requests through ``_call``)."""
    spans = port._call("spans.list")
    rows = port._call("channels.list")
    by_span: dict[int, list[ChannelFact]] = {}
    for row in rows:
        by_span.setdefault(int(row["span"]), []).append(
            ChannelFact(int(row["channel"]), str(row["state"]), row.get("call")))
    return tuple(SpanFact(gateway, int(s["span"]), str(s["kind"]), str(s["alarms"]),
                          tuple(by_span.get(int(s["span"]), ())))
                 for s in spans)


class SnapshotTaker:
    """One gateway's snapshots. Its methods run on the gateway's worker thread only;
    :attr:`snapshot` may be read from any thread (see the module docstring)."""

    def __init__(self, gateway: str, *, spans_every: float, agents_every: float,
                 monotonic: Callable[[], float] = time.monotonic,
                 on_change: Callable[[], None] | None = None) -> None:
        self.gateway = gateway
        self.spans_every, self.agents_every = spans_every, agents_every
        self.monotonic = monotonic
        self.on_change = on_change
        #: The latest snapshot: rebound, never changed in place.
        self.snapshot = GatewaySnapshot(gateway, None, monotonic())
        # The worker thread's own working state (no other thread reads it):
        self._agents: dict[str, AgentFact] = {}
        self._agents_at = -float("inf")
        self._spans_at = -float("inf")
        self._spans_port: Any = None

    def after_step(self, runner: Any, port: Any) -> None:
        """Leave a snapshot after a runner step (or with no runner, now and then)."""
        if port is None:  # not opened yet: no campaign ran here
            self._leave(None, (), self.snapshot.spans, self.snapshot.spans_now)
            return
        now = float(port.now())
        mono = self.monotonic()
        desk = getattr(runner, "desk", None)
        if desk is None:
            self._agents = {}
        elif mono - self._agents_at >= self.agents_every:
            self._agents = {a: agent_fact(s, self.gateway) for a, s in desk.seats.items()}
            self._agents_at = mono
        spans, spans_now = self.snapshot.spans, self.snapshot.spans_now
        if mono - self._spans_at >= self.spans_every or port is not self._spans_port:
            self._spans_at, self._spans_port = mono, port
            try:
                spans, spans_now = read_spans(port, self.gateway), now
            except Exception as err:  # the gateway did not answer: the last ones stand
                log.warning("floor_spans_unreadable", gateway=self.gateway, error=str(err))
        self._leave(now, campaign_counters(runner, self.gateway, now), spans, spans_now)

    def on_desk_event(self, runner: Any, port: Any, event: Any) -> None:
        """The runner's desk emitted ``event`` (mid-step): the agent it names is taken
        again and a snapshot left at once, and the feed told."""
        agent = getattr(event, "agent", None)
        desk = getattr(runner, "desk", None)
        if agent is None or desk is None or port is None:
            return
        seat = desk.seats.get(agent)
        if seat is None:
            if self._agents.pop(agent, None) is None:
                return
        else:
            fact = agent_fact(seat, self.gateway)
            if self._agents.get(agent) == fact:
                return
            self._agents[agent] = fact
        self._leave(float(port.now()), self.snapshot.campaigns, self.snapshot.spans,
                    self.snapshot.spans_now)
        if self.on_change is not None:
            self.on_change()

    def _leave(self, now: float | None, campaigns: tuple[CampaignFact, ...],
               spans: tuple[SpanFact, ...], spans_now: float | None) -> None:
        self.snapshot = GatewaySnapshot(self.gateway, now, self.monotonic(),
                                        tuple(self._agents.values()), campaigns, spans,
                                        spans_now)


class FloorSnapshots:
    """Every gateway's :class:`SnapshotTaker`; :meth:`watch` is the host's worker hook
    (``ServiceHost.watchers``), :meth:`latest` what the feed reads."""

    def __init__(self, gateways: Iterable[str], *, spans_every: float = 1.0,
                 agents_every: float = 1.0,
                 monotonic: Callable[[], float] = time.monotonic) -> None:
        self.monotonic = monotonic
        self.on_change: Callable[[], None] | None = None
        self.takers = {g: SnapshotTaker(g, spans_every=spans_every,
                                        agents_every=agents_every, monotonic=monotonic,
                                        on_change=self._changed)
                       for g in gateways}

    def watch(self, gateway: str, runner: Any, port: Any, event: Any) -> None:
        """On ``gateway``'s worker thread: after a step (``event`` None) or a desk
        event of its runner."""
        taker = self.takers.get(gateway)
        if taker is None:
            return
        if event is None:
            taker.after_step(runner, port)
        else:
            taker.on_desk_event(runner, port, event)

    def latest(self) -> Sequence[GatewaySnapshot]:
        """The latest snapshot of every gateway (never waits)."""
        return [t.snapshot for t in self.takers.values()]

    def _changed(self) -> None:
        callback = self.on_change
        if callback is not None:
            callback()
