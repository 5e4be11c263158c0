"""Analog loop-start lines on FXO ports: outbound and inbound call legs, and the module.

Loop-start lines give no answer signal of their own (DESIGN.md): an outbound call is
answered on a polarity reversal, on voice after ringback (tone or music) was heard, or
on a fax/modem tone; ringback is never an answer. On lines that reverse polarity on
answer (chan_dahdi's ``answeronpolarityswitch``) only the reversal is an answer, and
sound before it is early media.

Every transition of the outbound leg is one row of :data:`TRANSITIONS`:
``(state, signal) -> (transition, why)``. Signals are what the line and the detector
said (:class:`Signal`); the transition methods do the work and keep their few guards
in plain sight.
"""

from __future__ import annotations

from collections.abc import Callable
from enum import Enum, StrEnum
from typing import Any, ClassVar, Final

from trunkline.drivers.dsp.callerid import CallerId, CallerIdEvent
from trunkline.drivers.dsp.events import DetectionEvent, SilenceEvent
from trunkline.drivers.model import CardEvent, EventKind, HookOp
from trunkline.drivers.signalling import events as ev
from trunkline.drivers.signalling.actions import (
    DetectCallerId,
    Dial,
    Hook,
    MarkAnswered,
    RestartDetection,
)
from trunkline.drivers.signalling.analog import AnalogSignalling
from trunkline.drivers.signalling.detection import (
    AMD_WINDOW,
    DIGITS,
    DIGITS_ALSO,
    FAX_TONES,
    heard,
    start_progress,
)
from trunkline.drivers.signalling.leg import CallOptions, Leg, Output
from trunkline.errors import CallStateError, NumberFormatError
from trunkline.vocab import outcome_for_announcement, outcome_for_sit

__all__ = ["TRANSITIONS", "FxoInboundLeg", "FxoLeg", "FxoSignalling", "Signal", "State"]

#: How long sound with no ringback is listened to before it is called an announcement
#: nobody recognised (the detector names steady music within 1-2 s, other music within
#: 3 s, and known announcements within about 4.5 s of their start).
EARLY_SOUND_WINDOW = 6.0
#: How long after the first ring an inbound call waits for caller ID before it is
#: offered without: GR-30-CORE sends the message at least 500 ms after the first ring
#: and it lasts under a second; China's and North America's ring cadences leave 4 s
#: (chan_dahdi waits for the message or the second ring).
CALLER_ID_WAIT = 5.0


class State(StrEnum):
    SEIZING = "seizing"
    DIALING = "dialing"
    PROGRESS = "progress"
    ANSWERED = "answered"
    CONNECTED = "connected"
    RELEASING = "releasing"
    DONE = "done"


class Signal(Enum):
    """What an outbound loop-start leg reacts to."""

    DIAL_TONE = "dial tone heard"
    NO_DIAL_TONE = "no dial tone in time"
    DIAL_COMPLETE = "our digits are out"
    RINGBACK = "ringback (tone or music)"
    BUSY = "busy or congestion tone"
    INFO_TONE = "information tone"
    SIT = "special information tones"
    ANNOUNCEMENT = "a known operator announcement"
    VOICE = "voice"
    FAX_TONE = "fax or modem answer tone"
    AMD = "the detector's answering-machine verdict"
    POLARITY_REVERSED = "polarity reversed"
    POLARITY_NORMAL = "polarity back to normal"
    LOOP_DROP = "loop current dropped"
    RING_TIMEOUT = "ring timeout"
    EARLY_SOUND_OVER = "early sound window over"
    AMD_TIMEOUT = "AMD window over"
    HOLD_OVER = "hold time over"
    MAX_DURATION = "maximum call duration"
    RELEASED = "on hook for a tick"


S, G = State, Signal

