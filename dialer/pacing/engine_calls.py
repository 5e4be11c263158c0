"""The dialing engine's calls: ringing, answers, abandons, failures and hang-ups.

Why a module of its own: how a dial ends decides what the campaign learns and what the
regulator counts: an answer by a device releases the line (and under Ofcom locks the
number for the day), a live answer takes an agent or waits for one under the regime's
abandon limit, counted once as an abandon when nobody came; these rules, with the
outcome each call records, sit together here.
"""

from __future__ import annotations

from trunkline.dialer.errors import DialerStateError
from trunkline.dialer.pacing import events as ev
from trunkline.dialer.pacing.abandon_clock import abandon_clock_start
from trunkline.dialer.pacing.actions import (
    Abandon,
    Action,
    Connect,
    HangUp,
    RecordOutcome,
    ReturnContact,
)
from trunkline.dialer.pacing.calls import Call
from trunkline.dialer.pacing.campaign_run import CampaignRun
from trunkline.dialer.pacing.compliance import UK_REDIAL_AFTER_ABANDON, next_midnight
from trunkline.dialer.pacing.engine_books import EngineBooks
from trunkline.dialer.vocab import AbandonRoute, AnswerKind, CallOutcome, CallState, Regime


class EngineCalls(EngineBooks):
    """What happens to a call once dialled (see the module docstring)."""

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
            assert call.agent is not None  # a reserved call was placed with its agent
            held = self._agents[call.agent]
            held.fire("connect", now)
            self._runs[held.home].talking[held.id] = now
            out.append(Connect(call.id, held.id))
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

    def _wait(self, call: Call, run: CampaignRun, now: float, *,
              start: float | None = None) -> None:
        call.campaign = run.name
        call.deadline = (now if start is None else start) + run.config.abandon_after
        run.waiting[call.id] = now
        self._schedule(call.deadline, "abandon", call.id)

    def _count_abandon(self, call: Call, now: float, out: list[Action]) -> float | None:
        """Count ``call`` as abandoned for its origin; returns the redial lockout, if any."""
        origin = self._runs[call.origin]
        origin.stats.abandoned += 1
        assert call.answered_at is not None  # only a live answer is abandoned
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
            assert cfg.abandon_target is not None  # CampaignConfig requires one
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
        self._to_wrap_up(call, now, call.campaign)
        self._finish(call, CallOutcome.HUMAN, now, out)

    def _release_reserved(self, call: Call, now: float, out: list[Action]) -> None:
        if call.reserved:
            assert call.agent is not None  # a reserved call was placed with its agent
            agent = self._agents[call.agent]
            agent.fire("release", now)
            agent.call_id = None
            self._available(agent, now, out)

    def _finish(self, call: Call, outcome: CallOutcome, now: float, out: list[Action],
                redial: float | None = None) -> None:
        self._calls.pop(call.id, None)
        self._active_numbers.discard(call.contact.number)
        out.append(RecordOutcome(call.id, call.origin, call.contact, outcome, redial))
