"""An outbound call on an analog FXO port, as a sans-IO state machine.

Feed it card events, the detector's events for its channel, and the time; it returns
what to do (hook, dial, and detector actions) and records timestamped observations. It
reads no clock, touches no card and analyses no audio itself (the shared multi-channel
detector does), so the same code runs on the emulated card in virtual time and on a
DAHDI board in real time.

Loop-start lines give no answer signal (DESIGN.md): an answer is declared only on a
polarity reversal, on voice after ringback (tone or music) has been heard, or on a
fax/modem tone. Ringback is never an answer.

Transitions (state, input) -> state; everything else leaves the state unchanged:

    SEIZING    dial tone timeout                     -> DONE      (error: no dial tone)
    SEIZING    dial tone heard                       -> DIALING   (detection restarts)
    DIALING    DIAL_COMPLETE                         -> PROGRESS
    PROGRESS   busy / congestion, SIT, announcement  -> RELEASING (busy, congestion, ...)
    PROGRESS   speech, no ringback, nothing decided  -> RELEASING (unreachable)
    PROGRESS   polarity reversal, voice after ring   -> ANSWERED  (AMD starts)
    PROGRESS   fax or modem answer tone              -> CONNECTED (fax)
    PROGRESS   ring timeout                          -> RELEASING (no_answer)
    ANSWERED   AMD decision, fax tone, AMD timeout   -> CONNECTED (human, machine, fax)
    CONNECTED  far-end clear, or hold time over      -> RELEASING
    RELEASING  (on hook)                             -> DONE
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from trunkline.drivers.detection_ops import (
    ANNOUNCEMENT_OUTCOME,
    FAX_TONES,
    DetectorOp,
    observation,
)
from trunkline.drivers.dsp.events import DetectionEvent
from trunkline.drivers.dsp.zones import Zone
from trunkline.drivers.model import CardEvent, EventKind, HookOp
from trunkline.errors import NumberFormatError

#: How long sound with no ringback before it is listened to before calling it an
#: announcement nobody recognised (the detector names music within 3 s and known
#: announcements within about 4.5 s of their start).
EARLY_SOUND_WINDOW = 6.0
#: Tones that end a connected call on a line without a loop-drop clear: the exchange
#: puts busy (or congestion) on the line when the far end hangs up. ``info`` is in the
#: set because the cadence detector can name the first cycles of a busy tone that
#: starts under the end of speech as the (same-frequency) information tone, and it
#: does not name the tone again; no conversation carries either tone.
CLEAR_TONES = frozenset({"busy", "congestion", "info"})
#: How long after answer we wait for the detector's AMD before saying "notsure"
#: (its decisions average 2-3 s; shared/reference/detection-anchors.md: 3-5 s typical).
AMD_WINDOW = 6.0


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


Action = HookAction | DialAction | DetectorOp


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
    amd: bool = True
    """Classify answered calls (human, machine, fax); off: every answer is a person."""
    answer_on_polarity: bool = False
    """The line reverses polarity on answer (chan_dahdi's answeronpolarityswitch): then
    only a reversal is an answer, and sound before it is always early media."""
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
    _while_dialing: list[tuple[float, DetectionEvent]] = field(default_factory=list)

    def __post_init__(self) -> None:
        if not self.number or any(c not in "0123456789*#" for c in self.number):
            raise NumberFormatError(
                f"cannot dial {self.number!r}: a number is digits 0-9, * and # only"
            )
        if self.dial_mode == "pulse" and any(c in "*#" for c in self.number):
            raise NumberFormatError(f"cannot pulse-dial {self.number!r}: * and # need DTMF")

    # -- inputs ---------------------------------------------------------------------
    def start(self, now: float) -> list[Action]:
        self._start = self._now = self._state_since = now
        self._log("seized")
        return [HookAction(HookOp.OFFHOOK)]

    def on_event(self, event: CardEvent) -> list[Action]:
        """A card event on this call's channel."""
        if event.kind is EventKind.DIAL_COMPLETE and self.state is CallState.DIALING:
            self._log("digits_sent", digits=self.number)
            self._enter(CallState.PROGRESS)
            # The exchange may answer before our last digit's pause is over (it routes
            # on the last digit): what the detector decided meanwhile counts now.
            early, self._while_dialing = self._while_dialing, []
            actions: list[Action] = []
            for when, detected in early:
                if self.state is CallState.PROGRESS:
                    actions += self.on_detection(when, detected, log=False)
            return actions
        if event.kind is EventKind.POLARITY:
            self._log("polarity_reversal", reversed=bool(event.value))
            if self.state is CallState.PROGRESS and event.value:
                return self._answer("polarity")
            if self.state in (CallState.ANSWERED, CallState.CONNECTED) and not event.value:
                return self._far_clear("polarity_reversal")
        elif event.kind is EventKind.ONHOOK:
            self._log("loop_current_drop")
            if self.state in (CallState.ANSWERED, CallState.CONNECTED):
                return self._far_clear("loop_current_drop")
            if self.state is CallState.PROGRESS:
                return self._release("error", reason="loop current dropped before answer")
        return []

    def on_detection(self, now: float, event: DetectionEvent, *,
                     log: bool = True) -> list[Action]:
        """An event of the shared detector on this call's channel."""
        self._now = max(self._now, now)
        kind, name = observation(event)
        if kind in ("silence",):
            return []
        if log:
            self._log(kind, **({"tone": name} if kind == "tone" else {"result": name}
                               if kind == "amd" else {"kind": name} if kind ==
                               "announcement" else {"code": name} if kind == "sit" else {}))
        state = self.state
        if state is CallState.DIALING:
            self._while_dialing.append((now, event))
            return []
        if state is CallState.SEIZING and kind == "tone" and name == "dial":
            self._log("dial_tone")
            return self._dial()
        if state is CallState.PROGRESS:
            if kind == "tone" and name in ("ringback", "music"):
                self._ringback_heard = True
                self._early_voice_at = None
            elif kind == "tone" and name in ("busy", "congestion"):
                return self._release(name)
            elif kind == "sit" or (kind == "tone" and name == "sit"):
                return self._release("invalid_number")
            elif kind == "announcement":
                return self._release(ANNOUNCEMENT_OUTCOME.get(name, "unreachable"),
                                     announcement=name)
            elif kind == "voice":
                if self._ringback_heard and not self.answer_on_polarity:
                    return self._answer("voice")
                if self._early_voice_at is None and not self._ringback_heard:
                    self._early_voice_at = now  # an announcement, or music ring-back?
            elif kind == "tone" and name in FAX_TONES:
                actions = self._answer("tone")
                self._decide("fax", name)
                return actions
        elif state is CallState.ANSWERED:
            if kind == "tone" and name in FAX_TONES:
                self._decide("fax", name)
            elif kind == "amd":
                self._decide("human" if name == "notsure" else name, f"amd_{name}")
        elif state is CallState.CONNECTED and kind == "tone" and name in CLEAR_TONES:
            return self._far_clear(f"{name}_tone")
        return []

    def on_time(self, now: float) -> list[Action]:
        self._now = now
        elapsed = now - self._state_since
        if self.state is CallState.SEIZING and elapsed >= self.dial_tone_timeout:
            if self.blind_dial:
                self._log("dial_tone_missing", dialing="blind")
                return self._dial()
            return self._release("error", reason="no dial tone")
        if self.state is CallState.PROGRESS:
            if elapsed >= self.ring_timeout:
                return self._release("no_answer")
            if self._early_voice_at is not None and \
                    now - self._early_voice_at >= EARLY_SOUND_WINDOW:
                self._early_voice_at = None
                if self.answer_on_polarity:
                    # No reversal came: sound we could not name is the network talking.
                    self._log("announcement", kind="unknown")
                    return self._release("unreachable", announcement="unknown")
                # No answer signal on this line: music ring-back answered before it could
                # be named sounds just like this, and when the person began is lost, so
                # AMD has nothing sound to judge. A live customer must not be taken for a
                # machine: call it a person, "notsure".
                actions = self._answer("voice_after_early_sound")
                self._decide("human", "amd_notsure")
                return actions
        if self.state is CallState.ANSWERED and now - (self._answered_at or now) >= AMD_WINDOW:
            self._decide("human", "amd_timeout")
        if self.state is CallState.CONNECTED and self.hold is not None and \
                self._decided_at is not None and now - self._decided_at >= self.hold:
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
    def _dial(self) -> list[Action]:
        self._enter(CallState.DIALING)
        # Detection starts afresh with the digits: the line falls silent, and what comes
        # next is the network's answer, which a fragment of dial tone must not colour
        # (the exchange may answer before our last digit's pause has ended).
        return [DetectorOp("reset"), DialAction(self.number, self.dial_mode)]

    def _answer(self, by: str) -> list[Action]:
        self._answered_at = self._now
        self._log("answered", by=by)
        self._enter(CallState.ANSWERED)
        if not self.amd and by != "tone":
            self._decide("human", "amd_off")
        return [DetectorOp("answered", exact=by in ("polarity", "tone"))]

    def _decide(self, outcome: str, reason: str) -> None:
        if self.state is not CallState.ANSWERED:
            return
        self.outcome = outcome
        self.answered_by = outcome
        self._decided_at = self._now
        result = "notsure" if reason in ("amd_notsure", "amd_timeout") else outcome
        self._log("decided", result=result, reason=reason,
                  after_answer=round(self._now - (self._answered_at or self._now), 2))
        self._enter(CallState.CONNECTED)

    def _far_clear(self, how: str) -> list[Action]:
        if self.outcome is None:
            self._decide("human", "amd_timeout")
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