#: (state, signal) -> (transition method, why). Anything else leaves the state alone.
TRANSITIONS: Final[dict[tuple[State, Signal], tuple[str, str]]] = {
    (S.SEIZING, G.DIAL_TONE): ("_dial", "loop start: dial once the exchange gives dial tone"),
    (S.SEIZING, G.NO_DIAL_TONE): ("_no_dial_tone", "no dial tone: dial blind, or give up"),
    (S.DIALING, G.DIAL_COMPLETE): ("_dialled", "the number is out: listen for progress"),
    (S.PROGRESS, G.RINGBACK): ("_ringback", "ringback is never an answer (DESIGN.md)"),
    (S.PROGRESS, G.BUSY): ("_release_tone", "busy or congestion: release"),
    (S.PROGRESS, G.SIT): ("_release_sit", "ITU-T E.180 SIT: the number cannot be reached"),
    (S.PROGRESS, G.ANNOUNCEMENT): ("_release_announcement", "the network speaks instead"),
    (S.PROGRESS, G.VOICE): ("_voice", "voice after ringback answers a line with no signal"),
    (S.PROGRESS, G.FAX_TONE): ("_fax_answer", "CED/ANSam: a fax or modem answered"),
    (S.PROGRESS, G.POLARITY_REVERSED): ("_answer_on_polarity", "reversal: the answer"),
    (S.PROGRESS, G.LOOP_DROP): ("_release_loop_drop", "the exchange dropped us"),
    (S.PROGRESS, G.RING_TIMEOUT): ("_release_no_answer", "rang out"),
    (S.PROGRESS, G.EARLY_SOUND_OVER): ("_early_sound_over", "sound nobody could name"),
    (S.ANSWERED, G.FAX_TONE): ("_decide_fax", "a fax or modem answered"),
    (S.ANSWERED, G.AMD): ("_decide_amd", "answering-machine detection decided"),
    (S.ANSWERED, G.AMD_TIMEOUT): ("_decide_timeout", "AMD did not decide: a person"),
    (S.ANSWERED, G.POLARITY_NORMAL): ("_far_clear", "reversal back: the far end cleared"),
    (S.ANSWERED, G.LOOP_DROP): ("_far_clear", "loop current drop: the far end cleared"),
    (S.CONNECTED, G.POLARITY_NORMAL): ("_far_clear", "reversal back: the far end cleared"),
    (S.CONNECTED, G.LOOP_DROP): ("_far_clear", "loop current drop: the far end cleared"),
    # The exchange puts busy (or congestion) on the line when the far end hangs up; the
    # cadence detector can name the first cycles of a busy tone starting under speech as
    # the (same-frequency) information tone and does not name it again: no
    # conversation carries either tone.
    (S.ANSWERED, G.BUSY): ("_far_clear", "busy/congestion tone: the far end cleared"),
    (S.ANSWERED, G.INFO_TONE): ("_far_clear", "information tone: the far end cleared"),
    (S.CONNECTED, G.BUSY): ("_far_clear", "busy/congestion tone: the far end cleared"),
    (S.CONNECTED, G.INFO_TONE): ("_far_clear", "information tone: the far end cleared"),
    (S.CONNECTED, G.HOLD_OVER): ("_hang_up_near", "we stayed as long as asked"),
    (S.RELEASING, G.RELEASED): ("_done", "on hook"),
}
for _state in (S.SEIZING, S.DIALING, S.PROGRESS, S.ANSWERED, S.CONNECTED):
    TRANSITIONS[(_state, G.MAX_DURATION)] = ("_max_duration", "no call lasts for ever")

_TONE_SIGNALS: Final = {"dial": G.DIAL_TONE, "ringback": G.RINGBACK, "music": G.RINGBACK,
                        "busy": G.BUSY, "congestion": G.BUSY, "info": G.INFO_TONE,
                        "sit": G.SIT, **{t: G.FAX_TONE for t in FAX_TONES}}


def detector_signal(event: ev.CallEvent) -> Signal | None:
    """The signal a detector observation gives an FXO leg (None: nothing to act on)."""
    if isinstance(event, ev.ToneHeard):
        return _TONE_SIGNALS.get(event.tone)
    return {ev.SitHeard: G.SIT, ev.AnnouncementHeard: G.ANNOUNCEMENT, ev.VoiceHeard: G.VOICE,
            ev.AmdVerdict: G.AMD}.get(type(event))


def check_number(number: str, dial_mode: str) -> str:
    if not number or any(c not in "0123456789*#" for c in number):
        raise NumberFormatError(f"cannot dial {number!r}: a number is digits 0-9, * and # only")
    if dial_mode == "pulse" and any(c in "*#" for c in number):
        raise NumberFormatError(f"cannot pulse-dial {number!r}: * and # need DTMF")
    return number


