"""Calls on an ISDN PRI span as call legs: outbound (we send SETUP) and inbound.

The D-channel's events (from :class:`~trunkline.drivers.signalling.pri.span.PriSpan`)
drive the state; the network's Q.850 cause decides unanswered calls. In-band early
media (SIT, announcements, music ring-back) is listened to and reported, but ringback is
never an answer: only CONNECT is. After CONNECT the audio decides human, machine or
fax. The application's view of the Q.931 states (Q.931 05/98 clause beside each row):

    WAITING_LINK  D-channel up             -> SETUP       (SETUP sent, 5.1.1)
    SETUP         CALL PROCEEDING          -> PROGRESS    (5.1.5.1)
    SETUP         PROGRESS                 -> PROGRESS    (5.1.6: early media may follow)
    SETUP..       ALERTING                 -> ALERTING    (5.1.7)
    SETUP..       CONNECT                  -> ANSWERED    (5.1.8; AMD starts)
    ANSWERED      greeting / fax tone      -> CONNECTED   (human, machine, fax)
    CONNECTED     hold time over           -> RELEASING   (we clear, cause 16: 5.3.3)
    ALERTING      ring timeout             -> RELEASING   (no_answer)
    any           call released (cause)    -> DONE        (5.3.3/5.3.4)
"""

from __future__ import annotations

from collections.abc import Callable
from enum import StrEnum
from typing import Any, ClassVar, Final

from trunkline.drivers.signalling import events as ev
from trunkline.drivers.signalling.actions import (
    MarkAnswered,
    OpenAudio,
    ReleaseChannel,
    SendAnswer,
    SendClear,
    SendProceeding,
    SendSetup,
    TakeChannel,
)
from trunkline.drivers.signalling.detection import (
    AMD_WINDOW,
    DIGITS,
    start_progress,
)
from trunkline.drivers.signalling.leg import CallOptions, Leg, Output
from trunkline.drivers.signalling.pri import events as pri
from trunkline.drivers.signalling.pri.numbers import MAX_DIGITS
from trunkline.drivers.signalling.trunkleg import TrunkLeg
from trunkline.errors import CallStateError, NumberFormatError

__all__ = ["AMD_WINDOW", "PROGRESS_GRACE", "TRANSITIONS", "PriInboundLeg", "PriLeg", "State"]

CAUSE_NORMAL = 16
#: How long past ``ring_timeout`` (counted from the SETUP) a call that never alerted may
#: stay in call setup or early media before it is cleared as ``no_answer``: room for the
#: post-dial delay before the ring would have started (libpri runs no T310 for us).
PROGRESS_GRACE = 10.0


class State(StrEnum):
    WAITING_LINK = "waiting_link"
    SETUP = "setup"
    PROGRESS = "progress"
    ALERTING = "alerting"
    ANSWERED = "answered"
    CONNECTED = "connected"
    RELEASING = "releasing"
    DONE = "done"


S = State
_CALLING = (S.SETUP, S.PROGRESS, S.ALERTING)

#: (state, D-channel event) -> (next state, Q.931 clause). The leg notes every event it
#: gets; only these change its state.
TRANSITIONS: Final[dict[tuple[State, type], tuple[State, str]]] = {
    (S.WAITING_LINK, pri.DChannelUp): (S.SETUP, "Q.921 established: 5.1.1 call request"),
    (S.SETUP, pri.CallProceeding): (S.PROGRESS, "5.1.5.1 call proceeding"),
    (S.PROGRESS, pri.CallProceeding): (S.PROGRESS, "5.1.5.2 proceeding"),
    (S.SETUP, pri.CallProgress): (S.PROGRESS, "5.1.6 interworking: in-band information"),
    (S.PROGRESS, pri.CallProgress): (S.PROGRESS, "5.1.6 interworking"),
    **{(s, pri.CallAlerting): (S.ALERTING, "5.1.7 call confirmation") for s in _CALLING},
    **{(s, pri.CallAnswered): (S.ANSWERED, "5.1.8 call connected") for s in _CALLING},
}


def check_number(number: str, *, calling: bool = False) -> str:
    """``number`` if the span will send it (as :func:`~.numbers.validate_number` checks
    at SETUP): digits, * and #, after one leading +; a calling number may be empty.
    Checked when the leg is built, so a bad number is refused before any call exists."""
    digits = number[1:] if number.startswith("+") else number
    what = "call from" if calling else "call"
    if (not digits and not calling) or any(c not in "0123456789*#" for c in digits):
        raise NumberFormatError(
            f"cannot {what} {number!r}: a number is digits, * and # (and a leading +)")
    if len(digits) > MAX_DIGITS:
        raise NumberFormatError(f"cannot {what} {number!r}: it has {len(digits)} digits, "
                                f"at most {MAX_DIGITS}")
    return number


