"""The ISDN user part's circuits and calls (ITU-T Q.764, 12/1999), sans-IO.

:class:`Isup` keeps one record per circuit: its call state (one table below, a row per
transition with its Q.764 clause), its blocking state (local and remote, Q.764 2.8.2)
and the maintenance procedures running on it (reset, blocking, unblocking: each repeats
its message at its short timer and alerts maintenance at its long one, Q.764 2.9.3,
2.9.4, 2.9.6 and Annex A). Inputs are ISUP messages received, requests and ``now``;
outputs are messages to send (:class:`Out`) and the events of :mod:`.events`.

Call states (the circuit's, for the call on it)::

    IDLE          no call
    OUT_IAM       IAM sent, waiting for a backward message (T7)
    OUT_ALERTING  ACM received (T9)
    IN_IAM        IAM received, nothing sent back yet
    IN_ACM        ACM sent
    ANSWERED      ANM/CON sent or received: conversation
    RELEASING     REL sent, waiting for RLC (T1, T5)
    RESETTING     RSC or GRS sent, waiting for RLC or GRA (T16/T17, T22/T23)

Dual seizure (Q.764 2.9.1.4): the point with the higher point code controls the even
CICs, the other the odd ones; an IAM received on a circuit where ours is waiting for a
backward message is ignored on a circuit we control, and on one we do not our call is
re-attempted on another circuit (Q.764 2.9.1.4 b, automatic repeat attempt) and the
incoming call proceeds. To make it rare, we hunt the circuits we control first, and the
others from the far end (Q.764 2.9.1.3, method 2).

When the linkset fails (MTP-PAUSE), every call is cleared with cause 38 (network out of
order) and its circuit marked for reset; when it comes back (MTP-RESUME) and at start,
the circuits are reset by GRS (RSC for a lone one) and used again once acknowledged.

Not done: continuity checks (COT), overlap sending (SAM), suspend timers T2/T6 (SUS and
RES are reported), unequipped CIC messages (UCIC: messages for unknown CICs are traced
and dropped), circuit group query.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import Enum
from typing import Final

from . import events as ev
from .config import IsupTimers, Ss7Config
from .errors import Ss7CallStateError, Ss7LinkDown, Ss7NoCircuit
from .messages import (
    Acm,
    Anm,
    Bla,
    Blo,
    Cause,
    Cgb,
    Cgba,
    Cgu,
    Cgua,
    Con,
    Cpg,
    Gra,
    Grs,
    Iam,
    IsupMessage,
    PartyNumber,
    Rel,
    Res,
    Rlc,
    Rsc,
    Sus,
    Uba,
    Ubl,
)

__all__ = ["CALL_TRANSITIONS", "CAUSE_LINK_FAILED", "CircuitCall", "Isup", "Out", "State"]

#: The cause of calls cleared because the linkset failed (Q.850: network out of order).
CAUSE_LINK_FAILED: Final = 38
#: Cause of calls cleared by a reset or hardware blocking from the far end.
CAUSE_RESET: Final = 41
#: Cause of our REL when T7 expires (Q.850: recovery on timer expiry).
CAUSE_T7: Final = 102
#: Cause of our REL when T9 expires (Q.850: no answer from user, user alerted).
CAUSE_T9: Final = 19


class State(Enum):
    IDLE = "idle"
    OUT_IAM = "out_iam"
    OUT_ALERTING = "out_alerting"
    IN_IAM = "in_iam"
    IN_ACM = "in_acm"
    ANSWERED = "answered"
    RELEASING = "releasing"
    RESETTING = "resetting"


S = State
_CALL = (S.OUT_IAM, S.OUT_ALERTING, S.IN_IAM, S.IN_ACM, S.ANSWERED)

#: (state, what happened) -> (next state, Q.764 clause). "what" is a message name
#: received (``IAM``), a request (``send_IAM``...) or a timer (``T7``). Handlers carry
#: out the row; what has no row is unreasonable in that state (Q.764 2.9.5) and handled by
#: :meth:`Isup._unreasonable`.
CALL_TRANSITIONS: Final[dict[tuple[State, str], tuple[State, str]]] = {
    (S.IDLE, "send_IAM"): (S.OUT_IAM, "2.1.1.1 IAM sent, T7 started"),
    (S.IDLE, "IAM"): (S.IN_IAM, "2.1.1.2 IAM received"),
    (S.OUT_IAM, "IAM"): (S.OUT_IAM, "2.9.1.4 dual seizure"),
    (S.OUT_IAM, "ACM"): (S.OUT_ALERTING, "2.1.4.2 ACM received: T7 stopped, T9 started"),
    (S.OUT_IAM, "CPG"): (S.OUT_IAM, "2.1.5 call progress"),
    (S.OUT_IAM, "CON"): (S.ANSWERED, "2.1.4.3 CON received: T7 stopped"),
    (S.OUT_IAM, "ANM"): (S.ANSWERED, "2.1.7 ANM received (no ACM): T7 stopped"),
    (S.OUT_ALERTING, "CPG"): (S.OUT_ALERTING, "2.1.5 call progress"),
    (S.OUT_ALERTING, "ACM"): (S.OUT_ALERTING, "2.9.5 repeated ACM: discarded"),
    (S.OUT_ALERTING, "ANM"): (S.ANSWERED, "2.1.7.2 ANM received: T9 stopped"),
    (S.OUT_ALERTING, "CON"): (S.ANSWERED, "2.1.4.3 CON received"),
    (S.IN_IAM, "send_ACM"): (S.IN_ACM, "2.1.4.1 ACM sent"),
    (S.IN_IAM, "send_CPG"): (S.IN_IAM, "2.1.5 call progress sent"),
    (S.IN_IAM, "send_ANM"): (S.ANSWERED, "2.1.4.3 answer before ACM: CON sent"),
    (S.IN_ACM, "send_CPG"): (S.IN_ACM, "2.1.5 call progress sent"),
    (S.IN_ACM, "send_ANM"): (S.ANSWERED, "2.1.7.1 ANM sent"),
    (S.ANSWERED, "ANM"): (S.ANSWERED, "2.9.5 repeated answer: discarded"),
    (S.ANSWERED, "SUS"): (S.ANSWERED, "2.4.1 suspend received"),
    (S.ANSWERED, "RES"): (S.ANSWERED, "2.4.2 resume received"),
    (S.OUT_IAM, "T7"): (S.RELEASING, "Annex A T7 expiry: REL (cause 102)"),
    (S.OUT_ALERTING, "T9"): (S.RELEASING, "Annex A T9 expiry: REL (cause 19)"),
    (S.RELEASING, "RLC"): (S.IDLE, "2.3.1 RLC received: T1, T5 stopped"),
    (S.RELEASING, "REL"): (S.IDLE, "2.3.1/2.9.5 release collision: RLC sent"),
    (S.RELEASING, "T1"): (S.RELEASING, "2.9.6 T1: REL repeated"),
    (S.RELEASING, "T5"): (S.RESETTING, "2.9.6 T5: RSC sent, maintenance alerted"),
    (S.RESETTING, "RLC"): (S.IDLE, "2.9.3.1 RLC for our RSC"),
    (S.RESETTING, "REL"): (S.RESETTING, "2.9.3.1 REL while resetting: RLC sent"),
    (S.IDLE, "REL"): (S.IDLE, "2.9.5 REL on an idle circuit: RLC sent"),
    (S.IDLE, "RLC"): (S.IDLE, "2.9.5 RLC on an idle circuit: discarded"),
}
for _state in _CALL:
    CALL_TRANSITIONS[(_state, "REL")] = (S.IDLE, "2.3.2 REL received: RLC sent")
    CALL_TRANSITIONS[(_state, "send_REL")] = (S.RELEASING, "2.3.1 REL sent: T1, T5 started")
for _state in State:
    CALL_TRANSITIONS[(_state, "RSC")] = (S.IDLE, "2.9.3.1 RSC received: RLC sent")
    CALL_TRANSITIONS[(_state, "GRS")] = (S.IDLE, "2.9.3.2 GRS received: GRA sent")


@dataclass(frozen=True, slots=True)
class Out:
    """Send ``message`` to the adjacent point."""

    message: IsupMessage


@dataclass
class CircuitCall:
    """A call as the point knows it."""

    id: int
    cic: int
    outgoing: bool
    called: str
    calling: str
    answered: bool = False
    cause: int = 16
    released: bool = False
    retried: bool = False


@dataclass
class _Repeat:
    """A maintenance procedure: its message repeats every ``short`` until the first
    ``long`` expiry, then every ``long`` with a maintenance alert (Q.764 2.9.3, 2.9.4,
    Annex A: T12/T13, T14/T15, T16/T17, T18/T19, T20/T21, T22/T23, T1/T5)."""

    message: IsupMessage
    names: tuple[str, str]
    periods: tuple[float, float]
    short_at: float | None
    long_at: float


@dataclass
class _Circuit:
    cic: int
    state: State = State.IDLE
    call: CircuitCall | None = None
    local_block: bool = False     # acknowledged by BLA
    want_block: bool = False      # what maintenance asked for
    remote_block: bool = False
    needs_reset: bool = True      # state unknown: not used until reset (start, link loss)
    call_timer: tuple[str, float] | None = None  # T7 or T9
    procedures: dict[str, _Repeat] = field(default_factory=dict)  # by kind: rel, rsc...
    group: tuple[str, int] | None = None  # (kind, first CIC) of a group procedure


class Isup:
    """The ISUP of one signalling point towards one adjacent point (module docstring)."""

    def __init__(self, config: Ss7Config) -> None:
        self.config = config
        self.timers: IsupTimers = config.isup_timers
        self.circuits = {cic: _Circuit(cic) for cic in config.circuit_map.circuits}
        self.calls: dict[int, CircuitCall] = {}
        self._groups: dict[tuple[str, int], tuple[_Repeat, list[int]]] = {}
        self._next_call = 1
        self.up = False
        self.now = 0.0
        self._out: list[Out | ev.PointEvent] = []
        #: Messages dropped: unknown CIC, unreasonable in their state.
        self.discarded = 0

    # -- who controls what --------------------------------------------------------------------
    def controls(self, cic: int) -> bool:
        """Whether we win a dual seizure on ``cic`` (Q.764 2.9.1.4: the higher point code
        controls the even CICs)."""
        higher = self.config.point_code > self.config.adjacent
        return (cic % 2 == 0) == higher

    def available(self, cic: int) -> bool:
        c = self.circuits.get(cic)
        return (c is not None and self.up and c.state is S.IDLE and not c.needs_reset
                and not c.remote_block and not c.want_block and not c.local_block
                and not c.procedures and c.group is None)

    def free_circuits(self) -> list[int]:
        """Circuits a new call may take, in hunting order (Q.764 2.9.1.3 method 2)."""
        ours = [c for c in self.circuits if self.controls(c) and self.available(c)]
        theirs = [c for c in reversed(self.circuits) if not self.controls(c)
                  and self.available(c)]
        return ours + theirs

    # -- linkset ------------------------------------------------------------------------------
    def linkset(self, now: float, up: bool) -> list[Out | ev.PointEvent]:
        """MTP-RESUME (``up``) or MTP-PAUSE (Q.764 2.13 availability of the ISUP)."""
        self.now = now
        if up and not self.up:
            self.up = True
            if self.config.reset_on_start:
                self._group_reset(list(self.circuits))
            else:
                for circuit in self.circuits.values():
                    circuit.needs_reset = False
        elif not up and self.up:
            self.up = False
            self._groups.clear()
            for circuit in self.circuits.values():
                if circuit.call is not None:
                    self._release_call(circuit, CAUSE_LINK_FAILED, "link")
                circuit.state = S.IDLE
                circuit.call_timer = None
                circuit.procedures.clear()
                circuit.group = None
                circuit.needs_reset = True
                circuit.local_block = False
        return self._take()

    # -- requests -----------------------------------------------------------------------------
    def place(self, now: float, called: str, calling: str | None = None, *,
              cic: int | None = None, category: int | None = None,
              call_id: int | None = None) -> tuple[CircuitCall, list[Out | ev.PointEvent]]:
        """Send an IAM for ``called`` on ``cic`` (None: hunt one). Raises
        :class:`Ss7LinkDown` or :class:`Ss7NoCircuit`, and
        :class:`~.errors.Ss7CodecError` for a number ISUP cannot carry."""
        self.now = now
        if not self.up:
            raise Ss7LinkDown("cannot place a call: the linkset to the adjacent point is down")
        if cic is None:
            free = self.free_circuits()
            if not free:
                raise Ss7NoCircuit(f"no free circuit among {len(self.circuits)}")
            cic = free[0]
        elif not self.available(cic):
            raise Ss7NoCircuit(f"circuit {cic} is not free")
        iam = self._iam(cic, called, calling, category)
        if call_id is None:
            call_id, self._next_call = self._next_call, self._next_call + 1
        call = CircuitCall(call_id, cic, True, called, calling or "")
        self.calls[call.id] = call
        circuit = self.circuits[cic]
        circuit.call = call
        self._advance(circuit, "send_IAM")
        self._send(iam, call)
        circuit.call_timer = ("T7", now + self.timers.t7)
        return call, self._take()

    def alert(self, now: float, call_id: int) -> list[Out | ev.PointEvent]:
        """ACM (subscriber free) for an incoming call."""
        circuit = self._circuit_of(call_id, "alert", (S.IN_IAM,))
        self.now = now
        self._advance(circuit, "send_ACM")
        self._send(Acm(circuit.cic), circuit.call)
        return self._take()

    def progress(self, now: float, call_id: int, event: int = 3) -> list[Out | ev.PointEvent]:
        """CPG (``event``: 1 alerting, 2 progress, 3 in-band information)."""
        circuit = self._circuit_of(call_id, "send progress on", (S.IN_IAM, S.IN_ACM))
        self.now = now
        self._advance(circuit, "send_CPG")
        self._send(Cpg(circuit.cic, event), circuit.call)
        return self._take()

    def answer(self, now: float, call_id: int) -> list[Out | ev.PointEvent]:
        """ANM (after our ACM) or CON (before it) for an incoming call."""
        circuit = self._circuit_of(call_id, "answer", (S.IN_IAM, S.IN_ACM))
        self.now = now
        message = Anm(circuit.cic) if circuit.state is S.IN_ACM else Con(circuit.cic)
        self._advance(circuit, "send_ANM")
        assert circuit.call is not None
        circuit.call.answered = True
        self._send(message, circuit.call)
        self._out.append(ev.CallAnswered(circuit.call.id, circuit.cic, "local"))
        return self._take()

    def release(self, now: float, call_id: int, cause: int = 16) -> list[Out | ev.PointEvent]:
        """REL with ``cause``; the call ends with RLC (or T1)."""
        circuit = self._circuit_of(call_id, "release", _CALL)
        self.now = now
        self._send_rel(circuit, cause)
        return self._take()

    def block(self, now: float, cic: int) -> list[Out | ev.PointEvent]:
        """BLO (Q.764 2.8.2.1): no new outgoing calls from the far end on ``cic``."""
        self.now = now
        circuit = self._maintained(cic)
        circuit.want_block = True
        circuit.procedures.pop("ubl", None)
        self._repeat(circuit, "blo", Blo(cic), ("T12", "T13"))
        return self._take()

    def unblock(self, now: float, cic: int) -> list[Out | ev.PointEvent]:
        """UBL (Q.764 2.8.2.1)."""
        self.now = now
        circuit = self._maintained(cic)
        circuit.want_block = False
        circuit.procedures.pop("blo", None)
        self._repeat(circuit, "ubl", Ubl(cic), ("T14", "T15"))
        return self._take()

    def reset(self, now: float, cic: int) -> list[Out | ev.PointEvent]:
        """RSC (Q.764 2.9.3.1): the call on the circuit, if any, is cleared."""
        self.now = now
        circuit = self._maintained(cic)
        self._reset_circuit(circuit)
        return self._take()

    def group_block(self, now: float, cics: Iterable[int], *, hardware: bool = False
                    ) -> list[Out | ev.PointEvent]:
        """CGB for ``cics`` (consecutive runs of at most 32; Q.764 2.8.2.2)."""
        return self._group_request(now, cics, "cgb", hardware)

    def group_unblock(self, now: float, cics: Iterable[int], *, hardware: bool = False
                      ) -> list[Out | ev.PointEvent]:
        """CGU for ``cics``."""
        return self._group_request(now, cics, "cgu", hardware)

    def group_reset(self, now: float, cics: Iterable[int]) -> list[Out | ev.PointEvent]:
        """GRS for runs of consecutive ``cics`` (RSC for a lone circuit; Q.764 2.9.3.2)."""
        self.now = now
        self._group_reset(cics)
        return self._take()

    def _group_reset(self, cics: Iterable[int]) -> None:
        for run in self._runs(cics):
            if len(run) == 1:
                self._reset_circuit(self.circuits[run[0]])
                continue
            for cic in run:
                circuit = self.circuits[cic]
                if circuit.call is not None:
                    self._release_call(circuit, CAUSE_RESET, "reset")
                circuit.state, circuit.call_timer = S.RESETTING, None
                circuit.procedures.clear()
                circuit.group = ("grs", run[0])
            message = Grs(run[0], (len(run) - 1, None))
            self._start_group("grs", run, message, ("T22", "T23"))

    # -- messages received --------------------------------------------------------------------
    def receive(self, now: float, message: IsupMessage) -> list[Out | ev.PointEvent]:
        self.now = now
        circuit = self.circuits.get(message.cic)
        call_id = circuit.call.id if circuit is not None and circuit.call else None
        self._out.append(ev.IsupTraced("in", message, call_id))
        if circuit is None or not self.up:
            self.discarded += 1
            return self._take()
        handler = getattr(self, f"_on_{message.NAME.lower()}", None)
        if handler is None:
            self.discarded += 1
        else:
            handler(circuit, message)
        return self._take()

    def _on_iam(self, c: _Circuit, m: IsupMessage) -> None:
        assert isinstance(m, Iam)
        if c.local_block or c.want_block:
            # Q.764 2.8.2: we blocked this circuit; the far end must not seize it.
            self.discarded += 1
            self._repeat(c, "blo", Blo(c.cic), ("T12", "T13"))
            return
        if c.state is S.OUT_IAM:
            if self.controls(c.cic):
                self.discarded += 1   # 2.9.1.4 a: ours proceeds, theirs is backed off
                return
            self._retry_elsewhere(c)
        elif c.state is not S.IDLE or c.needs_reset or c.procedures or c.group:
            self._unreasonable(c, m)
            return
        if c.remote_block:
            c.remote_block = False   # 2.8.2.3: an IAM unblocks a remotely blocked circuit
            self._out.append(ev.CircuitState(c.cic, "unblocked"))
        call_id, self._next_call = self._next_call, self._next_call + 1
        calling = m.calling.digits if m.calling else ""
        call = CircuitCall(call_id, c.cic, False, m.called.digits, calling)
        self.calls[call.id] = call
        c.call = call
        c.state = S.IN_IAM
        self._out.append(ev.IncomingCall(
            call.id, c.cic, m.called.digits, calling, m.category, m.called.nai,
            m.calling.nai if m.calling else 0, m.called.complete))

    def _on_acm(self, c: _Circuit, m: IsupMessage) -> None:
        assert isinstance(m, Acm)
        if self._advance(c, "ACM") and c.call and c.state is S.OUT_ALERTING \
                and c.call_timer and c.call_timer[0] == "T7":
            c.call_timer = ("T9", self.now + self.timers.t9)
            self._out.append(ev.AddressComplete(c.call.id, c.cic, m.subscriber_free))

    def _on_cpg(self, c: _Circuit, m: IsupMessage) -> None:
        assert isinstance(m, Cpg)
        if self._advance(c, "CPG") and c.call:
            self._out.append(ev.CallProgressed(c.call.id, c.cic, m.event & 0x7F))

    def _on_anm(self, c: _Circuit, m: IsupMessage) -> None:
        was = c.state
        if self._advance(c, "ANM") and c.call and was is not S.ANSWERED:
            self._answered(c, "anm")

    def _on_con(self, c: _Circuit, m: IsupMessage) -> None:
        if self._advance(c, "CON") and c.call:
            self._answered(c, "con")

    def _on_sus(self, c: _Circuit, m: IsupMessage) -> None:
        assert isinstance(m, Sus)
        if self._advance(c, "SUS") and c.call:
            self._out.append(ev.CallSuspended(c.call.id, c.cic, bool(m.indicator & 1)))

    def _on_res(self, c: _Circuit, m: IsupMessage) -> None:
        assert isinstance(m, Res)
        if self._advance(c, "RES") and c.call:
            self._out.append(ev.CallResumed(c.call.id, c.cic, bool(m.indicator & 1)))

    def _on_rel(self, c: _Circuit, m: IsupMessage) -> None:
        assert isinstance(m, Rel)
        was = c.state
        if not self._advance(c, "REL"):
            return
        c.call_timer = None
        if was is not S.RESETTING:
            c.procedures.pop("rel", None)
        self._send(Rlc(c.cic), c.call)
        if c.call is not None:
            by = "local" if was is S.RELEASING else "remote"
            cause = c.call.cause if was is S.RELEASING else m.cause.value
            self._release_call(c, cause or 16, by)
        if was is not S.RESETTING:
            self._idle(c)

    def _on_rlc(self, c: _Circuit, m: IsupMessage) -> None:
        was = c.state
        if not self._advance(c, "RLC"):
            return
        c.procedures.pop("rel", None)
        c.procedures.pop("rsc", None)
        if c.call is not None:
            self._release_call(c, c.call.cause, "local")
        if was is S.RESETTING:
            c.needs_reset = False
            self._after_reset(c)
        self._idle(c)

    def _on_rsc(self, c: _Circuit, m: IsupMessage) -> None:
        self._advance(c, "RSC")
        self._remote_reset(c)
        self._send(Rlc(c.cic), None)
        self._after_reset(c)

    def _on_grs(self, c: _Circuit, m: IsupMessage) -> None:
        assert isinstance(m, Grs)
        status: list[bool] = []
        for cic in range(m.cic, m.cic + m.range + 1):
            circuit = self.circuits.get(cic)
            if circuit is not None:
                self._advance(circuit, "GRS")
                self._remote_reset(circuit)
            status.append(bool(circuit and (circuit.local_block or circuit.want_block)))
        self._send(Gra(m.cic, (m.range, tuple(status))), None)
        for cic in range(m.cic, m.cic + m.range + 1):
            circuit = self.circuits.get(cic)
            # 2.9.3.2: the GRA's status bits carry our blocking; no BLO is needed.
            if circuit is not None and not circuit.local_block:
                self._after_reset(circuit)

    def _on_gra(self, c: _Circuit, m: IsupMessage) -> None:
        assert isinstance(m, Gra)
        key = ("grs", m.cic)
        if key not in self._groups:
            self.discarded += 1
            return
        _, cics = self._groups.pop(key)
        status = m.range_status[1] or ()
        for index, cic in enumerate(cics):
            circuit = self.circuits[cic]
            circuit.group = None
            circuit.state = S.IDLE
            circuit.needs_reset = False
            if index < len(status) and status[index]:
                circuit.remote_block = True   # 2.9.3.2: blocked for maintenance there
                self._out.append(ev.CircuitState(cic, "remote_blocked"))
            self._after_reset(circuit)

    def _on_blo(self, c: _Circuit, m: IsupMessage) -> None:
        c.remote_block = True
        self._send(Bla(c.cic), None)
        self._out.append(ev.CircuitState(c.cic, "remote_blocked"))

    def _on_ubl(self, c: _Circuit, m: IsupMessage) -> None:
        c.remote_block = False
        self._send(Uba(c.cic), None)
        self._out.append(ev.CircuitState(c.cic, "unblocked"))

    def _on_bla(self, c: _Circuit, m: IsupMessage) -> None:
        if c.procedures.pop("blo", None) is None:
            self.discarded += 1   # 2.9.4: unexpected BLA
            return
        c.local_block = True
        self._out.append(ev.CircuitState(c.cic, "local_blocked"))

    def _on_uba(self, c: _Circuit, m: IsupMessage) -> None:
        if c.procedures.pop("ubl", None) is None:
            self.discarded += 1
            return
        c.local_block = False
        self._out.append(ev.CircuitState(c.cic, "idle"))

    def _on_cgb(self, c: _Circuit, m: IsupMessage) -> None:
        assert isinstance(m, Cgb)
        for cic in m.circuits():
            circuit = self.circuits.get(cic)
            if circuit is None:
                continue
            circuit.remote_block = True
            if m.kind == 1 and circuit.call is not None:   # 2.8.2.3 hardware failure
                self._release_call(circuit, CAUSE_RESET, "reset")
                self._idle(circuit)
            self._out.append(ev.CircuitState(cic, "remote_blocked"))
        self._send(Cgba(m.cic, m.kind, m.range_status), None)

    def _on_cgu(self, c: _Circuit, m: IsupMessage) -> None:
        assert isinstance(m, Cgu)
        for cic in m.circuits():
            circuit = self.circuits.get(cic)
            if circuit is not None:
                circuit.remote_block = False
                self._out.append(ev.CircuitState(cic, "unblocked"))
        self._send(Cgua(m.cic, m.kind, m.range_status), None)

    def _on_cgba(self, c: _Circuit, m: IsupMessage) -> None:
        self._group_ack("cgb", m, True)

    def _on_cgua(self, c: _Circuit, m: IsupMessage) -> None:
        self._group_ack("cgu", m, False)

    # -- timers -------------------------------------------------------------------------------
    def on_time(self, now: float) -> list[Out | ev.PointEvent]:
        self.now = now
        for circuit in self.circuits.values():
            if circuit.call_timer and circuit.call_timer[1] <= now:
                name = circuit.call_timer[0]
                circuit.call_timer = None
                if self._advance(circuit, name):
                    self._send_rel(circuit, CAUSE_T7 if name == "T7" else CAUSE_T9,
                                   advance=False)
            for kind, repeat in list(circuit.procedures.items()):
                if circuit.procedures.get(kind) is repeat:
                    self._run_repeat(repeat, [circuit], kind)
        for key, (repeat, cics) in list(self._groups.items()):
            self._run_repeat(repeat, [self.circuits[c] for c in cics], key[0])
        return self._take()

    def next_deadline(self) -> float | None:
        times: list[float] = []
        for circuit in self.circuits.values():
            if circuit.call_timer:
                times.append(circuit.call_timer[1])
            for repeat in circuit.procedures.values():
                times += [t for t in (repeat.short_at, repeat.long_at) if t is not None]
        for repeat, _ in self._groups.values():
            times += [t for t in (repeat.short_at, repeat.long_at) if t is not None]
        return min(times, default=None)

    def _run_repeat(self, repeat: _Repeat, circuits: list[_Circuit], kind: str) -> None:
        now = self.now
        if repeat.long_at <= now:
            repeat.short_at = None   # the long timer takes over (Annex A)
            repeat.long_at = now + repeat.periods[1]
            if kind == "rel":         # 2.9.6: T5 expired: reset the circuit instead
                circuit = circuits[0]
                self._advance(circuit, "T5")
                circuit.procedures.pop("rel", None)
                self._out.append(ev.MaintenanceAlert(circuit.cic, "T5", "REL"))
                self._reset_circuit(circuit)
                return
            self._out.append(ev.MaintenanceAlert(repeat.message.cic, repeat.names[1],
                                                 repeat.message.NAME))
            self._send(repeat.message, None)
        elif repeat.short_at is not None and repeat.short_at <= now:
            repeat.short_at = now + repeat.periods[0]
            if kind == "rel":
                circuit = circuits[0]
                self._advance(circuit, "T1")
                if circuit.call is not None:   # the application need not wait for T5
                    self._release_call(circuit, circuit.call.cause, "timeout")
            self._send(repeat.message, None)

    # -- helpers ------------------------------------------------------------------------------
    def _advance(self, c: _Circuit, what: str) -> bool:
        row = CALL_TRANSITIONS.get((c.state, what))
        if row is None:
            if not what.startswith(("send_", "T")):
                self._unreasonable(c, None, what)
            return False
        c.state = row[0]
        return True

    def _unreasonable(self, c: _Circuit, m: IsupMessage | None, what: str = "") -> None:
        """Q.764 2.9.5: a call message on an idle circuit resets it; anything else that
        fits no row is discarded."""
        name = m.NAME if m is not None else what
        self.discarded += 1
        if c.state is S.IDLE and name in ("ACM", "CPG", "ANM", "CON", "SUS", "RES") \
                and not c.needs_reset:
            self._reset_circuit(c)

    def _answered(self, c: _Circuit, by: str) -> None:
        assert c.call is not None
        c.call_timer = None
        c.call.answered = True
        self._out.append(ev.CallAnswered(c.call.id, c.cic, by))

    def _send_rel(self, c: _Circuit, cause: int, *, advance: bool = True) -> None:
        if advance:
            self._advance(c, "send_REL")
        c.call_timer = None
        if c.call is not None:
            c.call.cause = cause
        message = Rel(c.cic, Cause(cause, self.config.cause_location))
        self._send(message, c.call)
        c.procedures["rel"] = _Repeat(message, ("T1", "T5"), (self.timers.t1, self.timers.t5),
                                      self.now + self.timers.t1, self.now + self.timers.t5)

    def _release_call(self, c: _Circuit, cause: int, by: str) -> None:
        call = c.call
        c.call = None
        if call is None or call.released:
            return
        call.released = True
        call.cause = cause
        self.calls.pop(call.id, None)
        self._out.append(ev.CallReleased(call.id, c.cic, cause, by, call.answered))

    def _retry_elsewhere(self, c: _Circuit) -> None:
        """Our IAM lost a dual seizure: re-attempt the call on another circuit once
        (Q.764 2.9.1.4 b); with none free, the call fails with cause 34."""
        call = c.call
        assert call is not None
        c.call, c.call_timer, c.state = None, None, S.IDLE
        free = [x for x in self.free_circuits() if x != c.cic]
        if call.retried or not free:
            call.released = True
            self.calls.pop(call.id, None)
            self._out.append(ev.CallReleased(call.id, c.cic, 34, "glare", False))
            return
        call.retried = True
        target = self.circuits[free[0]]
        previous, call.cic = c.cic, target.cic
        target.call = call
        self._advance(target, "send_IAM")
        self._send(self._iam(target.cic, call.called, call.calling or None, None), call)
        target.call_timer = ("T7", self.now + self.timers.t7)
        self._out.append(ev.CircuitChanged(call.id, target.cic, previous))

    def _iam(self, cic: int, called: str, calling: str | None, category: int | None) -> Iam:
        cfg = self.config
        return Iam(cic, called=PartyNumber(called, nai=cfg.called_nai,
                                           complete=cfg.end_of_pulsing),
                   calling=PartyNumber(calling, nai=cfg.calling_nai) if calling else None,
                   category=cfg.category if category is None else category,
                   forward=cfg.forward)

    def _remote_reset(self, c: _Circuit) -> None:
        """The far end reset ``c`` (RSC, GRS): its call is gone, its remote blocking too."""
        if c.call is not None:
            self._release_call(c, CAUSE_RESET, "reset")
        c.state, c.call_timer, c.needs_reset = S.IDLE, None, False
        c.procedures.pop("rel", None)
        c.procedures.pop("rsc", None)
        if c.remote_block:
            c.remote_block = False
            self._out.append(ev.CircuitState(c.cic, "unblocked"))

    def _reset_circuit(self, c: _Circuit) -> None:
        if c.call is not None:
            self._release_call(c, CAUSE_RESET, "reset")
        c.state, c.call_timer = S.RESETTING, None
        c.procedures.pop("rel", None)
        self._repeat(c, "rsc", Rsc(c.cic), ("T16", "T17"))

    def _after_reset(self, c: _Circuit) -> None:
        """A reset completed: block again what maintenance wants blocked (2.9.3.1)."""
        if c.want_block:
            c.local_block = False
            self._repeat(c, "blo", Blo(c.cic), ("T12", "T13"))
        elif self.available(c.cic):
            self._out.append(ev.CircuitState(c.cic, "idle"))

    def _idle(self, c: _Circuit) -> None:
        c.state = S.IDLE
        c.call_timer = None

    def _repeat(self, c: _Circuit, kind: str, message: IsupMessage,
                names: tuple[str, str]) -> None:
        short = getattr(self.timers, names[0].lower())
        long = getattr(self.timers, names[1].lower())
        c.procedures[kind] = _Repeat(message, names, (short, long), self.now + short,
                                     self.now + long)
        self._send(message, c.call if kind == "rel" else None)

    def _runs(self, cics: Iterable[int]) -> list[list[int]]:
        runs: list[list[int]] = []
        for cic in sorted(set(cics)):
            if cic not in self.circuits:
                raise Ss7CallStateError(f"circuit {cic} is not equipped")
            if runs and cic == runs[-1][-1] + 1 and len(runs[-1]) < 32:
                runs[-1].append(cic)
            else:
                runs.append([cic])
        return runs

    def _start_group(self, kind: str, run: list[int], message: IsupMessage,
                     names: tuple[str, str]) -> None:
        short = getattr(self.timers, names[0].lower())
        long = getattr(self.timers, names[1].lower())
        self._groups[(kind, run[0])] = (
            _Repeat(message, names, (short, long), self.now + short, self.now + long), run)
        self._send(message, None)

    def _group_request(self, now: float, cics: Iterable[int], kind: str,
                       hardware: bool) -> list[Out | ev.PointEvent]:
        self.now = now
        for run in self._runs(cics):
            status = (True,) * len(run)
            if kind == "cgb":
                for cic in run:
                    self.circuits[cic].want_block = True
                message: IsupMessage = Cgb(run[0], int(hardware), (len(run) - 1, status))
                names = ("T18", "T19")
            else:
                for cic in run:
                    self.circuits[cic].want_block = False
                message = Cgu(run[0], int(hardware), (len(run) - 1, status))
                names = ("T20", "T21")
            self._start_group(kind, run, message, names)
        return self._take()

    def _group_ack(self, kind: str, m: IsupMessage, blocked: bool) -> None:
        assert isinstance(m, Cgba | Cgua)
        entry = self._groups.pop((kind, m.cic), None)
        if entry is None:
            self.discarded += 1
            return
        for cic in m.circuits():
            circuit = self.circuits.get(cic)
            if circuit is not None:
                circuit.local_block = blocked
                self._out.append(ev.CircuitState(cic, "local_blocked" if blocked else "idle"))

    def _maintained(self, cic: int) -> _Circuit:
        circuit = self.circuits.get(cic)
        if circuit is None:
            raise Ss7CallStateError(f"circuit {cic} is not equipped")
        if not self.up:
            raise Ss7LinkDown(f"cannot maintain circuit {cic}: the linkset is down")
        return circuit

    def _circuit_of(self, call_id: int, what: str, states: tuple[State, ...]) -> _Circuit:
        call = self.calls.get(call_id)
        if call is None:
            raise Ss7CallStateError(f"cannot {what} call {call_id}: no such call")
        circuit = self.circuits[call.cic]
        if circuit.state not in states:
            raise Ss7CallStateError(f"cannot {what} call {call_id} on CIC {call.cic}: state "
                                    f"is {circuit.state.name}")
        return circuit

    def _send(self, message: IsupMessage, call: CircuitCall | None) -> None:
        self._out.append(Out(message))
        self._out.append(ev.IsupTraced("out", message, call.id if call else None))

    def _take(self) -> list[Out | ev.PointEvent]:
        out, self._out = self._out, []
        return out
