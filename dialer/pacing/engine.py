"""The dialing engine: a sans-IO core, events and ``now`` in, actions out.

::

    engine = Engine([CampaignConfig("sales")], provider)
    actions = engine.handle(AgentLoggedIn("a1", (("sales", "standard"),)), now)
    ...
    engine.handle(Tick(), engine.next_deadline())   # or every 0.5 s / 1 s in production

The engine reads no clock and does no I/O: the campaign runner (or the simulator) feeds
it gateway and agent events with the time they happened, calls :meth:`Engine.handle` with
:class:`~trunkline.dialer.pacing.events.Tick` at :meth:`Engine.next_deadline` (at the latest),
and carries out the returned actions. Pacing runs every ``pace_interval``, and also right
after an agent comes free (and, in progressive and power modes, right after a dial
fails), at the next call. Due timers (the 2 s abandon limit, preview timeouts, pacing)
also run before any other event, so a late tick never lets a waiting
caller wait longer than the campaign allows.

Who takes a live answer (routing): the campaign's own ready agents, longest idle first;
then agents of other campaigns logged in here at high or standard level, then overflow
agents, each only if its home campaign can spare it (its ready agents outnumber its calls
in flight). An agent that becomes free takes, in its campaigns (home first), the
longest-waiting requeued customer (``CallRequeued``: its agent was lost mid-call; held,
first requeued first served), then the oldest live call waiting, before anything else.
So a requeued customer goes before new answers: an answer that finds no agent because
the free one went to it waits as any answer with no agent (``answered_without_agent``,
the abandon limit running, an abandon if nobody comes in time); the requeued call
itself is never an abandon (it was connected to an agent).

Per-event work is O(1) in the number of campaigns; pacing runs only for campaigns whose
own agents are logged in and not paused.

Why one module of about 1,000 lines: it is one state machine. Every handler below reads and
changes the same per-campaign books (``_Run``: waiting calls, pending dials, the ledger,
the pacer), agents and calls, within one event; split over files, the rules of one event
would be spread out of sight of each other. The parts that stand alone are already
elsewhere: the state tables (:mod:`~trunkline.dialer.pacing.agents`,
:mod:`~trunkline.dialer.pacing.calls`), the pacers, the learning model and the
compliance rules.
"""

from __future__ import annotations

import heapq
import itertools
import logging
import math
from collections import deque
from collections.abc import Callable, Iterable, Mapping

import numpy as np
import structlog

from trunkline.dialer.errors import DialerStateError, UnknownEntityError
from trunkline.dialer.pacing import events as ev
from trunkline.dialer.pacing.abandon_clock import abandon_clock_start
from trunkline.dialer.pacing.actions import (
    Abandon,
    Action,
    Connect,
    Dial,
    HangUp,
    OfferPreview,
    PreviewExpired,
    RecordOutcome,
    ReturnContact,
)
from trunkline.dialer.pacing.agents import Agent
from trunkline.dialer.pacing.calls import Call
from trunkline.dialer.pacing.campaign import CampaignConfig
from trunkline.dialer.pacing.compliance import (
    UK_REDIAL_AFTER_ABANDON,
    AbandonLedger,
    Lockouts,
    next_midnight,
    window_index,
)
from trunkline.dialer.pacing.contacts import Contact, ContactProvider
from trunkline.dialer.pacing.learning import CampaignModel
from trunkline.dialer.pacing.pacers import (
    ModelPacer,
    Pacer,
    PacingView,
    RatioPacer,
    RiskController,
    VicidialPacer,
    WaitController,
)
from trunkline.dialer.vocab import (
    AbandonRoute,
    AgentState,
    AnswerKind,
    CallOutcome,
    CallState,
    Mode,
    Regime,
)

_EMPTY = np.zeros(0)
SKIP_DELAY = 3_600.0        # a skipped preview record comes back after an hour
DUPLICATE_DELAY = 120.0     # a number already on a call is retried after two minutes
#: Live answers a model-paced campaign sees before it dials beyond its free agents, by
#: default (``CampaignConfig.warmup_live``; issue 15, item 3). Until then its model is
#: its priors: a fresh campaign dials no more lines than agents are free, so it cannot
#: overshoot its target while it learns. The us and uk caps already start there (no
#: live answers: no abandon allowed); this brings cn and none, which have no numeric
#: cap, to the same start.
WARMUP_LIVE = 20


def quiet_logger() -> structlog.typing.FilteringBoundLogger:
    """A logger that drops everything below warning (simulations, tests)."""
    return structlog.wrap_logger(
        structlog.PrintLogger(),
        wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING),
    )


def make_pacer(config: CampaignConfig, model: CampaignModel) -> Pacer:
    mode = config.mode
    if mode in (Mode.PROGRESSIVE, Mode.POWER):
        return RatioPacer(config.ratio)
    if mode is Mode.PRECISE:
        # start cautious: until the model has learned the list, err on the safe side
        ctl = RiskController(config.precise_target, alpha=config.precise_target / 3,
                             margin=0.0, recovery=1e9)
        return ModelPacer(model, ctl, grace=0.0, precise=True)
    if mode is Mode.PREDICTIVE:
        ctl = RiskController(config.target_abandon, alpha=config.target_abandon)
        wait = (WaitController(config.agent_wait_target, alpha=config.target_abandon)
                if config.agent_wait_target > 0 else None)
        return ModelPacer(model, ctl, grace=config.abandon_after, precise=False, wait=wait)
    if mode is Mode.VICIDIAL:
        return VicidialPacer(
            limit=config.cap or config.target_abandon, max_level=config.vicidial_max_level,
            drop_action=config.vicidial_drop_action,
            day_of=lambda t: window_index(Regime.NONE, t, day_offset=config.day_offset))
    return Pacer()