class FxoLeg(Leg):
    """An outbound call on a loop-start line (see the module docstring)."""

    kind: ClassVar[str] = "fxo"
    direction: ClassVar[str] = "outbound"

    def __init__(self, call_id: int, span: int, channel: int, options: CallOptions, *,
                 answer_on_polarity: bool = False) -> None:
        super().__init__(call_id, span, channel, check_number(options.number,
                                                              options.dial_mode))
        self.options = options
        self.answer_on_polarity = answer_on_polarity
        self.state = State.SEIZING
        self._since = 0.0
        self._ringback_heard = False
        self._early_voice_at: float | None = None
        self._answered_at: float | None = None
        self._decided_at: float | None = None
        self._while_dialing: list[tuple[Signal, ev.CallEvent]] = []
        #: The event being handled (transitions that need its detail read it here).
        self._event: ev.CallEvent | None = None

    # -- inputs -------------------------------------------------------------------------
    def start(self, now: float) -> list[Output]:
        self.started = self.now = self._since = now
        self._do(start_progress(dict(self.options.detect)))
        self._report(ev.Seized(now))
        self._do(Hook(HookOp.OFFHOOK))
        return self._take()

    def on_signal(self, now: float, event: CardEvent) -> list[Output]:
        self._begin(now)
        if event.kind is EventKind.DIAL_COMPLETE:
            self._fire(G.DIAL_COMPLETE)
        elif event.kind is EventKind.POLARITY:
            observed: ev.CallEvent = ev.PolarityReversal(self.now, bool(event.value))
            self._report(observed)
            signal = G.POLARITY_REVERSED if event.value else G.POLARITY_NORMAL
            if self.state is S.DIALING:
                # The exchange may answer before our last digit's pause is over: the
                # reversal waits with the detector's news for DIAL_COMPLETE.
                self._while_dialing.append((signal, observed))
            else:
                self._fire(signal, observed)
        elif event.kind is EventKind.ONHOOK:
            observed = ev.LoopCurrentDrop(self.now)
            self._report(observed)
            self._fire(G.LOOP_DROP, observed)
        return self._take()

    def on_detection(self, now: float, event: DetectionEvent) -> list[Output]:
        self._begin(now)
        if isinstance(event, SilenceEvent):
            return []
        observed = heard(event, self.now)
        self._report(observed)
        signal = detector_signal(observed)
        if signal is not None:
            # While our digits go out, what the detector says waits: the exchange may
            # answer before our last digit's pause is over (it routes on the last digit).
            if self.state is S.DIALING:
                self._while_dialing.append((signal, observed))
            else:
                self._fire(signal, observed)
        return self._take()

    def on_time(self, now: float) -> list[Output]:
        """The timers, looked at in this order; the first that ends a phase ends the look."""
        self.now = now
        elapsed = now - self._since
        hold = self.options.hold
        if self.state is S.SEIZING and elapsed >= self.options.dial_tone_timeout:
            self._fire(G.NO_DIAL_TONE)
        elif self.state is S.PROGRESS and elapsed >= self.options.ring_timeout:
            self._fire(G.RING_TIMEOUT)
        elif self.state is S.PROGRESS and self._early_voice_at is not None \
                and now - self._early_voice_at >= EARLY_SOUND_WINDOW:
            self._fire(G.EARLY_SOUND_OVER)
        else:
            if self.state is S.ANSWERED and self._answered_at is not None \
                    and now - self._answered_at >= AMD_WINDOW:
                self._fire(G.AMD_TIMEOUT)
            if self.state is S.CONNECTED and hold is not None \
                    and self._decided_at is not None and now - self._decided_at >= hold:
                self._fire(G.HOLD_OVER)
            elif self.state not in (S.RELEASING, S.DONE) \
                    and now - self.started >= self.options.max_duration:
                self._fire(G.MAX_DURATION)
            elif self.state is S.RELEASING:
                self._fire(G.RELEASED)
        return self._take()

    def hangup(self, now: float, cause: int = 16) -> list[Output]:
        self._begin(now)
        if self.state in (S.RELEASING, S.DONE):
            return []
        if self.outcome is None:
            # Hung up before we knew: an unanswered call is no_answer; an answered one
            # never classified stays a person, as AMD's "notsure" does.
            answered = self.state in (S.ANSWERED, S.CONNECTED)
            self._release("human" if answered else "no_answer", reason="near_end")
        else:
            self._hang_up_near()
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

    # -- transitions --------------------------------------------------------------------
    def _dial(self) -> None:
        if isinstance(self._event, ev.ToneHeard):
            self._report(ev.DialTone(self.now))
        self._enter(S.DIALING)
        # Detection starts afresh with the digits: the line falls silent, and what comes
        # next is the network's answer, which a fragment of dial tone must not colour.
        self._do(RestartDetection(), Dial(self.number, self.options.dial_mode))

    def _no_dial_tone(self) -> None:
        if self.options.blind_dial:
            self._report(ev.DialToneMissing(self.now, "blind"))
            self._dial()
        else:
            self._release("error", reason="no dial tone")

    def _dialled(self) -> None:
        self._report(ev.DigitsSent(self.now, self.number))
        self._enter(S.PROGRESS)
        early, self._while_dialing = self._while_dialing, []
        for signal, event in early:
            if self.state is S.PROGRESS:
                self._fire(signal, event)

    def _ringback(self) -> None:
        self._ringback_heard = True
        self._early_voice_at = None

    def _release_tone(self) -> None:
        assert isinstance(self._event, ev.ToneHeard)
        self._release(self._event.tone)

    def _release_sit(self) -> None:
        # The SIT's code says whose trouble it is (trunkline.vocab.SIT_OUTCOME): a tone
        # heard as "sit" without a code is ITU-T E.180's, which names no reason.
        code = self._event.code if isinstance(self._event, ev.SitHeard) else "ITU"
        self._release(outcome_for_sit(code).value)

    def _release_announcement(self) -> None:
        assert isinstance(self._event, ev.AnnouncementHeard)
        kind = self._event.kind
        self._release(outcome_for_announcement(kind).value, announcement=kind)

    def _voice(self) -> None:
        if self._ringback_heard and not self.answer_on_polarity:
            self._answer("voice")
        elif self._early_voice_at is None and not self._ringback_heard:
            # An announcement, or music ring-back? (Timed from when the voice was heard,
            # also when that was during our digits.)
            self._early_voice_at = self._event.at if self._event is not None else self.now

    def _fax_answer(self) -> None:
        assert isinstance(self._event, ev.ToneHeard)
        tone = self._event.tone
        self._answer("tone")
        self._decide("fax", tone)

    def _answer_on_polarity(self) -> None:
        self._answer("polarity")

    def _release_loop_drop(self) -> None:
        self._release("error", reason="loop current dropped before answer")

    def _release_no_answer(self) -> None:
        self._release("no_answer")

    def _early_sound_over(self) -> None:
        self._early_voice_at = None
        if self.answer_on_polarity:
            # No reversal came: sound we could not name is the network talking.
            self._report(ev.AnnouncementHeard(self.now, "unknown"))
            self._release("unreachable", announcement="unknown")
            return
        # No answer signal on this line: music ring-back answered before it could be
        # named sounds just like this, and when the person began is lost, so AMD has
        # nothing sound to judge. A live customer must not be taken for a machine: call
        # it a person, "notsure".
        self._answer("voice_after_early_sound")
        self._decide("human", "amd_notsure")

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
        self._report(ev.HungUp(self.now, "near_end", self.outcome or "error"))
        self._enter(S.RELEASING)
        self._do(Hook(HookOp.ONHOOK))

    def _max_duration(self) -> None:
        if self.outcome:
            self._hang_up_near()
        else:
            self._release("error", reason="maximum call duration reached")

    def _done(self) -> None:
        self._enter(S.DONE)

    # -- helpers ------------------------------------------------------------------------
    def _answer(self, by: str) -> None:
        self._answered_at = self.now
        self._report(ev.Answered(self.now, by))
        self._enter(S.ANSWERED)
        if not self.options.amd and by != "tone":
            self._decide("human", "amd_off")
        self._do(MarkAnswered(exact=by in ("polarity", "tone")), DIGITS_ALSO)

    def _decide(self, outcome: str, reason: str) -> None:
        if self.state is not S.ANSWERED:
            return
        self.outcome = self.answered_by = outcome
        self._decided_at = self.now
        result = "notsure" if reason in ("amd_notsure", "amd_timeout") else outcome
        answered_at = self.now if self._answered_at is None else self._answered_at
        self._report(ev.Classified(self.now, result, reason,
                                   round(self.now - answered_at, 2)))
        self._enter(S.CONNECTED)

    def _far_clear(self) -> None:
        event = self._event
        signal = (f"{event.tone}_tone" if isinstance(event, ev.ToneHeard) else
                  "polarity_reversal" if isinstance(event, ev.PolarityReversal) else
                  "loop_current_drop")
        if self.outcome is None:
            self._decide("human", "amd_timeout")
        self._report(ev.HungUp(self.now, "far_end", self.outcome or "error",
                               notes=(("signal", signal),)))
        self._enter(S.RELEASING)
        self._do(Hook(HookOp.ONHOOK))

    def _release(self, outcome: str, **detail: Any) -> None:
        self.outcome = outcome
        self._report(ev.HungUp(self.now, "near_end", outcome,
                               notes=(("outcome", outcome), *detail.items())))
        self._enter(S.RELEASING)
        self._do(Hook(HookOp.ONHOOK))

    def _enter(self, state: State) -> None:
        self.state = state
        self._since = self.now


