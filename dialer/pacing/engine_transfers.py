"""The dialing engine's connected calls changing agents: transfers and requeues.

Why a module of its own: a connected call that moves (an agent transfers it, or its
agent's position was lost and it is requeued) is neither a new call nor an ended one:
its first agent goes to wrap-up with its talk counted, the next is connected as for a
new call, and its outcome is recorded once, when it ends. A requeued customer waits
before any live answer, and is never an abandon.
"""

from __future__ import annotations

from trunkline.dialer.errors import DialerStateError
from trunkline.dialer.pacing import events as ev
from trunkline.dialer.pacing.actions import Action
from trunkline.dialer.pacing.agents import Agent
from trunkline.dialer.pacing.calls import Call
from trunkline.dialer.pacing.engine_books import EngineBooks
from trunkline.dialer.vocab import AgentState, CallState


class EngineTransfers(EngineBooks):
    """Transfers and requeues of connected calls (see the module docstring)."""

    def _on_transfer(self, event: ev.CallTransferred, now: float, out: list[Action]) -> None:
        """A connected call changes agents: the first goes to wrap-up (its talk counted),
        the second is connected (``Connect``) as for a new call; the call's outcome is
        recorded once, when it ends."""
        call = self._call(event.call_id)
        if call.state is not CallState.CONNECTED:
            raise DialerStateError(f"cannot transfer call {call.id}: state is {call.state}")
        assert call.agent is not None  # a connected call has its agent
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
            assert event.campaign is not None  # the event names an agent or a campaign
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
        self._to_wrap_up(call, now, call.origin)
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
