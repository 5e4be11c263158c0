"""Gains as dahdi-base.c keeps them (dahdi_ioctl_setgains/getgains, the tables applied in
__dahdi_process_getaudio_chunk and __dahdi_process_putaudio_chunk), and the backend
applying chan_dahdi.conf's rxgain/txgain and answeronpolarityswitch as chan_dahdi does."""

from __future__ import annotations

import errno

import numpy as np
import pytest
from dahdi_helpers import sim_card
from hypothesis import given
from hypothesis import strategies as st

from trunkline.drivers.backends.dahdi.device import CHANNEL, DahdiOperationError
from trunkline.drivers.backends.dahdi.portsettings import IDENTITY, gain_table, port_settings
from trunkline.drivers.backends.dahdi.sysconf import ChannelGroup, DahdiConfig
from trunkline.drivers.dsp import g711
from trunkline.errors import ConfigError

BCHAN, FXO, FXS = 1, 32, 33


def _fd(kernel, channel):
    fd = kernel.open(CHANNEL)
    kernel.ioctl(fd, kernel.lib.DAHDI_SPECIFY, kernel.ffi.new("int *", channel))
    return fd


def _gains(kernel, chan=0, rx=IDENTITY, tx=IDENTITY):
    gains = kernel.ffi.new("struct dahdi_gains *")
    gains.chan = chan
    kernel.ffi.memmove(gains.rxgain, rx, 256)
    kernel.ffi.memmove(gains.txgain, tx, 256)
    return gains


def _get(kernel, fd, chan=0):
    gains = _gains(kernel, chan)
    kernel.ioctl(fd, kernel.lib.DAHDI_GETGAINS, gains)
    return (int(gains.chan), bytes(kernel.ffi.buffer(gains.rxgain, 256)),
            bytes(kernel.ffi.buffer(gains.txgain, 256)))


def _config(*groups: ChannelGroup) -> DahdiConfig:
    return DahdiConfig(groups=list(groups))


LOUDER = gain_table(6.0, "alaw")
QUIETER = gain_table(-6.0, "alaw")


# -- the kernel ------------------------------------------------------------------------

def test_gains_need_audio_mode_as_dahdi_ioctl_setgains_says():
    _, kernel = sim_card()
    fd = _fd(kernel, BCHAN)  # a clear channel: no DAHDI_FLAG_AUDIO until AUDIOMODE
    for request in (kernel.lib.DAHDI_SETGAINS, kernel.lib.DAHDI_GETGAINS):
        with pytest.raises(DahdiOperationError) as caught:
            kernel.ioctl(fd, request, _gains(kernel, rx=LOUDER))
        assert caught.value.errno == errno.EINVAL
    kernel.ioctl(fd, kernel.lib.DAHDI_AUDIOMODE, kernel.ffi.new("int *", 1))
    kernel.ioctl(fd, kernel.lib.DAHDI_SETGAINS, _gains(kernel, rx=LOUDER))
    assert _get(kernel, fd) == (BCHAN, LOUDER, IDENTITY)


def test_chan_zero_is_the_fds_channel_and_another_number_is_that_channel():
    _, kernel = sim_card()
    fd = _fd(kernel, FXO)  # an analog channel has DAHDI_FLAG_AUDIO from its config
    assert _get(kernel, fd) == (FXO, IDENTITY, IDENTITY)  # defgain until set
    kernel.ioctl(fd, kernel.lib.DAHDI_SETGAINS, _gains(kernel, FXS, tx=QUIETER))
    assert _get(kernel, fd, FXS) == (FXS, IDENTITY, QUIETER)
    assert _get(kernel, fd) == (FXO, IDENTITY, IDENTITY)
    with pytest.raises(DahdiOperationError) as caught:
        kernel.ioctl(fd, kernel.lib.DAHDI_SETGAINS, _gains(kernel, 999, rx=LOUDER))
    assert caught.value.errno == errno.EINVAL


def test_identity_tables_free_the_custom_ones_and_close_resets_them():
    _, kernel = sim_card()
    fd = _fd(kernel, FXO)
    kernel.ioctl(fd, kernel.lib.DAHDI_SETGAINS, _gains(kernel, rx=LOUDER, tx=QUIETER))
    assert kernel.chans[FXO].rxgain == LOUDER
    kernel.ioctl(fd, kernel.lib.DAHDI_SETGAINS, _gains(kernel))
    assert kernel.chans[FXO].rxgain is None and kernel.chans[FXO].txgain is None
    kernel.ioctl(fd, kernel.lib.DAHDI_SETGAINS, _gains(kernel, rx=LOUDER))
    kernel.close(fd)  # close_channel: defgain again
    fd = _fd(kernel, FXO)
    assert _get(kernel, fd) == (FXO, IDENTITY, IDENTITY)


def test_audio_mode_off_resets_the_gains():
    _, kernel = sim_card()
    fd = _fd(kernel, BCHAN)
    kernel.ioctl(fd, kernel.lib.DAHDI_AUDIOMODE, kernel.ffi.new("int *", 1))
    kernel.ioctl(fd, kernel.lib.DAHDI_SETGAINS, _gains(kernel, rx=LOUDER, tx=LOUDER))
    kernel.ioctl(fd, kernel.lib.DAHDI_AUDIOMODE, kernel.ffi.new("int *", 0))
    assert kernel.chans[BCHAN].rxgain is None and kernel.chans[BCHAN].txgain is None


# -- the tables ------------------------------------------------------------------------

def test_zero_db_is_the_kernels_defgain():
    assert gain_table(0.0, "alaw") == IDENTITY == gain_table(0.0, "ulaw")


