"""What an agent does with the customer it talks to: hold, DTMF, transfers, consultations.

Hold unbridges the customer, who hears ``hold_file`` (a WAV on the gateway host,
looped) or without one the zone's call-waiting tone, never silence (so does a customer
waiting for a transfer's number or a consultation); DTMF goes out on the customer's
call. Transfers: blind to a number (rung, bridged to the customer when it answers; the
agent goes to wrap-up at once); attended to a number (the customer waits while the agent
talks to it, then complete or cancel; a number that does not answer or hangs up gives
the customer back); blind to a ready agent, or to a campaign's ready agent (the engine
moves the call; the new agent's screen pops and its disposition is the call's); attended
to a ready agent or a campaign's next free agent (it is paused with reason ``consult``
so the routing leaves it alone, its phone is bridged to the agent's and its screen pops
the contact; complete makes it ready and moves the call to it, cancel makes it ready
again).

Three-way conference: during an attended transfer to a number that answered, the
customer, the agent and the number are joined in a gateway conference
(``call.conference``: each hears the two others); ``complete_transfer`` then lets the
agent leave the other two together, ``cancel_transfer`` drops the number.

The conference works the same with a consulted agent. The consulted agent may end its
part from its own screen (``end_consult``, or its hang-up while consulted): ringing or
talking, the consulting agent has the customer back, as with a cancel; in the
conference, it leaves and the agent and the customer are bridged again.

Why a module of its own: these operations keep state of their own beside the engine's
call (the consultations in progress, the customers handed over to outside numbers, each
a pair of gateway calls that live on together) and follow the gateway events of those
extra legs; the rest of the desk runner sees them only through :meth:`DeskTransfers.
_call_op` and the two event handlers that :mod:`desk_dispatch` routes to.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from typing import Any

from trunkline.dialer.desk.desk import agents_concerned
from trunkline.dialer.desk.outputs import CallNote, CallOp, LeaveConsult
from trunkline.dialer.errors import DialerError
from trunkline.dialer.pacing import events as ev
from trunkline.dialer.pacing.actions import Action
from trunkline.dialer.runner.desk_feed import DeskFeed
from trunkline.dialer.runner.gateway import REQUEST_FAILED
from trunkline.dialer.runner.softphone_faults import HOLD_TONE
from trunkline.dialer.vocab import AgentState
from trunkline.gateway.rpc.errors import CallTimeout, RpcError

#: The pause reason of an agent consulted in an attended transfer (in the state log).
CONSULT_REASON = "consult"


@dataclass(slots=True)
class _Consult:
    """An attended transfer in progress: the consulted leg and the customer waiting."""

    out: int
    customer: int
    call: int
    target: str
    answered: bool = False
    conference: bool = False
    agent: str | None = None      # the consulted desk agent (``out`` is its position)


@dataclass(slots=True)
class _Handover:
    """A customer handed to an outside number: the two gateway calls live on together."""

    agent: str
    customer: int
    bridged: bool = False


class DeskTransfers(DeskFeed):
    """Hold, DTMF, transfers and consultations (see the module docstring)."""

    hold_file: str | None
    _transfers: dict[int, _Handover]       # outside leg -> the customer
    _consults: dict[str, _Consult]         # agent -> its consultation
    _consult_legs: dict[int, str]          # consulted leg -> agent

    def _call_op(self, op: CallOp, now: float) -> list[Any]:
        customer = self.customers.get(op.call)
        position = self.agent_legs.get(op.agent)
        if customer is None or position is None:
            return self.desk.call_op_failed(op, "the call has ended")
        kind = op.op
        try:
            if kind == "hang_up":
                self._hangup(customer.gw)
            elif kind == "hold":
                self.gateway.unbridge(customer.gw)
                self._play_hold(customer.gw)
            elif kind == "resume":
                self._stop_hold(customer.gw)
                self.gateway.bridge(customer.gw, position.gw)
            elif kind == "send_dtmf":
                self.gateway.send_dtmf(customer.gw, op.arg)
            elif kind == "transfer":
                mode, target_kind, target = op.arg.split(":", 2)
                if target_kind == "number":
                    return self._transfer_out(op, customer.gw, target, mode == "attended",
                                              now)
                if mode == "attended":
                    return self._consult_agent(op, customer.gw, position.gw, target_kind,
                                               target, now)
                return self._transfer_in(op, customer.gw, position.gw, target_kind, target,
                                         now)
            elif kind == "complete_transfer":
                return self._complete_transfer(op, customer.gw, position.gw, now)
            elif kind == "cancel_transfer":
                consult = self._consults.pop(op.agent, None)
                if consult is not None and consult.agent is not None:
                    return self._end_consult(op.agent, consult, now, "")
                if consult is not None:
                    self._consult_legs.pop(consult.out, None)
                    self._hang_up(consult.out)
                    if consult.conference:
                        self.gateway.leave_conference(customer.gw)
                self._stop_hold(customer.gw)
                self.gateway.bridge(customer.gw, position.gw)
            elif kind == "conference":
                return self._conference(op, customer.gw, position.gw)
            else:
                return self.desk.call_op_failed(op, f"cannot {kind}")
        except RpcError as err:
            return self.desk.call_op_failed(op, f"the gateway refused: {err}")
        except CallTimeout as err:   # an overloaded gateway: this op fails, not the runner
            return self.desk.call_op_failed(op, f"the gateway did not reply in time: {err}")
        return []

    def _unbridge_customer(self, gw: int) -> bool:
        """Take the customer off its agent for a transfer; False when it was not bridged
        (on hold already, hearing the hold music)."""
        try:
            self.gateway.unbridge(gw)
        except REQUEST_FAILED:
            return False
        return True

    def _play_hold(self, gw: int) -> None:
        """What a held customer hears: ``hold_file`` (a WAV on the gateway host) looped
        until the hold ends, else the zone's call-waiting tone, so a held line is never
        silent (a silent line is one a customer hangs up, and one regulators count as a
        silent call). A sound the gateway cannot play is logged; the customer stays
        held."""
        try:
            if self.hold_file:
                self.gateway.play(gw, file=self.hold_file, loop=True)
            else:
                self.gateway.play(gw, tone=HOLD_TONE)
        except REQUEST_FAILED as err:
            self._gateway_error(f"cannot play the hold sound to call {gw}: {err}")

    def _dial_out(self, target: str) -> int:
        number = self.dial_string(target) if target.startswith("+") else \
            "".join(ch for ch in target if ch.isdigit())
        return self.gateway.originate(number, group=self.group, ring_timeout=45.0)

    def _transfer_out(self, op: CallOp, customer_gw: int, target: str, attended: bool,
                      now: float) -> list[Any]:
        """To a number. Blind: ring it, the agent leaves now (wrap-up), the customer is
        bridged to it when it answers (hung up if it does not). Attended: the customer
        waits unbridged while the number rings; the agent talks to it once it answers,
        then completes (the customer is bridged to it) or cancels."""
        out_gw = self._dial_out(target)
        if self._unbridge_customer(customer_gw):
            self._play_hold(customer_gw)   # the music while it rings (on hold: playing)
        if attended:
            self._consults[op.agent] = _Consult(out_gw, customer_gw, op.call, target)
            self._consult_legs[out_gw] = op.agent
            return []
        return self._hand_over(op.agent, op.call, customer_gw, out_gw, target)

    def _hand_over(self, agent: str, call: int, customer_gw: int, out_gw: int,
                   target: str, *, bridged: bool = False) -> list[Any]:
        """The customer belongs to the outside leg now: the engine's call ends for the
        agent, the two gateway calls live on (each hangs up the other)."""
        self._transfers[out_gw] = _Handover(agent, customer_gw, bridged)
        self.translator.calls.pop(customer_gw, None)   # no longer the engine's call
        return [*self.desk.transfer_done(agent, target), ev.CallHungUp(call)]

    def _complete_transfer(self, op: CallOp, customer_gw: int, position_gw: int,
                           now: float) -> list[Any]:
        consult = self._consults.get(op.agent)
        if consult is None:
            return self.desk.call_op_failed(op, "no transfer in progress")
        if not consult.answered:
            return self.desk.call_op_failed(op, f"{consult.target} has not answered yet")
        if consult.agent is not None:
            return self._complete_consult(op, consult, now)
        del self._consults[op.agent]
        self._consult_legs.pop(consult.out, None)
        if consult.conference:   # the agent leaves; the other two stay in it together
            self.gateway.leave_conference(position_gw)
        else:
            self.gateway.unbridge(position_gw)
            self._stop_hold(customer_gw)
            self.gateway.bridge(customer_gw, consult.out)
        return self._hand_over(op.agent, op.call, customer_gw, consult.out, consult.target,
                               bridged=True)

    def _conference(self, op: CallOp, customer_gw: int, position_gw: int) -> list[Any]:
        """The consulted party answered: customer, agent and it in one conference."""
        consult = self._consults.get(op.agent)
        if consult is None or not consult.answered:
            return self.desk.call_op_failed(
                op, "the consulted party has not answered yet" if consult
                else "no transfer in progress")
        self._stop_hold(customer_gw)
        self.gateway.conference([customer_gw, position_gw, consult.out])
        consult.conference = True
        return []

    # -- attended transfer to an agent or a campaign ---------------------------------------

    def _consultable(self, agent: str, exclude: str) -> bool:
        """A desk agent who may be consulted now: logged in, its phone up, ready in the
        engine with no pause waiting, and neither consulting nor consulted."""
        state = self.engine.agents.get(agent)
        position = self.agent_legs.get(agent)
        return (agent != exclude and state is not None and state.state is AgentState.READY
                and not state.pause_pending and position is not None and position.logged_in
                and not position.gone and agent in self.desk.seats
                and agent not in self._consults
                and all(c.agent != agent for c in self._consults.values()))

    def _consult_agent(self, op: CallOp, customer_gw: int, position_gw: int, kind: str,
                       target: str, now: float) -> list[Any]:
        """Attended, to an agent or to the next free agent of a campaign: the agent is
        taken out of the routing (paused, reason ``consult``) so no call comes to it, the
        customer waits on hold (the music, if any), the two agents' phones are bridged
        and the consulted agent's screen pops the same contact. Complete, cancel or
        conference follow (:meth:`_complete_consult`, :meth:`_end_consult`)."""
        if kind == "agent":
            if not self._consultable(target, op.agent):
                seat = self.desk.seats.get(target)
                why = "is not logged in" if seat is None else f"is not free ({seat.state})"
                return self.desk.call_op_failed(op, f"agent {target!r} {why}")
            chosen = target
        else:
            free = sorted((a for a, s in self.engine.agents.items()
                           if target in s.levels and self._consultable(a, op.agent)),
                          key=lambda a: self.engine.agents[a].since)  # longest ready first
            if not free:
                return self.desk.call_op_failed(
                    op, f"no agent of campaign {target!r} is free to take the call")
            chosen = free[0]
        seat = self.desk.seats[chosen]
        seat.pause_sent = CONSULT_REASON   # the reason the desk shows once paused
        self._feed([ev.AgentPaused(chosen, CONSULT_REASON)], now)
        state = self.engine.agents.get(chosen)
        if state is None or state.state is not AgentState.PAUSED:   # held back by pacing
            seat.pause_sent = None
            self._feed([ev.AgentReady(chosen)], now)
            return self.desk.call_op_failed(
                op, f"agent {chosen!r} covers a call in flight; try again in a moment")
        seat.consulted_by = op.agent
        consult = _Consult(self.agent_legs[chosen].gw, customer_gw, op.call, chosen,
                           answered=True, agent=chosen)
        self._unbridge_customer(customer_gw)
        try:
            self.gateway.bridge(position_gw, consult.out)
        except REQUEST_FAILED as err:   # a phone went meanwhile: all as before
            self._feed(self._end_consult(op.agent, consult, now, ""), now)
            return self.desk.call_op_failed(op, f"the gateway refused: {err}")
        self._play_hold(customer_gw)
        self._consults[op.agent] = consult
        first = self.desk.seats.get(op.agent)
        card = first.card if first is not None else None
        out: list[Any] = [CallNote(op.agent, "consult_answered", chosen)]
        if card is not None:
            out.append(self.desk.screen_pop(chosen, op.call, card))
        return [*out, CallNote(chosen, "consulted", op.agent)]  # after the pop: its text

    def _leave_consult(self, op: LeaveConsult, now: float) -> list[Any]:
        """The consulted agent ends its part from its screen: ringing or talking, the
        consulting agent has its customer back off hold (as a cancel); in a three-way
        conference it leaves and the agent and the customer stay, bridged."""
        consult = self._consults.get(op.first)
        if consult is None or consult.agent != op.agent:   # completed or cancelled just now
            return [self.desk.refuse(op.agent, "end_consult", "the consultation is over")]
        why = f"agent {op.agent} left the conference" if consult.conference \
            else f"agent {op.agent} ended the consultation"
        self.log.info("desk_consult_ended_by_consulted", agent=op.agent, first=op.first,
                      conference=consult.conference)
        return self._end_consult(op.first, consult, now, why)

    def _release_consulted(self, consult: _Consult, now: float) -> list[Any]:
        """The consulted agent goes back to ready (it was ready when consulted)."""
        assert consult.agent is not None
        seat = self.desk.seats.get(consult.agent)
        if seat is None or seat.consulted_by is None:
            return []
        seat.consulted_by = None
        out: list[Any] = [CallNote(consult.agent, "consult_ended", "")]
        position = self.agent_legs.get(consult.agent)
        if position is not None and not position.gone and not seat.leaving:
            out.append(ev.AgentReady(consult.agent))
        return out

    def _free_consulted(self, consult: _Consult, now: float) -> None:
        """The other side of a consultation with a desk agent went: the consulted
        agent's phone leaves the bridge or conference, and the agent is free again."""
        with contextlib.suppress(*REQUEST_FAILED):   # its bridge may have gone with the call
            if consult.conference:
                self.gateway.leave_conference(consult.out)
            else:
                self.gateway.unbridge(consult.out)
        self._feed(self._release_consulted(consult, now), now)

    def _end_consult(self, agent: str, consult: _Consult, now: float, why: str
                     ) -> list[Any]:
        """Cancelled (``why`` empty), ended by the consulted agent, or its phone went:
        the customer is back with ``agent`` (a conference ends: the two are bridged), the
        consulted agent free again."""
        self._consults.pop(agent, None)
        position = self.agent_legs.get(agent)
        with contextlib.suppress(*REQUEST_FAILED):   # either phone may have gone meanwhile
            if consult.conference:
                self.gateway.leave_conference(consult.out)
            elif position is not None:
                self.gateway.unbridge(position.gw)
        if consult.conference:   # the two left end the conference, to be bridged
            with contextlib.suppress(*REQUEST_FAILED):
                self.gateway.leave_conference(consult.customer)
        self._stop_hold(consult.customer)
        if position is not None and not position.gone \
                and consult.customer in self.translator.calls:
            try:
                self.gateway.bridge(consult.customer, position.gw)
            except REQUEST_FAILED as err:
                self._gateway_error(f"cannot give the customer back to {agent}: {err}")
        out = self._release_consulted(consult, now)
        if why:
            out += self.desk.transfer_failed(agent, why)
        return out

    def _complete_consult(self, op: CallOp, consult: _Consult, now: float) -> list[Any]:
        """The customer goes to the consulted agent: it is made ready and the engine
        moves the call to it at once (its screen pops; the disposition is its to save);
        the first agent leaves (to wrap-up, which ends at once: not its call now)."""
        assert consult.agent is not None
        target = consult.agent
        position = self.agent_legs[op.agent]
        if consult.conference:            # all three apart, then the two bridged
            self.gateway.leave_conference(position.gw)
            with contextlib.suppress(*REQUEST_FAILED):   # a conference of two ends by itself
                self.gateway.leave_conference(consult.customer)
        else:
            self.gateway.unbridge(position.gw)
        self._stop_hold(consult.customer)
        del self._consults[op.agent]
        seat = self.desk.seats.get(target)
        if seat is not None:
            seat.consulted_by = None
        event = ev.CallTransferred(op.call, agent=target)
        try:
            self._feed([ev.AgentReady(target)], now)
            concerned = agents_concerned(self.engine, event)
            actions = self.engine.handle(event, now)
        except DialerError as err:   # the engine gave it a waiting call meanwhile
            self.gateway.bridge(consult.customer, position.gw)
            return [*self.desk.transfer_failed(op.agent, str(err)),
                    self.desk.refuse(op.agent, "complete_transfer", str(err))]
        return self._moved_to_agent(op.agent, op.call, target, actions, concerned, now)

    def _moved_to_agent(self, agent: str, call: int, target: str, actions: list[Action],
                        concerned: set[str], now: float) -> list[Any]:
        """The engine moved ``agent``'s call to another agent (``target``: it, or the
        campaign whose agent took it): the first agent is done with it, and the engine's
        actions (the new bridge, the screen pop) are carried out."""
        self._connected.pop(call, None)
        return [*self.desk.transfer_done(agent, target, to_agent=True),
                *self._apply(actions, now, concerned)]

    def _stop_hold(self, customer_gw: int) -> None:
        with contextlib.suppress(*REQUEST_FAILED):   # it may have ended by itself
            self.gateway.stop_play(customer_gw)

    def _transfer_in(self, op: CallOp, customer_gw: int, position_gw: int, kind: str,
                     target: str, now: float) -> list[Any]:
        """To another agent (ready) or a campaign's ready agent: the engine moves the
        call, the customer is bridged to the new agent, whose screen pops; the call's
        disposition is the new agent's to save."""
        event = ev.CallTransferred(op.call, agent=target) if kind == "agent" \
            else ev.CallTransferred(op.call, campaign=target)
        if kind == "agent" and target not in self.agent_legs:
            return self.desk.call_op_failed(op, f"agent {target!r} is not logged in")
        concerned = agents_concerned(self.engine, event)
        bridged = self._unbridge_customer(customer_gw)
        try:
            actions = self.engine.handle(event, now)
        except DialerError as err:
            if bridged:
                self.gateway.bridge(customer_gw, position_gw)
            return self.desk.call_op_failed(op, str(err))
        self._stop_hold(customer_gw)
        return self._moved_to_agent(op.agent, op.call, target, actions, concerned, now)

    # -- the gateway events of the transfers' legs -------------------------------------------

    def _on_consult_event(self, gw: int, event: Any, now: float) -> None:
        if event.get("event") != "call.state":
            return
        agent = self._consult_legs[gw]
        consult = self._consults[agent]
        position = self.agent_legs.get(agent)
        state = event.get("state")
        if state == "answered" and position is not None and not consult.answered:
            consult.answered = True
            try:
                self.gateway.bridge(position.gw, gw)
            except REQUEST_FAILED as err:
                self._gateway_error(f"cannot bridge agent {agent} to {consult.target}: {err}")
            # the screen can offer complete and conference now (they are refused before)
            self._feed([CallNote(agent, "consult_answered", consult.target)], now)
        elif state == "hungup":
            del self._consult_legs[gw]
            del self._consults[agent]
            why = "hung up" if consult.answered else f"did not answer ({event.get('outcome')})"
            if position is not None and consult.customer in self.translator.calls:
                with contextlib.suppress(*REQUEST_FAILED):  # the consultation was never bridged
                    if consult.conference:
                        self.gateway.leave_conference(consult.customer)
                    else:
                        self.gateway.unbridge(position.gw)
                self._stop_hold(consult.customer)
                try:
                    self.gateway.bridge(consult.customer, position.gw)
                except REQUEST_FAILED as err:
                    self._gateway_error(f"cannot give the customer back to {agent}: {err}")
            self._feed(self.desk.transfer_failed(agent, f"{consult.target} {why}"), now)

    def _on_transfer_event(self, gw: int, event: Any) -> None:
        if event.get("event") != "call.state":
            return
        state = event.get("state")
        out_leg = gw if gw in self._transfers else next(
            o for o, h in self._transfers.items() if h.customer == gw)
        handover = self._transfers[out_leg]
        customer_gw = handover.customer
        if state == "answered" and gw == out_leg and not handover.bridged:
            handover.bridged = True
            self._stop_hold(customer_gw)
            try:
                self.gateway.bridge(customer_gw, out_leg)
            except REQUEST_FAILED as err:
                self._gateway_error(f"cannot bridge the transfer {customer_gw}: {err}")
        elif state == "hungup":
            other = customer_gw if gw == out_leg else out_leg
            del self._transfers[out_leg]
            self._hang_up(other)

    def _calls_up(self) -> bool:
        return super()._calls_up() or bool(self._transfers) or bool(self._consults)

    def _consult_phone_gone(self, agent: str, now: float) -> None:
        """An agent's phone hung up during an attended transfer to a desk agent: the
        consulted one's gives the customer back; the consulting one's frees it."""
        for first, consult in list(self._consults.items()):
            if consult.agent is None:
                continue
            if consult.agent == agent:
                self._feed(self._end_consult(first, consult, now,
                                             f"agent {agent} hung up"), now)
            elif first == agent:
                del self._consults[first]
                self._free_consulted(consult, now)
