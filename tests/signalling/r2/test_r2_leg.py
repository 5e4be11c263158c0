"""MFC/R2 call legs: the rows of both tables, outcomes and causes, timers, the actions they
ask for. Most run through :class:`R2Pair` (our outgoing end against our incoming end);
a few drive a leg by hand where only a scripted far end can say it."""

from __future__ import annotations

import pytest
from r2_kit import CALLING, NUMBER, did, hungups, inbound, names, run_until_offered

from trunkline.drivers.dsp.dtmf import MF_CHARS
from trunkline.drivers.dsp.events import AmdEvent, DtmfEvent, MfEvent, ToneEvent
from trunkline.drivers.model import CardEvent, EventKind
from trunkline.drivers.signalling import actions as act
from trunkline.drivers.signalling import events as ev
from trunkline.drivers.signalling.detection import AMD_WINDOW
from trunkline.drivers.signalling.leg import CallOptions
from trunkline.drivers.signalling.r2.events import R2LineSignal, R2Signal
from trunkline.drivers.signalling.r2.inbound import INBOUND_TRANSITIONS, InState, R2InboundLeg
from trunkline.drivers.signalling.r2.leg import (
    RESULTS,
    TRANSITIONS,
    R2Leg,
    State,
)
from trunkline.drivers.signalling.r2.line import Line, LineState
from trunkline.drivers.signalling.r2.pair import Behaviour, R2Pair
from trunkline.drivers.signalling.r2.variants import VARIANTS, Group, Meaning
from trunkline.errors import CallStateError, NumberFormatError
from trunkline.vocab import Outcome

ALL = sorted(VARIANTS)


def options(**kw: object) -> CallOptions:
    return CallOptions(kw.pop("number", NUMBER), **kw)  # type: ignore[arg-type]


def test_tables_cite_a_reason_for_every_row() -> None:
    assert all(why for _, why in TRANSITIONS.values())
    assert all(why for _, why in INBOUND_TRANSITIONS.values())
    assert all(hasattr(R2Leg, method) for method, _ in TRANSITIONS.values())
    assert all(hasattr(R2InboundLeg, method) for method, _ in INBOUND_TRANSITIONS.values())


# -- a whole call ---------------------------------------------------------------------------

@pytest.mark.parametrize("name", ALL)
def test_a_call_through_from_seizure_to_release(name: str) -> None:
    pair = R2Pair(name, delay=0.02, b=Behaviour(answer_after=1.0, hangup_after=2.0))
    leg = pair.originate("a", options(calling=CALLING, amd=False))
    pair.settle()
    assert names(leg) == ["seized", "alerting", "answered", "decided", "hangup"]
    assert leg.outcome == "human" and leg.answered_by == "human"
    (hung,) = hungups(leg)
    assert (hung.by, hung.outcome, hung.cause) == ("far_end", "human", None)
    far = inbound(pair)
    assert names(far) == ["offered", "answered", "hangup"]
    offered = next(e for e in far.events if isinstance(e, ev.Offered))
    assert offered.called == NUMBER
    assert offered.calling == CALLING[:VARIANTS[name].max_calling]
    assert hungups(far)[0].by == "near_end" and far.outcome == "human"
    assert pair.quiet() and not pair.a.violations and not pair.b.violations
    # the decoded sequence is there for `trunkline call --trace`
    assert any(isinstance(e, R2Signal) and e.group == "B" for e in leg.events)
    assert any(isinstance(e, R2LineSignal) and e.signal == "answered" for e in leg.events)


def test_actions_of_an_outbound_call() -> None:
    pair = R2Pair("cn", delay=0.02, b=Behaviour(answer_after=1.0, hangup_after=1.0))
    leg = pair.originate("a", options(hold=None))
    pair.settle()
    a = pair.a
    kinds = [type(o).__name__ for _, call, o in a.log if call == leg.id
             and isinstance(o, act.Action)]
    assert kinds[0] == "SetBits" and kinds[1] == "DetectMf"     # seize, then listen for A
    assert did(a, leg, act.DetectMf)[0] == act.DetectMf("r2_backward")
    assert did(a, leg, act.DetectMf)[-1] == act.DetectMf(None)
    assert len(did(a, leg, act.PlayTone)) == len(did(a, leg, act.StopTone))
    start = did(a, leg, act.StartDetection)
    assert len(start) == 1 and start[0].options["progress"] is True   # after B "free"
    assert did(a, leg, act.MarkAnswered) == [act.MarkAnswered(exact=True)]
    levels = {o.tone.level for o in did(a, leg, act.PlayTone)}
    assert levels == {-11.5}
    assert [o.bits for o in did(a, leg, act.SetBits)] == [0b0011, 0b1011]  # seize, clear


