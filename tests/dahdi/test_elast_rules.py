"""ELAST as dahdi-base.c returns it: read() and write() fail with it while an event
waits (dahdi_chan_read, dahdi_chan_write); ioctls do not."""

from __future__ import annotations

import errno

import pytest
from dahdi_helpers import sim_card

from trunkline.drivers.backends.dahdi.device import CHANNEL, DahdiOperationError

FXO = 32


def _errno(call, *args):
    with pytest.raises(DahdiOperationError) as caught:
        call(*args)
    return caught.value.errno


def test_read_and_write_fail_with_elast_while_an_event_waits_ioctls_do_not():
    _, kernel = sim_card()
    lib, ffi = kernel.lib, kernel.ffi
    fd = kernel.open(CHANNEL)
    kernel.ioctl(fd, lib.DAHDI_SPECIFY, ffi.new("int *", FXO))
    kernel.clock.sleep_until(kernel.clock.now() + 0.5)
    kernel.line_event(FXO, "POLARITY")
    assert _errno(kernel.read, fd, 160) == lib.ELAST
    assert _errno(kernel.write, fd, bytes(160)) == lib.ELAST
    kernel.ioctl(fd, lib.DAHDI_DIALING, ffi.new("int *"))  # an ioctl is not refused
    kernel.ioctl(fd, lib.DAHDI_GET_PARAMS, ffi.new("struct dahdi_params *"))
    event = ffi.new("int *")
    kernel.ioctl(fd, lib.DAHDI_GETEVENT, event)
    assert event[0] == lib.DAHDI_EVENT_POLARITY
    assert len(kernel.read(fd, 160)) == 160  # the event taken, data flows again
    assert kernel.write(fd, bytes(160)) == 160


def test_empty_read_and_write_are_einval():
    _, kernel = sim_card()
    fd = kernel.open(CHANNEL)
    kernel.ioctl(fd, kernel.lib.DAHDI_SPECIFY, kernel.ffi.new("int *", FXO))
    assert _errno(kernel.read, fd, 0) == errno.EINVAL
    assert _errno(kernel.write, fd, b"") == errno.EINVAL