class FxoInboundLeg(Leg):
    """A call ringing in on a loop-start line: offered until answered or given up.

    On a line with caller ID (``caller_id``: the FSK standard the exchange sends) the
    call is offered once the caller's number is read in the silence after the first
    ring, as chan_dahdi does with ``usecallerid`` (it waits for the message before it
    makes the channel): at the second ring, or :data:`CALLER_ID_WAIT` after the first
    (DAHDI reports the first ring only), it is offered without a number.
    """

    kind: ClassVar[str] = "fxo"
    direction: ClassVar[str] = "inbound"

    def __init__(self, call_id: int, span: int, channel: int, *, offer_for: float,
                 caller_id: str = "") -> None:
        super().__init__(call_id, span, channel, "")
        self.offer_for = offer_for
        self.caller_id = caller_id
        self.answered = False
        self.offered = False
        self.caller: CallerId | None = None
        self._until = 0.0

    def start(self, now: float) -> list[Output]:
        self.started = self.now = now
        if self.caller_id:
            self._until = now + CALLER_ID_WAIT
            self._do(DetectCallerId(self.caller_id))
        else:
            self._offer()
        return self._take()

    def _offer(self) -> None:
        self.offered = True
        self._until = self.now + self.offer_for
        number = self.caller.number if self.caller is not None else ""
        self._report(ev.Offered(self.now, calling=number, called=""))

    def on_signal(self, now: float, event: CardEvent) -> list[Output]:
        self._begin(now)
        if event.kind is EventKind.ONHOOK and self.answered and not self.ended:
            self._end("human", "far_end")
        elif event.kind is EventKind.RING_BEGIN and not self.offered and not self.ended:
            self._stop_listening()  # the second ring: no caller ID came
        return self._take()

    def on_detection(self, now: float, event: DetectionEvent) -> list[Output]:
        if not isinstance(event, CallerIdEvent):
            return super().on_detection(now, event)  # the far end's digits, once answered
        self._begin(now)
        if not self.offered and not self.ended:
            self.caller = event.caller
            self._stop_listening()
        return self._take()

    def _stop_listening(self) -> None:
        self._do(DetectCallerId(None))
        self._offer()

    def on_time(self, now: float) -> list[Output]:
        self.now = now
        if not self.ended and not self.offered and now >= self._until:
            self._stop_listening()
        elif not self.answered and not self.ended and now >= self._until:
            self._end("rejected", "near_end")  # nobody claimed it
        return self._take()

    def next_deadline(self) -> float | None:
        return float("inf") if self.answered else self._until

    def answer(self, now: float) -> list[Output]:
        self._begin(now)
        if self.answered or self.ended or not self.offered:
            raise CallStateError(f"cannot answer call {self.id}: it is not offered")
        self.answered = True
        self._do(Hook(HookOp.OFFHOOK))
        self._report(ev.Answered(self.now, "request"))
        self._do(DIGITS)
        return self._take()

    def hangup(self, now: float, cause: int = 16) -> list[Output]:
        self._begin(now)
        if not self.ended:
            self._do(Hook(HookOp.ONHOOK))
            self._end("human" if self.answered else "rejected", "near_end")
        return self._take()

    def _end(self, outcome: str, by: str) -> None:
        self.outcome = outcome
        self._report(ev.HungUp(self.now, by, outcome))


class FxoSignalling(AnalogSignalling):
    """Loop-start signalling on a span of FXO ports (an analog line each)."""

    kind: ClassVar[str] = "fxo"

    def outbound(self, call_id: int, channel: int | None, options: CallOptions) -> Leg:
        if channel is None:
            raise CallStateError(f"an FXO call needs a port of span {self.span.number}")
        line = self.card.line_options(channel)
        return FxoLeg(call_id, self.span.number, channel, options,
                      answer_on_polarity=line.answer_on_polarity)

    def unclaimed(self, now: float, event: CardEvent) -> Leg | ev.SpanEvent | None:
        if event.kind is EventKind.RING_BEGIN:
            return FxoInboundLeg(self.context.new_id(), self.span.number, event.channel,
                                 offer_for=self.context.inbound.timeout,
                                 caller_id=self.card.line_options(event.channel).caller_id)
        return super().unclaimed(now, event)
