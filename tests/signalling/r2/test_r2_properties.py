"""MFC/R2 legs as state machines under random conditions (hypothesis).

Two kinds of run:

* **pairs**: our outgoing end against our incoming end, with random delays and MF
  recognition times, random far-end applications (answer after some time or never,
  refuse with a cause, hang up after the answer, ring at once), random near-end hangups,
  both ends seizing at once, a far end whose MF falls silent or whose bits never
  arrive. Whatever happens, every leg on both ends ends with exactly one ``HungUp``,
  last, with an outcome the dialer records; no leg returns anything after it; no leg
  hangs up with a tone playing; and once both ends have settled every circuit is idle
  both ways (release guard given and received), with no tone and no leg left.
* **one leg, any input**: a leg fed random ABCD bits, MF signals of either direction,
  detector events, hangups and answers at random times never raises (but for an answer
  refused with CallStateError), returns nothing once it has hung up, and, hung up and
  given time, ends with exactly one ``HungUp``; a line it left idle sends idle bits.
"""

from __future__ import annotations

import contextlib
from typing import Any

from hypothesis import event, example, given, settings
from hypothesis import strategies as st
from r2_kit import CALLING, NUMBER, hungups

from trunkline.drivers.dsp.dtmf import MF_CHARS
from trunkline.drivers.dsp.events import AmdEvent, DetectionEvent, DtmfEvent, MfEvent, ToneEvent
from trunkline.drivers.model import CardEvent, EventKind
from trunkline.drivers.signalling import actions as act
from trunkline.drivers.signalling import events as ev
from trunkline.drivers.signalling.leg import CallOptions, Leg, Output
from trunkline.drivers.signalling.r2.inbound import R2InboundLeg
from trunkline.drivers.signalling.r2.leg import R2Leg
from trunkline.drivers.signalling.r2.line import Line, LineState
from trunkline.drivers.signalling.r2.pair import Behaviour, R2Pair
from trunkline.drivers.signalling.r2.variants import VARIANTS
from trunkline.errors import CallStateError
from trunkline.vocab import Outcome

OUTCOMES = {o.value for o in Outcome}
variants = st.sampled_from(sorted(VARIANTS))
maybe_time = st.one_of(st.none(), st.floats(0.0, 25.0))

behaviours = st.builds(
    Behaviour,
    answer_after=st.one_of(st.none(), st.floats(0.0, 5.0), st.floats(0.0, 5.0),
                           st.floats(5.0, 25.0)),
    refuse_cause=st.one_of(st.none(), st.none(), st.none(),
                           st.sampled_from([1, 17, 21, 22, 27, 34, 99])),
    hangup_after=maybe_time,
    offer_for=st.floats(0.5, 20.0),
    reject_cause=st.sampled_from([17, 21, 34]),
    accept_on_offer=st.booleans(),
)

call_options = st.builds(
    lambda number, calling, **kw: CallOptions(number, calling=calling, **kw),
    st.sampled_from([NUMBER, "5", "02012345678"]),
    st.one_of(st.none(), st.just(CALLING), st.just("7")),
    ring_timeout=st.floats(1.0, 60.0),
    max_duration=st.one_of(st.floats(1.0, 30.0), st.floats(30.0, 200.0)),
    hold=st.one_of(st.none(), st.floats(0.0, 20.0)), amd=st.booleans())

faults = st.one_of(
    st.just({}), st.just({}), st.just({}), st.just({}),
    st.builds(lambda side, n: {"mute_after": (side, n)}, st.sampled_from("ab"),
              st.integers(0, 30)),
    st.builds(lambda side: {"deaf": side}, st.sampled_from("ab")),
)


def check_leg(pair: R2Pair, leg: Leg) -> None:
    downs = hungups(leg)
    assert len(downs) == 1, (leg, [e.NAME for e in leg.events])
    assert leg.events[-1] is downs[0]
    assert downs[0].outcome in OUTCOMES
    assert downs[0].by in ("near_end", "far_end")
    end = pair.end("a") if leg in pair.a.calls else pair.end("b")
    mine = [(t, o) for t, call, o in end.log if call == leg.id]
    last = max(i for i, (_, o) in enumerate(mine) if isinstance(o, ev.HungUp))
    assert last == len(mine) - 1, f"{leg!r} returned {mine[last + 1:]} after hanging up"


@settings(max_examples=120, deadline=None)
@given(name=variants, delay=st.floats(0.0, 0.2), recognition=st.sampled_from([0.02, 0.04, 0.06]),
       far=behaviours, near=call_options, hangup_at=maybe_time,
       glare=st.sampled_from([False, False, False, True]),
       fault=faults, b_calls=st.booleans())
@example(name="cn", delay=0.03, recognition=0.04, far=Behaviour(answer_after=1.0),
         near=CallOptions(NUMBER, calling=CALLING, hold=1.0, amd=False), hangup_at=None,
         glare=False, fault={}, b_calls=False).via("a complete call")
