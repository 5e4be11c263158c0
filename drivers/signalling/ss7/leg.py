"""Calls on SS7 ISUP circuits as call legs: outbound (we send the IAM) and inbound.

Like the PRI legs, these take the point's call events (:mod:`.events`) as signals and
return actions and the shared call events, so the gateway's wire table needs nothing
new. Ringback is never an answer: only ANM or CON is; after it the audio decides human,
machine or fax. The outbound states (Q.764 12/99 clause beside each row):

    WAITING_LINK  linkset accessible           -> SETUP      (IAM sent, 2.1.1.1)
    SETUP         ACM, no indication           -> PROGRESS   (2.1.4.2)
    SETUP         ACM, subscriber free         -> ALERTING   (2.1.4.2)
    SETUP..       CPG alerting                 -> ALERTING   (2.1.5)
    SETUP..       CPG progress / in-band info  -> PROGRESS   (2.1.5)
    SETUP..       ANM or CON                   -> ANSWERED   (2.1.7, 2.1.4.3; AMD starts)
    ANSWERED      greeting / fax tone          -> CONNECTED  (human, machine, fax)
    CONNECTED     hold time over               -> RELEASING  (REL, cause 16: 2.3.1)
    ALERTING      ring timeout                 -> RELEASING  (no_answer)
    any           REL received, or RLC         -> DONE       (2.3.1, 2.3.2)

Every ISUP message of the call is recorded as an :class:`~.events.IsupObserved`
observation (``trunkline call --trace``).
"""

from __future__ import annotations

from collections.abc import Callable
from enum import StrEnum
from typing import Any, ClassVar, Final

from trunkline.causes import cause_name, outcome_for_cause
from trunkline.drivers.signalling import events as ev
from trunkline.drivers.signalling.actions import (
    MarkAnswered,
    OpenAudio,
    ReleaseChannel,
    TakeChannel,
)
from trunkline.drivers.signalling.detection import (
    AMD_WINDOW,
    DIGITS,
    start_progress,
)
from trunkline.drivers.signalling.leg import CallOptions, Leg, Output
from trunkline.drivers.signalling.trunkleg import TrunkLeg
from trunkline.errors import CallStateError, NumberFormatError

from . import events as s7
from .actions import SendAcm, SendAnm, SendIam, SendRel

__all__ = ["PROGRESS_GRACE", "TRANSITIONS", "Ss7InboundLeg", "Ss7Leg", "State",
           "check_number"]

CAUSE_NORMAL: Final = 16
#: How long past ``ring_timeout`` (from the IAM) a call that never alerted may stay in
#: setup or early media before we clear it as ``no_answer`` (T7/T9 cover the far end).
PROGRESS_GRACE: Final = 10.0
#: Most address signals a called or calling number may have (Q.763 3.9: what fits).
MAX_DIGITS: Final = 40


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

#: (state, what the point said) -> (next state, Q.764 clause). The keys name signals:
#: ``linkset_up``, ``acm``, ``acm_free``, ``cpg_alerting``, ``cpg_progress``, ``answer``.
TRANSITIONS: Final[dict[tuple[State, str], tuple[State, str]]] = {
    (S.WAITING_LINK, "linkset_up"): (S.SETUP, "2.13 MTP-RESUME: 2.1.1.1 IAM sent"),
    (S.SETUP, "acm"): (S.PROGRESS, "2.1.4.2 ACM, no indication"),
    (S.SETUP, "acm_free"): (S.ALERTING, "2.1.4.2 ACM, subscriber free"),
    (S.SETUP, "cpg_progress"): (S.PROGRESS, "2.1.5 CPG progress"),
    (S.PROGRESS, "cpg_progress"): (S.PROGRESS, "2.1.5 CPG progress"),
    **{(s, "cpg_alerting"): (S.ALERTING, "2.1.5 CPG alerting") for s in _CALLING},
    **{(s, "answer"): (S.ANSWERED, "2.1.7 ANM / 2.1.4.3 CON") for s in _CALLING},
}


