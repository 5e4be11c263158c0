"""SMS over a module's AT channel, sans-IO: sending, receiving, status reports.

:class:`SmsAgent` implements :class:`~trunkline.drivers.sms.SmsLink` for one module. It
issues :class:`~trunkline.drivers.backends.mobile.at.Command` objects through the send
function it is given (``AtChannel.send``), and the module's driver hands it every AT
event (:meth:`SmsAgent.handle`, which says whether the event was the agent's) and the
time (:meth:`SmsAgent.poll`). It reads no clock and touches no port.

The flows (TS 27.005, PDU mode):

* Set-up: ``AT+CMGF=0`` (PDU mode, §3.2.3), ``AT+CNMI=2,1,0,1,0`` (§3.4.1: new messages
  are stored and announced with ``+CMTI: <mem>,<index>``; status reports come straight
  as ``+CDS: <length>`` and the PDU), then ``AT+CMGL=4`` (§3.4.2: every stored message)
  so what arrived while we were away is read too.
* Sending: per part ``AT+CMGS=<length>`` (the TPDU's octets, the SMSC prefix not
  counted), the module's ``> `` prompt, the PDU in hex and Ctrl-Z (the channel does
  this), then ``+CMGS: <mr>`` and OK, or ``+CMS ERROR: <err>`` (§3.5.1). Parts go one at
  a time; a part that fails ends the message. A part that timed out or was cut by a
  module restart after the PDU went out may have been sent: the failure says so
  (``uncertain``), and nothing here resends it.
* Receiving: ``+CMTI`` -> ``AT+CMGR=<index>`` (§3.4.3) -> ``+CMGR: <stat>,[<alpha>],
  <length>`` and the PDU. Parts of a concatenated message are joined when all are in
  (out of order and repeated parts are fine); parts that do not all come within
  ``reassembly_timeout`` seconds of the first are delivered as they are, with the
  missing part numbers and a note. A message is deleted from the module
  (``AT+CMGD``, §3.5.4) only when the gateway acknowledges it, after storing it.
* Status reports: ``+CDS`` in PDU mode, or ``+CDSI: <mem>,<index>`` then ``AT+CMGR``
  (modules that store reports), become :class:`~trunkline.drivers.sms.SmsDelivery`.
  Matching them to the message sent (by TP-MR and recipient) is the gateway's job: it
  keeps the references across restarts.

A received PDU that cannot be read is not dropped: it arrives as a message with empty
text, the PDU in hex and the reason in ``note``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

from trunkline.drivers.backends.mobile import pdu
from trunkline.drivers.backends.mobile.at import (
    AtEvent,
    Command,
    Prompt,
    Response,
    Restarted,
    Result,
    Unsolicited,
)
from trunkline.drivers.sms import SmsDelivery, SmsEvent, SmsFailed, SmsReceived, SmsSent

__all__ = ["CMS_ERRORS", "Reassembler", "SmsAgent", "cms_reason"]

#: +CMS ERROR values, TS 27.005 §3.2.5. 0..127 are RP causes of TS 24.011 §8.2.5.4
#: (table 8.4), 128..255 TP-FCS values of TS 23.040 §9.2.3.22, 300.. the ME's own.
CMS_ERRORS: dict[int, str] = {
    1: "unassigned (unallocated) number",
    8: "operator determined barring",
    10: "call barred",
    21: "short message transfer rejected",
    27: "destination out of service",
    28: "unidentified subscriber",
    29: "facility rejected",
    30: "unknown subscriber",
    38: "network out of order",
    41: "temporary failure",
    42: "congestion",
    47: "resources unavailable",
    50: "requested facility not subscribed",
    69: "requested facility not implemented",
    81: "invalid short message transfer reference value",
    95: "invalid message",
    96: "invalid mandatory information",
    97: "message type non-existent or not implemented",
    98: "message not compatible with the short message protocol state",
    99: "information element non-existent or not implemented",
    111: "protocol error",
    127: "interworking error",
    0x80: "telematic interworking not supported",
    0x81: "short message type 0 not supported",
    0x82: "cannot replace short message",
    0x8F: "unspecified TP-PID error",
    0x90: "data coding scheme (alphabet) not supported",
    0x91: "message class not supported",
    0x9F: "unspecified TP-DCS error",
    0xA0: "command cannot be actioned",
    0xA1: "command unsupported",
    0xAF: "unspecified TP-Command error",
    0xB0: "TPDU not supported",
    0xC0: "service centre busy",
    0xC1: "no service centre subscription",
    0xC2: "service centre system failure",
    0xC3: "invalid recipient address",
    0xC4: "recipient barred",
    0xC5: "rejected as a duplicate",
    0xC6: "validity period format not supported",
    0xC7: "validity period not supported",
    0xD0: "SIM SMS storage full",
    0xD1: "no SMS storage capability in the SIM",
    0xD2: "error in the module",
    0xD3: "memory capacity exceeded",
    0xD4: "SIM toolkit busy",
    0xD5: "SIM data download error",
    0xFF: "unspecified error",
    300: "module failure",
    301: "SMS service of the module reserved",
    302: "operation not allowed",
    303: "operation not supported",
    304: "invalid PDU mode parameter",
    305: "invalid text mode parameter",
    310: "SIM not inserted",
    311: "SIM PIN required",
    312: "PH-SIM PIN required",
    313: "SIM failure",
    314: "SIM busy",
    315: "SIM wrong",
    316: "SIM PUK required",
    317: "SIM PIN2 required",
    318: "SIM PUK2 required",
    320: "memory failure",
    321: "invalid memory index",
    322: "memory full",
    330: "SMSC address unknown",
    331: "no network service",
    332: "network timeout",
    340: "no +CNMA acknowledgement expected",
    500: "unknown error",
}


def cms_reason(code: int | None, text: str = "") -> str:
    """A +CMS error in words: the standard's meaning, else the module's text."""
    if code is not None:
        if code in CMS_ERRORS:
            return f"{CMS_ERRORS[code]} (+CMS ERROR {code})"
        if code >= 512:
            return f"module-specific error (+CMS ERROR {code})"
        return f"+CMS ERROR {code}"
    return f"+CMS ERROR: {text}" if text else "+CMS ERROR"


@dataclass(frozen=True, slots=True)
class _Tag:
    kind: str  # "setup" | "read" | "list" | "delete" | "memory" | "send"
    data: object = None


@dataclass
class _Part:
    user_data: pdu.UserData
    receipt: str
    raw: bytes


@dataclass
class _Partial:
    sender: str
    total: int
    first_seen: float
    timestamp: dt.datetime | None
    smsc: str
    parts: dict[int, _Part] = field(default_factory=dict)
    extra_receipts: list[str] = field(default_factory=list)  # repeats, to delete too


class Reassembler:
    """Joins the parts of concatenated messages (TS 23.040 §9.2.3.24.1), sans-IO.

    Parts are keyed by sender, reference, total and reference width. A repeated part is
    kept out of the text but its receipt is kept, so its copy is deleted with the rest.
    """

    def __init__(self, timeout: float = 600.0) -> None:
        if not timeout > 0:
            raise ValueError(f"reassembly timeout must be > 0 s, got {timeout}")
        self.timeout = timeout
        self._partials: dict[tuple[str, int, int, bool], _Partial] = {}

    def __len__(self) -> int:
        return len(self._partials)

    def add(self, message: pdu.Deliver, receipt: str, raw: bytes, now: float
            ) -> SmsReceived | None:
        """A part came; the whole message when this completes it."""
        concat = message.user_data.concat
        if concat is None:
            return _received(message.sender.number, [(1, _Part(message.user_data, receipt,
                                                                raw))],
                             message.timestamp, _smsc(message), total=1, extra=[])
        key = (message.sender.number, concat.reference, concat.total, concat.wide)
        partial = self._partials.get(key)
        if partial is None:
            partial = self._partials[key] = _Partial(
                message.sender.number, concat.total, now, message.timestamp, _smsc(message))
        if concat.sequence in partial.parts:
            partial.extra_receipts.append(receipt)
            return None
        partial.parts[concat.sequence] = _Part(message.user_data, receipt, raw)
        if concat.sequence == 1 and message.timestamp is not None:
            partial.timestamp = message.timestamp
        if len(partial.parts) < partial.total:
            return None
        del self._partials[key]
        return _received(partial.sender, sorted(partial.parts.items()), partial.timestamp,
                         partial.smsc, total=partial.total, extra=partial.extra_receipts)

    def expire(self, now: float) -> list[SmsReceived]:
        """Messages whose wait is over, with what came of them."""
        out = []
        for key, partial in list(self._partials.items()):
            if now - partial.first_seen >= self.timeout:
                del self._partials[key]
                out.append(_received(partial.sender, sorted(partial.parts.items()),
                                     partial.timestamp, partial.smsc, total=partial.total,
                                     extra=partial.extra_receipts, waited=self.timeout))
        return out

    def next_deadline(self) -> float | None:
        if not self._partials:
            return None
        return min(p.first_seen for p in self._partials.values()) + self.timeout


def _smsc(message: pdu.Deliver) -> str:
    return message.smsc.number if message.smsc is not None else ""


def _received(sender: str, parts: list[tuple[int, _Part]], timestamp: dt.datetime | None,
              smsc: str, *, total: int, extra: list[str], waited: float | None = None
              ) -> SmsReceived:
    """The message of ``parts`` (in sequence order): text joined from the payloads, a
    receipt of every stored copy and a fingerprint of the PDUs (see ``SmsReceived``)."""
    datas = [p.user_data for _, p in parts]
    encoding = datas[0].encoding if datas else "gsm7"
    text = pdu.join_parts(datas)
    notes = []
    if encoding == "8bit":
        notes.append("8-bit data: " + b"".join(d.payload for d in datas).hex())
    have = {n for n, _ in parts}
    missing = tuple(n for n in range(1, total + 1) if n not in have)
    if missing:
        notes.append(f"part{'s' if len(missing) > 1 else ''} "
                     f"{', '.join(map(str, missing))} of {total} did not come within "
                     f"{waited:g} s")
    return SmsReceived(sender, text, _receipt([p.receipt for _, p in parts] + extra,
                                              [p.raw for _, p in parts]),
                       timestamp, total, missing, encoding, smsc, "; ".join(notes))


def _receipt(locations: list[str], raws: list[bytes]) -> str:
    """``SM:3,SM:4#<digest>``: where the copies are (to delete them) and what they hold
    (SIM indexes are reused, so a repeat is known by both)."""
    digest = hashlib.sha256(b"".join(raws)).hexdigest()[:16]
    return ",".join(loc for loc in locations if loc) + "#" + digest


@dataclass
class _Outgoing:
    message: str
    number: str
    text: str
    report: bool
    parts: list[pdu.SubmitPdu] = field(default_factory=list)
    next_part: int = 0
    references: list[int] = field(default_factory=list)
    prompted: bool = False


class SmsAgent:
    """SMS flows of one module (see the module docstring); a :class:`SmsLink`."""

    def __init__(self, send: Callable[[Command, float], None], *,
                 reassembly_timeout: float = 600.0, send_timeout: float = 60.0,
                 validity: dt.timedelta | None = dt.timedelta(days=2),
                 smsc: str | None = None, setup_retry: float = 30.0) -> None:
        self._send_command = send
        self.setup_retry = setup_retry
        self.reassembler = Reassembler(reassembly_timeout)
        self.send_timeout = send_timeout
        self.validity = validity
        self.smsc = smsc
        self._ready = False
        self._starting = False
        self._want_start = True
        self._start_at = float("-inf")
        self._memory: str | None = None
        self._outbox: deque[_Outgoing] = deque()
        self._sending: _Outgoing | None = None
        self._events: deque[SmsEvent] = deque()
        self._deletions: deque[str] = deque()
        self._concat_ref = 0

    # -- SmsLink ----------------------------------------------------------------------
    @property
    def ready(self) -> bool:
        return self._ready

    def send(self, message: str, number: str, text: str, *, report: bool = True) -> None:
        self._outbox.append(_Outgoing(message, number, text, report))

    def receive(self) -> SmsEvent | None:
        return self._events.popleft() if self._events else None

    def acknowledge(self, receipt: str) -> None:
        locations = receipt.split("#", 1)[0]
        self._deletions.extend(loc for loc in locations.split(",") if ":" in loc)

    # -- driven by the module's driver ------------------------------------------------
    def poll(self, now: float) -> None:
        """Issue what is due: set-up after a start or restart, deletions, the next part,
        and deliver partial messages whose wait is over."""
        if self._want_start and not self._starting and now >= self._start_at:
            self._want_start = False
            self._starting = True
            self._ready = False
            self._memory = None
            self._command("AT+CMGF=0", _Tag("setup"), now)
            self._command("AT+CNMI=2,1,0,1,0", _Tag("setup"), now)
            # +CMGL lists <mem1>: make it the SIM's, whose indexes the receipts name.
            self._command('AT+CPMS="SM"', _Tag("memory", "SM"), now)
            self._command("AT+CMGL=4", _Tag("list", "SM"), now, timeout=30.0)
        if not self._ready:
            return
        while self._deletions:
            memory, _, index = self._deletions.popleft().partition(":")
            self._use_memory(memory, now)
            self._command(f"AT+CMGD={index}", _Tag("delete", (memory, index)), now)
        if self._sending is None and self._outbox:
            self._start_message(self._outbox.popleft(), now)
        self._events.extend(self.reassembler.expire(now))

    def next_deadline(self) -> float | None:
        return self.reassembler.next_deadline()

    def handle(self, event: AtEvent, now: float) -> bool:
        """One AT event; True when it was the agent's (a response to its command, an
        SMS URC), False when it belongs to someone else (calls, registration)."""
        if isinstance(event, Restarted):
            # The module lost PDU mode and +CNMI: set them again before anything else.
            self._want_start = True
            self._starting = False
            self._ready = False
            return False
        if isinstance(event, Prompt):
            if isinstance(event.command.tag, _Tag) and event.command.tag.kind == "send":
                if self._sending is not None:
                    self._sending.prompted = True
                return True
            return False
        if isinstance(event, Response):
            tag = event.command.tag
            if not isinstance(tag, _Tag):
                return False
            self._response(tag, event, now)
            return True
        if isinstance(event, Unsolicited):
            return self._unsolicited(event, now)
        return False

    # -- inside -------------------------------------------------------------------------
    def _command(self, text: str, tag: _Tag, now: float, *, timeout: float = 10.0,
                 payload: bytes | None = None) -> None:
        self._send_command(Command(text, timeout=timeout, payload=payload, tag=tag), now)

    def _use_memory(self, memory: str, now: float) -> None:
        """Make ``memory`` the one AT+CMGR/AT+CMGD work on (TS 27.005 §3.2.2 <mem1>)."""
        if memory != self._memory:
            self._command(f'AT+CPMS="{memory}"', _Tag("memory", memory), now)
            self._memory = memory

    def _unsolicited(self, urc: Unsolicited, now: float) -> bool:
        if urc.name in ("+CMTI", "+CDSI"):
            if len(urc.fields) < 2 or not urc.fields[1].isdigit():
                return True
            memory, index = urc.fields[0] or "SM", urc.fields[1]
            self._use_memory(memory, now)
            self._command(f"AT+CMGR={index}", _Tag("read", (memory, index)), now)
            return True
        if urc.name == "+CMT" and urc.data is not None:
            self._part(urc.data, "", mo=False, now=now)
            return True
        if urc.name == "+CDS" and urc.data is not None:
            self._part(urc.data, "", mo=False, now=now)
            return True
        return False

    def _response(self, tag: _Tag, response: Response, now: float) -> None:
        kind = tag.kind
        if kind == "setup":
            return
        if kind == "list":
            self._starting = False
            if not response.ok:
                # No SIM yet, or the module is busy booting: set up again a little later
                # (at once when the set-up was only cut by a restart or a lost link).
                self._want_start = True
                if response.result is not Result.RESTART:
                    self._start_at = now + self.setup_retry
                return
            self._ready = True
            self._memory = "SM"
            self._listed(response, now)
            return
        if kind == "read":
            assert isinstance(tag.data, tuple)
            memory, index = str(tag.data[0]), str(tag.data[1])
            lines = response.lines
            if response.ok and len(lines) >= 2:
                head = response.line("+CMGR") or ""
                stat = head.split(",", 1)[0].strip()
                self._part(lines[1], f"{memory}:{index}", mo=stat in ("2", "3"), now=now)
            return
        if kind == "memory":
            if response.ok:
                self._memory = str(tag.data)
            else:
                self._memory = None
            return
        if kind == "send":
            self._part_sent(response, now)

    def _listed(self, response: Response, now: float) -> None:
        lines = list(response.lines)
        for i, line in enumerate(lines):
            if not line.upper().startswith("+CMGL:") or i + 1 >= len(lines):
                continue
            fields = line.split(":", 1)[1].split(",")
            index, stat = fields[0].strip(), (fields[1].strip() if len(fields) > 1 else "0")
            self._part(lines[i + 1], f"SM:{index}", mo=stat in ("2", "3"), now=now)

    def _part(self, hex_pdu: str, location: str, *, mo: bool, now: float) -> None:
        """One PDU read from the module (stored at ``location``, or straight in)."""
        if mo:
            return  # a stored outgoing message: not ours to deliver or delete
        try:
            raw = bytes.fromhex(hex_pdu.strip())
            message = pdu.decode(raw)
        except (ValueError, pdu.PduError) as err:
            self._events.append(SmsReceived(
                "", "", _receipt([location], [hex_pdu.encode()]), encoding="pdu",
                note=f"unreadable PDU ({err}): {hex_pdu.strip()[:400]}"))
            return
        if isinstance(message, pdu.StatusReport):
            self._events.append(SmsDelivery(
                message.reference, message.recipient.number, message.outcome,
                message.status, message.reason,
                _receipt([location], [raw]) if location else "", message.discharge))
            return
        assert isinstance(message, pdu.Deliver)
        whole = self.reassembler.add(message, location, raw, now)
        if whole is not None:
            self._events.append(whole)

    def _start_message(self, out: _Outgoing, now: float) -> None:
        try:
            out.parts = pdu.encode_submit(out.number, out.text, reference=0,
                                          concat_reference=self._concat_ref,
                                          smsc=self.smsc, validity=self.validity,
                                          status_report=out.report)
        except pdu.PduError as err:
            self._events.append(SmsFailed(out.message, str(err)))
            return
        if len(out.parts) > 1:
            self._concat_ref = (self._concat_ref + 1) % 256
        self._sending = out
        self._send_part(now)

    def _send_part(self, now: float) -> None:
        out = self._sending
        assert out is not None
        part = out.parts[out.next_part]
        out.prompted = False
        self._command(f"AT+CMGS={part.tpdu_length}", _Tag("send", out.message), now,
                      timeout=self.send_timeout, payload=part.hex.encode("ascii"))

    def _part_sent(self, response: Response, now: float) -> None:
        out = self._sending
        if out is None:
            return
        n = out.next_part
        if response.ok:
            value = response.line("+CMGS") or ""
            mr = value.split(",", 1)[0].strip()
            out.references.append(int(mr) % 256 if mr.isdigit() else -1)
            out.next_part += 1
            if out.next_part < len(out.parts):
                self._send_part(now)
                return
            self._sending = None
            self._events.append(SmsSent(out.message, tuple(out.references)))
            return
        self._sending = None
        if response.result is Result.RESTART and not out.prompted and n == 0:
            self._outbox.appendleft(_Outgoing(out.message, out.number, out.text, out.report))
            return
        if response.result is Result.CMS_ERROR:
            reason, code, uncertain = cms_reason(response.code, response.text), \
                response.code, False
        elif response.result is Result.TIMEOUT:
            reason, code, uncertain = (f"the module did not answer part {n + 1} within "
                                       f"{self.send_timeout:g} s"), None, out.prompted
        elif response.result is Result.RESTART:
            reason, code, uncertain = (f"the module restarted while sending part {n + 1}"
                                       ), None, out.prompted
        else:
            reason, code, uncertain = f"the module answered {response.result.value} " \
                f"{response.text}".strip(), response.code, False
        if len(out.parts) > 1:
            reason += f" (part {n + 1} of {len(out.parts)})"
        self._events.append(SmsFailed(out.message, reason, code, n, uncertain))
