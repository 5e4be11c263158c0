"""What call legs report: small frozen events, one class per kind of happening.

A leg (:mod:`~trunkline.drivers.signalling.leg`) returns these beside its actions. The
gateway turns them into wire events through one table (``gateway/media/wire.py``);
``trunkline call`` prints them as timestamped observations (:meth:`CallEvent.observation`,
the ``events`` of ``--json``). Every event carries ``at``, the card time it happened.

The names (``NAME``) are the observation names printed by ``trunkline call`` since the
first release, so scripts reading that output keep working.

Span events (:class:`SpanEvent`) concern a span or an idle channel rather than a call:
alarms, the D-channel, hook changes on a channel nobody is calling on.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any, ClassVar

__all__ = [
    "Alerting", "AmdVerdict", "AnnouncementHeard", "Answered", "CallEvent", "ChannelChanged",
    "Classified", "Clearing", "DetectorEvent", "DialTone", "DialToneMissing", "DigitReceived",
    "DigitsSent", "Disconnecting", "EarlyMedia", "HungUp", "IdleHook", "LinkDown", "LinkState",
    "LinkUp", "LoopCurrentDrop", "Offered", "PolarityReversal", "Proceeding", "Progress",
    "Rejecting", "Seized", "SetupSent", "SitHeard", "SpanAlarm", "SpanEvent", "ToneHeard",
    "VoiceHeard", "WaitingForLink",
]


@dataclass(frozen=True, slots=True)
class CallEvent:
    """Base of everything a leg reports. ``at``: card time in seconds."""

    at: float
    NAME: ClassVar[str] = ""

    def detail(self) -> dict[str, Any]:
        """The fields shown in the observation (all but ``at``, by default)."""
        return {f.name: getattr(self, f.name) for f in fields(self) if f.name != "at"}

    def observation(self, start: float) -> dict[str, Any]:
        """``{"t": seconds since start, "event": NAME, ...detail}`` (``trunkline call``)."""
        return {"t": round(self.at - start, 3), "event": self.NAME, **self.detail()}


# -- analog line signalling ---------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class Seized(CallEvent):
    """We went off hook (loop start) to place the call."""

    NAME: ClassVar[str] = "seized"


@dataclass(frozen=True, slots=True)
class DialTone(CallEvent):
    """The exchange gave dial tone: digits may follow."""

    NAME: ClassVar[str] = "dial_tone"


@dataclass(frozen=True, slots=True)
class DialToneMissing(CallEvent):
    """No dial tone came in time; ``dialing`` says what we do (``blind``)."""

    dialing: str
    NAME: ClassVar[str] = "dial_tone_missing"


@dataclass(frozen=True, slots=True)
class DigitsSent(CallEvent):
    """The backend finished sending the number (DAHDI_EVENT_DIALCOMPLETE)."""

    digits: str
    NAME: ClassVar[str] = "digits_sent"


@dataclass(frozen=True, slots=True)
class PolarityReversal(CallEvent):
    """Battery polarity changed: ``reversed`` True when it is now reversed."""

    reversed: bool
    NAME: ClassVar[str] = "polarity_reversal"


@dataclass(frozen=True, slots=True)
class LoopCurrentDrop(CallEvent):
    """Loop current dropped: the far end (or the exchange) cleared."""

    NAME: ClassVar[str] = "loop_current_drop"


# -- what the detector heard on the line ---------------------------------------------------

@dataclass(frozen=True, slots=True)
class ToneHeard(CallEvent):
    """A call-progress, fax or modem tone on an analog line (cadence matched)."""

    tone: str
    NAME: ClassVar[str] = "tone"


@dataclass(frozen=True, slots=True)
class SitHeard(CallEvent):
    """Special information tones (ITU-T E.180) with their code."""

    code: str
    NAME: ClassVar[str] = "sit"


@dataclass(frozen=True, slots=True)
class AnnouncementHeard(CallEvent):
    """A known operator announcement (kind: ``invalid_number``, ``powered_off``...)."""

    kind: str
    NAME: ClassVar[str] = "announcement"


@dataclass(frozen=True, slots=True)
class VoiceHeard(CallEvent):
    """Speech (or other voiced sound) began."""

    NAME: ClassVar[str] = "voice"


@dataclass(frozen=True, slots=True)
class AmdVerdict(CallEvent):
    """The detector's answering-machine verdict, before the leg decides with it."""

    result: str
    NAME: ClassVar[str] = "amd"


@dataclass(frozen=True, slots=True)
class DetectorEvent(CallEvent):
    """Any other detector event a leg notes (``kind`` is the detector's name for it)."""

    kind: str

    def observation(self, start: float) -> dict[str, Any]:
        return {"t": round(self.at - start, 3), "event": self.kind}


@dataclass(frozen=True, slots=True)
class DigitReceived(CallEvent):
    """A DTMF digit from the far end, during the call."""

    digit: str
    NAME: ClassVar[str] = "dtmf"


