"""MTP2 (Q.703): signal unit codecs, every transition row, timers, monitors, retransmission."""

from __future__ import annotations

import random

import pytest

from trunkline.drivers.signalling.ss7.errors import Ss7CodecError
from trunkline.drivers.signalling.ss7.mtp2 import (
    AERM_EMERGENCY,
    AERM_NORMAL,
    LINK_TRANSITIONS,
    PROVING_ATTEMPTS,
    SUERM_THRESHOLD,
    Fisu,
    Input,
    InService,
    LinkState,
    Lssu,
    Msu,
    MsuReceived,
    Mtp2Link,
    Mtp2Timers,
    OutOfService,
    RemoteBusy,
    Status,
    Transmit,
    decode_su,
)
from trunkline.drivers.signalling.ss7.pair import DahdiLine

L = LinkState


def frames(outputs: list[object]) -> list[bytes]:
    return [o.frame for o in outputs if isinstance(o, Transmit)]


def lssu(status: Status) -> bytes:
    return Lssu(127, 1, 127, 1, status).encode()


def test_signal_unit_formats_q703_2() -> None:
    assert Fisu(5, 1, 9, 0).encode() == bytes([0x85, 0x09, 0x00])
    assert Lssu(127, 1, 127, 1, Status.SIE).encode() == bytes([0xFF, 0xFF, 0x01, 0x02])
    msu = Msu(1, 0, 2, 1, b"\x85" + b"x" * 70)
    assert msu.encode()[2] == 63 and decode_su(msu.encode()) == msu
    for su in (Fisu(0, 0, 0, 0), Lssu(3, 0, 4, 1, 5), Msu(1, 1, 1, 1, b"\x05abc")):
        assert decode_su(su.encode()) == su
    assert isinstance(decode_su(bytes([0, 0, 2, 1, 0])), Lssu)   # 2-octet status field


@pytest.mark.parametrize("frame, what", [
    (b"\x00\x00", "at least 3"), (bytes([0, 0, 0, 1]), "FISU"), (bytes([0, 0, 1]), "LSSU"),
    (bytes([0, 0, 5, 1, 2]), "MSU"), (bytes([0, 0, 63]) + b"x" * 10, "MSU"),
    (bytes(300), "at most"),
])
def test_malformed_units_are_codec_errors(frame: bytes, what: str) -> None:
    with pytest.raises(Ss7CodecError, match=what):
        decode_su(frame)


def test_timer_values_follow_q703_12_3() -> None:
    t = Mtp2Timers()
    assert 40 <= t.t1 <= 50 and 5 <= t.t2 <= 50 and 1 <= t.t3 <= 2
    assert 7.5 <= t.t4n <= 9.5 and 0.4 <= t.t4e <= 0.6 and 3 <= t.t6 <= 6
    assert 0.5 <= t.t7 <= 2
    assert (SUERM_THRESHOLD, AERM_NORMAL, AERM_EMERGENCY, PROVING_ATTEMPTS) == (64, 4, 1, 5)
    with pytest.raises(ValueError, match="t7"):
        Mtp2Timers(t7=0)


@pytest.mark.parametrize("row", sorted(LINK_TRANSITIONS, key=str), ids=str)
def test_every_transition_row(row: tuple[LinkState, Input]) -> None:
    state, what = row
    target, _action, clause = LINK_TRANSITIONS[row]
    link = Mtp2Link()
    link.state = state
    link._input(what)
    if state is L.NOT_ALIGNED and what in (Input.SIN, Input.SIE):
        # The far end's SIN/SIE is a state (the kernel repeats it, and drops repeats):
        # having aligned us, it goes on to start proving (Q.703 7.3, aligned + SIN).
        assert LINK_TRANSITIONS[(target, what)][0] is L.PROVING
        target = L.PROVING
    assert link.state is target, clause
    assert clause


def pair(emergency: bool = False) -> tuple[Mtp2Link, Mtp2Link, dict[str, list[object]]]:
    a, b = Mtp2Link("a"), Mtp2Link("b")
    log: dict[str, list[object]] = {"a": [], "b": []}
    return a, b, log


