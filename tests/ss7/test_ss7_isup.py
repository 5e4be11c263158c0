"""ISUP (Q.764): every row of the circuit table, the timers, dual seizure, blocking, resets."""

from __future__ import annotations

import pytest

from trunkline.drivers.signalling.ss7 import events as s7
from trunkline.drivers.signalling.ss7.config import CircuitMap, IsupTimers, Ss7Config
from trunkline.drivers.signalling.ss7.errors import (
    Ss7CallStateError,
    Ss7ConfigError,
    Ss7LinkDown,
    Ss7NoCircuit,
)
from trunkline.drivers.signalling.ss7.isup import CALL_TRANSITIONS, CircuitCall, Isup, Out, State
from trunkline.drivers.signalling.ss7.messages import (
    Acm,
    Anm,
    Bla,
    Blo,
    Cause,
    Cgb,
    Cgba,
    Cgu,
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

S = State


def isup(opc: int = 4897, apc: int = 4898, **kw: object) -> Isup:
    point = Isup(Ss7Config(opc, apc, reset_on_start=False, **kw))  # type: ignore[arg-type]
    point.linkset(0.0, True)
    return point


def sent(outputs: list[object]) -> list[IsupMessage]:
    return [o.message for o in outputs if isinstance(o, Out)]


def events(outputs: list[object], kind: type) -> list[object]:
    return [o for o in outputs if isinstance(o, kind)]


MESSAGES = {"IAM": lambda cic: Iam(cic, called=PartyNumber("123")), "ACM": Acm, "CPG": Cpg,
            "CON": Con, "ANM": Anm, "SUS": Sus, "RES": Res, "REL": Rel, "RLC": Rlc,
            "RSC": Rsc, "GRS": lambda cic: Grs(cic, (1, None))}


@pytest.mark.parametrize("row", sorted(CALL_TRANSITIONS, key=lambda r: (r[0].value, r[1])),
                         ids=lambda r: f"{r[0].value}-{r[1]}")
def test_every_row_of_the_circuit_table(row: tuple[State, str]) -> None:
    state, what = row
    target, clause = CALL_TRANSITIONS[row]
    point = isup()
    cic = 1   # odd: the lower point code (ours) controls it
    circuit = point.circuits[cic]
    circuit.state = state
    call = CircuitCall(7, cic, state.value.startswith("out"), "123", "")
    if state not in (S.IDLE, S.RESETTING):
        circuit.call = call
        point.calls[7] = call
    now = 1.0
    if what in MESSAGES:
        point.receive(now, MESSAGES[what](cic))
    elif what == "send_IAM":
        point.place(now, "123", cic=cic)
    elif what.startswith("send_"):
        action = {"send_ACM": point.alert, "send_CPG": point.progress,
                  "send_ANM": point.answer, "send_REL": point.release}[what]
        action(now, 7)
    elif what in ("T7", "T9"):
        circuit.call_timer = (what, 0.5)
        point.on_time(now)
    elif what in ("T1", "T5"):
        point._send_rel(circuit, 16, advance=False)
        point.on_time(1.0 + (point.timers.t1 if what == "T1" else point.timers.t5))
    assert circuit.state is target, clause
    assert clause[0].isdigit() or clause.startswith("Annex")


def test_timer_values_follow_q764_annex_a() -> None:
    t = IsupTimers()
    assert 15 <= t.t1 <= 60 and 300 <= t.t5 <= 900 and 20 <= t.t7 <= 30 and 90 <= t.t9 <= 180
    for short, long in ((t.t12, t.t13), (t.t14, t.t15), (t.t16, t.t17), (t.t18, t.t19),
                        (t.t20, t.t21), (t.t22, t.t23)):
        assert 15 <= short <= 60 and 300 <= long <= 900
    with pytest.raises(Ss7ConfigError, match="T7"):
        IsupTimers(t7=0)


def test_outgoing_call_t7_releases_with_cause_102_and_t1_t5_escalate() -> None:
    point = isup()
    call, out = point.place(0.0, "123")
    assert isinstance(sent(out)[0], Iam)
    out = point.on_time(point.timers.t7)
    rel = sent(out)[0]
    assert isinstance(rel, Rel) and rel.cause.value == 102
    out = point.on_time(point.timers.t7 + point.timers.t1)
    assert isinstance(sent(out)[0], Rel)               # T1: REL repeated
    assert events(out, s7.CallReleased)[0].by == "timeout"  # the call is over for the leg
    out = point.on_time(point.timers.t7 + point.timers.t5)
    assert isinstance(sent(out)[0], Rsc)               # T5: reset, maintenance told
    assert events(out, s7.MaintenanceAlert)[0].timer == "T5"
    assert point.circuits[call.cic].state is S.RESETTING
    point.receive(400.0, Rlc(call.cic))
    assert point.available(call.cic)


def test_t9_releases_an_unanswered_call_with_cause_19() -> None:
    point = isup()
    call, _ = point.place(0.0, "123")
    point.receive(1.0, Acm(call.cic))
    out = point.on_time(1.0 + point.timers.t9)
    assert [m.cause.value for m in sent(out) if isinstance(m, Rel)] == [19]


@pytest.mark.parametrize("kind, message, short, long, ack", [
    ("block", Blo, "t12", "t13", Bla), ("unblock", Ubl, "t14", "t15", Uba),
    ("reset", Rsc, "t16", "t17", Rlc)])
def test_maintenance_repeats_at_the_short_timer_and_alerts_at_the_long(
        kind: str, message: type, short: str, long: str, ack: type) -> None:
    point = isup()
    out = getattr(point, kind)(0.0, 3)
    assert isinstance(sent(out)[0], message)
    t_short, t_long = getattr(point.timers, short), getattr(point.timers, long)
    assert isinstance(sent(point.on_time(t_short))[0], message)
    out = point.on_time(t_long)
    assert events(out, s7.MaintenanceAlert)[0].timer == long.upper()
    assert point.next_deadline() == pytest.approx(2 * t_long)
    point.receive(t_long + 1, ack(3))
    assert point.next_deadline() is None


@pytest.mark.parametrize("kind, short, long", [("group_block", "t18", "t19"),
                                               ("group_unblock", "t20", "t21"),
                                               ("group_reset", "t22", "t23")])
def test_group_procedures_t18_to_t23(kind: str, short: str, long: str) -> None:
    point = isup()
    first = sent(getattr(point, kind)(0.0, range(1, 6)))[0]
    assert first.cic == 1 and first.range == 4   # type: ignore[attr-defined]
    repeat = sent(point.on_time(getattr(point.timers, short)))
    assert repeat == [first]
    out = point.on_time(getattr(point.timers, long))
    assert events(out, s7.MaintenanceAlert)[0].timer == long.upper()


def test_remote_blocking_and_unblocking_q764_2_8_2() -> None:
    point = isup()
    assert sent(point.receive(0.0, Blo(5))) == [Bla(5)]
    assert 5 not in point.free_circuits()
    assert sent(point.receive(0.0, Ubl(5))) == [Uba(5)]
    assert 5 in point.free_circuits()
    out = point.receive(0.0, Cgb(1, 0, (2, (True, False, True))))
    assert sent(out) == [Cgba(1, 0, (2, (True, False, True)))]
    assert 1 not in point.free_circuits() and 2 in point.free_circuits()
    assert sent(point.receive(0.0, Cgu(1, 0, (2, (True, False, True)))))[0].NAME == "CGUA"
    assert 1 in point.free_circuits()


def test_hardware_group_blocking_clears_calls() -> None:
    point = isup()
    point.place(0.0, "123", cic=1)
    point.receive(0.5, Acm(1))
    out = point.receive(1.0, Cgb(1, 1, (1, (True, True))))
    released = events(out, s7.CallReleased)
    assert released and released[0].cause == 41 and released[0].by == "reset"


def test_local_blocking_keeps_circuits_out_of_hunting_until_unblocked() -> None:
    point = isup()
    point.block(0.0, 1)
    assert 1 not in point.free_circuits()
    point.receive(0.1, Bla(1))
    assert point.circuits[1].local_block
    point.receive(0.2, Iam(1, called=PartyNumber("9")))   # they must not seize it
    assert point.circuits[1].state is S.IDLE and not point.calls
    point.unblock(0.3, 1)
    point.receive(0.4, Uba(1))
    assert 1 in point.free_circuits()


def test_group_reset_received_clears_calls_and_answers_gra_with_our_blocks() -> None:
    point = isup()
    call, _ = point.place(0.0, "123", cic=1)
    point.block(0.0, 2)
    point.receive(0.1, Bla(2))
    out = point.receive(0.2, Grs(1, (2, None)))
    assert sent(out)[-1] == Gra(1, (2, (False, True, False)))
    assert events(out, s7.CallReleased)[0].cause == 41 and call.id not in point.calls
    assert point.circuits[2].local_block and 1 in point.free_circuits()


def test_our_group_reset_waits_for_gra_and_learns_their_blocks() -> None:
    point = isup()
    point.group_reset(0.0, range(1, 4))
    assert 1 not in point.free_circuits()
    point.receive(0.1, Gra(1, (2, (False, True, False))))
    assert 1 in point.free_circuits() and 2 not in point.free_circuits()


def test_reset_received_unblocks_and_answers_rlc() -> None:
    point = isup()
    point.receive(0.0, Blo(4))
    out = point.receive(0.1, Rsc(4))
    assert sent(out) == [Rlc(4)]
    assert 4 in point.free_circuits()


def test_unexpected_call_message_on_an_idle_circuit_resets_it_q764_2_9_5() -> None:
    point = isup()
    out = point.receive(0.0, Anm(6))
    assert sent(out) == [Rsc(6)]
    assert sent(point.receive(0.1, Rel(8, Cause(16)))) == [Rlc(8)]
    assert sent(point.receive(0.1, Rlc(8))) == []


@pytest.mark.parametrize("ours, theirs", [(4897, 4898), (4898, 4897)])
def test_dual_seizure_is_won_by_the_controlling_point_q764_2_9_1_4(ours: int,
                                                                    theirs: int) -> None:
    point = isup(ours, theirs)
    higher = ours > theirs
    for cic in (1, 2):
        controls = (cic % 2 == 0) == higher
        assert point.controls(cic) is controls
    cic = 1
    call, _ = point.place(0.0, "123", cic=cic)
    out = point.receive(0.1, Iam(cic, called=PartyNumber("456")))
    if point.controls(cic):
        assert not events(out, s7.IncomingCall)
        assert point.calls[call.id].cic == cic
    else:
        moved = events(out, s7.CircuitChanged)
        assert moved and moved[0].previous == cic and point.calls[call.id].cic != cic
        assert events(out, s7.IncomingCall)[0].called == "456"
        assert isinstance(sent(out)[0], Iam) and sent(out)[0].cic == moved[0].cic


def test_hunting_prefers_the_circuits_we_control() -> None:
    point = isup()
    free = point.free_circuits()
    controlled = [c for c in free if point.controls(c)]
    assert free[:len(controlled)] == controlled and free[0] == 1


def test_requests_refused_with_clear_errors() -> None:
    point = isup()
    with pytest.raises(Ss7CallStateError, match="no such call"):
        point.answer(0.0, 99)
    call, _ = point.place(0.0, "1")
    with pytest.raises(Ss7CallStateError, match="OUT_IAM"):
        point.answer(0.0, call.id)
    with pytest.raises(Ss7NoCircuit):
        point.place(0.0, "1", cic=call.cic)
    point.linkset(1.0, False)
    with pytest.raises(Ss7LinkDown):
        point.place(1.0, "1")


def test_linkset_loss_clears_calls_with_cause_38_and_needs_a_reset() -> None:
    point = isup()
    call, _ = point.place(0.0, "1")
    out = point.linkset(1.0, False)
    released = events(out, s7.CallReleased)[0]
    assert (released.cause, released.by, str(released.outcome)) == (38, "link", "congestion")
    out = Isup.linkset(point, 2.0, True)
    assert point.circuits[call.cic].needs_reset is False   # reset_on_start off here


def test_circuit_map_follows_q763_1_2() -> None:
    circuits = CircuitMap.e1({1: 0, 2: 1}, signalling=[(1, 16)])
    assert circuits.place(1) == (1, 1) and circuits.place(16) is None
    assert circuits.place(32 + 16) == (2, 16) and circuits.cic(2, 5) == 37
    assert [len(g) for g in circuits.groups()] == [15, 15, 31]
    with pytest.raises(Ss7ConfigError):
        CircuitMap.of({1: (1, 1), 2: (1, 1)})
    config = Ss7Config("2-100-1", "2-100-2", links={0: 1})
    assert len(config.circuit_map.circuits) == 30
