"""The call-leg protocol: CallOptions validation and what the Leg base class does."""

from __future__ import annotations

import math
from dataclasses import FrozenInstanceError

import pytest

from trunkline.drivers.dsp.events import DtmfEvent, ToneEvent, VoiceEvent
from trunkline.drivers.model import HookOp
from trunkline.drivers.signalling import events as ev
from trunkline.drivers.signalling.actions import Hook
from trunkline.drivers.signalling.leg import CallOptions, Leg, Output
from trunkline.errors import CallStateError


def test_call_options_defaults() -> None:
    options = CallOptions("123")
    assert (options.ring_timeout, options.max_duration, options.hold, options.amd) == (
        45.0, 600.0, None, True)
    assert (options.detect, options.calling, options.dial_mode) == ((), None, "dtmf")
    assert (options.dial_tone_timeout, options.blind_dial) == (3.0, False)


@pytest.mark.parametrize(("options", "match"), [
    ({"ring_timeout": 0}, "ring_timeout and max_duration must be > 0 s, got 0 and 600.0"),
    ({"ring_timeout": -1.0}, "ring_timeout and max_duration must be > 0 s"),
    ({"ring_timeout": math.nan}, "ring_timeout and max_duration must be > 0 s, got nan"),
    ({"max_duration": 0.0}, "got 45.0 and 0.0"),
    ({"hold": -0.5}, "hold must be >= 0 s or None, got -0.5"),
    ({"dial_mode": "mf"}, "dial_mode must be 'dtmf' or 'pulse', not 'mf'"),
])
def test_call_options_refuse_what_no_call_can_do(options: dict, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        CallOptions("123", **options)


def test_call_options_accept_the_edges() -> None:
    assert CallOptions("1", hold=0.0, dial_mode="pulse", ring_timeout=0.01).hold == 0.0


def test_call_options_are_frozen_and_hashable() -> None:
    options = CallOptions("123", detect=(("amd", False),))
    with pytest.raises(FrozenInstanceError):
        options.number = "456"
    assert hash(options) == hash(CallOptions("123", detect=(("amd", False),)))


class Minimal(Leg):
    """A leg implementing only what it must: it starts and hangs up."""

    kind = "test"
    direction = "outbound"

    def start(self, now: float) -> list[Output]:
        self.started = self.now = now
        self._report(ev.Seized(now))
        return self._take()

    def hangup(self, now: float, cause: int = 16) -> list[Output]:
        self._begin(now)
        self.outcome = "no_answer"
        self._do(Hook(HookOp.ONHOOK))
        self._report(ev.HungUp(now, "near_end", "no_answer", cause))
        return self._take()


def test_the_base_class_answers_the_inputs_a_leg_does_not_take() -> None:
    leg = Minimal(4, 2, 33, "555")
    leg.start(10.0)
    assert leg.on_signal(11.0, object()) == [] and leg.on_time(11.0) == []
    assert leg.next_deadline() is None
    with pytest.raises(CallStateError, match="cannot answer call 4: it is outbound"):
        leg.answer(11.0)


def test_the_base_class_reports_only_the_far_ends_digits() -> None:
    leg = Minimal(4, 2, 33, "555")
    leg.start(10.0)
    assert leg.on_detection(12.0, ToneEvent(33, 0, 0, tone="busy")) == []
    assert leg.on_detection(12.5, VoiceEvent(33, 0, 0)) == []
    out = leg.on_detection(13.0, DtmfEvent(33, 0, 0, digit="#", duration=640))
    assert out == [ev.DigitReceived(13.0, "#")] and leg.now == 13.0


def test_outputs_come_in_the_order_they_arose_and_only_once() -> None:
    leg = Minimal(4, 2, 33, "555")
    leg.start(10.0)
    out = leg.hangup(15.0, cause=17)
    assert out == [Hook(HookOp.ONHOOK), ev.HungUp(15.0, "near_end", "no_answer", 17)]
    assert leg.ended and leg._take() == []
    assert leg.events == [ev.Seized(10.0), ev.HungUp(15.0, "near_end", "no_answer", 17)]


def test_observations_and_result_are_timed_from_the_start() -> None:
    leg = Minimal(4, 2, 33, "555")
    leg.start(10.0)
    assert leg.result() == {"number": "555", "outcome": "error", "answered_by": None,
                            "events": [{"t": 0.0, "event": "seized"}], "duration": 0.0}
    leg.hangup(12.3456)
    result = leg.result()
    assert result["outcome"] == "no_answer" and result["duration"] == 2.346
    assert result["events"][-1] == {"t": 2.346, "event": "hangup", "by": "near_end"}


def test_time_never_goes_back_for_a_leg() -> None:
    leg = Minimal(4, 2, 33, "555")
    leg.start(10.0)
    leg.on_detection(12.0, DtmfEvent(33, 0, 0, digit="1", duration=640))
    leg.on_detection(11.0, DtmfEvent(33, 0, 0, digit="2", duration=640))
    assert leg.now == 12.0


def test_repr_names_the_call() -> None:
    assert repr(Minimal(4, 2, 33, "555")) == "<Minimal 4 outbound '555' span 2 channel 33>"
