"""A discrete-event simulator that runs the real engine in virtual time.

The world is a stochastic model of a list and a team (:class:`World`): a dial is answered
by a live person with probability ``answer_probability`` after a ring time, by a machine
with ``machine_probability`` (after a ring time plus 3 s of detection, unless
``machine_time`` is given), is busy with ``busy_probability`` (detected after
``busy_time``), and otherwise rings out at ``no_answer_timeout``. Answers that would come
after the timeout ring out instead. Agents talk for a drawn talk time and wrap up for a
drawn wrap-up time. Manual agents take ``manual_dial_time`` to dial each call; preview
agents take ``preview_time`` to read a record, then dial it.

With ``shift_hours``, agents are ready for that many hours at the start of each simulated
day and pause at its end (after their call and wrap-up), which lets a test run months of
calendar time in a few hours of calling.

An event heap drives :class:`~trunkline.dialer.pacing.engine.Engine` exactly as the campaign
runner will: gateway and agent events with their times, and a ``Tick`` at every
``engine.next_deadline()``. Nothing of the engine is simulated.

Measures are taken by the simulator itself, independently of the engine's counters:
live answers and abandons per regime window (the first campaign's regime), agents' talk
and wrap-up time, and the idle time from an agent becoming free to its next connected call.

Not modelled: trunk capacity, callers hanging up before the abandon limit, AMD errors,
agents pausing or logging out during the run.
"""

from __future__ import annotations

import heapq
import itertools
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from trunkline.dialer.pacing import events as ev
from trunkline.dialer.pacing.actions import Action, Connect, Dial, OfferPreview, RecordOutcome
from trunkline.dialer.pacing.campaign import CampaignConfig
from trunkline.dialer.pacing.compliance import window_index
from trunkline.dialer.pacing.contacts import ContactProvider, SyntheticContacts
from trunkline.dialer.pacing.engine import Engine, quiet_logger
from trunkline.dialer.pacing.sampling import Dist, Stream
from trunkline.dialer.vocab import (
    AgentLevel,
    AgentState,
    AnswerKind,
    CallOutcome,
    CallState,
    Mode,
    Regime,
)

MACHINE_DETECTION = 3.0  # seconds after the pick-up before AMD reports a machine

# The defaults of issue 6's example scenario, and of the added keys.
RING_TIME = Dist("uniform", 4.0, 16.0)
TALK = Dist("exponential", 120.0)
WRAP_UP = Dist("fixed", 10.0)
BUSY_TIME = Dist("uniform", 2.0, 6.0)
PREVIEW_TIME = Dist("uniform", 3.0, 10.0)
MANUAL_DIAL_TIME = Dist("uniform", 5.0, 15.0)


@dataclass(frozen=True, slots=True)
class World:
    """The stochastic model the engine is run against."""

    answer_probability: float = 0.30
    machine_probability: float = 0.10
    busy_probability: float = 0.10
    ring_time: Dist = RING_TIME
    no_answer_timeout: float = 26.0
    talk: Dist = TALK
    wrap_up: Dist = WRAP_UP
    machine_time: Dist | None = None
    busy_time: Dist = BUSY_TIME
    preview_time: Dist = PREVIEW_TIME
    manual_dial_time: Dist = MANUAL_DIAL_TIME

    def __post_init__(self) -> None:
        probs = (self.answer_probability, self.machine_probability, self.busy_probability)
        if any(not 0.0 <= p <= 1.0 for p in probs) or sum(probs) > 1.0 + 1e-12:
            raise ValueError("answer, machine and busy probabilities must each be in "
                             f"[0, 1] and sum to at most 1, got {probs}")
        if self.no_answer_timeout <= 0:
            raise ValueError("no_answer_timeout must be > 0")


@dataclass(frozen=True, slots=True)
class AgentSpec:
    id: str
    campaigns: tuple[tuple[str, AgentLevel], ...]


