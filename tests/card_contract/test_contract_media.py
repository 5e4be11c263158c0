"""Frames: their shape and type, card time, and G.711 through a loopback."""

from __future__ import annotations

import numpy as np
import pytest
from card_contract_kit import analog_span, up_digital_span

from trunkline.clock import VirtualClock
from trunkline.drivers.dsp import g711
from trunkline.drivers.model import FRAME_SAMPLES, TICK_SECONDS, Alarm

#: Frames a loopback may take to bring our audio back (a board's buffers).
MAX_LATENCY = 4


def test_frames_are_int16_one_row_per_open_channel(card):
    frames = card.read_frames()
    assert frames.shape == (0, FRAME_SAMPLES) and frames.dtype == np.int16
    chans = [*up_digital_span(card).channels[:2], analog_span(card).channels[0]]
    card.open(chans)
    for _ in range(3):
        frames = card.read_frames()
        assert frames.shape == (3, FRAME_SAMPLES) and frames.dtype == np.int16
        card.write_frames(np.zeros_like(frames))
    card.close_channel(chans)


def test_each_frame_is_20_ms_of_card_time(card, backend):
    """read_frames returns when the next frame is due on the card's clock: exactly
    20 ms of card time per frame, with channels open or not (on the virtual clock the
    test gave; a real board keeps its own time, which no test reads)."""
    if backend == "dahdi":
        pytest.skip("a real board's clock is real time")
    clock = card.clock
    assert isinstance(clock, VirtualClock)
    start = clock.now()
    for k in range(1, 6):
        card.read_frames()
        assert clock.now() == pytest.approx(start + k * TICK_SECONDS, abs=1e-9)
    chans = up_digital_span(card).channels[:2]
    card.open(chans[0])
    for k in range(6, 11):
        card.write_frames(np.zeros((1, FRAME_SAMPLES), np.int16))
        card.read_frames()
        assert clock.now() == pytest.approx(start + k * TICK_SECONDS, abs=1e-9)
    card.open(chans[1])  # a channel opened later keeps the same 20 ms grid
    for k in range(11, 16):
        card.read_frames()
        assert clock.now() == pytest.approx(start + k * TICK_SECONDS, abs=1e-9)
    card.close_channel(chans)
    for k in range(16, 19):
        card.read_frames()
        assert clock.now() == pytest.approx(start + k * TICK_SECONDS, abs=1e-9)
    assert card.overruns == 0


@pytest.mark.parametrize("shape", [(2, FRAME_SAMPLES), (0, FRAME_SAMPLES), (1, 159),
                                   (1, 161), (FRAME_SAMPLES,), (1, 1, FRAME_SAMPLES)])
def test_write_refuses_a_wrong_shape(card, shape):
    ch = up_digital_span(card).channels[0]
    card.open(ch)
    card.read_frames()
    with pytest.raises(ValueError, match=r"frames must have shape \(open channels, 160\)"):
        card.write_frames(np.zeros(shape, np.int16))
    card.write_frames(np.zeros((1, FRAME_SAMPLES), np.int16))  # the right one is taken
    card.close_channel(ch)


def test_write_with_no_channel_open_takes_an_empty_frame(card):
    card.write_frames(np.zeros((0, FRAME_SAMPLES), np.int16))
    with pytest.raises(ValueError, match="frames must have shape"):
        card.write_frames(np.zeros((1, FRAME_SAMPLES), np.int16))


def _test_signal(rows: int, frames: int) -> np.ndarray:
    """Audio that differs in every row and frame: a tone per row, at a level per frame,
    so a row or frame out of place cannot match."""
    t = np.arange(frames * FRAME_SAMPLES) / 8000
    freqs = 300 + 170 * np.arange(rows)[:, None]
    level = np.repeat(1000 + 900 * np.arange(frames), FRAME_SAMPLES)[None, :]
    x = np.rint(level * np.sin(2 * np.pi * freqs * t)).astype(np.int16)
    return x.reshape(rows, frames, FRAME_SAMPLES)


def test_local_loopback_returns_our_g711_bit_exact(card):
    """Span maintenance "local" loops what we send back to us inside the card: every
    row comes back in its own row, as G.711 of the span's law, after a fixed latency of
    whole frames."""
    span = up_digital_span(card)
    chans = list(span.channels[:4])
    card.set_maintenance(span.number, "local")
    status = card.span_status(span.number)
    assert status.loopback == "local" and status.alarms & Alarm.LOOPBACK
    card.open(chans)
    frames = 12
    sent = _test_signal(len(chans), frames)
    laws = [card.channel(c).law for c in chans]
    expected = np.stack([g711.decode(g711.encode(sent[r], law), law)
                         for r, law in enumerate(laws)])
    received = []
    for k in range(frames + MAX_LATENCY):
        card.write_frames(sent[:, k] if k < frames else np.zeros((len(chans), 160), np.int16))
        received.append(card.read_frames())
    got = np.stack(received, axis=1)  # rows x frames x samples
    lags = [lag for lag in range(MAX_LATENCY + 1)
            if np.array_equal(got[:, lag: lag + frames], expected)]
    assert lags, "what came back is not what we sent, row for row and frame for frame"
    card.close_channel(chans)
    card.set_maintenance(span.number, "off")
    status = card.span_status(span.number)
    assert status.loopback == "" and not status.alarms & Alarm.LOOPBACK


def test_loopback_modes(card):
    span = up_digital_span(card)
    for mode in ("network_line", "network_payload", "local"):
        card.set_maintenance(span.number, mode)
        status = card.span_status(span.number)
        assert status.loopback == mode and status.alarms & Alarm.LOOPBACK
    card.set_maintenance(span.number, "off")
    assert card.span_status(span.number).loopback == ""


def test_maintenance_refuses_bad_arguments(card):
    span = up_digital_span(card)
    with pytest.raises(ValueError, match="maintenance mode must be one of off, local"):
        card.set_maintenance(span.number, "remote")
    with pytest.raises(Exception, match="analog") as refused:
        card.set_maintenance(analog_span(card).number, "local")
    from trunkline.errors import ChannelError, ChannelStateError

    assert refused.type is ChannelStateError
    with pytest.raises(ChannelError, match="no span"):
        card.set_maintenance(len(card.spans) + 1, "local")
    assert card.span_status(span.number).loopback == ""
