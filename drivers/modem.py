"""A mobile module's call control as the layers above the backend see it.

A GSM/LTE module signals its calls out of band, as a PRI span does on its D-channel:
here over AT commands on a serial port. As :meth:`~trunkline.drivers.card.CardABC.dchannel`
hands the signalling module an HDLC link and leaves Q.931 to it, :meth:`CardABC.modem`
hands it a :class:`ModemLink`: call control already lifted out of the AT dialect (the
dialects differ per vendor: +CLCC polling, Huawei's ^ORIG/^CONN/^CEND, Quectel's ^DSCI,
SIMCom's "VOICE CALL:" URCs), so the signalling layer stays free of backends
(docs/architecture.md). The ends of calls carry the 3GPP TS 24.008 §10.5.4.11 cause,
whose values are those of ITU-T Q.850 (trunkline/causes.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Protocol

__all__ = ["CallProgress", "ModemCallEvent", "ModemLink"]


class CallProgress(StrEnum):
    """Where the module's one voice call is (TS 27.007 §7.18 +CLCC ``<stat>``, by meaning)."""

    DIALING = "dialing"
    """Our ATD went out; the network is setting the call up (stat 2)."""
    ALERTING = "alerting"
    """The called phone is ringing (stat 3)."""
    ACTIVE = "active"
    """The call is answered, by the far end (outbound) or by us (inbound) (stat 0)."""
    INCOMING = "incoming"
    """A call rings in; ``number`` is the caller's (+CLIP / +CLCC), empty if withheld."""
    ENDED = "ended"
    """The call is over; ``cause`` (TS 24.008 / Q.850) where the module said, and
    ``reason`` in words (``near_end`` when we hung up)."""


@dataclass(frozen=True, slots=True)
class ModemCallEvent:
    """One step of the module's call."""

    t: float
    progress: CallProgress
    number: str = ""
    cause: int | None = None
    reason: str = ""

    def __post_init__(self) -> None:
        if self.cause is not None and not 0 <= self.cause <= 127:
            raise ValueError(f"a TS 24.008 cause is 0..127, not {self.cause}")


class ModemLink(Protocol):
    """Call control of one module (one voice channel), driven from the media tick.

    Requests are queued and carried out by the card as it moves frames; what follows
    comes back through :meth:`receive`. A dial the module cannot place now (no SIM, no
    network) comes back as an ``ENDED`` event with the reason, never as an exception
    from the serial port; a request that makes no sense in the call's state (``dial``
    during a call, ``answer`` with no call ringing) raises CallStateError.
    """

    @property
    def ready(self) -> bool:
        """SIM ready, registered on a network, and no call on the module."""
        ...

    def dial(self, number: str) -> None: ...

    def answer(self) -> None: ...

    def hang_up(self) -> None: ...

    def send_dtmf(self, digits: str) -> None: ...

    def receive(self) -> ModemCallEvent | None:
        """The next call event, or None."""
        ...

    def status(self) -> dict[str, Any]:
        """SIM and network facts for ``status``/``scan``: sim, imsi, iccid, operator,
        registration, rssi/dBm, model, restarts."""
        ...