def check_number(number: str, *, calling: bool = False) -> str:
    """``number`` if ISUP can carry it: digits, * and #, after one leading + (dropped on
    the wire; the nature of address says national or international). Checked when the
    leg is built, so a bad number is refused before any call exists."""
    digits = number[1:] if number.startswith("+") else number
    what = "call from" if calling else "call"
    if (not digits and not calling) or any(c not in "0123456789*#" for c in digits):
        raise NumberFormatError(
            f"cannot {what} {number!r}: a number is digits, * and # (and a leading +)")
    if len(digits) > MAX_DIGITS:
        raise NumberFormatError(f"cannot {what} {number!r}: it has {len(digits)} digits, "
                                f"at most {MAX_DIGITS}")
    return number


def _signal_key(signal: object) -> str | None:
    if isinstance(signal, s7.AddressComplete):
        return "acm_free" if signal.subscriber_free else "acm"
    if isinstance(signal, s7.CallProgressed):
        return "cpg_alerting" if signal.event == 1 else "cpg_progress"
    if isinstance(signal, s7.CallAnswered):
        return "answer"
    return None


def _observe(leg: Leg, now: float, traced: s7.IsupTraced) -> None:
    detail = traced.message.detail()
    detail.pop("cic", None)
    # A message's own fields must not hide the observation's (CPG's event indicator
    # would overwrite the event's name in a trace).
    for key in ("t", "event", "direction", "message"):
        if key in detail:
            detail[f"{traced.message.NAME.lower()}_{key}"] = detail.pop(key)
    leg._report(s7.IsupObserved(now, traced.direction, traced.message.NAME,
                                (("cic", traced.message.cic), *sorted(detail.items()))))


