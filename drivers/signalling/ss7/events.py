"""What an :class:`~.point.Ss7Point` reports, and the observation event legs record.

Small frozen, slotted dataclasses. Point outputs are frames to send (:class:`Transmit`),
link and linkset changes, call events (each names the point's ``call`` id and the
``cic``), maintenance events, and :class:`IsupTraced` for every ISUP message in or out.
:class:`IsupObserved` is the :class:`~trunkline.drivers.signalling.events.CallEvent` a leg
records for each message of its call, so ``trunkline call --trace`` can print it (it
needs no wire row).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from trunkline.causes import Outcome, cause_name, outcome_for_cause
from trunkline.drivers.signalling import events as ev

from .messages import IsupMessage

__all__ = [
    "AddressComplete", "CallAnswered", "CallProgressed", "CallReleased", "CallResumed",
    "CallSignal", "CallSuspended", "CircuitChanged", "CircuitState", "IncomingCall",
    "IsupObserved", "IsupTraced", "LinkChanged", "LinksetChanged", "MaintenanceAlert",
    "PointEvent", "PointOutput", "Transmit",
]


@dataclass(frozen=True, slots=True)
class Transmit:
    """Write ``frame`` (one signal unit, no FCS) on the link with code ``slc``."""

    slc: int
    frame: bytes


@dataclass(frozen=True, slots=True)
class PointEvent:
    """Base of everything a point reports besides frames."""


@dataclass(frozen=True, slots=True)
class LinkChanged(PointEvent):
    """Signalling link ``slc`` became available (in service and tested) or not."""

    slc: int
    available: bool
    reason: str = ""


@dataclass(frozen=True, slots=True)
class LinksetChanged(PointEvent):
    """The adjacent point is accessible (``up``) or not (MTP-RESUME / MTP-PAUSE)."""

    up: bool
    reason: str = ""


@dataclass(frozen=True, slots=True)
class CircuitState(PointEvent):
    """A circuit's availability changed: ``state`` ``idle`` (reset, usable),
    ``local_blocked``, ``remote_blocked``, ``unblocked`` or ``resetting``."""

    cic: int
    state: str


@dataclass(frozen=True, slots=True)
class MaintenanceAlert(PointEvent):
    """A maintenance procedure got no answer in its long timer (Q.764: T5, T13, T15,
    T17, T19, T21, T23): ``message`` is what is being repeated."""

    cic: int
    timer: str
    message: str


@dataclass(frozen=True, slots=True)
class IsupTraced(PointEvent):
    """An ISUP message ``direction`` ``in`` or ``out`` (``call``: its call, if any)."""

    direction: str
    message: IsupMessage
    call: int | None = None


@dataclass(frozen=True, slots=True)
class CallSignal(PointEvent):
    """Base of events about one call: ``call`` (the point's id) on circuit ``cic``."""

    call: int
    cic: int


@dataclass(frozen=True, slots=True)
class IncomingCall(CallSignal):
    """An IAM arrived: answer with ``alert``, ``answer`` or ``release``."""

    called: str
    calling: str
    category: int = 0x0A
    called_nai: int = 3
    calling_nai: int = 3
    complete: bool = True


@dataclass(frozen=True, slots=True)
class AddressComplete(CallSignal):
    """ACM: ``subscriber_free`` when the called party is being alerted."""

    subscriber_free: bool


@dataclass(frozen=True, slots=True)
class CallProgressed(CallSignal):
    """CPG with its event (1 alerting, 2 progress, 3 in-band information...)."""

    event: int


@dataclass(frozen=True, slots=True)
class CallAnswered(CallSignal):
    """ANM or CON (``by``) received; or our own answer went out (``by`` ``local``)."""

    by: str


@dataclass(frozen=True, slots=True)
class CallSuspended(CallSignal):
    network: bool


@dataclass(frozen=True, slots=True)
class CallResumed(CallSignal):
    network: bool


@dataclass(frozen=True, slots=True)
class CircuitChanged(CallSignal):
    """Our IAM lost a dual seizure (Q.764 2.9.1.4): the call was re-attempted on
    ``cic``, leaving ``previous``."""

    previous: int


@dataclass(frozen=True, slots=True)
class CallReleased(CallSignal):
    """The call is over. ``by``: ``remote`` (REL received), ``local`` (our REL
    completed), ``reset`` (RSC/GRS/hardware blocking), ``link`` (the linkset failed),
    ``timeout`` (our REL got no RLC in T1). Always carries the Q.850 ``cause``."""

    cause: int
    by: str
    answered: bool = False

    @property
    def cause_name(self) -> str:
        return cause_name(self.cause)

    @property
    def outcome(self) -> Outcome:
        """The dialer outcome of the cause for an unanswered call."""
        return outcome_for_cause(self.cause) if 1 <= self.cause <= 127 else Outcome.ERROR


PointOutput = Transmit | PointEvent


@dataclass(frozen=True, slots=True)
class IsupObserved(ev.CallEvent):
    """An ISUP message of the call, for traces (observation only)."""

    direction: str
    message: str
    fields: tuple[tuple[str, Any], ...] = ()
    NAME: ClassVar[str] = "isup"

    def detail(self) -> dict[str, Any]:
        return {"direction": self.direction, "message": self.message, **dict(self.fields)}
