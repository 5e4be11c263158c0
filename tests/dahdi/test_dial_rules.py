"""DAHDI_DIAL as dahdi-base.c runs it, and the backend that keeps to it (chan_dahdi)."""

from __future__ import annotations

import numpy as np
from dahdi_helpers import sim_card

from trunkline.drivers.backends.dahdi.card import DIAL_TIMED_OUT
from trunkline.drivers.backends.dahdi.device import CHANNEL
from trunkline.drivers.model import ChannelState, EventKind

FXO = 32


def _specified(kernel, channel):
    fd = kernel.open(CHANNEL)
    kernel.ioctl(fd, kernel.lib.DAHDI_SPECIFY, kernel.ffi.new("int *", channel))
    return fd


def _dial(kernel, fd, text):
    op = kernel.ffi.new("struct dahdi_dialoperation *")
    op.op = kernel.lib.DAHDI_DIAL_OP_REPLACE
    op.dialstr = text.encode()
    kernel.ioctl(fd, kernel.lib.DAHDI_DIAL, op)


def _dialing(kernel, fd):
    arg = kernel.ffi.new("int *")
    kernel.ioctl(fd, kernel.lib.DAHDI_DIALING, arg)
    return arg[0]


def test_sim_write_cancels_the_dial_string_without_dialcomplete():
    _, kernel = sim_card()
    fd = _specified(kernel, FXO)
    kernel.ioctl(fd, kernel.lib.DAHDI_HOOK, kernel.ffi.new("int *", kernel.lib.DAHDI_OFFHOOK))
    _dial(kernel, fd, "T123")
    assert _dialing(kernel, fd) == 1
    kernel.write(fd, bytes(160))
    assert _dialing(kernel, fd) == 0
    kernel.clock.sleep_until(kernel.clock.now() + 5)
    event = kernel.ffi.new("int *")
    kernel.ioctl(fd, kernel.lib.DAHDI_GETEVENT, event)
    assert event[0] != kernel.lib.DAHDI_EVENT_DIALCOMPLETE
    kernel.close(fd)


def test_sim_hook_op_stops_dialing():
    _, kernel = sim_card()
    fd = _specified(kernel, FXO)
    kernel.ioctl(fd, kernel.lib.DAHDI_HOOK, kernel.ffi.new("int *", kernel.lib.DAHDI_OFFHOOK))
    _dial(kernel, fd, "T5")
    kernel.ioctl(fd, kernel.lib.DAHDI_HOOK, kernel.ffi.new("int *", kernel.lib.DAHDI_OFFHOOK))
    assert _dialing(kernel, fd) == 0
    kernel.close(fd)


def _run(card, frames):
    events = []
    silence = np.zeros((len(card.open_channels), 160), np.int16)
    for _ in range(frames):
        card.read_frames()
        card.write_frames(silence)
        events += card.poll_events()
    return events


def test_backend_writes_no_audio_while_dialling_so_the_digits_complete():
    card, _ = sim_card()
    with card:
        card.open(FXO)
        card.hook(FXO, "offhook")
        card.dial(FXO, "123")
        events = _run(card, 40)
        assert [(e.kind, e.value) for e in events] == [(EventKind.DIAL_COMPLETE, None)]
        assert card.stats["tx_held_dialing"] > 0
        assert card.channel_state(FXO) is ChannelState.OFFHOOK
        held = card.stats["tx_held_dialing"]
        _run(card, 5)
        assert card.stats["tx_held_dialing"] == held  # audio flows again after the digits
        card.close_channel(FXO)


def test_a_dial_that_never_completes_is_cancelled_by_its_timeout():
    card, kernel = sim_card()
    with card:
        card.open(FXO)
        card.hook(FXO, "offhook")
        card.dial(FXO, "123")
        kernel.chans[FXO].dial_until = 1e9  # the board never finishes the string
        events = _run(card, 300)
        assert [(e.kind, e.value) for e in events] == [(EventKind.DIAL_COMPLETE,
                                                        DIAL_TIMED_OUT)]
        assert kernel.chans[FXO].dial_until is None  # DAHDI_DIAL_OP_CANCEL reached it
        assert card.stats["dial_timeouts"] == 1
        card.close_channel(FXO)
