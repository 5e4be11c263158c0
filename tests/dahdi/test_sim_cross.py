"""Crossover cables between spans of the simulated kernel (``far_end = "span N"``), seen
through the DAHDI backend: ABCD bits, audio, HDLC frames and MTP2 links cross timeslot to
timeslot, and alarms follow from the far span (drivers/backends/dahdi/simcross.py)."""

from __future__ import annotations

import numpy as np
import pytest

from trunkline.clock import VirtualClock
from trunkline.drivers.backends.dahdi.card import DahdiCard
from trunkline.drivers.backends.dahdi.simkernel import SimulatedKernel
from trunkline.drivers.model import Alarm, ChannelSignalling, EventKind, SpanSignalling
from trunkline.errors import ChannelStateError, ConfigError

CAS = """\
[[span]]
type = "E1"
configured = "cas"
idlebits = "1001"
timing = 1
far_end = "span 2"

[[span]]
type = "E1"
configured = "cas"
idlebits = "1001"
"""
SS7 = """\
[[span]]
type = "E1"
configured = "ss7"
far_end = "span 2"

[[span]]
type = "E1"
configured = "ss7"
"""
PRI = SS7.replace('"ss7"', '"pri"')


def crossed(spans: str = CAS) -> tuple[DahdiCard, SimulatedKernel]:
    kernel = SimulatedKernel('spec = "1.0"\n' + spans, clock=VirtualClock())
    return DahdiCard(kernel), kernel


def tick(card: DahdiCard, out: np.ndarray | None = None) -> np.ndarray:
    """One frame: read, then write ``out`` (silence when None)."""
    frames = card.read_frames()
    card.write_frames(np.zeros_like(frames) if out is None else out)
    return frames


def events(card: DahdiCard, frames: int = 2) -> list:
    got = []
    for _ in range(frames):
        tick(card)
        got += card.poll_events()
    return got


# -- the description ----------------------------------------------------------------------
def test_one_side_saying_so_joins_both_spans():
    _, kernel = crossed()
    assert kernel.cross.peer == {1: 2, 2: 1}
    assert kernel.spans[1].far_end == "span 1"


@pytest.mark.parametrize(("spans", "message"), [
    (CAS.replace('"span 2"', '"span 3"'), "names no other span"),
    (CAS.replace('"span 2"', '"span 1"'), "names no other span"),
    (CAS.replace('"span 2"', '"span two"'), 'write "span N"'),
    (CAS.replace('"span 2"', '"bogus"'), 'far_end must be "loop"'),
    (CAS + 'far_end = "loop"\n', 'span 2 says far_end = \'loop\''),
    (CAS + '[span.line]\nsignal = false\n', "span 2 is cabled .* no \\[span.line\\]"),
    (CAS.replace('type = "E1"', 'type = "T1"', 1), "joins a T1 span to a E1 span"),
    (CAS.replace('idlebits = "1001"', 'idlebits = "12"', 1), "idlebits are ABCD"),
    (CAS.replace('configured = "cas"', 'configured = "r2"', 1), "configured must be"),
])
def test_a_bad_cable_is_refused_with_the_span_named(spans, message):
    with pytest.raises(ConfigError, match=message):
        SimulatedKernel('spec = "1.0"\n' + spans)


# -- alarms ---------------------------------------------------------------------------------
def test_two_configured_spans_are_up_and_a_span_without_its_peer_is_red():
    card, _ = crossed()
    with card:
        assert [card.span_status(s).alarms for s in (1, 2)] == [Alarm.NONE, Alarm.NONE]
    card, _ = crossed(CAS.replace('configured = "cas"', 'configured = ""', 1))
    with card:
        # (span 1 was left unconfigured: NOTOPEN; span 2 hears nothing from it)
        status = {s: card.span_status(s).alarms for s in (1, 2)}
        assert status[1] & Alarm.NOTOPEN and status[2] & Alarm.RED
        assert card.alarm_detail(2) == ["LOS"]


