"""Block size from DAHDI_SET_BUFINFO, linear mode and the numbered channel nodes, as
dahdi-base.c does them (what fxotune relies on; docs/dahdi.md, "What the kernel does")."""

from __future__ import annotations

import errno

import numpy as np
import pytest
from dahdi_helpers import SMALL_SYSTEM, sim_card

from trunkline.drivers.backends.dahdi.device import DahdiOperationError

FXO = 32  # SIM/2's first port (after the E1 span's 31 channels)


def _read(kernel, fd, size):
    while True:
        try:
            return kernel.read(fd, size)
        except DahdiOperationError as err:
            if err.errno != errno.EAGAIN:
                raise
            kernel.clock.advance(0.02)


def _bufinfo(kernel, fd, bufsize, numbufs=2):
    info = kernel.ffi.new("struct dahdi_bufferinfo *")
    info.bufsize, info.numbufs = bufsize, numbufs
    kernel.ioctl(fd, kernel.lib.DAHDI_SET_BUFINFO, info)


def test_set_bufinfo_sets_the_block_size_within_bounds():
    # dahdi_chan_ioctl DAHDI_SET_BUFINFO: bufsize 16..DAHDI_MAX_BLOCKSIZE, then
    # dahdi_reallocbufs(chan, bufsize, numbufs).
    _, kernel = sim_card()
    fd = kernel.open(f"/dev/dahdi/{FXO}")
    for bad in (15, kernel.lib.DAHDI_MAX_BLOCKSIZE + 1):
        with pytest.raises(DahdiOperationError) as caught:
            _bufinfo(kernel, fd, bad)
        assert caught.value.errno == errno.EINVAL
    _bufinfo(kernel, fd, 400)
    size = kernel.ffi.new("int *")
    kernel.ioctl(fd, kernel.lib.DAHDI_GET_BLOCKSIZE, size)
    assert size[0] == 400
    assert len(_read(kernel, fd, 1000)) == 400  # one block per read


def test_linear_mode_reads_and_writes_16_bit_samples():
    _, kernel = sim_card()
    lib, ffi = kernel.lib, kernel.ffi
    fd = kernel.open(f"/dev/dahdi/{FXO}")
    _bufinfo(kernel, fd, 160)
    kernel.ioctl(fd, lib.DAHDI_SETLINEAR, ffi.new("int *", 1))
    data = _read(kernel, fd, 1000)
    assert len(data) == 320  # 160 samples of 16 bits
    # dahdi_chan_write: at most one block of 16-bit samples per write.
    assert kernel.write(fd, np.zeros(400, "<i2").tobytes()) == 320
    kernel.close(fd)
    # close_channel / initialize_channel clear DAHDI_FLAG_LINEAR.
    fd = kernel.open(f"/dev/dahdi/{FXO}")
    _bufinfo(kernel, fd, 160)
    assert len(_read(kernel, fd, 1000)) == 160
    # "Makes no sense on non-audio channels": a B-channel is clear.
    bchan = kernel.open("/dev/dahdi/1")
    with pytest.raises(DahdiOperationError) as caught:
        kernel.ioctl(bchan, lib.DAHDI_SETLINEAR, ffi.new("int *", 1))
    assert caught.value.errno == errno.EINVAL


def test_numbered_nodes_open_their_channel_as_specify_does():
    _, kernel = sim_card(SMALL_SYSTEM.replace('configured = "pri"', 'configured = ""'))
    assert kernel.exists("/dev/dahdi/1") and not kernel.exists("/dev/dahdi/999")
    with pytest.raises(DahdiOperationError) as caught:
        kernel.open("/dev/dahdi/999")
    assert caught.value.errno == errno.ENOENT
    with pytest.raises(DahdiOperationError) as caught:  # not configured
        kernel.open("/dev/dahdi/1")
    assert caught.value.errno == errno.ENXIO
    fd = kernel.open(f"/dev/dahdi/{FXO}")
    number = kernel.ffi.new("int *")
    kernel.ioctl(fd, kernel.lib.DAHDI_CHANNO, number)
    assert number[0] == FXO
    with pytest.raises(DahdiOperationError) as caught:  # held
        kernel.open(f"/dev/dahdi/{FXO}")
    assert caught.value.errno == errno.EBUSY
