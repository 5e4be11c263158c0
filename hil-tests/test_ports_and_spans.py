"""FXS ports (agent positions) and E1 spans: ringing, hook events, D-channel, alarms."""

from __future__ import annotations

import numpy as np
from signal_checks import channels_of

from trunkline.drivers.backends.emulated.config import FaultConfig
from trunkline.drivers.dsp import g711
from trunkline.drivers.model import Alarm, EventKind, HookOp, SpanKind


def run(card, seconds, tx=None):
    events = []
    for _ in range(round(seconds / 0.02)):
        frames = card.read_frames()
        events += card.poll_events()
        card.write_frames(np.zeros_like(frames) if tx is None else tx)
    return events


def test_fxs_phone_rings_and_the_agent_hears_us(lines):
    ch = channels_of(lines, SpanKind.FXS)[0]
    lines.open(ch)
    lines.hook(ch, HookOp.RING)
    tone = (6000 * np.sin(2 * np.pi * 800 * np.arange(160) / 8000)).astype(np.int16)
    events = run(lines, 3.0, tx=tone[None, :])
    # Before the phone is lifted the ringer may pause (RINGER_OFF: still ringing).
    kinds = [e.kind for e in events if e.channel == ch and e.kind is not EventKind.RINGER_OFF]
    assert kinds[:1] == [EventKind.OFFHOOK]
    heard = lines.phone(ch).heard[-1600:].astype(float)
    assert abs(np.argmax(np.abs(np.fft.rfft(heard))) * 8000 / heard.size - 800) < 10
    lines.phone(ch).hangup()
    events = run(lines, 0.1)
    assert any(e.kind is EventKind.ONHOOK for e in events)
    lines.close_channel(ch)


def test_pri_dchannel_comes_up_and_goes_down_in_alarm(emulated):
    from trunkline.drivers.signalling.pri import PriSpan
    from trunkline.drivers.signalling.pri import events as pri_events

    span = next(s for s in emulated.spans if s.kind is SpanKind.E1)
    pri = PriSpan(emulated.dchannel(span.number), role="cpe", clock=emulated.clock,
                  span_id=span.number)
    seen: list[type] = []

    def tick(seconds: float) -> list:
        card_events = []
        for _ in range(round(seconds / 0.02)):
            frames = emulated.read_frames()
            card_events += emulated.poll_events()
            seen.extend(type(e) for e in pri.poll(emulated.clock.now()))
            emulated.write_frames(np.zeros_like(frames))
        return card_events

    tick(1.0)
    assert pri_events.DChannelUp in seen  # Q.921 established with the far end's libpri
    seen.clear()
    emulated.inject(FaultConfig(at=0, kind="alarm", span=span.number, alarm="red",
                                duration=2.0))
    events = tick(0.5)
    assert any(e.kind is EventKind.ALARM and e.value & Alarm.RED for e in events)
    assert pri_events.DChannelDown in seen and not emulated.dchannel(span.number).up
    seen.clear()
    events = tick(3.0)
    assert any(e.kind is EventKind.NOALARM for e in events)
    assert pri_events.DChannelUp in seen
    pri.close()


def test_bchannel_audio_reaches_us_in_the_span_law(card):
    span = next((s for s in card.spans if s.kind is SpanKind.E1 and s.channels), None)
    if span is None:
        import pytest

        pytest.skip("no E1 span")
    card.open(span.channels[:4])
    frames = card.read_frames()
    card.close_channel(span.channels[:4])
    assert frames.shape == (4, 160) and frames.dtype == np.int16
    # Decoded with the span's law: every sample is one of that law's 256 values (A-law
    # has no 0, mu-law has; an idle A-law line decoded as mu-law would read 0).
    assert np.isin(frames, g711.decode_table(span.law)).all()
