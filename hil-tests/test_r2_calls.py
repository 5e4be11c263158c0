"""MFC/R2 (China No.1) over an emulated E1 CAS span: every subscriber behaviour, calls
toward us, and the line faults an installer meets.

The far end is the emulated exchange's R2 register (our engine in the backward role,
drivers/backends/emulated/r2_network.py): the ABCD bits cross the card's CAS, the
compelled MF tones cross the timeslot's audio and are heard by each end's own detector.
"""

from __future__ import annotations

import pytest
from trunk_calls import Offers, first_span

from trunkline.drivers.dsp.zones import load_zone
from trunkline.drivers.lineloop import LineLoop
from trunkline.drivers.model import SpanSignalling
from trunkline.drivers.signalling.base import InboundPolicy
from trunkline.drivers.signalling.leg import CallOptions, Leg
from trunkline.drivers.signalling.r2.line import LineState
from trunkline.errors import CallStateError

CN = load_zone("cn")


def r2_span(card) -> int:
    return first_span(card, SpanSignalling.CAS, "MFC/R2")


def place(card, number: str, channel: int | None = None, **options) -> Leg:
    span = r2_span(card)
    with LineLoop(card, zone=CN, spans=[span]) as loop:
        leg = loop.originate(CallOptions(number, **{"hold": 1.0, **options}), span=span,
                             channel=channel)
        loop.run(lambda: leg.ended)
    return leg


@pytest.mark.parametrize(("number", "outcome", "cause"), [
    ("13800000001", "human", None),
    ("13900000001", "machine", None),
    ("01050000001", "fax", None),
    ("13700000001", "busy", 17),           # KB2
    ("13500000001", "congestion", 34),     # KB4
    ("13000000001", "invalid_number", 1),  # KB5
    ("13400000001", "unreachable", None),  # KB1, then the carrier's recording
    ("13300000001", "unreachable", None),
])
def test_outcome_and_cause(emulated, number, outcome, cause):
    result = place(emulated, number).result()
    assert (result["outcome"], result.get("cause")) == (outcome, cause), result["events"]


def test_no_answer_rings_until_we_give_up(emulated):
    result = place(emulated, "13600000001", ring_timeout=10.0).result()
    assert result["outcome"] == "no_answer"
    kinds = [e["event"] for e in result["events"]]
    assert "alerting" in kinds and "answered" not in kinds


def test_the_register_sends_the_number_and_the_calling_party(emulated):
    span = r2_span(emulated)
    with LineLoop(emulated, zone=CN, spans=[span]) as loop:
        leg = loop.originate(CallOptions("13800000002", calling="01088886666", hold=0.5),
                             span=span)
        loop.run(lambda: leg.ended)
        side = emulated.network_side(span)
    signals = [e for e in leg.result()["events"] if e["event"] == "r2"]
    forward = [e["signal"] for e in signals if e["direction"] == "forward" and e["group"] == "I"]
    digits = "".join(str(s % 10) for s in forward)  # Q.441: I-10 is the digit 0
    # China No.1: the called number; A6 asks for KA (1: ordinary subscriber) and the
    # calling number, which ends with I-15; then A3 and KD in group II.
    assert digits == "13800000002" + "1" + "01088886666" + "5", forward
    assert forward[-1] == 15
    assert [e["signal"] for e in signals if e["group"] == "II"] == [3]  # KD=3 local call
    assert side.errors == []


def test_a_call_toward_us_is_offered_with_the_calling_number(emulated):
    span = r2_span(emulated)
    offers = Offers()
    offered = offers.offered
    with LineLoop(emulated, zone=CN, spans=[span], listener=offers,
                  inbound=InboundPolicy(timeout=20.0)) as loop:
        loop.tick()
        side = emulated.network_side(span)
        channel = side.originate("80001234", "13912345678")
        loop.run(lambda: bool(offered), max_seconds=10)
        leg, event = offered[0]
        assert (event.calling, event.called, leg.channel) == ("13912345678", "80001234", channel)
        loop.answer(leg)
        far = side.calls[channel].leg
        loop.run(lambda: far.result()["answered_by"] is not None, max_seconds=5)
        loop.hangup(leg)
        loop.run(lambda: leg.ended and channel not in side.calls, max_seconds=10)
    assert leg.result()["outcome"] == "human"


