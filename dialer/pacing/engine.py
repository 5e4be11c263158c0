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

Who takes a live answer (routing) and what an agent that comes free takes: see
:mod:`~trunkline.dialer.pacing.engine_agents`.

Per-event work is O(1) in the number of campaigns; pacing runs only for campaigns whose
own agents are logged in and not paused.

The engine is one state machine, split by kind of event into parts that share its books
(:mod:`~trunkline.dialer.pacing.engine_books`, per campaign
:mod:`~trunkline.dialer.pacing.campaign_run`); :class:`Engine` joins them, takes each
event to its handler and runs the timers:

- :mod:`~trunkline.dialer.pacing.engine_agents`: agents' events, routing to agents;
- :mod:`~trunkline.dialer.pacing.engine_previews`: preview records and manual dials;
- :mod:`~trunkline.dialer.pacing.engine_dialing`: pacing and placing calls;
- :mod:`~trunkline.dialer.pacing.engine_calls`: answers, abandons, failures, hang-ups;
- :mod:`~trunkline.dialer.pacing.engine_transfers`: transfers and requeues.

The parts that stand alone are elsewhere: the state tables
(:mod:`~trunkline.dialer.pacing.agents`, :mod:`~trunkline.dialer.pacing.calls`), the
pacers, the learning model and the compliance rules.
"""

from __future__ import annotations

import heapq
import itertools
import logging
import math
from collections.abc import Iterable, Mapping
from typing import cast

import structlog

from trunkline.dialer.errors import DialerStateError, UnknownEntityError
from trunkline.dialer.pacing import events as ev
from trunkline.dialer.pacing.actions import Action
from trunkline.dialer.pacing.agents import Agent
from trunkline.dialer.pacing.calls import Call
from trunkline.dialer.pacing.campaign import CampaignConfig
from trunkline.dialer.pacing.campaign_run import CampaignRun, CampaignStats, make_pacer
from trunkline.dialer.pacing.compliance import AbandonLedger, Lockouts
from trunkline.dialer.pacing.contacts import ContactProvider
from trunkline.dialer.pacing.engine_agents import EngineAgents
from trunkline.dialer.pacing.engine_calls import EngineCalls
from trunkline.dialer.pacing.engine_dialing import EngineDialing
from trunkline.dialer.pacing.engine_previews import EnginePreviews
from trunkline.dialer.pacing.engine_transfers import EngineTransfers
from trunkline.dialer.pacing.learning import CampaignModel
from trunkline.dialer.pacing.pacers import ModelPacer, RatioPacer, VicidialPacer
from trunkline.dialer.vocab import AgentState, CallState, Mode


def quiet_logger() -> structlog.typing.FilteringBoundLogger:
    """A logger that drops everything below warning (simulations, tests)."""
    logger: structlog.typing.FilteringBoundLogger = structlog.wrap_logger(
        structlog.PrintLogger(),
        wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING),
    )
    return logger


class Engine(EngineAgents, EnginePreviews, EngineDialing, EngineCalls, EngineTransfers):
    """The dialing engine for a set of campaigns sharing one pool of agents."""

    def __init__(self, campaigns: Iterable[CampaignConfig], provider: ContactProvider, *,
                 log: structlog.typing.FilteringBoundLogger | None = None) -> None:
        base = log if log is not None else structlog.get_logger("trunkline.dialer").bind()
        self._log = base
        self._debug = base.is_enabled_for(logging.DEBUG)
        self._runs = {}
        for config in campaigns:
            if config.name in self._runs:
                raise ValueError(f"campaign {config.name!r} is configured twice")
            self._runs[config.name] = CampaignRun(config, base)
        for run in self._runs.values():
            target = run.config.abandon_target
            if target is not None and target not in self._runs:
                raise ValueError(f"campaign {run.name!r} routes abandoned calls to "
                                 f"unknown campaign {target!r}")
        self._provider = provider
        self._agents = {}
        self._calls = {}
        self._active_numbers = set()
        self._lockouts = Lockouts()
        self._timers = []
        self._seq = itertools.count()
        self._call_ids = itertools.count(1)
        self._now = -math.inf
        self._carry = []
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
        self._runs[config.name] = CampaignRun(config, self._log)

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

    # -- timers --------------------------------------------------------------------------

    def _run_timers(self, now: float, out: list[Action]) -> None:
        timers = self._timers
        while timers and timers[0][0] <= now:
            when, _, kind, key = heapq.heappop(timers)
            # the key's type goes with the kind (EngineBooks._timers); cast, not checked,
            # as this loop runs at every event
            if kind in ("pace", "kick") and self._runs.get(cast(CampaignRun, key).name) \
                    is not key:
                continue  # the campaign was removed (and maybe added again) since
            if kind == "pace":
                run = cast(CampaignRun, key)
                if run.active <= 0 and not run.waiting:
                    run.pace_scheduled = False  # idle campaigns cost nothing
                    continue
                self._pace(run, when, out)
                self._schedule(when + run.config.pace_interval, "pace", key)
            elif kind == "kick":
                run = cast(CampaignRun, key)
                run.kicked = False
                if run.active > 0:
                    self._pace(run, when, out)
            elif kind == "abandon":
                call = self._calls.get(cast(int, key))
                if call is not None and call.state is CallState.WAITING \
                        and call.deadline == when:
                    self._abandon(call, when, out)
            elif kind == "preview":
                agent_id, contact_id = cast("tuple[str, str]", key)
                agent = self._agents.get(agent_id)
                if agent is not None and agent.state is AgentState.PREVIEW \
                        and agent.preview is not None and agent.preview.id == contact_id:
                    self._preview_timeout(agent, when, out)
