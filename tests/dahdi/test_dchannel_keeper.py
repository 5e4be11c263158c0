"""A PRI span's D-channel in its own thread (drivers/signalling/pri/keeper.py): while the
media tick stalls, Q.921 still answers the exchange, which keeps the link up. Without
the keeper the same stall makes the exchange drop the link: the control that shows the
test can fail. Real time (threads and Q.921 timers), about 9 s in all."""

from __future__ import annotations

import time

import pytest

from trunkline.clock import RealClock
from trunkline.drivers.backends.dahdi.card import DahdiCard
from trunkline.drivers.backends.dahdi.device import SerializedDevice
from trunkline.drivers.backends.dahdi.simkernel import SimulatedKernel
from trunkline.drivers.dsp.zones import load_zone
from trunkline.drivers.lineloop import LineLoop
from trunkline.drivers.signalling.pri import events as pri
from trunkline.drivers.signalling.pri.keeper import DChannelKeeper, wanted

BOARD = """\
spec = "1.0"
zone = "cn"
[[span]]
type = "E1"
configured = "pri"
timing = 1
far_end = "exchange"
"""

#: The exchange polls an idle link after T203 and drops it after N200 (3) unanswered
#: retries T200 apart (Q.921 5.6/5.7): with these it drops about 2.2 s into a stall.
T203_MS, T200_MS = 1000, 300
STALL = 3.0


def _stall_the_tick(threaded: bool) -> tuple[int, DChannelKeeper | None, int]:
    kernel = SimulatedKernel(BOARD, clock=RealClock())
    card = DahdiCard(SerializedDevice(kernel))
    assert card.dchannels_in_thread
    span = card.spans[0].number
    exchange = card.network_side(span)
    exchange.exchange.span.set_timer("T203", T203_MS)
    exchange.exchange.span.set_timer("T200", T200_MS)
    with card, LineLoop(card, zone=load_zone("cn"), clock=RealClock(),
                        options={"pri_dchannel_thread": threaded}) as loop:
        module = loop.module(span)
        loop.run(lambda: module.up, max_seconds=5)
        assert module.up
        before = module.keeper.polls if module.keeper is not None else 0
        time.sleep(STALL)  # the media tick overruns: nothing reads the card
        during = (module.keeper.polls if module.keeper is not None else 0) - before
        until = time.monotonic() + 0.5
        loop.run(lambda: time.monotonic() > until, max_seconds=2)
        return exchange.link_drops, module.keeper, during


def test_the_link_survives_a_stalled_tick_with_the_keeper() -> None:
    drops, keeper, during = _stall_the_tick(threaded=True)
    assert keeper is not None and not keeper.running  # stopped with the line loop
    assert during > 0  # it read the D-channel while the tick stood still
    assert drops == 0


def test_without_the_keeper_the_same_stall_drops_the_link() -> None:
    drops, keeper, _ = _stall_the_tick(threaded=False)
    assert keeper is None
    assert drops >= 1


class _Span:
    """What the keeper uses of a PriSpan."""

    span_id = 7

    def __init__(self, fail_after: int) -> None:
        self.polled = 0
        self.fail_after = fail_after

    def poll(self, now: float) -> list[pri.PriEvent]:
        self.polled += 1
        if self.polled > self.fail_after:
            raise OSError("D-channel 16 of span 7: read failed")
        return [pri.DChannelUp(7)] if self.polled == 1 else []


def test_an_error_stops_the_keeper_and_reaches_the_tick_after_the_events() -> None:
    span = _Span(fail_after=3)
    keeper = DChannelKeeper(span, RealClock(), period=0.001)  # type: ignore[arg-type]
    keeper.start()
    keeper._thread.join(2)
    assert not keeper.running
    assert [type(e) for e in keeper.take()] == [pri.DChannelUp]
    with pytest.raises(OSError, match="read failed"):
        keeper.take()
    assert keeper.take() == []  # raised once


def test_requests_wait_for_the_poll_under_the_lock() -> None:
    span = _Span(fail_after=10**9)
    keeper = DChannelKeeper(span, RealClock(), period=0.001)  # type: ignore[arg-type]
    keeper.start()
    try:
        with keeper.lock:  # a request from the tick: no poll runs meanwhile
            before = span.polled
            time.sleep(0.05)
            assert span.polled == before
    finally:
        keeper.stop()
    assert not keeper.running


class _Card:
    dchannels_in_thread = True


def test_keepers_are_for_real_time_on_cards_that_allow_them() -> None:
    from trunkline.clock import VirtualClock

    assert wanted(RealClock(), _Card())
    assert not wanted(VirtualClock(), _Card())
    assert not wanted(RealClock(), object())
    assert wanted(VirtualClock(), object(), option=True)
    assert not wanted(RealClock(), _Card(), option=False)
