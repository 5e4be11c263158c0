"""What MFC/R2 legs note beside the shared call events: the decoded signals.

Observation only: they go into the leg's :attr:`~trunkline.drivers.signalling.leg.Leg.events`
(``trunkline call`` prints them, so ``--trace`` shows the decoded R2 sequence) and to the
line loop's listener, but the gateway's wire table has no row for them, so clients never
see them. Everything a client needs (seized, ringing, answered, hung up) comes as the
shared events of :mod:`trunkline.drivers.signalling.events`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from trunkline.drivers.signalling.events import CallEvent

__all__ = ["R2LineSignal", "R2Signal"]

_DIRECTIONS = ("forward", "backward")


@dataclass(frozen=True, slots=True)
class R2Signal(CallEvent):
    """A register (MF) signal: ``direction`` forward or backward, its ``group`` (I, II,
    A, B, C), its number ``signal`` (1..15), what it means (``meaning``), whether this leg
    ``sent`` it (False: received)."""

    direction: str
    group: str
    signal: int
    meaning: str
    sent: bool
    NAME: ClassVar[str] = "r2"

    def __post_init__(self) -> None:
        if self.direction not in _DIRECTIONS:
            raise ValueError(f"direction={self.direction!r} is not one of {_DIRECTIONS}")
        if isinstance(self.signal, bool) or not 1 <= self.signal <= 15:
            raise ValueError(f"signal={self.signal!r}: MFC/R2 signals are 1..15")


@dataclass(frozen=True, slots=True)
class R2LineSignal(CallEvent):
    """A line signal (Q.421) sent or recognised: ``signal`` its name (``seizing``,
    ``answered``...; ``unexpected`` for bits that mean nothing in the line's state) and
    the ABCD ``bits``."""

    signal: str
    bits: int
    sent: bool
    NAME: ClassVar[str] = "r2_line"

    def __post_init__(self) -> None:
        if isinstance(self.bits, bool) or not 0 <= self.bits <= 15:
            raise ValueError(f"bits={self.bits!r}: ABCD bits are 0..15")