def team(n: int, campaign: str, level: AgentLevel = AgentLevel.STANDARD,
         prefix: str = "a") -> list[AgentSpec]:
    """``n`` agents logged in to one campaign at one level."""
    return [AgentSpec(f"{prefix}{i}", ((campaign, level),)) for i in range(n)]


@dataclass(frozen=True, slots=True)
class _ManualTry:
    """A manual agent finished looking up the next number and dials it."""

    agent: str
    campaign: str


@dataclass
class Result:
    """What a run measured; :meth:`summary` is the CLI's JSON object."""

    hours: float
    agents: int
    regime: Regime = Regime.US
    amd_false_positive_rate: float = 0.0
    logged_in: float = 0.0
    talk: float = 0.0
    wrap: float = 0.0
    dials: int = 0
    live_answers: int = 0
    machines: int = 0
    abandoned: int = 0
    answered_without_agent: int = 0
    idle_total: float = 0.0
    idle_count: int = 0
    windows: dict[int, list[float]] = field(default_factory=dict)  # window -> [live, aband]
    max_running_window_rate: float = 0.0
    events: int = 0

    @property
    def _fp(self) -> float:
        """UK: the estimated AMD false positives, counted on both sides of the rate."""
        return self.machines * self.amd_false_positive_rate if self.regime is Regime.UK \
            else 0.0

    @property
    def abandon_rate(self) -> float:
        fp = self._fp
        denominator = self.live_answers + fp
        return (self.abandoned + fp) / denominator if denominator else 0.0

    @property
    def max_window_abandon_rate(self) -> float:
        return max((a / live for live, a in self.windows.values() if live > 0), default=0.0)

    @property
    def occupancy(self) -> float:
        return (self.talk + self.wrap) / self.logged_in if self.logged_in else 0.0

    @property
    def talk_minutes_per_agent_hour(self) -> float:
        return self.talk / 60.0 / (self.logged_in / 3600.0) if self.logged_in else 0.0

    def summary(self) -> dict[str, float | int | str]:
        live = self.live_answers
        return {
            "occupancy": round(self.occupancy, 5),
            "talk_minutes_per_agent_hour": round(self.talk_minutes_per_agent_hour, 3),
            "abandon_rate": round(self.abandon_rate, 6),
            "max_window_abandon_rate": round(self.max_window_abandon_rate, 6),
            "max_running_window_abandon_rate": round(self.max_running_window_rate, 6),
            "dials": self.dials,
            "live_answers": live,
            "abandoned": self.abandoned,
            "answered_without_agent": self.answered_without_agent,
            "answered_without_agent_rate": round(self.answered_without_agent / live, 6)
            if live else 0.0,
            "machines": self.machines,
            "mean_idle_between_calls_s": round(self.idle_total / self.idle_count, 3)
            if self.idle_count else 0.0,
            "agents": self.agents,
            "hours": self.hours,
            "regime": str(self.regime),
        }


