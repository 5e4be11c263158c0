"""FXS ports: a phone rung until it is lifted; a lifted phone is a person."""

from __future__ import annotations

import pytest

from trunkline.clock import VirtualClock
from trunkline.drivers.dsp.events import DtmfEvent, VoiceEvent
from trunkline.drivers.dsp.zones import load_zone
from trunkline.drivers.model import CardEvent, EventKind, HookOp, SpanInfo, SpanKind, SpanSignalling
from trunkline.drivers.signalling import actions as act
from trunkline.drivers.signalling import events as ev
from trunkline.drivers.signalling.base import SignallingContext
from trunkline.drivers.signalling.detection import DIGITS
from trunkline.drivers.signalling.fxs import FxsLeg, FxsSignalling
from trunkline.drivers.signalling.leg import CallOptions
from trunkline.errors import CallStateError

CHANNEL = 80


def hook(kind: str, t: float) -> CardEvent:
    return CardEvent(t, EventKind(kind), CHANNEL, 4)


def rung() -> FxsLeg:
    leg = FxsLeg(3, 4, CHANNEL, "agent-7")
    assert leg.start(1.0) == [act.Hook(HookOp.RING), ev.Alerting(1.0)]
    return leg


def test_lifting_the_phone_answers_as_a_person() -> None:
    leg = rung()
    out = leg.on_signal(4.0, hook("offhook", 4.0))
    assert out == [act.Hook(HookOp.RINGOFF), ev.Answered(4.0, "offhook", person=True), DIGITS]
    assert leg.answered and leg.answered_by == "human" and leg.outcome is None


def test_a_second_offhook_changes_nothing() -> None:
    leg = rung()
    leg.on_signal(4.0, hook("offhook", 4.0))
    assert leg.on_signal(4.5, hook("offhook", 4.5)) == []


def test_the_phone_rings_until_lifted_or_given_up() -> None:
    leg = rung()
    assert leg.next_deadline() == float("inf")
    assert leg.on_time(3600.0) == [] and not leg.ended


@pytest.mark.parametrize(("lifted", "outcome"), [(True, "human"), (False, "no_answer")])
def test_putting_the_phone_down_ends_the_call(lifted: bool, outcome: str) -> None:
    leg = rung()
    if lifted:
        leg.on_signal(4.0, hook("offhook", 4.0))
    assert leg.on_signal(9.0, hook("onhook", 9.0)) == [ev.HungUp(9.0, "far_end", outcome)]
    assert leg.ended and leg.outcome == outcome


@pytest.mark.parametrize(("lifted", "outcome"), [(True, "human"), (False, "no_answer")])
def test_the_application_ends_the_call(lifted: bool, outcome: str) -> None:
    leg = rung()
    if lifted:
        leg.on_signal(4.0, hook("offhook", 4.0))
    out = leg.hangup(9.0)
    assert out == [act.Hook(HookOp.ONHOOK), ev.HungUp(9.0, "near_end", outcome)]
    assert leg.hangup(9.5) == []


def test_the_agent_s_digits_are_reported() -> None:
    leg = rung()
    leg.on_signal(4.0, hook("offhook", 4.0))
    assert leg.on_detection(5.0, DtmfEvent(CHANNEL, 0, 0, digit="*", duration=640)) == [
        ev.DigitReceived(5.0, "*")]
    assert leg.on_detection(5.5, VoiceEvent(CHANNEL, 0, 0)) == []


def test_a_phone_cannot_be_answered_by_the_application() -> None:
    with pytest.raises(CallStateError, match="cannot answer call 3: it is outbound"):
        rung().answer(2.0)


def test_the_module_rings_the_phone_on_the_port_asked_for() -> None:
    span = SpanInfo(4, SpanKind.FXS, SpanSignalling.ANALOG, (CHANNEL, CHANNEL + 1))
    module = FxsSignalling(object(), span, SignallingContext(
        VirtualClock(), load_zone("cn"), lambda: 1))
    leg = module.outbound(9, CHANNEL + 1, CallOptions("position 2"))
    assert isinstance(leg, FxsLeg)
    assert (leg.id, leg.span, leg.channel, leg.number, leg.kind) == (
        9, 4, CHANNEL + 1, "position 2", "fxs")
    with pytest.raises(CallStateError, match="an FXS call needs a port of span 4"):
        module.outbound(10, None, CallOptions("position 2"))


@pytest.mark.parametrize("kind", ["onhook", "offhook"])
def test_after_the_hangup_the_port_says_nothing_to_the_call(kind: str) -> None:
    leg = rung()
    leg.hangup(5.0)
    assert leg.on_signal(5.0, hook(kind, 5.0)) == []
    assert [type(e) for e in leg.events] == [ev.Alerting, ev.HungUp]


def test_caller_id_goes_out_in_the_first_ring_pause_only() -> None:
    import numpy as np

    spill = np.ones(800, np.float32)
    leg = FxsLeg(3, 4, CHANNEL, "agent-7", spill=spill)
    leg.start(1.0)
    out = leg.on_signal(2.0, hook("ringer_off", 2.0))
    assert len(out) == 1 and isinstance(out[0], act.SendAudio) and out[0].samples is spill
    assert leg.on_signal(7.0, hook("ringer_off", 7.0)) == []  # sig_analog: rings == cidrings
    out = leg.on_signal(8.0, hook("offhook", 8.0))
    assert out[0] == act.StopAudio() and ev.Answered(8.0, "offhook", person=True) in out


def test_no_caller_id_without_a_spill_or_after_the_answer() -> None:
    leg = rung()
    assert leg.on_signal(2.0, hook("ringer_off", 2.0)) == []
    leg.on_signal(3.0, hook("offhook", 3.0))
    assert leg.on_signal(4.0, hook("ringer_off", 4.0)) == []
