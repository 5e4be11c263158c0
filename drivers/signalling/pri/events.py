"""Events a :class:`~trunkline.drivers.signalling.pri.span.PriSpan` returns from ``poll``.

Small frozen, slotted dataclasses, validated when built. Every event names its
``span``; call events name the ``call`` id (unique in the process, stable across a
:class:`~trunkline.drivers.signalling.pri.group.SpanGroup` glare retry) and the B-channel.
"""

from __future__ import annotations

from dataclasses import dataclass

from trunkline.causes import Outcome, cause_name, outcome_for_cause, validate_cause

__all__ = [
    "CallAlerting",
    "CallAnswered",
    "CallChannelChanged",
    "CallDisconnecting",
    "CallEnded",
    "CallEvent",
    "CallProceeding",
    "CallProgress",
    "CallRetrying",
    "ConnectAcknowledged",
    "DChannelDown",
    "DChannelUp",
    "DigitsReceived",
    "IncomingCall",
    "LinkAlarm",
    "PriEvent",
    "ProtocolError",
    "RestartCompleted",
    "RestartReceived",
    "ServiceChanged",
]


def _check_channel(channel: int | None) -> None:
    if channel is not None and not 1 <= channel <= 31:
        raise ValueError(f"B-channel must be 1..31 or None, got {channel=}")


@dataclass(frozen=True, slots=True)
class PriEvent:
    """Base of all PRI events."""

    span: int


@dataclass(frozen=True, slots=True)
class DChannelUp(PriEvent):
    """Q.921 multiple-frame operation established: the D-channel is up (alarm cleared)."""


@dataclass(frozen=True, slots=True)
class DChannelDown(PriEvent):
    """The D-channel is down (alarm raised). ``reason``: ``"layer1"`` (the link reports an
    alarm), ``"q921"`` (libpri lost multiple-frame operation) or ``"closed"``."""

    reason: str = "q921"


@dataclass(frozen=True, slots=True)
class LinkAlarm(PriEvent):
    """Layer 1 of the D-channel link changed: ``active`` True while in alarm."""

    active: bool


@dataclass(frozen=True, slots=True)
class ProtocolError(PriEvent):
    """libpri reported a configuration or protocol error (PRI_EVENT_CONFIG_ERR)."""

    message: str


@dataclass(frozen=True, slots=True)
class RestartReceived(PriEvent):
    """The far end restarted ``channel`` (None: the whole interface)."""

    channel: int | None

    def __post_init__(self) -> None:
        _check_channel(self.channel)


@dataclass(frozen=True, slots=True)
class RestartCompleted(PriEvent):
    """Our RESTART of ``channel`` was acknowledged (RESTART ACKNOWLEDGE)."""

    channel: int | None

    def __post_init__(self) -> None:
        _check_channel(self.channel)


@dataclass(frozen=True, slots=True)
class ServiceChanged(PriEvent):
    """B-channel service state changed: ``state`` is ``in_service``, ``maintenance``
    or ``out_of_service``; ``remote`` True when the far end sent SERVICE, False for its
    SERVICE ACKNOWLEDGE of ours."""

    channel: int
    state: str
    remote: bool

    def __post_init__(self) -> None:
        _check_channel(self.channel)
        if self.state not in ("in_service", "maintenance", "out_of_service"):
            raise ValueError(f"unknown service state {self.state!r}")


@dataclass(frozen=True, slots=True)
class CallEvent(PriEvent):
    """Base of events about one call."""

    call: int
    channel: int | None

    def __post_init__(self) -> None:
        _check_channel(self.channel)


@dataclass(frozen=True, slots=True)
class IncomingCall(CallEvent):
    """SETUP received (libpri RING): answer with proceeding/alerting/answer/hangup."""

    called: str
    calling: str
    calling_name: str = ""
    called_plan: int = 0
    calling_plan: int = 0
    calling_presentation: int = 0
    ani: str = ""
    redirecting: str = ""
    exclusive: bool = False
    requested_channel: int | None = None
    complete: bool = True
    bearer: int = 0


@dataclass(frozen=True, slots=True)
class CallProceeding(CallEvent):
    """CALL PROCEEDING (or SETUP ACKNOWLEDGE) received for our SETUP."""

    inband: bool = False


@dataclass(frozen=True, slots=True)
class CallAlerting(CallEvent):
    """ALERTING received; ``inband`` True when ringback is sent in band."""

    inband: bool = False


@dataclass(frozen=True, slots=True)
class CallProgress(CallEvent):
    """PROGRESS received; ``inband`` True when in-band information (tones, SIT,
    announcements: early media) is available on the B-channel now."""

    inband: bool = False
    cause: int | None = None


@dataclass(frozen=True, slots=True)
class CallAnswered(CallEvent):
    """CONNECT received: the called party answered."""


@dataclass(frozen=True, slots=True)
class ConnectAcknowledged(CallEvent):
    """CONNECT ACKNOWLEDGE received for our answer."""


@dataclass(frozen=True, slots=True)
class DigitsReceived(CallEvent):
    """Keypad digits or INFORMATION received during a call."""

    digits: str


@dataclass(frozen=True, slots=True)
class CallChannelChanged(CallEvent):
    """The network moved the call to another B-channel (``channel``), e.g. after glare."""

    previous: int | None = None


@dataclass(frozen=True, slots=True)
class CallDisconnecting(CallEvent):
    """DISCONNECT received with ``cause``; the span releases the call itself."""

    cause: int = 16

    def __post_init__(self) -> None:
        _check_channel(self.channel)
        validate_cause(self.cause)


@dataclass(frozen=True, slots=True)
class CallRetrying(CallEvent):
    """A :class:`SpanGroup` call lost its channel to glare and is retried on another
    span/channel under the same call id (``channel`` is the lost one)."""

    cause: int = 44


@dataclass(frozen=True, slots=True)
class CallEnded(CallEvent):
    """The call is over and its channel free. Always carries the Q.850 ``cause``.

    ``outcome`` is the cause's dialer outcome for a call never answered, None for an
    answered call (the detector/AMD decides human or machine). ``glare`` is True when
    an incoming call took the channel of this outgoing call before it was confirmed.
    """

    cause: int = 16
    cause_name: str = ""
    outcome: Outcome | None = None
    answered: bool = False
    direction: str = "outgoing"
    reason: str = "remote"
    glare: bool = False
    confirmed: bool = False

    def __post_init__(self) -> None:
        _check_channel(self.channel)
        validate_cause(self.cause)
        if not self.cause_name:
            object.__setattr__(self, "cause_name", cause_name(self.cause))
        if self.outcome is None and not self.answered:
            object.__setattr__(self, "outcome", outcome_for_cause(self.cause))