class CampaignStats:
    """Counters of one campaign since the engine started (reports read these)."""

    __slots__ = ("abandoned", "answered_without_agent", "dials", "live", "machines")

    def __init__(self) -> None:
        self.dials = self.live = self.abandoned = 0
        self.answered_without_agent = self.machines = 0


class _Run:
    """The live state of one campaign inside the engine."""

    __slots__ = (
        "active",
        "config",
        "deferred_pauses",
        "guests",
        "home_ready",
        "kick_on_failure",
        "kicked",
        "last_reason",
        "ledger",
        "log",
        "members",
        "model",
        "name",
        "pace_scheduled",
        "pacer",
        "pending",
        "previews",
        "requeued",
        "stats",
        "talking",
        "waiting",
        "wrapping",
    )

    def __init__(self, config: CampaignConfig, log) -> None:
        self.config = config
        self.name = config.name
        self.model = CampaignModel(ring_timeout=config.ring_timeout)
        self.pacer = make_pacer(config, self.model)
        self.ledger = AbandonLedger(
            config.regime, config.cap, config.amd_false_positive_rate, start=config.start,
            day_offset=config.day_offset)
        self.log = log.bind(campaign=config.name, mode=str(config.mode))
        self.members: set[str] = set()
        self.guests: set[str] = set()           # members whose home is elsewhere
        self.home_ready: dict[str, None] = {}   # insertion order = longest idle first
        self.talking: dict[str, float] = {}     # home agents on a call -> talk start
        self.wrapping: dict[str, float] = {}    # home agents in wrap-up -> start
        self.active = 0                         # home agents logged in and not paused
        self.pending: dict[int, float] = {}     # unresolved dials, no agent reserved
        self.waiting: dict[int, float] = {}     # live answers waiting -> answered at
        self.requeued: dict[int, float] = {}    # connected calls whose agent was lost -> since
        self.previews: deque[Contact] = deque()  # preview records inside an automatic mode
        self.deferred_pauses = 0
        self.pace_scheduled = False
        self.stats = CampaignStats()
        self.last_reason = ""
        self.kicked = False
        # ratio modes re-dial for a free agent as soon as its line fails; model pacers
        # anticipate and wait for their tick; the VICIdial baseline keeps its own loop
        self.kick_on_failure = config.mode in (Mode.PROGRESSIVE, Mode.POWER)

    @property
    def spare(self) -> int:
        """Ready home agents beyond what the calls in flight may need."""
        return len(self.home_ready) - len(self.pending) - len(self.waiting) \
            - len(self.requeued)


