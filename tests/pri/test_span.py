"""Outbound and inbound calls between a CPE and a network PriSpan over a LinkPair."""

from __future__ import annotations

import pytest
from pri_helpers import RecordingLogger, make_pair, of, run

from trunkline.clock import VirtualClock
from trunkline.drivers.signalling.pri import events as ev
from trunkline.drivers.signalling.pri.errors import (
    PriCallStateError,
    PriConfigError,
    PriLinkDown,
    PriNoChannel,
    PriNumberError,
)
from trunkline.drivers.signalling.pri.link import LinkPair
from trunkline.drivers.signalling.pri.span import SWITCH_TYPES, PriSpan


def incoming(events: list[ev.PriEvent]) -> ev.IncomingCall:
    rings = of(events, ev.IncomingCall)
    assert len(rings) == 1, events
    return rings[0]


def test_outbound_call_full_flow(clock: VirtualClock, spans) -> None:
    cpe, net = spans
    cid = cpe.setup("+8613800138000", calling="01088888888", calling_type="national",
                    calling_plan="isdn", presentation="restricted", channel=5)
    ring = incoming(run(clock, (cpe, net), 0.1))
    assert ring.called == "8613800138000"
    assert ring.called_plan == 0x11  # international, E.164
    assert ring.calling == "01088888888"
    assert ring.calling_plan == 0x21  # national, E.164
    assert ring.calling_presentation & 0x60 == 0x20  # restricted
    assert ring.channel == 5 and not ring.exclusive
    net.proceeding(ring.call)
    net.progress(ring.call, inband=True)
    net.alerting(ring.call)
    events = run(clock, (cpe, net), 0.1)
    kinds = [type(e) for e in events if getattr(e, "call", None) == cid]
    assert kinds == [ev.CallProceeding, ev.CallProgress, ev.CallAlerting]
    progress = of(events, ev.CallProgress)[0]
    assert progress.inband and progress.channel == 5  # early media before answer
    assert cpe.call(cid).state == "CALL_DELIVERED"
    net.answer(ring.call)
    events = run(clock, (cpe, net), 0.1)
    assert of(events, ev.CallAnswered)[0].call == cid
    assert cpe.call(cid).answered
    cpe.hangup(cid)
    events = run(clock, (cpe, net), 0.2)
    ended = {e.span: e for e in of(events, ev.CallEnded)}
    assert ended[1].cause == 16 and ended[1].answered and ended[1].outcome is None
    assert ended[1].reason == "local" and ended[2].reason == "remote"
    assert cpe.calls == {} and net.calls == {}
    assert cpe.channel_state(5) == "idle"


def test_inbound_call_with_ani_dnis(clock: VirtualClock, spans) -> None:
    cpe, net = spans
    net.setup("95588", calling="13900139000", calling_name="Bank", channel=1)
    ring = incoming(run(clock, (cpe, net), 0.1))
    assert (ring.called, ring.calling, ring.span) == ("95588", "13900139000", 1)
    cpe.proceeding(ring.call)
    cpe.alerting(ring.call)
    cpe.answer(ring.call)
    events = run(clock, (cpe, net), 0.1)
    assert [type(e) for e in events if e.span == 2][:3] == [
        ev.CallProceeding, ev.CallAlerting, ev.CallAnswered]
    assert cpe.call(ring.call).state == "ACTIVE"


@pytest.mark.parametrize("cause", [17, 21, 34])
def test_inbound_reject_with_cause(clock: VirtualClock, spans, cause: int) -> None:
    cpe, net = spans
    out = net.setup("100", channel=2)
    ring = incoming(run(clock, (cpe, net), 0.1))
    cpe.reject(ring.call, cause)
    events = run(clock, (cpe, net), 0.2)
    ended = next(e for e in of(events, ev.CallEnded) if e.call == out)
    assert ended.cause == cause and not ended.answered
    assert cpe.calls == {} and net.calls == {}


def test_state_errors_name_call_span_channel_and_state(clock, spans) -> None:
    cpe, _net = spans
    cid = cpe.setup("123", channel=7)
    with pytest.raises(PriCallStateError,
                       match=rf"cannot answer call {cid} on span 1 channel 7: state is "
                             "CALL_INITIATED"):
        cpe.answer(cid)
    with pytest.raises(PriNoChannel, match="channel 7: channel is busy"):
        cpe.setup("456", channel=7)
    with pytest.raises(PriNoChannel, match="no B-channel 16"):
        cpe.setup("456", channel=16)
    with pytest.raises(PriCallStateError, match="no such call"):
        cpe.hangup(99999)


@pytest.mark.parametrize("number", ["12a4", "1 2", "12-34", "١٢٣", "", "+"])
def test_illegal_numbers_are_refused_naming_the_value(spans, number: str) -> None:
    cpe, _ = spans
    with pytest.raises(PriNumberError, match="called number") as info:
        cpe.setup(number)
    assert repr(number) in str(info.value)


def test_illegal_calling_number_and_bad_plan(spans) -> None:
    cpe, _ = spans
    with pytest.raises(PriNumberError, match=r"calling number '010x' has the illegal "
                                             r"character 'x'"):
        cpe.setup("123", calling="010x")
    with pytest.raises(PriConfigError, match="called type 'galactic'"):
        cpe.setup("123", called_type="galactic")
    with pytest.raises(PriConfigError, match="presentation 'secret'"):
        cpe.setup("123", presentation="secret")


