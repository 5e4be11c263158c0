"""MTP level 3 (ITU-T Q.704, 07/96; link tests Q.707) for one linkset to one adjacent point.

Formats:

* **Point codes**: ITU 14 bits (Q.704 2.2.2, written ``3-8-3``), or China's national
  24 bits (GF 001-9001, the national MTP specification: main signalling zone, sub-zone,
  signalling point, 8 bits each, written ``8-8-8``).
* **Service information octet** (Q.704 14.2): service indicator (bits 1-4: 0 network
  management, 1 test and maintenance, 5 ISUP), sub-service field with the network
  indicator (bits 7-8: 0 international, 2 national; China's national network uses 2).
* **Routing label** (Q.704 2.2): ITU: DPC (14), OPC (14), SLS (4) in 32 bits, least
  significant first; China: DPC (3 octets), OPC (3 octets), SLS (4 bits + 4 spare),
  each point code least significant octet first (GF 001-9001; Wireshark's MTP3 dissector
  reads it the same way).
* **Network management** (Q.704 15): heading H0 (bits 1-4), H1 (5-8): COO 0x11 / COA 0x21
  with the FSN of the last accepted MSU (15.4), CBD 0x51 / CBA 0x61 with a changeback
  code (15.5), TRA 0x17 (15.11). **Tests** (Q.707 2.2): SLTM 0x11 / SLTA 0x21, then an
  octet with the test pattern length in bits 5-8, then the pattern. In management and test
  messages the label's SLS is the signalling link code (Q.704 2.2.3, Q.707 2.2).

Procedures: :class:`Linkset` runs its links' MTP2, restarts a failed link after T17 (Q.704
12.2), tests each link when it comes into service (Q.707 2.2: SLTM, T1 supervision, a
second failure takes the link out of service; repeated every T2), sends TRA when the first
link is available (Q.704 9: an MTP restart in its simplest form) and declares the
adjacent point accessible once TRA has been both sent and received (or T21 expired).
Messages are spread over available links by SLS (Q.704 4.2). When a link fails while
another is available, its traffic changes over (Q.704 5: COO/COA, retrieval of the
unacknowledged MSUs, T2; time-controlled after T1 when no COA comes), and changes back
when it is restored (Q.704 6: CBD/CBA, T4 then T5). Messages for another point code or
network are dropped and counted (an end point is no STP: Q.704 2.3).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import Enum
from typing import Final

from .errors import Ss7CodecError, Ss7ConfigError
from .mtp2 import (
    InService,
    MsuReceived,
    Mtp2Link,
    Mtp2Output,
    Mtp2Timers,
    OutOfService,
    Transmit,
)

__all__ = [
    "NETWORK_INDICATORS", "SI_ISUP", "SI_SNM", "SI_TEST", "Label", "LinkAvailable",
    "LinkUnavailable", "Linkset", "LinksetState", "Mtp3Event", "Mtp3Output", "Mtp3Timers",
    "PcFormat", "Send", "SnmMessage", "TestMessage", "UserMessage", "decode_msu",
    "encode_msu", "format_pc", "parse_pc",
]

SI_SNM: Final = 0
SI_TEST: Final = 1
SI_ISUP: Final = 5
#: Network indicator names (Q.704 14.2.2).
NETWORK_INDICATORS: Final = {"international": 0, "international_spare": 1, "national": 2,
                             "national_spare": 3}

H_COO, H_COA, H_CBD, H_CBA, H_TRA = 0x11, 0x21, 0x51, 0x61, 0x17
H_SLTM, H_SLTA = 0x11, 0x21
#: Our SLTM test pattern (Q.707 2.2: 1..15 octets, any content).
TEST_PATTERN: Final = b"trunkline"


class PcFormat(Enum):
    """Point code formats: bits and routing label length."""

    ITU = "itu"        # 14 bits, 4-octet label
    CHINA = "china"    # 24 bits, 7-octet label

    @property
    def bits(self) -> int:
        return 14 if self is PcFormat.ITU else 24

    @property
    def label_length(self) -> int:
        return 4 if self is PcFormat.ITU else 7


def parse_pc(text: str | int, fmt: PcFormat) -> int:
    """A point code from an integer or ``a-b-c`` (ITU 3-8-3, China 8-8-8).

    Raises :class:`Ss7ConfigError` naming the value when it does not fit ``fmt``."""
    if isinstance(text, int) and not isinstance(text, bool):
        value = text
    elif isinstance(text, str) and text.strip().isdigit():
        value = int(text)
    elif isinstance(text, str):
        parts = text.strip().split("-")
        widths = (3, 8, 3) if fmt is PcFormat.ITU else (8, 8, 8)
        if len(parts) != 3 or not all(p.isdigit() for p in parts):
            raise Ss7ConfigError(f"point code {text!r}: expected an integer or "
                                 f"{'-'.join(str(w) for w in widths)}-bit fields a-b-c")
        value = 0
        for part, width in zip(parts, widths, strict=True):
            if int(part) >= 1 << width:
                raise Ss7ConfigError(f"point code {text!r}: field {part} exceeds {width} bits")
            value = value << width | int(part)
    else:
        raise Ss7ConfigError(f"a point code is an integer or a-b-c string, not {text!r}")
    if not 0 <= value < 1 << fmt.bits:
        raise Ss7ConfigError(f"point code {text!r} does not fit {fmt.bits} bits ({fmt.value})")
    return value


def format_pc(pc: int, fmt: PcFormat) -> str:
    """``3-8-3`` (ITU) or ``8-8-8`` (China) form of ``pc``."""
    if fmt is PcFormat.ITU:
        return f"{pc >> 11 & 7}-{pc >> 3 & 0xFF}-{pc & 7}"
    return f"{pc >> 16 & 0xFF}-{pc >> 8 & 0xFF}-{pc & 0xFF}"


@dataclass(frozen=True, slots=True)
class Label:
    """A routing label (Q.704 2.2)."""

    dpc: int
    opc: int
    sls: int

    def encode(self, fmt: PcFormat) -> bytes:
        limit = 1 << fmt.bits
        if not (0 <= self.dpc < limit and 0 <= self.opc < limit and 0 <= self.sls <= 15):
            raise Ss7CodecError(f"routing label {self} does not fit the {fmt.value} format")
        if fmt is PcFormat.ITU:
            return (self.dpc | self.opc << 14 | self.sls << 28).to_bytes(4, "little")
        return (self.dpc.to_bytes(3, "little") + self.opc.to_bytes(3, "little")
                + bytes([self.sls]))

    @classmethod
    def decode(cls, data: bytes, fmt: PcFormat) -> Label:
        if len(data) < fmt.label_length:
            raise Ss7CodecError(f"routing label: {len(data)} octets, {fmt.value} needs "
                                f"{fmt.label_length}")
        if fmt is PcFormat.ITU:
            word = int.from_bytes(data[:4], "little")
            return cls(word & 0x3FFF, word >> 14 & 0x3FFF, word >> 28)
        return cls(int.from_bytes(data[0:3], "little"), int.from_bytes(data[3:6], "little"),
                   data[6] & 0x0F)


def encode_msu(ni: int, si: int, label: Label, body: bytes, fmt: PcFormat) -> bytes:
    """SIO + routing label + ``body``: the payload of an MSU."""
    if not 0 <= ni <= 3 or not 0 <= si <= 15:
        raise Ss7CodecError(f"SIO: network indicator {ni} (0..3), service indicator {si} "
                            f"(0..15)")
    return bytes([si | ni << 6]) + label.encode(fmt) + bytes(body)


def decode_msu(payload: bytes, fmt: PcFormat) -> tuple[int, int, Label, bytes]:
    """``(ni, si, label, body)`` of an MSU payload; raises :class:`Ss7CodecError`."""
    if len(payload) < 1 + fmt.label_length:
        raise Ss7CodecError(f"MSU of {len(payload)} octets: SIO and a {fmt.value} routing "
                            f"label need {1 + fmt.label_length}")
    sio = payload[0]
    label = Label.decode(payload[1:], fmt)
    return sio >> 6, sio & 0x0F, label, bytes(payload[1 + fmt.label_length:])


@dataclass(frozen=True, slots=True)
class SnmMessage:
    """A network management message we handle: ``heading`` (H1 << 4 | H0) and its one
    octet of content (FSN for COO/COA, changeback code for CBD/CBA; None for TRA)."""

    heading: int
    value: int | None = None

    def encode(self) -> bytes:
        return bytes([self.heading]) + (b"" if self.value is None else bytes([self.value]))

    @classmethod
    def decode(cls, body: bytes) -> SnmMessage:
        if not body:
            raise Ss7CodecError("network management message without heading")
        heading = body[0]
        if heading in (H_COO, H_COA, H_CBD, H_CBA):
            if len(body) < 2:
                raise Ss7CodecError(f"management message 0x{heading:02x}: missing its octet")
            value = body[1] & (0x7F if heading in (H_COO, H_COA) else 0xFF)
            return cls(heading, value)
        return cls(heading)


@dataclass(frozen=True, slots=True)
class TestMessage:
    """SLTM (``ack`` False) or SLTA (True) with its test pattern (Q.707 2.2)."""

    ack: bool
    pattern: bytes

    def encode(self) -> bytes:
        if not 0 <= len(self.pattern) <= 15:
            raise Ss7CodecError(f"test pattern of {len(self.pattern)} octets: at most 15")
        return bytes([H_SLTA if self.ack else H_SLTM, len(self.pattern) << 4]) + self.pattern

    @classmethod
    def decode(cls, body: bytes) -> TestMessage:
        if len(body) < 2 or body[0] not in (H_SLTM, H_SLTA):
            raise Ss7CodecError(f"test message: heading {body[:1].hex() or 'missing'} is "
                                f"neither SLTM (11) nor SLTA (21), or no length octet")
        length = body[1] >> 4
        if len(body) < 2 + length:
            raise Ss7CodecError(f"test message: pattern length {length}, {len(body) - 2} "
                                f"octets present")
        return cls(body[0] == H_SLTA, bytes(body[2:2 + length]))


# -- outputs -----------------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class Send:
    """Write ``frame`` on signalling link ``slc``."""

    slc: int
    frame: bytes


@dataclass(frozen=True, slots=True)
class Mtp3Event:
    """Base of the linkset's events."""