class Engine:
    """The dialing engine for a set of campaigns sharing one pool of agents."""

    def __init__(self, campaigns: Iterable[CampaignConfig], provider: ContactProvider, *,
                 log: structlog.typing.FilteringBoundLogger | None = None) -> None:
        base = log if log is not None else structlog.get_logger("trunkline.dialer").bind()
        self._log = base
        self._debug = base.is_enabled_for(logging.DEBUG)
        self._runs: dict[str, _Run] = {}
        for config in campaigns:
            if config.name in self._runs:
                raise ValueError(f"campaign {config.name!r} is configured twice")
            self._runs[config.name] = _Run(config, base)
        for run in self._runs.values():
            target = run.config.abandon_target
            if target is not None and target not in self._runs:
                raise ValueError(f"campaign {run.name!r} routes abandoned calls to "
                                 f"unknown campaign {target!r}")
        self._provider = provider
        self._agents: dict[str, Agent] = {}
        self._calls: dict[int, Call] = {}
        self._active_numbers: set[str] = set()
        self._lockouts = Lockouts()
        self._timers: list[tuple[float, int, str, object]] = []
        self._seq = itertools.count()
        self._call_ids = itertools.count(1)
        self._now = -math.inf
        self._carry: list[Action] = []
        self._handlers = {
            ev.AgentLoggedIn: self._on_login, ev.AgentLoggedOut: self._on_logout,
            ev.AgentReady: self._on_ready, ev.AgentPaused: self._on_pause,
            ev.WrapUpDone: self._on_wrap_done, ev.ManualDial: self._on_manual_dial,
            ev.PreviewDecision: self._on_preview_decision, ev.CallRinging: self._on_ringing,
            ev.CallAnswered: self._on_answered, ev.CallFailed: self._on_failed,
            ev.CallHungUp: self._on_hung_up, ev.CustomerAbandoned: self._on_customer_abandon,
            ev.CallTransferred: self._on_transfer, ev.DialNotPlaced: self._on_not_placed,
            ev.CallRequeued: self._on_requeue, ev.RequeueGivenUp: self._on_requeue_given_up,
            ev.Tick: lambda event, now, out: None,
        }

    # -- public surface ------------------------------------------------------------------

    def handle(self, event: ev.Event, now: float) -> list[Action]:
        """Apply ``event`` at time ``now`` and return the actions to carry out, in order.

        Raises :class:`UnknownEntityError` for an unknown agent, call or campaign and
        :class:`DialerStateError` when the event does not fit the current state; the
        engine is unchanged when it raises.
        """
        if now < self._now:
            raise DialerStateError(f"time went backwards: {now} after {self._now}")
        handler = self._handlers.get(type(event))
        if handler is None:
            raise TypeError(f"not a dialer event: {event!r}")
        self._now = now
        out, self._carry = self._carry, []
        self._run_timers(now, out)
        try:
            handler(event, now, out)
        except Exception:
            self._carry = out  # the timers' actions go out with the next call
            raise
        return out

    def next_deadline(self) -> float | None:
        """When the engine next needs a :class:`Tick` (None when nothing is scheduled)."""
        return self._timers[0][0] if self._timers else None

    @property
    def agents(self) -> Mapping[str, Agent]:
        return self._agents

    @property
    def calls(self) -> Mapping[int, Call]:
        return self._calls

    def stats(self, campaign: str) -> CampaignStats:
        return self._run(campaign).stats

    def pacing(self, campaign: str) -> tuple[str, float | None]:
        """What the campaign's pacer holds to now, for the supervisor's floor: ``("risk",
        alpha)`` in predictive mode (the abandon risk each dial may carry, which the
        abandon and agent-wait loops move), ``("ratio", lines per ready agent)`` in
        progressive and power modes, ``("level", VICIdial's dial level)``; ``("",
        None)`` where no pacer dials (preview, manual). A changed target or mode shows
        here at the next decision, as the pacer is made anew."""
        pacer = self._run(campaign).pacer
        if isinstance(pacer, ModelPacer):
            return "risk", pacer.alpha
        if isinstance(pacer, RatioPacer):
            return "ratio", pacer.ratio
        if isinstance(pacer, VicidialPacer):
            return "level", pacer.level
        return "", None

    @property
    def campaigns(self) -> list[str]:
        return list(self._runs)

    def add_campaign(self, config: CampaignConfig) -> None:
        """Start pacing one more campaign (agents log in to it from now on)."""
        if config.name in self._runs:
            raise DialerStateError(f"campaign {config.name!r} is running already")
        target = config.abandon_target
        if target is not None and target not in self._runs:
            raise UnknownEntityError(f"campaign {config.name!r} routes abandoned calls "
                                     f"to campaign {target!r}, which is not running")
        self._runs[config.name] = _Run(config, self._log)

    def remove_campaign(self, name: str, now: float) -> None:
        """Stop pacing ``name``; refused while an agent is logged in to it, a call of it
        is in flight, or another campaign routes abandoned calls to it. Preview records
        it held go back to the provider."""
        run = self._run(name)
        if run.members:
            raise DialerStateError(f"cannot remove campaign {name!r}: agents "
                                   f"{', '.join(sorted(run.members))} are logged in to it")
        busy = [c.id for c in self._calls.values() if name in (c.campaign, c.origin)]
        if busy:
            raise DialerStateError(f"cannot remove campaign {name!r}: calls "
                                   f"{', '.join(map(str, busy))} are in flight")
        routed = [r.name for r in self._runs.values() if r.config.abandon_target == name]
        if routed:
            raise DialerStateError(f"cannot remove campaign {name!r}: "
                                   f"{', '.join(routed)} route abandoned calls to it")
        while run.previews:
            contact = run.previews.popleft()
            self._active_numbers.discard(contact.number)
            self._provider.defer(contact, now)
        del self._runs[name]

    def reconfigure(self, config: CampaignConfig) -> None:
        """Pace the running campaign ``config.name`` with ``config`` from its next
        decision on (a supervisor changed its mode, target, ratio while it runs).

        What the campaign has learned stays: the answer and talk-time model, the
        regulated window's abandon ledger, the calls in flight and the agents. The pacer
        is made anew from the model, so a new target or mode starts from what is known
        of the list. The regime (and so the ledger's cap), the abandon route and the
        timing base cannot change while it runs (DialerStateError): they decide how
        calls already counted are judged."""
        run = self._run(config.name)
        old = run.config
        for key in ("regime", "abandon_route", "abandon_target", "start", "day_offset"):
            if getattr(old, key) != getattr(config, key):
                raise DialerStateError(f"campaign {config.name!r}: {key} cannot change "
                                       "while it runs; stop it first")
        run.config = config
        run.pacer = make_pacer(config, run.model)
        run.kick_on_failure = config.mode in (Mode.PROGRESSIVE, Mode.POWER)
        run.log = run.log.bind(mode=str(config.mode))
        run.last_reason = ""
        self._kick(run, self._now if math.isfinite(self._now) else 0.0)

    def ledger(self, campaign: str) -> AbandonLedger:
        return self._run(campaign).ledger

    def model(self, campaign: str) -> CampaignModel:
        return self._run(campaign).model

    # -- lookups -------------------------------------------------------------------------

    def _run(self, name: str) -> _Run:
        try:
            return self._runs[name]
        except KeyError:
            raise UnknownEntityError(f"no campaign {name!r}") from None

    def _agent(self, agent_id: str) -> Agent:
        try:
            return self._agents[agent_id]
        except KeyError:
            raise UnknownEntityError(f"no agent {agent_id!r} is logged in") from None

    def _call(self, call_id: int) -> Call:
        try:
            return self._calls[call_id]
        except KeyError:
            raise UnknownEntityError(f"no call {call_id} in progress") from None

    # -- timers --------------------------------------------------------------------------

    def _schedule(self, when: float, kind: str, key: object) -> None:
        heapq.heappush(self._timers, (when, next(self._seq), kind, key))

    def _run_timers(self, now: float, out: list[Action]) -> None:
        timers = self._timers
        while timers and timers[0][0] <= now:
            when, _, kind, key = heapq.heappop(timers)
            if kind in ("pace", "kick") and self._runs.get(key.name) is not key:
                continue  # the campaign was removed (and maybe added again) since
            if kind == "pace":
                run = key
                if run.active <= 0 and not run.waiting:
                    run.pace_scheduled = False  # idle campaigns cost nothing
                    continue
                self._pace(run, when, out)
                self._schedule(when + run.config.pace_interval, "pace", key)
            elif kind == "kick":
                run = key
                run.kicked = False
                if run.active > 0:
                    self._pace(run, when, out)
            elif kind == "abandon":
                call = self._calls.get(key)
                if call is not None and call.state is CallState.WAITING \
                        and call.deadline == when:
                    self._abandon(call, when, out)
            elif kind == "preview":
                agent_id, contact_id = key
                agent = self._agents.get(agent_id)
                if agent is not None and agent.state is AgentState.PREVIEW \
                        and agent.preview is not None and agent.preview.id == contact_id:
                    self._preview_timeout(agent, when, out)

    # -- agents --------------------------------------------------------------------------

    def _on_login(self, event: ev.AgentLoggedIn, now: float, out: list[Action]) -> None:
        if event.agent in self._agents:
            raise DialerStateError(f"cannot log in agent {event.agent!r}: already logged in")
        for name, _ in event.campaigns:
            self._run(name)
        agent = Agent.log_in(event.agent, event.campaigns, now)
        self._agents[agent.id] = agent
        for name in agent.levels:
            run = self._runs[name]
            run.members.add(agent.id)
            if name != agent.home:
                run.guests.add(agent.id)

    def _on_logout(self, event: ev.AgentLoggedOut, now: float, out: list[Action]) -> None:
        agent = self._agent(event.agent)
        before = agent.state
        agent.fire("logout", now)
        home = self._runs[agent.home]
        if before is AgentState.READY:
            home.home_ready.pop(agent.id, None)
            if agent.pause_pending:
                home.deferred_pauses -= 1
        elif before is AgentState.WRAP_UP:
            home.wrapping.pop(agent.id, None)
        elif before is AgentState.PREVIEW and agent.preview is not None:
            self._active_numbers.discard(agent.preview.number)
            self._provider.defer(agent.preview, now)
        if before is not AgentState.PAUSED:
            home.active -= 1
        for name in agent.levels:
            self._runs[name].members.discard(agent.id)
            self._runs[name].guests.discard(agent.id)
        del self._agents[agent.id]

    def _on_ready(self, event: ev.AgentReady, now: float, out: list[Action]) -> None:
        agent = self._agent(event.agent)
        if agent.state is AgentState.READY:
            if agent.pause_pending:  # a deferred pause is called off
                agent.pause_pending = False
                self._runs[agent.home].deferred_pauses -= 1
            return
        agent.fire("ready", now)
        agent.pause_pending = False
        home = self._runs[agent.home]
        home.active += 1
        if not home.pace_scheduled:
            home.pace_scheduled = True
            self._schedule(now, "pace", home)
        self._available(agent, now, out)

    def _on_pause(self, event: ev.AgentPaused, now: float, out: list[Action]) -> None:
        agent = self._agent(event.agent)
        if agent.state is AgentState.PAUSED or agent.pause_pending:
            return
        home = self._runs[agent.home]
        if agent.state is AgentState.READY:
            if home.config.mode.automatic and home.spare < 1:
                # the agent covers a call in flight: the pause waits for it (hard cap)
                agent.pause_pending = True
                home.deferred_pauses += 1
                return
            home.home_ready.pop(agent.id, None)
            agent.fire("pause", now)
            home.active -= 1
        else:
            agent.pause_pending = True  # after this call, wrap-up or preview

    def _settle_pauses(self, run: _Run, now: float) -> None:
        for agent_id in [a for a in run.home_ready if self._agents[a].pause_pending]:
            if run.spare < 1:
                return
            agent = self._agents[agent_id]
            del run.home_ready[agent_id]
            agent.pause_pending = False
            run.deferred_pauses -= 1
            agent.fire("pause", now)
            run.active -= 1

    def _on_wrap_done(self, event: ev.WrapUpDone, now: float, out: list[Action]) -> None:
        agent = self._agent(event.agent)
        started = agent.since
        agent.fire("wrap_done", now)
        home = self._runs[agent.home]
        home.wrapping.pop(agent.id, None)
        home.model.wrap.add(now - started)
        self._available(agent, now, out)

    def _first_for(self, agent: Agent, queue: Callable[[_Run], dict[int, float]]
                   ) -> tuple[_Run, int] | None:
        """The call ``agent`` takes first from its campaigns' ``queue`` (requeued
        customers or waiting answers, each oldest first): its home campaign's before the
        others', then the better skill level, then the one waiting longest."""
        best: tuple[tuple[bool, int, float], _Run, int] | None = None
        for name, level in agent.levels.items():
            run = self._runs[name]
            calls = queue(run)
            if calls:
                call_id, since = next(iter(calls.items()))
                key = (name != agent.home, level.rank, since)
                if best is None or key < best[0]:
                    best = (key, run, call_id)
        return None if best is None else (best[1], best[2])

    def _available(self, agent: Agent, now: float, out: list[Action]) -> None:
        """``agent`` has just become READY: pause, take a waiting call, preview, or wait."""
        home = self._runs[agent.home]
        if agent.pause_pending:
            agent.pause_pending = False
            agent.fire("pause", now)
            home.active -= 1
            return
        found = self._first_for(agent, lambda run: run.requeued)   # requeued ones first
        if found is not None:
            self._move(self._calls[found[1]], agent, now, out)
            return
        found = self._first_for(agent, lambda run: run.waiting)
        if found is not None:
            run, call_id = found
            del run.waiting[call_id]
            call = self._calls[call_id]
            call.fire("agent_found")
            self._connect(agent, call, now, out)
            self._settle_live(call, now, at_once=False, abandoned=False)
            return
        if home.previews:
            self._offer_preview(agent, home, home.previews.popleft(), now, out)
            return
        if home.config.mode is Mode.PREVIEW:
            taken = self._take_contact(home, now, agent_attached=True)
            if taken is not None:
                self._offer_preview(agent, home, taken[0], now, out)
                return
        home.home_ready[agent.id] = None
        if home.config.mode.automatic and home.config.mode is not Mode.VICIDIAL:
            self._kick(home, now)

    def _kick(self, run: _Run, now: float) -> None:
        """Pace ``run`` before the next event: its capacity just changed."""
        if not run.kicked:
            run.kicked = True
            self._schedule(now, "kick", run)

    def _connect(self, agent: Agent, call: Call, now: float, out: list[Action]) -> None:
        home = self._runs[agent.home]
        home.home_ready.pop(agent.id, None)
        run = self._runs.get(call.origin)   # the campaign whose dial it was
        if run is not None and agent.state is AgentState.READY:
            # the agent's wait: ready since agent.since (the agent-wait objective)
            run.pacer.on_connect(now, max(0.0, now - agent.since))
        agent.fire("connect", now)
        agent.call_id = call.id
        call.agent = agent.id
        home.talking[agent.id] = now
        out.append(Connect(call.id, agent.id))

    def _find_agent(self, run: _Run) -> Agent | None:
        """A ready agent for a live answer of ``run``, by the routing rule above."""
        if run.home_ready:
            return self._agents[next(iter(run.home_ready))]
        best: tuple | None = None
        for agent_id in run.guests:
            agent = self._agents[agent_id]
            if agent.state is not AgentState.READY or agent.pause_pending:
                continue
            home = self._runs[agent.home]
            if agent_id in home.home_ready and home.spare >= 1:
                key = (agent.levels[run.name].rank, agent.since)
                if best is None or key < best[0]:
                    best = (key, agent)
        return best[1] if best else None

    # -- preview and manual --------------------------------------------------------------

    def _offer_preview(self, agent: Agent, run: _Run, contact: Contact, now: float,
                       out: list[Action]) -> None:
        self._runs[agent.home].home_ready.pop(agent.id, None)
        agent.fire("offer_preview", now)
        self._active_numbers.add(contact.number)  # nobody else dials it while it is shown
        agent.preview = contact
        agent.preview_campaign = run.name
        deadline = now + run.config.preview_timeout
        self._schedule(deadline, "preview", (agent.id, contact.id))
        out.append(OfferPreview(agent.id, run.name, contact, deadline))

    def _on_preview_decision(self, event: ev.PreviewDecision, now: float,
                             out: list[Action]) -> None:
        agent = self._agent(event.agent)
        if agent.state is not AgentState.PREVIEW or agent.preview is None \
                or agent.preview.id != event.contact_id:
            shown = agent.preview.id if agent.preview else None
            raise DialerStateError(
                f"cannot take a preview decision on contact {event.contact_id!r} from agent "
                f"{agent.id!r}: state is {agent.state}, previewing {shown!r}")
        self._preview_resolve(agent, event.dial, now, out)

    def _preview_timeout(self, agent: Agent, now: float, out: list[Action]) -> None:
        run = self._runs[agent.preview_campaign]
        dial = run.config.preview_dial_on_timeout
        out.append(PreviewExpired(agent.id, agent.preview.id, dial))
        self._preview_resolve(agent, dial, now, out)

    def _preview_resolve(self, agent: Agent, dial: bool, now: float, out: list[Action]) -> None:
        contact, run = agent.preview, self._runs[agent.preview_campaign]
        agent.preview = agent.preview_campaign = None
        if dial:
            agent.fire("preview_dial", now)
            self._place(run, contact, now, out, agent=agent)
        else:
            agent.fire("preview_skip", now)
            self._active_numbers.discard(contact.number)
            self._provider.defer(contact, now + SKIP_DELAY)
            self._available(agent, now, out)

    def _on_manual_dial(self, event: ev.ManualDial, now: float, out: list[Action]) -> None:
        """Dial for a ready agent; or, with a given contact, for an agent looking at a
        preview record (a callback due for it, a number it typed): the record shown goes
        back to the list at once."""
        agent = self._agent(event.agent)
        run = self._run(event.campaign)
        if event.campaign not in agent.levels:
            raise DialerStateError(f"cannot dial for agent {agent.id!r} on campaign "
                                   f"{run.name!r}: not logged in to it")
        previewing = agent.state is AgentState.PREVIEW and event.contact is not None
        if agent.state is not AgentState.READY and not previewing:
            raise DialerStateError(f"cannot dial for agent {agent.id!r}: state is "
                                   f"{agent.state}")
        home = self._runs[agent.home]
        if home.config.mode.automatic and home.spare < 1 and not previewing:
            raise DialerStateError(f"cannot dial for agent {agent.id!r}: campaign "
                                   f"{home.name!r} counts on the agent for a call in flight")
        contact = event.contact
        if contact is None:
            taken = self._take_contact(run, now, agent_attached=True)
            contact = taken[0] if taken else None
        if contact is None:
            raise DialerStateError(f"cannot dial for agent {agent.id!r}: campaign "
                                   f"{run.name!r} has no contact due")
        if contact.number in self._active_numbers:
            raise DialerStateError(f"cannot dial {contact.number} for agent {agent.id!r}: "
                                   "the number is already on a call")
        if previewing:
            shown = agent.preview
            assert shown is not None
            agent.preview = agent.preview_campaign = None
            agent.fire("preview_skip", now)
            self._active_numbers.discard(shown.number)
            self._provider.defer(shown, now)
        home.home_ready.pop(agent.id, None)
        agent.fire("reserve", now)
        self._place(run, contact, now, out, agent=agent)

    # -- placing calls -------------------------------------------------------------------

    def _take_contact(self, run: _Run, now: float, *, agent_attached: bool = False
                      ) -> tuple[Contact, bool] | None:
        """The next dialable contact, deferring duplicates and locked-out numbers.

        Returns ``(contact, reserve)``: ``reserve`` asks the caller to reserve a ready agent
        for the call, because the number may be dialed today only with an agent
        guaranteed (UK, after a machine). Preview records met by an automatic campaign are
        queued for the next free agent.
        """
        automatic = run.config.mode.automatic
        for _ in range(16):
            contact = self._provider.next_contact(run.name, now)
            if contact is None:
                return None
            if contact.number in self._active_numbers:
                self._provider.defer(contact, now + DUPLICATE_DELAY)
                continue
            lock = self._lockouts.check(contact.number, now)
            guaranteed = agent_attached or (automatic and run.spare >= 1)
            if lock is not None and not (lock[1] and guaranteed):
                self._provider.defer(contact, lock[0])
                continue
            if contact.preview and automatic:
                self._active_numbers.add(contact.number)  # held until the agent decides
                run.previews.append(contact)
                continue
            return contact, lock is not None and not agent_attached
        return None

    def _place(self, run: _Run, contact: Contact, now: float, out: list[Action], *,
               agent: Agent | None = None) -> None:
        call_id = next(self._call_ids)
        call = Call(call_id, run.name, run.name, contact, now)
        if agent is not None:
            call.agent, call.reserved = agent.id, True
            agent.call_id = call_id
        else:
            run.pending[call_id] = now
        self._calls[call_id] = call
        self._active_numbers.add(contact.number)
        run.stats.dials += 1
        out.append(Dial(call_id, run.name, contact, run.config.ring_timeout, call.agent))

    @staticmethod
    def _idle_for_preview(run: _Run) -> bool:
        """More agents ready than calls in flight and customers waiting: one can be
        shown a preview record without leaving an answer with no agent."""
        return len(run.home_ready) > len(run.pending) + len(run.waiting) + len(run.requeued)

    def _pace(self, run: _Run, now: float, out: list[Action]) -> None:
        cfg = run.config
        if cfg.mode is Mode.PREVIEW:
            for agent_id in list(run.home_ready):
                taken = self._take_contact(run, now, agent_attached=True)
                if taken is None:
                    break
                self._offer_preview(self._agents[agent_id], run, taken[0], now, out)
            return
        if not cfg.mode.automatic:
            return
        if run.deferred_pauses:
            self._settle_pauses(run, now)
        # preview records met while pacing (a due callback for anyone in the campaign)
        # wait for the next agent to come free (_seek); but an agent who is ready and
        # that no dial in flight nor customer waiting counts on gets one now: else, with
        # nothing else to call, the record waited for ever. Before the pacing counts
        # its ready agents, so it never dials for an agent who is shown a record.
        while run.previews and self._idle_for_preview(run):
            agent = self._agents[next(iter(run.home_ready))]
            self._offer_preview(agent, run, run.previews.popleft(), now, out)
        queued = len(run.previews)
        # requeued customers wait for an agent as live answers do
        ready, pending = len(run.home_ready), len(run.pending)
        waiting = len(run.waiting) + len(run.requeued)
        room = math.floor(cfg.max_lines_per_agent * run.active + 1e-9) - pending
        limit = "lines"
        allowance = None
        if cfg.mode is not Mode.VICIDIAL:  # the baseline keeps VICIdial's own drop control
            horizon = cfg.ring_timeout + cfg.abandon_after + cfg.pace_interval
            # a requeued customer takes an agent but can never be an abandon: it is
            # not in the cap's worst case (the live answers waiting are)
            requeued = len(run.requeued)
            allowance = run.ledger.max_in_flight(now, ready=max(ready - requeued, 0),
                                                 waiting=waiting - requeued,
                                                 horizon=horizon)
            if allowance is not None and allowance - pending < room:
                room = allowance - pending
                limit = "abandon cap"
        model_pacer = isinstance(run.pacer, ModelPacer)
        if model_pacer and run.stats.live < cfg.warmup_live:
            covered = max(ready - waiting, 0)          # dials an agent is free for
            if covered - pending < room:
                room = covered - pending
                limit = f"warm-up ({run.stats.live} of {cfg.warmup_live} live answers)"
        view = PacingView(
            now=now, ready=ready, waiting=waiting,
            pending=now - np.fromiter(run.pending.values(), float, pending)
            if model_pacer and pending else _EMPTY,
            talking=now - np.fromiter(run.talking.values(), float, len(run.talking))
            if model_pacer and run.talking else _EMPTY,
            wrapping=now - np.fromiter(run.wrapping.values(), float, len(run.wrapping))
            if model_pacer and run.wrapping else _EMPTY,
            agents=run.active, connected=len(run.talking), room=max(room, 0),
            in_flight=pending)
        decision = run.pacer.decide(view)
        dials = max(0, min(decision.dials, room))
        if room <= 0:
            reason = f"{limit} leaves no room"
        elif dials == decision.dials:
            reason = decision.reason
        else:
            reason = f"clamped by {limit}"
        placed = 0
        for _ in range(dials):
            taken = self._take_contact(run, now)
            if taken is None:
                reason = "list exhausted"
                break
            contact, reserve = taken
            agent = None
            if reserve:  # dial with an agent guaranteed: reserve the longest idle one
                agent = self._agents[next(iter(run.home_ready))]
                del run.home_ready[agent.id]
                agent.fire("reserve", now)
            self._place(run, contact, now, out, agent=agent)
            placed += 1
        if len(run.previews) > queued and self._idle_for_preview(run):
            self._kick(run, now)   # a record found just now: offered at the next pace
        if self._debug and (placed or reason != run.last_reason):
            run.log.debug(
                "pace", t=round(now, 3), dials=placed, why=reason, ready=ready,
                in_flight=pending, waiting=waiting, talking=len(run.talking),
                wrap_up=len(run.wrapping), room=room, allowance=allowance,
                answer_p=round(run.model.answer_probability, 4),
                alpha=None if decision.alpha is None else round(decision.alpha, 5),
                risk_next=None if decision.risk_next is None else round(decision.risk_next, 5),
                expected_free=None if decision.expected_free is None
                else round(decision.expected_free, 2),
                expected_answers=None if decision.expected_answers is None
                else round(decision.expected_answers, 2),
                window_rate=round(run.ledger.rate(now), 5))
        run.last_reason = reason

    # -- calls ---------------------------------------------------------------------------

    def _resolve(self, call: Call, now: float, *, live: bool) -> None:
        run = self._runs[call.origin]
        if run.pending.pop(call.id, None) is not None and not live and run.kick_on_failure:
            self._kick(run, now)
        run.model.resolved(now - call.placed, live=live)

    def _on_ringing(self, event: ev.CallRinging, now: float, out: list[Action]) -> None:
        self._call(event.call_id).fire("ringing")

    def _on_answered(self, event: ev.CallAnswered, now: float, out: list[Action]) -> None:
        call = self._call(event.call_id)
        if call.state is not CallState.DIALING:
            call.fire("answer_to_agent")  # raises, naming the state
        run = self._runs[call.origin]
        if event.kind is not AnswerKind.HUMAN:
            call.fire("answer_device")
            self._resolve(call, now, live=False)
            outcome = CallOutcome(event.kind)
            redial = None
            if event.kind is AnswerKind.MACHINE:
                run.stats.machines += 1
                run.ledger.record_machine(now)
                if run.config.regime is Regime.UK:
                    # Ofcom: after a machine, not again today unless an agent is guaranteed
                    redial = next_midnight(now, run.config.day_offset)
                    self._lockouts.lock(call.contact.number, redial, guarded=True)
            out.append(HangUp(call.id, str(outcome)))
            self._release_reserved(call, now, out)
            self._finish(call, outcome, now, out, redial)
            return
        self._resolve(call, now, live=True)
        run.stats.live += 1
        run.ledger.record_live(now)
        call.answered_at = now if event.answered_at is None else min(event.answered_at, now)
        call.greeting_ended_at = None if event.greeting_ended_at is None \
            else min(event.greeting_ended_at, now)
        if call.reserved:
            call.fire("answer_to_agent")
            agent = self._agents[call.agent]
            agent.fire("connect", now)
            self._runs[agent.home].talking[agent.id] = now
            out.append(Connect(call.id, agent.id))
            self._settle_live(call, now, at_once=True, abandoned=False)
            return
        agent = self._find_agent(run)
        if agent is not None:
            call.fire("answer_to_agent")
            self._connect(agent, call, now, out)
            self._settle_live(call, now, at_once=True, abandoned=False)
            return
        call.fire("answer_waiting")
        run.stats.answered_without_agent += 1
        # the limit runs from the moment the regime names (the answer under Ofcom, the
        # greeting's end under the TSR), not from when answer detection told us
        start = abandon_clock_start(run.config.regime, answered_at=call.answered_at,
                                    greeting_ended_at=call.greeting_ended_at, now=now)
        self._wait(call, run, now, start=start)
        if call.deadline is not None and call.deadline <= now:
            self._abandon(call, now, out)  # already past the limit: the message at once

    def _wait(self, call: Call, run: _Run, now: float, *, start: float | None = None) -> None:
        call.campaign = run.name
        call.deadline = (now if start is None else start) + run.config.abandon_after
        run.waiting[call.id] = now
        self._schedule(call.deadline, "abandon", call.id)

    def _settle_live(self, call: Call, now: float, *, at_once: bool, abandoned: bool) -> None:
        """Tell the origin campaign's pacer how a live answer ended (once per call)."""
        if call.rerouted:
            return
        run = self._runs[call.origin]
        run.pacer.on_live_outcome(now, at_once=at_once, abandoned=abandoned,
                                  window_live=run.ledger.live,
                                  window_abandoned=run.ledger.abandoned)

    def _count_abandon(self, call: Call, now: float, out: list[Action]) -> float | None:
        """Count ``call`` as abandoned for its origin; returns the redial lockout, if any."""
        origin = self._runs[call.origin]
        origin.stats.abandoned += 1
        origin.ledger.record_abandon(call.answered_at)
        self._settle_live(call, now, at_once=False, abandoned=True)
        if origin.config.regime is Regime.UK:
            until = now + UK_REDIAL_AFTER_ABANDON  # Ofcom: no repeat within 72 h
            self._lockouts.lock(call.contact.number, until)
            return until
        return None

    def _abandon(self, call: Call, now: float, out: list[Action]) -> None:
        """No agent within the limit: message, IVR, voicemail, or another campaign."""
        run = self._runs[call.campaign]
        del run.waiting[call.id]
        cfg = run.config
        first = not call.rerouted
        redial = self._count_abandon(call, now, out) if first else None
        if cfg.abandon_route is AbandonRoute.CAMPAIGN and first:
            target = self._runs[cfg.abandon_target]
            call.fire("reroute")
            call.rerouted = True
            out.append(Abandon(call.id, run.name, cfg.abandon_route, cfg.abandon_target))
            agent = self._find_agent(target)
            if agent is not None:
                call.fire("agent_found")
                call.campaign = target.name
                self._connect(agent, call, now, out)
            else:
                self._wait(call, target, now)
            return
        route = cfg.abandon_route if cfg.abandon_route is not AbandonRoute.CAMPAIGN \
            else AbandonRoute.MESSAGE
        call.fire("abandon")
        out.append(Abandon(call.id, run.name, route))
        self._finish(call, CallOutcome.ABANDONED, now, out, redial)

    def _on_customer_abandon(self, event: ev.CustomerAbandoned, now: float,
                             out: list[Action]) -> None:
        call = self._call(event.call_id)
        if call.state is not CallState.WAITING:
            call.fire("customer_abandon")  # raises, naming the state
        self._runs[call.campaign].waiting.pop(call.id, None)
        call.fire("customer_abandon")
        redial = self._count_abandon(call, now, out) if not call.rerouted else None
        self._finish(call, CallOutcome.ABANDONED, now, out, redial)

    def _on_failed(self, event: ev.CallFailed, now: float, out: list[Action]) -> None:
        call = self._call(event.call_id)
        call.fire("fail")
        self._resolve(call, now, live=False)
        self._release_reserved(call, now, out)
        self._finish(call, CallOutcome(event.outcome), now, out)

    def _on_not_placed(self, event: ev.DialNotPlaced, now: float, out: list[Action]) -> None:
        """The gateway never placed the call: undo the dial as if it had not been made
        (not counted in the campaign's dials, nothing for the model to learn, a reserved
        agent free again) and give the contact back (``ReturnContact``)."""
        call = self._call(event.call_id)
        if call.state is not CallState.DIALING:
            raise DialerStateError(f"call {call.id} was placed: state is {call.state}")
        call.fire("fail")
        run = self._runs[call.origin]
        run.pending.pop(call.id, None)
        run.stats.dials -= 1
        self._release_reserved(call, now, out)
        self._calls.pop(call.id, None)
        self._active_numbers.discard(call.contact.number)
        out.append(ReturnContact(call.id, call.origin, call.contact, event.retry_at,
                                 event.reason))

    def _on_hung_up(self, event: ev.CallHungUp, now: float, out: list[Action]) -> None:
        call = self._calls.get(event.call_id)
        if call is None:
            return  # already finished (we hung up or abandoned it): idempotent
        if call.state is CallState.WAITING:
            self._on_customer_abandon(ev.CustomerAbandoned(call.id), now, out)
            return
        if call.state is CallState.DIALING:
            call.fire("hangup")
            self._resolve(call, now, live=False)
            self._release_reserved(call, now, out)
            self._finish(call, CallOutcome.ERROR, now, out)
            return
        call.fire("hangup")
        self._runs[call.campaign].requeued.pop(call.id, None)
        agent = self._agents[call.agent]
        started = agent.since
        agent.fire("hangup", now)
        agent.call_id = None
        home = self._runs[agent.home]
        home.talking.pop(agent.id, None)
        home.wrapping[agent.id] = now
        self._runs[call.campaign].model.talk.add(now - started)
        self._finish(call, CallOutcome.HUMAN, now, out)

    def _on_transfer(self, event: ev.CallTransferred, now: float, out: list[Action]) -> None:
        """A connected call changes agents: the first goes to wrap-up (its talk counted),
        the second is connected (``Connect``) as for a new call; the call's outcome is
        recorded once, when it ends."""
        call = self._call(event.call_id)
        if call.state is not CallState.CONNECTED:
            raise DialerStateError(f"cannot transfer call {call.id}: state is {call.state}")
        old = self._agents[call.agent]
        if event.agent is not None:
            new = self._agent(event.agent)
            if new is old:
                raise DialerStateError(f"cannot transfer call {call.id} to agent "
                                       f"{old.id!r}: it is on it")
            if new.state is not AgentState.READY or new.pause_pending:
                raise DialerStateError(f"cannot transfer call {call.id} to agent "
                                       f"{new.id!r}: state is {new.state}")
        else:
            run = self._run(event.campaign)
            found = self._find_agent(run)
            if found is None:
                raise DialerStateError(f"cannot transfer call {call.id} to campaign "
                                       f"{run.name!r}: no agent of it is ready")
            new = found
        self._move(call, new, now, out, campaign=event.campaign)

    def _move(self, call: Call, new: Agent, now: float, out: list[Action], *,
              campaign: str | None = None) -> None:
        """Connected ``call`` goes to ready agent ``new`` (served by ``campaign`` from
        now, if given): its agent goes to wrap-up (its talk counted), ``new`` is
        connected as for a new call."""
        self._runs[call.campaign].requeued.pop(call.id, None)
        if campaign is not None:
            call.campaign = campaign
        old = self._agents[call.agent]
        started = old.since
        old.fire("hangup", now)
        old.call_id = None
        home = self._runs[old.home]
        home.talking.pop(old.id, None)
        home.wrapping[old.id] = now
        self._runs[call.origin].model.talk.add(now - started)
        self._connect(new, call, now, out)

    def _on_requeue(self, event: ev.CallRequeued, now: float, out: list[Action]) -> None:
        """The call's agent is lost: the next free agent of the call's campaign takes
        it now, or the first to come free does (before any live answer waiting)."""
        call = self._call(event.call_id)
        if call.state is not CallState.CONNECTED:
            raise DialerStateError(f"cannot requeue call {call.id}: state is {call.state}")
        run = self._run(call.campaign)
        if call.id in run.requeued:
            raise DialerStateError(f"call {call.id} is requeued already")
        agent = self._find_agent(run)
        if agent is not None:
            self._move(call, agent, now, out)
        else:
            run.requeued[call.id] = now

    def _on_requeue_given_up(self, event: ev.RequeueGivenUp, now: float,
                             out: list[Action]) -> None:
        call = self._call(event.call_id)
        run = self._runs.get(call.campaign)
        if run is None or run.requeued.pop(call.id, None) is None:
            raise DialerStateError(f"call {call.id} is not waiting for an agent")

    def _release_reserved(self, call: Call, now: float, out: list[Action]) -> None:
        if call.reserved:
            agent = self._agents[call.agent]
            agent.fire("release", now)
            agent.call_id = None
            self._available(agent, now, out)

    def _finish(self, call: Call, outcome: CallOutcome, now: float, out: list[Action],
                redial: float | None = None) -> None:
        self._calls.pop(call.id, None)
        self._active_numbers.discard(call.contact.number)
        out.append(RecordOutcome(call.id, call.origin, call.contact, outcome, redial))
