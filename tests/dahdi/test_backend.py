"""The DAHDI backend's own code on the simulated kernel."""

from __future__ import annotations

import numpy as np
import pytest
from dahdi_helpers import SMALL_SYSTEM, sim_card

from trunkline.clock import VirtualClock
from trunkline.drivers.backends.dahdi.card import DahdiCard
from trunkline.drivers.backends.dahdi.simkernel import SimulatedKernel
from trunkline.drivers.model import (
    Alarm,
    ChannelSignalling,
    ChannelState,
    EventKind,
    SpanKind,
    SpanSignalling,
)
from trunkline.drivers.registry import open_card
from trunkline.errors import BackendError, CardNotFound, ChannelStateError, ConfigError


def test_no_board_names_the_device_and_the_module(monkeypatch):
    monkeypatch.setattr("os.path.exists", lambda path: False)
    with pytest.raises(CardNotFound, match=r"/dev/dahdi/ctl not found.*modprobe dahdi.*wct4xxp"):
        open_card("dahdi")


def test_discovery_builds_the_model():
    card, _ = sim_card()
    with card:
        e1, fxo, fxs = card.spans
        assert e1.kind is SpanKind.E1 and e1.signalling is SpanSignalling.PRI
        assert e1.dchannel == 16 and len(e1.channels) == 30
        assert (e1.framing, e1.coding, e1.crc4, e1.law) == ("ccs", "hdb3", True, "alaw")
        # One mixed analog DAHDI span becomes an FXO and an FXS model span.
        assert fxo.kind is SpanKind.FXO and fxo.channels == (32,)
        assert fxs.kind is SpanKind.FXS and fxs.channels == (33,)
        assert card.channel(32).signalling is ChannelSignalling.FXO_KEWLSTART
        assert card.channel(33).signalling is ChannelSignalling.FXS_KEWLSTART
        assert card.dahdi_span(3) == 2


def test_frames_flow_and_loop_through_the_far_end():
    card, _ = sim_card()
    with card:
        card.open([1, 2])
        card.read_frames()
        tone = np.full((2, 160), 1000, np.int16)
        card.write_frames(tone)
        rx = card.read_frames()
        assert rx.shape == (2, 160)
        assert np.all(np.abs(rx - 1000) < 40)  # A-law round trip
        assert card.now == pytest.approx(0.04)
        card.close_channel([1, 2])


def test_events_arrive_through_elast_and_getevent():
    card, kernel = sim_card()
    with card:
        card.open([32, 33])
        card.read_frames()
        kernel.ring(32)
        kernel.phone_hook(33, True)
        kernel.line_event(32, "POLARITY")
        card.read_frames()  # the read meets ELAST and drains the events
        kinds = [(e.kind, e.channel) for e in card.poll_events()]
        assert (EventKind.RING_BEGIN, 32) in kinds
        assert kinds.count((EventKind.RING_BEGIN, 32)) == 1  # RINGBEGIN + RINGOFFHOOK: one
        assert (EventKind.OFFHOOK, 33) in kinds
        assert (EventKind.POLARITY, 32) in kinds
        card.close_channel([32, 33])


def test_hook_and_dial_complete():
    card, _ = sim_card()
    with card:
        card.open(32)
        card.hook(32, "offhook")
        assert card.channel_state(32) is ChannelState.OFFHOOK
        card.dial(32, "123")
        assert card.channel_state(32) is ChannelState.DIALING
        events = []
        for _ in range(40):
            card.read_frames()
            events += card.poll_events()
        assert [e.kind for e in events] == [EventKind.DIAL_COMPLETE]
        with pytest.raises(ChannelStateError, match="FXO port"):
            card.hook(32, "ring")
        card.close_channel(32)


def test_fxs_ring_and_polarity():
    card, kernel = sim_card()
    with card:
        card.open(33)
        card.hook(33, "ring")
        assert card.channel_state(33) is ChannelState.RINGING
        card.set_polarity(33, True)
        assert kernel.chans[33].polarity == 1
        card.close_channel(33)


def test_span_alarm_becomes_one_span_event_and_counters():
    card, kernel = sim_card()
    with card:
        card.open([1, 2])
        card.read_frames()
        kernel.inject("alarm", span=1, alarm="red")
        card.read_frames()
        events = card.poll_events()
        alarms = [e for e in events if e.kind is EventKind.ALARM]
        assert len(alarms) == 1 and alarms[0].span == 1 and alarms[0].value & Alarm.RED
        status = card.span_status(1)
        assert status.alarms & Alarm.RED and status.counters.fas == 1
        assert card.alarm_detail(1) == ["LOS"]
        assert card.channel_state(1) is ChannelState.OUT_OF_SERVICE
        kernel.inject("alarm", span=1, alarm="none")
        card.read_frames()
        assert [e.kind for e in card.poll_events()] == [EventKind.NOALARM]
        card.close_channel([1, 2])


