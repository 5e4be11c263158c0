"""Our outgoing end against our incoming end (R2Pair), and the span that keeps the circuits:
calls both ways in every variant, glare, hunting, blocking."""

from __future__ import annotations

import pytest
from r2_kit import CALLING, NUMBER, hungups, inbound, names

from trunkline.drivers.signalling import events as ev
from trunkline.drivers.signalling.actions import SetBits
from trunkline.drivers.signalling.leg import CallOptions
from trunkline.drivers.signalling.r2.leg import State
from trunkline.drivers.signalling.r2.line import LineState
from trunkline.drivers.signalling.r2.pair import Behaviour, R2Pair
from trunkline.drivers.signalling.r2.span import R2Span
from trunkline.drivers.signalling.r2.variants import VARIANTS
from trunkline.errors import CallStateError

ALL = sorted(VARIANTS)


@pytest.mark.parametrize("name", ALL)
@pytest.mark.parametrize(("caller", "callee"), [("a", "b"), ("b", "a")])
@pytest.mark.parametrize("delay", [0.0, 0.06])
def test_calls_complete_both_ways(name: str, caller: str, callee: str, delay: float) -> None:
    pair = R2Pair(name, channels=(1, 2, 3), delay=delay,
                  **{callee: Behaviour(answer_after=0.3)})
    leg = pair.originate(caller, CallOptions(NUMBER, calling=CALLING, amd=False, hold=1.0))
    pair.settle()
    assert names(leg) == ["seized", "alerting", "answered", "decided", "hangup"]
    assert hungups(leg)[0].by == "near_end" and leg.outcome == "human"
    far = inbound(pair, callee)
    assert far.called == NUMBER and far.outcome == "human"
    assert hungups(far)[0].by == "far_end"
    assert pair.quiet() and not pair.a.violations and not pair.b.violations


def test_both_ends_hunt_from_opposite_ends() -> None:
    pair = R2Pair("cn", channels=(1, 2, 3), b=Behaviour(answer_after=None, offer_for=30.0))
    first = pair.originate("a", CallOptions(NUMBER))
    second = pair.originate("b", CallOptions(NUMBER))
    assert (first.channel, second.channel) == (1, 3)
    pair.run(0.5)
    assert first.state is State.REGISTER and second.state is State.REGISTER


@pytest.mark.parametrize("name", ALL)
def test_glare_both_ends_release(name: str) -> None:
    """Q.422 3.2.7: both ends seize the circuit at once, hold seizing, then clear."""
    pair = R2Pair(name, delay=0.04)
    a = pair.originate("a", CallOptions(NUMBER), channel=1)
    b = pair.originate("b", CallOptions(NUMBER), channel=1)
    pair.settle()
    for leg in (a, b):
        (hung,) = hungups(leg)
        assert (hung.outcome, hung.cause) == ("congestion", 44)
        assert ("reason", "double seizure") in hung.notes
        assert hung.at >= 0.04 + 0.15     # seizing held at least double_seizure
    assert not [leg for leg in pair.a.calls + pair.b.calls if leg.direction == "inbound"]
    assert pair.quiet()


def test_a_second_call_on_the_same_circuit_after_release() -> None:
    pair = R2Pair("itu", delay=0.02, b=Behaviour(answer_after=0.2, hangup_after=0.5))
    first = pair.originate("a", CallOptions(NUMBER, amd=False), channel=1)
    pair.settle()
    second = pair.originate("a", CallOptions(NUMBER, amd=False), channel=1)
    pair.settle()
    assert first.outcome == second.outcome == "human"
    assert len(pair.b.calls) == 2 and pair.quiet()


# -- the span ---------------------------------------------------------------------------------

def test_span_hunting_and_freedom() -> None:
    span = R2Span(1, (5, 6, 7), "cn")
    assert span.hunt() == 5 and R2Span(1, (5, 6, 7), hunt_descending=True).hunt() == 7
    leg = span.outbound(1, None, CallOptions(NUMBER))
    assert leg.channel == 5
    leg.start(0.0)
    assert not span.free(5) and span.hunt() == 6
    with pytest.raises(CallStateError, match="channel 5: the circuit is seized"):
        span.outbound(2, 5, CallOptions(NUMBER))
    with pytest.raises(CallStateError, match="not a circuit"):
        span.line(9)
    with pytest.raises(CallStateError, match="held by call 1"):
        span.receive(0.1, 5, 0b1111)
    with pytest.raises(ValueError, match="no channels"):
        R2Span(1, (), "cn")
    span.outbound(2, None, CallOptions(NUMBER)).start(0.0)
    span.outbound(3, None, CallOptions(NUMBER)).start(0.0)
    with pytest.raises(CallStateError, match="no free circuit"):
        span.outbound(4, None, CallOptions(NUMBER))


def test_span_start_sends_idle_and_reads_the_far_end() -> None:
    span = R2Span(1, (1, 2), "cn")
    out = span.start(0.0, rx={2: 0b1111})
    assert out == [(1, SetBits(0b1011)), (2, SetBits(0b1011))]
    assert span.free(1) and not span.free(2)
    assert span.line(2).state is LineState.REMOTE_BLOCKED


def test_span_blocking() -> None:
    span = R2Span(1, (1, 2), "itu")
    assert span.block(0.0, 1) == [(1, SetBits(0b1101))]
    assert not span.free(1) and span.hunt() == 2
    with pytest.raises(CallStateError, match="cannot block channel 1"):
        span.block(0.0, 1)
    assert span.unblock(1.0, 1) == [(1, SetBits(0b1001))] and span.free(1)


def test_a_circuit_blocked_by_the_far_end_is_not_hunted() -> None:
    pair = R2Pair("itu", channels=(1, 2))
    for ch, bits in pair.b.span.block(pair.now, 1):
        pair._send_bits(pair.b, ch, bits.bits)
    pair.run(0.1)
    assert not pair.a.span.free(1) and pair.a.span.hunt() == 2


def test_span_inbound_needs_a_seizure_and_runs_idle_timers() -> None:
    span = R2Span(1, (1,), "itu")
    with pytest.raises(CallStateError, match="not seized"):
        span.inbound(1, 1, offer_for=5.0)
    assert span.receive(0.0, 1, 0b0001) == [] and span.seized(1)
    leg = span.inbound(1, 1, offer_for=5.0)
    leg.start(0.0)
    assert not span.seized(1)
    assert span.next_deadline() is None and span.on_time(100.0) == []


def test_the_span_finishes_a_release_the_leg_gave_up_on() -> None:
    pair = R2Pair("itu", delay=0.02, b=Behaviour(answer_after=None, accept_on_offer=True,
                                                  offer_for=1.0))
    leg = pair.originate("a", CallOptions(NUMBER, ring_timeout=30.0))
    pair.run(10.0, until=lambda: bool(pair.b.calls) and pair.b.calls[0].ended)
    far = pair.b.calls[0]
    assert far.ended and not pair.b.span.free(1)
    assert pair.b.span.line(1).state is LineState.IN_CLEARING_BACK
    pair.settle()
    assert leg.outcome == "no_answer" and pair.quiet()
    assert isinstance(far.events[-1], ev.HungUp)


def test_pair_arguments() -> None:
    with pytest.raises(ValueError, match="delay"):
        R2Pair("cn", delay=-1)
    pair = R2Pair("cn")
    with pytest.raises(ValueError, match="not a call of this pair"):
        pair.hangup(R2Span(9, (1,)).outbound(99, 1, CallOptions(NUMBER)))
