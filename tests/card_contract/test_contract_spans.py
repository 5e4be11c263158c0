"""Span status: alarms, counters, timing source; simulated alarms where a card has them."""

from __future__ import annotations

import dataclasses

import pytest
from card_contract_kit import DIGITAL, check_events, run, up_digital_span

from trunkline.drivers.model import (
    Alarm,
    ChannelState,
    EventKind,
    SpanCounters,
    SpanStatus,
)
from trunkline.errors import ChannelError, Unsupported

#: Which backends can simulate alarms (CardABC.simulate_alarm): the emulated card can;
#: the DAHDI backend cannot, on a real kernel or the simulated one (its kernel's faults
#: are the simulation's controls, not the card's), and says so with Unsupported.
SIMULATES_ALARMS = {"emulated": True, "dahdi:sim": False, "dahdi": False, "mobile": False}


def test_every_span_has_a_status(card):
    digital = {s.number for s in card.spans if s.kind in DIGITAL}
    for s in card.spans:
        status = card.span_status(s.number)
        assert isinstance(status, SpanStatus) and status.number == s.number
        assert isinstance(status.alarms, Alarm)
        assert isinstance(status.counters, SpanCounters)
        for f in dataclasses.fields(SpanCounters):
            value = getattr(status.counters, f.name)
            assert isinstance(value, int) and value >= 0, (f.name, value)
        assert status.sync_source == 0 or status.sync_source in digital
        assert status.loopback == ""
        assert not status.alarms & Alarm.LOOPBACK


def test_a_span_in_service_has_no_alarm(card):
    span = up_digital_span(card)
    assert card.span_status(span.number).alarms == Alarm.NONE
    run(card, 5)
    assert card.span_status(span.number).alarms == Alarm.NONE


def test_a_loop_is_reported_but_is_not_an_alarm(card):
    """The LOOPBACK bit is set while a span is looped, but a loop is no fault: no
    ALARM event, and the span's channels stay in service."""
    span = up_digital_span(card)
    ch = span.channels[0]
    card.open(ch)
    card.set_maintenance(span.number, "local")
    events = run(card, 60)  # past the DAHDI backend's periodic SPANSTAT
    card.set_maintenance(span.number, "off")
    events += run(card, 60)
    check_events(card, events)
    assert not [e for e in events if e.kind is EventKind.ALARM and e.span == span.number]
    assert card.channel_state(ch) is not ChannelState.OUT_OF_SERVICE
    card.close_channel(ch)


def test_simulated_alarms(card, backend):
    span = up_digital_span(card, pri=True)
    if not SIMULATES_ALARMS[backend]:
        with pytest.raises(Unsupported, match="cannot simulate alarms"):
            card.simulate_alarm(span.number, "red")
        assert card.span_status(span.number).alarms == Alarm.NONE
        return
    before = card.span_status(span.number).counters.fas
    run(card, 2)
    card.simulate_alarm(span.number, "red")
    events = run(card, 2)
    check_events(card, events)
    assert [(e.kind, e.value & Alarm.RED) for e in events if e.span == span.number] == [
        (EventKind.ALARM, Alarm.RED)]
    status = card.span_status(span.number)
    assert status.alarms & Alarm.RED and status.counters.fas > before
    assert card.channel_state(span.channels[0]) is ChannelState.OUT_OF_SERVICE
    assert card.channel_state(span.dchannel) is ChannelState.OUT_OF_SERVICE
    assert not card.dchannel(span.number).up
    card.simulate_alarm(span.number, "red", on=False)
    events = run(card, 2)
    assert [e.kind for e in events if e.span == span.number] == [EventKind.NOALARM]
    assert card.span_status(span.number).alarms == Alarm.NONE
    assert card.channel_state(span.channels[0]) is ChannelState.IDLE
    assert card.dchannel(span.number).up


def test_an_alarm_cleared_on_a_looped_span_is_a_noalarm(card, backend):
    """ALARM and NOALARM say whether a fault is present; the LOOPBACK bit alone is
    none (as test_a_loop_is_reported_but_is_not_an_alarm)."""
    if not SIMULATES_ALARMS[backend]:
        pytest.skip(f"{backend} cannot simulate alarms (test_simulated_alarms checks it "
                    "says so)")
    span = up_digital_span(card)
    card.set_maintenance(span.number, "local")
    run(card, 2)
    card.simulate_alarm(span.number, "red")
    card.simulate_alarm(span.number, "red", on=False)
    events = [e for e in run(card, 2) if e.span == span.number]
    assert [(e.kind, e.value) for e in events] == [
        (EventKind.ALARM, Alarm.RED | Alarm.LOOPBACK), (EventKind.NOALARM, Alarm.LOOPBACK)]
    card.set_maintenance(span.number, "off")


def test_a_simulated_alarm_clears_after_its_duration_in_card_time(card, backend):
    if not SIMULATES_ALARMS[backend]:
        pytest.skip(f"{backend} cannot simulate alarms (test_simulated_alarms checks it "
                    "says so)")
    span = up_digital_span(card)
    card.simulate_alarm(span.number, "yellow", duration=0.5)
    assert card.span_status(span.number).alarms & Alarm.YELLOW
    events = run(card, 24)  # 0.48 s
    assert card.span_status(span.number).alarms & Alarm.YELLOW
    events += run(card, 2)
    assert card.span_status(span.number).alarms == Alarm.NONE
    kinds = [(e.kind, e.t) for e in events if e.span == span.number]
    assert kinds[-1] == (EventKind.NOALARM, pytest.approx(0.5, abs=0.02))


def test_simulate_alarm_refuses_bad_arguments(card, backend):
    with pytest.raises(ChannelError, match="no span"):
        card.simulate_alarm(len(card.spans) + 1, "red")
    span = up_digital_span(card)
    expected = ValueError if SIMULATES_ALARMS[backend] else Unsupported
    with pytest.raises(expected, match="not 'purple'" if expected is ValueError else "cannot"):
        card.simulate_alarm(span.number, "purple")
    assert card.span_status(span.number).alarms == Alarm.NONE

