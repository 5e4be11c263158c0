"""What the analog modules share: always-open ports, hook and dial on the leg's port."""

from __future__ import annotations

import pytest

from trunkline.clock import VirtualClock
from trunkline.drivers.dsp.zones import load_zone
from trunkline.drivers.model import ChannelState, HookOp, SpanInfo, SpanKind, SpanSignalling
from trunkline.drivers.signalling import actions as act
from trunkline.drivers.signalling.base import SignallingContext
from trunkline.drivers.signalling.fxs import FxsLeg, FxsSignalling


class RecordingCard:
    """Notes the hook and dial requests; channel states as the test sets them."""

    def __init__(self) -> None:
        self.calls: list[tuple] = []
        self.states: dict[int, ChannelState] = {}

    def hook(self, channel: int, op: HookOp) -> None:
        self.calls.append(("hook", channel, op))

    def dial(self, channel: int, digits: str, mode: str) -> None:
        self.calls.append(("dial", channel, digits, mode))

    def channel_state(self, channel: int) -> ChannelState:
        return self.states.get(channel, ChannelState.IDLE)


def analog() -> tuple[FxsSignalling, RecordingCard]:
    card = RecordingCard()
    span = SpanInfo(5, SpanKind.FXS, SpanSignalling.ANALOG, (100, 101))
    context = SignallingContext(VirtualClock(), load_zone("cn"), lambda: 1)
    return FxsSignalling(card, span, context), card


def test_analog_ports_are_always_open() -> None:
    module, _ = analog()
    assert module.always_open and not module.hunts()


def test_hook_and_dial_go_to_the_legs_port() -> None:
    module, card = analog()
    leg = FxsLeg(1, 5, 101, "agent")
    assert module.perform(leg, act.Hook(HookOp.RING), 0.0) == []
    assert module.perform(leg, act.Dial("12#", "dtmf"), 0.0) == []
    assert module.perform(leg, act.Dial("45", "pulse"), 0.0) == []
    assert card.calls == [("hook", 101, HookOp.RING), ("dial", 101, "12#", "dtmf"),
                          ("dial", 101, "45", "pulse")]


@pytest.mark.parametrize("action", [act.SendSetup("1"), act.SendClear(), act.SendAnswer(),
                                    act.TakeChannel(100), act.StopDetection()])
def test_an_analog_port_refuses_other_actions(action: act.Action) -> None:
    module, card = analog()
    with pytest.raises(TypeError, match=f"an analog port cannot {type(action).__name__}"):
        module.perform(FxsLeg(1, 5, 100, "agent"), action, 0.0)
    assert card.calls == []


@pytest.mark.parametrize(("state", "free"), [
    (ChannelState.IDLE, True), (ChannelState.OFFHOOK, False), (ChannelState.RINGING, False),
    (ChannelState.DIALING, False), (ChannelState.OUT_OF_SERVICE, False)])
def test_a_call_is_placed_on_an_idle_port_only(state: ChannelState, free: bool) -> None:
    module, card = analog()
    card.states[100] = state
    assert module.can_place(100) is free
    assert module.can_place(101)


def test_an_analog_module_does_not_hunt_a_port() -> None:
    module, _ = analog()
    assert not module.can_place(None)
