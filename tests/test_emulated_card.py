"""The emulated card through the public CardABC interface, in virtual time."""

from __future__ import annotations

import numpy as np
import pytest

from trunkline.clock import VirtualClock
from trunkline.drivers.backends.emulated.card import EmulatedCard
from trunkline.drivers.backends.emulated.config import FaultConfig, card_config_from_string
from trunkline.drivers.model import (
    FRAME_SAMPLES,
    Alarm,
    ChannelSignalling,
    ChannelState,
    EventKind,
    SpanKind,
)
from trunkline.drivers.registry import open_card
from trunkline.errors import BackendError, BackendNotFound, ChannelError, ChannelStateError


@pytest.fixture
def card():
    with open_card("emulated", clock=VirtualClock()) as c:
        yield c


def run(card, seconds, tx=None):
    frames, events = [], []
    for _ in range(round(seconds / 0.02)):
        f = card.read_frames()
        frames.append(f)
        events += card.poll_events()
        card.write_frames(np.zeros_like(f) if tx is None else tx)
    return (np.concatenate(frames, axis=1) if frames and frames[0].size else np.zeros(0)), events


def fxo(card, i=0):
    return [c for s in card.spans if s.kind is SpanKind.FXO for c in s.channels][i]


def fxs(card, i=0):
    return [c for s in card.spans if s.kind is SpanKind.FXS for c in s.channels][i]


def test_layout_numbers_channels_like_dahdi(card):
    e1 = card.spans[0]
    assert e1.kind is SpanKind.E1 and len(e1.channels) == 30 and e1.dchannel == 16
    assert card.channels[16].signalling is ChannelSignalling.DCHAN
    assert card.spans[1].channels[0] == 32 and card.spans[1].dchannel == 47
    assert card.channels[fxo(card)].signalling is ChannelSignalling.FXO_KEWLSTART


def test_frames_have_one_row_per_open_channel(card):
    assert card.read_frames().shape == (0, FRAME_SAMPLES)
    card.open([1, 2, fxo(card)])
    frames = card.read_frames()
    assert frames.shape == (3, FRAME_SAMPLES) and frames.dtype == np.int16
    with pytest.raises(ValueError, match="frames must have shape"):
        card.write_frames(np.zeros((2, FRAME_SAMPLES), np.int16))
    card.close_channel(2)
    assert card.open_channels == (1, fxo(card))


def test_dchannel_cannot_be_opened_as_audio(card):
    with pytest.raises(ChannelStateError, match="D-channel of span 1"):
        card.open(16)


def test_unknown_channel_is_named(card):
    with pytest.raises(ChannelError, match="has no channel 999"):
        card.open(999)


def test_hook_needs_an_open_channel(card):
    with pytest.raises(ChannelStateError, match="not open"):
        card.hook(fxo(card), "offhook")


def test_dial_tone_after_seizing_and_silence_on_hook(card):
    ch = fxo(card)
    card.open(ch)
    idle, _ = run(card, 0.5)
    card.hook(ch, "offhook")
    audio, _ = run(card, 1.0)
    tail = audio[0, 4000:].astype(float)
    assert np.sqrt(np.mean(idle.astype(float) ** 2)) < 30
    spectrum = np.abs(np.fft.rfft(tail))
    assert abs(np.argmax(spectrum) * 8000 / tail.size - 450) < 5  # China's dial tone
    assert card.channel_state(ch) is ChannelState.OFFHOOK


@pytest.mark.parametrize("mode", ["dtmf", "pulse"])
def test_digits_reach_the_exchange(card, mode):
    ch = fxo(card)
    card.open(ch)
    card.hook(ch, "offhook")
    run(card, 0.5)
    card.dial(ch, "13712345678", mode)
    _, events = run(card, 18 if mode == "pulse" else 6)  # incl. 3 s inter-digit timeout
    assert any(e.kind is EventKind.DIAL_COMPLETE and e.channel == ch for e in events)
    line = card.line(ch)
    assert "routed:13712345678:busy" in line.history


def test_interdigit_timeout_routes_a_short_number(card):
    ch = fxo(card)
    card.open(ch)
    card.hook(ch, "offhook")
    run(card, 0.5)
    card.dial(ch, "999")
    run(card, 5)
    assert "routed:999:invalid_number" in card.line(ch).history


def test_dial_errors_are_clear(card):
    ch = fxo(card)
    card.open(ch)
    with pytest.raises(ChannelStateError, match="on hook"):
        card.dial(ch, "123")
    card.hook(ch, "offhook")
    with pytest.raises(ValueError, match="illegal digits 'x'"):
        card.dial(ch, "12x")
    with pytest.raises(ValueError, match="pulse-dial"):
        card.dial(ch, "1#", "pulse")
    card.open(1)
    with pytest.raises(ChannelStateError, match="not an FXO port"):
        card.dial(1, "123")


