"""MFC/R2 line signalling on the ABCD bits (ITU-T Q.421 digital line signalling), sans-IO.

One :class:`Line` per circuit (a CAS timeslot), used by both ends of a both-way circuit:
it becomes the outgoing end when we seize and the incoming end when the far end does.
It takes the received ABCD bits (the backend's ``BITS_CHANGED`` value), the requests of
the call leg holding it (seize, acknowledge, answer, clear, block) and ``now``; it
returns the bits to send (:class:`~trunkline.drivers.signalling.actions.SetBits`), the
decoded signals as observations (:class:`~.events.R2LineSignal`) and what happened
(:class:`LineNote`).

Q.421 is a code of *states*: the bits say where the call is for as long as they stay.
So the line reads them as levels: a received code is decoded by the state it arrives
in (``11`` is the seizure acknowledgement while we wait for it, a clear-back once
answered), and whenever the line changes state it reads the code it is receiving again
in the new state (a far end already idle when we clear forward has given its release
guard). Every transition is one row of :data:`TRANSITIONS`, with the clause beside it;
the variant (:mod:`.variants`) gives the codes and the timer values.

The line outlives its calls: a leg borrows it (:attr:`Line.held_by`) and gives it back
when it has hung up; the span (:class:`~.span.R2Span`) drives it the rest of the time
(the far end's seizure, blocking, a release guard that came late).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Final

from trunkline.drivers.signalling.actions import SetBits
from trunkline.drivers.signalling.r2.events import R2LineSignal
from trunkline.drivers.signalling.r2.variants import ALL_LINE_SIGNALS, R2Variant, variant

__all__ = ["KEEP", "TRANSITIONS", "Input", "Line", "LineEvent", "LineNote", "LineOutput",
           "LineState", "Row", "check_line_code"]


class LineState(StrEnum):
    """Where a circuit is (Q.421 Table 1 states, per end)."""

    IDLE = "idle"
    LOCAL_BLOCKED = "blocked_by_us"
    REMOTE_BLOCKED = "blocked_by_far_end"
    # -- we are the outgoing end --------------------------------------------------------
    OUT_SEIZED = "seized"                        # seizing sent, awaiting acknowledgement
    OUT_SEIZED_CLEARING = "seized_clear_pending"  # cleared before the acknowledgement
    OUT_DOUBLE_SEIZURE = "double_seizure"
    OUT_ACKNOWLEDGED = "seizure_acknowledged"    # register signalling, then ringing
    OUT_ANSWERED = "answered"
    OUT_METERING = "clear_back_or_metering"
    OUT_CLEARED_BACK = "cleared_back"
    OUT_CLEARING = "clear_forward_sent"          # awaiting the release guard
    # -- we are the incoming end --------------------------------------------------------
    IN_SEIZED = "seized_by_far_end"
    IN_ACKNOWLEDGED = "acknowledged"
    IN_ANSWERED = "answer_sent"
    IN_CLEARING_BACK = "clear_back_sent"         # awaiting the clear-forward


class Input(StrEnum):
    """What a line reacts to: requests of its leg, line signals received, timers."""

    SEIZE = "seize"
    ACKNOWLEDGE = "acknowledge"
    ANSWER = "answer"
    CLEAR = "clear"
    BLOCK = "block"
    UNBLOCK = "unblock"
    # received signals: the values are the line signal names of LineCode
    RX_IDLE = "idle"
    RX_SEIZING = "seizing"
    RX_CLEAR_FORWARD = "clear_forward"
    RX_SEIZURE_ACKNOWLEDGED = "seizure_acknowledged"
    RX_ANSWERED = "answered"
    RX_CLEAR_BACK = "clear_back"
    RX_RELEASE_GUARD = "release_guard"
    RX_BLOCKED = "blocked"
    RX_FORCED_RELEASE = "forced_release"
    # timers: the values are Timers fields
    T_SEIZE_ACK = "seize_ack"
    T_DOUBLE_SEIZURE = "double_seizure"
    T_RELEASE = "release_guard_timer"
    T_METERING = "metering_pulse"


_RECEIVED: Final = tuple(i for i in Input if i.value in ALL_LINE_SIGNALS)
#: Timer name (a Timers field) -> the input its expiry gives.
_TIMER_INPUT: Final = {"seize_ack": Input.T_SEIZE_ACK, "double_seizure": Input.T_DOUBLE_SEIZURE,
                       "release_guard": Input.T_RELEASE, "metering_pulse": Input.T_METERING}


class LineEvent(StrEnum):
    """What a line tells its leg (or span)."""

    SEIZED = "the far end seized the circuit"
    ACKNOWLEDGED = "seizure acknowledged"
    ANSWERED = "answered"
    METERING = "metering pulse"
    CLEAR_BACK = "clear-back"
    RE_ANSWERED = "re-answered after clear-back"
    FAR_END_IDLE = "the far end went idle during the call"
    CLEAR_FORWARD = "clear-forward received, release guard sent: the circuit is idle"
    RELEASED = "release guard received: the circuit is idle"
    DOUBLE_SEIZURE = "double seizure"
    SEIZE_ACK_TIMEOUT = "no seizure acknowledgement"
    RELEASE_TIMEOUT = "the far end did not release in time"
    BLOCKED = "blocked by the far end"
    UNBLOCKED = "unblocked by the far end"


#: Row timer value: leave the running timer as it is.
KEEP: Final = "keep"


@dataclass(frozen=True, slots=True)
class Row:
    """One transition: the next state, the line signal to send (None: nothing), the
    event to tell, the timer to start (a Timers field, :data:`KEEP`, or None: none), and
    the clause of the standard it follows."""

    next: LineState
    send: str | None
    event: LineEvent | None
    timer: str | None
    why: str


S, I, E = LineState, Input, LineEvent  # noqa: E741 - the table reads better short


def _row(next_state: LineState, why: str, *, send: str | None = None,
         event: LineEvent | None = None, timer: str | None = None) -> Row:
    return Row(next_state, send, event, timer, why)


#: (state, input) -> row. Anything else leaves the line as it is (a received code that
#: means nothing in a state is noted as ``unexpected``).
TRANSITIONS: Final[dict[tuple[LineState, Input], Row]] = {
    # -- idle and blocking (Q.421 Table 1; blocking: Q.421, Q.422) ----------------------
    (S.IDLE, I.SEIZE): _row(S.OUT_SEIZED, "Q.421 seizing (af=0 bf=0); Q.422 3.2.3.2: held "
                            "until the seizure is acknowledged", send="seizing",
                            timer="seize_ack"),
    (S.IDLE, I.RX_SEIZING): _row(S.IN_SEIZED, "Q.421 seizing received: an incoming call",
                                 event=E.SEIZED),
    (S.IDLE, I.RX_BLOCKED): _row(S.REMOTE_BLOCKED, "Q.421 blocked (ab=1 bb=1, forward idle)",
                                 event=E.BLOCKED),
    (S.IDLE, I.BLOCK): _row(S.LOCAL_BLOCKED, "Q.421 blocking: send ab=1 bb=1", send="blocked"),
    (S.REMOTE_BLOCKED, I.RX_IDLE): _row(S.IDLE, "Q.421 unblocking: the far end is idle",
                                        event=E.UNBLOCKED),
    (S.LOCAL_BLOCKED, I.UNBLOCK): _row(S.IDLE, "Q.421 unblocking: send idle", send="idle"),
    # -- the outgoing end: seizure (Q.421, Q.422 3.2.3, 3.2.7) --------------------------
    (S.OUT_SEIZED, I.RX_SEIZURE_ACKNOWLEDGED): _row(
        S.OUT_ACKNOWLEDGED, "Q.421 seizure acknowledged: register signalling may begin",
        event=E.ACKNOWLEDGED),
    (S.OUT_SEIZED, I.RX_SEIZING): _row(
        S.OUT_DOUBLE_SEIZURE, "Q.422 3.2.7 double seizure: hold seizing, then release",
        event=E.DOUBLE_SEIZURE, timer="double_seizure"),
    (S.OUT_SEIZED, I.T_SEIZE_ACK): _row(
        S.OUT_CLEARING, "no seizure acknowledgement (openr2 r2_seize): clear forward",
        send="clear_forward", event=E.SEIZE_ACK_TIMEOUT, timer="release_guard"),
    (S.OUT_SEIZED, I.CLEAR): _row(
        S.OUT_SEIZED_CLEARING, "Q.422 3.2.3.2: seizing is held until acknowledged",
        timer=KEEP),
    (S.OUT_SEIZED_CLEARING, I.RX_SEIZURE_ACKNOWLEDGED): _row(
        S.OUT_CLEARING, "Q.422 3.2.3.2: acknowledged, now clear forward",
        send="clear_forward", timer="release_guard"),
    (S.OUT_SEIZED_CLEARING, I.RX_SEIZING): _row(
        S.OUT_DOUBLE_SEIZURE, "Q.422 3.2.7 double seizure", event=E.DOUBLE_SEIZURE,
        timer="double_seizure"),
    (S.OUT_SEIZED_CLEARING, I.T_SEIZE_ACK): _row(
        S.OUT_CLEARING, "no seizure acknowledgement (openr2 r2_seize): clear forward",
        send="clear_forward", event=E.SEIZE_ACK_TIMEOUT, timer="release_guard"),
    (S.OUT_DOUBLE_SEIZURE, I.T_DOUBLE_SEIZURE): _row(
        S.OUT_CLEARING, "Q.422 3.2.7.1: seizing held 100 ms, then clear-forward",
        send="clear_forward", timer="release_guard"),
    # -- the outgoing end: the call (Q.421) ---------------------------------------------
    (S.OUT_ACKNOWLEDGED, I.RX_ANSWERED): _row(S.OUT_ANSWERED, "Q.421 answered (ab=0 bb=1)",
                                              event=E.ANSWERED),
    (S.OUT_ACKNOWLEDGED, I.RX_FORCED_RELEASE): _row(
        S.OUT_CLEARED_BACK, "forced release (openr2: Brazil)", event=E.CLEAR_BACK),
    (S.OUT_ACKNOWLEDGED, I.RX_IDLE): _row(
        S.OUT_CLEARED_BACK, "the incoming end went idle: the call is gone",
        event=E.FAR_END_IDLE),
    (S.OUT_ACKNOWLEDGED, I.CLEAR): _row(S.OUT_CLEARING, "Q.421 clear-forward (af=1 bf=0)",
                                        send="clear_forward", timer="release_guard"),
    (S.OUT_ANSWERED, I.RX_CLEAR_BACK): _row(
        S.OUT_METERING, "Q.421 clear-back, or a metering pulse where the variant meters "
        "(openr2 r2_metering_pulse)", timer="metering_pulse"),
    (S.OUT_ANSWERED, I.RX_FORCED_RELEASE): _row(
        S.OUT_CLEARED_BACK, "forced release (openr2: Brazil)", event=E.CLEAR_BACK),
    (S.OUT_ANSWERED, I.RX_IDLE): _row(
        S.OUT_CLEARED_BACK, "the incoming end went idle: the call is gone",
        event=E.FAR_END_IDLE),
    (S.OUT_ANSWERED, I.CLEAR): _row(S.OUT_CLEARING, "Q.421 clear-forward",
                                    send="clear_forward", timer="release_guard"),
    (S.OUT_METERING, I.RX_ANSWERED): _row(
        S.OUT_ANSWERED, "answered again within the pulse: a metering pulse",
        event=E.METERING),
    (S.OUT_METERING, I.T_METERING): _row(S.OUT_CLEARED_BACK, "Q.421 clear-back",
                                         event=E.CLEAR_BACK),
    (S.OUT_METERING, I.RX_FORCED_RELEASE): _row(
        S.OUT_CLEARED_BACK, "forced release (openr2: Brazil)", event=E.CLEAR_BACK),
    (S.OUT_METERING, I.RX_IDLE): _row(
        S.OUT_CLEARED_BACK, "the incoming end went idle: the call is gone",
        event=E.FAR_END_IDLE),
    (S.OUT_METERING, I.CLEAR): _row(S.OUT_CLEARING, "Q.421 clear-forward",
                                    send="clear_forward", timer="release_guard"),
    (S.OUT_CLEARED_BACK, I.RX_ANSWERED): _row(S.OUT_ANSWERED, "Q.421 re-answer",
                                              event=E.RE_ANSWERED),
    (S.OUT_CLEARED_BACK, I.CLEAR): _row(S.OUT_CLEARING, "Q.421 clear-forward",
                                        send="clear_forward", timer="release_guard"),
    (S.OUT_CLEARING, I.RX_RELEASE_GUARD): _row(
        S.IDLE, "Q.421 release guard (ab=1 bb=0): the circuit is free", event=E.RELEASED),
    (S.OUT_CLEARING, I.T_RELEASE): _row(
        S.OUT_CLEARING, "no release guard (openr2 r2_set_call_down): the call is let go "
        "of; the circuit stays out of use until the far end is idle",
        event=E.RELEASE_TIMEOUT),
    # -- the incoming end (Q.421) -------------------------------------------------------
    (S.IN_SEIZED, I.ACKNOWLEDGE): _row(
        S.IN_ACKNOWLEDGED, "Q.421 seizure acknowledged (ab=1 bb=1), sent at once",
        send="seizure_acknowledged"),
    (S.IN_SEIZED, I.RX_CLEAR_FORWARD): _row(S.IDLE, "Q.421 clear-forward before we answered "
                                            "the seizure", event=E.CLEAR_FORWARD),
    (S.IN_ACKNOWLEDGED, I.ANSWER): _row(S.IN_ANSWERED, "Q.421 answered (ab=0 bb=1)",
                                        send="answered"),
    (S.IN_ACKNOWLEDGED, I.CLEAR): _row(
        S.IN_CLEARING_BACK, "Q.421 clear-back (the same code as the acknowledgement before "
        "the answer: the register carries the refusal)", send="clear_back",
        timer="release_guard"),
    (S.IN_ACKNOWLEDGED, I.RX_CLEAR_FORWARD): _row(
        S.IDLE, "Q.421 clear-forward: release guard sent", send="release_guard",
        event=E.CLEAR_FORWARD),
    (S.IN_ANSWERED, I.CLEAR): _row(S.IN_CLEARING_BACK, "Q.421 clear-back (ab=1 bb=1)",
                                   send="clear_back", timer="release_guard"),
    (S.IN_ANSWERED, I.RX_CLEAR_FORWARD): _row(
        S.IDLE, "Q.421 clear-forward: release guard sent", send="release_guard",
        event=E.CLEAR_FORWARD),
    (S.IN_CLEARING_BACK, I.RX_CLEAR_FORWARD): _row(
        S.IDLE, "Q.421 clear-forward: release guard sent", send="release_guard",
        event=E.CLEAR_FORWARD),
    (S.IN_CLEARING_BACK, I.T_RELEASE): _row(
        S.IN_CLEARING_BACK, "no clear-forward in time: the call is let go of; the circuit "
        "stays out of use until the far end clears", event=E.RELEASE_TIMEOUT),
}


@dataclass(frozen=True, slots=True)
class LineNote:
    """Something that happened on the line (for its leg or span)."""

    event: LineEvent


LineOutput = SetBits | R2LineSignal | LineNote


def check_line_code(v: R2Variant) -> None:
    """Raise ValueError if two signals a state may receive share a code in ``v`` (the
    line could not tell them apart)."""
    for state in LineState:
        seen: dict[int, Input] = {}
        for inp in _RECEIVED:
            if (state, inp) not in TRANSITIONS:
                continue
            code = v.line.code(inp.value)
            if code is None:
                continue
            if code in seen:
                raise ValueError(f"R2 variant {v.name!r}: in state {state.value} the line "
                                 f"cannot tell {seen[code].value} from {inp.value} "
                                 f"(both {code:02b})")
            seen[code] = inp


class Line:
    """The line signalling of one circuit (see the module docstring).

    ``rx`` starts as the idle code: a span that knows the far end's bits feeds them
    (:meth:`receive`) before any call.
    """

    def __init__(self, r2: R2Variant | str, channel: int | None = None) -> None:
        self.variant = variant(r2)
        check_line_code(self.variant)
        self.channel = channel
        self.state = LineState.IDLE
        self.rx = self.variant.line.idle
        self.tx = "idle"
        #: The call id of the leg driving this line (None: the span drives it).
        self.held_by: int | None = None
        self.deadline: float | None = None
        self._timer: Input | None = None
        self._out: list[LineOutput] = []

    # -- inputs -------------------------------------------------------------------------
    def request(self, now: float, what: Input) -> list[LineOutput]:
        """A request of the leg (seize, acknowledge, answer, clear, block, unblock);
        one with no row in the line's state does nothing (see :meth:`can`)."""
        if what not in (I.SEIZE, I.ACKNOWLEDGE, I.ANSWER, I.CLEAR, I.BLOCK, I.UNBLOCK):
            raise ValueError(f"{what.value!r} is not a request a leg can make of a line")
        self._fire(now, what)
        return self._take()

    def can(self, what: Input) -> bool:
        return (self.state, what) in TRANSITIONS

    def receive(self, now: float, bits: int) -> list[LineOutput]:
        """The ABCD bits received changed to ``bits``."""
        ab = (bits >> 2) & 0b11
        if ab != self.rx:
            self.rx = ab
            self._read(now, observe=True, bits=bits)
        return self._take()

    def on_time(self, now: float) -> list[LineOutput]:
        if self.deadline is not None and now >= self.deadline and self._timer is not None:
            timer, self._timer, self.deadline = self._timer, None, None
            self._fire(now, timer)
        return self._take()

    def next_deadline(self) -> float | None:
        return self.deadline

    # -- what it is -------------------------------------------------------------------------
    @property
    def tx_bits(self) -> int:
        """The ABCD bits the line sends now."""
        return self.variant.line.bits(self.tx)

    @property
    def rx_signal(self) -> str | None:
        """The received code read in the current state (None: it means nothing here)."""
        decoded = self._decode()
        return None if decoded is None else decoded.value

    @property
    def free(self) -> bool:
        """Idle both ways and held by no call: a call may be placed on it."""
        code = self.variant.line
        return (self.state is LineState.IDLE and self.held_by is None
                and self.rx == code.idle and code.code(self.tx) == code.idle)

    # -- the table ----------------------------------------------------------------------
    def _decode(self) -> Input | None:
        for inp in _RECEIVED:
            if (self.state, inp) in TRANSITIONS and self.variant.line.code(inp.value) == self.rx:
                return inp
        return None

    def _read(self, now: float, *, observe: bool, bits: int | None = None) -> None:
        """Read the received code in the current state."""
        decoded = self._decode()
        if observe:
            raw = bits if bits is not None else self.rx << 2 | self.variant.line.cd
            self._out.append(R2LineSignal(now, decoded.value if decoded else "unexpected",
                                          raw, sent=False))
        if decoded is not None:
            self._fire(now, decoded)

    def _fire(self, now: float, what: Input) -> None:
        row = TRANSITIONS.get((self.state, what))
        if row is None:
            return
        before = self.state
        self.state = row.next
        if row.send is not None:
            self.tx = row.send
            self._out.append(SetBits(self.tx_bits))
            self._out.append(R2LineSignal(now, row.send, self.tx_bits, sent=True))
        if row.event is not None:
            self._out.append(LineNote(row.event))
        if row.timer != KEEP:
            self.deadline = self._timer = None
        if row.timer not in (None, KEEP):
            value = getattr(self.variant.timers, row.timer)
            self._timer = _TIMER_INPUT[row.timer]
            if value <= 0:  # a timer that is off expires at once
                self._timer = None
                self._fire(now, _TIMER_INPUT[row.timer])
                return
            self.deadline = now + value
        if self.state is not before:
            # Q.421 codes are levels: the code received means something new here.
            self._read(now, observe=False)

    def _take(self) -> list[LineOutput]:
        out, self._out = self._out, []
        return out

    def __repr__(self) -> str:
        return (f"<Line {self.variant.name} channel {self.channel} {self.state.value} "
                f"tx {self.tx} rx {self.rx:02b}>")
