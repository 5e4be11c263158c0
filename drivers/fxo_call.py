"""An outbound call on an analog FXO port, as a sans-IO state machine.

Feed it card events, received frames and the time; it returns what to do to the
channel (hook and dial actions) and records timestamped observations. It reads no clock
and touches no card, so the same code runs on the emulated card in virtual time and on
a DAHDI board in real time.

Loop-start lines give no answer signal (DESIGN.md): an answer is declared only on a
polarity reversal, on voice after ringback has been heard, or on a fax/modem tone.
Ringback is never an answer.

Transitions (state, input) -> state; everything else leaves the state unchanged:

    SEIZING    dial tone heard                      -> DIALING   (dial the number)
    SEIZING    dial tone timeout                    -> DONE      (error: no dial tone)
    DIALING    DIAL_COMPLETE                        -> PROGRESS
    PROGRESS   busy / congestion tone, SIT, speech  -> RELEASING (busy, congestion, ...)
    PROGRESS   polarity reversal, voice after ring  -> ANSWERED
    PROGRESS   ring timeout                         -> RELEASING (no_answer)
    ANSWERED   voice pattern / answer tone / beep   -> CONNECTED (human, machine, fax)
    CONNECTED  far-end clear, or hold time over     -> RELEASING
    RELEASING  (on hook)                            -> DONE
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

import numpy as np
from trunkline.drivers.dsp.simple_progress import SimpleProgress
from trunkline.drivers.dsp.zones import Zone
from trunkline.drivers.greeting import GreetingMeter
from trunkline.drivers.model import CardEvent, EventKind, HookOp

from trunkline.errors import NumberFormatError

#: How long early sound is listened to before calling it an announcement (music
#: ring-back is recognised within 1.5 s).
EARLY_SOUND_WINDOW = 1.8
#: How long after answer we wait for a decision before saying "notsure".
AMD_WINDOW = 5.0


class CallState(StrEnum):
    SEIZING = "seizing"
    DIALING = "dialing"
    PROGRESS = "progress"
    ANSWERED = "answered"
    CONNECTED = "connected"
    RELEASING = "releasing"
    DONE = "done"


@dataclass(frozen=True, slots=True)
class HookAction:
    op: HookOp


@dataclass(frozen=True, slots=True)
class DialAction:
    digits: str
    mode: str = "dtmf"


Action = HookAction | DialAction


@dataclass
class FxoCall:
    """One outbound call. ``hold`` is how long to stay connected after the decision
    (None: until the far end clears, at most ``max_duration``)."""

    number: str
    zone: Zone
    dial_mode: str = "dtmf"
    dial_tone_timeout: float = 3.0
    ring_timeout: float = 45.0
    hold: float | None = None
    max_duration: float = 600.0
    blind_dial: bool = False
    state: CallState = CallState.SEIZING
    outcome: str | None = None
    answered_by: str | None = None
    events: list[dict[str, Any]] = field(default_factory=list)
    _start: float = 0.0
    _now: float = 0.0
    _state_since: float = 0.0
    _ringback_heard: bool = False
    _early_voice_at: float | None = None
    _answered_at: float | None = None
    _decided_at: float | None = None
    _progress: SimpleProgress | None = None
    _greeting: GreetingMeter = field(default_factory=GreetingMeter)

    def __post_init__(self) -> None:
        if not self.number or any(c not in "0123456789*#" for c in self.number):
            raise NumberFormatError(
                f"cannot dial {self.number!r}: a number is digits 0-9, * and # only"
            )
        if self.dial_mode == "pulse" and any(c in "*#" for c in self.number):
            raise NumberFormatError(f"cannot pulse-dial {self.number!r}: * and # need DTMF")
        self._progress = SimpleProgress(self.zone)
        # While seizing, nothing but dial tone is expected: half a second of it will do.
        self._progress.dial_tone_after = 0.5

    # -- inputs ---------------------------------------------------------------------
    def start(self, now: float) -> list[Action]:
        self._start = self._now = self._state_since = now
        self._log("seized")
        return [HookAction(HookOp.OFFHOOK)]

    def on_event(self, event: CardEvent) -> list[Action]:
        if event.kind is EventKind.DIAL_COMPLETE and self.state is CallState.DIALING:
            self._log("digits_sent", digits=self.number)
            self._enter(CallState.PROGRESS)
        elif event.kind is EventKind.POLARITY:
            self._log("polarity_reversal", reversed=bool(event.value))
            if self.state is CallState.PROGRESS and event.value:
                self._answer("polarity")
            elif self.state in (CallState.ANSWERED, CallState.CONNECTED) and not event.value:
                return self._far_clear("polarity_reversal")
        elif event.kind is EventKind.ONHOOK:
            self._log("loop_current_drop")
            if self.state in (CallState.ANSWERED, CallState.CONNECTED):
                return self._far_clear("loop_current_drop")
            if self.state is CallState.PROGRESS:
                return self._release("error", reason="loop current dropped before answer")
        return []

    def on_frame(self, now: float, frame: np.ndarray) -> list[Action]:
        """One received 20 ms frame on this call's channel, ending at ``now``."""
        self._now = now
        actions: list[Action] = []
        assert self._progress is not None
        observations = self._progress.feed(frame)
        for obs in observations:
            actions += self._observe(obs.kind, obs.name)
        if self.state in (CallState.ANSWERED, CallState.CONNECTED):
            actions += self._measure_greeting(frame)
        return actions + self.on_time(now)

    def on_time(self, now: float) -> list[Action]:
        self._now = now
        elapsed = now - self._state_since
        if self.state is CallState.SEIZING and elapsed >= self.dial_tone_timeout:
            if self.blind_dial:
                self._log("dial_tone_missing", dialing="blind")
                return self._dial()
            return self._release("error", reason="no dial tone")
        if self.state is CallState.PROGRESS and elapsed >= self.ring_timeout:
            return self._release("no_answer")
        if self.state is CallState.PROGRESS and self._early_voice_at is not None and \
                now - self._early_voice_at >= EARLY_SOUND_WINDOW:
            # Speech with no ringback and no answer signal is the network talking.
            self._log("announcement")
            return self._release("unreachable")
        if self.state is CallState.ANSWERED and now - (self._answered_at or now) >= AMD_WINDOW:
            self._decide("human", "notsure")
        if self.state is CallState.CONNECTED:
            assert self._decided_at is not None
            if self.hold is not None and now - self._decided_at >= self.hold:
                return self._hangup("near_end")
        if self.state not in (CallState.DONE, CallState.RELEASING) and \
                now - self._start >= self.max_duration:
            return self._hangup("near_end") if self.outcome else self._release(
                "error", reason="maximum call duration reached")
        if self.state is CallState.RELEASING:
            self._enter(CallState.DONE)
        return []

    def hangup(self, now: float, cause: str = "near_end") -> list[Action]:
        """The application hangs up (e.g. a gateway client's call.hangup)."""
        self._now = now
        if self.state in (CallState.DONE, CallState.RELEASING):
            return []
        if self.outcome is None:
            answered = self.state in (CallState.ANSWERED, CallState.CONNECTED)
            # Hung up before we knew: an unanswered call is no_answer; an answered one
            # that was never classified stays a person, as AMD's "notsure" does.
            return self._release("human" if answered else "no_answer", reason=cause)
        return self._hangup("near_end")

    @property
    def done(self) -> bool:
        return self.state is CallState.DONE

    def result(self) -> dict[str, Any]:
        return {
            "number": self.number,
            "outcome": self.outcome or "error",
            "answered_by": self.answered_by,
            "events": self.events,
            "duration": round(self._now - self._start, 3),
        }

    # -- transitions ----------------------------------------------------------------
    def _observe(self, kind: str, name: str) -> list[Action]:
        if kind == "tone":
            self._log("tone", tone=name)
        elif kind in ("sit", "voice"):
            self._log(kind)
        if self.state is CallState.SEIZING and kind == "tone" and name == "dial":
            self._log("dial_tone")
            return self._dial()
        if self.state is CallState.PROGRESS:
            if kind == "tone" and name in ("ringback", "music"):
                self._ringback_heard = True
                self._early_voice_at = None
            elif kind == "tone" and name in ("busy", "congestion"):
                return self._release(name)
            elif kind == "sit":
                return self._release("invalid_number")
            elif kind == "voice":
                if self._ringback_heard:
                    self._answer("voice")
                elif self._early_voice_at is None:
                    # Sound before any ringback: an announcement, or music ring-back.
                    # EARLY_SOUND_WINDOW tells them apart (music is reported by then).
                    self._early_voice_at = self._now
            elif kind == "tone" and name in ("answer_tone", "fax_cng"):
                self._answer("tone")
                self._decide("fax", "fax_tone")
        elif self.state in (CallState.ANSWERED, CallState.CONNECTED):
            if kind == "tone" and name in ("answer_tone", "fax_cng") and \
                    self.state is CallState.ANSWERED:
                self._decide("fax", "fax_tone")
            elif kind == "tone" and name == "busy" and self.state is CallState.CONNECTED:
                return self._far_clear("busy_tone")
        return []

    def _measure_greeting(self, frame: np.ndarray) -> list[Action]:
        if self.state is CallState.ANSWERED and (decision := self._greeting.feed(frame)):
            self._decide(*decision)
        return []

    def _dial(self) -> list[Action]:
        self._enter(CallState.DIALING)
        return [DialAction(self.number, self.dial_mode)]

    def _answer(self, by: str) -> None:
        self._answered_at = self._now
        self._log("answered", by=by)
        self._enter(CallState.ANSWERED)

    def _decide(self, outcome: str, reason: str) -> None:
        if self.state is not CallState.ANSWERED:
            return
        self.outcome = outcome
        self.answered_by = outcome if outcome != "fax" else "fax"
        self._decided_at = self._now
        amd = "notsure" if reason == "notsure" else outcome
        self._log("amd", result=amd if outcome != "fax" else "fax", reason=reason,
                  after_answer=round(self._now - (self._answered_at or self._now), 2))
        self._enter(CallState.CONNECTED)

    def _far_clear(self, how: str) -> list[Action]:
        if self.outcome is None:
            self._decide("human", "notsure")
        self._log("hangup", by="far_end", signal=how)
        self._enter(CallState.RELEASING)
        return [HookAction(HookOp.ONHOOK)]

    def _hangup(self, by: str) -> list[Action]:
        self._log("hangup", by=by)
        self._enter(CallState.RELEASING)
        return [HookAction(HookOp.ONHOOK)]

    def _release(self, outcome: str, **detail: Any) -> list[Action]:
        self.outcome = outcome
        self._log("hangup", by="near_end", outcome=outcome, **detail)
        self._enter(CallState.RELEASING)
        return [HookAction(HookOp.ONHOOK)]

    def _enter(self, state: CallState) -> None:
        self.state = state
        self._state_since = self._now

    def _log(self, event: str, **detail: Any) -> None:
        self.events.append({"t": round(self._now - self._start, 3), "event": event, **detail})
