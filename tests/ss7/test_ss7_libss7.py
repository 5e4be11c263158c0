"""Our SS7 stack against Debian's libss7 (an implementation we did not write).

libss7 runs in ITU mode with 14-bit point codes over a SOCK_SEQPACKET socketpair
(DAHDIMTP2 transport). With the static build its timers follow our virtual clock; with
the shared fallback they follow the wall clock, so these tests never assert durations.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from libss7_kit import Interop

from trunkline.drivers.native.build import NativeBuildError
from trunkline.drivers.signalling.ss7 import events as s7

pytestmark = pytest.mark.slow


@pytest.fixture(params=["cpe", "exchange"])
def kit(request: pytest.FixtureRequest) -> Iterator[Interop]:
    try:
        kit = Interop(request.param)
    except NativeBuildError as err:
        pytest.skip(f"libss7 is not available: {err}")
    script = {"busy": False}

    def on_peer(event: dict[str, object]) -> None:
        name = event["event"]
        if name == "GRS":
            kit.peer.gra(event)
        elif name == "GRA":
            kit.peer.release_range(event)
        elif name == "IAM":
            cic = int(str(event["cic"]))
            if script["busy"]:
                kit.peer.rel(cic, 17)
            else:
                kit.peer.acm(cic)
        elif name == "REL":
            kit.peer.rlc(int(str(event["cic"])))
        elif name == "RLC":
            kit.peer.free(int(str(event["cic"])))

    kit.on_peer = on_peer
    kit.script = script  # type: ignore[attr-defined]
    kit.start()
    assert kit.run_until(lambda: kit.point.up and len(kit.point.free_circuits()) == 30, 30)
    assert kit.peer_of("MTP2_LINK_UP")
    yield kit
    kit.close()


def test_start_up_group_reset_is_acknowledged_by_libss7(kit: Interop) -> None:
    grs = kit.peer_of("GRS")
    assert [(e["start"], e["end"]) for e in grs] == [(1, 15), (17, 31)]
    gra = [e.message for e in kit.of(s7.IsupTraced)
           if e.direction == "in" and e.message.NAME == "GRA"]
    assert [(m.cic, m.range) for m in gra] == [(1, 14), (17, 14)]


def test_libss7_group_reset_is_answered(kit: Interop) -> None:
    kit.peer.grs(1, 5)
    assert kit.run_until(lambda: bool(kit.peer_of("GRA")), 10)
    gra = kit.peer_of("GRA")[0]
    assert (gra["start"], gra["end"]) == (1, 5) and not any(gra["status"])


def test_outgoing_call_iam_acm_anm_rel_rlc(kit: Interop) -> None:
    call, out = kit.point.place(kit.now, "01088880001", "13800138000")
    kit.route(out)
    assert kit.run_until(lambda: bool(kit.peer_of("IAM")), 5)
    iam = kit.peer_of("IAM")[0]
    assert (iam["called"], iam["calling"], iam["category"]) == \
        ("01088880001", "13800138000", 0x0A)
    assert kit.run_until(lambda: bool(kit.of(s7.AddressComplete)), 5)
    assert kit.of(s7.AddressComplete)[0].call == call
    kit.peer.anm(iam["cic"])
    assert kit.run_until(lambda: bool(kit.of(s7.CallAnswered)), 5)
    kit.route(kit.point.release(kit.now, call, 16))
    assert kit.run_until(lambda: bool(kit.of(s7.CallReleased)), 5)
    released = kit.of(s7.CallReleased)[0]
    assert (released.cause, released.by, released.answered) == (16, "local", True)
    assert kit.peer_of("REL")[0]["cause"] == 16
    assert iam["cic"] in kit.point.free_circuits()


def test_busy_subscriber_rel_cause_17(kit: Interop) -> None:
    kit.script["busy"] = True  # type: ignore[attr-defined]
    call, out = kit.point.place(kit.now, "01088880002")
    kit.route(out)
    assert kit.run_until(lambda: bool(kit.of(s7.CallReleased)), 5)
    released = kit.of(s7.CallReleased)[0]
    assert (released.call, released.cause, released.by) == (call, 17, "remote")
    assert str(released.outcome) == "busy"
    assert kit.run_until(lambda: bool(kit.peer_of("RLC")), 5)


def test_incoming_call_from_libss7_answered_and_released_by_it(kit: Interop) -> None:
    kit.peer.iam(7, "95555", "13900000000")
    assert kit.run_until(lambda: bool(kit.of(s7.IncomingCall)), 5)
    offer = kit.of(s7.IncomingCall)[0]
    assert (offer.cic, offer.called, offer.calling) == (7, "95555", "13900000000")
    kit.route(kit.point.alert(kit.now, offer.call))
    assert kit.run_until(lambda: bool(kit.peer_of("ACM")), 5)
    kit.route(kit.point.answer(kit.now, offer.call))
    assert kit.run_until(lambda: bool(kit.peer_of("ANM")), 5)
    kit.peer.rel(7, 16)
    assert kit.run_until(lambda: bool(kit.of(s7.CallReleased)), 5)
    released = kit.of(s7.CallReleased)[0]
    assert (released.cause, released.by, released.answered) == (16, "remote", True)
    assert kit.run_until(lambda: bool(kit.peer_of("RLC")), 5)
    assert not kit.peer.errors or all("Huh" not in e for e in kit.peer.errors)


def test_incoming_call_we_release_with_a_cause(kit: Interop) -> None:
    kit.peer.iam(9, "95556")
    assert kit.run_until(lambda: bool(kit.of(s7.IncomingCall)), 5)
    offer = kit.of(s7.IncomingCall)[0]
    kit.route(kit.point.release(kit.now, offer.call, 21))
    assert kit.run_until(lambda: bool(kit.peer_of("REL")), 5)
    assert kit.peer_of("REL")[0]["cause"] == 21
    assert kit.run_until(lambda: bool(kit.of(s7.CallReleased)), 5)
    assert kit.of(s7.CallReleased)[0].by == "local"