def test_dchannel_carries_frames_without_fcs():
    card, kernel = sim_card()
    with card:
        link = card.dchannel(1)
        peer = kernel.dchannel_peer(1)
        assert link.up and peer.up
        link.send(b"\x00\x01\x7f")
        assert peer.receive() == b"\x00\x01\x7f"
        peer.send(b"\x02\x01\x01\x01")
        assert link.receive() == b"\x02\x01\x01\x01"
        assert link.receive() is None
        kernel.inject("alarm", span=1, alarm="red")
        assert not link.up


def test_maintenance_local_loop_reports_loopback():
    card, kernel = sim_card(SMALL_SYSTEM.replace('far_end = "loop"', 'far_end = "idle"'))
    with card:
        card.set_maintenance(1, "local")
        assert card.span_status(1).alarms & Alarm.LOOPBACK
        assert card.span_status(1).loopback == "local"
        card.open(1)
        card.read_frames()
        card.write_frames(np.full((1, 160), -2000, np.int16))
        assert np.all(card.read_frames() < -1900)
        card.close_channel(1)
        card.set_maintenance(1, "off")
        assert kernel.maint_log[-1] == (1, kernel.lib.DAHDI_MAINT_NONE)
        with pytest.raises(ChannelStateError, match="analog"):
            card.set_maintenance(2, "local")


def test_no_timing_source_is_a_clear_error():
    card, kernel = sim_card()
    with card:
        card.open(1)
        kernel.inject("stall")
        with pytest.raises(BackendError, match="no timing source"):
            card.read_frames()
        card.close_channel(1)


def test_card_without_channels_is_paced_by_the_timer():
    card, kernel = sim_card()
    with card:
        for _ in range(5):
            assert card.read_frames().shape == (0, 160)
        assert kernel.now() == pytest.approx(0.1)


def test_the_timer_paces_again_after_channels_closed():
    """Frames read on channels are not owed by the timer afterwards: each paced read is
    one tick later, not an immediate return for every tick the channels paced."""
    card, kernel = sim_card()
    with card:
        card.read_frames()  # the timer paces (and is configured)
        card.open(1)
        for _ in range(10):
            card.read_frames()
        card.close_channel(1)
        for k in range(1, 4):
            card.read_frames()
            assert kernel.now() == pytest.approx(0.22 + 0.02 * k)


def test_removed_board_takes_the_span_out_of_service():
    card, kernel = sim_card()
    with card:
        card.open(1)
        card.read_frames()
        kernel.inject("removed", span=1)
        card.read_frames()  # ENODEV: the span alone is out of service, no exception
        events = card.poll_events()
        assert any(e.kind is EventKind.ALARM and e.span == 1 for e in events)
        assert card.channel_state(2) is ChannelState.OUT_OF_SERVICE
        card.close_channel(1)


def test_config_mismatch_goes_red_after_startup():
    card, kernel = sim_card()
    with card:
        lc = card.binding.new("struct dahdi_lineconfig *")
        lc.span = 1
        lc.lineconfig = kernel.lineconfig("ccs", "hdb3", False)  # the line has CRC4
        lc.sync = 1
        card.ioctl_ctl("DAHDI_SPANCONFIG", lc)
        card.ioctl_ctl("DAHDI_STARTUP", card.binding.int_arg(1))
        assert card.span_status(1).alarms & Alarm.RED
        assert card.alarm_detail(1) == ["LMFA"]


def test_url_arguments():
    with open_card("dahdi:sim", clock=VirtualClock()) as card:
        assert card.backend == "dahdi" and len(card.spans) == 6
    with pytest.raises(ConfigError, match="unknown dahdi card argument"):
        open_card("dahdi:bogus")


def test_simulated_system_file_is_versioned(tmp_path):
    path = tmp_path / "sys.toml"
    path.write_text(SMALL_SYSTEM.replace('spec = "1.0"', 'spec = "2.0"'))
    with pytest.raises(ConfigError, match=r"spec '2\.0'.*please update trunkline"):
        SimulatedKernel(path)
    with pytest.raises(ConfigError, match="unknown key"):
        SimulatedKernel(SMALL_SYSTEM + "bogus = 1\n")


def test_scheduled_faults_from_the_file():
    text = SMALL_SYSTEM + '\n[[fault]]\nat = 0.1\nkind = "alarm"\nspan = 1\nalarm = "blue"\n'
    card, _ = sim_card(text)
    with card:
        card.open(1)
        rx = None
        for _ in range(10):
            rx = card.read_frames()
        assert card.span_status(1).alarms & Alarm.BLUE
        assert rx is not None and np.all(rx == rx[0, 0])  # AIS: all ones
        card.close_channel(1)


def test_dahdi_card_is_a_cardabc_backend():
    card, _ = sim_card()
    with card:
        assert isinstance(card, DahdiCard)
    card.close()  # twice is fine