def test_polarity_reversal_on_answer_and_clear():
    config = card_config_from_string(
        'network = ""\n[[span]]\nkind = "fxo"\nports = 1\n'.replace('network = ""\n', ""))
    from trunkline.drivers.backends.emulated.plan import plan_from_string

    plan = plan_from_string('[[subscriber]]\nnumber = "1*"\nbehaviour = "human"\n'
                            'answer_after = 2.0\ntalk = 5.0\n')
    with EmulatedCard(config, clock=VirtualClock(), network=plan) as card:
        ch = card.spans[0].channels[0]
        card.open(ch)
        card.hook(ch, "offhook")
        run(card, 0.5)
        card.dial(ch, "12345678901")
        _, events = run(card, 15)
    kinds = [(e.kind, e.value) for e in events if e.channel == ch]
    assert (EventKind.POLARITY, 1) in kinds and (EventKind.POLARITY, 0) in kinds
    assert (EventKind.ONHOOK, None) in kinds  # loop-drop disconnect
    answer = next(e.t for e in events if e.kind is EventKind.POLARITY and e.value == 1)
    clear = next(e.t for e in events if e.kind is EventKind.POLARITY and e.value == 0)
    assert clear - answer == pytest.approx(5.0, abs=0.05)


def test_fxs_phone_rings_answers_and_hears_us(card):
    ch = fxs(card)
    card.open(ch)
    card.hook(ch, "ring")
    assert card.channel_state(ch) is ChannelState.RINGING
    tone = (8000 * np.sin(2 * np.pi * 1000 * np.arange(160) / 8000)).astype(np.int16)
    _, events = run(card, 3, tx=tone[None, :])
    assert any(e.kind is EventKind.OFFHOOK and e.channel == ch for e in events)
    heard = card.phone(ch).heard
    assert heard.size > 0
    spectrum = np.abs(np.fft.rfft(heard[-800:].astype(float)))
    assert abs(np.argmax(spectrum) * 8000 / 800 - 1000) < 15
    card.hook(ch, "onhook")
    _, events = run(card, 1)
    assert any(e.kind is EventKind.ONHOOK and e.channel == ch for e in events)


def test_inbound_ringing_on_fxo(card):
    ch = fxo(card)
    card.open(ch)
    card.line(ch).ring_in(rings=2)
    assert card.channel_state(ch) is ChannelState.RINGING
    _, events = run(card, 6)
    begins = [e.t for e in events if e.kind is EventKind.RING_BEGIN]
    ends = [e.t for e in events if e.kind is EventKind.RING_END]
    assert len(begins) == 2 and ends[0] - begins[0] == pytest.approx(1.0, abs=0.03)
    assert begins[1] - begins[0] == pytest.approx(5.0, abs=0.03)  # China: 1 s on, 4 s off


def test_dchannel_frames_cross_both_ways():
    config = card_config_from_string('[[span]]\nkind = "e1"\nfar_end = "none"\n'
                                     '[[span]]\nkind = "fxo"\nports = 1\n')
    card = EmulatedCard(config, clock=VirtualClock())
    ours, theirs = card.dchannel(1), card.network_dchannel(1)
    ours.send(b"\x00\x01\x7f")
    theirs.send(b"\x02\x01\x03")
    assert theirs.receive() == b"\x00\x01\x7f" and ours.receive() == b"\x02\x01\x03"
    assert ours.receive() is None
    with pytest.raises(ChannelError, match="has no D-channel"):
        card.dchannel(2)
    card.close()


def test_red_alarm_takes_the_dchannel_down_and_is_reported(card):
    card.open(1)
    card.inject(FaultConfig(at=0, kind="alarm", span=1, alarm="red", duration=1.0))
    _frames, events = run(card, 0.2)
    assert card.span_status(1).alarms & Alarm.RED
    assert not card.dchannel(1).up
    assert card.channel_state(1) is ChannelState.OUT_OF_SERVICE
    card.dchannel(1).send(b"lost")
    assert card.network_dchannel(1).receive() is None
    assert card.span_status(1).counters.fas >= 1
    assert any(e.kind is EventKind.ALARM and e.span == 1 for e in events)
    _, events = run(card, 1.0)
    assert any(e.kind is EventKind.NOALARM for e in events)
    assert card.dchannel(1).up


def test_faults_from_configuration_fire_on_time():
    config = card_config_from_string(
        '[[span]]\nkind = "e1"\n[[span]]\nkind = "fxo"\nports = 1\n'
        '[[fault]]\nat = 1.0\nkind = "dchannel_down"\nspan = 1\nduration = 0.5\n'
        '[[fault]]\nat = 0.5\nkind = "slip"\nspan = 1\ncount = 2\n'
        '[[fault]]\nat = 0.2\nkind = "out_of_service"\nchannel = 32\n')
    with EmulatedCard(config, clock=VirtualClock()) as card:
        run(card, 0.4)
        assert card.channel_state(32) is ChannelState.OUT_OF_SERVICE
        run(card, 0.7)
        assert card.span_status(1).counters.timingslips == 2
        assert not card.dchannel(1).up
        run(card, 0.6)
        assert card.dchannel(1).up


