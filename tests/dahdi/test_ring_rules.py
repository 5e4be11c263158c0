"""Ringing in on an FXO port as DAHDI reports it (RINGBEGIN per burst, RINGOFFHOOK after
its trailer, nothing when the rings stop), and the backend that sees them stop."""

from __future__ import annotations

from dahdi_helpers import sim_card

from trunkline.drivers.backends.dahdi.card import RING_TIMEOUT
from trunkline.drivers.backends.dahdi.device import CHANNEL
from trunkline.drivers.model import ChannelState, EventKind

FXO = 32


def _events(kernel, fd):
    out = []
    arg = kernel.ffi.new("int *")
    while True:
        kernel.ioctl(fd, kernel.lib.DAHDI_GETEVENT, arg)
        if arg[0] == kernel.lib.DAHDI_EVENT_NONE:
            return out
        out.append(arg[0])


def _wait(kernel, seconds):
    kernel.clock.sleep_until(kernel.clock.now() + seconds)
    kernel._apply_due_faults()


def test_sim_ring_burst_is_ringbegin_then_ringoffhook_after_the_trailer():
    _, kernel = sim_card()
    lib = kernel.lib
    fd = kernel.open(CHANNEL)
    kernel.ioctl(fd, lib.DAHDI_SPECIFY, kernel.ffi.new("int *", FXO))
    kernel.ring(FXO)
    assert _events(kernel, fd) == [lib.DAHDI_EVENT_RINGBEGIN]
    _wait(kernel, 1.0)
    kernel.ring(FXO, False)
    _wait(kernel, 0.02)
    assert _events(kernel, fd) == []  # still within the 50 ms ring trailer
    _wait(kernel, 0.05)
    assert _events(kernel, fd) == [lib.DAHDI_EVENT_RINGOFFHOOK]
    _wait(kernel, 10)
    assert _events(kernel, fd) == []  # no RINGEROFF: the end of ringing is silence


def _run(card, seconds):
    events = []
    for _ in range(round(seconds / 0.02)):
        card.read_frames()
        events += [e for e in card.poll_events() if e.channel == FXO]
    return [e.kind for e in events]


def test_unanswered_call_leaves_ringing_when_the_cadence_stops():
    card, kernel = sim_card()
    with card:
        card.open(FXO)
        kernel.ring_cadence(FXO, bursts=3)  # 1 s on, 4 s off, three times
        kinds = _run(card, 14.0)
        assert kinds == [EventKind.RING_BEGIN]  # one call, not one per burst
        assert card.channel_state(FXO) is ChannelState.RINGING  # between bursts
        kinds = _run(card, RING_TIMEOUT)
        assert kinds == [EventKind.RING_END]
        assert card.channel_state(FXO) is ChannelState.IDLE
        kernel.ring_cadence(FXO, bursts=1)  # the port takes the next call
        assert _run(card, 1.0) == [EventKind.RING_BEGIN]


def test_an_answered_call_gets_no_ring_end():
    card, kernel = sim_card()
    with card:
        card.open(FXO)
        kernel.ring_cadence(FXO, bursts=5)
        _run(card, 0.5)
        card.hook(FXO, "offhook")
        assert _run(card, RING_TIMEOUT + 5) == []
        assert card.channel_state(FXO) is ChannelState.OFFHOOK
