"""MFC/R2 calls as call legs: outbound (:class:`R2Leg`, here) and inbound
(:class:`~.inbound.R2InboundLeg`, in :mod:`.inbound`), on what both share (:class:`_R2Base`).

A leg drives one circuit's :class:`~.line.Line` (Q.421 line signalling on the ABCD
bits) and, while the call is set up, a register (:mod:`.register`, the compelled MF
cycle of Q.441). It is fed what :class:`~trunkline.drivers.signalling.leg.Leg` legs are
fed: the card's ``BITS_CHANGED`` events (``on_signal``), the detector's events (MF
signals while the register works, call progress and AMD after; ``on_detection``), and
``now``. It returns :class:`~trunkline.drivers.signalling.actions.SetBits`,
``PlayTone``/``StopTone``, ``DetectMf`` and the detection actions, and the shared call
events, so nothing above knows R2 from PRI: ``Seized``, ``Alerting`` (group B
"subscriber free": the called line rings), ``Answered`` (the answer line signal; never
ringback), ``Classified``, ``Offered``, ``EarlyMedia`` and ``HungUp``. The decoded
signals come as :class:`~.events.R2Signal` / :class:`~.events.R2LineSignal`
observations.

A leg reports ``HungUp`` once its circuit is idle again (release guard received, or
release guard sent), or once the far end has had the variant's ``release_guard`` time
to release and has not: the span then keeps the line until it does.

Every transition of each leg is one row of its table (:data:`TRANSITIONS`, and
:data:`~.inbound.INBOUND_TRANSITIONS`): ``(state, signal) -> (transition, why)``.
"""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Callable, Mapping
from enum import Enum, StrEnum
from types import MappingProxyType
from typing import Any, ClassVar, Final

from trunkline.causes import cause_name, outcome_for_cause
from trunkline.drivers.dsp.events import DetectionEvent, MfEvent, SilenceEvent
from trunkline.drivers.model import CardEvent, EventKind
from trunkline.drivers.signalling import events as ev
from trunkline.drivers.signalling.actions import MarkAnswered
from trunkline.drivers.signalling.detection import (
    AMD_WINDOW,
    FAX_TONES,
    heard,
    start_progress,
)
from trunkline.drivers.signalling.leg import CallOptions, Leg, Output
from trunkline.drivers.signalling.r2.events import R2LineSignal, R2Signal
from trunkline.drivers.signalling.r2.line import (
    Input,
    Line,
    LineEvent,
    LineNote,
    LineOutput,
    LineState,
)
from trunkline.drivers.signalling.r2.register import (
    Collected,
    OutgoingRegister,
    RegisterEnd,
    RegisterOutput,
)
from trunkline.drivers.signalling.r2.variants import ACCEPTED, Meaning
from trunkline.drivers.signalling.trunkleg import TrunkLeg
from trunkline.errors import CallStateError, NumberFormatError
from trunkline.vocab import Outcome, outcome_for_announcement

__all__ = ["REFUSALS", "RESULTS", "TRANSITIONS", "R2Leg", "Signal", "State"]

#: Q.850 cause for a register or line that stopped answering (Q.476 abnormal release).
CAUSE_TIMEOUT = 102
#: Q.850 cause for a double seizure: the circuit asked for is not available.
CAUSE_GLARE = 44

#: What a backward result means to the dialer: (outcome, Q.850 cause). Acceptances
#: (free, A-6) ring until the answer signal. Causes: Q.850 (05/98).
RESULTS: Final[Mapping[Meaning, tuple[Outcome, int]]] = MappingProxyType({
    Meaning.BUSY: (Outcome.BUSY, 17),                       # 17 user busy
    Meaning.CONGESTION: (Outcome.CONGESTION, 34),           # 34 no circuit/channel available
    Meaning.CONGESTION_INTERNATIONAL: (Outcome.CONGESTION, 42),  # 42 switching congestion
    Meaning.UNALLOCATED: (Outcome.INVALID_NUMBER, 1),       # 1 unallocated number
    Meaning.OUT_OF_ORDER: (Outcome.UNREACHABLE, 27),        # 27 destination out of order
    Meaning.NUMBER_CHANGED: (Outcome.INVALID_NUMBER, 22),   # 22 number changed
    # B-2: the exchange sends the special information tones (E.180): as a SIT heard on
    # an analog line (fxo.py), the number cannot be reached as dialled.
    Meaning.SPECIAL_INFO: (Outcome.INVALID_NUMBER, 4),      # 4 send special info tone
})