# -- what the far end says, and the outcome ---------------------------------------------------

def respond(pair: R2Pair, meaning: Meaning) -> R2Leg:
    """Call from a; b's incoming register answers the held call with ``meaning``."""
    leg = pair.originate("a", options(calling=CALLING))
    far = run_until_offered(pair)
    pair.perform(far, far.register.respond(pair.now, meaning))
    return leg


CASES = [(name, row.meaning) for name in ALL for row in VARIANTS[name].group_b.values()]


@pytest.mark.parametrize(("name", "meaning"), CASES, ids=[f"{n}-{m.name}" for n, m in CASES])
def test_every_group_b_signal_gives_its_outcome(name: str, meaning: Meaning) -> None:
    pair = R2Pair(name, delay=0.02, b=Behaviour(answer_after=None, offer_for=60.0))
    leg = respond(pair, meaning)
    if meaning in (Meaning.FREE_CHARGE, Meaning.FREE_NO_CHARGE):
        pair.run(5.0)
        assert leg.state is State.ALERTING and names(leg)[-1] == "alerting"
        pair.hangup(leg)
        pair.settle()
        assert hungups(leg)[0].outcome == "no_answer"
        return
    pair.settle()
    outcome, cause = RESULTS[meaning]
    (hung,) = hungups(leg)
    assert (hung.outcome, hung.cause, hung.by) == (outcome.value, cause, "near_end")
    assert "alerting" not in names(leg)
    assert pair.quiet()


def test_results_map_to_the_vocabulary_and_q850() -> None:
    assert RESULTS[Meaning.BUSY] == (Outcome.BUSY, 17)
    assert RESULTS[Meaning.CONGESTION] == (Outcome.CONGESTION, 34)
    assert RESULTS[Meaning.UNALLOCATED] == (Outcome.INVALID_NUMBER, 1)
    assert RESULTS[Meaning.OUT_OF_ORDER] == (Outcome.UNREACHABLE, 27)


@pytest.mark.parametrize(("cause", "outcome"), [
    (17, "busy"), (21, "busy"), (1, "invalid_number"), (34, "congestion"), (99, "congestion")])
def test_inbound_refusals_by_cause(cause: int, outcome: str) -> None:
    pair = R2Pair("itu", delay=0.02, b=Behaviour(refuse_cause=cause))
    leg = pair.originate("a", options())
    pair.settle()
    assert leg.outcome == outcome
    far = inbound(pair)
    assert far.outcome == "rejected" and hungups(far)[0].by == "near_end"
    assert ("refused", cause) in hungups(far)[0].notes


def test_a_refusal_the_variant_cannot_say_is_congestion() -> None:
    pair = R2Pair("cn", delay=0.02, b=Behaviour(refuse_cause=27))   # no B out-of-order
    leg = pair.originate("a", options())
    pair.settle()
    assert (leg.outcome, hungups(leg)[0].cause) == ("congestion", 34)


def test_nobody_answers_an_inbound_call() -> None:
    pair = R2Pair("cn", delay=0.02, b=Behaviour(answer_after=None, offer_for=4.0))
    leg = pair.originate("a", options())
    pair.settle()
    far = inbound(pair)
    assert ev.Rejecting in map(type, far.events)
    assert leg.outcome == "busy"   # the policy's cause 21 is refused as busy
    assert pair.quiet()


