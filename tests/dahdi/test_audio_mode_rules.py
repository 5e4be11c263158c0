"""Audio mode and the echo canceller as dahdi-base.c has them, and the order the backend
keeps (chan_dahdi's dahdi_enable_ec)."""

from __future__ import annotations

import errno

import pytest
from dahdi_helpers import sim_card

from trunkline.drivers.backends.dahdi.device import CHANNEL, DahdiOperationError

BCHAN, DCHAN, FXO = 1, 16, 32


def _fd(kernel, channel):
    fd = kernel.open(CHANNEL)
    kernel.ioctl(fd, kernel.lib.DAHDI_SPECIFY, kernel.ffi.new("int *", channel))
    return fd


def _ec(kernel, fd, taps=128):
    kernel.ioctl(fd, kernel.lib.DAHDI_ECHOCANCEL_PARAMS, kernel.binding.echocan_params(taps))


def _audiomode(kernel, fd, on):
    kernel.ioctl(fd, kernel.lib.DAHDI_AUDIOMODE, kernel.ffi.new("int *", int(on)))


def test_echo_canceller_refused_on_a_bchannel_until_audio_mode():
    _, kernel = sim_card()
    fd = _fd(kernel, BCHAN)
    with pytest.raises(DahdiOperationError) as caught:
        _ec(kernel, fd)
    assert caught.value.errno == errno.EINVAL
    _audiomode(kernel, fd, True)
    _ec(kernel, fd)
    assert kernel.chans[BCHAN].echocan == 128
    _audiomode(kernel, fd, False)  # out of audio mode: the canceller is freed
    assert kernel.chans[BCHAN].echocan == 0
    kernel.close(fd)
    fd = _fd(kernel, BCHAN)  # initialize_channel clears the flag on a clear channel
    with pytest.raises(DahdiOperationError):
        _ec(kernel, fd)


def test_audio_mode_only_on_literal_clear_channels():
    _, kernel = sim_card()
    for channel in (DCHAN, FXO):
        fd = _fd(kernel, channel)
        with pytest.raises(DahdiOperationError) as caught:
            _audiomode(kernel, fd, True)
        assert caught.value.errno == errno.EINVAL
        kernel.close(fd)
    fd = _fd(kernel, FXO)
    _ec(kernel, fd)  # an analog channel has DAHDI_FLAG_AUDIO from its configuration
    assert kernel.chans[FXO].echocan == 128


def test_backend_enables_the_echo_canceller_on_bchannels_and_analog_ports():
    card, kernel = sim_card()
    with card:
        card.open([BCHAN, FXO])
        assert kernel.chans[BCHAN].echocan == 128
        assert kernel.chans[FXO].echocan == 128
        assert card.stats["ec_refused"] == 0
