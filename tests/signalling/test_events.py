"""What legs report: every call event's observation dict (``trunkline call --json``'s
``events``), and the span events."""

from __future__ import annotations

import inspect
from dataclasses import FrozenInstanceError
from typing import Any

import pytest

from trunkline.drivers.signalling import events as ev

START = 100.0

#: One example of every call event, and the observation it gives for a call started at
#: START. These names and fields are what scripts reading ``trunkline call`` rely on.
OBSERVATIONS: list[tuple[ev.CallEvent, dict[str, Any]]] = [
    (ev.Seized(100.0), {"t": 0.0, "event": "seized"}),
    (ev.DialTone(100.5), {"t": 0.5, "event": "dial_tone"}),
    (ev.DialToneMissing(103.0, "blind"), {"t": 3.0, "event": "dial_tone_missing",
                                          "dialing": "blind"}),
    (ev.DigitsSent(102.25, "123"), {"t": 2.25, "event": "digits_sent", "digits": "123"}),
    (ev.PolarityReversal(110.0, True), {"t": 10.0, "event": "polarity_reversal",
                                        "reversed": True}),
    (ev.LoopCurrentDrop(120.0), {"t": 20.0, "event": "loop_current_drop"}),
    (ev.ToneHeard(104.0, "ringback"), {"t": 4.0, "event": "tone", "tone": "ringback"}),
    (ev.SitHeard(104.0, "IC"), {"t": 4.0, "event": "sit", "code": "IC"}),
    (ev.AnnouncementHeard(105.0, "powered_off"), {"t": 5.0, "event": "announcement",
                                                  "kind": "powered_off"}),
    (ev.VoiceHeard(106.0), {"t": 6.0, "event": "voice"}),
    (ev.AmdVerdict(108.0, "machine"), {"t": 8.0, "event": "amd", "result": "machine"}),
    (ev.DetectorEvent(107.0, "silence"), {"t": 7.0, "event": "silence"}),
    (ev.DigitReceived(130.0, "5"), {"t": 30.0, "event": "dtmf", "digit": "5"}),
    (ev.EarlyMedia(103.0, "ringback"), {"t": 3.0, "event": "early_media",
                                        "heard": "ringback"}),
    (ev.EarlyMedia(103.0, "announcement", "powered_off"), {
        "t": 3.0, "event": "early_media", "heard": "announcement", "kind": "powered_off"}),
    (ev.WaitingForLink(100.0), {"t": 0.0, "event": "waiting_for_dchannel"}),
    (ev.LinkUp(100.1), {"t": 0.1, "event": "dchannel_up"}),
    (ev.LinkDown(100.1, "layer1"), {"t": 0.1, "event": "dchannel_down", "reason": "layer1"}),
    (ev.SetupSent(100.1, "123", 5), {"t": 0.1, "event": "setup", "called": "123",
                                     "channel": 5}),
    (ev.Proceeding(100.2, None), {"t": 0.2, "event": "proceeding", "channel": None}),
    (ev.Progress(100.3, True), {"t": 0.3, "event": "progress", "inband": True}),
    (ev.Alerting(101.0), {"t": 1.0, "event": "alerting", "inband": False}),
    (ev.ChannelChanged(101.0, 9, 5), {"t": 1.0, "event": "channel_changed", "channel": 9,
                                      "previous": 5}),
    (ev.Disconnecting(140.0, 17), {"t": 40.0, "event": "disconnect", "cause": 17,
                                   "by": "network"}),
    (ev.Clearing(140.0, "near_end", 16), {"t": 40.0, "event": "clearing", "by": "near_end",
                                          "cause": 16}),
    (ev.Rejecting(110.0, 21), {"t": 10.0, "event": "rejecting", "cause": 21}),
    (ev.Offered(100.0, "139", "800"), {"t": 0.0, "event": "offered", "calling": "139",
                                       "called": "800"}),
    (ev.Answered(110.0, "polarity"), {"t": 10.0, "event": "answered", "by": "polarity"}),
    (ev.Answered(110.0, "offhook", person=True), {"t": 10.0, "event": "answered",
                                                  "by": "offhook"}),
    (ev.Classified(112.5, "notsure", "amd_timeout", 2.5), {
        "t": 12.5, "event": "decided", "result": "notsure", "reason": "amd_timeout",
        "after_answer": 2.5}),
    (ev.HungUp(150.0, "far_end", "human", 16), {"t": 50.0, "event": "hangup",
                                                "by": "far_end"}),
    (ev.HungUp(150.0, "near_end", "busy", notes=(("outcome", "busy"), ("cause", 17))), {
        "t": 50.0, "event": "hangup", "by": "near_end", "outcome": "busy", "cause": 17}),
]


@pytest.mark.parametrize(("event", "observation"), OBSERVATIONS,
                         ids=[f"{type(e).__name__}-{i}" for i, (e, _) in
                              enumerate(OBSERVATIONS)])
def test_observation(event: ev.CallEvent, observation: dict[str, Any]) -> None:
    assert event.observation(START) == observation


def test_every_call_event_has_an_observation_example() -> None:
    classes = {getattr(ev, name) for name in ev.__all__}
    call_events = {c for c in classes if inspect.isclass(c) and issubclass(c, ev.CallEvent)
                   and c is not ev.CallEvent}
    assert call_events == {type(e) for e, _ in OBSERVATIONS}


def test_every_call_event_has_a_name_of_its_own() -> None:
    names = [type(e).NAME for e, _ in OBSERVATIONS if type(e) is not ev.DetectorEvent]
    assert all(names) and ev.DetectorEvent.NAME == ""
    assert len(set(names)) == len({type(e) for e, _ in OBSERVATIONS}) - 1


def test_times_are_rounded_to_the_millisecond() -> None:
    assert ev.VoiceHeard(100.12345).observation(100.0)["t"] == 0.123
    assert ev.VoiceHeard(99.0).observation(100.0)["t"] == -1.0


def test_classified_answered_by_counts_notsure_as_a_person() -> None:
    assert ev.Classified(0, "notsure", "amd_notsure", 1.0).answered_by == "human"
    for result in ("human", "machine", "fax"):
        assert ev.Classified(0, result, "x", 1.0).answered_by == result


def test_events_are_frozen_values() -> None:
    event = ev.HungUp(1.0, "far_end", "human")
    assert event == ev.HungUp(1.0, "far_end", "human", None, ())
    with pytest.raises(FrozenInstanceError):
        event.outcome = "machine"
    assert hash(ev.SpanAlarm(1, 8)) == hash(ev.SpanAlarm(1, 8))


def test_span_events_are_not_call_events() -> None:
    for event in (ev.SpanAlarm(1, 8), ev.LinkState(2, up=False, reason="q921"),
                  ev.IdleHook(3, 67, "offhook")):
        assert isinstance(event, ev.SpanEvent) and not isinstance(event, ev.CallEvent)
    assert ev.LinkState(2, up=True).reason is None
