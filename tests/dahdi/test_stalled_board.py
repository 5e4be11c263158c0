"""One board that stalls or goes away takes only its own spans out of service, with an
alarm; the other boards' channels keep their timing and audio."""

from __future__ import annotations

from trunkline.clock import VirtualClock
from trunkline.drivers.backends.dahdi.card import DahdiCard
from trunkline.drivers.backends.dahdi.simkernel import SimulatedKernel
from trunkline.drivers.model import Alarm, ChannelState, EventKind

BCHAN = 1      # TE420 span 1 (PCI Bus 03 Slot 01)
FXO = 125      # the TDM410P's first port (PCI Bus 04 Slot 02)


def _card():
    kernel = SimulatedKernel(None, clock=VirtualClock())
    return DahdiCard(kernel), kernel


def test_a_stalled_board_takes_only_its_spans_out_and_comes_back():
    card, kernel = _card()
    with card:
        card.open([BCHAN, FXO])
        card.read_frames()
        card.poll_events()
        kernel.inject("stall", span=1)
        frames = card.read_frames()  # waits read_timeout once, then goes on
        assert frames.shape == (2, 160)
        events = card.poll_events()
        assert [(e.kind, e.span, e.value) for e in events if e.kind is EventKind.ALARM] == \
            [(EventKind.ALARM, 1, int(Alarm.RED))]
        assert card.channel_state(BCHAN) is ChannelState.OUT_OF_SERVICE
        assert card.span_status(1).alarms & Alarm.RED
        before = kernel.now()
        for _ in range(10):
            card.read_frames()  # the analog board alone paces: no more waiting
        assert kernel.now() - before < card.read_timeout  # (virtual time)
        assert card.channel_state(FXO) is ChannelState.IDLE
        kernel.inject("stall", span=1, on=False)
        card.read_frames()
        card.read_frames()
        events = card.poll_events()
        assert any(e.kind is EventKind.NOALARM and e.span == 1 for e in events)
        assert card.channel_state(BCHAN) is ChannelState.IN_USE


def test_a_removed_board_leaves_the_others_running():
    card, kernel = _card()
    with card:
        card.open([BCHAN, FXO])
        card.read_frames()
        kernel.inject("removed", span=1)
        for _ in range(5):
            assert card.read_frames().shape == (2, 160)
        assert card.channel_state(BCHAN) is ChannelState.OUT_OF_SERVICE
        assert card.channel_state(FXO) is ChannelState.IDLE