@pytest.mark.parametrize("law", ["alaw", "ulaw"])
def test_a_gain_table_scales_every_code_as_fill_txgain_does(law):
    table = np.frombuffer(gain_table(6.0, law), dtype=np.uint8)
    codes = np.arange(256, dtype=np.uint8)
    before = g711.decode(codes, law).astype(np.float64)
    after = g711.decode(table, law).astype(np.float64)
    # +6 dB doubles the level (×1.995) within one G.711 step, and clips at full scale.
    fits = (np.abs(before) > 200) & (np.abs(before) * 1.995 < 30000)
    ratio = after[fits] / before[fits]
    assert np.all(ratio > 1.75) and np.all(ratio < 2.3)
    clips = np.abs(before) * 1.995 > 33000
    assert np.all(np.abs(after[clips]) == np.abs(g711.decode(codes, law)).max())
    assert np.all(np.sign(after) * np.sign(before) >= 0)


@given(st.floats(-24, 24, allow_nan=False), st.sampled_from(["alaw", "ulaw"]))
def test_gain_tables_keep_order_and_sign(db, law):
    """Louder never swaps two levels round: the table is monotonic in linear terms."""
    table = np.frombuffer(gain_table(db, law), dtype=np.uint8)
    linear = g711.decode(np.arange(256, dtype=np.uint8), law)
    order = np.argsort(linear, kind="stable")
    mapped = g711.decode(table, law)[order].astype(np.int32)
    assert np.all(np.diff(mapped) >= 0)


# -- the backend -----------------------------------------------------------------------

def test_the_backend_applies_rxgain_and_txgain_from_chan_dahdi_conf():
    config = _config(ChannelGroup((BCHAN,), "bchan", options={"rxgain": "6", "txgain": "-6"}))
    card, kernel = sim_card(config=config)
    with card:
        card.open([BCHAN, 2])
        ch = kernel.chans[BCHAN]
        assert ch.audio  # audio mode first, or SETGAINS is EINVAL on a B-channel
        assert ch.rxgain == gain_table(6.0, "alaw") and ch.txgain == gain_table(-6.0, "alaw")
        assert kernel.chans[2].rxgain is None
        card.read_frames()
        card.write_frames(np.full((2, 160), 4000, np.int16))
        rx = card.read_frames()
        # Through the looped far end: -6 dB out, +6 dB in on channel 1; untouched on 2.
        assert np.all(np.abs(rx[0] - 4000) < 300)
        assert np.all(np.abs(rx[1] - 4000) < 300)
        kernel.chans[BCHAN].rxgain = gain_table(0.0, "alaw")  # now only -6 dB applies
        card.write_frames(np.full((2, 160), 4000, np.int16))
        rx = card.read_frames()
        assert np.all(np.abs(rx[0] - 2000) < 200)


def test_a_card_without_gains_sends_no_setgains():
    card, kernel = sim_card()
    with card:
        card.open([BCHAN, FXO])
        assert kernel.chans[BCHAN].rxgain is None and kernel.chans[FXO].rxgain is None


def test_answeronpolarityswitch_reaches_the_line_options():
    config = _config(ChannelGroup((FXO,), "fxs_ks",
                                  options={"answeronpolarityswitch": "yes"}))
    card, _ = sim_card(config=config)
    with card:
        assert card.line_options(FXO).answer_on_polarity is True
        assert card.line_options(FXS).answer_on_polarity is False


@pytest.mark.parametrize(("options", "message"), [
    ({"rxgain": "loud"}, r"channel 32: rxgain = 'loud' is not a number of dB"),
    ({"txgain": "40"}, r"txgain = '40' is outside ±24 dB"),
    ({"answeronpolarityswitch": "maybe"}, r"answeronpolarityswitch = 'maybe' is neither"),
])
def test_bad_port_settings_name_the_channel_and_value(options, message):
    with pytest.raises(ConfigError, match=message):
        port_settings(_config(ChannelGroup((FXO,), "fxs_ks", options=options)))


# -- caller ID from chan_dahdi.conf ------------------------------------------------------

@pytest.mark.parametrize(("options", "expected"), [
    ({"usecallerid": "yes"}, "bell202"),              # cidsignalling defaults to bell
    ({"usecallerid": "yes", "cidsignalling": "v23"}, "v23"),
    ({"usecallerid": "no", "cidsignalling": "v23"}, ""),
    ({"rxgain": "1"}, None),                          # not said: the card's default
])
def test_usecallerid_and_cidsignalling_choose_the_caller_id(options, expected):
    settings = port_settings(_config(ChannelGroup((FXO,), "fxs_ks", options=options)))
    assert settings[FXO].caller_id == expected


@pytest.mark.parametrize(("options", "message"), [
    ({"usecallerid": "yes", "cidsignalling": "dtmf"}, r"cidsignalling = 'dtmf' is not"),
    ({"usecallerid": "yes", "cidstart": "polarity"}, r"before the first ring"),
])
def test_caller_id_before_the_ring_is_refused_plainly(options, message):
    with pytest.raises(ConfigError, match=message):
        port_settings(_config(ChannelGroup((FXO,), "fxs_ks", options=options)))


def test_the_backend_gives_the_fxo_line_its_caller_id():
    config = _config(ChannelGroup((FXO,), "fxs_ks", options={"usecallerid": "yes",
                                                             "answeronpolarityswitch": "no"}))
    card, _ = sim_card(config=config)
    with card:
        assert card.line_options(FXO).caller_id == "bell202"
        assert card.line_options(FXO).answer_on_polarity is False
