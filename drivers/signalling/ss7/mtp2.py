"""MTP level 2 (ITU-T Q.703, 07/96) as a sans-IO state machine over whole signal units.

The transport is DAHDI's MTP2 signalling mode (or anything with its behaviour): each
frame handed in or out is one signal unit without flags or check bits, its FCS already
checked by the kernel. Two facts of that mode shape this module (dahdi-base.c):

* on transmit, the kernel repeats the last frame written until another is written, so
  the link writes a FISU or LSSU only when it changes, and always follows MSUs with a
  FISU (so a FISU, not an MSU, is what gets repeated);
* on receive, the kernel drops a frame identical to the one before it, so a repeated
  FISU or LSSU reaches us once. What the far end sends is therefore a *state* (the last
  unit seen), not a stream: a FISU seen while still proving still counts once proving
  ends (the far end is still sending it). Frames with a bad FCS are dropped by the
  kernel, which reports them as events: feed those to :meth:`Mtp2Link.error`.

Everything is driven from outside: ``start``/``stop``/``send_msu`` requests,
``receive(now, frame)``, ``error(now)`` and ``on_time(now)``; each returns a list of
outputs in order: :class:`Transmit` (a frame to write) and the link events
:class:`InService`, :class:`OutOfService`, :class:`MsuReceived`, :class:`RemoteBusy`.

Formats (Q.703 clause 2.2/2.3, 11.1): octet 0 BSN (7 bits) + BIB; octet 1 FSN + FIB;
octet 2 LI (6 bits) + 2 spare; then the status field (LSSU, 1 or 2 octets) or SIO + SIF
(MSU, LI = 3..63; 63 for a SIF longer than 62 octets; at most 272 SIF octets).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum, IntEnum
from typing import Final

from .errors import Ss7CodecError

__all__ = [
    "AERM_EMERGENCY", "AERM_NORMAL", "LINK_TRANSITIONS", "MAX_SIF", "PROVING_ATTEMPTS",
    "SUERM_LEAK", "SUERM_THRESHOLD", "Fisu", "InService", "LinkState", "Lssu", "Msu",
    "MsuReceived", "Mtp2Event", "Mtp2Link", "Mtp2Output", "Mtp2Timers", "OutOfService",
    "RemoteBusy", "SignalUnit", "Status", "Transmit", "decode_su",
]

#: Largest signalling information field (Q.703 2.3.8: m = 272 octets).
MAX_SIF: Final = 272
#: Signal unit error rate monitor (Q.703 10.2.2): threshold T and leak D.
SUERM_THRESHOLD: Final = 64
SUERM_LEAK: Final = 256
#: Alignment error rate monitor (Q.703 10.3.2): Ti (normal), Tie (emergency), and M, the
#: proving attempts before alignment is declared not possible.
AERM_NORMAL: Final = 4
AERM_EMERGENCY: Final = 1
PROVING_ATTEMPTS: Final = 5
#: Signal units per second a 64 kbit/s link carries when idle (a FISU is 6 octets with its
#: check bits, plus one flag: 56 bits). The kernel absorbs the repeats, so the SUERM's
#: leak is counted from time as well as from the frames we see.
IDLE_SU_RATE: Final = 64000 / 56


class Status(IntEnum):
    """LSSU status indications (Q.703 11.1.2)."""

    SIO = 0    # out of alignment
    SIN = 1    # normal alignment
    SIE = 2    # emergency alignment
    SIOS = 3   # out of service
    SIPO = 4   # processor outage
    SIB = 5    # busy


# -- signal units ----------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class SignalUnit:
    """Header fields common to every signal unit (Q.703 2.2)."""

    bsn: int
    bib: int
    fsn: int
    fib: int

    def __post_init__(self) -> None:
        for name in ("bsn", "fsn"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 127:
                raise ValueError(f"{name} must be 0..127, got {value!r}")
        for name in ("bib", "fib"):
            if getattr(self, name) not in (0, 1):
                raise ValueError(f"{name} must be 0 or 1, got {getattr(self, name)!r}")

    def _header(self, li: int) -> bytes:
        return bytes([self.bsn | self.bib << 7, self.fsn | self.fib << 7, li])

    def encode(self) -> bytes:
        raise NotImplementedError


@dataclass(frozen=True, slots=True)
class Fisu(SignalUnit):
    """Fill-in signal unit (LI = 0)."""

    def encode(self) -> bytes:
        return self._header(0)


@dataclass(frozen=True, slots=True)
class Lssu(SignalUnit):
    """Link status signal unit (LI = 1; a second status octet is ignored, Q.703 11.1.2)."""

    status: int = Status.SIOS

    def __post_init__(self) -> None:
        SignalUnit.__post_init__(self)
        if not 0 <= self.status <= 255:
            raise ValueError(f"status must be one octet, got {self.status!r}")

    def encode(self) -> bytes:
        return self._header(1) + bytes([self.status])


@dataclass(frozen=True, slots=True)
class Msu(SignalUnit):
    """Message signal unit: ``payload`` is the SIO followed by the SIF."""

    payload: bytes = b""

    def __post_init__(self) -> None:
        SignalUnit.__post_init__(self)
        if not 3 <= len(self.payload) <= MAX_SIF + 1:
            raise ValueError(f"an MSU carries 3..{MAX_SIF + 1} octets (SIO + SIF), got "
                             f"{len(self.payload)}")

    def encode(self) -> bytes:
        return self._header(min(len(self.payload), 63)) + bytes(self.payload)


def decode_su(frame: bytes) -> SignalUnit:
    """Decode one signal unit (flags and check bits already removed).

    Raises :class:`Ss7CodecError` for a unit Q.703 4.1.4 treats as in error: too short,
    too long, or a length indicator that does not match the frame.
    """
    if not isinstance(frame, bytes | bytearray | memoryview):
        raise Ss7CodecError(f"a signal unit is bytes, not {type(frame).__name__}")
    frame = bytes(frame)
    if len(frame) < 3:
        raise Ss7CodecError(f"signal unit of {len(frame)} octets: at least 3 (BSN, FSN, LI)")
    if len(frame) > 3 + 1 + MAX_SIF:
        raise Ss7CodecError(f"signal unit of {len(frame)} octets: at most {4 + MAX_SIF}")
    bsn, bib, fsn, fib = frame[0] & 0x7F, frame[0] >> 7, frame[1] & 0x7F, frame[1] >> 7
    li = frame[2] & 0x3F
    body = frame[3:]
    if li == 0:
        if body:
            raise Ss7CodecError(f"LI 0 (FISU) but {len(body)} octets follow")
        return Fisu(bsn, bib, fsn, fib)
    if li in (1, 2):
        if len(body) != li:
            raise Ss7CodecError(f"LI {li} (LSSU) but {len(body)} status octets follow")
        return Lssu(bsn, bib, fsn, fib, body[0])
    if (li < 63 and len(body) != li) or (li == 63 and len(body) < 63):
        raise Ss7CodecError(f"LI {li} (MSU) does not match its {len(body)} octets")
    return Msu(bsn, bib, fsn, fib, body)


# -- outputs -----------------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class Transmit:
    """Write ``frame`` (one signal unit) on the link."""

    frame: bytes


@dataclass(frozen=True, slots=True)
class Mtp2Event:
    """Base of what the link tells MTP3."""


@dataclass(frozen=True, slots=True)
class InService(Mtp2Event):
    """The link is in service (Q.703 7.3, LSC "in service")."""


@dataclass(frozen=True, slots=True)
class OutOfService(Mtp2Event):
    """Alignment failed or the link failed; ``reason`` says why (a timer, a monitor, an
    LSSU received). MTP3 restarts it (Q.704 12.2: after T17)."""

    reason: str


@dataclass(frozen=True, slots=True)
class MsuReceived(Mtp2Event):
    """An MSU accepted in sequence: ``payload`` is its SIO + SIF."""

    payload: bytes


@dataclass(frozen=True, slots=True)
class RemoteBusy(Mtp2Event):
    """The far end reports level 2 congestion (SIB, Q.703 9.3): ``busy`` True while it does."""

    busy: bool


Mtp2Output = Transmit | Mtp2Event


# -- timers ------------------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class Mtp2Timers:
    """Q.703 12.3 timers for 64 kbit/s links, in seconds (the range beside each)."""

    t1: float = 45.0    # alignment ready: 40-50 s
    t2: float = 5.0     # not aligned: 5-50 s
    t3: float = 1.0     # aligned: 1-2 s
    t4n: float = 8.2    # normal proving period Pn = 2**16 octets: 7.5-9.5 s
    t4e: float = 0.5    # emergency proving period Pe = 2**12 octets: 0.4-0.6 s
    t6: float = 5.0     # remote congestion: 3-6 s
    t7: float = 1.0     # excessive delay of acknowledgement: 0.5-2 s

    def __post_init__(self) -> None:
        for name in ("t1", "t2", "t3", "t4n", "t4e", "t6", "t7"):
            if not getattr(self, name) > 0:
                raise ValueError(f"MTP2 timer {name} must be > 0 s, got {getattr(self, name)}")


# -- the state machine ---------------------------------------------------------------------------

class LinkState(Enum):
    """Link state control and initial alignment control states (Q.703 Figures 6, 7)."""

    OUT_OF_SERVICE = "out_of_service"
    NOT_ALIGNED = "not_aligned"        # IAC: SIO sent, T2 running
    ALIGNED = "aligned"                # IAC: SIN/SIE sent, T3 running
    PROVING = "proving"                # IAC: T4 running, AERM on
    ALIGNED_READY = "aligned_ready"    # LSC: FISUs sent, T1 running
    IN_SERVICE = "in_service"


class Input(Enum):
    START = "start"
    STOP = "stop"
    SIO = "rx_sio"
    SIN = "rx_sin"
    SIE = "rx_sie"
    SIOS = "rx_sios"
    SIPO = "rx_sipo"
    FISU = "rx_fisu"
    MSU = "rx_msu"
    T1 = "t1"
    T2 = "t2"
    T3 = "t3"
    T4 = "t4"
    T6 = "t6"
    T7 = "t7"
    AERM = "aerm"
    SUERM = "suerm"
    ABNORMAL = "abnormal_bsn_fib"


L = LinkState
In = Input

#: (state, input) -> (next state, what to do, Q.703 clause). Inputs with no row are
#: ignored in that state. ``fail``: the link goes out of service and reports why.
LINK_TRANSITIONS: Final[dict[tuple[LinkState, Input], tuple[LinkState, str, str]]] = {
    (L.OUT_OF_SERVICE, In.START): (L.NOT_ALIGNED, "send_sio", "7.3 start: SIO, T2"),
    (L.NOT_ALIGNED, In.SIO): (L.ALIGNED, "aligned", "7.3 SIO received: SIN/SIE, T3"),
    (L.NOT_ALIGNED, In.SIN): (L.ALIGNED, "aligned", "7.3 SIN received: SIN/SIE, T3"),
    (L.NOT_ALIGNED, In.SIE): (L.ALIGNED, "aligned", "7.3 SIE received: emergency"),
    (L.NOT_ALIGNED, In.T2): (L.OUT_OF_SERVICE, "fail", "7.3 T2: alignment not possible"),
    (L.ALIGNED, In.SIN): (L.PROVING, "prove", "7.3 SIN received: proving, T4"),
    (L.ALIGNED, In.SIE): (L.PROVING, "prove", "7.3 SIE received: emergency proving"),
    (L.ALIGNED, In.SIOS): (L.OUT_OF_SERVICE, "fail", "7.3 SIOS: alignment not possible"),
    (L.ALIGNED, In.T3): (L.OUT_OF_SERVICE, "fail", "7.3 T3: alignment not possible"),
    (L.PROVING, In.SIO): (L.ALIGNED, "aligned", "7.3 SIO while proving: back to aligned"),
    (L.PROVING, In.SIE): (L.PROVING, "emergency", "7.3 SIE while proving: Pe"),
    (L.PROVING, In.SIOS): (L.OUT_OF_SERVICE, "fail", "7.3 SIOS: alignment not possible"),
    (L.PROVING, In.AERM): (L.PROVING, "reprove", "10.3 AERM threshold: proving again"),
    (L.PROVING, In.T4): (L.ALIGNED_READY, "ready", "7.3 T4: alignment complete, FISU, T1"),
    (L.ALIGNED_READY, In.FISU): (L.IN_SERVICE, "in_service", "7.3 FISU: in service"),
    (L.ALIGNED_READY, In.MSU): (L.IN_SERVICE, "in_service", "7.3 MSU: in service"),
    (L.ALIGNED_READY, In.SIO): (L.OUT_OF_SERVICE, "fail", "7.3 SIO: link failure"),
    (L.ALIGNED_READY, In.SIOS): (L.OUT_OF_SERVICE, "fail", "7.3 SIOS: link failure"),
    (L.ALIGNED_READY, In.T1): (L.OUT_OF_SERVICE, "fail", "7.3 T1: link failure"),
    (L.IN_SERVICE, In.SIO): (L.OUT_OF_SERVICE, "fail", "7.3/Fig. 8: SIO received"),
    (L.IN_SERVICE, In.SIN): (L.OUT_OF_SERVICE, "fail", "7.3/Fig. 8: SIN received"),
    (L.IN_SERVICE, In.SIE): (L.OUT_OF_SERVICE, "fail", "7.3/Fig. 8: SIE received"),
    (L.IN_SERVICE, In.SIOS): (L.OUT_OF_SERVICE, "fail", "7.3/Fig. 8: SIOS received"),
    (L.IN_SERVICE, In.SIPO): (L.OUT_OF_SERVICE, "fail", "8: remote processor outage"),
    (L.IN_SERVICE, In.T6): (L.OUT_OF_SERVICE, "fail", "9.3 T6: remote congestion too long"),
    (L.IN_SERVICE, In.T7): (L.OUT_OF_SERVICE, "fail", "5.3.1 T7: no acknowledgement"),
    (L.IN_SERVICE, In.SUERM): (L.OUT_OF_SERVICE, "fail", "10.2 SUERM threshold"),
    (L.IN_SERVICE, In.ABNORMAL): (L.OUT_OF_SERVICE, "fail", "5.3.1 abnormal BSN/FIB"),
}
for _state in (L.NOT_ALIGNED, L.ALIGNED, L.PROVING, L.ALIGNED_READY, L.IN_SERVICE):
    LINK_TRANSITIONS[(_state, In.STOP)] = (L.OUT_OF_SERVICE, "stop", "7.3/12: stop: SIOS")

_LSSU_INPUT = {Status.SIO: In.SIO, Status.SIN: In.SIN, Status.SIE: In.SIE,
               Status.SIOS: In.SIOS, Status.SIPO: In.SIPO}


@dataclass
class _Sent:
    fsn: int
    payload: bytes


@dataclass
class Mtp2Link:
    """One signalling link's level 2 (see the module docstring).

    ``emergency`` asks for emergency proving (Q.704 12.2: when the link is the only one of
    its linkset that could carry traffic); the far end's SIE makes it emergency too.
    """

    name: str = "link"
    timers: Mtp2Timers = field(default_factory=Mtp2Timers)
    state: LinkState = LinkState.OUT_OF_SERVICE
    emergency: bool = False
    #: Why the link last went out of service.
    failure: str | None = None

    def __post_init__(self) -> None:
        self._deadlines: dict[Input, float] = {}
        self._out: list[Mtp2Output] = []
        self._last_tx: bytes | None = None
        self._rx_status: int | None = None   # last LSSU status seen; -1 for FISU
        self._far_emergency = False
        self._proving_errors = 0
        self._proving_attempts = 0
        self._suerm = 0
        self._suerm_frames = 0
        self._suerm_since = 0.0
        self._abnormal: list[bool] = []
        self._remote_busy = False
        self.now = 0.0
        self._reset_sequence()
        #: Frames received and MSUs delivered (for status displays and tests).
        self.frames_in = 0
        self.msus_in = 0
        self.retransmissions = 0

    # -- requests ------------------------------------------------------------------------------
    def start(self, now: float, *, emergency: bool | None = None) -> list[Mtp2Output]:
        """Begin initial alignment (from out of service; ignored otherwise)."""
        self.now = now
        if emergency is not None:
            self.emergency = emergency
        self._input(In.START)
        return self._take()

    def stop(self, now: float) -> list[Mtp2Output]:
        """Take the link out of service (SIOS)."""
        self.now = now
        self._input(In.STOP)
        return self._take()

    def send_msu(self, now: float, payload: bytes) -> list[Mtp2Output]:
        """Queue an MSU (SIO + SIF). Raises :class:`Ss7CodecError` for a bad length and
        :class:`RuntimeError` when the link is not in service (MTP3 chooses links)."""
        self.now = now
        if not 3 <= len(payload) <= MAX_SIF + 1:
            raise Ss7CodecError(f"link {self.name}: an MSU carries 3..{MAX_SIF + 1} octets, "
                                f"got {len(payload)}")
        if self.state is not LinkState.IN_SERVICE:
            raise RuntimeError(f"link {self.name} cannot send an MSU: it is "
                               f"{self.state.value}")
        self._queue.append(bytes(payload))
        self._transmit_queued()
        return self._take()

    # -- inputs --------------------------------------------------------------------------------
    def receive(self, now: float, frame: bytes) -> list[Mtp2Output]:
        """A frame from the link. A malformed one counts as a unit in error."""
        self.now = now
        self.frames_in += 1
        self._suerm_frames += 1
        try:
            su = decode_su(frame)
        except Ss7CodecError:
            self._su_error()
            return self._take()
        if isinstance(su, Lssu):
            self._on_lssu(su)
        else:
            self._on_sequenced(su)
        return self._take()

    def error(self, now: float, count: int = 1) -> list[Mtp2Output]:
        """``count`` units received in error (the kernel's bad FCS or abort events)."""
        self.now = now
        for _ in range(count):
            self._su_error()
        return self._take()

    def on_time(self, now: float) -> list[Mtp2Output]:
        self.now = now
        for timer, deadline in sorted(self._deadlines.items(), key=lambda kv: kv[1]):
            if deadline <= now and self._deadlines.get(timer) == deadline:
                del self._deadlines[timer]
                self._input(timer)
        return self._take()

    def next_deadline(self) -> float | None:
        return min(self._deadlines.values(), default=None)

    @property
    def in_service(self) -> bool:
        return self.state is LinkState.IN_SERVICE

    @property
    def last_accepted(self) -> int:
        """FSN of the last MSU accepted (for changeover, Q.704 5.2)."""
        return self._rx_fsn

    def retrieve(self, after: int | None) -> list[bytes]:
        """MSUs sent or queued but not acknowledged after FSN ``after`` (None: all), in
        order; the link forgets them (Q.704 5.5 retrieval for changeover)."""
        sent = list(self._rtb)
        if after is not None:
            base = (self._tx_fsn - len(self._rtb)) % 128
            k = (after - base) % 128
            if k <= len(sent):
                sent = sent[k:]
        out = [s.payload for s in sent] + list(self._queue)
        self._rtb.clear()
        self._queue.clear()
        self._deadlines.pop(In.T7, None)
        return out

    # -- the table -----------------------------------------------------------------------------
    def _input(self, what: Input) -> None:
        row = LINK_TRANSITIONS.get((self.state, what))
        if row is None:
            return
        next_state, action, clause = row
        previous = self.state
        self.state = next_state
        getattr(self, f"_do_{action}")(what, previous, clause)

    def _do_send_sio(self, what: Input, previous: LinkState, clause: str) -> None:
        self.failure = None
        self._reset_sequence()
        self._proving_attempts = 0
        self._far_emergency = False
        self._lssu(Status.SIO)
        self._arm(In.T2, self.timers.t2)
        if self._rx_status in (Status.SIO, Status.SIN, Status.SIE):
            # the far end was already aligning: its LSSU is still on the line
            self._input(_LSSU_INPUT[Status(self._rx_status)])

    def _do_aligned(self, what: Input, previous: LinkState, clause: str) -> None:
        for timer in (In.T2, In.T4):
            self._deadlines.pop(timer, None)
        if what is In.SIE:
            self._far_emergency = True
        self._lssu(Status.SIE if self.emergency else Status.SIN)
        self._arm(In.T3, self.timers.t3)
        if what in (In.SIN, In.SIE) and previous is L.NOT_ALIGNED:
            # Both ends aligning at once: the SIN/SIE that aligned us also starts proving.
            self._input(what)

    def _do_prove(self, what: Input, previous: LinkState, clause: str) -> None:
        self._deadlines.pop(In.T3, None)
        if what is In.SIE:
            self._far_emergency = True
        self._proving_errors = 0
        self._arm(In.T4, self._proving_period())

    def _do_emergency(self, what: Input, previous: LinkState, clause: str) -> None:
        if not (self.emergency or self._far_emergency):
            self._far_emergency = True
            self._arm(In.T4, self.timers.t4e)

    def _do_reprove(self, what: Input, previous: LinkState, clause: str) -> None:
        self._proving_attempts += 1
        if self._proving_attempts >= PROVING_ATTEMPTS:
            self.state = L.OUT_OF_SERVICE
            self._do_fail(what, previous, "7.3/10.3: M proving periods aborted")
            return
        self._proving_errors = 0
        self._arm(In.T4, self._proving_period())

    def _do_ready(self, what: Input, previous: LinkState, clause: str) -> None:
        self._fisu()
        self._arm(In.T1, self.timers.t1)
        if self._rx_status == -1:  # the far end is already sending FISUs
            self._input(In.FISU)

    def _do_in_service(self, what: Input, previous: LinkState, clause: str) -> None:
        self._deadlines.pop(In.T1, None)
        self._suerm, self._suerm_frames, self._suerm_since = 0, 0, self.now
        self._abnormal.clear()
        self._out.append(InService())

    def _do_fail(self, what: Input, previous: LinkState, clause: str) -> None:
        self.failure = f"{what.value}: {clause}"
        self._go_out_of_service()
        self._out.append(OutOfService(self.failure))

    def _do_stop(self, what: Input, previous: LinkState, clause: str) -> None:
        self.failure = "stopped"
        self._go_out_of_service()
        if previous is L.IN_SERVICE:
            self._out.append(OutOfService("stopped"))

    # -- helpers -------------------------------------------------------------------------------
    def _go_out_of_service(self) -> None:
        self._deadlines.clear()
        self._lssu(Status.SIOS)
        self._remote_busy = False

    def _proving_period(self) -> float:
        return self.timers.t4e if (self.emergency or self._far_emergency) else self.timers.t4n

    def _arm(self, timer: Input, seconds: float) -> None:
        self._deadlines[timer] = self.now + seconds

    def _reset_sequence(self) -> None:
        # Q.703 5.2: sequence numbers start at 127 with indicator bits 1 after alignment.
        self._tx_fsn = 127
        self._fib = 1
        self._bib = 1
        self._rx_fsn = 127
        self._nack_pending = False
        self._rtb: list[_Sent] = []
        self._queue: list[bytes] = []

    def _write(self, su: SignalUnit) -> None:
        frame = su.encode()
        if frame != self._last_tx or isinstance(su, Msu):
            self._last_tx = frame
            self._out.append(Transmit(frame))

    def _lssu(self, status: Status) -> None:
        self._write(Lssu(self._rx_fsn, self._bib, self._tx_fsn, self._fib, status))

    def _fisu(self) -> None:
        if self.state in (L.ALIGNED_READY, L.IN_SERVICE):
            self._write(Fisu(self._rx_fsn, self._bib, self._tx_fsn, self._fib))

    def _on_lssu(self, su: Lssu) -> None:
        status = su.status
        self._rx_status = status
        if status == Status.SIB:
            if self.state is L.IN_SERVICE and not self._remote_busy:
                self._remote_busy = True
                self._deadlines.pop(In.T7, None)   # Q.703 9.3: T7 stopped, T6 started
                self._arm(In.T6, self.timers.t6)
                self._out.append(RemoteBusy(True))
            return
        if status in _LSSU_INPUT:
            if self.state is L.PROVING and status in (Status.SIN, Status.SIE):
                if status == Status.SIE:
                    self._input(In.SIE)
                return
            self._input(_LSSU_INPUT[Status(status)])

    def _on_sequenced(self, su: SignalUnit) -> None:
        is_msu = isinstance(su, Msu)
        self._rx_status = -1
        if self.state is L.ALIGNED_READY:
            self._input(In.MSU if is_msu else In.FISU)
        if self.state is not L.IN_SERVICE:
            return
        if self._remote_busy:
            self._remote_busy = False
            self._deadlines.pop(In.T6, None)
            self._out.append(RemoteBusy(False))
            if self._rtb:
                self._arm(In.T7, self.timers.t7)
        if not self._acknowledge(su):
            return
        if isinstance(su, Msu):
            self._accept(su)
        elif su.fsn != self._rx_fsn and su.fib == self._bib and not self._nack_pending:
            # The far end's FISU names an MSU we never saw (lost; the kernel swallowed
            # nothing here since FSNs differ): ask for it again, as libss7 does.
            self._negative_ack()
        self._transmit_queued()

    def _acknowledge(self, su: SignalUnit) -> bool:
        """Process BSN/BIB and FIB (Q.703 5.3): positive and negative acknowledgements,
        abnormal BSN or FIB (two of three consecutive units: link failure). Returns
        False when the link failed."""
        base = (self._tx_fsn - len(self._rtb)) % 128   # the last FSN acknowledged
        k = (su.bsn - base) % 128
        bad_bsn = k > len(self._rtb)
        bad_fib = False
        if su.fib == self._bib:
            self._nack_pending = False     # the retransmission we asked for has begun
        elif isinstance(su, Msu) and not self._nack_pending:
            bad_fib = True
        self._abnormal = [*self._abnormal[-2:], bad_bsn or bad_fib]
        if sum(self._abnormal) >= 2:
            self._input(In.ABNORMAL)
            return False
        if bad_bsn:
            return True
        if k:
            del self._rtb[:k]
            if self._rtb:
                self._arm(In.T7, self.timers.t7)
            else:
                self._deadlines.pop(In.T7, None)
        if su.bib != self._fib:
            self._retransmit()
        return True

    def _accept(self, su: Msu) -> None:
        """Receive an MSU in sequence (Q.703 5.2.2)."""
        if su.fib != self._bib:
            return  # waiting for the retransmission we asked for
        if su.fsn == self._rx_fsn:
            return  # a duplicate
        if su.fsn != (self._rx_fsn + 1) % 128:
            if not self._nack_pending:
                self._negative_ack()
            return
        self._nack_pending = False
        self._rx_fsn = su.fsn
        self.msus_in += 1
        self._out.append(MsuReceived(su.payload))

    def _negative_ack(self) -> None:
        self._bib ^= 1
        self._nack_pending = True

    def _retransmit(self) -> None:
        """Negative acknowledgement received: send again every unacknowledged MSU, with
        the FIB inverted to match (Q.703 5.3.2)."""
        self._fib ^= 1
        for sent in self._rtb:
            self.retransmissions += 1
            self._write(Msu(self._rx_fsn, self._bib, sent.fsn, self._fib, sent.payload))

    def _transmit_queued(self) -> None:
        if self.state is not L.IN_SERVICE:
            return
        while self._queue and len(self._rtb) < 127 and not self._remote_busy:
            payload = self._queue.pop(0)
            self._tx_fsn = (self._tx_fsn + 1) % 128
            self._rtb.append(_Sent(self._tx_fsn, payload))
            self._write(Msu(self._rx_fsn, self._bib, self._tx_fsn, self._fib, payload))
            if In.T7 not in self._deadlines:
                self._arm(In.T7, self.timers.t7)
        self._fisu()

    def _su_error(self) -> None:
        """A unit in error: the AERM while proving, the SUERM in service (Q.703 10)."""
        if self.state is L.PROVING:
            self._proving_errors += 1
            limit = AERM_EMERGENCY if (self.emergency or self._far_emergency) else AERM_NORMAL
            if self._proving_errors >= limit:
                self._input(In.AERM)
        elif self.state is L.IN_SERVICE:
            self._leak()
            self._suerm += 1
            if self._suerm >= SUERM_THRESHOLD:
                self._input(In.SUERM)

    def _leak(self) -> None:
        idle = int((self.now - self._suerm_since) * IDLE_SU_RATE)
        units = self._suerm_frames + idle
        if units >= SUERM_LEAK:
            self._suerm = max(0, self._suerm - units // SUERM_LEAK)
            self._suerm_frames = units % SUERM_LEAK
            self._suerm_since = self.now

    def _take(self) -> list[Mtp2Output]:
        out, self._out = self._out, []
        return out