def test_unknown_switch_type_and_role_are_named(clock, pair) -> None:
    with pytest.raises(PriConfigError, match="unknown switch type 'euroisdn_e2'"):
        PriSpan(pair.a, switchtype="euroisdn_e2", clock=clock)
    with pytest.raises(PriConfigError, match="unknown role 'user'"):
        PriSpan(pair.a, role="user", clock=clock)
    with pytest.raises(PriConfigError, match="with 16 fit neither"):
        PriSpan(pair.a, channels=[1, 16, 31], clock=clock)
    with pytest.raises(PriConfigError, match="unknown libpri timer 'T999'"):
        PriSpan(pair.a, clock=clock, timers={"T999": 5})


def test_no_call_while_dchannel_down(clock, logger) -> None:
    pair = LinkPair()
    pair.down = True
    cpe = PriSpan(pair.a, clock=clock, logger=logger)
    run(clock, (cpe,), 0.1)
    with pytest.raises(PriLinkDown, match="D-channel is down"):
        cpe.setup("123")


@pytest.mark.parametrize("switchtype", sorted(SWITCH_TYPES))
def test_every_switch_type_brings_up_and_calls(clock, logger, switchtype: str) -> None:
    cpe, net = make_pair(clock, logger, LinkPair(), switchtype=switchtype)
    cid = cpe.setup("5551234", calling="5550000")
    ring = incoming(run(clock, (cpe, net), 0.1))
    assert ring.called == "5551234"
    net.answer(ring.call)
    assert of(run(clock, (cpe, net), 0.1), ev.CallAnswered)[0].call == cid
    net.hangup(ring.call, 16)
    ended = of(run(clock, (cpe, net), 0.2), ev.CallEnded)
    assert {e.span for e in ended} == {1, 2}
    assert cpe.calls == {} and net.calls == {}


def test_t303_fires_in_virtual_time(clock, spans) -> None:
    """No answer to SETUP: T303 (4 s) expires twice; the call is cleared at ~8 s."""
    cpe, net = spans
    assert cpe.virtual_time, "static libpri build expected: timers follow the clock"
    start = clock.now()
    cid = cpe.setup("777")
    incoming(run(clock, (cpe, net), 0.1))  # the network never answers
    events = run(clock, (cpe, net), 20.0,
                 until=lambda e: isinstance(e, ev.CallEnded) and e.call == cid)
    ended = next(e for e in of(events, ev.CallEnded) if e.call == cid)
    elapsed = clock.now() - start
    # 2 x T303, in virtual time (to the microsecond libpri counts in; the float sum of
    # 0.02 s ticks that reaches 8 s is a hair under it)
    assert 8.0 <= round(elapsed, 6) < 9.0
    assert ended.cause in (18, 102) and ended.outcome in ("no_answer", "error")
    assert cpe.channel_state(ended.channel) == "idle"


def test_t310_configured_fires_after_proceeding(clock, logger, pair) -> None:
    cpe, net = make_pair(clock, logger, pair, timers={"T310": 10_000})
    assert cpe.get_timer("T310") == 10_000
    cid = cpe.setup("888")
    ring = incoming(run(clock, (cpe, net), 0.1))
    net.proceeding(ring.call)
    start = clock.now()
    events = run(clock, (cpe, net), 30.0,
                 until=lambda e: isinstance(e, ev.CallEnded) and e.call == cid)
    ended = next(e for e in of(events, ev.CallEnded) if e.call == cid)
    assert ended.cause == 102 and ended.reason == "timer"
    assert 9.9 <= clock.now() - start < 11.0


def test_q931_trace_logs_every_decoded_message(clock, pair) -> None:
    logger = RecordingLogger()
    seen = []
    cpe = PriSpan(pair.a, clock=clock, span_id=7, logger=logger, trace=seen.append)
    net = PriSpan(pair.b, role="network", clock=clock, span_id=8, logger=logger)
    run(clock, (cpe, net), 1.0)
    cid = cpe.setup("123456", calling="654321")
    ring = incoming(run(clock, (cpe, net), 0.1))
    net.answer(ring.call)
    run(clock, (cpe, net), 0.1)
    cpe.hangup(cid)
    run(clock, (cpe, net), 0.2)
    flow = [(m.direction, m.message) for m in seen]
    assert flow == [("tx", "SETUP"), ("rx", "CONNECT"), ("tx", "CONNECT_ACKNOWLEDGE"),
                    ("tx", "DISCONNECT"), ("rx", "RELEASE"), ("tx", "RELEASE_COMPLETE")]
    setup = seen[0]
    assert any("Called Party Number" in line and "123456" in line for line in setup.lines)
    logged = [r for r in logger.records if r[1] == "q931"]
    assert len(logged) == len(seen)
    assert all(r[2]["span"] == 7 for r in logged)
    assert logged[0][2]["message"] == "SETUP" and logged[0][2]["direction"] == "tx"


def test_close_is_idempotent_and_clears_calls(clock, spans) -> None:
    cpe, _net = spans
    cid = cpe.setup("123")
    cpe.close()
    cpe.close()
    events = cpe.poll()
    assert events == []
    assert cid not in cpe.calls


def test_libpri_events_the_span_does_not_handle_are_only_logged(clock: VirtualClock) -> None:
    # With the real (structlog) logger: its first parameter is called `event`, which
    # must not be passed again as a field.
    from types import SimpleNamespace

    from trunkline.drivers.native import libpri

    pair = LinkPair()
    cpe = PriSpan(pair.a, role="cpe", clock=clock, span_id=1)
    lib = libpri.load().lib
    try:
        for kind in (lib.PRI_EVENT_NOTIFY, lib.PRI_EVENT_FACILITY):
            cpe._dispatch(SimpleNamespace(e=kind))
        assert cpe.poll(clock.now()) == []
    finally:
        cpe.close()