def test_accept_on_offer_rings_until_the_answer() -> None:
    pair = R2Pair("itu", delay=0.02, b=Behaviour(answer_after=4.0, accept_on_offer=True))
    leg = pair.originate("a", options(amd=False))
    pair.run(10.0, until=lambda: leg.state is State.ALERTING)
    assert leg.state is State.ALERTING and inbound(pair).state is InState.RINGING
    pair.run(5.0)
    assert leg.state is State.CONNECTED
    answered = [e.at for e in leg.events if isinstance(e, ev.Answered)]
    alerting = [e.at for e in leg.events if isinstance(e, ev.Alerting)]
    assert answered[0] - alerting[0] > 2.0


def test_ring_timeout() -> None:
    pair = R2Pair("itu", delay=0.02, b=Behaviour(answer_after=None, accept_on_offer=True,
                                                  offer_for=120.0))
    leg = pair.originate("a", options(ring_timeout=10.0))
    pair.settle()
    (hung,) = hungups(leg)
    assert hung.outcome == "no_answer" and hung.by == "near_end"
    alerted = next(e.at for e in leg.events if isinstance(e, ev.Alerting))
    assert hung.at - alerted == pytest.approx(10.0, abs=0.1)
    far = inbound(pair)
    assert far.outcome == "rejected" and hungups(far)[0].by == "far_end"


def test_inbound_hangs_up_while_ringing_and_the_caller_gives_up_later() -> None:
    pair = R2Pair("itu", delay=0.02, b=Behaviour(answer_after=None, accept_on_offer=True,
                                                  offer_for=2.0))
    leg = pair.originate("a", options(ring_timeout=20.0))
    pair.settle()
    far = inbound(pair)
    assert far.outcome == "rejected" and ("clear_forward", "missing") in hungups(far)[0].notes
    assert leg.outcome == "no_answer"   # rang out: Q.421 cannot show a clear-back first
    assert pair.quiet()


# -- after the answer -------------------------------------------------------------------------

def answered_call(**kw: object) -> tuple[R2Pair, R2Leg]:
    pair = R2Pair("cn", delay=0.02, b=Behaviour(answer_after=0.5))
    leg = pair.originate("a", options(**kw))
    pair.run(30.0, until=lambda: leg.state in (State.ANSWERED, State.CONNECTED) or leg.ended)
    assert leg.state in (State.ANSWERED, State.CONNECTED)
    return pair, leg


def test_amd_verdict_classifies_and_the_far_end_clears() -> None:
    pair, leg = answered_call()
    pair.perform(leg, leg.on_detection(pair.now, AmdEvent(1, 0, 0, result="machine",
                                                          after_answer=100)))
    assert leg.state is State.CONNECTED and leg.answered_by == "machine"
    assert did(pair.a, leg, act.ConfigureDetection)[-1] is not None
    pair.hangup(inbound(pair))
    pair.settle()
    assert hungups(leg)[0].outcome == "machine" and hungups(leg)[0].by == "far_end"


def test_fax_answers() -> None:
    pair, leg = answered_call()
    pair.perform(leg, leg.on_detection(pair.now, ToneEvent(1, 0, 0, tone="fax_ced")))
    assert leg.answered_by == "fax"


def test_amd_window_then_hold() -> None:
    pair, leg = answered_call(hold=2.0)
    answered = next(e.at for e in leg.events if isinstance(e, ev.Answered))
    pair.settle()
    decided = next(e for e in leg.events if isinstance(e, ev.Classified))
    assert decided.result == "notsure" and decided.reason == "amd_timeout"
    assert decided.at - answered == pytest.approx(AMD_WINDOW, abs=0.05)
    (hung,) = hungups(leg)
    assert hung.by == "near_end" and hung.outcome == "human"
    assert hung.at - decided.at == pytest.approx(2.0, abs=0.1)


def test_digits_after_the_classification_and_on_an_answered_inbound_call() -> None:
    pair, leg = answered_call(amd=False)
    digit = DtmfEvent(1, 0, 0, digit="5", duration=800)
    pair.perform(leg, leg.on_detection(pair.now, digit))
    assert isinstance(leg.events[-1], ev.DigitReceived)
    far = inbound(pair)
    pair.perform(far, far.on_detection(pair.now, digit))
    assert isinstance(far.events[-1], ev.DigitReceived)