class Wire:
    """Two links joined by DAHDI-like lines, stepped every 10 ms."""

    def __init__(self, loss: float = 0.0, seed: int = 0, **timers: float) -> None:
        rng = random.Random(seed)
        self.a, self.b = Mtp2Link("a", Mtp2Timers(**timers)), Mtp2Link("b", Mtp2Timers(**timers))
        self.to = {"a": DahdiLine(rng, loss), "b": DahdiLine(rng, loss)}
        self.log: dict[str, list[object]] = {"a": [], "b": []}
        self.now = 0.0

    def route(self, name: str, outputs: list[object]) -> None:
        other = "b" if name == "a" else "a"
        for out in outputs:
            if isinstance(out, Transmit):
                self.to[other].queue.append(out.frame)
            else:
                self.log[name].append(out)

    def step(self) -> None:
        self.now = round(self.now + 0.01, 6)
        for name, link in (("a", self.a), ("b", self.b)):
            for frame in self.to[name].tick():
                self.route(name, link.receive(self.now, frame))
            self.route(name, link.on_time(self.now))

    def run(self, seconds: float) -> None:
        for _ in range(round(seconds / 0.01)):
            self.step()


def test_normal_alignment_takes_the_normal_proving_period() -> None:
    w = Wire()
    w.route("a", w.a.start(0.0))
    w.route("b", w.b.start(0.0))
    w.run(8.0)
    assert w.a.state is L.PROVING and w.b.state is L.PROVING
    w.run(0.5)
    assert w.a.in_service and w.b.in_service
    assert w.log["a"] == [InService()]


def test_emergency_from_either_end_shortens_proving() -> None:
    w = Wire()
    w.route("a", w.a.start(0.0, emergency=True))
    w.route("b", w.b.start(0.05))
    w.run(0.7)
    assert w.a.in_service and w.b.in_service


def test_t2_alignment_not_possible_without_far_end() -> None:
    link = Mtp2Link()
    out = link.start(0.0)
    assert frames(out) == [lssu(Status.SIO)]
    assert link.next_deadline() == pytest.approx(5.0)
    out = link.on_time(5.0)
    assert link.state is L.OUT_OF_SERVICE
    assert isinstance(out[-1], OutOfService) and "T2" in out[-1].reason
    assert frames(out) == [lssu(Status.SIOS)]


def test_t3_and_t1_expiries_fail_alignment() -> None:
    link = Mtp2Link()
    link.start(0.0)
    link.receive(0.1, lssu(Status.SIO))
    assert link.state is L.ALIGNED
    link.on_time(0.1 + link.timers.t3)
    assert link.state is L.OUT_OF_SERVICE and "T3" in (link.failure or "")
    link = Mtp2Link()
    link.start(0.0, emergency=True)
    link.receive(0.1, lssu(Status.SIE))
    assert link.state is L.PROVING
    link.on_time(0.1 + link.timers.t4e)
    assert link.state is L.ALIGNED_READY
    link.on_time(0.1 + link.timers.t4e + link.timers.t1)
    assert link.state is L.OUT_OF_SERVICE and "T1" in (link.failure or "")


def test_aerm_restarts_proving_and_gives_up_after_m_attempts() -> None:
    link = Mtp2Link()
    link.start(0.0)
    link.receive(0.1, lssu(Status.SIN))
    assert link.state is L.PROVING
    for attempt in range(PROVING_ATTEMPTS - 1):
        link.error(0.2 + attempt, AERM_NORMAL)
        assert link.state is L.PROVING
    out = link.error(9.0, AERM_NORMAL)
    assert link.state is L.OUT_OF_SERVICE and isinstance(out[-1], OutOfService)


