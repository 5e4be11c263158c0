"""The PRI call controller's own timers (sans-IO: events and times in, actions out)."""

from __future__ import annotations

import pytest

from trunkline.drivers.dsp.zones import load_zone
from trunkline.drivers.pri_call import PROGRESS_GRACE, PriCall, PriCallState
from trunkline.drivers.signalling.pri import events as ev


def _proceeding(call: PriCall, *, alert: bool) -> None:
    call.start(0.0)
    call.on_event(0.1, ev.DChannelUp(1))
    call.call_id = 7
    call.on_event(0.2, ev.CallProceeding(1, 7, 1))
    call.on_event(0.3, ev.CallProgress(1, 7, 1, inband=True))
    if alert:
        call.on_event(2.0, ev.CallAlerting(1, 7, 1))


def test_early_media_without_alerting_is_cleared_after_the_ring_timeout() -> None:
    call = PriCall("13812345678", load_zone("cn"), ring_timeout=20.0)
    _proceeding(call, alert=False)
    assert call.state is PriCallState.PROGRESS
    assert call.on_time(20.0 + PROGRESS_GRACE - 0.1) == []
    actions = call.on_time(20.0 + PROGRESS_GRACE)
    assert actions and call.outcome == "no_answer"


@pytest.mark.parametrize("waited", [21.9, 22.0])
def test_alerting_calls_keep_the_ring_timeout_from_the_alert(waited: float) -> None:
    call = PriCall("13812345678", load_zone("cn"), ring_timeout=20.0)
    _proceeding(call, alert=True)
    actions = call.on_time(waited)
    assert bool(actions) == (waited >= 22.0)