@dataclass(frozen=True, slots=True)
class LinkAvailable(Mtp3Event):
    """Link ``slc`` is in service and passed its test (Q.707)."""

    slc: int


@dataclass(frozen=True, slots=True)
class LinkUnavailable(Mtp3Event):
    slc: int
    reason: str


@dataclass(frozen=True, slots=True)
class LinksetState(Mtp3Event):
    """The adjacent point became accessible (``up``: MTP-RESUME) or not (MTP-PAUSE,
    Q.704 2.4 and Q.764 2.13)."""

    up: bool
    reason: str = ""


@dataclass(frozen=True, slots=True)
class UserMessage(Mtp3Event):
    """A user part message for us (MTP-TRANSFER indication): ``si`` and ``body`` after
    the label."""

    si: int
    label: Label
    body: bytes


Mtp3Output = Send | Mtp3Event


@dataclass(frozen=True, slots=True)
class Mtp3Timers:
    """Q.704 16.8 and Q.707 5 timers in seconds (the range beside each)."""

    t1: float = 0.8    # Q.704: delay to avoid mis-sequencing on changeover: 0.5-1.2 s
    t2: float = 1.4    # Q.704: waiting for changeover acknowledgement: 0.7-2 s
    t4: float = 0.8    # Q.704: waiting for changeback acknowledgement (first): 0.5-1.2 s
    t5: float = 0.8    # Q.704: waiting for changeback acknowledgement (second): 0.5-1.2 s
    t17: float = 1.0   # Q.704: delay before restarting a failed link: 0.8-1.5 s
    t21: float = 64.0  # Q.704: waiting for the adjacent point's TRA: 63-65 s
    slt_t1: float = 8.0   # Q.707: SLTA supervision: 4-12 s
    slt_t2: float = 60.0  # Q.707: interval between link tests: 30-90 s

    def __post_init__(self) -> None:
        for name in ("t1", "t2", "t4", "t5", "t17", "t21", "slt_t1", "slt_t2"):
            if not getattr(self, name) > 0:
                raise ValueError(f"MTP3 timer {name} must be > 0 s, got {getattr(self, name)}")