def test_suerm_fails_a_link_after_64_errors_but_leaks() -> None:
    w = Wire()
    w.route("a", w.a.start(0.0, emergency=True))
    w.route("b", w.b.start(0.0, emergency=True))
    w.run(1.0)
    w.route("a", w.a.error(w.now, SUERM_THRESHOLD - 1))
    assert w.a.in_service
    w.run(30.0)   # the leak (one per 256 units, ~0.22 s idle) empties the counter
    w.route("a", w.a.error(w.now, SUERM_THRESHOLD - 1))
    assert w.a.in_service
    w.route("a", w.a.error(w.now, 1))
    assert not w.a.in_service and "SUERM" in (w.a.failure or "")


def test_t7_fails_a_link_whose_msus_are_not_acknowledged() -> None:
    w = Wire()
    w.route("a", w.a.start(0.0, emergency=True))
    w.route("b", w.b.start(0.0, emergency=True))
    w.run(1.0)
    w.to["b"].cut = True
    w.route("a", w.a.send_msu(w.now, b"\x85abc"))
    w.run(w.a.timers.t7 + 0.1)
    assert not w.a.in_service and "T7" in (w.a.failure or "")


def test_sib_starts_t6_and_clears_when_the_far_end_recovers() -> None:
    w = Wire()
    w.route("a", w.a.start(0.0, emergency=True))
    w.route("b", w.b.start(0.0, emergency=True))
    w.run(1.0)
    out = w.a.receive(w.now, Lssu(w.a.last_accepted, 1, 127, 1, Status.SIB).encode())
    assert RemoteBusy(True) in out
    out = w.a.on_time(w.now + w.a.timers.t6)
    assert not w.a.in_service and "T6" in (w.a.failure or "")


def test_lssu_in_service_is_a_link_failure() -> None:
    w = Wire()
    w.route("a", w.a.start(0.0, emergency=True))
    w.route("b", w.b.start(0.0, emergency=True))
    w.run(1.0)
    w.route("a", w.a.receive(w.now, lssu(Status.SIOS)))
    assert not w.a.in_service and w.log["a"][-1] == OutOfService(w.a.failure or "")


def test_send_msu_needs_a_link_in_service() -> None:
    with pytest.raises(RuntimeError, match="out_of_service"):
        Mtp2Link().send_msu(0.0, b"\x85abc")
    with pytest.raises(Ss7CodecError):
        Mtp2Link().send_msu(0.0, b"\x85")


@pytest.mark.parametrize("seed", range(4))
def test_basic_retransmission_delivers_everything_in_order_under_loss(seed: int) -> None:
    w = Wire(loss=0.25, seed=seed)
    w.route("a", w.a.start(0.0, emergency=True))
    w.route("b", w.b.start(0.0, emergency=True))
    w.run(3.0)
    assert w.a.in_service and w.b.in_service
    for n in range(200):
        w.route("a", w.a.send_msu(w.now, b"\x85" + n.to_bytes(2, "big")))
        w.route("b", w.b.send_msu(w.now, b"\x85" + n.to_bytes(2, "big")))
        w.step()
    w.run(5.0)
    for name in "ab":
        got = [int.from_bytes(e.payload[1:], "big") for e in w.log[name]
               if isinstance(e, MsuReceived)]
        assert got == list(range(200))
    assert w.a.retransmissions > 0


def test_more_than_127_outstanding_msus_wait_their_turn() -> None:
    w = Wire()
    w.route("a", w.a.start(0.0, emergency=True))
    w.route("b", w.b.start(0.0, emergency=True))
    w.run(1.0)
    for n in range(300):
        w.route("a", w.a.send_msu(w.now, b"\x85" + n.to_bytes(2, "big")))
    assert len(w.a._rtb) == 127
    w.run(2.0)
    assert len([e for e in w.log["b"] if isinstance(e, MsuReceived)]) == 300


def test_retrieve_returns_the_unacknowledged_after_an_fsn() -> None:
    w = Wire()
    w.route("a", w.a.start(0.0, emergency=True))
    w.route("b", w.b.start(0.0, emergency=True))
    w.run(1.0)
    w.to["b"].cut = True
    for n in range(5):
        w.a.send_msu(w.now, b"\x85" + bytes([n, 0]))
    assert [p[1] for p in w.a.retrieve((127 + 2) % 128)] == [2, 3, 4]
    assert w.a.retrieve(None) == []
