"""The inbound MFC/R2 call leg: a call the far end places on one of our circuits
(:class:`R2InboundLeg`; the outbound leg and what both share are in :mod:`.leg`).

Every transition is one row of :data:`INBOUND_TRANSITIONS`:
``(state, signal) -> (transition, why)``.
"""

from __future__ import annotations

from collections.abc import Callable
from enum import Enum, StrEnum
from typing import ClassVar, Final

from trunkline.drivers.dsp.events import DetectionEvent, MfEvent
from trunkline.drivers.model import CardEvent, EventKind
from trunkline.drivers.signalling import events as ev
from trunkline.drivers.signalling.detection import (
    DIGITS,
)
from trunkline.drivers.signalling.leg import Output
from trunkline.drivers.signalling.r2.leg import (
    REFUSALS,
    _R2Base,
)
from trunkline.drivers.signalling.r2.line import (
    Input,
    Line,
    LineEvent,
    LineState,
)
from trunkline.drivers.signalling.r2.register import (
    IncomingRegister,
    RegisterEnd,
)
from trunkline.drivers.signalling.r2.variants import ACCEPTED, REFUSED, Meaning
from trunkline.errors import CallStateError
from trunkline.vocab import Outcome

__all__ = ["INBOUND_TRANSITIONS", "InSignal", "InState", "R2InboundLeg"]


class InState(StrEnum):
    COLLECTING = "collecting"
    OFFERED = "offered"
    RINGING = "ringing"      # offered with group B "free" sent at once (accept_on_offer)
    ACCEPTING = "accepting"
    ANSWERED = "answered"
    REFUSING = "refusing"
    CLEARING = "clearing"
    DONE = "done"


class InSignal(Enum):
    """What an inbound R2 leg reacts to."""

    COLLECTED = "the register has the call"
    ACCEPTED = "our group B 'free' went through"
    REFUSED = "our refusal went through"
    REGISTER_FAILED = "the compelled sequence stopped"
    CLEAR_FORWARD = "clear-forward (release guard sent): the circuit is idle"
    RELEASE_TIMEOUT = "no clear-forward in time"
    ANSWER = "the application answers"
    RING = "the application lets the call ring"
    LINE_FAULT = "the span went into alarm"
    HANGUP = "the application hangs up"
    OFFER_TIMEOUT = "nobody answered the offer"
    ANSWER_DELAY_OVER = "our MF has ended long enough: send the answer"
    REFUSE_TIMEOUT = "no clear-forward after our refusal"


IS, IG = InState, InSignal