class _LinkPhase(Enum):
    DOWN = "down"                # MTP2 not in service
    TESTING = "testing"          # in service, SLTM sent
    AVAILABLE = "available"      # tested, carries traffic
    CHANGEOVER = "changeover"    # failed; waiting for COA (or T1) before traffic moves
    CHANGEBACK = "changeback"    # tested; waiting for CBA before traffic returns


@dataclass
class _Link:
    slc: int
    mtp2: Mtp2Link
    phase: _LinkPhase = _LinkPhase.DOWN
    test_failures: int = 0
    deadlines: dict[str, float] = field(default_factory=dict)
    held: list[bytes] = field(default_factory=list)   # traffic waiting for changeover
    stop_reason: str | None = None                    # why we took it out of service


class Linkset:
    """The links to one adjacent signalling point (see the module docstring).

    ``slcs`` are the signalling link codes (0..15) of the links; frames in and out name
    the link by its SLC. Inputs: :meth:`start`, :meth:`receive`, :meth:`error`,
    :meth:`on_time`, :meth:`send`; each returns :data:`Mtp3Output` items in order.
    """

    def __init__(self, opc: int, apc: int, *, fmt: PcFormat = PcFormat.ITU, ni: int = 2,
                 slcs: Iterable[int] = (0,), timers: Mtp3Timers | None = None,
                 mtp2_timers: Mtp2Timers | None = None) -> None:
        self.fmt = fmt
        self.opc = parse_pc(opc, fmt)
        self.apc = parse_pc(apc, fmt)
        if not 0 <= ni <= 3:
            raise Ss7ConfigError(f"network indicator must be 0..3, got {ni}")
        self.ni = ni
        codes = list(slcs)
        if not codes or len(set(codes)) != len(codes) or any(not 0 <= c <= 15 for c in codes):
            raise Ss7ConfigError(f"signalling link codes must be distinct 0..15, got {codes}")
        self.timers = timers or Mtp3Timers()
        self.links = {c: _Link(c, Mtp2Link(f"slc{c}", mtp2_timers or Mtp2Timers()))
                      for c in codes}
        self.up = False
        self._tra_sent = False
        self._tra_received = False
        self._t21: float | None = None
        self._changeback_code = 0
        self._out: list[Mtp3Output] = []
        self.now = 0.0
        #: Messages dropped: not for us, wrong network, undecodable.
        self.discarded = 0

    # -- requests ------------------------------------------------------------------------------
    def start(self, now: float) -> list[Mtp3Output]:
        """Bring every link into service (emergency alignment while none is available)."""
        self.now = now
        for link in self.links.values():
            self._start_link(link)
        return self._take()

    def stop(self, now: float) -> list[Mtp3Output]:
        self.now = now
        for link in self.links.values():
            link.deadlines.clear()
            self._mtp2(link, link.mtp2.stop(now))
            link.phase = _LinkPhase.DOWN
        self._check()
        return self._take()

    def send(self, now: float, si: int, sls: int, body: bytes) -> list[Mtp3Output]:
        """A user part message to the adjacent point (MTP-TRANSFER request); dropped
        while the linkset is down (the user part was told by MTP-PAUSE)."""
        self.now = now
        label = Label(self.apc, self.opc, sls & 0x0F)
        payload = encode_msu(self.ni, si, label, body, self.fmt)
        link = self._route(sls)
        if link is None:
            self.discarded += 1
        elif link.phase is _LinkPhase.CHANGEOVER:
            link.held.append(payload)
        else:
            self._mtp2(link, link.mtp2.send_msu(now, payload))
        return self._take()

    # -- inputs --------------------------------------------------------------------------------
    def receive(self, now: float, slc: int, frame: bytes) -> list[Mtp3Output]:
        self.now = now
        link = self._link(slc)
        self._mtp2(link, link.mtp2.receive(now, frame))
        return self._take()

    def error(self, now: float, slc: int, count: int = 1) -> list[Mtp3Output]:
        """The transport reported ``count`` bad frames on link ``slc``."""
        self.now = now
        link = self._link(slc)
        self._mtp2(link, link.mtp2.error(now, count))
        return self._take()

    def on_time(self, now: float) -> list[Mtp3Output]:
        self.now = now
        for link in self.links.values():
            self._mtp2(link, link.mtp2.on_time(now))
            for name, deadline in sorted(link.deadlines.items(), key=lambda kv: kv[1]):
                if deadline <= now and link.deadlines.get(name) == deadline:
                    del link.deadlines[name]
                    self._timer(link, name)
        if self._t21 is not None and now >= self._t21:
            self._t21 = None
            self._tra_received = True  # Q.704 9: the adjacent point's restart is over
            self._check()
        return self._take()

    def next_deadline(self) -> float | None:
        times = [t for link in self.links.values() for t in link.deadlines.values()]
        times += [t for link in self.links.values()
                  if (t := link.mtp2.next_deadline()) is not None]
        if self._t21 is not None:
            times.append(self._t21)
        return min(times, default=None)

    def available(self) -> list[int]:
        """SLCs of the links carrying traffic."""
        return [c for c, link in self.links.items() if link.phase is _LinkPhase.AVAILABLE]

    # -- MTP2 events ---------------------------------------------------------------------------
    def _mtp2(self, link: _Link, outputs: list[Mtp2Output]) -> None:
        for out in outputs:
            if isinstance(out, Transmit):
                self._out.append(Send(link.slc, out.frame))
            elif isinstance(out, InService):
                link.phase = _LinkPhase.TESTING
                link.test_failures = 0
                self._send_test(link)
            elif isinstance(out, OutOfService):
                reason, link.stop_reason = link.stop_reason or out.reason, None
                self._link_failed(link, reason)
            elif isinstance(out, MsuReceived):
                self._deliver(link, out.payload)

    def _start_link(self, link: _Link) -> None:
        emergency = not self.available()
        self._mtp2(link, link.mtp2.start(self.now, emergency=emergency))

    def _stop_link(self, link: _Link, reason: str) -> None:
        """Take ``link`` out of service ourselves (MTP2 reports it; the restart follows)."""
        if link.mtp2.state.value == "out_of_service":
            self._link_failed(link, reason)
            return
        link.stop_reason = reason
        self._mtp2(link, link.mtp2.stop(self.now))
        if link.stop_reason is not None:   # MTP2 was not in service: no report came
            link.stop_reason = None
            self._link_failed(link, reason)

    def _link_failed(self, link: _Link, reason: str) -> None:
        was = link.phase
        link.deadlines = {"t17": self.now + self.timers.t17}   # Q.704 12.2: restart later
        if was in (_LinkPhase.AVAILABLE, _LinkPhase.CHANGEBACK):
            self._out.append(LinkUnavailable(link.slc, reason))
        others = [c for c in self.available() if c != link.slc]
        if was is _LinkPhase.AVAILABLE and others:
            # Q.704 5.2: changeover; COO names the last MSU we accepted on this link.
            link.phase = _LinkPhase.CHANGEOVER
            link.held = []
            link.deadlines["t2"] = self.now + self.timers.t2
            self._snm(self.links[others[0]], link.slc, SnmMessage(H_COO, link.mtp2.last_accepted))
        else:
            link.phase = _LinkPhase.DOWN
            link.mtp2.retrieve(None)  # nowhere to send them
        self._check()

    def _timer(self, link: _Link, name: str) -> None:
        if name == "t17":
            self._start_link(link)
        elif name == "t2":        # Q.704 5.6.2: no COA, time-controlled changeover
            link.deadlines["t1"] = self.now + self.timers.t1
        elif name == "t1":
            self._finish_changeover(link, None)
        elif name == "slt_t1":    # Q.707 2.2: no SLTA: test again, fail the second time
            link.test_failures += 1
            if link.test_failures >= 2:
                self._stop_link(link, "Q.707 link test failed twice")
            else:
                self._send_test(link)
        elif name == "slt_t2":
            self._send_test(link)
        elif name in ("t4", "t5"):  # Q.704 6.4: no CBA, try once more then go ahead
            if name == "t4":
                link.deadlines["t5"] = self.now + self.timers.t5
                self._send_changeback(link)
            else:
                self._changeback_done(link)

    def _deliver(self, link: _Link, payload: bytes) -> None:
        try:
            ni, si, label, body = decode_msu(payload, self.fmt)
        except Ss7CodecError:
            self.discarded += 1
            return
        if ni != self.ni or label.dpc != self.opc:
            self.discarded += 1   # Q.704 2.3: not for this signalling point
            return
        try:
            if si == SI_TEST:
                self._on_test(link, label, TestMessage.decode(body))
            elif si == SI_SNM:
                self._on_snm(link, label, SnmMessage.decode(body))
            else:
                self._out.append(UserMessage(si, label, body))
        except Ss7CodecError:
            self.discarded += 1

    def _on_test(self, link: _Link, label: Label, message: TestMessage) -> None:
        if label.opc != self.apc or label.sls != link.slc:
            self.discarded += 1   # Q.707 2.2: test of another link or from another point
            return
        if not message.ack:
            body = TestMessage(True, message.pattern).encode()
            payload = encode_msu(self.ni, SI_TEST, Label(self.apc, self.opc, link.slc), body,
                                 self.fmt)
            self._mtp2(link, link.mtp2.send_msu(self.now, payload))
            return
        if link.phase is not _LinkPhase.TESTING and "slt_t1" not in link.deadlines:
            return
        link.deadlines.pop("slt_t1", None)
        if message.pattern != TEST_PATTERN:
            self._timer(link, "slt_t1")  # a wrong pattern counts as a failed test
            return
        link.test_failures = 0
        link.deadlines["slt_t2"] = self.now + self.timers.slt_t2
        if link.phase is _LinkPhase.TESTING:
            others = self.available()
            if others and self.up:
                link.phase = _LinkPhase.CHANGEBACK   # Q.704 6.2: traffic comes back
                link.deadlines["t4"] = self.now + self.timers.t4
                self._send_changeback(link)
            else:
                self._make_available(link)

    def _on_snm(self, link: _Link, label: Label, message: SnmMessage) -> None:
        if label.opc != self.apc:
            self.discarded += 1
            return
        subject = self.links.get(label.sls)
        if message.heading == H_TRA:
            self._tra_received = True
            self._t21 = None
            self._check()
        elif message.heading == H_COO and subject is not None:
            # Q.704 5.3: the far end changes over from link ``sls``: acknowledge with the
            # last MSU we accepted there, then resend what it has not.
            self._snm(link, subject.slc, SnmMessage(H_COA, subject.mtp2.last_accepted))
            if subject.phase is _LinkPhase.AVAILABLE:
                self._stop_link(subject, "changeover ordered by the adjacent point")
            if subject.phase is _LinkPhase.CHANGEOVER:
                self._finish_changeover(subject, message.value)
        elif message.heading == H_COA and subject is not None \
                and subject.phase is _LinkPhase.CHANGEOVER:
            self._finish_changeover(subject, message.value)
        elif message.heading == H_CBD and subject is not None:
            self._snm(link, subject.slc, SnmMessage(H_CBA, message.value))   # Q.704 6.3
        elif message.heading == H_CBA and subject is not None \
                and subject.phase is _LinkPhase.CHANGEBACK:
            self._changeback_done(subject)

    # -- changeover and changeback -------------------------------------------------------------
    def _finish_changeover(self, link: _Link, far_accepted: int | None) -> None:
        """Q.704 5.4/5.5: retrieve what the far end did not accept and send it, with what
        was held meanwhile, on the links that remain."""
        for name in ("t1", "t2"):
            link.deadlines.pop(name, None)
        pending = link.mtp2.retrieve(far_accepted) if far_accepted is not None \
            else link.mtp2.retrieve(None)[:0]
        pending += link.held
        link.held = []
        link.phase = _LinkPhase.DOWN
        for payload in pending:
            target = self._route(payload_sls(payload, self.fmt))
            if target is not None and target is not link:
                self._mtp2(target, target.mtp2.send_msu(self.now, payload))

    def _send_changeback(self, link: _Link) -> None:
        others = [c for c in self.available() if c != link.slc]
        if not others:
            self._changeback_done(link)
            return
        self._changeback_code = (self._changeback_code + 1) % 256
        self._snm(self.links[others[0]], link.slc, SnmMessage(H_CBD, self._changeback_code))

    def _changeback_done(self, link: _Link) -> None:
        for name in ("t4", "t5"):
            link.deadlines.pop(name, None)
        self._make_available(link)

    def _make_available(self, link: _Link) -> None:
        link.phase = _LinkPhase.AVAILABLE
        self._out.append(LinkAvailable(link.slc))
        if not self._tra_sent:
            self._tra_sent = True
            self._snm(link, link.slc, SnmMessage(H_TRA))
            if not self._tra_received:
                self._t21 = self.now + self.timers.t21
        self._check()

    # -- helpers -------------------------------------------------------------------------------
    def _check(self) -> None:
        accessible = bool(self.available()) and self._tra_sent and self._tra_received
        if accessible and not self.up:
            self.up = True
            self._out.append(LinksetState(True))
        elif not self.available() and (self.up or self._tra_sent):
            was_up = self.up
            self.up = False
            self._tra_sent = self._tra_received = False   # the next link restarts MTP
            self._t21 = None
            if was_up:
                self._out.append(LinksetState(False, "no signalling link available"))

    def _route(self, sls: int) -> _Link | None:
        """The link for ``sls`` (Q.704 4.2 load sharing); a link changing over keeps its
        traffic until the changeover ends."""
        usable = sorted(c for c, link in self.links.items()
                        if link.phase in (_LinkPhase.AVAILABLE, _LinkPhase.CHANGEOVER))
        if not self.available():
            return None
        slc = usable[sls % len(usable)]
        return self.links[slc]

    def _snm(self, via: _Link, subject_slc: int, message: SnmMessage) -> None:
        payload = encode_msu(self.ni, SI_SNM, Label(self.apc, self.opc, subject_slc),
                             message.encode(), self.fmt)
        if via.mtp2.in_service:
            self._mtp2(via, via.mtp2.send_msu(self.now, payload))

    def _send_test(self, link: _Link) -> None:
        payload = encode_msu(self.ni, SI_TEST, Label(self.apc, self.opc, link.slc),
                             TestMessage(False, TEST_PATTERN).encode(), self.fmt)
        if link.mtp2.in_service:
            self._mtp2(link, link.mtp2.send_msu(self.now, payload))
            link.deadlines["slt_t1"] = self.now + self.timers.slt_t1

    def _link(self, slc: int) -> _Link:
        try:
            return self.links[slc]
        except KeyError:
            raise ValueError(f"no signalling link {slc} in the linkset to "
                             f"{format_pc(self.apc, self.fmt)}; links: "
                             f"{sorted(self.links)}") from None

    def _take(self) -> list[Mtp3Output]:
        out, self._out = self._out, []
        return out


def payload_sls(payload: bytes, fmt: PcFormat) -> int:
    """The SLS of an MSU payload we built."""
    return Label.decode(payload[1:], fmt).sls