class Ss7Leg(TrunkLeg):
    """An outbound call on an SS7 trunk (see the module docstring).

    ``bearer`` turns a CIC into the card channel carrying it (None: not on this card).
    """

    kind: ClassVar[str] = "ss7"
    direction: ClassVar[str] = "outbound"
    CALLING_STATES: ClassVar[tuple[State, ...]] = _CALLING
    ANSWERED_STATE: ClassVar[State] = S.ANSWERED
    CONNECTED_STATE: ClassVar[State] = S.CONNECTED

    def __init__(self, call_id: int, span: int, options: CallOptions, *,
                 bearer: Callable[[int], int | None], link_up: bool = False,
                 link_timeout: float = 10.0) -> None:
        super().__init__(call_id, span, None, check_number(options.number))
        if options.calling is not None:
            check_number(options.calling, calling=True)
        self.options = options
        self.bearer = bearer
        self.link_timeout = link_timeout
        self.link_up = link_up
        self.state = State.WAITING_LINK
        #: The point's call id, once the IAM went out.
        self.ss7_call: int | None = None
        self.cic: int | None = None
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
        if self.link_up:
            return self._take() + self.on_signal(now, s7.LinksetChanged(True))
        return self._take()

    def on_signal(self, now: float, event: Any) -> list[Output]:
        self.now = now
        if isinstance(event, s7.LinksetChanged):
            if event.up:
                if self.state is not S.WAITING_LINK and self.link_up:
                    return self._take()
                self.link_up = True
                self._report(ev.LinkUp(now))
                if self._advance("linkset_up"):
                    number = self.number.lstrip("+")
                    calling = self.options.calling.lstrip("+") if self.options.calling \
                        else None
                    self._do(SendIam(number, calling))
            else:
                self.link_up = False
                self._report(ev.LinkDown(now, event.reason or "linkset down"))
        elif isinstance(event, s7.IsupTraced):
            if event.call is not None and event.call == self.ss7_call:
                _observe(self, now, event)
        elif isinstance(event, s7.CallSignal) and event.call == self.ss7_call:
            self._call_event(now, event)
        return self._take()

    def on_iam_sent(self, now: float, ss7_call: int, cic: int) -> list[Output]:
        """The point sent our IAM as call ``ss7_call`` on circuit ``cic``."""
        self.now = now
        self.ss7_call = ss7_call
        self._report(ev.SetupSent(now, self.number, cic))
        self._use(cic)
        return self._take()

    def on_iam_refused(self, now: float, cause: int, reason: str) -> list[Output]:
        """The point could not place the call (no free circuit: 34; linkset down: 38)."""
        self.now = now
        self.cause, self.cause_name = cause, cause_name(cause)
        self.outcome = outcome_for_cause(cause)
        self._report(ev.HungUp(now, "near_end", self.outcome, cause,
                               notes=(("cause", cause), ("cause_name", self.cause_name),
                                      ("reason", reason))))
        self.state = S.DONE
        return self._take()

    def on_time(self, now: float) -> list[Output]:
        self.now = now
        hold = self.options.hold
        if self.state is S.WAITING_LINK and now - self._since >= self.link_timeout:
            self.outcome = "error"
            self._end_unplaced("the SS7 linkset did not come up")
        elif (self.state is S.ALERTING and now - self._since >= self.options.ring_timeout) \
                or (self.state in (S.SETUP, S.PROGRESS)
                    and now - self.started >= self.options.ring_timeout + PROGRESS_GRACE):
            self._clear("no_answer")   # never alerted: early media must not hold the circuit
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
            return self.started + self.options.max_duration
        if self.state in (S.DONE, S.RELEASING):
            return float("inf")
        return None

    def hangup(self, now: float, cause: int = CAUSE_NORMAL) -> list[Output]:
        self.now = now
        if self.state in (S.DONE, S.RELEASING):
            return []
        if self.outcome is None:
            self.outcome = "human" if self.state in (S.ANSWERED, S.CONNECTED) else "no_answer"
        if self.ss7_call is None:
            self._end_unplaced("hung up before the IAM")
            return self._take()
        self._report(ev.Clearing(now, "near_end", cause))
        self._enter(S.RELEASING)
        self._do(SendRel(cause))
        return self._take()

    @property
    def done(self) -> bool:
        return self.state is S.DONE

    def result(self) -> dict[str, Any]:
        return {**super().result(), "cause": self.cause, "cause_name": self.cause_name}

    # -- the point's events -------------------------------------------------------------
    def _call_event(self, now: float, event: s7.CallSignal) -> None:
        if self.state is S.DONE:
            return
        if isinstance(event, s7.AddressComplete):
            self._report(ev.Proceeding(now, event.cic))
            if event.subscriber_free:
                self._report(ev.Alerting(now, inband=True))
        elif isinstance(event, s7.CallProgressed):
            if event.event == 1:
                self._report(ev.Alerting(now, inband=True))
            else:
                self._report(ev.Progress(now, event.event == 3))
        elif isinstance(event, s7.CallAnswered):
            self._answered_at = now
            self._report(ev.Answered(now, event.by))
        elif isinstance(event, s7.CircuitChanged):
            self._report(ev.ChannelChanged(now, event.cic, event.previous))
            self._use(event.cic)
        elif isinstance(event, s7.CallReleased):
            self._released(now, event)
            return
        key = _signal_key(event)
        if key is not None and self._advance(key) and key == "answer":
            self._do(MarkAnswered(exact=True))
            if not self.options.amd:
                self._decide("human", "amd_off")

    def _released(self, now: float, event: s7.CallReleased) -> None:
        self.cause, self.cause_name = event.cause, event.cause_name
        if self.outcome is None:
            self.outcome = "human" if event.answered else str(event.outcome)
        if event.by == "remote":
            self._report(ev.Disconnecting(now, event.cause))
        self._report(ev.HungUp(now, "far_end" if event.by == "remote" else "near_end",
                               self.outcome, event.cause,
                               notes=(("cause", event.cause), ("cause_name", event.cause_name),
                                      ("released_by", event.by))))
        self.state = S.DONE

    def _advance(self, key: str) -> bool:
        row = TRANSITIONS.get((self.state, key))
        if row is None:
            return False
        self._enter(row[0])
        return True

    # -- helpers ------------------------------------------------------------------------
    def _use(self, cic: int) -> None:
        """Follow the call to the card channel of circuit ``cic``."""
        self.cic = cic
        wanted = self.bearer(cic)
        if wanted == self.channel:
            return
        if self.channel is not None:
            self._do(ReleaseChannel(self.channel))
        self.channel = wanted
        if wanted is not None:
            self._do(TakeChannel(wanted), start_progress(dict(self.options.detect)))

    def _clear(self, outcome: str | None, *, unplaced: str = "no IAM went out") -> None:
        if outcome is not None:
            self.outcome = outcome
        if self.ss7_call is None:
            self._end_unplaced(unplaced)
            return
        self._report(ev.Clearing(self.now, "near_end", CAUSE_NORMAL))
        self._enter(S.RELEASING)
        self._do(SendRel(CAUSE_NORMAL))

    def _end_unplaced(self, reason: str) -> None:
        self._report(ev.HungUp(self.now, "near_end", self.outcome or "error",
                               notes=(("reason", reason),)))
        self.state = S.DONE



