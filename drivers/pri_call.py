"""An outbound call on an ISDN PRI span, as a sans-IO state machine.

It takes PRI events (from :class:`~trunkline.drivers.signalling.pri.span.PriSpan`), the B-channel's
received frames and the time, and returns what to do (send SETUP, clear with a cause).
The network's Q.850 cause decides unanswered calls (Q.850 -> outcome mapping in
:mod:`trunkline.drivers.signalling.pri.causes`); in-band early media (SIT, announcements, music
ring-back) is listened to and reported, but ringback is never an answer: only CONNECT is.
After CONNECT the audio decides human, machine or fax.

    WAITING_LINK  D-channel up             -> SETUP sent
    SETUP         PROCEEDING / PROGRESS    -> PROGRESS (early media if in band)
    PROGRESS      ALERTING                 -> ALERTING
    any           CONNECT                  -> ANSWERED
    ANSWERED      greeting / fax tone      -> CONNECTED (human, machine, fax)
    CONNECTED     hold time over           -> RELEASING (we clear, cause 16)
    ALERTING      ring timeout             -> RELEASING (no_answer)
    any           call ended (cause)       -> DONE
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from trunkline.drivers.detection_ops import FAX_TONES, DetectorOp, observation
from trunkline.drivers.dsp.events import DetectionEvent
from trunkline.drivers.dsp.zones import Zone
from trunkline.drivers.signalling.pri import events as ev
from trunkline.errors import NumberFormatError

#: How long after CONNECT we wait for the detector's AMD before saying "notsure".
AMD_WINDOW = 6.0
CAUSE_NORMAL = 16


class PriCallState(StrEnum):
    WAITING_LINK = "waiting_link"
    SETUP = "setup"
    PROGRESS = "progress"
    ALERTING = "alerting"
    ANSWERED = "answered"
    CONNECTED = "connected"
    RELEASING = "releasing"
    DONE = "done"


@dataclass(frozen=True, slots=True)
class SetupAction:
    called: str
    calling: str | None = None


@dataclass(frozen=True, slots=True)
class ClearAction:
    cause: int = CAUSE_NORMAL


PriAction = SetupAction | ClearAction | DetectorOp


#: How long past ``ring_timeout`` (counted from the SETUP) a call that never alerted may
#: stay in call setup or early media before it is cleared as ``no_answer``: room for
#: the post-dial delay before the ring would have started.
PROGRESS_GRACE = 10.0


@dataclass
class PriCall:
    number: str
    zone: Zone
    calling: str | None = None
    ring_timeout: float = 45.0
    link_timeout: float = 10.0
    amd: bool = True
    """Classify answered calls (human, machine, fax); off: every answer is a person."""
    hold: float | None = None
    max_duration: float = 600.0
    state: PriCallState = PriCallState.WAITING_LINK
    call_id: int | None = None
    channel: int | None = None
    cause: int | None = None
    cause_name: str | None = None
    outcome: str | None = None
    answered_by: str | None = None
    events: list[dict[str, Any]] = field(default_factory=list)
    _start: float = 0.0
    _now: float = 0.0
    _since: float = 0.0
    _answered_at: float | None = None
    _decided_at: float | None = None
    _early: set[str] = field(default_factory=set)

    def __post_init__(self) -> None:
        if not self.number or any(c not in "0123456789*#+" for c in self.number):
            raise NumberFormatError(
                f"cannot call {self.number!r}: a number is digits, * and # (and a leading +)"
            )

    def start(self, now: float) -> list[PriAction]:
        self._start = self._now = self._since = now
        self._log("waiting_for_dchannel")
        return []

    @property
    def done(self) -> bool:
        return self.state is PriCallState.DONE

    @property
    def quiet(self) -> bool:
        """True while nothing but Q.931 events or a far deadline can change the call:
        the caller may then skip frames and call :meth:`on_time` only now and then."""
        return self.state is PriCallState.CONNECTED and self.hold is None

    # -- inputs ---------------------------------------------------------------------
    def on_event(self, now: float, event: ev.PriEvent) -> list[PriAction]:
        self._now = now
        if isinstance(event, ev.DChannelUp):
            self._log("dchannel_up")
            if self.state is PriCallState.WAITING_LINK:
                self._enter(PriCallState.SETUP)
                return [SetupAction(self.number, self.calling)]
            return []
        if isinstance(event, ev.DChannelDown):
            self._log("dchannel_down", reason=event.reason)
            return []
        if not isinstance(event, ev.CallEvent) or event.call != self.call_id:
            return []
        if isinstance(event, ev.CallProceeding):
            self._log("proceeding", channel=event.channel)
            self.channel = event.channel or self.channel
            self._enter(PriCallState.PROGRESS)
        elif isinstance(event, ev.CallProgress):
            self._log("progress", inband=event.inband)
            if self.state in (PriCallState.SETUP, PriCallState.PROGRESS):
                self._enter(PriCallState.PROGRESS)
        elif isinstance(event, ev.CallAlerting):
            self._log("alerting", inband=event.inband)
            self._enter(PriCallState.ALERTING)
        elif isinstance(event, ev.CallChannelChanged):
            self._log("channel_changed", channel=event.channel, previous=event.previous)
            self.channel = event.channel
        elif isinstance(event, ev.CallAnswered):
            self._answered_at = now
            self._log("answered", by="connect")
            self._enter(PriCallState.ANSWERED)
            if not self.amd:
                return [DetectorOp("answered"), *self._decide("human", "amd_off")]
            return [DetectorOp("answered")]
        elif isinstance(event, ev.CallDisconnecting):
            self._log("disconnect", cause=event.cause, by="network")
        elif isinstance(event, ev.CallEnded):
            self.cause, self.cause_name = event.cause, event.cause_name
            if self.outcome is None:
                self.outcome = ("human" if event.answered else event.outcome) or "error"
            self._log("hangup", by="far_end" if event.reason == "remote" else "near_end",
                      cause=event.cause, cause_name=event.cause_name)
            self._enter(PriCallState.DONE)
        return []

    def on_detection(self, now: float, event: DetectionEvent) -> list[PriAction]:
        """An event of the shared detector on the call's B-channel."""
        self._now = now
        kind, name = observation(event)
        if kind in ("silence",):
            return []
        heard = name if kind in ("tone", "announcement") else kind
        if self.state in (PriCallState.SETUP, PriCallState.PROGRESS, PriCallState.ALERTING):
            if heard not in self._early:
                self._early.add(heard)
                detail = {"kind": name} if kind == "announcement" else {}
                self._log("early_media", heard=heard, **detail)
        elif self.state is PriCallState.ANSWERED:
            if kind == "tone" and name in FAX_TONES:
                return self._decide("fax", name)
            if kind == "amd":
                self._log("amd", result=name)
                return self._decide("human" if name == "notsure" else name, f"amd_{name}")
        return []

    def on_time(self, now: float) -> list[PriAction]:
        self._now = now
        if self.state is PriCallState.WAITING_LINK and now - self._since >= self.link_timeout:
            self.outcome = "error"
            self._log("hangup", by="near_end", reason="D-channel did not come up")
            self._enter(PriCallState.DONE)
            return []
        if self.state is PriCallState.ALERTING and now - self._since >= self.ring_timeout:
            return self._clear("no_answer")
        if self.state in (PriCallState.SETUP, PriCallState.PROGRESS) \
                and now - self._start >= self.ring_timeout + PROGRESS_GRACE:
            # Never alerted: early media nobody named (or nothing) must not hold the
            # B-channel until max_duration; libpri runs no timer here (T310 is ours).
            return self._clear("no_answer")
        if self.state is PriCallState.ANSWERED and now - (self._answered_at or now) >= AMD_WINDOW:
            return self._decide("human", "amd_timeout")
        if self.state is PriCallState.CONNECTED and self.hold is not None \
                and self._decided_at is not None and now - self._decided_at >= self.hold:
            return self._clear(None)
        if self.state not in (PriCallState.DONE, PriCallState.RELEASING) \
                and now - self._start >= self.max_duration:
            return self._clear(self.outcome or "error")
        return []

    def hangup(self, now: float, cause: int = CAUSE_NORMAL) -> list[PriAction]:
        """The application clears the call with ``cause`` (e.g. a client's call.hangup)."""
        self._now = now
        if self.state in (PriCallState.DONE, PriCallState.RELEASING):
            return []
        if self.outcome is None:
            answered = self.state in (PriCallState.ANSWERED, PriCallState.CONNECTED)
            self.outcome = "human" if answered else "no_answer"
        self._log("clearing", by="near_end", cause=cause)
        self._enter(PriCallState.RELEASING)
        return [ClearAction(cause)]

    def on_setup_sent(self, call_id: int, channel: int | None) -> None:
        self.call_id, self.channel = call_id, channel
        self._log("setup", called=self.number, channel=channel)

    def result(self) -> dict[str, Any]:
        return {"number": self.number, "outcome": self.outcome or "error",
                "answered_by": self.answered_by, "cause": self.cause,
                "cause_name": self.cause_name, "events": self.events,
                "duration": round(self._now - self._start, 3)}

    # -- transitions ----------------------------------------------------------------
    def _decide(self, outcome: str, reason: str) -> list[PriAction]:
        if self.state is not PriCallState.ANSWERED:
            return []
        self.outcome = self.answered_by = outcome
        self._decided_at = self._now
        result = "notsure" if reason in ("amd_notsure", "amd_timeout") else outcome
        self._log("decided", result=result, reason=reason,
                  after_answer=round(self._now - (self._answered_at or self._now), 2))
        self._enter(PriCallState.CONNECTED)
        # Classified: the far end's clearing comes as a DISCONNECT; the audio needs no
        # more call-progress analysis (in-call DTMF is the gateway's, separately).
        return [DetectorOp("stop")]

    def _clear(self, outcome: str | None) -> list[PriAction]:
        if outcome is not None:
            self.outcome = outcome
        self._log("clearing", by="near_end", cause=CAUSE_NORMAL)
        self._enter(PriCallState.RELEASING)
        return [ClearAction(CAUSE_NORMAL)]

    def _enter(self, state: PriCallState) -> None:
        self.state = state
        self._since = self._now

    def _log(self, event: str, **detail: Any) -> None:
        self.events.append({"t": round(self._now - self._start, 3), "event": event, **detail})
