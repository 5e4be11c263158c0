"""The SS7 call legs against a scripted exchange point, over MTP2/MTP3 in virtual time."""

from __future__ import annotations

import pytest
from ss7_kit import CallKit

from trunkline.drivers.signalling import events as ev
from trunkline.drivers.signalling.actions import MarkAnswered, OpenAudio, TakeChannel
from trunkline.drivers.signalling.ss7 import events as s7
from trunkline.drivers.signalling.ss7.actions import SendAcm, SendAnm, SendIam, SendRel
from trunkline.drivers.signalling.ss7.leg import (
    TRANSITIONS,
    Ss7InboundLeg,
    Ss7Leg,
    State,
    check_number,
)
from trunkline.errors import CallStateError, NumberFormatError


@pytest.fixture(params=["itu", "china"])
def kit(request: pytest.FixtureRequest) -> CallKit:
    kit = CallKit(request.param, script={"100": "busy", "101": "unallocated", "102": "ring",
                                         "103": "progress", "104": "con"})
    kit.wait_up()
    return kit


def test_answered_call_runs_iam_acm_anm_and_ends_with_one_hangup(kit: CallKit) -> None:
    leg = kit.call("01088880001", calling="13800138000", amd=False, hold=1.0)
    assert isinstance(kit.actions[0][2], SendIam)
    assert kit.run_until(lambda: leg.ended, 30)
    assert kit.events(leg) == ["waiting_for_dchannel", "dchannel_up", "setup", "proceeding",
                               "alerting", "answered", "decided", "clearing", "hangup"]
    hung = kit.hungup(leg)
    assert (hung.by, hung.outcome, hung.cause) == ("near_end", "human", 16)
    kinds = [type(a) for _, lg, a in kit.actions if lg is leg]
    assert kinds.index(TakeChannel) < kinds.index(MarkAnswered) < kinds.index(SendRel)
    assert kit.offers[0].called == "01088880001" and kit.offers[0].calling == "13800138000"
    traced = [e.message for e in leg.events if isinstance(e, s7.IsupObserved)]
    assert traced == ["IAM", "ACM", "ANM", "REL", "RLC"]
    assert leg.channel == kit.bearer(leg.cic or 0)


@pytest.mark.parametrize(("number", "outcome", "cause"),
                         [("100", "busy", 17), ("101", "invalid_number", 1)])
def test_refusals_map_causes_to_outcomes(kit: CallKit, number: str, outcome: str,
                                         cause: int) -> None:
    leg = kit.call(number)
    assert kit.run_until(lambda: leg.ended, 10)
    hung = kit.hungup(leg)
    assert (hung.by, hung.outcome, hung.cause) == ("far_end", outcome, cause)
    assert "disconnect" in kit.events(leg)
    assert kit.cpe.free_circuits() and leg.cic in kit.cpe.free_circuits()


def test_ring_timeout_clears_as_no_answer(kit: CallKit) -> None:
    leg = kit.call("102", ring_timeout=5.0)
    assert kit.run_until(lambda: leg.ended, 20)
    assert kit.hungup(leg).outcome == "no_answer"
    assert leg.state is State.DONE


def test_in_band_progress_is_reported_and_con_answers(kit: CallKit) -> None:
    leg = kit.call("103", ring_timeout=3.0)
    kit.run(1.0)
    assert any(isinstance(e, ev.Progress) and e.inband for e in leg.events)
    assert leg.state is State.PROGRESS
    con = kit.call("104", amd=False, hold=0.5)
    assert kit.run_until(lambda: con.ended and leg.ended, 30)
    assert [e.by for e in con.events if isinstance(e, ev.Answered)] == ["con"]


def test_hangup_before_answer_sends_rel_and_ends_at_rlc(kit: CallKit) -> None:
    leg = kit.call("102")
    kit.run(1.0)
    kit.run_leg(leg, leg.hangup(kit.now, 16))
    assert kit.run_until(lambda: leg.ended, 5)
    assert kit.hungup(leg).by == "near_end" and kit.hungup(leg).outcome == "no_answer"
    assert leg.hangup(kit.now) == []