#: The backward result an inbound call is refused with, by the Q.850 cause the
#: application (or the inbound policy) gives; any other cause: congestion, as openr2
#: send_disconnect does. A refusal the variant has no signal for is sent as congestion.
REFUSALS: Final[Mapping[int, Meaning]] = MappingProxyType({
    17: Meaning.BUSY,
    21: Meaning.BUSY,           # call rejected: the caller hears busy
    1: Meaning.UNALLOCATED,
    22: Meaning.NUMBER_CHANGED,
    27: Meaning.OUT_OF_ORDER,
})


def check_number(number: str, what: str = "call") -> str:
    """``number`` if R2 can send it: digits 0-9 only (no + or * or #)."""
    if not number or not number.isdigit() or not number.isascii():
        raise NumberFormatError(f"cannot {what} {number!r} over MFC/R2: a number is digits "
                                f"0-9 only")
    if len(number) > 32:
        raise NumberFormatError(f"cannot {what} {number!r}: {len(number)} digits, at most 32")
    return number


class _R2Base(Leg):
    """What both R2 legs share: the line, the register, routing their outputs."""

    def __init__(self, call_id: int, span: int, channel: int, number: str, line: Line) -> None:
        super().__init__(call_id, span, channel, number)
        self.line = line
        self.variant = line.variant
        #: Why the call ended, for the HungUp notes.
        self._notes: list[tuple[str, Any]] = []
        self._by = "near_end"
        self._cause: int | None = None

    # -- routing what the line and the register say -------------------------------------
    def _line(self, outputs: list[LineOutput]) -> None:
        for item in outputs:
            if isinstance(item, LineNote):
                self._line_event(item.event)
            elif isinstance(item, R2LineSignal):
                if not self.ended:
                    self._report(item)
            else:
                self._do(item)

    def _register(self, outputs: list[RegisterOutput]) -> None:
        for item in outputs:
            if isinstance(item, RegisterEnd):
                self._register_end(item)
            elif isinstance(item, Collected):
                self._collected()
            elif isinstance(item, R2Signal):
                self._report(item)
            else:
                self._do(item)

    @abstractmethod
    def _line_event(self, event: LineEvent) -> None:
        """What the leg does with something its line tells it."""

    @abstractmethod
    def _register_end(self, end: RegisterEnd) -> None:
        """What the leg does when its register signalling is over."""

    def _collected(self) -> None:
        """Only the incoming register collects a call."""

    def _hung_up(self) -> None:
        """Report the one HungUp and give the circuit back to the span."""
        self._report(ev.HungUp(self.now, self._by, self.outcome or Outcome.ERROR.value,
                               self._cause, notes=tuple(self._notes)))
        self.line.held_by = None

    def result(self) -> dict[str, Any]:
        # R2 carries no cause: it is the Q.850 equivalent of what the line said.
        name = cause_name(self._cause) if self._cause is not None else None
        return {**super().result(), "cause": self._cause, "cause_name": name}

    def _deadlines(self, *extra: float | None) -> float | None:
        found = [d for d in (self.line.next_deadline(), *extra) if d is not None]
        return min(found) if found else float("inf")


# -- outbound ------------------------------------------------------------------------------

class State(StrEnum):
    SEIZING = "seizing"
    REGISTER = "register"
    ALERTING = "alerting"
    ANSWERED = "answered"
    CONNECTED = "connected"
    CLEARING = "clearing"
    DONE = "done"