def test_glare_both_ends_seize_one_circuit(emulated):
    """Both ends seize the same circuit in the same frame (Q.422 3.2.7 double seizure):
    our call gives it up as congestion with cause 44 (a dialer retries it: the number was
    never reached), and the circuit is usable again afterwards."""
    span = r2_span(emulated)
    with LineLoop(emulated, zone=CN, spans=[span], inbound=InboundPolicy(timeout=5.0)) as loop:
        loop.tick()
        side = emulated.network_side(span)
        channel = emulated.span(span).channels[0]
        ours = loop.originate(CallOptions("13800000003", hold=0.5), span=span, channel=channel)
        side.originate("80001235", "13912345679", channel=channel)
        loop.run(lambda: ours.ended, max_seconds=30)
        result = ours.result()
        assert (result["outcome"], result["cause"]) == ("congestion", 44), result["events"]
        assert result["events"][-1]["reason"] == "double seizure"
        loop.run(lambda: channel not in side.calls and loop.modules[span].r2.free(channel),
                 max_seconds=30)
        again = loop.originate(CallOptions("13700000003"), span=span, channel=channel)
        loop.run(lambda: again.ended, max_seconds=30)
    assert again.result()["outcome"] == "busy"


def test_a_far_end_that_stops_answering_the_compelled_sequence(emulated):
    """The exchange's register goes deaf after the seizure: our forward signal is never
    acknowledged, the call ends with cause 102 (Q.476 abnormal release), and the circuit
    comes back to idle for the next call."""
    span = r2_span(emulated)
    with LineLoop(emulated, zone=CN, spans=[span]) as loop:
        loop.tick()
        side = emulated.network_side(span)
        deaf = side.detector.process
        side.detector.process = lambda block, ids: []
        leg = loop.originate(CallOptions("13800000004"), span=span)
        loop.run(lambda: leg.ended, max_seconds=120)
        result = leg.result()
        assert (result["outcome"], result["cause"]) == ("error", 102), result["events"]
        side.detector.process = deaf
        channel = leg.channel
        loop.run(lambda: loop.modules[span].r2.free(channel), max_seconds=60)
        again = loop.originate(CallOptions("13700000004"), span=span, channel=channel)
        loop.run(lambda: again.ended, max_seconds=30)
    assert again.result()["outcome"] == "busy"


def test_circuits_blocked_by_the_far_end_are_avoided(emulated):
    span = r2_span(emulated)
    with LineLoop(emulated, zone=CN, spans=[span]) as loop:
        loop.tick()
        side = emulated.network_side(span)
        module = loop.modules[span]
        top = max(emulated.span(span).channels)
        side.block(top)
        loop.tick()
        assert module.r2.line(top).state is LineState.REMOTE_BLOCKED
        assert not module.can_place(top) and module.r2.hunt() != top
        with pytest.raises(CallStateError, match="blocked"):
            loop.originate(CallOptions("13800000005"), span=span, channel=top)
        leg = loop.originate(CallOptions("13700000005"), span=span)
        assert leg.channel != top
        loop.run(lambda: leg.ended, max_seconds=30)
        side.unblock(top)
        loop.tick()
        assert module.can_place(top)
    assert leg.result()["outcome"] == "busy"


def test_a_span_alarm_mid_call_clears_the_call(emulated):
    span = r2_span(emulated)
    with LineLoop(emulated, zone=CN, spans=[span]) as loop:
        leg = loop.originate(CallOptions("13600000006", ring_timeout=60.0), span=span)
        loop.run(lambda: any(e["event"] == "alerting" for e in leg.result()["events"]),
                 max_seconds=10)
        emulated.simulate_alarm(span, "red")
        loop.run(lambda: leg.ended, max_seconds=10)
        emulated.simulate_alarm(span, "red", on=False)
    result = leg.result()
    assert (result["outcome"], result["cause"]) == ("congestion", 38), result["events"]
