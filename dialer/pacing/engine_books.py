"""The dialing engine's books: what every part of it reads and changes within one event.

Why a module of its own: the engine is one state machine split by kind of event into
parts (:mod:`engine_agents`, :mod:`engine_previews`, :mod:`engine_dialing`,
:mod:`engine_calls`, :mod:`engine_transfers`); they share the records declared here
(campaigns, agents, calls, numbers on a call, lockouts, timers), the lookups that
name what is unknown, and the few steps most parts take on them (pace a campaign soon,
find the agent for a live call, connect it, tell the pacer how a live answer ended).
:class:`~trunkline.dialer.pacing.engine.Engine` sets them up.
"""

from __future__ import annotations

import heapq
import itertools
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import structlog

from trunkline.dialer.errors import UnknownEntityError
from trunkline.dialer.pacing.actions import Action, Connect
from trunkline.dialer.pacing.agents import Agent
from trunkline.dialer.pacing.calls import Call
from trunkline.dialer.pacing.campaign_run import CampaignRun
from trunkline.dialer.pacing.compliance import Lockouts
from trunkline.dialer.pacing.contacts import Contact, ContactProvider
from trunkline.dialer.vocab import AgentState


class EngineBooks:
    """The records the engine's parts share (see the module docstring)."""

    _log: structlog.typing.FilteringBoundLogger
    _debug: bool
    _runs: dict[str, CampaignRun]
    _provider: ContactProvider
    _agents: dict[str, Agent]
    _calls: dict[int, Call]
    _active_numbers: set[str]
    _lockouts: Lockouts
    #: (when, sequence, kind, key): the key is the CampaignRun of a "pace" or "kick",
    #: the call id of an "abandon", (agent id, contact id) of a "preview"
    _timers: list[tuple[float, int, str, object]]
    _seq: itertools.count[int]
    _call_ids: itertools.count[int]
    _now: float
    _carry: list[Action]
    #: event type -> its handler, each taking its own event type (hence Any)
    _handlers: dict[type, Callable[[Any, float, list[Action]], None]]

    if TYPE_CHECKING:
        # The steps one part takes that another part defines (the engine joins them):
        # declared here for the type checker only, so each part is checked on its own
        # and a changed signature is caught where it is defined. Not defined at run
        # time: an Engine finds them on the part that defines them, as before.
        def _available(self, agent: Agent, now: float, out: list[Action]) -> None: ...

        def _settle_pauses(self, run: CampaignRun, now: float) -> None: ...

        def _take_contact(self, run: CampaignRun, now: float, *,
                          agent_attached: bool = False) -> tuple[Contact, bool] | None: ...

        def _place(self, run: CampaignRun, contact: Contact, now: float,
                   out: list[Action], *, agent: Agent | None = None) -> None: ...

        def _pace(self, run: CampaignRun, now: float, out: list[Action]) -> None: ...

        def _offer_preview(self, agent: Agent, run: CampaignRun, contact: Contact,
                           now: float, out: list[Action]) -> None: ...

        def _preview_timeout(self, agent: Agent, now: float, out: list[Action]) -> None: ...

        def _abandon(self, call: Call, now: float, out: list[Action]) -> None: ...

        def _move(self, call: Call, new: Agent, now: float, out: list[Action], *,
                  campaign: str | None = None) -> None: ...

    # -- lookups -------------------------------------------------------------------------

    def _run(self, name: str) -> CampaignRun:
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

    # -- steps every part takes: pace soon, route a live call, connect it, settle it ------

    def _kick(self, run: CampaignRun, now: float) -> None:
        """Pace ``run`` before the next event: its capacity just changed."""
        if not run.kicked:
            run.kicked = True
            self._schedule(now, "kick", run)

    def _find_agent(self, run: CampaignRun) -> Agent | None:
        """A ready agent for a live answer of ``run``, by the rule in :mod:`engine_agents`."""
        if run.home_ready:
            return self._agents[next(iter(run.home_ready))]
        best: tuple[tuple[int, float], Agent] | None = None
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

    def _to_wrap_up(self, call: Call, now: float, talk_of: str) -> None:
        """The call's agent hangs up into wrap-up; its talk time counts in campaign
        ``talk_of``'s model (the call's campaign at a hang-up, its origin at a move)."""
        assert call.agent is not None  # a connected call has its agent
        agent = self._agents[call.agent]
        started = agent.since
        agent.fire("hangup", now)
        agent.call_id = None
        home = self._runs[agent.home]
        home.talking.pop(agent.id, None)
        home.wrapping[agent.id] = now
        self._runs[talk_of].model.talk.add(now - started)

    def _settle_live(self, call: Call, now: float, *, at_once: bool, abandoned: bool) -> None:
        """Tell the origin campaign's pacer how a live answer ended (once per call)."""
        if call.rerouted:
            return
        run = self._runs[call.origin]
        run.pacer.on_live_outcome(now, at_once=at_once, abandoned=abandoned,
                                  window_live=run.ledger.live,
                                  window_abandoned=run.ledger.abandoned)
