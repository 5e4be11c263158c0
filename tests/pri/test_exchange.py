"""A CPE PriSpan against the scripted network Exchange, with a toy router."""

from __future__ import annotations

import pytest
from pri_helpers import of, run

from trunkline.drivers.signalling.pri import events as ev
from trunkline.drivers.signalling.pri.exchange import Exchange, ExchangeCallChanged, PriScript
from trunkline.drivers.signalling.pri.link import LinkPair
from trunkline.drivers.signalling.pri.span import PriSpan

ROUTES = {
    "100": PriScript.busy(),
    "200": PriScript.invalid_number(announcement=3.0),
    "300": PriScript.human(ring=5.0),
    "400": PriScript.congestion(),
    "500": PriScript.no_answer(),
}


def router(called: str, calling: str) -> PriScript:
    if called in ROUTES:
        return ROUTES[called]
    cause = int(called[1:]) if called.startswith("9") else 41
    return PriScript(f"cause{cause}", release_cause=cause)


@pytest.fixture
def net(clock, logger):
    pair = LinkPair()
    cpe = PriSpan(pair.a, clock=clock, span_id=1, logger=logger)
    exchange = Exchange(pair.b, router, clock=clock, span_id=9, logger=logger)
    run(clock, (cpe, exchange), 1.0)
    assert cpe.up and exchange.span.up
    return cpe, exchange


def call(clock, cpe, exchange, number: str, seconds: float = 30.0):
    cid = cpe.setup(number)
    events = run(clock, (cpe, exchange), seconds,
                 until=lambda e: isinstance(e, ev.CallEnded) and e.call == cid)
    mine = [e for e in events if getattr(e, "call", None) == cid]
    return cid, mine, events


def test_busy(clock, net) -> None:
    cpe, exchange = net
    _, mine, _ = call(clock, cpe, exchange, "100")
    ended = mine[-1]
    assert isinstance(ended, ev.CallEnded)
    assert (ended.cause, ended.outcome) == (17, "busy")
    assert not of(mine, ev.CallAlerting)


def test_invalid_number_gives_early_media_then_cause_1(clock, net) -> None:
    cpe, exchange = net
    start = clock.now()
    _, mine, events = call(clock, cpe, exchange, "200")
    progress = of(mine, ev.CallProgress)
    assert progress and progress[0].inband  # SIT + announcement in band, before answer
    assert not of(mine, ev.CallAnswered)
    ended = mine[-1]
    assert (ended.cause, ended.outcome) == (1, "invalid_number")
    assert 3.0 <= clock.now() - start < 3.5
    phases = [e for e in events if isinstance(e, ExchangeCallChanged)]
    assert ("progress", "inband", "invalid_number") in {
        (p.phase, p.audio, p.label) for p in phases}
    assert cpe.channel_state(ended.channel) == "idle"
    assert exchange.calls == {}


def test_human_alerting_then_connect(clock, net) -> None:
    cpe, exchange = net
    cid = cpe.setup("300", calling="01012345678")
    events = run(clock, (cpe, exchange), 10.0,
                 until=lambda e: isinstance(e, ev.CallAnswered))
    mine = [type(e) for e in events if getattr(e, "call", None) == cid and e.span == 1]
    assert mine == [ev.CallProceeding, ev.CallAlerting, ev.CallAnswered]
    (info,) = exchange.calls.values()
    assert info.phase == "connected" and info.audio == "connected"
    assert info.calling == "01012345678" and info.channel == cpe.call(cid).channel
    cpe.hangup(cid)
    events = run(clock, (cpe, exchange), 0.5)
    assert {e.span for e in of(events, ev.CallEnded)} == {1, 9}
    assert exchange.calls == {}


def test_congestion(clock, net) -> None:
    cpe, exchange = net
    _, mine, _ = call(clock, cpe, exchange, "400")
    assert (mine[-1].cause, mine[-1].outcome) == (34, "congestion")


def test_no_answer_rings_until_the_caller_gives_up(clock, net) -> None:
    cpe, exchange = net
    cid = cpe.setup("500")
    events = run(clock, (cpe, exchange), 60.0)
    assert of(events, ev.CallAlerting)
    assert not of(events, ev.CallEnded)
    (info,) = exchange.calls.values()
    assert (info.phase, info.audio) == ("alerting", "ringback")
    cpe.hangup(cid, 16)
    events = run(clock, (cpe, exchange), 0.5)
    ended = next(e for e in of(events, ev.CallEnded) if e.call == cid)
    assert ended.reason == "local" and not ended.answered
    assert exchange.calls == {} and cpe.calls == {}


MAPPED = {17: "busy", 1: "invalid_number", 18: "no_answer", 19: "no_answer",
          20: "unreachable", 27: "unreachable", 21: "rejected", 34: "congestion",
          38: "congestion", 41: "congestion", 42: "congestion", 44: "congestion",
          3: "error", 16: "error", 31: "error", 88: "error", 102: "error"}


def test_every_mapped_cause_over_the_wire(clock, net) -> None:
    cpe, exchange = net
    for cause, outcome in MAPPED.items():
        _, mine, _ = call(clock, cpe, exchange, f"9{cause}")
        ended = mine[-1]
        assert isinstance(ended, ev.CallEnded)
        assert (ended.cause, ended.outcome) == (cause, outcome), cause
    assert cpe.calls == {} and exchange.calls == {}


def test_router_failure_rejects_with_41_and_is_recorded(clock, logger) -> None:
    pair = LinkPair()
    cpe = PriSpan(pair.a, clock=clock, logger=logger)

    def broken(called: str, calling: str) -> PriScript:
        raise RuntimeError("no route table")

    exchange = Exchange(pair.b, broken, clock=clock, logger=logger)
    run(clock, (cpe, exchange), 1.0)
    _, mine, _ = call(clock, cpe, exchange, "123")
    assert mine[-1].cause == 41
    assert "no route table" in exchange.errors[0]


def test_exchange_originates_inbound_calls(clock, net) -> None:
    cpe, exchange = net
    exchange.originate("95588", calling="13800000000")
    events = run(clock, (cpe, exchange), 0.2)
    ring = of(events, ev.IncomingCall)[0]
    assert (ring.span, ring.called, ring.calling) == (1, "95588", "13800000000")
    cpe.answer(ring.call)
    events = run(clock, (cpe, exchange), 0.2)
    assert of(events, ev.CallAnswered)
    assert next(iter(exchange.calls.values())).phase == "connected"


def test_script_validation() -> None:
    with pytest.raises(ValueError, match="alerting_after"):
        PriScript(alerting_after=-1)
    with pytest.raises(ValueError, match=r"Q\.850 cause"):
        PriScript(release_cause=0)
