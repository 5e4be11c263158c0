"""Tone zones and DAHDI_HOOK as dahdi-base.c has them, and the backend that loads zones
and takes EINPROGRESS as started (chan_dahdi, libtonezone)."""

from __future__ import annotations

import errno

import pytest
from dahdi_helpers import SMALL_SYSTEM, sim_card

from trunkline.drivers.backends.dahdi import tonezone
from trunkline.drivers.backends.dahdi.device import CHANNEL, DahdiOperationError
from trunkline.drivers.model import ChannelState

FXO, FXS = 32, 33
FRESH = SMALL_SYSTEM.replace('zone = "cn"\n', 'zone = "cn"\nloadzones = []\n')


def _fd(kernel, channel, **options):
    fd = kernel.open(CHANNEL, **options)
    kernel.ioctl(fd, kernel.lib.DAHDI_SPECIFY, kernel.ffi.new("int *", channel))
    return fd


def _hook(kernel, fd, op):
    kernel.ioctl(fd, kernel.lib.DAHDI_HOOK, kernel.ffi.new("int *", getattr(kernel.lib, op)))


def _errno(call, *args):
    with pytest.raises(DahdiOperationError) as caught:
        call(*args)
    return caught.value.errno


def _dial(kernel, fd, text="T1"):
    op = kernel.ffi.new("struct dahdi_dialoperation *")
    op.op = kernel.lib.DAHDI_DIAL_OP_REPLACE
    op.dialstr = text.encode()
    kernel.ioctl(fd, kernel.lib.DAHDI_DIAL, op)


def test_no_dial_or_ring_without_a_tone_zone_enodata():
    _, kernel = sim_card(FRESH)
    fxo, fxs = _fd(kernel, FXO), _fd(kernel, FXS)
    _hook(kernel, fxo, "DAHDI_OFFHOOK")  # hook changes need no zone
    assert _errno(_dial, kernel, fxo) == errno.ENODATA
    assert _errno(_hook, kernel, fxs, "DAHDI_RING") == errno.ENODATA
    # A zone loaded later reaches an open channel through DAHDI_SETTONEZONE.
    kernel.register_zone(fxs, "cn")
    number = kernel.ffi.new("int *", tonezone.find("cn").number)
    kernel.ioctl(fxs, kernel.lib.DAHDI_SETTONEZONE, number)
    assert _errno(_hook, kernel, fxs, "DAHDI_RING") == errno.EINPROGRESS
    # ... and a channel opened afterwards has the default zone from the start.
    kernel.close(fxo)
    fxo = _fd(kernel, FXO)
    _hook(kernel, fxo, "DAHDI_OFFHOOK")
    _dial(kernel, fxo)


def test_zone_ioctls_follow_the_kernel():
    _, kernel = sim_card(FRESH)
    fd = _fd(kernel, FXS)
    unknown = kernel.ffi.new("int *", 77)
    assert _errno(kernel.ioctl, fd, kernel.lib.DAHDI_SETTONEZONE, unknown) == errno.ENODATA
    assert _errno(kernel.ioctl, fd, kernel.lib.DAHDI_DEFAULTZONE, unknown) == errno.EINVAL
    kernel.register_zone(fd, "us")
    kernel.register_zone(fd, "cn")
    # dahdi_register_tone_zone: a zone number already loaded is EINVAL.
    assert _errno(kernel.register_zone, fd, "cn") == errno.EINVAL
    assert list(kernel.zones) == [0, tonezone.find("cn").number]  # the first is default
    kernel.ioctl(fd, kernel.lib.DAHDI_DEFAULTZONE,
                 kernel.ffi.new("int *", tonezone.find("cn").number))
    assert next(iter(kernel.zones)) == tonezone.find("cn").number
    assert kernel.zones[tonezone.find("cn").number][1] == (1000, 4000)


def test_ring_on_a_nonblocking_fd_is_einprogress_and_busy_while_ringing():
    _, kernel = sim_card()
    fd = _fd(kernel, FXS)
    assert _errno(_hook, kernel, fd, "DAHDI_RING") == errno.EINPROGRESS
    assert kernel.chans[FXS].ringing
    assert _errno(_hook, kernel, fd, "DAHDI_RING") == errno.EBUSY  # txstate not on hook
    _hook(kernel, fd, "DAHDI_RINGOFF")
    assert not kernel.chans[FXS].events  # RINGOFF queues no event
    kernel.close(fd)
    blocking = _fd(kernel, FXS, nonblock=False)
    _hook(kernel, blocking, "DAHDI_RING")  # a blocking fd: started, and 0
    assert kernel.chans[FXS].ringing


def test_flash_on_hook_is_ebusy_and_started_off_hook():
    _, kernel = sim_card()
    fd = _fd(kernel, FXO)
    assert _errno(_hook, kernel, fd, "DAHDI_FLASH") == errno.EBUSY
    _hook(kernel, fd, "DAHDI_OFFHOOK")
    assert _errno(_hook, kernel, fd, "DAHDI_FLASH") == errno.EINPROGRESS


def test_backend_loads_the_zone_a_fresh_kernel_lacks_and_rings():
    card, kernel = sim_card(FRESH)
    with card:
        assert card.tone_zone is None and card.kernel_zone is None
        card.open([FXO, FXS])
        assert card.stats["zones_loaded"] == 1
        assert list(kernel.zones) == [tonezone.find("cn").number]
        assert card.tone_zone == "cn"
        card.hook(FXS, "ring")  # EINPROGRESS is started
        assert card.channel_state(FXS) is ChannelState.RINGING
        card.hook(FXO, "offhook")
        card.dial(FXO, "1")
        assert card.channel_state(FXO) is ChannelState.DIALING


def test_backend_reports_the_kernels_default_zone():
    card, _ = sim_card()
    assert card.tone_zone == "cn"
    card.close()
    card, _ = sim_card(SMALL_SYSTEM.replace('zone = "cn"\n', 'zone = "us"\n'))
    assert card.tone_zone == "us"
    card.close()


def test_load_zones_as_dahdi_cfg_does():
    card, kernel = sim_card(FRESH)
    with card:
        assert card.load_zones(["us", "cn"], "cn") == ["us", "cn"]
        assert card.load_zones(["cn"]) == []  # already loaded: left alone
        assert next(iter(kernel.zones)) == tonezone.find("cn").number
        assert card.kernel_zone == tonezone.find("cn")
