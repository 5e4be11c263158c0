"""Our ringer on an FXS port as dahdi-base.c runs it: DAHDI_HOOK RING starts the
cadence with ringcadence[0] on and no event, __rbs_otimer_expire queues RINGEROFF and
RINGERON at each step, DAHDI_SETCADENCE sets a cadence (a negative time marks where it
loops back) and NULL restores the zone's; the backend keeps the port RINGING throughout
(RINGEROFF is a silent step, not the end of ringing)."""

from __future__ import annotations

import pytest
from dahdi_helpers import sim_card

from trunkline.drivers.backends.dahdi.device import CHANNEL
from trunkline.drivers.model import ChannelState, EventKind, HookOp

FXS = 33


def _fd(kernel):
    fd = kernel.open(CHANNEL, nonblock=False)
    kernel.ioctl(fd, kernel.lib.DAHDI_SPECIFY, kernel.ffi.new("int *", FXS))
    return fd


def _timeline(kernel, fd, seconds, step=0.05):
    """(time since now, event) for every event over ``seconds``."""
    out = []
    start = kernel.now()
    arg = kernel.ffi.new("int *")
    for _ in range(round(seconds / step)):
        kernel.clock.sleep_until(kernel.clock.now() + step)
        kernel._apply_due_faults()
        while True:
            kernel.ioctl(fd, kernel.lib.DAHDI_GETEVENT, arg)
            if arg[0] == kernel.lib.DAHDI_EVENT_NONE:
                break
            out.append((round(kernel.now() - start, 2), int(arg[0])))
    return out


def _ring(kernel, fd):
    kernel.ioctl(fd, kernel.lib.DAHDI_HOOK, kernel.ffi.new("int *", kernel.lib.DAHDI_RING))


def test_the_zones_cadence_rings_with_ringeroff_and_ringeron_at_each_step():
    _, kernel = sim_card()  # zone cn: 1 s on, 4 s off
    lib = kernel.lib
    fd = _fd(kernel)
    _ring(kernel, fd)
    events = _timeline(kernel, fd, 10.5)
    assert [e for _, e in events] == [lib.DAHDI_EVENT_RINGEROFF, lib.DAHDI_EVENT_RINGERON] * 2
    assert [t for t, _ in events] == pytest.approx([1.0, 5.0, 6.0, 10.0], abs=0.06)


def test_setcadence_with_a_loop_back_point_and_null_restores_the_zones():
    _, kernel = sim_card()
    lib = kernel.lib
    fd = _fd(kernel)
    cadence = kernel.ffi.new("struct dahdi_ring_cadence *")
    # A distinctive ring: 0.4 on, 0.2 off, then loop from 0.8 on / 3 off (negative).
    for i, ms in enumerate((400, 200, -800, 3000)):
        cadence.ringcadence[i] = ms
    kernel.ioctl(fd, lib.DAHDI_SETCADENCE, cadence)
    _ring(kernel, fd)
    events = [t for t, _ in _timeline(kernel, fd, 9.0)]
    # Loops back to the 800 ms burst.
    assert events == pytest.approx([0.4, 0.6, 1.4, 4.4, 5.2, 8.2], abs=0.06)
    kernel.ioctl(fd, lib.DAHDI_HOOK, kernel.ffi.new("int *", lib.DAHDI_RINGOFF))
    kernel.ioctl(fd, lib.DAHDI_SETCADENCE, kernel.ffi.NULL)
    _ring(kernel, fd)
    assert [t for t, _ in _timeline(kernel, fd, 5.5)] == pytest.approx([1.0, 5.0], abs=0.06)


def test_lifting_the_phone_trips_the_ringer():
    _, kernel = sim_card()
    lib = kernel.lib
    fd = _fd(kernel)
    _ring(kernel, fd)
    _timeline(kernel, fd, 0.5)
    kernel.phone_hook(FXS, True)
    assert _timeline(kernel, fd, 6.0) == [(0.05, lib.DAHDI_EVENT_RINGOFFHOOK)]


def test_the_backend_keeps_the_port_ringing_between_bursts():
    card, _ = sim_card()
    with card:
        card.open(FXS)
        card.hook(FXS, HookOp.RING)
        kinds = []
        for _ in range(round(3.0 / 0.02)):  # past the first burst's RINGEROFF
            card.read_frames()
            kinds += [e.kind for e in card.poll_events() if e.channel == FXS]
        assert EventKind.RING_END not in kinds
        assert card.channel_state(FXS) is ChannelState.RINGING
