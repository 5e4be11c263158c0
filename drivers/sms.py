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

from trunkline.drivers import gsm7

__all__ = [
    "MAX_PARTS",
    "SmsDelivery",
    "SmsEvent",
    "SmsFailed",
    "SmsLink",
    "SmsReceived",
    "SmsSent",
    "split_text",
]

#: Single-part and per-part capacities (TS 23.040 §9.2.3.24: 140 octets of user data):
#: 160 septets or 70 UCS-2 units alone; with a concatenation header of 6 octets (IEI
#: 0x00, 8-bit reference) 153 or 67, of 7 octets (IEI 0x08, 16-bit reference) 152 or 66.
GSM7_SINGLE, UCS2_SINGLE = 160, 70
GSM7_PART = {False: 153, True: 152}
UCS2_PART = {False: 67, True: 66}
MAX_PARTS = 255


def split_text(text: str, *, wide_reference: bool = False) -> tuple[str, list[str]]:
    """The encoding (``gsm7`` or ``ucs2``) and the parts ``text`` is sent in.

    GSM-7 when the default alphabet and its extension table carry every character
    (TS 23.038 §6.2.1), UCS-2 otherwise (as UTF-16, which handsets read). Parts are cut
    between characters, so an extension character (escape and code, two septets) or a
    character outside the BMP (a surrogate pair) is never split. The gateway counts SMS
    limits in these parts; the mobile backend encodes them. ValueError past 255 parts.
    """
    if gsm7.is_gsm7(text):
        encoding, single, per_part = "gsm7", GSM7_SINGLE, GSM7_PART[wide_reference]

        def cost(ch: str) -> int:
            return gsm7.septet_cost(ch)
    else:
        encoding, single, per_part = "ucs2", UCS2_SINGLE, UCS2_PART[wide_reference]

        def cost(ch: str) -> int:
            return 2 if ord(ch) > 0xFFFF else 1
    if sum(cost(ch) for ch in text) <= single:
        return encoding, [text]
    parts: list[str] = []
    start = 0
    used = 0
    for i, ch in enumerate(text):
        c = cost(ch)
        if used + c > per_part:
            parts.append(text[start:i])
            start, used = i, 0
        used += c
    parts.append(text[start:])
    if len(parts) > MAX_PARTS:
        raise ValueError(f"text needs {len(parts)} parts; a concatenated message has at "
                         f"most {MAX_PARTS}")
    return encoding, parts


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
