"""The dialing engine's agents: log in and out, ready, pause, wrap-up, and who takes a call.

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

Why a module of its own: an agent coming free is where the engine decides what it does
next (a pause that waited, a requeued customer, a waiting answer, a preview record, or
the ready queue that pacing counts); the routing is written here, beside that decision.
A live answer looks for its agent with ``EngineBooks._find_agent`` (engine_books.py),
shared by every part that routes a call.
"""

from __future__ import annotations

from collections.abc import Callable

from trunkline.dialer.errors import DialerStateError
from trunkline.dialer.pacing import events as ev
from trunkline.dialer.pacing.actions import Action
from trunkline.dialer.pacing.agents import Agent
from trunkline.dialer.pacing.campaign_run import CampaignRun
from trunkline.dialer.pacing.engine_books import EngineBooks
from trunkline.dialer.vocab import AgentState, Mode


class EngineAgents(EngineBooks):
    """Agents' events and what an agent coming free takes (see the module docstring)."""

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

    def _settle_pauses(self, run: CampaignRun, now: float) -> None:
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

    def _first_for(self, agent: Agent, queue: Callable[[CampaignRun], dict[int, float]]
                   ) -> tuple[CampaignRun, int] | None:
        """The call ``agent`` takes first from its campaigns' ``queue`` (requeued
        customers or waiting answers, each oldest first): its home campaign's before the
        others', then the better skill level, then the one waiting longest."""
        best: tuple[tuple[bool, int, float], CampaignRun, int] | None = None
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
