"""A mobile module's SMS as the layers above the backend see it.

As :class:`~trunkline.drivers.modem.ModemLink` lifts a module's calls out of the AT
dialect, :class:`SmsLink` lifts its short messages out of PDU mode (TS 27.005): the
gateway hands a message (an id, a number, a text) to a link, and takes back what became
of it and what arrived. The gateway never sees a PDU, an AT command or a SIM index, so it
stays free of backends (docs/architecture.md); the mobile backend implements the link
(``drivers/backends/mobile/sms.py``).

Nothing is lost between the two: a received message stays on the SIM until the gateway
has stored it and called :meth:`SmsLink.acknowledge` with its ``receipt``; only then is
it deleted from the module (so a crash in between reads it again at the next start, and
the gateway's store drops the repeat by its ``receipt``).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Protocol

__all__ = [
    "SmsDelivery",
    "SmsEvent",
    "SmsFailed",
    "SmsLink",
    "SmsReceived",
    "SmsSent",
]


@dataclass(frozen=True, slots=True)
class SmsReceived:
    """A message arrived (all its parts, or what came of them before the wait ended).

    ``receipt`` names it for :meth:`SmsLink.acknowledge` and for spotting a repeat after a
    restart (the SIM storage and indexes of its parts); ``missing`` lists the part
    numbers that never came (then ``note`` says so); ``timestamp`` is the service
    centre's, with its time zone, None when the PDU's was not a date.
    """

    sender: str
    text: str
    receipt: str
    timestamp: dt.datetime | None = None
    parts: int = 1
    missing: tuple[int, ...] = ()
    encoding: str = "gsm7"
    smsc: str = ""
    note: str = ""


@dataclass(frozen=True, slots=True)
class SmsSent:
    """Every part of message ``message`` was accepted by the network; ``references`` are
    the TP-MR values the module gave each part (``+CMGS: <mr>``), in part order."""

    message: str
    references: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class SmsFailed:
    """Message ``message`` was not sent: ``reason`` in words, ``code`` the +CMS error
    (TS 27.005 §3.2.5) when the module gave one. ``sent_parts`` parts went out before
    it failed; ``uncertain`` is True when the module may have sent the failing part
    (it timed out or restarted after taking the PDU): resending could duplicate it."""

    message: str
    reason: str
    code: int | None = None
    sent_parts: int = 0
    uncertain: bool = False


@dataclass(frozen=True, slots=True)
class SmsDelivery:
    """A status report (TS 23.040 §9.2.2.3) for the part sent with TP-MR ``reference``
    to ``recipient``: ``outcome`` is ``delivered``, ``pending`` or ``failed``, ``status``
    the TP-ST value and ``reason`` its meaning. ``receipt`` as for :class:`SmsReceived`
    (empty when the report came straight to us, +CDS, and is not stored)."""

    reference: int
    recipient: str
    outcome: str
    status: int
    reason: str
    receipt: str = ""
    discharge: dt.datetime | None = None


SmsEvent = SmsReceived | SmsSent | SmsFailed | SmsDelivery


class SmsLink(Protocol):
    """Short messages of one module, driven where the module's port is driven.

    ``send`` queues; the outcome comes back through :meth:`receive` as :class:`SmsSent`
    or :class:`SmsFailed` with the same ``message`` id, and later :class:`SmsDelivery`
    events for its parts. A link never raises for what the module or the network did.
    """

    @property
    def ready(self) -> bool:
        """The module is set up for PDU mode and can take a message now."""
        ...

    def send(self, message: str, number: str, text: str, *, report: bool = True) -> None:
        """Queue ``text`` to ``number``; ``report`` asks for status reports."""
        ...

    def receive(self) -> SmsEvent | None:
        """The next SMS event, or None."""
        ...

    def acknowledge(self, receipt: str) -> None:
        """The message or report with this ``receipt`` is stored: delete it from the
        module."""
        ...