#: (state, signal) -> (transition method, why).
INBOUND_TRANSITIONS: Final[dict[tuple[InState, InSignal], tuple[str, str]]] = {
    (IS.COLLECTING, IG.COLLECTED): ("_offer", "called number, calling party and category "
                                              "received: the call is offered"),
    (IS.COLLECTING, IG.REFUSED): ("_refused", "we refused a forward signal that made no sense"),
    (IS.COLLECTING, IG.REGISTER_FAILED): ("_give_up", "Q.476 abnormal release of the "
                                                      "incoming register: clear back"),
    (IS.COLLECTING, IG.CLEAR_FORWARD): ("_far_gone", "Q.421 clear-forward during set-up"),
    (IS.COLLECTING, IG.HANGUP): ("_refuse", "refused while collecting (congestion)"),
    (IS.OFFERED, IG.ANSWER): ("_accept", "Q.441 group B 'subscriber free' in answer to the "
                                         "held category, then the answer signal"),
    (IS.OFFERED, IG.HANGUP): ("_refuse", "refused with the group B signal for the cause"),
    (IS.OFFERED, IG.RING): ("_ring", "Q.441 group B 'subscriber free': the caller hears "
                                     "ringing until the answer signal"),
    (IS.OFFERED, IG.OFFER_TIMEOUT): ("_reject", "nobody took the call: refused"),
    (IS.OFFERED, IG.CLEAR_FORWARD): ("_far_gone", "Q.421 clear-forward: the caller gave up"),
    (IS.OFFERED, IG.REGISTER_FAILED): ("_give_up", "the outgoing register gave up waiting"),
    (IS.RINGING, IG.ANSWER): ("_accept", "the answer signal follows our 'free'"),
    (IS.RINGING, IG.HANGUP): ("_give_up", "hung up while ringing: clear back (Q.421: no "
                                          "change of code before the answer)"),
    (IS.RINGING, IG.OFFER_TIMEOUT): ("_reject_ringing", "nobody took the call: clear back"),
    (IS.RINGING, IG.CLEAR_FORWARD): ("_far_gone", "Q.421 clear-forward: the caller gave up"),
    (IS.RINGING, IG.REGISTER_FAILED): ("_give_up", "the compelled sequence stopped"),
    (IS.ACCEPTING, IG.ACCEPTED): ("_wait_answer_delay", "our 'free' ended: the answer "
                                                         "follows (openr2 r2_answer_delay)"),
    (IS.ACCEPTING, IG.ANSWER_DELAY_OVER): ("_send_answer", "Q.421 answered (ab=0 bb=1)"),
    (IS.ACCEPTING, IG.REGISTER_FAILED): ("_give_up", "the compelled sequence stopped"),
    (IS.ACCEPTING, IG.CLEAR_FORWARD): ("_far_gone", "Q.421 clear-forward before the answer"),
    (IS.ACCEPTING, IG.HANGUP): ("_give_up", "hung up before the answer: clear back"),
    (IS.ANSWERED, IG.HANGUP): ("_clear_back", "Q.421 clear-back"),
    (IS.ANSWERED, IG.CLEAR_FORWARD): ("_far_clear", "Q.421 clear-forward: release guard sent"),
    (IS.REFUSING, IG.REFUSED): ("_refusal_heard", "our refusal was heard: clear-forward due"),
    (IS.REFUSING, IG.REGISTER_FAILED): ("_give_up", "the refusal could not be sent: clear back"),
    (IS.REFUSING, IG.REFUSE_TIMEOUT): ("_give_up", "no clear-forward after the refusal"),
    (IS.REFUSING, IG.CLEAR_FORWARD): ("_done", "Q.421 clear-forward after our refusal"),
    (IS.CLEARING, IG.CLEAR_FORWARD): ("_done", "Q.421 clear-forward: release guard sent"),
    (IS.CLEARING, IG.RELEASE_TIMEOUT): ("_done", "no clear-forward: let go, the span keeps the "
                                                 "circuit until the far end clears"),
}

for _in_state in (IS.COLLECTING, IS.OFFERED, IS.RINGING, IS.ACCEPTING, IS.ANSWERED,
                  IS.REFUSING):
    INBOUND_TRANSITIONS[(_in_state, IG.LINE_FAULT)] = (
        "_line_fault", "span alarm: the call is lost; clear back and let the line settle")

_IN_LINE: Final = {LineEvent.CLEAR_FORWARD: IG.CLEAR_FORWARD,
                   LineEvent.RELEASE_TIMEOUT: IG.RELEASE_TIMEOUT}