def test_stopping_one_span_puts_the_other_in_red_and_starting_it_clears():
    card, _ = crossed(PRI)
    with card:
        card.open(1)
        tick(card)
        card.ioctl_ctl("DAHDI_SHUTDOWN", card.binding.int_arg(2))
        got = events(card)
        assert (EventKind.ALARM, 1) in [(e.kind, e.span) for e in got]
        assert card.span_status(1).alarms & Alarm.RED
        assert card.span_status(2).alarms & Alarm.NOTOPEN
        card.ioctl_ctl("DAHDI_STARTUP", card.binding.int_arg(2))
        got = events(card)
        assert (EventKind.NOALARM, 1, 0) in [(e.kind, e.span, e.value) for e in got]
        assert card.span_status(2).alarms == Alarm.NONE
        card.close_channel(1)


def test_a_framing_mismatch_is_red_with_the_far_end_yellow():
    card, kernel = crossed(PRI)
    with card:
        lc = card.binding.new("struct dahdi_lineconfig *")
        lc.span = 2
        lc.lineconfig = kernel.lineconfig("ccs", "hdb3", False)  # span 1 sends CRC4
        card.ioctl_ctl("DAHDI_SPANCONFIG", lc)
        card.ioctl_ctl("DAHDI_STARTUP", card.binding.int_arg(2))
        assert card.span_status(2).alarms & Alarm.RED
        assert card.alarm_detail(2) == ["LMFA"]
        # Span 1 reads no CRC4 multiframe either: both in RED, each sending RAI.
        assert card.span_status(1).alarms & Alarm.RED
        assert not card.dchannel(1).up and not card.dchannel(2).up


def test_red_on_one_side_shows_yellow_on_the_other():
    card, kernel = crossed(PRI)
    with card:
        kernel.inject("removed", span=1)  # span 1's board is gone: it sends nothing
        card.ioctl_ctl("DAHDI_STARTUP", card.binding.int_arg(2))  # (re-reads the cable)
        assert card.span_status(2).alarms & Alarm.RED
        # Span 2, in RED, sends RAI: span 1's framer (were it there) would show YELLOW.
        assert kernel.spans[0].alarms & kernel.lib.DAHDI_ALARM_YELLOW


# -- ABCD bits ------------------------------------------------------------------------------
def test_bits_sent_on_one_span_arrive_as_bits_changed_on_the_same_timeslot():
    card, kernel = crossed()
    with card:
        a, b = 5, 31 + 5  # timeslot 5 of spans 1 and 2
        card.open([a, b])
        tick(card)
        assert card.cas_bits(a) == card.cas_bits(b) == 0b1001  # both idle
        card.set_cas_bits(a, 0b0001)  # seize (Q.421: forward A=0, B=0)
        got = [(e.kind, e.channel, e.value) for e in events(card)]
        assert got == [(EventKind.BITS_CHANGED, b, 0b0001)]
        assert card.cas_bits(b) == 0b0001 and card.cas_bits(a) == 0b1001
        card.set_cas_bits(b, 0b1101)  # and back the other way
        got = [(e.kind, e.channel, e.value) for e in events(card)]
        assert got == [(EventKind.BITS_CHANGED, a, 0b1101)]
        assert kernel.chans[a].rxbits == 0b1101
        card.set_cas_bits(a, 0b0001)  # unchanged: dahdi_rbsbits says nothing
        assert events(card) == []
        card.close_channel([a, b])


def test_closing_a_cas_channel_sends_its_idle_bits():
    card, _ = crossed()
    with card:
        a, b = 1, 32
        card.open([a, b])
        card.set_cas_bits(a, 0b0001)
        events(card)
        card.close_channel(a)  # dahdi_hangup on the last close: the idle bits go out
        got = [(e.kind, e.channel, e.value) for e in events(card)]
        assert got == [(EventKind.BITS_CHANGED, b, 0b1001)]
        card.close_channel(b)


