"""Calls on GSM/LTE modules: a signalling module over a card's :class:`ModemLink`.

A module carries one voice call; its call control arrives already lifted out of the
AT dialect (drivers/modem.py): dialing, alerting, active, incoming, ended with the
3GPP TS 24.008 §10.5.4.11 cause (Q.850's values). As on a PRI span, only the network's
word is an answer (ACTIVE: TS 27.007 §7.18 <stat> 0); ringback and announcements are
early media, listened to and reported, and the cause decides an unanswered call
(trunkline/causes.py). After the answer the audio decides human, machine or fax.

The outbound leg's states, and what moves them (one table, :data:`TRANSITIONS`)::

    DIALING     ALERTING (stat 3)      -> ALERTING    (TS 27.007 §7.18)
    DIALING..   ACTIVE (stat 0)        -> ANSWERED    (AMD starts)
    ANSWERED    greeting / fax tone    -> CONNECTED   (human, machine, fax)
    CONNECTED   hold time over         -> RELEASING   (we hang up: AT+CHUP, §6.5)
    ALERTING    ring timeout           -> RELEASING   (no_answer)
    any         ENDED (cause)          -> DONE        (TS 24.008 cause -> outcome)
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from enum import StrEnum
from typing import Any, ClassVar, Final

from trunkline.causes import Q850_CAUSES, outcome_for_cause
from trunkline.drivers.card import CardABC
from trunkline.drivers.model import SpanInfo
from trunkline.drivers.modem import CallProgress, ModemCallEvent
from trunkline.drivers.signalling import events as ev
from trunkline.drivers.signalling.actions import (
    Action,
    MarkAnswered,
    OpenAudio,
    SendAnswer,
    SendClear,
    SendDigits,
    SendSetup,
    TakeChannel,
)
from trunkline.drivers.signalling.base import Signalling, SignallingContext
from trunkline.drivers.signalling.detection import (
    AMD_WINDOW,
    DIGITS,
    start_progress,
)
from trunkline.drivers.signalling.leg import CallOptions, Leg, Output
from trunkline.drivers.signalling.trunkleg import TrunkLeg
from trunkline.errors import CallStateError, NumberFormatError

__all__ = ["TRANSITIONS", "MobileInboundLeg", "MobileLeg", "MobileSignalling", "State"]

CAUSE_NORMAL = 16
#: Seconds past ``ring_timeout`` a call that never alerted may stay in set-up.
SETUP_GRACE = 10.0
#: Seconds we wait for the module to confirm our hang-up before calling the call over.
RELEASE_TIMEOUT = 10.0
#: TS 24.008 §10.5.4.7: at most 40 digits in a called party BCD number (20 octets);
#: modules refuse longer dial strings.
MAX_DIGITS = 40


class State(StrEnum):
    DIALING = "dialing"
    ALERTING = "alerting"
    ANSWERED = "answered"
    CONNECTED = "connected"
    RELEASING = "releasing"
    DONE = "done"


S = State
P = CallProgress
_CALLING = (S.DIALING, S.ALERTING)

#: (state, what the module reports) -> (next state, TS 27.007 §7.18 <stat>).
TRANSITIONS: Final[dict[tuple[State, CallProgress], tuple[State, str]]] = {
    (S.DIALING, P.ALERTING): (S.ALERTING, "stat 3: alerting"),
    (S.DIALING, P.ACTIVE): (S.ANSWERED, "stat 0: active (alerting unseen)"),
    (S.ALERTING, P.ACTIVE): (S.ANSWERED, "stat 0: active"),
}


def check_number(number: str) -> str:
    digits = number[1:] if number.startswith("+") else number
    if not digits or any(c not in "0123456789*#" for c in digits):
        raise NumberFormatError(f"cannot call {number!r}: a number is digits, * and # "
                                "(and a leading +)")
    if len(digits) > MAX_DIGITS:
        raise NumberFormatError(f"cannot call {number!r}: {len(digits)} digits, at most "
                                f"{MAX_DIGITS}")
    return number


def _notes(event: ModemCallEvent) -> tuple[tuple[str, Any], ...]:
    notes: list[tuple[str, Any]] = []
    if event.cause is not None:
        notes += [("cause", event.cause),
                  ("cause_name", Q850_CAUSES.get(event.cause, f"cause {event.cause}"))]
    if event.reason and event.reason not in ("far_end", "near_end"):
        notes.append(("reason", event.reason))
    return tuple(notes)


class MobileLeg(TrunkLeg):
    """An outbound call on a module (see the module docstring)."""

    kind: ClassVar[str] = "mobile"
    direction: ClassVar[str] = "outbound"
    CALLING_STATES: ClassVar[tuple[State, ...]] = _CALLING
    ANSWERED_STATE: ClassVar[State] = S.ANSWERED
    CONNECTED_STATE: ClassVar[State] = S.CONNECTED
    # A GSM voice codec does not carry in-band DTMF reliably: the module sends it as
    # signalling (AT+VTS, TS 27.007 §C.2.11), as chan_dongle's DTMF does.
    digits_out_of_band: ClassVar[bool] = True

    def send_digits(self, now: float, digits: str) -> list[Output]:
        self.now = now
        if self.state not in (S.ANSWERED, S.CONNECTED):
            raise CallStateError(f"call {self.id} is not answered: no digits to send")
        self._do(SendDigits(digits))
        return self._take()

    def __init__(self, call_id: int, span: int, channel: int, options: CallOptions) -> None:
        super().__init__(call_id, span, channel, check_number(options.number))
        self.options = options
        self.state = State.DIALING
        self.cause: int | None = None
        self._since = 0.0
        self._answered_at: float | None = None
        self._decided_at: float | None = None
        self._early: set[str] = set()

    def start(self, now: float) -> list[Output]:
        self.started = self.now = self._since = now
        assert self.channel is not None
        self._do(TakeChannel(self.channel), start_progress(dict(self.options.detect)))
        self._report(ev.SetupSent(now, self.number, None))
        self._do(SendSetup(self.number, self.options.calling))
        return self._take()

    def on_signal(self, now: float, event: ModemCallEvent) -> list[Output]:
        self.now = now
        if self.state is S.DONE:
            return []
        if event.progress is P.ENDED:
            self._ended(now, event)
        elif event.progress is P.ALERTING and self.state in _CALLING:
            self._report(ev.Alerting(now, inband=True))
        elif event.progress is P.ACTIVE and self.state in _CALLING:
            self._answered_at = now
            self._report(ev.Answered(now, "connect"))
        row = TRANSITIONS.get((self.state, event.progress))
        if row is not None:
            self._enter(row[0])
            if row[0] is S.ANSWERED:
                self._do(MarkAnswered(exact=True))
                if not self.options.amd:
                    self._decide("human", "amd_off")
        return self._take()

    def on_time(self, now: float) -> list[Output]:
        self.now = now
        hold = self.options.hold
        rang_out = self.state is S.ALERTING and now - self._since >= self.options.ring_timeout
        never_rang = self.state is S.DIALING \
            and now - self.started >= self.options.ring_timeout + SETUP_GRACE
        if rang_out or never_rang:
            self._clear("no_answer")
        elif self.state is S.ANSWERED and self._answered_at is not None \
                and now - self._answered_at >= AMD_WINDOW:
            self._decide("human", "amd_timeout")
        elif self.state is S.CONNECTED and hold is not None \
                and self._decided_at is not None and now - self._decided_at >= hold:
            self._clear(None)
        elif self.state is S.RELEASING and now - self._since >= RELEASE_TIMEOUT:
            self._report(ev.HungUp(now, "near_end", self.outcome or "error",
                                   notes=(("reason", "the module did not confirm the "
                                                     "hang-up"),)))
            self.state = S.DONE
        elif self.state not in (S.DONE, S.RELEASING) \
                and now - self.started >= self.options.max_duration:
            self._clear(self.outcome or "error")
        return self._take()

    def hangup(self, now: float, cause: int = CAUSE_NORMAL) -> list[Output]:
        self.now = now
        if self.state in (S.DONE, S.RELEASING):
            return []
        if self.outcome is None:
            self.outcome = "human" if self.state in (S.ANSWERED, S.CONNECTED) else "no_answer"
        self._report(ev.Clearing(now, "near_end", cause))
        self._enter(S.RELEASING)
        self._do(SendClear(cause))
        return self._take()

    @property
    def done(self) -> bool:
        return self.state is S.DONE

    def result(self) -> dict[str, Any]:
        return {**super().result(), "cause": self.cause}

    # -- helpers ------------------------------------------------------------------------
    def _ended(self, now: float, event: ModemCallEvent) -> None:
        self.cause = event.cause
        if self.outcome is None:
            if self.state in (S.ANSWERED, S.CONNECTED):
                self._decide("human", "amd_timeout")
            elif event.cause is not None:
                self.outcome = outcome_for_cause(event.cause).value
            else:
                self.outcome = "error"
        by = "near_end" if self.state is S.RELEASING or event.reason == "near_end" \
            else "far_end"
        self._report(ev.HungUp(now, by, self.outcome or "error", event.cause,
                               notes=_notes(event)))
        self.state = S.DONE

    def _clear(self, outcome: str | None) -> None:
        if outcome is not None:
            self.outcome = outcome
        self._report(ev.Clearing(self.now, "near_end", CAUSE_NORMAL))
        self._enter(S.RELEASING)
        self._do(SendClear(CAUSE_NORMAL))



class MobileInboundLeg(Leg):
    """A call ringing in on a module: offered until answered (ATA) or refused
    (AT+CHUP, TS 27.007 §6.5) when nobody takes it."""

    kind: ClassVar[str] = "mobile"
    direction: ClassVar[str] = "inbound"
    digits_out_of_band: ClassVar[bool] = True  # as MobileLeg

    def send_digits(self, now: float, digits: str) -> list[Output]:
        self.now = now
        if not self.answered or self.clearing or self.ended:
            raise CallStateError(f"call {self.id} is not answered: no digits to send")
        self._do(SendDigits(digits))
        return self._take()

    def __init__(self, call_id: int, span: int, channel: int, calling: str, *,
                 offer_for: float, reject_cause: int) -> None:
        super().__init__(call_id, span, channel, calling)
        self.offer_for = offer_for
        self.reject_cause = reject_cause
        self.answered = False
        self.clearing = False
        self.cause: int | None = None
        self._until = 0.0
        self._cleared_at: float | None = None

    def start(self, now: float) -> list[Output]:
        self.started = self.now = now
        self._until = now + self.offer_for
        assert self.channel is not None
        self._do(TakeChannel(self.channel, open_audio=False))
        self._report(ev.Offered(now, self.number, ""))
        return self._take()

    def on_signal(self, now: float, event: ModemCallEvent) -> list[Output]:
        self.now = now
        if event.progress is P.ENDED and not self.ended:
            self.cause = event.cause
            self.outcome = "human" if self.answered else "rejected"
            by = "near_end" if self.clearing else "far_end"
            self._report(ev.HungUp(now, by, self.outcome, event.cause, notes=_notes(event)))
        return self._take()

    def on_time(self, now: float) -> list[Output]:
        self.now = now
        if self.ended:
            return []
        if not (self.answered or self.clearing) and now >= self._until:
            self.clearing = True  # nobody claimed it
            self._cleared_at = now
            self._report(ev.Rejecting(now, self.reject_cause))
            self._do(SendClear(self.reject_cause))
        elif self._cleared_at is not None and now - self._cleared_at >= RELEASE_TIMEOUT:
            self.outcome = "human" if self.answered else "rejected"
            self._report(ev.HungUp(now, "near_end", self.outcome,
                                   notes=(("reason", "the module did not confirm the "
                                                     "hang-up"),)))
        return self._take()

    def next_deadline(self) -> float | None:
        if self._cleared_at is not None:
            return self._cleared_at + RELEASE_TIMEOUT
        return float("inf") if self.answered else self._until

    def answer(self, now: float) -> list[Output]:
        self.now = now
        if self.answered or self.clearing or self.ended:
            raise CallStateError(f"cannot answer call {self.id}: it is not offered")
        self.answered = True
        self._do(SendAnswer(), OpenAudio())
        self._report(ev.Answered(now, "request"))
        self._do(DIGITS)
        return self._take()

    def hangup(self, now: float, cause: int = CAUSE_NORMAL) -> list[Output]:
        self.now = now
        if not self.ended and not self.clearing:
            self.clearing = True
            self._cleared_at = now
            self._do(SendClear(cause))
        return self._take()


class MobileSignalling(Signalling):
    """The one voice call of a GSM/LTE module's span, over the card's modem link."""

    kind: ClassVar[str] = "mobile"

    def __init__(self, card: CardABC, span: SpanInfo, context: SignallingContext,
                 options: Mapping[str, Any] | None = None) -> None:
        super().__init__(card, span, context, options)
        self.link = card.modem(span.number)
        self.leg: Leg | None = None

    @property
    def channel(self) -> int:
        return self.span.channels[0]

    def hunts(self) -> bool:
        return True  # one channel: the module's

    def can_place(self, channel: int | None) -> bool:
        return self.leg is None and self.link.ready and channel in (None, self.channel)

    def outbound(self, call_id: int, channel: int | None, options: CallOptions) -> Leg:
        if channel not in (None, self.channel):
            raise CallStateError(f"span {self.span.number} is one module: its channel is "
                                 f"{self.channel}, not {channel}")
        if self.leg is not None:
            raise CallStateError(f"module on span {self.span.number} has a call already "
                                 f"(call {self.leg.id})")
        leg = MobileLeg(call_id, self.span.number, self.channel, options)
        self.leg = leg
        return leg

    def poll(self, now: float) -> Iterator[tuple[Leg | None, Any]]:
        while (event := self.link.receive()) is not None:
            if event.progress is P.INCOMING and self.leg is None:
                leg = MobileInboundLeg(self.context.new_id(), self.span.number, self.channel,
                                       event.number, offer_for=self.context.inbound.timeout,
                                       reject_cause=self.context.inbound.reject_cause)
                self.leg = leg
                yield leg, None
            elif self.leg is not None:
                yield self.leg, event

    def perform(self, leg: Leg, action: Action, now: float) -> list[Output]:
        if isinstance(action, SendSetup):
            self.link.dial(action.called)
        elif isinstance(action, SendClear):
            self.link.hang_up()
        elif isinstance(action, SendAnswer):
            self.link.answer()
        elif isinstance(action, SendDigits):
            self.link.send_dtmf(action.digits)
        else:
            raise TypeError(f"a mobile module cannot {type(action).__name__}")
        return []

    def forget(self, leg: Leg) -> None:
        if self.leg is leg:
            self.leg = None

    def state(self) -> dict[str, Any] | None:
        return self.link.status()
