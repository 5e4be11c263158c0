"""Every row of both leg tables is taken by some scenario, and each scenario ends cleanly.

The legs' ``_fire`` is watched while a set of scenarios runs (pairs, and a few legs
driven by hand where only a scripted far end can say it); every leg must end with one
``HungUp``, and every ``(state, signal)`` row of :data:`TRANSITIONS` and
:data:`INBOUND_TRANSITIONS` must have been taken at least once.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from r2_kit import CALLING, NUMBER, hungups, inbound, run_until_offered

from trunkline.drivers.dsp.events import AmdEvent, AnnouncementEvent, MfEvent, SitEvent, ToneEvent
from trunkline.drivers.model import CardEvent, EventKind
from trunkline.drivers.signalling.leg import CallOptions
from trunkline.drivers.signalling.r2 import leg as r2leg
from trunkline.drivers.signalling.r2.inbound import INBOUND_TRANSITIONS, InState, R2InboundLeg
from trunkline.drivers.signalling.r2.leg import (
    TRANSITIONS,
    R2Leg,
    State,
)
from trunkline.drivers.signalling.r2.line import Line
from trunkline.drivers.signalling.r2.pair import Behaviour, R2Pair
from trunkline.drivers.signalling.r2.variants import Group


@pytest.fixture
def watch(monkeypatch: pytest.MonkeyPatch) -> Iterator[set[tuple[Any, Any]]]:
    seen: set[tuple[Any, Any]] = set()
    for cls in (R2Leg, R2InboundLeg):
        table = TRANSITIONS if cls is R2Leg else INBOUND_TRANSITIONS
        original = cls._fire

        def fire(self: Any, signal: Any, *args: Any, _o: Any = original,
                 _t: Any = table) -> None:
            if (self.state, signal) in _t:
                seen.add((self.state, signal))
            _o(self, signal, *args)
        monkeypatch.setattr(cls, "_fire", fire)
    yield seen


def bits(leg: R2Leg, value: int, t: float) -> None:
    assert leg.channel is not None
    leg.on_signal(t, CardEvent(t, EventKind.BITS_CHANGED, leg.channel, 1, value))


def backward(leg: R2Leg, signal: int, t: float, *states: str) -> None:
    for state in states:
        leg.on_detection(t, MfEvent(7, 0, 0, digit="1234567890BCDEF"[signal - 1],
                                    duration=240, system="r2_backward", state=state))


def direct(**kw: Any) -> R2Leg:
    leg = R2Leg(1, 1, 7, CallOptions(NUMBER, **kw), Line("br", 7))
    leg.start(0.0)
    bits(leg, 0b1101, 0.1)   # seizure acknowledged
    return leg


# -- the scenarios ------------------------------------------------------------------------

def normal() -> R2Pair:
    pair = R2Pair("cn", delay=0.02, b=Behaviour(answer_after=0.5, hangup_after=2.0))
    pair.originate("a", CallOptions(NUMBER, calling=CALLING, amd=False))
    return pair


def glare() -> R2Pair:
    pair = R2Pair("itu", delay=0.04)
    pair.originate("a", CallOptions(NUMBER), channel=1)
    pair.originate("b", CallOptions(NUMBER), channel=1)
    return pair


def deaf() -> R2Pair:
    pair = R2Pair("itu", delay=0.02, deaf="b")
    pair.originate("a", CallOptions(NUMBER))
    return pair


def refused() -> R2Pair:
    pair = R2Pair("itu", delay=0.02, b=Behaviour(refuse_cause=17))
    pair.originate("a", CallOptions(NUMBER))
    return pair


def muted() -> R2Pair:
    pair = R2Pair("cn", delay=0.02, mute_after=("b", 3))
    pair.originate("a", CallOptions(NUMBER))
    return pair


def ring_timeout() -> R2Pair:
    pair = R2Pair("itu", delay=0.02, b=Behaviour(answer_after=None, accept_on_offer=True,
                                                  offer_for=60.0))
    pair.originate("a", CallOptions(NUMBER, ring_timeout=5.0))
    return pair


def amd_and_fax() -> R2Pair:
    pair = R2Pair("itu", delay=0.02, b=Behaviour(answer_after=0.2, hangup_after=20.0))
    legs = [pair.originate("a", CallOptions(NUMBER), channel=None) for _ in range(1)]
    pair.run(20.0, until=lambda: legs[0].state is State.ANSWERED)
    legs[0].on_detection(pair.now, AmdEvent(1, 0, 0, result="machine", after_answer=0))
    return pair


def fax() -> R2Pair:
    pair = R2Pair("itu", delay=0.02, b=Behaviour(answer_after=0.2, hangup_after=20.0))
    leg = pair.originate("a", CallOptions(NUMBER))
    pair.run(20.0, until=lambda: leg.state is State.ANSWERED)
    pair.perform(leg, leg.on_detection(pair.now, ToneEvent(1, 0, 0, tone="fax_ced")))
    return pair


def amd_timeout_then_hold() -> R2Pair:
    pair = R2Pair("itu", delay=0.02, b=Behaviour(answer_after=0.2))
    pair.originate("a", CallOptions(NUMBER, hold=1.0))
    return pair


def far_clears_during_amd() -> R2Pair:
    pair = R2Pair("itu", delay=0.02, b=Behaviour(answer_after=0.2, hangup_after=1.0))
    pair.originate("a", CallOptions(NUMBER))
    return pair


def max_durations() -> list[R2Pair]:
    pairs = []
    for behaviour, fault, opts in (
            (Behaviour(), {"deaf": "b"}, {"max_duration": 1.0}),                       # SEIZING
            (Behaviour(answer_after=None, offer_for=60.0), {}, {"max_duration": 4.0}),  # REGISTER
            (Behaviour(answer_after=None, accept_on_offer=True, offer_for=60.0), {},
             {"max_duration": 6.0, "ring_timeout": 60.0}),                              # ALERTING
            (Behaviour(answer_after=0.1), {}, {"max_duration": 4.0}),                   # ANSWERED
            (Behaviour(answer_after=0.1), {}, {"max_duration": 4.0, "amd": False})):   # CONNECTED
        pair = R2Pair("itu", delay=0.02, b=behaviour, **fault)
        pair.originate("a", CallOptions("5", **opts))
        pairs.append(pair)
    return pairs


def answer_before_accept() -> None:
    leg = direct()
    leg.register.group = Group.B
    backward(leg, 1, 0.2, "on")
    bits(leg, 0b0101, 0.3)
    assert leg.state is State.ANSWERED


def forced_release_in_register_and_alerting() -> None:
    leg = direct()
    bits(leg, 0b0001, 0.2)      # forced release (openr2: Brazil) during the register
    assert leg.state is State.CLEARING
    leg = direct()
    leg.register.group = Group.B
    backward(leg, 1, 0.2, "on", "off")   # B-1 free (Brazil)
    assert leg.state is State.ALERTING
    bits(leg, 0b0001, 0.5)
    assert leg.state is State.CLEARING and leg.outcome == "no_answer"


def information_instead_of_ringing() -> None:
    """After group B free, an announcement, a SIT or a busy tone decides the call."""
    cases = ((AnnouncementEvent(7, 0, 0, announcement="powered_off"), "unreachable"),
             (SitEvent(7, 0, 0, code="IC"), "invalid_number"),
             (ToneEvent(7, 0, 0, tone="busy"), "busy"),
             (ToneEvent(7, 0, 0, tone="congestion"), "congestion"))
    for event, outcome in cases:
        leg = direct()
        leg.register.group = Group.B
        backward(leg, 1, 0.2, "on", "off")   # B-1 free (Brazil)
        assert leg.state is State.ALERTING
        leg.on_detection(0.5, event)
        assert leg.state is State.CLEARING and leg.outcome == outcome, (event, leg.outcome)


def span_alarm() -> list[R2Pair]:
    """The span goes into alarm with a call in each state, on either end."""
    from trunkline.drivers.signalling.events import SpanAlarm

    alarm = SpanAlarm(1, 1)
    pairs = []
    outbound = (("seizing", Behaviour(), {"deaf": "b"}, {}),
                ("register", Behaviour(answer_after=None, offer_for=60.0), {}, {}),
                ("alerting", Behaviour(answer_after=None, accept_on_offer=True,
                                       offer_for=60.0), {}, {"ring_timeout": 60.0}),
                ("answered", Behaviour(answer_after=0.1), {}, {}),
                ("connected", Behaviour(answer_after=0.1), {}, {"amd": False}))
    for state, behaviour, fault, opts in outbound:
        pair = R2Pair("cn", delay=0.02, b=behaviour, **fault)
        leg = pair.originate("a", CallOptions(NUMBER, **opts))
        pair.run(20.0, until=lambda leg=leg, state=state: leg.state.value == state)
        assert leg.state.value == state, (state, leg.state)
        pair._perform(pair._end_of(leg), leg, leg.on_signal(pair.now, alarm))
        assert leg.state in (State.CLEARING, State.DONE) and leg.outcome, state
        pairs.append(pair)
    inbound_states = (("collecting", Behaviour()),
                      ("offered", Behaviour(answer_after=None, offer_for=60.0)),
                      ("ringing", Behaviour(answer_after=None, accept_on_offer=True,
                                            offer_for=60.0)),
                      ("accepting", Behaviour(answer_after=0.1)),
                      ("answered", Behaviour(answer_after=0.1)),
                      ("refusing", Behaviour(refuse_cause=17)))
    for state, behaviour in inbound_states:
        pair = R2Pair("cn", delay=0.02, b=behaviour)
        pair.originate("a", CallOptions(NUMBER, ring_timeout=60.0))

        def reached(state: str = state, pair: R2Pair = pair) -> bool:
            return any(isinstance(leg, R2InboundLeg) and leg.state.value == state
                       for leg in pair.b.calls)
        pair.run(20.0, until=reached)
        assert reached(), state
        far = inbound(pair)
        pair._perform(pair._end_of(far), far, far.on_signal(pair.now, alarm))
        assert far.state in (InState.CLEARING, InState.DONE), state
        pairs.append(pair)
    return pairs


def release_guard_never_comes() -> None:
    leg = direct()
    leg.hangup(1.0)
    leg.on_time(4.0)
    assert leg.ended


def inbound_scenarios() -> list[R2Pair]:
    pairs = []
    # a forward signal that makes no sense is refused (congestion); the far end clears
    line = Line("cn", 7)
    line.receive(0.0, line.variant.line.bits("seizing"))
    far = R2InboundLeg(1, 1, 7, line, offer_for=10.0)
    far.start(0.0)
    for t, state in ((0.1, "on"), (0.2, "off")):
        far.on_detection(t, MfEvent(7, 0, 0, digit="D", duration=240, system="r2_forward",
                                    state=state))
    assert far.state is InState.REFUSING
    far.on_signal(0.5, CardEvent(0.5, EventKind.BITS_CHANGED, 7, 1, 0b1011))
    assert far.ended and far.outcome == "rejected"
    # a hangup while collecting
    pair = R2Pair("cn", delay=0.02)
    pair.originate("a", CallOptions(NUMBER))
    pair.run(0.5)
    pair.hangup(inbound(pair))
    pairs.append(pair)
    # offered: nobody answers; the caller gives up; the caller's register gives up
    pair = R2Pair("itu", delay=0.02, b=Behaviour(answer_after=None, offer_for=2.0))
    pair.originate("a", CallOptions(NUMBER))
    pairs.append(pair)
    pair = R2Pair("itu", delay=0.02, b=Behaviour(answer_after=None, offer_for=60.0))
    leg = pair.originate("a", CallOptions(NUMBER))
    run_until_offered(pair)
    pair.hangup(leg)
    pairs.append(pair)
    pair = R2Pair("itu", delay=0.02, b=Behaviour(answer_after=None, offer_for=60.0),
                  deaf="a", deaf_after=1.0)   # its MF stops; its clear-forward is lost
    pair.originate("a", CallOptions(NUMBER))
    pairs.append(pair)
    # ringing: answered; refused; nobody answers
    for b in (Behaviour(answer_after=1.0, accept_on_offer=True, hangup_after=1.0),
              Behaviour(refuse_cause=17, accept_on_offer=True),
              Behaviour(answer_after=None, accept_on_offer=True, offer_for=1.0)):
        pair = R2Pair("itu", delay=0.02, b=b)
        pair.originate("a", CallOptions(NUMBER, ring_timeout=20.0))
        pairs.append(pair)
    # our group B answer lost (ringing, accepting, refusing): the forward never ends
    count = _backward_signals_before_b()
    for b in (Behaviour(answer_after=None, accept_on_offer=True),
              Behaviour(answer_after=0.3),
              Behaviour(refuse_cause=17)):
        pair = R2Pair("itu", delay=0.02, b=b, mute_after=("b", count))
        pair.originate("a", CallOptions(NUMBER))
        pairs.append(pair)
    # accepting: the application hangs up at once; the caller clears meanwhile
    pair = R2Pair("itu", delay=0.02, b=Behaviour(answer_after=None, offer_for=60.0))
    leg = pair.originate("a", CallOptions(NUMBER))
    far = run_until_offered(pair)
    pair.answer(far)
    pair.hangup(far)
    pairs.append(pair)
    pair = R2Pair("itu", delay=0.02, b=Behaviour(answer_after=None, offer_for=60.0))
    leg = pair.originate("a", CallOptions(NUMBER))
    far = run_until_offered(pair)
    pair.answer(far)
    pair.hangup(leg)
    pairs.append(pair)
    # the application lets it ring (an exchange putting the call through), then answers
    pair = R2Pair("cn", delay=0.02, b=Behaviour(answer_after=None, offer_for=60.0))
    leg = pair.originate("a", CallOptions(NUMBER, ring_timeout=30.0))
    far = run_until_offered(pair)
    pair._perform(pair._end_of(far), far, far.ring(pair.now))
    pair.run(5.0, until=lambda: leg.state is State.ALERTING)
    assert leg.state is State.ALERTING and far.state is InState.RINGING
    pair.answer(far)
    pair.run(5.0, until=lambda: leg.state is not State.ALERTING)
    assert leg.state is State.ANSWERED
    pair.hangup(leg)
    pairs.append(pair)
    # refused, and the caller's clear-forward never arrives
    pair = R2Pair("itu", delay=0.02, b=Behaviour(refuse_cause=17), deaf="a", deaf_after=0.5)
    pair.originate("a", CallOptions(NUMBER))
    pairs.append(pair)
    return pairs


def _backward_signals_before_b() -> int:
    pair = R2Pair("itu", delay=0.02, b=Behaviour(answer_after=None, offer_for=60.0))
    pair.originate("a", CallOptions(NUMBER))
    run_until_offered(pair)
    return pair.b.mf_sent


SCENARIOS: dict[str, Callable[[], Any]] = {
    "normal": normal, "glare": glare, "deaf": deaf, "refused": refused, "muted": muted,
    "ring_timeout": ring_timeout, "amd": amd_and_fax, "fax": fax,
    "amd_timeout_then_hold": amd_timeout_then_hold,
    "far_clears_during_amd": far_clears_during_amd, "max_durations": max_durations,
    "answer_before_accept": answer_before_accept,
    "forced_release": forced_release_in_register_and_alerting,
    "release_guard_never_comes": release_guard_never_comes,
    "information": information_instead_of_ringing,
    "span_alarm": span_alarm,
    "inbound": inbound_scenarios,
}


def test_every_row_is_taken_by_a_scenario(watch: set[tuple[Any, Any]]) -> None:
    for name, scenario in SCENARIOS.items():
        made = scenario()
        pairs = made if isinstance(made, list) else [made] if isinstance(made, R2Pair) else []
        for pair in pairs:
            pair.settle(200.0)
            for leg in pair.a.calls + pair.b.calls:
                downs = hungups(leg)
                assert len(downs) == 1 and leg.events[-1] is downs[0], (name, leg)
            assert not pair.a.violations and not pair.b.violations, name
    missing = sorted(f"{s.value}+{g.name}" for s, g in
                     set(TRANSITIONS) | set(INBOUND_TRANSITIONS) if (s, g) not in watch)
    assert missing == []


def test_the_states_of_the_tables() -> None:
    assert {s for s, _ in TRANSITIONS} == set(State) - {State.DONE}
    assert {s for s, _ in INBOUND_TRANSITIONS} == set(InState) - {InState.DONE}
    assert r2leg.CAUSE_TIMEOUT == 102 and r2leg.CAUSE_GLARE == 44