def test_bits_do_not_cross_while_the_far_span_is_down_and_resync_when_it_starts():
    card, kernel = crossed()
    with card:
        a, b = 3, 34
        card.open([a, b])
        card.ioctl_ctl("DAHDI_SHUTDOWN", card.binding.int_arg(2))
        events(card)
        card.set_cas_bits(a, 0b0001)
        assert kernel.chans[b].rxbits == 0b1001  # nothing crossed
        card.ioctl_ctl("DAHDI_STARTUP", card.binding.int_arg(2))
        got = [(e.kind, e.channel, e.value) for e in events(card)
               if e.kind is EventKind.BITS_CHANGED]
        assert got == [(EventKind.BITS_CHANGED, b, 0b0001)]  # the framer reads the cable
        card.close_channel([a, b])


def test_settxbits_is_for_cas_channels_only():
    card, _ = crossed(PRI)
    with card:
        card.open(1)
        with pytest.raises(ChannelStateError, match="not a CAS channel"):
            card.set_cas_bits(1, 1)
        card.close_channel(1)


# -- audio ----------------------------------------------------------------------------------
def _tone(freq: float) -> np.ndarray:
    t = np.arange(160)
    return (8000 * np.sin(2 * np.pi * freq * t / 8000)).astype(np.int16)


def test_audio_of_a_timeslot_is_heard_on_the_same_timeslot_of_the_other_span():
    card, _ = crossed(PRI)
    with card:
        chans = [2, 3, 31 + 2, 31 + 3]
        card.open(chans)
        tone = _tone(1000)
        heard = []
        for _ in range(5):
            out = np.zeros((4, 160), np.int16)
            out[0] = tone  # span 1 timeslot 2 only
            heard.append(tick(card, out))
        late = np.concatenate(heard[1:], axis=1)
        loud = np.abs(late).max(axis=1)
        assert loud[2] > 7000  # span 2 timeslot 2 hears it
        assert loud[0] < 100 and loud[1] < 100 and loud[3] < 100
        card.close_channel(chans)


def test_audio_crosses_both_ways_one_frame_later():
    card, _ = crossed(PRI)
    with card:
        card.open([7, 38])
        out = np.zeros((2, 160), np.int16)
        out[0], out[1] = _tone(700), _tone(1300)
        tick(card)
        tick(card, out)
        got = tick(card)  # what was written last tick arrives now
        np.testing.assert_allclose(got[1], out[0], atol=300)  # G.711 keeps it close
        np.testing.assert_allclose(got[0], out[1], atol=300)
        card.close_channel([7, 38])


def test_a_writer_drains_at_the_line_rate_when_nobody_reads_the_far_side():
    card, _ = crossed(PRI)
    with card:
        card.open(4)  # span 2 timeslot 4 stays closed
        for _ in range(100):
            tick(card, np.full((1, 160), 1000, np.int16))
        assert card.stats["tx_dropped"] == 0
        card.close_channel(4)


# -- HDLC ------------------------------------------------------------------------------------
def test_dchannel_frames_cross_without_fcs():
    card, _ = crossed(PRI)
    with card:
        a, b = card.dchannel(1), card.dchannel(2)
        assert a.up and b.up
        a.send(b"\x00\x01\x7f")
        a.send(b"\x00\x01\x7f")  # plain HDLC: a frame sent twice arrives twice
        b.send(b"\x02\x01\x73")
        assert [b.receive(), b.receive(), b.receive()] == [b"\x00\x01\x7f"] * 2 + [None]
        assert a.receive() == b"\x02\x01\x73"


def test_frames_to_a_closed_link_or_over_a_cable_down_are_lost():
    card, _ = crossed(PRI)
    with card:
        a = card.dchannel(1)
        a.send(b"\x00\x01\x7f")  # span 2's D-channel is not open: no buffers
        b = card.dchannel(2)
        assert b.receive() is None
        card.ioctl_ctl("DAHDI_SHUTDOWN", card.binding.int_arg(2))
        assert not a.up
        a.send(b"\x00\x01\x7f")
        card.ioctl_ctl("DAHDI_STARTUP", card.binding.int_arg(2))
        assert b.receive() is None