class R2InboundLeg(_R2Base):
    """A call the far end places on an MFC/R2 circuit: acknowledge the seizure, collect
    the called number, the calling party (category, number) and the category, offer it
    (``Offered(calling, called)``), then on :meth:`answer` send group B "free" and the
    answer signal; a refusal (:meth:`hangup` before the answer, or nobody answering
    within ``offer_for``) is the group B signal for the cause (:data:`REFUSALS`).

    The forward register's last signal is held while the call is offered, so
    ``offer_for`` must stay within the far end's patience (openr2 waits 30 s). With
    ``accept_on_offer`` the group B "free" goes at once instead (openr2's
    ``accept_on_offer``): the caller hears the called line ring, as from an exchange
    ringing a subscriber, and the answer signal follows :meth:`answer`; but a call
    refused after that can only be cleared back, which Q.421 cannot show before an
    answer, so the caller rings until it gives up.
    ``max_called`` and the rest configure the register (:class:`~.register.IncomingRegister`).
    """

    kind: ClassVar[str] = "r2"
    direction: ClassVar[str] = "inbound"

    def __init__(self, call_id: int, span: int, channel: int, line: Line, *,
                 offer_for: float, reject_cause: int = 21, accept_on_offer: bool = False,
                 max_called: int | None = None, max_calling: int | None = None,
                 request_calling: str | None = None) -> None:
        super().__init__(call_id, span, channel, "", line)
        if not offer_for > 0:
            raise ValueError(f"offer_for must be > 0 s, got {offer_for!r}")
        self.offer_for = offer_for
        self.reject_cause = reject_cause
        self.accept_on_offer = accept_on_offer
        self._responded = False
        self.register = IncomingRegister(line.variant, max_called=max_called,
                                         max_calling=max_calling,
                                         request_calling=request_calling)
        self.state = InState.COLLECTING
        self.answered = False
        self.called = ""
        self.calling = ""
        self._until: float | None = None
        self._cause_asked = 16

    # -- inputs -------------------------------------------------------------------------
    def start(self, now: float) -> list[Output]:
        self.started = self.now = now
        if not self.line.can(Input.ACKNOWLEDGE) or self.line.held_by is not None:
            raise CallStateError(f"no seizure to answer on span {self.span} channel "
                                 f"{self.channel}: the circuit is {self.line.state.value}")
        self.line.held_by = self.id
        self._line(self.line.request(now, Input.ACKNOWLEDGE))
        self._register(self.register.start(now))
        return self._take()

    def on_signal(self, now: float, event: CardEvent | ev.SpanAlarm) -> list[Output]:
        self._begin(now)
        if isinstance(event, ev.SpanAlarm):
            if event.alarms and not self.ended:
                self._fire(IG.LINE_FAULT)
        elif not self.ended and event.kind is EventKind.BITS_CHANGED \
                and event.value is not None:
            self._line(self.line.receive(self.now, event.value))
        return self._take()

    def on_detection(self, now: float, event: DetectionEvent) -> list[Output]:
        self._begin(now)
        if self.ended:
            return []
        if isinstance(event, MfEvent):
            if not self.register.over:
                self._register(self.register.on_mf(self.now, event))
            return self._take()
        if self.state is IS.ANSWERED:
            return super().on_detection(now, event)
        return self._take()

    def on_time(self, now: float) -> list[Output]:
        self._begin(now)
        if self.ended:
            return []
        self._line(self.line.on_time(self.now))
        if not self.register.over:
            self._register(self.register.on_time(self.now))
        if self._until is not None and now >= self._until:
            self._until = None
            self._fire({IS.OFFERED: IG.OFFER_TIMEOUT, IS.RINGING: IG.OFFER_TIMEOUT,
                        IS.ACCEPTING: IG.ANSWER_DELAY_OVER,
                        IS.REFUSING: IG.REFUSE_TIMEOUT}.get(self.state, IG.OFFER_TIMEOUT))
        return self._take()

    def next_deadline(self) -> float | None:
        if self.ended:
            return float("inf")
        return self._deadlines(self.register.next_deadline(), self._until)

    def answer(self, now: float) -> list[Output]:
        self._begin(now)
        if self.state not in (IS.OFFERED, IS.RINGING):
            raise CallStateError(f"cannot answer call {self.id}: it is {self.state.value}, "
                                 f"not offered")
        self._fire(IG.ANSWER)
        return self._take()

    def ring(self, now: float) -> list[Output]:
        """Accept the offered call without answering it: group B "subscriber free" goes
        now and the caller hears the line ring (what ``accept_on_offer`` does at the
        offer); :meth:`answer` sends the answer signal later. An exchange does this for
        every call it can put through, answered or not."""
        self._begin(now)
        if self.state is not IS.OFFERED:
            raise CallStateError(f"cannot ring call {self.id}: it is {self.state.value}, "
                                 f"not offered")
        self._fire(IG.RING)
        return self._take()

    def hangup(self, now: float, cause: int = 16) -> list[Output]:
        self._begin(now)
        self._cause_asked = cause
        self._fire(IG.HANGUP)
        return self._take()

    # -- the table ----------------------------------------------------------------------
    def _fire(self, signal: InSignal) -> None:
        row = INBOUND_TRANSITIONS.get((self.state, signal))
        if row is None:
            return
        transition: Callable[[], None] = getattr(self, row[0])
        transition()

    def _line_event(self, event: LineEvent) -> None:
        signal = _IN_LINE.get(event)
        if signal is not None:
            self._fire(signal)

    def _register_end(self, end: RegisterEnd) -> None:
        if end.result is None:
            self._notes.append(("reason", end.reason))
            self._fire(IG.REGISTER_FAILED)
        elif end.result in ACCEPTED:
            self._fire(IG.ACCEPTED)
        else:
            self._fire(IG.REFUSED)

    def _collected(self) -> None:
        self._fire(IG.COLLECTED)

    # -- transitions --------------------------------------------------------------------
    def _offer(self) -> None:
        reg = self.register
        self.called, self.calling = reg.called, reg.calling
        self.number = reg.calling
        self.state = IS.RINGING if self.accept_on_offer else IS.OFFERED
        self._until = self.now + self.offer_for
        self._report(ev.Offered(self.now, calling=reg.calling, called=reg.called))
        if self.accept_on_offer:
            self._respond_free()

    def _ring(self) -> None:
        self.state = IS.RINGING
        self._respond_free()

    def _respond_free(self) -> None:
        self._responded = True
        self._register(self.register.respond(self.now, Meaning.FREE_CHARGE))

    def _accept(self) -> None:
        self.state = IS.ACCEPTING
        self._until = None
        if not self._responded:
            self._respond_free()
        elif self.register.over:  # our "free" went through while it rang
            self._wait_answer_delay()

    def _reject_ringing(self) -> None:
        self._report(ev.Rejecting(self.now, self.reject_cause))
        self._notes.append(("refused", self.reject_cause))
        self._give_up()

    def _wait_answer_delay(self) -> None:
        self._until = self.now + self.variant.timers.answer_delay

    def _send_answer(self) -> None:
        self.state = IS.ANSWERED
        self.answered = True
        self.answered_by = Outcome.HUMAN.value
        self._line(self.line.request(self.now, Input.ANSWER))
        self._report(ev.Answered(self.now, "request"))
        self._do(DIGITS)

    def _reject(self) -> None:
        self._report(ev.Rejecting(self.now, self.reject_cause))
        self._refuse_with(self.reject_cause)

    def _refuse(self) -> None:
        self._refuse_with(self._cause_asked)

    def _refuse_with(self, cause: int) -> None:
        self.state = IS.REFUSING
        self._notes.append(("refused", cause))
        # The far end clears forward once it has our refusal: allow it a compelled
        # cycle and a release time.
        t = self.variant.timers
        self._until = self.now + t.mf_back_cycle + t.release_guard
        self._register(self.register.refuse(self.now, REFUSALS.get(cause, Meaning.CONGESTION)))

    def _refused(self) -> None:
        self.state = IS.REFUSING
        t = self.variant.timers
        self._until = self.now + t.release_guard

    def _refusal_heard(self) -> None:
        self._until = self.now + self.variant.timers.release_guard

    def _give_up(self) -> None:
        self._until = None
        reg = self.register
        if reg.tone is None or reg.meaning not in ACCEPTED | REFUSED:
            self._register(reg.stop(self.now))
        # else: a group B answer is on its way; cut short, the far end would hear a
        # fragment and wait for the rest until its register gave up (Q.476). It ends
        # with the compelled cycle, or when the call does.
        self.state = IS.CLEARING
        self._line(self.line.request(self.now, Input.CLEAR))

    def _line_fault(self) -> None:
        self._notes.append(("reason", "span alarm"))
        self._cause = 38
        self._give_up()

    def _clear_back(self) -> None:
        self.state = IS.CLEARING
        self._line(self.line.request(self.now, Input.CLEAR))

    def _far_gone(self) -> None:
        self._by = "far_end"
        self._done()

    def _far_clear(self) -> None:
        self._by = "far_end"
        self._done()

    def _done(self) -> None:
        self._until = None
        self._register(self.register.stop(self.now))
        self.outcome = Outcome.HUMAN.value if self.answered else Outcome.REJECTED.value
        if self.line.state is not LineState.IDLE:
            self._notes.append(("clear_forward", "missing"))
        self.state = IS.DONE
        self._hung_up()
