"""FXS ports (agent positions) and E1 spans: ringing, hook events, D-channel, alarms."""

from __future__ import annotations

import numpy as np
from signal_checks import channels_of
from trunkline.drivers.emulated.config import FaultConfig
from trunkline.drivers.model import Alarm, EventKind, HookOp, SpanKind


def run(card, seconds, tx=None):
    events = []
    for _ in range(round(seconds / 0.02)):
        frames = card.read_frames()
        events += card.poll_events()
        card.write_frames(np.zeros_like(frames) if tx is None else tx)
    return events


def test_fxs_phone_rings_and_the_agent_hears_us(emulated):
    ch = channels_of(emulated, SpanKind.FXS)[0]
    emulated.open(ch)
    emulated.hook(ch, HookOp.RING)
    tone = (6000 * np.sin(2 * np.pi * 800 * np.arange(160) / 8000)).astype(np.int16)
    events = run(emulated, 3.0, tx=tone[None, :])
    assert [e.kind for e in events if e.channel == ch][:1] == [EventKind.OFFHOOK]
    heard = emulated.phone(ch).heard[-1600:].astype(float)
    assert abs(np.argmax(np.abs(np.fft.rfft(heard))) * 8000 / heard.size - 800) < 10
    emulated.phone(ch).hangup()
    events = run(emulated, 0.1)
    assert any(e.kind is EventKind.ONHOOK for e in events)
    emulated.close_channel(ch)


def test_pri_dchannel_carries_frames_and_drops_in_alarm(emulated):
    span = next(s for s in emulated.spans if s.kind is SpanKind.E1)
    ours, theirs = emulated.dchannel(span.number), emulated.network_dchannel(span.number)
    ours.send(bytes([0x00, 0x01, 0x7F]))  # a Q.921 SABME-sized frame
    assert theirs.receive() == bytes([0x00, 0x01, 0x7F])
    emulated.inject(FaultConfig(at=0, kind="alarm", span=span.number, alarm="red",
                                duration=0.5))
    events = run(emulated, 0.1)
    assert any(e.kind is EventKind.ALARM and e.value & Alarm.RED for e in events)
    assert not ours.up
    events = run(emulated, 0.6)
    assert any(e.kind is EventKind.NOALARM for e in events) and ours.up


def test_bchannel_audio_reaches_us_in_the_span_law(card):
    span = next((s for s in card.spans if s.kind is SpanKind.E1), None)
    if span is None:
        import pytest

        pytest.skip("no E1 span")
    card.open(span.channels[:4])
    frames = card.read_frames()
    assert frames.shape == (4, 160) and frames.dtype == np.int16
    card.close_channel(span.channels[:4])
