"""What the desk runner does when an agent's browser loses its audio mid-call (issue 19).

A browser position (the softphone) whose page vanishes (the network drops, the tab is
closed, ICE fails) is not hung up at once: the gateway keeps its call ``[webrtc]
reconnect`` seconds for the page to come back (a reload resumes the same call). Meanwhile
the customer must not hear silence:

- the page's audio is **lost** (``webrtc.state`` lost/closed) while the agent talks to a
  customer: the customer hears the campaign's hold music (``hold_file``), or without one
  the zone's call-waiting tone, over the (now silent) agent;
- the page comes back (``connected``): the hold sound stops, the conversation goes on;
- the position ends without the page coming back: the customer hears the apology
  (``abandon_file``, else ``abandon_tone`` for ``abandon_seconds``) and the call ends
  (the policy for now; handing the customer back to the queue is not built).
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from trunkline.dialer.vocab import AgentState
from trunkline.gateway.rpc.errors import RpcError

if TYPE_CHECKING:
    from trunkline.dialer.runner.desk_runner import DeskRunner

__all__ = ["HOLD_TONE", "SoftphoneFaults"]

#: What a customer hears while the agent's page reconnects, without a hold file.
HOLD_TONE = "callwaiting"


@dataclass(slots=True)
class _Held:
    customer: int          # the customer's gateway call
    since: float


class SoftphoneFaults:
    """The runner's side of a browser position losing its audio (see the module
    docstring). ``on_event`` takes the ``webrtc.state`` events (and the apology's end)."""

    def __init__(self, runner: DeskRunner) -> None:
        self.runner = runner
        self.held: dict[str, _Held] = {}         # agent -> its customer, on hold
        self.apologising: set[int] = set()       # customers hearing the apology
        self.lost = 0                            # pages lost with a customer on the line
        self.resumed = 0                         # ... that came back in time

    def on_event(self, event: Any, now: float) -> bool:
        """True when the event was the softphone's (the runner need not look further)."""
        kind = event.get("event")
        if kind == "play.finished" and event.get("call") in self.apologising:
            self._hang_up(int(event["call"]))
            return True
        if kind != "webrtc.state":
            return False
        agent = self._agent_of(event.get("call"))
        if agent is None:
            return True
        state = event.get("state")
        if state in ("lost", "closed"):
            customer = self._customer_of(agent)
            if customer is not None and agent not in self.held:
                self.held[agent] = _Held(customer, now)
                self.lost += 1
                self._play_hold(customer)
        elif state == "connected" and agent in self.held:
            held = self.held.pop(agent)
            self.resumed += 1
            with contextlib.suppress(RpcError):   # the customer may have left meanwhile
                self.runner.gateway.stop_play(held.customer)
        return True

    def apologise(self, agent: str, customer: int, now: float) -> bool:
        """The agent's position ended while its customer was on hold for a lost page:
        the apology, then the end (True); False when the page was not lost (the runner
        hangs the customer up as for any position)."""
        held = self.held.pop(agent, None)
        if held is None or held.customer != customer:
            return False
        runner = self.runner
        try:
            if runner.abandon_file:
                runner.gateway.play(customer, file=runner.abandon_file)
                self.apologising.add(customer)
                runner._schedule(now + 60.0, "hangup", customer)  # play.finished first
            else:
                runner.gateway.play(customer, tone=runner.abandon_tone)
                runner._schedule(now + runner.abandon_seconds, "hangup", customer)
        except RpcError:
            return False
        return True

    # -- helpers ---------------------------------------------------------------------------
    def _agent_of(self, call: Any) -> str | None:
        return next((p.agent for p in self.runner.agent_legs.values() if p.gw == call), None)

    def _customer_of(self, agent: str) -> int | None:
        runner = self.runner
        current = runner.engine.agents.get(agent)
        if current is None or current.state is not AgentState.TALKING:
            return None
        customer = runner.customers.get(current.call_id)
        return None if customer is None else customer.gw

    def _play_hold(self, customer: int) -> None:
        runner = self.runner
        try:
            if runner.hold_file:
                runner.gateway.play(customer, file=runner.hold_file)
            else:
                runner.gateway.play(customer, tone=HOLD_TONE)
        except RpcError as err:
            runner._gateway_error(f"cannot play the hold sound to call {customer}: {err}")

    def _hang_up(self, customer: int) -> None:
        self.apologising.discard(customer)
        self.runner._hangup(customer)
