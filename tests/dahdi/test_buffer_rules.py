"""Receive overruns and transmit underruns as dahdi-base.c reports them (only with
DAHDI_BUFFER_EVENTS, once per episode), counted by the backend per span."""

from __future__ import annotations

import numpy as np
from dahdi_helpers import sim_card

from trunkline.drivers.backends.dahdi.device import CHANNEL, DahdiOperationError

BCHAN = 1


def _fd(kernel, channel, numbufs=2):
    fd = kernel.open(CHANNEL)
    kernel.ioctl(fd, kernel.lib.DAHDI_SPECIFY, kernel.ffi.new("int *", channel))
    kernel.ioctl(fd, kernel.lib.DAHDI_SET_BLOCKSIZE, kernel.ffi.new("int *", 160))
    buf = kernel.ffi.new("struct dahdi_bufferinfo *")
    buf.numbufs, buf.bufsize = numbufs, 160
    kernel.ioctl(fd, kernel.lib.DAHDI_SET_BUFINFO, buf)
    return fd


def _events(kernel, fd):
    out, arg = [], kernel.ffi.new("int *")
    while True:
        kernel.ioctl(fd, kernel.lib.DAHDI_GETEVENT, arg)
        if arg[0] == kernel.lib.DAHDI_EVENT_NONE:
            return out
        out.append(arg[0])


def _read(kernel, fd):
    while True:
        try:
            return kernel.read(fd, 160)
        except DahdiOperationError as err:
            if err.errno != kernel.lib.ELAST:
                raise
            _events(kernel, fd)


def test_overrun_events_need_buffer_events_and_come_once_per_episode():
    _, kernel = sim_card()
    lib = kernel.lib
    fd = _fd(kernel, BCHAN)
    kernel.clock.sleep_until(kernel.clock.now() + 0.2)  # 10 blocks due, 2 buffers
    _read(kernel, fd)
    assert lib.DAHDI_EVENT_READ_OVERRUN not in _events(kernel, fd)  # not enabled
    kernel.close(fd)
    fd = _fd(kernel, BCHAN)
    kernel.ioctl(fd, lib.DAHDI_BUFFER_EVENTS, kernel.ffi.new("int *", 1))
    kernel.clock.sleep_until(kernel.clock.now() + 0.2)
    try:
        kernel.read(fd, 160)
    except DahdiOperationError as err:
        assert err.errno == lib.ELAST  # the event comes before the data
    assert _events(kernel, fd) == [lib.DAHDI_EVENT_READ_OVERRUN]
    _read(kernel, fd)
    _read(kernel, fd)  # the two blocks the full buffers kept
    assert lib.DAHDI_EVENT_READ_OVERRUN not in _events(kernel, fd)  # same episode


def test_underrun_event_when_nothing_was_written():
    _, kernel = sim_card()
    lib = kernel.lib
    fd = _fd(kernel, BCHAN)
    kernel.ioctl(fd, lib.DAHDI_BUFFER_EVENTS, kernel.ffi.new("int *", 1))
    kernel.write(fd, bytes(160))
    kernel.clock.sleep_until(kernel.clock.now() + 0.02)
    _read(kernel, fd)
    assert _events(kernel, fd) == []
    kernel.clock.sleep_until(kernel.clock.now() + 0.02)
    _read(kernel, fd)  # nothing written for this block: silence, and the event
    kernel.clock.sleep_until(kernel.clock.now() + 0.02)
    assert _events(kernel, fd) == [lib.DAHDI_EVENT_WRITE_UNDERRUN]


def test_backend_enables_buffer_events_and_counts_them_per_span():
    card, kernel = sim_card()
    with card:
        card.open([1, 2])
        silence = np.zeros((2, 160), np.int16)
        for _ in range(5):
            card.read_frames()
            card.write_frames(silence)
        assert kernel.chans[1].bufevents
        assert card.span_status(1).counters.write_underruns == 0  # in time: none
        for _ in range(3):
            card.read_frames()  # and nothing written: the board sends silence
        card.poll_events()
        assert card.span_status(1).counters.write_underruns == 2  # one per channel
        kernel.clock.sleep_until(kernel.clock.now() + 0.5)  # we stalled for 500 ms
        card.read_frames()
        card.read_frames()
        card.poll_events()
        counters = card.span_status(1).counters
        assert counters.read_overruns == 2
        assert card.overruns == 2