class Signal(Enum):
    """What an outbound R2 leg reacts to."""

    ACKNOWLEDGED = "seizure acknowledged"
    DOUBLE_SEIZURE = "double seizure"
    SEIZE_ACK_TIMEOUT = "no seizure acknowledgement"
    ACCEPTED = "the register ended: subscriber free"
    REFUSED = "the register ended: busy, congestion, unallocated..."
    REGISTER_FAILED = "the compelled sequence stopped"
    LINE_ANSWERED = "answer line signal"
    CLEAR_BACK = "clear-back (or forced release, or the far end went idle)"
    RELEASED = "release guard: the circuit is idle"
    RELEASE_TIMEOUT = "no release guard in time"
    FAX_TONE = "fax or modem answer tone"
    AMD = "the detector's answering-machine verdict"
    RING_TIMEOUT = "ring timeout"
    AMD_TIMEOUT = "AMD window over"
    HOLD_OVER = "hold time over"
    MAX_DURATION = "maximum call duration"
    LINE_FAULT = "the span went into alarm: the bits mean nothing"
    INFORMATION = "in-band information: SIT or a recorded announcement"
    CLEARING_TONE = "in-band busy or congestion tone"


S, G = State, Signal
_LIVE = (S.SEIZING, S.REGISTER, S.ALERTING, S.ANSWERED, S.CONNECTED)

#: (state, signal) -> (transition method, why). Anything else leaves the state alone.
TRANSITIONS: Final[dict[tuple[State, Signal], tuple[str, str]]] = {
    (S.SEIZING, G.ACKNOWLEDGED): ("_start_register",
                                  "Q.421 seizure acknowledged: the outgoing register begins "
                                  "(Q.440)"),
    (S.SEIZING, G.DOUBLE_SEIZURE): ("_glare", "Q.422 3.2.7 double seizure: both ends release"),
    (S.SEIZING, G.SEIZE_ACK_TIMEOUT): ("_no_acknowledgement", "no seizure acknowledgement: "
                                                              "cleared forward"),
    (S.REGISTER, G.ACCEPTED): ("_alerting", "Q.441 group B free (or A-6): the called line "
                                            "rings; ringback is never an answer"),
    (S.REGISTER, G.REFUSED): ("_refused", "Q.441 busy, congestion, unallocated...: release"),
    (S.REGISTER, G.REGISTER_FAILED): ("_register_failed", "Q.476 abnormal release of the "
                                                          "outgoing register"),
    (S.REGISTER, G.LINE_ANSWERED): ("_answer", "Q.421 answered before the last MF signal was "
                                               "heard to end (line signals are faster)"),
    (S.REGISTER, G.CLEAR_BACK): ("_far_clear", "forced release during the register signalling"),
    (S.ALERTING, G.LINE_ANSWERED): ("_answer", "Q.421 answered (ab=0 bb=1)"),
    (S.ALERTING, G.RING_TIMEOUT): ("_no_answer", "rang out: clear forward"),
    (S.ALERTING, G.CLEAR_BACK): ("_far_clear", "forced release before the answer"),
    # R2 has no cause after group B: an exchange that cannot complete a call it accepted
    # (a mobile switched off, out of coverage) connects a recorded announcement without
    # answering, as Chinese carriers do; the audio says why, as on an analog line.
    (S.ALERTING, G.INFORMATION): ("_information", "an announcement instead of ringing: "
                                                  "the call cannot complete; clear forward"),
    (S.ALERTING, G.CLEARING_TONE): ("_clearing_tone", "busy or congestion tone instead of "
                                                      "ringing: clear forward"),
    (S.ANSWERED, G.FAX_TONE): ("_decide_fax", "a fax or modem answered"),
    (S.ANSWERED, G.AMD): ("_decide_amd", "answering-machine detection decided"),
    (S.ANSWERED, G.AMD_TIMEOUT): ("_decide_timeout", "AMD did not decide: a person"),
    (S.ANSWERED, G.CLEAR_BACK): ("_far_clear", "Q.421 clear-back: clear forward"),
    (S.CONNECTED, G.CLEAR_BACK): ("_far_clear", "Q.421 clear-back: clear forward"),
    (S.CONNECTED, G.HOLD_OVER): ("_hang_up_near", "we stayed as long as asked"),
    (S.CLEARING, G.RELEASED): ("_done", "Q.421 release guard: the circuit is free"),
    (S.CLEARING, G.RELEASE_TIMEOUT): ("_done", "no release guard: let go, the span keeps the "
                                               "circuit out of use until it is idle"),
}
for _state in _LIVE:
    TRANSITIONS[(_state, G.MAX_DURATION)] = ("_max_duration", "no call lasts for ever")
    TRANSITIONS[(_state, G.LINE_FAULT)] = ("_line_fault", "span alarm: the call is lost "
                                                          "(Q.850 38, network out of order)")

