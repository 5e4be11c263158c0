"""What SS7 legs ask of their signalling module (carried out on its :class:`~.point.Ss7Point`).

The shared actions of :mod:`trunkline.drivers.signalling.actions` (TakeChannel,
StartDetection, MarkAnswered...) serve the audio; these are the ISUP requests.
"""

from __future__ import annotations

from dataclasses import dataclass

from trunkline.causes import validate_cause
from trunkline.drivers.signalling.actions import Action

__all__ = ["SendAcm", "SendAnm", "SendIam", "SendRel", "Ss7Action"]


@dataclass(frozen=True, slots=True)
class Ss7Action(Action):
    """Base of the ISUP requests of a leg."""


@dataclass(frozen=True, slots=True)
class SendIam(Ss7Action):
    """Place the call: IAM for ``called`` (from ``calling``) on a free circuit. The module
    answers with :meth:`~.leg.Ss7Leg.on_iam_sent` (or ``on_iam_refused``)."""

    called: str
    calling: str | None = None


@dataclass(frozen=True, slots=True)
class SendAcm(Ss7Action):
    """ACM, subscriber free, for an offered call (the caller hears ringback)."""


@dataclass(frozen=True, slots=True)
class SendAnm(Ss7Action):
    """Answer an offered call (ANM, or CON before any ACM)."""


@dataclass(frozen=True, slots=True)
class SendRel(Ss7Action):
    """Release the call with Q.850 ``cause``."""

    cause: int = 16

    def __post_init__(self) -> None:
        validate_cause(self.cause)