class Simulator:
    """Runs campaigns and agents against a :class:`World` for ``hours`` of virtual time.

    All agents log in at time 0 and stay ready for the whole run (or for ``shift_hours``
    at the start of each day). Statistics
    are those of the first campaign. ``observe(action, now)``, when given, sees every
    action the engine emits (the property tests check invariants with it).
    """

    def __init__(self, campaigns: Sequence[CampaignConfig], agents: Sequence[AgentSpec],
                 world: World, *, hours: float, seed: int,
                 provider: ContactProvider | None = None, log=None,
                 observe: Callable[[Action, float], None] | None = None,
                 shift_hours: float | None = None) -> None:
        if hours <= 0:
            raise ValueError(f"hours must be > 0, got {hours}")
        if shift_hours is not None and not 0 < shift_hours <= 24:
            raise ValueError(f"shift_hours must be in (0, 24], got {shift_hours}")
        self.shift = None if shift_hours is None or shift_hours >= 24 \
            else shift_hours * 3600.0
        if not campaigns or not agents:
            raise ValueError("a simulation needs at least one campaign and one agent")
        self.world = world
        self.end = hours * 3600.0
        self.stream = Stream(seed)
        self.engine = Engine(campaigns, provider or SyntheticContacts(),
                             log=log if log is not None else quiet_logger())
        self.specs = list(agents)
        self.observe = observe
        self.first = campaigns[0]
        self._modes = {c.name: c.mode for c in campaigns}
        self._homes = {a.id: min(a.campaigns, key=lambda c: AgentLevel(c[1]).rank)[0]
                       for a in agents}
        self.result = Result(hours=hours, agents=len(agents), regime=self.first.regime,
                             amd_false_positive_rate=self.first.amd_false_positive_rate)
        self._heap: list[tuple[float, int, object]] = []
        self._seq = itertools.count()
        self._ticks: list[float] = []  # times of the ticks already in the heap
        self._ready_since: dict[str, float] = {}
        self._talk_start: dict[str, float] = {}
        self._wrap_start: dict[str, float] = {}
        self._answered_at: dict[int, float] = {}

    def _push(self, t: float, item: object) -> None:
        heapq.heappush(self._heap, (t, next(self._seq), item))

    def run(self) -> Result:
        for spec in self.specs:
            self._push(0.0, ev.AgentLoggedIn(spec.id, spec.campaigns))
        days = 1 if self.shift is None else math.ceil(self.end / 86_400.0)
        for day in range(days):
            start = day * 86_400.0
            for spec in self.specs:
                self._push(start, ev.AgentReady(spec.id))
                if self.shift is not None:
                    self._push(start + self.shift, ev.AgentPaused(spec.id, "end of shift"))
        heap, engine, end = self._heap, self.engine, self.end
        tick = ev.Tick()
        events = 0
        while heap:
            t, _, item = heapq.heappop(heap)
            if t > end:
                break
            events += 1
            if item is tick:
                heapq.heappop(self._ticks)
            elif type(item) is _ManualTry:
                agent = engine.agents.get(item.agent)
                if agent is None or agent.state is not AgentState.READY:
                    continue
                item = ev.ManualDial(item.agent, item.campaign)
            self._before(item, t)
            for action in engine.handle(item, t):
                self._apply(action, t)
            self._after(item, t)
            deadline = engine.next_deadline()
            if deadline is not None and (not self._ticks or deadline < self._ticks[0]):
                deadline = max(deadline, t)
                heapq.heappush(self._ticks, deadline)
                self._push(deadline, tick)
        self._close()
        self.result.events = events
        return self.result

    # -- the world reacting to the engine ------------------------------------------------

    def _apply(self, action: Action, t: float) -> None:
        if self.observe is not None:
            self.observe(action, t)
        kind = type(action)
        if kind is Dial:
            self._dial(action, t)
        elif kind is Connect:
            since = self._ready_since.pop(action.agent, None)
            if since is not None:
                self.result.idle_total += t - since
                self.result.idle_count += 1
            self._talk_start[action.agent] = t
            self._push(t + self.world.talk.sample(self.stream), ev.CallHungUp(action.call_id))
        elif kind is OfferPreview:
            self._push(t + self.world.preview_time.sample(self.stream),
                       ev.PreviewDecision(action.agent, action.contact.id, True))
        elif kind is RecordOutcome and action.outcome is CallOutcome.ABANDONED \
                and action.campaign == self.first.name:
            self._count_abandon(action.call_id)

    def _dial(self, action: Dial, t: float) -> None:
        w, s = self.world, self.stream
        if action.campaign == self.first.name:
            self.result.dials += 1
        cid = action.call_id
        timeout = min(action.ring_timeout, w.no_answer_timeout)
        u = s.uniform()
        if u < w.answer_probability:
            ring = w.ring_time.sample(s)
            if ring < timeout:
                self._push(t + ring, ev.CallAnswered(cid, AnswerKind.HUMAN))
                return
        elif u < w.answer_probability + w.machine_probability:
            ring = (w.machine_time.sample(s) if w.machine_time is not None
                    else w.ring_time.sample(s) + MACHINE_DETECTION)
            if ring < timeout:
                self._push(t + ring, ev.CallAnswered(cid, AnswerKind.MACHINE))
                return
        elif u < w.answer_probability + w.machine_probability + w.busy_probability:
            self._push(t + min(w.busy_time.sample(s), timeout),
                       ev.CallFailed(cid, CallOutcome.BUSY))
            return
        self._push(t + timeout, ev.CallFailed(cid, CallOutcome.NO_ANSWER))

    def _window(self, t: float) -> list[float]:
        c = self.first
        key = window_index(c.regime, t, start=c.start, day_offset=c.day_offset)
        return self.result.windows.setdefault(key, [0.0, 0.0])

    def _count_abandon(self, call_id: int) -> None:
        self.result.abandoned += 1
        w = self._window(self._answered_at.get(call_id, 0.0))
        w[1] += 1.0
        if w[0] > 0:
            self.result.max_running_window_rate = max(self.result.max_running_window_rate,
                                                      w[1] / w[0])

    def _before(self, item: object, t: float) -> None:
        """What the world notes as it delivers an event (before the engine reacts)."""
        kind = type(item)
        if kind is ev.CallFailed or kind is ev.CallAnswered:
            call = self.engine.calls.get(item.call_id)
            if call is None:
                return
            if call.reserved and (kind is ev.CallFailed or item.kind is not AnswerKind.HUMAN):
                self._manual(call.agent, t)  # the agent is released: dial the next one
            if kind is ev.CallFailed or call.origin != self.first.name:
                return
            if item.kind is AnswerKind.HUMAN:
                self.result.live_answers += 1
                self._answered_at[item.call_id] = t
                self._window(t)[0] += 1.0
            elif item.kind is AnswerKind.MACHINE:
                self.result.machines += 1
                if self.result.regime is Regime.UK:
                    f = self.result.amd_false_positive_rate
                    w = self._window(t)
                    w[0] += f
                    w[1] += f
        elif kind is ev.CallHungUp:
            call = self.engine.calls.get(item.call_id)
            if call is not None and call.state is CallState.CONNECTED:
                agent = call.agent
                self.result.talk += t - self._talk_start.pop(agent)
                self._wrap_start[agent] = t
                self._push(t + self.world.wrap_up.sample(self.stream), ev.WrapUpDone(agent))
            self._answered_at.pop(item.call_id, None)
        elif kind is ev.WrapUpDone:
            self.result.wrap += t - self._wrap_start.pop(item.agent)
            self._ready_since[item.agent] = t
            self._manual(item.agent, t)
        elif kind is ev.AgentReady:
            self._ready_since[item.agent] = t
            self._manual(item.agent, t)

    def _manual(self, agent_id: str, t: float) -> None:
        """A manual agent who is free looks up the next number, then dials it."""
        home = self._homes[agent_id]
        if self._modes[home] is Mode.MANUAL:
            self._push(t + self.world.manual_dial_time.sample(self.stream),
                       _ManualTry(agent_id, home))

    def _after(self, item: object, t: float) -> None:
        """What the world notes once the engine has reacted to an event."""
        kind = type(item)
        if kind is ev.WrapUpDone or kind is ev.AgentPaused:
            agent = self.engine.agents.get(item.agent)
            if agent is not None and agent.state is AgentState.PAUSED:
                self._ready_since.pop(item.agent, None)  # off shift: not idle time
        elif kind is ev.CallAnswered and item.kind is AnswerKind.HUMAN:
            call = self.engine.calls.get(item.call_id)
            if call is not None and call.state is CallState.WAITING \
                    and call.origin == self.first.name:
                self.result.answered_without_agent += 1

    def _close(self) -> None:
        end = self.end
        r = self.result
        if self.shift is None:
            r.logged_in = end * len(self.specs)
        else:  # agents are logged in for their shift of each day
            full, rest = divmod(end, 86_400.0)
            r.logged_in = (full * self.shift + min(rest, self.shift)) * len(self.specs)
        r.talk += sum(end - s for s in self._talk_start.values())
        r.wrap += sum(end - s for s in self._wrap_start.values())