def test_max_duration() -> None:
    pair = R2Pair("itu", delay=0.02, b=Behaviour(answer_after=None, accept_on_offer=True,
                                                  offer_for=600.0))
    leg = pair.originate("a", options(max_duration=5.0, ring_timeout=60.0))
    pair.settle()
    (hung,) = hungups(leg)
    assert hung.at == pytest.approx(5.0, abs=0.05)
    assert ("reason", "maximum call duration reached") in hung.notes


def test_early_media_is_reported_once_per_kind() -> None:
    pair = R2Pair("itu", delay=0.02, b=Behaviour(answer_after=None, accept_on_offer=True))
    leg = pair.originate("a", options())
    pair.run(10.0, until=lambda: leg.state is State.ALERTING)
    for _ in range(3):
        pair.perform(leg, leg.on_detection(pair.now, ToneEvent(1, 0, 0, tone="ringback")))
    assert [e.heard for e in leg.events if isinstance(e, ev.EarlyMedia)] == ["ringback"]
    assert leg.state is State.ALERTING  # ringback is never an answer


# -- hanging up at each stage -----------------------------------------------------------------

@pytest.mark.parametrize(("at", "state", "outcome"), [
    (0.0, State.SEIZING, "no_answer"), (1.0, State.REGISTER, "no_answer"),
    (12.0, State.ALERTING, "no_answer"), (25.0, State.CONNECTED, "human")])
def test_hangup_at_each_stage(at: float, state: State, outcome: str) -> None:
    pair = R2Pair("cn", delay=0.02, b=Behaviour(answer_after=5.0, accept_on_offer=True))
    leg = pair.originate("a", options(calling=CALLING))
    pair.run(at)
    assert leg.state is state
    pair.hangup(leg)
    assert pair.a.playing.get(1) is not True    # no tone left playing
    pair.settle()
    (hung,) = hungups(leg)
    assert hung.by == "near_end" and hung.outcome == outcome
    assert pair.quiet() and not pair.a.violations and not pair.b.violations
    assert leg.hangup(pair.now) == [] and leg.on_time(pair.now + 100) == []


def test_hangup_before_the_acknowledgement_waits_for_it_to_clear() -> None:
    pair = R2Pair("itu", delay=0.2)
    leg = pair.originate("a", options())
    pair.hangup(leg)
    assert leg.line.state is LineState.OUT_SEIZED_CLEARING
    pair.settle()
    assert hungups(leg)[0].outcome == "no_answer" and pair.quiet()


# -- faults ---------------------------------------------------------------------------------

def test_no_seizure_acknowledgement() -> None:
    pair = R2Pair("itu", delay=0.02, deaf="b")
    leg = pair.originate("a", options())
    pair.settle()
    (hung,) = hungups(leg)
    assert (hung.outcome, hung.cause) == ("error", 102) and hung.at == pytest.approx(2.0)
    assert ("reason", "no seizure acknowledgement") in hung.notes


@pytest.mark.parametrize("name", ALL)
def test_a_far_end_that_stops_answering_the_compelled_sequence(name: str) -> None:
    pair = R2Pair(name, delay=0.02, mute_after=("b", 3))
    leg = pair.originate("a", options(calling=CALLING))
    pair.settle()
    (hung,) = hungups(leg)
    assert (hung.outcome, hung.cause) == ("error", 102)
    assert any("Q.476" in str(v) for _, v in hung.notes)
    assert hung.at < 40.0      # mf_forward_safety (30 s) after the last step
    far = inbound(pair)
    assert len(hungups(far)) == 1
    assert pair.quiet() and not pair.a.violations and not pair.b.violations


def test_the_release_guard_that_never_comes() -> None:
    """The leg lets go after the release timer; the line stays out of use until idle."""
    line = Line("itu", 7)
    leg = R2Leg(1, 1, 7, options(), line)
    out = leg.start(0.0)
    assert act.SetBits(0b0001) in out and line.held_by == 1
    leg.on_signal(0.1, CardEvent(0.1, EventKind.BITS_CHANGED, 7, 1, 0b1101))
    assert leg.state is State.REGISTER
    leg.hangup(1.0)
    assert leg.next_deadline() == pytest.approx(4.0)
    assert leg.on_time(3.9) == []
    out = leg.on_time(4.0)
    (hung,) = [o for o in out if isinstance(o, ev.HungUp)]
    assert ("release_guard", "missing") in hung.notes
    assert line.held_by is None and not line.free and line.state is LineState.OUT_CLEARING
    line.receive(9.0, 0b1001)
    assert line.free