def test_an_mtp2_link_is_an_ss7_span_with_its_link_as_dchannel():
    card, _ = crossed(SS7)
    with card:
        for number, base in ((1, 1), (2, 32)):
            span = card.span(number)
            assert span.signalling is SpanSignalling.SS7 and span.dchannel == base + 15
            assert card.channel(span.dchannel).signalling is ChannelSignalling.MTP2
            assert span.dchannel not in span.channels and len(span.channels) == 30
        with pytest.raises(ChannelStateError, match="SS7 signalling link"):
            card.open(16)
        assert card.dchannel(1).up


def test_mtp2_drops_a_repeated_frame_and_passes_a_changed_one():
    card, _ = crossed(SS7)
    with card:
        a, b = card.dchannel(1), card.dchannel(2)
        fisu, lssu = b"\x80\x80\x00", b"\x80\x80\x01\x02"
        for frame in (lssu, lssu, fisu, fisu, fisu, lssu):
            a.send(frame)
        got = []
        while (frame := b.receive()) is not None:
            got.append(frame)
        assert got == [lssu, fisu, lssu]


def test_mtp2_repeats_the_last_frame_to_a_receiver_that_opens_late():
    card, kernel = crossed(SS7)
    with card:
        a = card.dchannel(1)
        a.send(b"\x80\x80\x01\x00")  # SIO, repeated by the kernel while nothing new comes
        b = card.dchannel(2)  # opens now: the line still carries span 1's SIO
        assert b.receive() == b"\x80\x80\x01\x00"
        assert b.receive() is None  # once: the repeats are identical
        card.ioctl_ctl("DAHDI_SHUTDOWN", card.binding.int_arg(1))
        card.ioctl_ctl("DAHDI_STARTUP", card.binding.int_arg(1))
        assert b.receive() is None  # the same frame as before the outage: dropped
        a.send(b"\x80\x80\x00")
        assert b.receive() == b"\x80\x80\x00"
        assert kernel.cross.frames_dropped == 0


def test_the_test_peer_of_an_mtp2_link_drops_repeats_too():
    kernel = SimulatedKernel('spec = "1.0"\n[[span]]\ntype = "E1"\nconfigured = "ss7"\n',
                             clock=VirtualClock())
    card = DahdiCard(kernel)
    with card:
        link, peer = card.dchannel(1), kernel.dchannel_peer(1)
        for frame in (b"\x80\x80\x00", b"\x80\x80\x00", b"\x81\x80\x00"):
            link.send(frame)
            peer.send(frame)
        assert [peer.receive(), peer.receive(), peer.receive()] == [
            b"\x80\x80\x00", b"\x81\x80\x00", None]
        assert [link.receive(), link.receive(), link.receive()] == [
            b"\x80\x80\x00", b"\x81\x80\x00", None]


def test_a_transmit_stream_keeps_what_a_late_reader_may_still_ask_for():
    from trunkline.drivers.backends.dahdi.simcross import RETAIN, TxStream

    stream = TxStream(100)
    tx = bytearray(b"\x01" * 50)
    stream.advance(tx, 180, idle=0xD5)  # 50 bytes written, then silence until 180
    assert not tx
    window = stream.window(90, 100, idle=0xD5)
    assert list(window[:10]) == [0xD5] * 10  # before the stream began: silence
    assert list(window[10:60]) == [1] * 50 and list(window[60:90]) == [0xD5] * 30
    assert list(window[90:]) == [0xD5] * 10  # not transmitted yet
    stream.advance(bytearray(), 180 + 3 * RETAIN, idle=0xD5)
    assert stream.base > 100 and len(stream.line) <= 2 * RETAIN
    assert list(stream.window(100, 4, idle=0x55)) == [0x55] * 4  # forgotten: silence
