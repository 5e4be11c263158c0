"""Opening channels as dahdi-base.c allows it (EINVAL, ENXIO, EBUSY), and discovery that
asks the control device, so that unconfigured and busy channels are still found."""

from __future__ import annotations

import errno

import pytest
from dahdi_helpers import SMALL_SYSTEM, sim_card

from trunkline.drivers.backends.dahdi.card import DahdiCard
from trunkline.drivers.backends.dahdi.device import CHANNEL, DahdiOperationError

FRESH = SMALL_SYSTEM.replace('configured = "pri"', 'configured = ""').replace(
    'name = "SIM/2"\n', 'name = "SIM/2"\nconfigured = ""\n')


def _specify(kernel, channel):
    fd = kernel.open(CHANNEL)
    try:
        kernel.ioctl(fd, kernel.lib.DAHDI_SPECIFY, kernel.ffi.new("int *", channel))
    except DahdiOperationError as err:
        kernel.close(fd)
        return err.errno
    return fd


def test_specify_einval_enxio_ebusy():
    _, kernel = sim_card(FRESH)
    assert _specify(kernel, 999) == errno.EINVAL  # no such channel
    assert _specify(kernel, 1) == errno.ENXIO  # exists, not configured
    _, kernel = sim_card()
    fd = _specify(kernel, 1)
    assert _specify(kernel, 1) == errno.EBUSY  # another holder
    kernel.close(fd)
    kernel.close(_specify(kernel, 1))


def test_get_params_on_ctl_finds_unconfigured_channels():
    from trunkline.drivers.backends.dahdi.device import CTL

    _, kernel = sim_card(FRESH)
    ctl = kernel.open(CTL)
    params = kernel.ffi.new("struct dahdi_params *")
    params.channo = 32
    kernel.ioctl(ctl, kernel.lib.DAHDI_GET_PARAMS, params)
    assert (params.spanno, params.chanpos, params.sigtype) == (2, 1, 0)
    params.channo = 999
    with pytest.raises(DahdiOperationError) as caught:
        kernel.ioctl(ctl, kernel.lib.DAHDI_GET_PARAMS, params)
    assert caught.value.errno == errno.EINVAL


def test_fresh_board_channels_are_discovered_and_generated():
    from trunkline.drivers.commissioning.config import generate_config

    card, _ = sim_card(FRESH)
    with card:
        assert card.dahdi_spans[1].channels == list(range(1, 32))
        assert card.dahdi_spans[2].channels == [32, 33]
        config = generate_config(card)
    generated = {c for group in config.groups for c in group.channels}
    assert set(range(1, 34)) <= generated
    signalling = {c: g.signalling for g in config.groups for c in g.channels}
    assert (signalling[32], signalling[33]) == ("fxo_ks", "fxs_ks")  # by the module fitted


def test_a_second_card_finds_the_channels_the_first_holds():
    card, kernel = sim_card()
    with card:
        card.open([1, 32])
        other = DahdiCard(kernel)
        assert 1 in other.probes and 32 in other.probes
        assert other.tone_zone == "cn"  # (zone asked on a channel not held)
        with pytest.raises(Exception, match="EBUSY"):
            other.open(1)
        other.close()