class PriLeg(TrunkLeg):
    """An outbound call on a PRI span (see the module docstring).

    ``bearer`` turns a B-channel (timeslot) into the card channel carrying it.
    """

    kind: ClassVar[str] = "pri"
    direction: ClassVar[str] = "outbound"
    CALLING_STATES: ClassVar[tuple[State, ...]] = _CALLING
    ANSWERED_STATE: ClassVar[State] = S.ANSWERED
    CONNECTED_STATE: ClassVar[State] = S.CONNECTED

    def __init__(self, call_id: int, span: int, options: CallOptions, *,
                 bearer: Callable[[int], int], link_up: bool = False,
                 link_timeout: float = 10.0) -> None:
        super().__init__(call_id, span, None, check_number(options.number))
        if options.calling is not None:
            check_number(options.calling, calling=True)
        self.options = options
        self.bearer = bearer
        self.link_timeout = link_timeout
        self.link_up = link_up
        self.state = State.WAITING_LINK
        self.pri_call: int | None = None
        self.timeslot: int | None = None
        self.cause: int | None = None
        self.cause_name: str | None = None
        self._since = 0.0
        self._answered_at: float | None = None
        self._decided_at: float | None = None
        self._early: set[str] = set()

    # -- inputs -------------------------------------------------------------------------
    def start(self, now: float) -> list[Output]:
        self.started = self.now = self._since = now
        self._report(ev.WaitingForLink(now))
        if self.link_up:  # the D-channel is up already: SETUP goes out at once
            return self._take() + self.on_signal(now, pri.DChannelUp(self.span))
        return self._take()

    def on_signal(self, now: float, event: pri.PriEvent) -> list[Output]:
        self.now = now
        if isinstance(event, pri.DChannelUp):
            self._report(ev.LinkUp(now))
            if self._advance(event):
                self._do(SendSetup(self.number, self.options.calling))
        elif isinstance(event, pri.DChannelDown):
            self._report(ev.LinkDown(now, event.reason))
        elif isinstance(event, pri.CallEvent) and event.call == self.pri_call:
            self._call_event(now, event)
        return self._take()

    def on_setup_sent(self, now: float, pri_call: int, timeslot: int | None) -> list[Output]:
        """The span sent our SETUP as call ``pri_call`` on ``timeslot`` (if chosen)."""
        self.pri_call = pri_call
        self._report(ev.SetupSent(self.now, self.number, timeslot))
        self._use(timeslot)
        return self._take()

    def on_time(self, now: float) -> list[Output]:
        self.now = now
        hold = self.options.hold
        if self.state is S.WAITING_LINK and now - self._since >= self.link_timeout:
            self.outcome = "error"
            self._end_unplaced("D-channel did not come up")
        elif self.state is S.ALERTING and now - self._since >= self.options.ring_timeout:
            self._clear("no_answer")
        elif self.state in (S.SETUP, S.PROGRESS) \
                and now - self.started >= self.options.ring_timeout + PROGRESS_GRACE:
            # Never alerted: early media nobody named (or nothing) must not hold the
            # B-channel until max_duration.
            self._clear("no_answer")
        elif self.state is S.ANSWERED and self._answered_at is not None \
                and now - self._answered_at >= AMD_WINDOW:
            self._decide("human", "amd_timeout")
        elif self.state is S.CONNECTED and hold is not None \
                and self._decided_at is not None and now - self._decided_at >= hold:
            self._clear(None)
        elif self.state not in (S.DONE, S.RELEASING) \
                and now - self.started >= self.options.max_duration:
            self._clear(self.outcome or "error", unplaced="maximum call duration reached")
        return self._take()

    def next_deadline(self) -> float | None:
        if self.state is S.CONNECTED and self.options.hold is None:
            # Only Q.931 (handled as it comes) or the longest call can end it now.
            return self.started + self.options.max_duration
        return None

    def hangup(self, now: float, cause: int = CAUSE_NORMAL) -> list[Output]:
        self.now = now
        if self.state in (S.DONE, S.RELEASING):
            return []
        if self.outcome is None:
            self.outcome = "human" if self.state in (S.ANSWERED, S.CONNECTED) else "no_answer"
        if self.pri_call is None:
            self._end_unplaced("hung up before the SETUP")
            return self._take()
        self._report(ev.Clearing(now, "near_end", cause))
        self._enter(S.RELEASING)
        self._do(SendClear(cause))
        return self._take()

    @property
    def done(self) -> bool:
        return self.state is S.DONE

    def result(self) -> dict[str, Any]:
        out = super().result()
        return {**out, "cause": self.cause, "cause_name": self.cause_name}

    # -- D-channel events ---------------------------------------------------------------
    def _call_event(self, now: float, event: pri.CallEvent) -> None:
        if isinstance(event, pri.CallProceeding):
            self._report(ev.Proceeding(now, event.channel))
            self._use(event.channel or self.timeslot)
        elif isinstance(event, pri.CallProgress):
            self._report(ev.Progress(now, event.inband))
        elif isinstance(event, pri.CallAlerting):
            self._report(ev.Alerting(now, event.inband))
        elif isinstance(event, pri.CallChannelChanged):
            self._report(ev.ChannelChanged(now, event.channel, event.previous))
            self._use(event.channel)
        elif isinstance(event, pri.CallAnswered):
            self._answered_at = now
            self._report(ev.Answered(now, "connect"))
        elif isinstance(event, pri.CallDisconnecting):
            self._report(ev.Disconnecting(now, event.cause))
        elif isinstance(event, pri.CallEnded):
            self._ended(now, event)
            return
        if self._advance(event) and isinstance(event, pri.CallAnswered):
            self._do(MarkAnswered(exact=True))
            if not self.options.amd:
                self._decide("human", "amd_off")

    def _ended(self, now: float, event: pri.CallEnded) -> None:
        self.cause, self.cause_name = event.cause, event.cause_name
        if self.outcome is None:
            self.outcome = ("human" if event.answered else event.outcome) or "error"
        self._report(ev.HungUp(now, "far_end" if event.reason == "remote" else "near_end",
                               self.outcome, event.cause,
                               notes=(("cause", event.cause),
                                      ("cause_name", event.cause_name))))
        self.state = S.DONE

    def _advance(self, event: pri.PriEvent) -> bool:
        row = TRANSITIONS.get((self.state, type(event)))
        if row is None:
            return False
        self._enter(row[0])
        return True

    # -- helpers ------------------------------------------------------------------------
    def _use(self, timeslot: int | None) -> None:
        """Follow the call to its B-channel (chosen at SETUP, confirmed or moved later)."""
        self.timeslot = timeslot
        wanted = None if timeslot is None else self.bearer(timeslot)
        if wanted == self.channel:
            return
        if self.channel is not None:
            self._do(ReleaseChannel(self.channel))
        self.channel = wanted
        if wanted is not None:
            self._do(TakeChannel(wanted), start_progress(dict(self.options.detect)))

    def _clear(self, outcome: str | None, *, unplaced: str = "no SETUP went out") -> None:
        if outcome is not None:
            self.outcome = outcome
        if self.pri_call is None:
            self._end_unplaced(unplaced)
            return
        self._report(ev.Clearing(self.now, "near_end", CAUSE_NORMAL))
        self._enter(S.RELEASING)
        self._do(SendClear(CAUSE_NORMAL))

    def _end_unplaced(self, reason: str) -> None:
        """End a call whose SETUP never went out (``reason``: why): there is nothing to
        clear on the D-channel, and no release will come from it."""
        self._report(ev.HungUp(self.now, "near_end", self.outcome or "error",
                               notes=(("reason", reason),)))
        self.state = S.DONE



