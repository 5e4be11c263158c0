"""An FXO line losing its battery, as wctdm24xxp and dahdi-base.c report it
(wctdm_check_battery_lost/present, dahdi_alarm_channel): the far end goes on hook after
the debounce when a call is up, and the channel's own alarm follows a second after the
change; the backend takes such a port out of service until the alarm clears."""

from __future__ import annotations

from dahdi_helpers import sim_card

from trunkline.drivers.backends.dahdi.device import CHANNEL
from trunkline.drivers.backends.dahdi.simkernel import BATT_ALARM, BATT_DEBOUNCE
from trunkline.drivers.model import ChannelState, EventKind, HookOp

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


def _params(kernel, channel):
    params = kernel.ffi.new("struct dahdi_params *")
    params.channo = channel
    ctl = kernel.open("/dev/dahdi/ctl")
    kernel.ioctl(ctl, kernel.lib.DAHDI_GET_PARAMS, params)
    kernel.close(ctl)
    return params


def test_an_idle_line_losing_battery_raises_the_channel_alarm_after_battalarm():
    _, kernel = sim_card()
    lib = kernel.lib
    fd = kernel.open(CHANNEL)
    kernel.ioctl(fd, lib.DAHDI_SPECIFY, kernel.ffi.new("int *", FXO))
    kernel.set_battery(FXO, False)
    _wait(kernel, BATT_DEBOUNCE + 0.01)
    assert _events(kernel, fd) == []  # on hook: the loss is no hook signal (FXSKS)
    assert _params(kernel, FXO).chan_alarms == 0
    _wait(kernel, BATT_ALARM)
    assert _events(kernel, fd) == [lib.DAHDI_EVENT_ALARM]
    assert _params(kernel, FXO).chan_alarms == lib.DAHDI_ALARM_RED
    assert _params(kernel, FXO + 1).chan_alarms == 0  # the port beside it is fine
    kernel.set_battery(FXO, True)
    _wait(kernel, BATT_ALARM + 0.01)
    assert _events(kernel, fd) == [lib.DAHDI_EVENT_NOALARM]
    assert _params(kernel, FXO).chan_alarms == 0


def test_a_brief_loss_raises_no_alarm():
    _, kernel = sim_card()
    fd = kernel.open(CHANNEL)
    kernel.ioctl(fd, kernel.lib.DAHDI_SPECIFY, kernel.ffi.new("int *", FXO))
    kernel.set_battery(FXO, False)
    _wait(kernel, 0.5)
    kernel.set_battery(FXO, True)  # back within battalarm: the alarm never comes
    _wait(kernel, 2 * BATT_ALARM)
    assert _events(kernel, fd) == []


def test_a_call_in_progress_is_hung_up_and_the_port_taken_out_of_service():
    card, kernel = sim_card()
    with card:
        card.open(FXO)
        card.hook(FXO, HookOp.OFFHOOK)
        kernel.set_battery(FXO, False)
        kinds = []
        for _ in range(round(1.5 / 0.02)):
            card.read_frames()
            kinds += [e.kind for e in card.poll_events() if e.channel == FXO]
        assert EventKind.ONHOOK in kinds  # the far end "hung up" when the battery went
        assert card.channel_state(FXO) is ChannelState.OUT_OF_SERVICE
        assert card.stats["battery_alarms"] == 1
        kernel.set_battery(FXO, True)
        for _ in range(round(1.5 / 0.02)):
            card.read_frames()
            card.poll_events()
        assert card.channel_state(FXO) is not ChannelState.OUT_OF_SERVICE
