"""Where the desk runner sends each thing that happens: desk ops, gateway events, timers.

Why a module of its own: each part of the desk runner (positions, transfers and
consultations, dispositions, an agent's own dials, a browser's lost audio) handles its
own ops and its own legs' events; this is the one place that knows all of them and
decides, for each op and each gateway event, which part takes it, and in which order
(a late ring before anything; a lost browser, a recording, an SMS before the call's
routing; a customer hanging up ends its consultation before the call is settled).
"""

from __future__ import annotations

from typing import Any

from trunkline.dialer.desk.outputs import (
    CallOp,
    DialRequest,
    DropPosition,
    LeaveConsult,
    LogState,
    Op,
    RecordDisposition,
    RingPosition,
    SaveCallback,
)
from trunkline.dialer.runner.campaign_runner import _Position
from trunkline.dialer.runner.desk_dials import DeskDials
from trunkline.dialer.runner.desk_dispositions import SMS_EVENTS, DeskDispositions
from trunkline.dialer.runner.desk_positions import DeskPositions
from trunkline.dialer.runner.desk_transfers import DeskTransfers
from trunkline.dialer.vocab import AgentState


class DeskDispatch(DeskPositions, DeskTransfers, DeskDispositions, DeskDials):
    """The desk runner's parts joined, each op and event routed to its part."""

    def _op(self, op: Op, now: float) -> list[Any]:
        if isinstance(op, RingPosition):
            return self._ring(op, now)
        if isinstance(op, DropPosition):
            return self._drop_position(op)
        if isinstance(op, LogState):
            self.store.log_agent_state(op.agent, op.state, op.reason, op.since, op.until)
            return []
        if isinstance(op, RecordDisposition):
            return self._record_disposition(op, now)
        if isinstance(op, SaveCallback):
            return self._save_callback(op, now)
        if isinstance(op, DialRequest):
            return self._manual_dial(op, now)
        if isinstance(op, CallOp):
            return self._call_op(op, now)
        if isinstance(op, LeaveConsult):
            return self._leave_consult(op, now)
        return super()._op(op, now)

    def _on_event(self, event: Any, now: float) -> None:
        if self._late_rings and event.get("tag") in self._late_rings:
            self._on_late_ring(event)
            return
        if self.softphone.on_event(event, now):
            return
        if self.recording.on_event(event):  # before a transfer's routing takes it
            return
        if event.get("event") in SMS_EVENTS:
            self._on_sms_event(event, now)
            return
        gw = event.get("call")
        if event.get("event") == "call.state" and event.get("state") == "hungup":
            for agent, consult in list(self._consults.items()):
                if consult.customer == gw:  # the customer left while the agent consulted
                    del self._consults[agent]
                    if consult.agent is not None:   # a desk agent: free again, not hung up
                        self._free_consulted(consult, now)
                    else:
                        self._consult_legs.pop(consult.out, None)
                        self._hang_up(consult.out)
                    self._feed(self.desk.transfer_failed(agent, "the customer hung up"), now)
        if gw in self._consult_legs:
            self._on_consult_event(gw, event, now)
            return
        if gw in self._transfers or any(h.customer == gw for h in self._transfers.values()):
            self._on_transfer_event(gw, event)
            return
        super()._on_event(event, now)

    def _on_agent_event(self, position: _Position, event: Any, now: float) -> None:
        if event.get("event") != "call.state":
            return
        state = event.get("state")
        agent = position.agent
        if state == "answered" and not position.logged_in:
            position.logged_in = True
            self._feed(self.desk.position_answered(agent, now), now)
            if agent in self.engine.agents:
                seat = self.desk.seats[agent]
                position.session = self.store.open_agent_session(
                    agent, [name for name, _ in seat.campaigns], now)
        elif state == "hungup":
            position.gone = True
            self._consult_phone_gone(agent, now)
            current = self.engine.agents.get(agent)
            if current is not None and current.state is AgentState.TALKING \
                    and current.call_id in self.customers:
                customer = self.customers[current.call_id].gw
                if not self.softphone.position_ended(agent, customer, now):  # a page lost:
                    self._hangup(customer)                       # requeue or apology first
            if self.agent_legs.get(agent) is position:  # not an earlier login's phone
                self.softphone.position_gone(agent)
                self._feed(self.desk.position_lost(agent, now, *(
                    () if position.logged_in else (self._unanswered(position, event),))),
                    now)
            self.softphone.flush(now)   # its requeued customer: first for the next agent
            if position.session is not None and agent not in self.engine.agents:
                self.store.close_agent_session(position.session, now)
                position.session = None
            if self.agent_legs.get(agent) is position and agent not in self.desk.seats:
                del self.agent_legs[agent]

    def _on_timer(self, kind: str, key: Any, now: float) -> None:
        if kind == "wrap":
            return  # wrap-up ends with the disposition (the desk), not a timer
        if kind == "position_ring":   # nobody lifted it: only this agent's login fails
            position = self._positions.get(key)
            if position is not None and not position.logged_in and not position.gone:
                self._ring_expired.add(key)
                self._hang_up(key)
            return
        super()._on_timer(kind, key, now)