def test_pairs_always_end_cleanly(name: str, delay: float, recognition: float,
                                  far: Behaviour, near: CallOptions, hangup_at: float | None,
                                  glare: bool, fault: dict[str, Any], b_calls: bool) -> None:
    pair = R2Pair(name, channels=(1, 2), delay=delay, recognition=recognition, b=far,
                  a=far if b_calls else Behaviour(), **fault)
    leg = pair.originate("a", near, channel=1)
    if glare:
        pair.originate("b", near, channel=1)
    elif b_calls:
        pair.originate("b", near, channel=2)
    if hangup_at is not None:
        pair.at(hangup_at, lambda: pair.hangup(leg))
    pair.settle(400.0)
    assert pair.quiet(), (pair.a.span.lines, pair.b.span.lines, pair.a.legs, pair.b.legs)
    assert not pair.a.violations and not pair.b.violations
    assert not any(pair.a.playing.values()) and not any(pair.b.playing.values())
    for each in pair.a.calls + pair.b.calls:
        check_leg(pair, each)
    event(f"outbound outcome: {leg.outcome}")
    if glare:
        assert all(each.direction == "outbound" for each in pair.a.calls + pair.b.calls)


# -- one leg, any input ----------------------------------------------------------------------

CH = 1


def mf_event(system: str, signal: int, state: str) -> MfEvent:
    return MfEvent(CH, 0, 0, digit=MF_CHARS[system][signal - 1], duration=240, system=system,
                   state=state)


detector_events: st.SearchStrategy[DetectionEvent] = st.one_of(
    st.builds(mf_event, st.sampled_from(["r2_forward", "r2_backward"]), st.integers(1, 15),
              st.sampled_from(["on", "off"])),
    st.sampled_from(["ringback", "busy", "fax_ced", "music"]).map(
        lambda t: ToneEvent(CH, 0, 0, tone=t)),
    st.sampled_from(["human", "machine", "notsure"]).map(
        lambda r: AmdEvent(CH, 0, 0, result=r, after_answer=0)),
    st.just(DtmfEvent(CH, 0, 0, digit="1", duration=640)),
)
card_events = st.builds(
    lambda kind, value: CardEvent(0.0, kind, CH, 1, value),
    st.sampled_from([EventKind.BITS_CHANGED] * 4 + [EventKind.ONHOOK, EventKind.ALARM]),
    st.integers(0, 15))
gaps = st.one_of(st.sampled_from([0.0, 0.02, 0.1]), st.floats(0.0, 5.0), st.floats(5.0, 60.0))
steps = st.lists(st.one_of(
    st.tuples(gaps, st.just("signal"), card_events),
    st.tuples(gaps, st.just("detect"), detector_events),
    st.tuples(gaps, st.just("time"), st.none()),
    st.tuples(gaps, st.just("hangup"), st.integers(1, 127)),
    st.tuples(gaps, st.just("answer"), st.none()),
), max_size=60)


def feed(leg: Leg, line: Line, script: list[tuple[float, str, Any]]) -> None:
    now = 0.0
    ended_at: int | None = None
    tone_on = False

    def take(out: list[Output]) -> None:
        nonlocal ended_at, tone_on
        if ended_at is not None:
            assert out == [], f"{leg!r} returned {out} after hanging up"
        for item in out:
            assert isinstance(item, act.Action | ev.CallEvent)
            if isinstance(item, act.PlayTone):
                tone_on = True
            elif isinstance(item, act.StopTone):
                tone_on = False
            elif isinstance(item, ev.HungUp):
                assert not tone_on, "hung up with a tone playing"
                ended_at = len(leg.events)

    take(leg.start(now))
    for gap, what, arg in script:
        now += gap
        if what == "signal":
            take(leg.on_signal(now, arg))
        elif what == "detect":
            take(leg.on_detection(now, arg))
        elif what == "time":
            take(leg.on_time(now))
        elif what == "hangup":
            take(leg.hangup(now, arg))
        else:
            with contextlib.suppress(CallStateError):   # an answer out of turn is refused
                take(leg.answer(now))
    take(leg.hangup(now))
    for _ in range(5):
        now += 120.0
        take(leg.on_time(now))
    assert len(hungups(leg)) == 1 and leg.events[-1] is hungups(leg)[0]
    assert hungups(leg)[0].outcome in OUTCOMES
    assert line.held_by is None
    if line.state is LineState.IDLE:
        assert line.variant.line.code(line.tx) == line.variant.line.idle


@settings(max_examples=150, deadline=None)
@given(name=variants, script=steps, options=call_options)
def test_an_outbound_leg_fed_anything(name: str, script: list[tuple[float, str, Any]],
                                      options: CallOptions) -> None:
    line = Line(name, CH)
    feed(R2Leg(1, 1, CH, options, line), line, script)


@settings(max_examples=150, deadline=None)
@given(name=variants, script=steps, accept=st.booleans(), offer_for=st.floats(0.5, 30.0))
def test_an_inbound_leg_fed_anything(name: str, script: list[tuple[float, str, Any]],
                                     accept: bool, offer_for: float) -> None:
    line = Line(name, CH)
    line.receive(0.0, line.variant.line.bits("seizing"))
    feed(R2InboundLeg(1, 1, CH, line, offer_for=offer_for, accept_on_offer=accept), line,
         script)