def test_leg_waits_for_the_linkset_and_gives_up() -> None:
    kit = CallKit()
    leg = kit.call("200")   # linkset not up yet: waits, then sends IAM
    assert leg.state is State.WAITING_LINK
    assert kit.run_until(lambda: leg.state is not State.WAITING_LINK, 10)
    assert leg.ss7_call is not None
    lonely = Ss7Leg(9, 1, __import__("trunkline.drivers.signalling.leg",
                                      fromlist=["CallOptions"]).CallOptions("1"),
                    bearer=lambda cic: cic, link_timeout=2.0)
    out = lonely.start(0.0)
    assert [e.NAME for e in out if isinstance(e, ev.CallEvent)] == ["waiting_for_dchannel"]
    out = lonely.on_time(2.5)
    assert isinstance(out[-1], ev.HungUp) and out[-1].outcome == "error"


def test_link_failure_clears_calls_with_cause_38_and_circuits_recover(kit: CallKit) -> None:
    leg = kit.call("102")
    kit.run(1.0)
    kit.pair.cut(0)
    assert kit.run_until(lambda: leg.ended, 20)
    hung = kit.hungup(leg)
    assert (hung.cause, hung.outcome) == (38, "congestion")
    assert not kit.cpe.free_circuits()
    kit.pair.cut(0, False)
    assert kit.run_until(lambda: len(kit.cpe.free_circuits()) == 30, 60)
    again = kit.call("01088880001", amd=False, hold=0.2)
    assert kit.run_until(lambda: again.ended, 20)
    assert kit.hungup(again).outcome == "human"


def test_inbound_call_is_offered_answered_and_released(kit: CallKit) -> None:
    kit.inbound_policy = lambda offer: Ss7InboundLeg(
        50, 1, kit.bearer(offer.cic), offer, offer_for=5.0, reject_cause=21)
    call, out = kit.net.place(kit.now, "95555", "13900000000")
    kit.pair.route("b", out)
    assert kit.run_until(lambda: any(isinstance(g, Ss7InboundLeg) for g in kit.legs), 5)
    leg = next(g for g in kit.legs if isinstance(g, Ss7InboundLeg))
    assert next(e for e in leg.events if isinstance(e, ev.Offered)).called == "95555"
    assert any(isinstance(a, SendAcm) for _, lg, a in kit.actions if lg is leg)
    kit.run(0.5)
    kit.run_leg(leg, leg.answer(kit.now))
    assert any(isinstance(a, SendAnm) for _, lg, a in kit.actions if lg is leg)
    assert any(isinstance(a, OpenAudio) for _, lg, a in kit.actions if lg is leg)
    with pytest.raises(CallStateError):
        leg.answer(kit.now)
    kit.run(0.5)
    assert kit.pair.of("b", s7.CallAnswered)
    kit.pair.route("b", kit.net.release(kit.now, call, 16))
    assert kit.run_until(lambda: leg.ended, 5)
    assert kit.hungup(leg).outcome == "human" and kit.hungup(leg).by == "far_end"


def test_unclaimed_inbound_call_is_rejected(kit: CallKit) -> None:
    kit.inbound_policy = lambda offer: Ss7InboundLeg(
        51, 1, kit.bearer(offer.cic), offer, offer_for=1.0, reject_cause=21)
    _, out = kit.net.place(kit.now, "95555")
    kit.pair.route("b", out)
    assert kit.run_until(lambda: bool(kit.legs) and kit.legs[-1].ended, 10)
    leg = kit.legs[-1]
    assert "rejecting" in kit.events(leg)
    released = kit.pair.of("b", s7.CallReleased)
    assert released and released[-1].cause == 21


def test_transition_table_rows_cite_q764() -> None:
    for (state, key), (target, clause) in TRANSITIONS.items():
        assert isinstance(state, State) and isinstance(target, State)
        assert clause[0].isdigit(), (state, key)


@pytest.mark.parametrize("number", ["", "12a", "1" * 41])
def test_bad_numbers_are_refused_before_any_call(number: str) -> None:
    with pytest.raises(NumberFormatError):
        check_number(number)
    assert check_number("+8613800138000") == "+8613800138000"