def test_out_of_service_line_gives_no_dial_tone(card):
    ch = fxo(card)
    card.inject(FaultConfig(at=0, kind="out_of_service", channel=ch))
    card.open(ch)
    card.hook(ch, "offhook")
    audio, _ = run(card, 1.0)
    assert np.abs(audio).max() <= 8  # an A-law idle code, no tone
    assert card.channel_state(ch) is ChannelState.OUT_OF_SERVICE


def test_close_is_idempotent_and_closed_card_refuses_work():
    card = open_card("emulated", clock=VirtualClock())
    card.close()
    card.close()
    with pytest.raises(BackendError, match="is closed"):
        card.read_frames()


@pytest.mark.slow
def test_ten_minutes_of_telephony_in_virtual_time():
    clock = VirtualClock()
    with open_card("emulated", clock=clock) as card:
        card.open([*list(card.spans[0].channels), fxo(card)])
        for _ in range(30_000):  # ten minutes of 20 ms frames
            card.write_frames(np.zeros_like(card.read_frames()))
        assert clock.now() == pytest.approx(600.0)
        assert card.overruns == 0


def test_unknown_backend_lists_the_known_ones():
    with pytest.raises(BackendNotFound, match=r"no card backend named 'acme'.*emulated"):
        open_card("acme")


def test_entry_point_backends_are_found(monkeypatch):
    import trunkline.drivers.registry as registry

    class FakeEP:
        name, value = "mine", "trunkline.drivers.backends.emulated.card:EmulatedCard"

    monkeypatch.setattr(registry, "entry_points", lambda group: [FakeEP()])
    assert registry.available_backends()["mine"] == (
        "trunkline.drivers.backends.emulated.card", "EmulatedCard")
    with registry.open_card("mine", clock=VirtualClock()) as card:
        assert card.backend == "emulated"


def test_cas_bits_both_ways():
    config = card_config_from_string('[[span]]\nkind = "e1"\nsignalling = "cas"\n')
    with EmulatedCard(config, clock=VirtualClock()) as card:
        ch = card.spans[0].channels[0]
        assert card.channels[ch].signalling is ChannelSignalling.CAS
        with pytest.raises(ChannelStateError, match="not open"):
            card.cas_bits(ch)
        card.open(ch)
        assert card.cas_bits(ch) == 0b1001
        card.set_cas_bits(ch, 0b0001)  # seize (Q.421: A=0)
        assert card.port(ch).tx_bits == 0b0001
        card.port(ch).far_end_bits(0b1101)
        events = card.poll_events()
        assert [(e.kind, e.channel, e.value) for e in events] == [
            (EventKind.BITS_CHANGED, ch, 0b1101)]
        assert card.cas_bits(ch) == 0b1101
        with pytest.raises(ValueError, match=r"0\.\.15"):
            card.set_cas_bits(ch, 16)
        card.close_channel(ch)
    with open_card("emulated", clock=VirtualClock()) as card, pytest.raises(
            ChannelStateError, match="not a CAS channel"):
        card.set_cas_bits(1, 1)


def test_a_late_reader_loses_frames_but_the_line_goes_on():
    """Frames the application was too late for are lost (an overrun), but the line goes
    on meanwhile: digits being dialled keep sounding (DAHDI_DIAL's digits are the
    kernel's to send, whether or not the application keeps up), so the number is out
    2.2 s after the dial (11 digits, 100 ms on and 100 ms off) and the exchange routes it."""
    clock = VirtualClock()
    with open_card("emulated", clock=clock) as card:
        ch = fxo(card)
        card.open(ch)
        card.hook(ch, "offhook")
        for _ in range(25):  # dial tone comes
            card.write_frames(np.zeros_like(card.read_frames()))
        dialled = card.now
        card.dial(ch, "13700000001")
        events = []
        for _ in range(40):  # the application keeps stalling for 120 ms
            for _ in range(3):
                card.write_frames(np.zeros_like(card.read_frames()))
                events += card.poll_events()
            clock.advance(0.12)
        for _ in range(100):
            card.write_frames(np.zeros_like(card.read_frames()))
            events += card.poll_events()
        assert card.overruns == 40 and card.frames_dropped >= 40 * 4
        done = [e.t for e in events if e.kind is EventKind.DIAL_COMPLETE]
        assert len(done) == 1 and done[0] - dialled == pytest.approx(2.2, abs=0.05)
        assert "routed:13700000001:busy" in card.line(ch).history
        card.hook(ch, "onhook")
        card.close_channel(ch)
