"""The PRI call leg on its own (sans-IO: D-channel events, detector events and times in;
actions and call events out)."""

from __future__ import annotations

import re

import pytest

from trunkline.drivers.dsp.events import AmdEvent, ToneEvent
from trunkline.drivers.signalling import actions as act
from trunkline.drivers.signalling import events as ce
from trunkline.drivers.signalling.leg import CallOptions
from trunkline.drivers.signalling.pri import events as ev
from trunkline.drivers.signalling.pri.leg import PROGRESS_GRACE, PriInboundLeg, PriLeg, State
from trunkline.errors import NumberFormatError


def leg(**options) -> PriLeg:
    return PriLeg(1, 1, CallOptions("13812345678", **options), bearer=lambda ts: 100 + ts)


def _proceeding(call: PriLeg, *, alert: bool) -> None:
    call.start(0.0)
    call.on_signal(0.1, ev.DChannelUp(1))
    call.on_setup_sent(0.1, 7, None)
    call.on_signal(0.2, ev.CallProceeding(1, 7, 1))
    call.on_signal(0.3, ev.CallProgress(1, 7, 1, inband=True))
    if alert:
        call.on_signal(2.0, ev.CallAlerting(1, 7, 1))


def test_the_setup_waits_for_the_dchannel() -> None:
    call = leg()
    assert [type(o) for o in call.start(0.0)] == [ce.WaitingForLink]
    out = call.on_signal(0.5, ev.DChannelUp(1))
    assert [type(o) for o in out] == [ce.LinkUp, act.SendSetup]
    assert call.state is State.SETUP


def test_a_link_already_up_sends_the_setup_at_once() -> None:
    call = PriLeg(1, 1, CallOptions("123"), bearer=lambda ts: ts, link_up=True)
    out = call.start(0.0)
    assert out[-1] == act.SendSetup("123", None)


def test_the_leg_takes_and_follows_its_bchannel() -> None:
    call = leg()
    call.start(0.0)
    call.on_signal(0.0, ev.DChannelUp(1))
    out = call.on_setup_sent(0.0, 7, 5)
    assert act.TakeChannel(105) in out and call.channel == 105
    out = call.on_signal(0.1, ev.CallChannelChanged(1, 7, 9, previous=5))
    assert act.ReleaseChannel(105) in out and act.TakeChannel(109) in out


def test_early_media_without_alerting_is_cleared_after_the_ring_timeout() -> None:
    call = leg(ring_timeout=20.0)
    _proceeding(call, alert=False)
    assert call.state is State.PROGRESS
    assert call.on_time(20.0 + PROGRESS_GRACE - 0.1) == []
    out = call.on_time(20.0 + PROGRESS_GRACE)
    assert act.SendClear(16) in out and call.outcome == "no_answer"


@pytest.mark.parametrize("waited", [21.9, 22.0])
def test_alerting_calls_keep_the_ring_timeout_from_the_alert(waited: float) -> None:
    call = leg(ring_timeout=20.0)
    _proceeding(call, alert=True)
    out = call.on_time(waited)
    assert bool(out) == (waited >= 22.0)


def test_connect_then_amd_classifies_and_keeps_only_digits() -> None:
    call = leg()
    _proceeding(call, alert=True)
    out = call.on_signal(5.0, ev.CallAnswered(1, 7, 1))
    assert act.MarkAnswered(exact=True) in out and call.state is State.ANSWERED
    out = call.on_detection(7.0, AmdEvent(101, 0, 0, result="machine", after_answer=16000))
    decided = [o for o in out if isinstance(o, ce.Classified)]
    assert decided == [ce.Classified(7.0, "machine", "amd_machine", 2.0)]
    assert call.state is State.CONNECTED and call.outcome == "machine"


def test_early_media_is_reported_once_per_kind() -> None:
    call = leg()
    _proceeding(call, alert=False)
    tone = ToneEvent(101, 0, 0, tone="ringback")
    first = call.on_detection(1.0, tone)
    again = call.on_detection(2.0, tone)
    assert first == [ce.EarlyMedia(1.0, "ringback")] and again == []


def test_the_network_clearing_ends_the_call_with_its_cause() -> None:
    call = leg()
    _proceeding(call, alert=False)
    out = call.on_signal(4.0, ev.CallEnded(1, 7, 1, cause=17))
    ended = [o for o in out if isinstance(o, ce.HungUp)]
    assert ended == [ce.HungUp(4.0, "far_end", "busy", 17, notes=(
        ("cause", 17), ("cause_name", "User busy")))]
    assert call.ended


def test_an_unclaimed_inbound_call_is_refused_with_the_policy_cause() -> None:
    offer = ev.IncomingCall(1, 9, 3, called="80001", calling="13900000001")
    call = PriInboundLeg(2, 1, 103, offer, offer_for=2.0, reject_cause=21)
    out = call.start(10.0)
    assert act.SendProceeding() in out and ce.Offered(10.0, "13900000001", "80001") in out
    assert call.on_time(11.9) == []
    out = call.on_time(12.0)
    assert act.SendClear(21) in out and ce.Rejecting(12.0, 21) in out
    out = call.on_signal(12.1, ev.CallEnded(1, 9, 3, cause=21, reason="local"))
    assert out == [ce.HungUp(12.1, "near_end", "rejected", 21)]


@pytest.mark.parametrize(("number", "match"), [
    ("", "cannot call '': a number is digits"), ("123a", "a number is digits"),
    ("12 34", "a number is digits"), ("++1", "a number is digits"),
    ("1+2", "a number is digits"), ("+", "a number is digits"),
    ("1" * 33, "it has 33 digits, at most 32")])
def test_numbers_a_pri_span_cannot_call(number: str, match: str) -> None:
    # Refused as the span would refuse them at SETUP, but before any call exists.
    with pytest.raises(NumberFormatError, match=match):
        leg_for(number)


def test_calling_numbers_a_pri_span_cannot_send() -> None:
    with pytest.raises(NumberFormatError, match="cannot call from '12a': a number is digits"):
        leg_for("123", calling="12a")
    with pytest.raises(NumberFormatError, match=re.escape("cannot call from '+1+2'")):
        leg_for("123", calling="+1+2")


def leg_for(number: str, calling: str | None = None) -> PriLeg:
    return PriLeg(1, 1, CallOptions(number, calling=calling), bearer=lambda ts: ts)


def test_numbers_a_pri_span_can_call() -> None:
    assert leg_for("+8613812345678*#").number == "+8613812345678*#"
    assert leg_for("1" * 32, calling="").number == "1" * 32
    assert leg_for("+" + "1" * 32, calling="+861012345678").number == "+" + "1" * 32


def test_hangup_while_waiting_for_the_dchannel_ends_the_call_at_once() -> None:
    call = leg()
    call.start(0.0)
    out = call.hangup(1.0)
    # No SETUP went out: nothing to clear on the D-channel, and nothing will answer.
    assert not any(isinstance(o, act.SendClear) for o in out)
    assert [o for o in out if isinstance(o, ce.HungUp)] == [
        ce.HungUp(1.0, "near_end", "no_answer", notes=(("reason", "hung up before the SETUP"),))]
    assert call.ended and call.done
    assert call.on_signal(2.0, ev.DChannelUp(1)) == [ce.LinkUp(2.0)]  # no SETUP later
    assert call.hangup(3.0) == [] and call.on_time(60.0) == []