class Ss7InboundLeg(Leg):
    """A call offered on an SS7 circuit: ACM at once (the caller hears ringback,
    Q.764 2.1.4.1), then answered (ANM) or refused with the policy's cause (REL) if
    nobody takes it."""

    kind: ClassVar[str] = "ss7"
    direction: ClassVar[str] = "inbound"

    def __init__(self, call_id: int, span: int, channel: int | None,
                 offer: s7.IncomingCall, *, offer_for: float, reject_cause: int) -> None:
        super().__init__(call_id, span, channel, offer.calling)
        self.ss7_call = offer.call
        self.cic = offer.cic
        self.offer = offer
        self.offer_for = offer_for
        self.reject_cause = reject_cause
        self.answered = False
        self.rejecting = False
        self.clearing = False
        self.cause: int | None = None
        self._until = 0.0

    def start(self, now: float) -> list[Output]:
        self.started = self.now = now
        self._until = now + self.offer_for
        if self.channel is not None:
            self._do(TakeChannel(self.channel, open_audio=False))
        self._do(SendAcm())
        self._report(ev.Offered(now, self.offer.calling, self.offer.called))
        return self._take()

    def on_signal(self, now: float, event: Any) -> list[Output]:
        self.now = now
        if self.ended:
            return []
        if isinstance(event, s7.IsupTraced):
            if event.call == self.ss7_call:
                _observe(self, now, event)
        elif isinstance(event, s7.CallReleased) and event.call == self.ss7_call:
            self.cause = event.cause
            self.outcome = "human" if self.answered else "rejected"
            self._report(ev.HungUp(now, "far_end" if event.by == "remote" else "near_end",
                                   self.outcome, event.cause,
                                   notes=(("cause", event.cause),
                                          ("released_by", event.by))))
        return self._take()

    def on_time(self, now: float) -> list[Output]:
        self.now = now
        if not (self.answered or self.rejecting or self.clearing or self.ended) \
                and now >= self._until:
            self.rejecting = True
            self._report(ev.Rejecting(now, self.reject_cause))
            self._do(SendRel(self.reject_cause))
        return self._take()

    def next_deadline(self) -> float | None:
        return float("inf") if self.answered or self.rejecting or self.clearing \
            else self._until

    def answer(self, now: float) -> list[Output]:
        self.now = now
        if self.answered or self.rejecting or self.clearing or self.ended:
            raise CallStateError(f"cannot answer call {self.id}: it is not offered")
        self.answered = True
        self._do(SendAnm(), OpenAudio())
        self._report(ev.Answered(now, "request"))
        self._do(DIGITS)
        return self._take()

    def hangup(self, now: float, cause: int = CAUSE_NORMAL) -> list[Output]:
        self.now = now
        if not self.ended and not self.clearing and not self.rejecting:
            self.clearing = True
            self._do(SendRel(cause))
        return self._take()