def test_group_a_accept_without_group_b() -> None:
    """ITU A-6: address complete, charge, set up speech conditions (no group B)."""
    line = Line("itu", 7)
    leg = R2Leg(1, 1, 7, options(), line)
    leg.start(0.0)
    leg.on_signal(0.1, CardEvent(0.1, EventKind.BITS_CHANGED, 7, 1, 0b1101))
    for state in ("on", "off"):
        leg.on_detection(0.2, MfEvent(7, 0, 0, digit=MF_CHARS["r2_backward"][5], duration=240,
                                      system="r2_backward", state=state))
    assert leg.state is State.ALERTING and leg.register_result is Meaning.ACCEPT


def test_answered_before_the_last_mf_signal_ended() -> None:
    """Line signals are faster than MF: the answer may come before B's end is heard."""
    line = Line("itu", 7)
    leg = R2Leg(1, 1, 7, options(), line)
    leg.start(0.0)
    leg.on_signal(0.1, CardEvent(0.1, EventKind.BITS_CHANGED, 7, 1, 0b1101))
    leg.register.group = Group.B
    leg.on_detection(0.2, MfEvent(7, 0, 0, digit="6", duration=240, system="r2_backward",
                                  state="on"))
    out = leg.on_signal(0.3, CardEvent(0.3, EventKind.BITS_CHANGED, 7, 1, 0b0101))
    assert leg.state is State.ANSWERED
    assert out.index(act.DetectMf(None)) < next(i for i, o in enumerate(out)
                                                 if isinstance(o, act.StartDetection))
    assert act.MarkAnswered(exact=True) in out


# -- checks when a leg is built ---------------------------------------------------------------

def test_numbers_r2_cannot_send_are_refused() -> None:
    line = Line("cn", 1)
    for bad in ("+8613800000001", "138*", "", "１３８"):
        with pytest.raises(NumberFormatError, match="MFC/R2"):
            R2Leg(1, 1, 1, options(number=bad), line)
    with pytest.raises(NumberFormatError, match="call from"):
        R2Leg(1, 1, 1, options(calling="+861234"), line)
    with pytest.raises(NumberFormatError, match="category 9"):
        R2Leg(1, 1, 1, options(), line, category=9)


def test_a_busy_circuit_is_refused() -> None:
    line = Line("cn", 1)
    line.receive(0.0, 0b1111)   # blocked by the far end
    leg = R2Leg(1, 1, 1, options(), line)
    with pytest.raises(CallStateError, match="the circuit is blocked_by_far_end"):
        leg.start(0.0)


def test_inbound_answer_only_when_offered() -> None:
    line = Line("cn", 1)
    line.receive(0.0, 0b0011)
    leg = R2InboundLeg(1, 1, 1, line, offer_for=10.0)
    out = leg.start(0.0)
    assert act.SetBits(0b1111) in out and act.DetectMf("r2_forward") in out
    with pytest.raises(CallStateError, match="it is collecting, not offered"):
        leg.answer(1.0)
    with pytest.raises(ValueError, match="offer_for"):
        R2InboundLeg(2, 1, 1, line, offer_for=0)
    idle = Line("cn", 2)
    with pytest.raises(CallStateError, match="no seizure to answer"):
        R2InboundLeg(3, 1, 2, idle, offer_for=5.0).start(0.0)


def test_inbound_caller_gives_up_during_set_up() -> None:
    pair = R2Pair("itu", delay=0.02)
    leg = pair.originate("a", options(calling=CALLING))
    pair.run(0.7)
    far = inbound(pair)
    assert far.state is InState.COLLECTING
    pair.hangup(leg)
    pair.settle()
    assert hungups(far)[0].by == "far_end" and far.outcome == "rejected"
    assert not pair.b.violations and pair.quiet()
