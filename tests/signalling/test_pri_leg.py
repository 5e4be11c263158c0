"""The PRI call leg on its own (sans-IO: D-channel events, detector events and times in;
actions and call events out)."""

from __future__ import annotations

import re

import pytest

from trunkline.drivers.dsp.events import (
    AmdEvent,
    AnnouncementEvent,
    DtmfEvent,
    MfEvent,
    SilenceEvent,
    SitEvent,
    ToneEvent,
    VoiceEvent,
)
from trunkline.drivers.signalling import actions as act
from trunkline.drivers.signalling import events as ce
from trunkline.drivers.signalling.detection import DIGITS, DIGITS_ONLY
from trunkline.drivers.signalling.leg import CallOptions
from trunkline.drivers.signalling.pri import events as ev
from trunkline.drivers.signalling.pri.leg import (
    AMD_WINDOW,
    PROGRESS_GRACE,
    TRANSITIONS,
    PriInboundLeg,
    PriLeg,
    State,
)
from trunkline.errors import CallStateError, NumberFormatError


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


# -- every row of the table, and the timers ---------------------------------------------------

class SpyLeg(PriLeg):
    """A PriLeg that notes the rows of its TRANSITIONS table it took."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.rows: list[tuple[State, type]] = []

    def _advance(self, event: ev.PriEvent) -> bool:
        before = self.state
        taken = super()._advance(event)
        if taken:
            self.rows.append((before, type(event)))
        return taken


def spy(**options) -> SpyLeg:
    return SpyLeg(1, 1, CallOptions("13812345678", **options), bearer=lambda ts: 100 + ts)


def in_setup(call: PriLeg, timeslot: int | None = 3) -> PriLeg:
    call.start(0.0)
    call.on_signal(0.1, ev.DChannelUp(1))
    call.on_setup_sent(0.1, 7, timeslot)
    assert call.state is State.SETUP
    return call


def in_progress(call: PriLeg) -> PriLeg:
    in_setup(call)
    call.on_signal(0.2, ev.CallProceeding(1, 7, 3))
    assert call.state is State.PROGRESS
    return call


def in_alerting(call: PriLeg) -> PriLeg:
    in_progress(call)
    call.on_signal(2.0, ev.CallAlerting(1, 7, 3, inband=True))
    assert call.state is State.ALERTING
    return call


def in_answered(call: PriLeg) -> PriLeg:
    in_alerting(call)
    call.on_signal(5.0, ev.CallAnswered(1, 7, 3))
    assert call.state is State.ANSWERED
    return call


def in_connected(call: PriLeg, result: str = "human") -> PriLeg:
    in_answered(call)
    call.on_detection(7.0, AmdEvent(103, 0, 0, result=result, after_answer=0))
    assert call.state is State.CONNECTED
    return call


STATES = {State.SETUP: in_setup, State.PROGRESS: in_progress, State.ALERTING: in_alerting,
          State.ANSWERED: in_answered, State.CONNECTED: in_connected}

#: For each row: a D-channel event that takes it, from the state of the row.
ROW_EVENTS = {
    ev.DChannelUp: ev.DChannelUp(1),
    ev.CallProceeding: ev.CallProceeding(1, 7, 3),
    ev.CallProgress: ev.CallProgress(1, 7, 3, inband=True),
    ev.CallAlerting: ev.CallAlerting(1, 7, 3),
    ev.CallAnswered: ev.CallAnswered(1, 7, 3),
}


@pytest.mark.parametrize(("state", "event_type"), list(TRANSITIONS),
                         ids=[f"{s.value}-{t.__name__}" for s, t in TRANSITIONS])
def test_every_row_of_the_table(state: State, event_type: type) -> None:
    call = spy()
    if state is State.WAITING_LINK:
        call.start(0.0)
    else:
        STATES[state](call)
    call.rows.clear()
    out = call.on_signal(3.0, ROW_EVENTS[event_type])
    target = TRANSITIONS[(state, event_type)][0]
    assert call.rows == [(state, event_type)] and call.state is target
    # What each target state means for the outputs.
    if target is State.SETUP:
        assert act.SendSetup("13812345678", None) in out
    if target is State.ANSWERED:
        assert ce.Answered(3.0, "connect") in out and act.MarkAnswered(exact=True) in out
    if target is State.ALERTING:
        assert ce.Alerting(3.0, False) in out


def test_the_ring_timeout_restarts_on_a_repeated_alerting() -> None:
    call = in_alerting(leg(ring_timeout=20.0))
    call.on_signal(10.0, ev.CallAlerting(1, 7, 3))
    assert call.on_time(29.9) == []
    assert act.SendClear(16) in call.on_time(30.0)


@pytest.mark.parametrize("event", [ev.CallProceeding(1, 7, 3), ev.CallProgress(1, 7, 3),
                                   ev.CallAlerting(1, 7, 3)])
def test_call_setup_messages_after_the_answer_do_not_take_it_back(event: ev.PriEvent) -> None:
    call = in_answered(leg())
    call.on_signal(6.0, event)
    assert call.state is State.ANSWERED


def test_a_dchannel_that_does_not_come_up_ends_the_call() -> None:
    call = PriLeg(1, 1, CallOptions("123"), bearer=lambda ts: ts, link_timeout=4.0)
    call.start(0.0)
    assert call.on_time(3.99) == []
    out = call.on_time(4.0)
    assert out == [ce.HungUp(4.0, "near_end", "error",
                             notes=(("reason", "D-channel did not come up"),))]
    assert call.ended and call.done and call.outcome == "error"
    assert not any(isinstance(o, act.SendClear) for o in out)  # no SETUP went out


def test_the_dchannel_going_down_and_up_is_noted() -> None:
    call = in_alerting(leg())
    assert call.on_signal(3.0, ev.DChannelDown(1, "layer1")) == [ce.LinkDown(3.0, "layer1")]
    assert call.on_signal(3.5, ev.DChannelUp(1)) == [ce.LinkUp(3.5)]
    assert call.state is State.ALERTING


def test_events_of_other_calls_are_not_ours() -> None:
    call = in_alerting(leg())
    assert call.on_signal(3.0, ev.CallAnswered(1, 8, 4)) == []
    assert call.on_signal(3.0, ev.CallEnded(1, 8, 4, cause=16)) == []
    assert call.state is State.ALERTING and not call.ended


def test_proceeding_without_a_channel_keeps_the_one_from_the_setup() -> None:
    call = in_setup(leg(), timeslot=4)
    assert call.channel == 104
    out = call.on_signal(0.2, ev.CallProceeding(1, 7, None))
    assert out == [ce.Proceeding(0.2, None)] and call.channel == 104


def test_the_network_choosing_the_channel_at_proceeding() -> None:
    call = in_setup(leg(), timeslot=None)
    assert call.channel is None
    out = call.on_signal(0.2, ev.CallProceeding(1, 7, 6))
    assert act.TakeChannel(106) in out and call.channel == 106 and call.timeslot == 6
    started = [o for o in out if isinstance(o, act.StartDetection)]
    assert len(started) == 1 and started[0].options["progress"]


def test_disconnect_is_noted_and_the_release_ends_the_call() -> None:
    call = in_alerting(leg())
    assert call.on_signal(6.0, ev.CallDisconnecting(1, 7, 3, cause=17)) == [
        ce.Disconnecting(6.0, 17)]
    out = call.on_signal(6.1, ev.CallEnded(1, 7, 3, cause=17))
    assert out == [ce.HungUp(6.1, "far_end", "busy", 17,
                             notes=(("cause", 17), ("cause_name", "User busy")))]
    assert call.result()["cause"] == 17 and call.result()["cause_name"] == "User busy"


def test_an_answered_call_released_by_the_network_is_a_person_until_amd_said_otherwise() -> None:
    call = in_answered(leg())
    out = call.on_signal(6.0, ev.CallEnded(1, 7, 3, cause=16, answered=True))
    assert out[-1] == ce.HungUp(6.0, "far_end", "human", 16,
                                notes=(("cause", 16), ("cause_name", "Normal call clearing")))
    call = in_connected(leg(), "machine")
    out = call.on_signal(9.0, ev.CallEnded(1, 7, 3, cause=16, answered=True))
    assert out[-1].outcome == "machine"


def test_a_release_we_started_is_ours() -> None:
    call = in_connected(leg(hold=1.0))
    out = call.on_time(8.0)
    assert out == [ce.Clearing(8.0, "near_end", 16), act.SendClear(16)]
    assert call.state is State.RELEASING and call.outcome == "human"
    out = call.on_signal(8.1, ev.CallEnded(1, 7, 3, cause=16, answered=True, reason="local"))
    assert out[-1].by == "near_end" and out[-1].outcome == "human" and call.done


def test_amd_window_after_connect() -> None:
    call = in_answered(leg())
    assert call.on_time(5.0 + AMD_WINDOW - 0.01) == []
    out = call.on_time(5.0 + AMD_WINDOW)
    assert out == [ce.Classified(5.0 + AMD_WINDOW, "notsure", "amd_timeout", AMD_WINDOW),
                   DIGITS_ONLY]
    assert call.outcome == call.answered_by == "human"


def test_a_fax_tone_after_connect_classifies_fax() -> None:
    call = in_answered(leg())
    out = call.on_detection(6.0, ToneEvent(103, 0, 0, tone="fax_ced"))
    assert out == [ce.Classified(6.0, "fax", "fax_ced", 1.0), DIGITS_ONLY]
    assert call.on_detection(6.5, ToneEvent(103, 0, 0, tone="busy")) == []


def test_other_sounds_after_connect_wait_for_amd() -> None:
    call = in_answered(leg())
    assert call.on_detection(6.0, ToneEvent(103, 0, 0, tone="ringback")) == []
    assert call.on_detection(6.0, VoiceEvent(103, 0, 0)) == []
    assert call.state is State.ANSWERED


def test_amd_off_takes_the_connect_for_a_person() -> None:
    call = in_alerting(leg(amd=False))
    out = call.on_signal(5.0, ev.CallAnswered(1, 7, 3))
    assert ce.Classified(5.0, "human", "amd_off", 0.0) in out and call.state is State.CONNECTED


def test_a_connected_call_without_hold_ends_at_max_duration() -> None:
    call = in_connected(leg(max_duration=100.0))
    assert call.next_deadline() == 100.0
    assert call.on_time(99.9) == []
    assert call.on_time(100.0) == [ce.Clearing(100.0, "near_end", 16), act.SendClear(16)]
    assert call.outcome == "human"


def test_max_duration_before_the_answer_is_an_error() -> None:
    call = in_alerting(leg(max_duration=10.0, ring_timeout=60.0))
    assert call.next_deadline() is None
    call.on_time(10.0)
    assert call.state is State.RELEASING and call.outcome == "error"


def test_digits_are_reported_in_any_state() -> None:
    call = in_connected(leg())
    out = call.on_detection(8.0, DtmfEvent(103, 0, 0, digit="4", duration=640))
    assert out == [ce.DigitReceived(8.0, "4")]


def test_early_media_names_what_was_heard() -> None:
    call = in_progress(leg())
    out = call.on_detection(1.0, AnnouncementEvent(103, 0, 0, announcement="powered_off"))
    out += call.on_detection(1.1, VoiceEvent(103, 0, 0))
    out += call.on_detection(1.2, SitEvent(103, 0, 0, code="IC"))
    out += call.on_detection(1.3, MfEvent(103, 0, 0, digit="1", duration=1, system="bell"))
    out += call.on_detection(1.4, SilenceEvent(103, 0, 0))
    assert out == [ce.EarlyMedia(1.0, "powered_off", "powered_off"),
                   ce.EarlyMedia(1.1, "voice"), ce.SitHeard(1.2, "IC"),
                   ce.EarlyMedia(1.2, "sit"),
                   ce.EarlyMedia(1.3, "mf")]
    assert call.state is State.PROGRESS  # never an answer


@pytest.mark.parametrize("state", [State.SETUP, State.PROGRESS, State.ALERTING])
def test_hangup_before_the_answer_is_no_answer(state: State) -> None:
    call = STATES[state](leg())
    out = call.hangup(9.0, cause=21)
    assert out == [ce.Clearing(9.0, "near_end", 21), act.SendClear(21)]
    assert call.outcome == "no_answer" and call.state is State.RELEASING
    assert call.hangup(9.5) == []


@pytest.mark.parametrize(("state", "outcome"), [(State.ANSWERED, "human"),
                                                (State.CONNECTED, "machine")])
def test_hangup_after_the_answer(state: State, outcome: str) -> None:
    call = in_connected(leg(), "machine") if state is State.CONNECTED else in_answered(leg())
    assert call.hangup(9.0) == [ce.Clearing(9.0, "near_end", 16), act.SendClear(16)]
    assert call.outcome == outcome


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


# -- the inbound leg ------------------------------------------------------------------------------

def offered(channel: int | None = 103) -> PriInboundLeg:
    offer = ev.IncomingCall(1, 9, 3, called="80001", calling="13900000001")
    call = PriInboundLeg(2, 1, channel, offer, offer_for=5.0, reject_cause=21)
    call.start(10.0)
    return call


def test_an_offered_call_takes_its_channel_without_audio() -> None:
    offer = ev.IncomingCall(1, 9, 3, called="80001", calling="13900000001")
    call = PriInboundLeg(2, 1, 103, offer, offer_for=5.0, reject_cause=21)
    assert call.start(10.0) == [act.TakeChannel(103, open_audio=False), act.SendProceeding(),
                                ce.Offered(10.0, "13900000001", "80001")]
    assert call.number == "13900000001" and call.next_deadline() == 15.0
    nochannel = PriInboundLeg(3, 1, None, offer, offer_for=5.0, reject_cause=21)
    assert nochannel.start(10.0) == [act.SendProceeding(),
                                     ce.Offered(10.0, "13900000001", "80001")]


def test_answering_an_offered_call_connects_and_opens_its_audio() -> None:
    call = offered()
    out = call.answer(11.0)
    assert out == [act.SendAnswer(), act.OpenAudio(), ce.Answered(11.0, "request"), DIGITS]
    assert call.next_deadline() == float("inf") and call.on_time(20.0) == []
    with pytest.raises(CallStateError, match="cannot answer call 2: it is not offered"):
        call.answer(12.0)
    out = call.on_signal(30.0, ev.CallEnded(1, 9, 3, cause=16, answered=True))
    assert out == [ce.HungUp(30.0, "far_end", "human", 16)] and call.cause == 16


def test_a_refused_call_cannot_be_answered_any_more() -> None:
    call = offered()
    call.on_time(15.0)
    assert call.rejecting and call.next_deadline() == float("inf")
    with pytest.raises(CallStateError):
        call.answer(15.1)
    assert call.on_time(16.0) == []  # refused once


def test_the_caller_giving_up_ends_an_offered_call() -> None:
    call = offered()
    out = call.on_signal(12.0, ev.CallEnded(1, 9, 3, cause=16))
    assert out == [ce.HungUp(12.0, "far_end", "rejected", 16)]
    assert call.on_signal(12.0, ev.CallEnded(1, 99, 3, cause=16)) == []


def test_the_application_hangs_up_an_inbound_call_with_its_cause() -> None:
    call = offered()
    call.answer(11.0)
    assert call.hangup(20.0, cause=31) == [act.SendClear(31)]
    assert not call.ended  # until the span says the call is released
    call.on_signal(20.1, ev.CallEnded(1, 9, 3, cause=31, answered=True, reason="local"))
    assert call.ended and call.hangup(21.0) == []


def test_an_offered_call_hung_up_is_not_refused_again_while_it_is_released() -> None:
    call = offered()
    assert call.hangup(11.0, cause=17) == [act.SendClear(17)]
    assert call.next_deadline() == float("inf")
    assert call.on_time(15.0) == []  # no Rejecting, no second clear
    with pytest.raises(CallStateError, match="not offered"):
        call.answer(15.0)
    out = call.on_signal(15.1, ev.CallEnded(1, 9, 3, cause=17, reason="local"))
    assert out == [ce.HungUp(15.1, "near_end", "rejected", 17)]
    assert call.on_time(20.0) == []


def test_max_duration_while_waiting_for_the_dchannel_ends_the_call_at_once() -> None:
    call = PriLeg(1, 1, CallOptions("123", max_duration=5.0), bearer=lambda ts: ts)
    call.start(0.0)
    out = call.on_time(5.0)
    assert out == [ce.HungUp(5.0, "near_end", "error",
                             notes=(("reason", "maximum call duration reached"),))]
    assert call.done and call.outcome == "error"


def test_a_call_connected_at_card_time_zero_still_times_its_amd() -> None:
    call = PriLeg(1, 1, CallOptions("123"), bearer=lambda ts: ts, link_up=True)
    call.start(0.0)
    call.on_setup_sent(0.0, 7, 1)
    call.on_signal(0.0, ev.CallAnswered(1, 7, 1))
    out = call.on_detection(2.5, AmdEvent(1, 0, 0, result="human", after_answer=0))
    assert out[1] == ce.Classified(2.5, "human", "amd_human", 2.5)
    call = PriLeg(1, 1, CallOptions("123"), bearer=lambda ts: ts, link_up=True)
    call.start(0.0)
    call.on_setup_sent(0.0, 7, 1)
    call.on_signal(0.0, ev.CallAnswered(1, 7, 1))
    assert call.on_time(AMD_WINDOW)[0] == ce.Classified(AMD_WINDOW, "notsure", "amd_timeout",
                                                        AMD_WINDOW)
