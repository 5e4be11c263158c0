"""The one table from call events to wire events: each event's wire events and state
change, span events, the last word on a call; and call.state only moves forward."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from media_kit import call

from trunkline.drivers.model import Alarm
from trunkline.drivers.signalling import events as ev
from trunkline.gateway.media import wire

WHERE = {"call": 5, "span": 1, "channel": 3}


def state(name: str, **extra: Any) -> dict[str, Any]:
    return {"event": "call.state", **WHERE, "state": name, **extra}


def said(name: str, **fields: Any) -> dict[str, Any]:
    return {"event": name, **WHERE, **fields}


#: (state before, call event, wire events, state after)
TABLE: list[tuple[str, ev.CallEvent, list[dict[str, Any]], str]] = [
    ("new", ev.Seized(1.0), [state("dialing")], "dialing"),
    ("new", ev.SetupSent(1.0, "123", 3), [state("dialing")], "dialing"),
    ("dialing", ev.Proceeding(1.0, 3), [state("proceeding")], "proceeding"),
    ("proceeding", ev.Progress(1.0, True), [state("early_media")], "early_media"),
    ("dialing", ev.Progress(1.0, True), [state("early_media")], "early_media"),
    ("proceeding", ev.Progress(1.0, False), [], "proceeding"),
    ("ringing", ev.Progress(1.0, True), [], "ringing"),
    ("new", ev.Alerting(1.0), [state("ringing")], "ringing"),  # an FXS phone rung at once
    ("proceeding", ev.Alerting(1.0, True), [state("ringing")], "ringing"),
    ("early_media", ev.Alerting(1.0), [state("ringing")], "ringing"),
    ("answered", ev.Alerting(1.0), [], "answered"),
    ("dialing", ev.ToneHeard(1.0, "ringback"), [state("ringing"), said("tone", tone="ringback")],
     "ringing"),
    ("early_media", ev.ToneHeard(1.0, "music"), [state("ringing"), said("tone", tone="music")],
     "ringing"),
    ("new", ev.ToneHeard(1.0, "ringback"), [said("tone", tone="ringback")], "new"),
    ("answered", ev.ToneHeard(1.0, "ringback"), [said("tone", tone="ringback")], "answered"),
    ("dialing", ev.ToneHeard(1.0, "dial"), [], "dialing"),
    ("ringing", ev.ToneHeard(1.0, "busy"), [said("tone", tone="busy")], "ringing"),
    ("ringing", ev.Answered(1.0, "polarity"), [state("answered", by="unknown")], "answered"),
    ("ringing", ev.Answered(1.0, "offhook", person=True), [state("answered", by="human")],
     "answered"),
    ("offered", ev.Answered(1.0, "request"), [state("answered", by="unknown")], "answered"),
    ("answered", ev.Classified(3.0, "notsure", "amd_timeout", 2.0),
     [said("amd", result="notsure", reason="amd_timeout", after_answer=2.0)], "answered"),
    ("early_media", ev.EarlyMedia(1.0, "announcement", "powered_off"),
     [said("announcement", kind="powered_off")], "early_media"),
    ("early_media", ev.EarlyMedia(1.0, "ringback"), [said("tone", tone="ringback")],
     "early_media"),
    ("early_media", ev.EarlyMedia(1.0, "voice"), [], "early_media"),
    ("early_media", ev.EarlyMedia(1.0, "silence"), [], "early_media"),
    ("ringing", ev.SitHeard(1.0, "IC"), [said("sit", code="IC")], "ringing"),
    ("ringing", ev.AnnouncementHeard(1.0, "powered_off"),
     [said("announcement", kind="powered_off")], "ringing"),
    ("answered", ev.DigitReceived(1.0, "5"), [said("dtmf", digit="5")], "answered"),
    ("new", ev.Offered(1.0, "139", "800"), [said("call.offered", calling="139", called="800")],
     "offered"),
    ("offered", ev.Rejecting(1.0, 21), [], "rejecting"),
    # Nothing takes a call back to a state it has passed.
    ("ringing", ev.Seized(1.0), [], "ringing"),
    ("proceeding", ev.SetupSent(1.0, "123", 3), [], "proceeding"),
    ("ringing", ev.Proceeding(1.0, 3), [], "ringing"),
    ("answered", ev.Answered(1.0, "connect"), [], "answered"),
    ("bridged", ev.Answered(1.0, "connect"), [], "bridged"),
    ("answered", ev.Offered(1.0, "139", "800"), [], "answered"),
    ("answered", ev.Rejecting(1.0, 21), [], "answered"),
]


@pytest.mark.parametrize(("before", "event", "wire_events", "after"), TABLE,
                         ids=[f"{b}-{type(e).__name__}" for b, e, _, _ in TABLE])
def test_each_call_event(before: str, event: ev.CallEvent, wire_events: list, after: str
                         ) -> None:
    the_call = call(state=before)
    assert wire.translate(the_call, event) == wire_events
    assert the_call.state == after


def test_every_row_of_the_table_is_exercised() -> None:
    assert set(wire.CALL_EVENTS) == {type(e) for _, e, _, _ in TABLE}


def test_an_answer_notes_when_and_by_whom() -> None:
    the_call = call(state="ringing")
    wire.translate(the_call, ev.Answered(7.5, "connect"))
    assert the_call.answered_at == 7.5 and the_call.answered_by is None
    wire.translate(the_call, ev.Classified(9.0, "machine", "amd_machine", 1.5))
    assert the_call.answered_by == "machine"
    phone = call(state="ringing")
    wire.translate(phone, ev.Answered(2.0, "offhook", person=True))
    assert phone.answered_by == "human"
    notsure = call(state="answered")
    wire.translate(notsure, ev.Classified(9.0, "notsure", "amd_notsure", 1.5))
    assert notsure.answered_by == "human"


@pytest.mark.parametrize("event", [
    ev.DialTone(1.0), ev.DialToneMissing(1.0, "blind"), ev.DigitsSent(1.0, "1"),
    ev.PolarityReversal(1.0, True), ev.LoopCurrentDrop(1.0), ev.VoiceHeard(1.0),
    ev.AmdVerdict(1.0, "human"), ev.DetectorEvent(1.0, "silence"), ev.WaitingForLink(1.0),
    ev.LinkUp(1.0), ev.LinkDown(1.0, "q921"), ev.ChannelChanged(1.0, 4, 3),
    ev.Disconnecting(1.0, 16), ev.Clearing(1.0, "near_end", 16),
    ev.HungUp(1.0, "far_end", "human")])
def test_events_without_a_row_are_the_legs_own_business(event: ev.CallEvent) -> None:
    the_call = call(state="ringing")
    assert wire.translate(the_call, event) == [] and the_call.state == "ringing"


def test_state_event_says_only_what_is_news() -> None:
    the_call = call(state="answered")
    assert wire.state_event(the_call, "answered") == []
    assert wire.state_event(the_call, "answered", by="human") == [state("answered", by="human")]
    assert wire.state_event(the_call, "bridged", peer=6) == [state("bridged", peer=6)]
    assert the_call.state == "bridged"


def test_the_last_word_on_a_call() -> None:
    the_call = call(state="answered", outcome="machine", cause=16)
    assert wire.hungup(the_call, "far_end") == state("hungup", outcome="machine", cause=16,
                                                     by="far_end")
    assert the_call.state == "hungup"


@pytest.mark.parametrize(("event", "wire_event"), [
    (ev.SpanAlarm(2, int(Alarm.RED)), {"event": "alarm", "span": 2, "alarms": "RED"}),
    (ev.SpanAlarm(2, int(Alarm.RED | Alarm.YELLOW)),
     {"event": "alarm", "span": 2, "alarms": "YELLOW|RED"}),
    (ev.SpanAlarm(2, 0), {"event": "alarm", "span": 2, "alarms": "OK"}),
    (ev.LinkState(1, True), {"event": "alarm", "span": 1, "dchannel": "up"}),
    (ev.LinkState(1, False, "layer1"),
     {"event": "alarm", "span": 1, "dchannel": "down", "reason": "layer1"}),
    (ev.IdleHook(4, 71, "offhook"),
     {"event": "channel.state", "channel": 71, "span": 4, "state": "offhook"}),
])
def test_span_events(event: ev.SpanEvent, wire_event: dict[str, Any]) -> None:
    assert wire.SPAN_EVENTS[type(event)](event) == wire_event


# -- call.state only moves forward -------------------------------------------------------------

#: The states a caller sees, in the order a call may pass through them (an outbound call
#: from dialing, an inbound one from offered; both end answered or refused).
ORDER = {"new": 0, "dialing": 1, "proceeding": 2, "early_media": 3, "ringing": 4,
         "offered": 4, "answered": 5, "rejecting": 5}

call_events = st.sampled_from([e for _, e, _, _ in TABLE] + [
    ev.DialTone(1.0), ev.VoiceHeard(1.0), ev.HungUp(1.0, "far_end", "human")])


@settings(max_examples=300, deadline=None)
@given(st.lists(call_events, max_size=30))
def test_call_state_only_moves_forward(events: list[ev.CallEvent]) -> None:
    the_call = call()
    for event in events:
        before = the_call.state
        out = wire.translate(the_call, event)
        assert ORDER[the_call.state] >= ORDER[before], (before, event, the_call.state)
        for item in out:
            if item["event"] == "call.state":
                assert item["state"] == the_call.state