#: Line events -> the outbound leg's signals (the rest are only noted).
_OUT_LINE: Final = {
    LineEvent.ACKNOWLEDGED: G.ACKNOWLEDGED, LineEvent.DOUBLE_SEIZURE: G.DOUBLE_SEIZURE,
    LineEvent.SEIZE_ACK_TIMEOUT: G.SEIZE_ACK_TIMEOUT, LineEvent.ANSWERED: G.LINE_ANSWERED,
    LineEvent.CLEAR_BACK: G.CLEAR_BACK, LineEvent.FAR_END_IDLE: G.CLEAR_BACK,
    LineEvent.RELEASED: G.RELEASED, LineEvent.RELEASE_TIMEOUT: G.RELEASE_TIMEOUT,
}


class R2Leg(_R2Base, TrunkLeg):
    """An outbound call on an MFC/R2 circuit: seize, register signalling, answer on the
    line signal (see the module docstring). ``category`` and ``calling_category``
    override the variant's (China: KD and KA)."""

    kind: ClassVar[str] = "r2"
    direction: ClassVar[str] = "outbound"
    ANSWERED_STATE: ClassVar[State] = S.ANSWERED
    CONNECTED_STATE: ClassVar[State] = S.CONNECTED

    def __init__(self, call_id: int, span: int, channel: int, options: CallOptions,
                 line: Line, *, category: int | None = None,
                 calling_category: int | None = None) -> None:
        super().__init__(call_id, span, channel, check_number(options.number), line)
        if options.calling:
            check_number(options.calling, "call from")
        self.options = options
        try:
            self.register = OutgoingRegister(line.variant, options.number, options.calling,
                                             category=category,
                                             calling_category=calling_category)
        except ValueError as err:
            raise NumberFormatError(f"cannot call {options.number!r}: {err}") from err
        self.state = State.SEIZING
        #: What the register signalling ended with (None: it has not, or it failed).
        self.register_result: Meaning | None = None
        self._since = 0.0
        self._answered_at: float | None = None
        self._decided_at: float | None = None
        self._early: set[str] = set()
        self._event: ev.CallEvent | None = None

    # -- inputs -------------------------------------------------------------------------
    def start(self, now: float) -> list[Output]:
        self.started = self.now = self._since = now
        if not self.line.can(Input.SEIZE) or self.line.held_by is not None:
            raise CallStateError(f"cannot call on span {self.span} channel {self.channel}: "
                                 f"the circuit is {self.line.state.value}")
        self.line.held_by = self.id
        self._report(ev.Seized(now))
        self._line(self.line.request(now, Input.SEIZE))
        return self._take()

    def on_signal(self, now: float, event: CardEvent | ev.SpanAlarm) -> list[Output]:
        self._begin(now)
        if isinstance(event, ev.SpanAlarm):
            if event.alarms and not self.ended:
                self._fire(G.LINE_FAULT)
        elif not self.ended and event.kind is EventKind.BITS_CHANGED \
                and event.value is not None:
            self._line(self.line.receive(self.now, event.value))
        return self._take()

    def on_detection(self, now: float, event: DetectionEvent) -> list[Output]:
        self._begin(now)
        if self.ended or isinstance(event, SilenceEvent):
            return self._take()
        if isinstance(event, MfEvent):
            if self.state is S.REGISTER:
                self._register(self.register.on_mf(self.now, event))
            return self._take()
        observed = heard(event, self.now)
        if isinstance(observed, ev.DigitReceived):
            if self.state is S.CONNECTED:
                self._report(observed)
        elif self.state is S.ALERTING:
            self._early_media(observed)
            if isinstance(observed, ev.SitHeard | ev.AnnouncementHeard):
                self._fire(G.INFORMATION, observed)
            elif isinstance(observed, ev.ToneHeard) and observed.tone in ("busy",
                                                                          "congestion"):
                self._fire(G.CLEARING_TONE, observed)
        elif self.state is S.ANSWERED:
            if isinstance(observed, ev.ToneHeard) and observed.tone in FAX_TONES:
                self._fire(G.FAX_TONE, observed)
            elif isinstance(observed, ev.AmdVerdict):
                self._report(observed)
                self._fire(G.AMD, observed)
        return self._take()

    def on_time(self, now: float) -> list[Output]:
        """The line's and the register's timers, then the call's, in this order."""
        self._begin(now)
        if self.ended:
            return []
        self._line(self.line.on_time(self.now))
        if self.state is S.REGISTER:
            self._register(self.register.on_time(self.now))
        hold = self.options.hold
        if self.state is S.ALERTING and now >= self._ring_deadline():
            self._fire(G.RING_TIMEOUT)
        elif self.state is S.ANSWERED and self._answered_at is not None \
                and now - self._answered_at >= AMD_WINDOW:
            self._fire(G.AMD_TIMEOUT)
        elif self.state is S.CONNECTED and hold is not None and self._decided_at is not None \
                and now - self._decided_at >= hold:
            self._fire(G.HOLD_OVER)
        elif self.state in _LIVE and now - self.started >= self.options.max_duration:
            self._fire(G.MAX_DURATION)
        return self._take()

    def next_deadline(self) -> float | None:
        if self.ended:
            return float("inf")
        hold = self.options.hold
        return self._deadlines(
            self.register.next_deadline() if self.state is S.REGISTER else None,
            self._ring_deadline() if self.state is S.ALERTING else None,
            self._answered_at + AMD_WINDOW if self.state is S.ANSWERED
            and self._answered_at is not None else None,
            self._decided_at + hold if self.state is S.CONNECTED and hold is not None
            and self._decided_at is not None else None,
            self.started + self.options.max_duration if self.state in _LIVE else None)

    def hangup(self, now: float, cause: int = 16) -> list[Output]:
        """Clear forward (Q.421 carries no cause: ``cause`` is not sent)."""
        self._begin(now)
        if self.state not in _LIVE:
            return []
        if self.outcome is None:
            answered = self.state in (S.ANSWERED, S.CONNECTED)
            self.outcome = Outcome.HUMAN.value if answered else Outcome.NO_ANSWER.value
        self._notes.append(("reason", "near_end"))
        self._clear()
        return self._take()

    @property
    def done(self) -> bool:
        return self.state is S.DONE

    # -- the table ----------------------------------------------------------------------
    def _fire(self, signal: Signal, event: ev.CallEvent | None = None) -> None:
        row = TRANSITIONS.get((self.state, signal))
        if row is None:
            return
        self._event = event
        transition: Callable[[], None] = getattr(self, row[0])
        transition()

    def _line_event(self, event: LineEvent) -> None:
        signal = _OUT_LINE.get(event)
        if signal is not None:
            self._fire(signal)

    def _register_end(self, end: RegisterEnd) -> None:
        self.register_result = end.result
        if end.result is None:
            self._notes.append(("reason", end.reason))
            self._fire(G.REGISTER_FAILED)
        elif end.result in ACCEPTED:
            self._fire(G.ACCEPTED)
        else:
            self._fire(G.REFUSED)

    # -- transitions --------------------------------------------------------------------
    def _start_register(self) -> None:
        self._enter(S.REGISTER)
        self._register(self.register.start(self.now))

    def _glare(self) -> None:
        self._release(Outcome.CONGESTION, CAUSE_GLARE, "double seizure")

    def _no_acknowledgement(self) -> None:
        self._release(Outcome.ERROR, CAUSE_TIMEOUT, "no seizure acknowledgement")

    def _alerting(self) -> None:
        self._enter(S.ALERTING)
        self._report(ev.Alerting(self.now, inband=True))
        # The speech path is through: listen to what the far exchange plays.
        self._do(start_progress(dict(self.options.detect)))

    def _refused(self) -> None:
        assert self.register_result is not None
        outcome, cause = RESULTS[self.register_result]
        self._release(outcome, cause, self.register_result.value)

    def _register_failed(self) -> None:
        self._release(Outcome.ERROR, CAUSE_TIMEOUT, None)

    def _answer(self) -> None:
        if self.state is S.REGISTER:
            # Answered before our MF was heard to end: no call progress was started.
            self._register(self.register.stop(self.now))
            self._do(start_progress(dict(self.options.detect)))
        self._answered_at = self.now
        self._report(ev.Answered(self.now, "answer_signal"))
        self._enter(S.ANSWERED)
        self._do(MarkAnswered(exact=True))
        if not self.options.amd:
            self._decide("human", "amd_off")

    def _no_answer(self) -> None:
        self._release(Outcome.NO_ANSWER, None, None)

    def _line_fault(self) -> None:
        if self.state in (S.ANSWERED, S.CONNECTED):
            self._by = "far_end"
            if self.state is S.ANSWERED:
                self._decide("human", "amd_timeout")
            self._notes.append(("reason", "span alarm"))
            self._cause = 38
            self._clear()
        else:
            # As an SS7 or PRI call on a lost link: cause 38, the outcome its cause has
            # (the number was not reached; the dialer tries it again).
            self._release(outcome_for_cause(38), 38, "span alarm")

    def _information(self) -> None:
        if isinstance(self._event, ev.AnnouncementHeard):
            kind = self._event.kind
            self._release(outcome_for_announcement(kind), None, f"announcement {kind}")
        else:
            self._release(Outcome.INVALID_NUMBER, None, "special information tone")

    def _clearing_tone(self) -> None:
        assert isinstance(self._event, ev.ToneHeard)
        tone = self._event.tone
        self._release(Outcome.BUSY if tone == "busy" else Outcome.CONGESTION, None,
                      f"{tone} tone")

    def _far_clear(self) -> None:
        self._by = "far_end"
        if self.state is S.ANSWERED:
            self._decide("human", "amd_timeout")
        if self.outcome is None:
            # Cleared before the answer: the far end gave up ringing, or broke off.
            self.outcome = (Outcome.NO_ANSWER if self.state is S.ALERTING
                            else Outcome.ERROR).value
        self._notes.append(("signal", "clear_back"))
        self._clear()

    def _decide_fax(self) -> None:
        assert isinstance(self._event, ev.ToneHeard)
        self._decide("fax", self._event.tone)

    def _decide_amd(self) -> None:
        assert isinstance(self._event, ev.AmdVerdict)
        result = self._event.result
        self._decide("human" if result == "notsure" else result, f"amd_{result}")

    def _decide_timeout(self) -> None:
        self._decide("human", "amd_timeout")

    def _hang_up_near(self) -> None:
        self._clear()

    def _max_duration(self) -> None:
        if self.outcome is None:
            self.outcome = Outcome.ERROR.value
            self._notes.append(("reason", "maximum call duration reached"))
        self._clear()

    def _done(self) -> None:
        if self.line.state is not LineState.IDLE:
            self._notes.append(("release_guard", "missing"))
        self._enter(S.DONE)
        self._hung_up()

    # -- helpers ------------------------------------------------------------------------
    def _release(self, outcome: Outcome, cause: int | None, why: str | None) -> None:
        self.outcome = outcome.value
        self._cause = cause
        self._notes.append(("outcome", outcome.value))
        if why:
            self._notes.append(("reason", why))
        if cause is not None:
            self._notes.append(("cause", cause))
        self._clear()

    def _clear(self) -> None:
        """Stop the register, clear forward (Q.421), wait for the release guard."""
        if self.state is S.REGISTER:
            self._register(self.register.stop(self.now))
        self._enter(S.CLEARING)
        self._line(self.line.request(self.now, Input.CLEAR))

    def _ring_deadline(self) -> float:
        return self._since + min(self.options.ring_timeout, self.variant.timers.answer)

