"""Call legs as state machines, fed random sequences of line signals, detector events and
times (hypothesis).

Whatever comes, a leg never raises, reports nothing after its HungUp but what it
observes on the line, ends with exactly one HungUp whose outcome is one the dialer
records (trunkline.vocab.Outcome), and returns only actions and events of the declared
types, and only actions its line can carry out (an analog port cannot send a SETUP).

Analog lines can say anything at any time. The D-channel is modelled a little: the
span reports our SETUP as sent when the leg asks for it (as PriSignalling does), and
says nothing more about a call once it has released it (Q.931: the call reference is
free then); everything else comes in any order.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from trunkline.drivers.dsp.events import (
    AMD_RESULTS,
    SIT_CODES,
    TONE_NAMES,
    AmdEvent,
    AnnouncementEvent,
    DetectionEvent,
    DtmfEvent,
    MfEvent,
    SilenceEvent,
    SitEvent,
    ToneEvent,
    VoiceEvent,
)
from trunkline.drivers.model import CardEvent, EventKind
from trunkline.drivers.signalling import actions as act
from trunkline.drivers.signalling import events as ev
from trunkline.drivers.signalling.fxo import FxoInboundLeg, FxoLeg
from trunkline.drivers.signalling.fxs import FxsLeg
from trunkline.drivers.signalling.leg import CallOptions, Leg, Output
from trunkline.drivers.signalling.pri import events as pri
from trunkline.drivers.signalling.pri.leg import PriInboundLeg, PriLeg
from trunkline.errors import CallStateError
from trunkline.vocab import ANNOUNCEMENT_OUTCOME, Outcome

CHANNEL, SPAN, PRI_CALL = 9, 2, 7
OUTCOMES = {o.value for o in Outcome}

#: What a leg may still report once it has hung up: what it hears and sees on the line.
OBSERVATIONS = (ev.ToneHeard, ev.SitHeard, ev.AnnouncementHeard, ev.VoiceHeard,
                ev.AmdVerdict, ev.DetectorEvent, ev.DigitReceived, ev.PolarityReversal,
                ev.LoopCurrentDrop, ev.LinkUp, ev.LinkDown)
#: Actions the line loop carries out itself.
LOOP_ACTIONS = (act.TakeChannel, act.OpenAudio, act.ReleaseChannel, act.StartDetection,
                act.ConfigureDetection, act.RestartDetection, act.MarkAnswered,
                act.StopDetection)
ANALOG_ACTIONS = (*LOOP_ACTIONS, act.Hook, act.Dial)
PRI_ACTIONS = (*LOOP_ACTIONS, act.SendSetup, act.SendClear, act.SendAnswer, act.SendProceeding)

PROPERTIES = settings(max_examples=150, deadline=None)

# -- inputs ----------------------------------------------------------------------------------

detector_events: st.SearchStrategy[DetectionEvent] = st.one_of(
    st.sampled_from(sorted(TONE_NAMES)).map(lambda t: ToneEvent(CHANNEL, 0, 0, tone=t)),
    st.sampled_from(sorted(SIT_CODES)).map(lambda c: SitEvent(CHANNEL, 0, 0, code=c)),
    st.sampled_from([*sorted(ANNOUNCEMENT_OUTCOME), "unknown", "weather"]).map(
        lambda k: AnnouncementEvent(CHANNEL, 0, 0, announcement=k)),
    st.sampled_from(sorted(AMD_RESULTS)).map(
        lambda r: AmdEvent(CHANNEL, 0, 0, result=r, after_answer=0)),
    st.just(VoiceEvent(CHANNEL, 0, 0)),
    st.just(SilenceEvent(CHANNEL, 0, 0)),
    st.sampled_from("0123456789*#").map(
        lambda d: DtmfEvent(CHANNEL, 0, 0, digit=d, duration=640)),
    st.just(MfEvent(CHANNEL, 0, 0, digit="1", duration=400, system="r2_forward")),
)

card_events: st.SearchStrategy[CardEvent] = st.builds(
    lambda kind, value: CardEvent(0.0, kind, CHANNEL, SPAN, value),
    st.sampled_from(list(EventKind)), st.one_of(st.none(), st.sampled_from([0, 1])))

#: Gaps between inputs: mostly a tick or so, sometimes long enough for every timer.
gaps = st.one_of(st.sampled_from([0.0, 0.02, 0.1]), st.floats(0.0, 8.0),
                 st.floats(8.0, 120.0))


def steps(signals: st.SearchStrategy[Any]) -> st.SearchStrategy[list[tuple[float, str, Any]]]:
    step = st.one_of(
        st.tuples(gaps, st.just("signal"), signals),
        st.tuples(gaps, st.just("detect"), detector_events),
        st.tuples(gaps, st.just("time"), st.none()),
        st.tuples(gaps, st.just("hangup"), st.integers(1, 127)),
        st.tuples(gaps, st.just("answer"), st.none()),
    )
    return st.lists(step, max_size=40)


call_options = st.builds(
    lambda number, **kw: CallOptions(number, **kw),
    st.just("13800000001"),
    ring_timeout=st.floats(1.0, 60.0), max_duration=st.floats(1.0, 300.0),
    hold=st.one_of(st.none(), st.floats(0.0, 30.0)), amd=st.booleans(),
    detect=st.sampled_from([(), act.features(amd=False), act.features(progress=False)]),
    dial_mode=st.sampled_from(["dtmf", "pulse"]),
    dial_tone_timeout=st.floats(0.5, 5.0), blind_dial=st.booleans())


# -- the checks ------------------------------------------------------------------------------

class Run:
    """Feeds a leg and checks each of its outputs as it comes; ``line`` (if any) is
    shown every output, as a signalling module would be."""

    def __init__(self, leg: Leg, allowed_actions: tuple[type, ...],
                 line: Callable[[Run, list[Output]], None] | None = None) -> None:
        self.leg = leg
        self.allowed = allowed_actions
        self.line = line
        self.now = 0.0
        self.outputs: list[Output] = []
        self.hung_up = False

    def check(self, out: list[Output]) -> list[Output]:
        assert isinstance(out, list)
        seen_hangup_here = False
        for item in out:
            assert isinstance(item, act.Action | ev.CallEvent), item
            if isinstance(item, act.Action):
                assert isinstance(item, self.allowed), f"{self.leg!r} cannot {item!r}"
                # The line is put on hook with the hangup; nothing is asked after that.
                assert not self.hung_up or seen_hangup_here, f"{item!r} after the hangup"
            elif self.hung_up:
                assert isinstance(item, OBSERVATIONS), f"{item!r} reported after the hangup"
            if isinstance(item, ev.HungUp):
                assert not self.hung_up, "a second HungUp"
                assert item.outcome in OUTCOMES, item
                self.hung_up = seen_hangup_here = True
        self.outputs += out
        if self.line is not None:
            self.line(self, out)
        return out

    def finish(self) -> None:
        hangups = [e for e in self.outputs if isinstance(e, ev.HungUp)]
        assert len(hangups) == 1, hangups
        assert self.leg.ended and self.leg.outcome == hangups[0].outcome
        assert self.leg.outcome in OUTCOMES
        assert [e for e in self.outputs if isinstance(e, ev.CallEvent)] == self.leg.events
        times = [e.at for e in self.leg.events]
        assert times == sorted(times), "events out of time order"


def feed(run: Run, sequence: list[tuple[float, str, Any]],
         signal: Callable[[float, Any], list[Output]]) -> None:
    """Apply ``sequence`` from ``run.now`` on."""
    leg = run.leg
    for gap, kind, value in sequence:
        run.now = now = run.now + gap
        if kind == "signal":
            run.check(signal(now, value))
        elif kind == "detect":
            run.check(leg.on_detection(now, value))
        elif kind == "time":
            due = leg.next_deadline()
            if due is None or now >= due:
                run.check(leg.on_time(now))
        elif kind == "hangup":
            run.check(leg.hangup(now, value))
        elif kind == "answer" and leg.direction == "inbound":
            offered = not (leg.ended or any(getattr(leg, flag, False) for flag in (
                "answered", "rejecting", "clearing")))
            if offered:
                run.check(leg.answer(now))
            else:
                with pytest.raises(CallStateError):
                    leg.answer(now)


def card_signal(leg: Leg) -> Callable[[float, Any], list[Output]]:
    return lambda now, event: leg.on_signal(now, CardEvent(now, event.kind, event.channel,
                                                           event.span, event.value))


def end(run: Run) -> None:
    """The application hangs up, then time runs past every timer."""
    run.now += 1.0
    run.check(run.leg.hangup(run.now))
    for gap in (0.02, 1e4):
        run.now += gap
        run.check(run.leg.on_time(run.now))
    run.finish()


def start(run: Run, at: float) -> None:
    run.now = at
    run.check(run.leg.start(at))


# -- the legs --------------------------------------------------------------------------------

@PROPERTIES
@given(options=call_options, polarity=st.booleans(), at=st.floats(0.0, 1e6),
       sequence=steps(card_events))
def test_fxo_outbound_leg(options: CallOptions, polarity: bool, at: float,
                          sequence: list) -> None:
    leg = FxoLeg(1, SPAN, CHANNEL, options, answer_on_polarity=polarity)
    run = Run(leg, ANALOG_ACTIONS)
    start(run, at)
    feed(run, sequence, card_signal(leg))
    end(run)


@PROPERTIES
@given(offer_for=st.floats(0.5, 30.0), at=st.floats(0.0, 1e6), sequence=steps(card_events))
def test_fxo_inbound_leg(offer_for: float, at: float, sequence: list) -> None:
    leg = FxoInboundLeg(1, SPAN, CHANNEL, offer_for=offer_for)
    run = Run(leg, ANALOG_ACTIONS)
    start(run, at)
    feed(run, sequence, card_signal(leg))
    end(run)


@PROPERTIES
@given(at=st.floats(0.0, 1e6), sequence=steps(card_events))
def test_fxs_leg(at: float, sequence: list) -> None:
    leg = FxsLeg(1, SPAN, CHANNEL, "agent")
    run = Run(leg, ANALOG_ACTIONS)
    start(run, at)
    feed(run, sequence, card_signal(leg))
    end(run)


causes = st.one_of(st.sampled_from([1, 16, 17, 18, 19, 21, 27, 31, 34, 41, 44, 102]),
                   st.integers(1, 127))
timeslots = st.one_of(st.none(), st.integers(1, 30))
call_ids = st.sampled_from([PRI_CALL, PRI_CALL, PRI_CALL, 8])

pri_events: st.SearchStrategy[pri.PriEvent] = st.one_of(
    st.just(pri.DChannelUp(SPAN)),
    st.sampled_from(["q921", "layer1"]).map(lambda r: pri.DChannelDown(SPAN, r)),
    st.builds(lambda c, ts, inband: pri.CallProceeding(SPAN, c, ts, inband),
              call_ids, timeslots, st.booleans()),
    st.builds(lambda c, ts, inband: pri.CallProgress(SPAN, c, ts, inband),
              call_ids, timeslots, st.booleans()),
    st.builds(lambda c, ts, inband: pri.CallAlerting(SPAN, c, ts, inband),
              call_ids, timeslots, st.booleans()),
    st.builds(lambda c, ts: pri.CallAnswered(SPAN, c, ts), call_ids, timeslots),
    st.builds(lambda c, ts, prev: pri.CallChannelChanged(SPAN, c, ts, prev),
              call_ids, st.integers(1, 30), timeslots),
    st.builds(lambda c, ts, cause: pri.CallDisconnecting(SPAN, c, ts, cause),
              call_ids, timeslots, causes),
    st.builds(lambda c, ts, cause, answered, reason: pri.CallEnded(
        SPAN, c, ts, cause=cause, answered=answered, reason=reason),
        call_ids, timeslots, causes, st.booleans(), st.sampled_from(["remote", "local"])),
)


class DChannel:
    """The little the span guarantees: our SETUP is sent when asked for, and a released
    call hears nothing more."""

    def __init__(self, leg: PriLeg | PriInboundLeg, setup_slot: int | None) -> None:
        self.leg, self.setup_slot = leg, setup_slot
        #: Whether PRI_CALL is the leg's call yet (an offered call is from the start).
        self.ours = isinstance(leg, PriInboundLeg)
        self.released = False
        self.clearing = False

    def carry_out(self, run: Run, out: list[Output]) -> None:
        for item in out:
            if isinstance(item, act.SendSetup):
                assert isinstance(self.leg, PriLeg)
                self.ours = True
                run.check(self.leg.on_setup_sent(run.now, PRI_CALL, self.setup_slot))
            elif isinstance(item, act.SendClear):
                self.clearing = True

    def signal(self, now: float, event: pri.PriEvent) -> list[Output]:
        if isinstance(event, pri.CallEvent) and event.call == PRI_CALL and self.ours:
            if self.released:
                return []
            self.released = isinstance(event, pri.CallEnded)
        return self.leg.on_signal(now, event)


def run_pri(leg: PriLeg | PriInboundLeg, at: float, sequence: list,
            setup_slot: int | None) -> None:
    line = DChannel(leg, setup_slot)
    run = Run(leg, PRI_ACTIONS, line.carry_out)
    start(run, at)
    feed(run, sequence, line.signal)
    # The application hangs up; the span releases what it was asked to clear.
    run.now += 1.0
    run.check(leg.hangup(run.now))
    if line.clearing and not line.released:
        run.now += 0.1
        run.check(line.signal(run.now, pri.CallEnded(SPAN, PRI_CALL, None, cause=16,
                                                     reason="local")))
    end(run)


@PROPERTIES
@given(options=call_options, link_up=st.booleans(), setup_slot=timeslots,
       at=st.floats(0.0, 1e6), sequence=steps(pri_events))
def test_pri_outbound_leg(options: CallOptions, link_up: bool, setup_slot: int | None,
                          at: float, sequence: list) -> None:
    leg = PriLeg(1, SPAN, options, bearer=lambda ts: 100 + ts, link_up=link_up)
    run_pri(leg, at, sequence, setup_slot)


@PROPERTIES
@given(channel=timeslots, offer_for=st.floats(0.5, 30.0), at=st.floats(0.0, 1e6),
       sequence=steps(pri_events))
def test_pri_inbound_leg(channel: int | None, offer_for: float, at: float,
                         sequence: list) -> None:
    offer = pri.IncomingCall(SPAN, PRI_CALL, channel, called="800", calling="139")
    leg = PriInboundLeg(1, SPAN, None if channel is None else 100 + channel, offer,
                        offer_for=offer_for, reject_cause=21)
    run_pri(leg, at, sequence, None)