class PriInboundLeg(Leg):
    """A call offered on a PRI span: CALL PROCEEDING at once (Q.931 5.2.5.1), then
    answered (CONNECT) or refused with the policy's cause if nobody takes it."""

    kind: ClassVar[str] = "pri"
    direction: ClassVar[str] = "inbound"

    def __init__(self, call_id: int, span: int, channel: int | None, offer: pri.IncomingCall,
                 *, offer_for: float, reject_cause: int) -> None:
        super().__init__(call_id, span, channel, offer.calling)
        self.pri_call = offer.call
        self.offer = offer
        self.offer_for = offer_for
        self.reject_cause = reject_cause
        self.answered = False
        self.rejecting = False
        #: The application hung up: the span's release is all that may follow.
        self.clearing = False
        self.cause_name: str | None = None
        self.cause: int | None = None
        self._until = 0.0

    def start(self, now: float) -> list[Output]:
        self.started = self.now = now
        self._until = now + self.offer_for
        if self.channel is not None:
            self._do(TakeChannel(self.channel, open_audio=False))
        self._do(SendProceeding())
        self._report(ev.Offered(now, self.offer.calling, self.offer.called))
        return self._take()

    def on_signal(self, now: float, event: pri.PriEvent) -> list[Output]:
        self.now = now
        if isinstance(event, pri.CallEnded) and event.call == self.pri_call:
            self.cause = event.cause
            self.cause_name = event.cause_name
            self.outcome = "human" if self.answered else "rejected"
            self._report(ev.HungUp(now, "far_end" if event.reason == "remote" else "near_end",
                                   self.outcome, event.cause))
        return self._take()

    def on_time(self, now: float) -> list[Output]:
        self.now = now
        if not (self.answered or self.rejecting or self.clearing or self.ended) \
                and now >= self._until:
            self.rejecting = True  # nobody claimed it
            self._report(ev.Rejecting(now, self.reject_cause))
            self._do(SendClear(self.reject_cause))
        return self._take()

    def result(self) -> dict[str, Any]:
        """As an outbound call's: the Q.850 cause the call ended with, and its name."""
        return {**super().result(), "cause": self.cause, "cause_name": self.cause_name}

    def next_deadline(self) -> float | None:
        return float("inf") if self.answered or self.rejecting or self.clearing \
            else self._until

    def answer(self, now: float) -> list[Output]:
        self.now = now
        if self.answered or self.rejecting or self.clearing or self.ended:
            raise CallStateError(f"cannot answer call {self.id}: it is not offered")
        self.answered = True
        self._do(SendAnswer(), OpenAudio())
        self._report(ev.Answered(now, "request"))
        self._do(DIGITS)
        return self._take()

    def hangup(self, now: float, cause: int = CAUSE_NORMAL) -> list[Output]:
        self.now = now
        if not self.ended:
            self.clearing = True
            self._do(SendClear(cause))
        return self._take()