@dataclass(frozen=True, slots=True)
class EarlyMedia(CallEvent):
    """In-band audio before an answer on a digital call, reported once per kind:
    ``heard`` is a tone name, ``voice``, or ``announcement`` (then ``kind`` says which)."""

    heard: str
    kind: str | None = None
    NAME: ClassVar[str] = "early_media"

    def detail(self) -> dict[str, Any]:
        return {"heard": self.heard, **({"kind": self.kind} if self.kind else {})}


# -- digital (Q.931) signalling ------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class WaitingForLink(CallEvent):
    """The call waits for the D-channel to come up before its SETUP."""

    NAME: ClassVar[str] = "waiting_for_dchannel"


@dataclass(frozen=True, slots=True)
class LinkUp(CallEvent):
    NAME: ClassVar[str] = "dchannel_up"


@dataclass(frozen=True, slots=True)
class LinkDown(CallEvent):
    reason: str
    NAME: ClassVar[str] = "dchannel_down"


@dataclass(frozen=True, slots=True)
class SetupSent(CallEvent):
    """SETUP sent for ``called`` on B-channel ``channel`` (timeslot; None: network's choice)."""

    called: str
    channel: int | None
    NAME: ClassVar[str] = "setup"


@dataclass(frozen=True, slots=True)
class Proceeding(CallEvent):
    """CALL PROCEEDING: the network accepted the number."""

    channel: int | None
    NAME: ClassVar[str] = "proceeding"


@dataclass(frozen=True, slots=True)
class Progress(CallEvent):
    """PROGRESS; ``inband``: early media is on the B-channel now."""

    inband: bool
    NAME: ClassVar[str] = "progress"


@dataclass(frozen=True, slots=True)
class Alerting(CallEvent):
    """The called party is being rung (ALERTING; an FXS phone's ringing)."""

    inband: bool = False
    NAME: ClassVar[str] = "alerting"


@dataclass(frozen=True, slots=True)
class ChannelChanged(CallEvent):
    channel: int | None
    previous: int | None
    NAME: ClassVar[str] = "channel_changed"


@dataclass(frozen=True, slots=True)
class Disconnecting(CallEvent):
    """DISCONNECT from the network with ``cause``; the call ends when it is released."""

    cause: int
    by: str = "network"
    NAME: ClassVar[str] = "disconnect"


@dataclass(frozen=True, slots=True)
class Clearing(CallEvent):
    """We clear the call with ``cause`` (DISCONNECT sent)."""

    by: str
    cause: int
    NAME: ClassVar[str] = "clearing"


@dataclass(frozen=True, slots=True)
class Rejecting(CallEvent):
    """An offered call nobody took is being refused with ``cause``."""

    cause: int
    NAME: ClassVar[str] = "rejecting"


# -- the call's life -----------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class Offered(CallEvent):
    """An inbound call is waiting to be answered."""

    calling: str
    called: str
    NAME: ClassVar[str] = "offered"


@dataclass(frozen=True, slots=True)
class Answered(CallEvent):
    """The call was answered. ``by`` is the signal that said so (``polarity``,
    ``connect``, ``voice``, ``tone``, ``offhook``, ``request``...); ``person`` is True when
    that signal itself proves a person (an agent lifting an FXS phone)."""

    by: str
    person: bool = False
    NAME: ClassVar[str] = "answered"

    def detail(self) -> dict[str, Any]:
        return {"by": self.by}


@dataclass(frozen=True, slots=True)
class Classified(CallEvent):
    """Who answered: ``result`` ``human``, ``machine``, ``fax`` or ``notsure`` (a person,
    said cautiously), ``reason`` (``amd_human``, ``fax_ced``, ``amd_timeout``...) and how
    long after the answer."""

    result: str
    reason: str
    after_answer: float
    NAME: ClassVar[str] = "decided"

    @property
    def answered_by(self) -> str:
        """What answered, for the record: ``notsure`` counts as a person."""
        return "human" if self.result == "notsure" else self.result


@dataclass(frozen=True, slots=True)
class HungUp(CallEvent):
    """The call is over. ``by``: ``near_end`` or ``far_end``; ``outcome`` what the dialer
    records; ``cause`` the Q.850 cause where the line has one. ``notes`` are extra
    observation fields (why we released, the signal that cleared...)."""

    by: str
    outcome: str
    cause: int | None = None
    notes: tuple[tuple[str, Any], ...] = ()
    NAME: ClassVar[str] = "hangup"

    def detail(self) -> dict[str, Any]:
        return {"by": self.by, **dict(self.notes)}


# -- spans and idle channels ---------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class SpanEvent:
    """Base of what concerns a span (or an idle channel), not a call."""

    span: int


@dataclass(frozen=True, slots=True)
class SpanAlarm(SpanEvent):
    """The span's alarms changed; ``alarms`` are the :class:`~trunkline.drivers.model.Alarm`
    bits (0 when clear; the wire names them, ``OK`` when clear)."""

    alarms: int


@dataclass(frozen=True, slots=True)
class LinkState(SpanEvent):
    """The span's D-channel went up or down."""

    up: bool
    reason: str | None = None


@dataclass(frozen=True, slots=True)
class IdleHook(SpanEvent):
    """A channel with no call on it went off or on hook (``state``)."""

    channel: int
    state: str

