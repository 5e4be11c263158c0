"""SS7 ISUP over an emulated E1 with China's 24-bit point codes: every subscriber
behaviour, calls toward us, glare, a link lost mid-call, circuits blocked by the
exchange.

The far end is the emulated network's exchange: our own MTP2/MTP3/ISUP stack in the
exchange role (drivers/backends/emulated/ss7_network.py) on the span's timeslot 16 in
DAHDI's MTP2 mode. Interworking with Debian's libss7 is tested in tests/ss7.
"""

from __future__ import annotations

import pytest
from trunk_calls import OUTCOMES, Offers, first_span

from trunkline.drivers.dsp.zones import load_zone
from trunkline.drivers.lineloop import LineLoop
from trunkline.drivers.model import SpanSignalling
from trunkline.drivers.signalling import events as ev
from trunkline.drivers.signalling.base import InboundPolicy
from trunkline.drivers.signalling.leg import CallOptions, Leg

CN = load_zone("cn")


def ss7_span(card) -> int:
    return first_span(card, SpanSignalling.SS7, "SS7")


def ready(loop: LineLoop, span: int) -> None:
    """Until the linkset is up and both ends' start-up circuit resets are acknowledged
    (Q.764 2.9.3.1: each end resets every circuit when its point restarts)."""
    module = loop.modules[span]
    loop.run(lambda: module.can_place(None), max_seconds=30)
    assert module.can_place(None), module.state()
    side = loop.card.network_side(span)
    if hasattr(side, "point"):
        loop.run(lambda: bool(side.point.free_circuits()), max_seconds=30)


def place(card, number: str, **options) -> Leg:
    span = ss7_span(card)
    with LineLoop(card, zone=CN, spans=[span]) as loop:
        ready(loop, span)
        leg = loop.originate(CallOptions(number, **{"hold": 1.0, **options}), span=span)
        loop.run(lambda: leg.ended)
    return leg


@pytest.mark.parametrize(("number", "outcome", "cause"), OUTCOMES)
def test_outcome_and_cause(emulated, number, outcome, cause):
    result = place(emulated, number).result()
    assert (result["outcome"], result["cause"]) == (outcome, cause), result["events"]


def test_the_iam_carries_the_called_and_calling_numbers(emulated):
    span = ss7_span(emulated)
    with LineLoop(emulated, zone=CN, spans=[span]) as loop:
        ready(loop, span)
        leg = loop.originate(CallOptions("13700000002", calling="01088886666"), span=span)
        loop.run(lambda: leg.ended)
    isup = [e for e in leg.result()["events"] if e["event"] == "isup"]
    assert isup[0]["message"] == "IAM" and isup[0]["direction"] == "out", isup
    assert "13700000002" in str(isup[0]) and "01088886666" in str(isup[0]), isup[0]
    received = [e["message"] for e in isup if e["direction"] == "in"]
    assert received == ["CPG", "REL"], isup  # in-band busy tone, then REL cause 17
    assert isup[-1]["message"] == "RLC" and isup[-1]["direction"] == "out"


def test_a_call_toward_us_is_offered_with_the_calling_number(emulated):
    span = ss7_span(emulated)
    offers = Offers()
    offered = offers.offered
    with LineLoop(emulated, zone=CN, spans=[span], listener=offers,
                  inbound=InboundPolicy(timeout=20.0)) as loop:
        ready(loop, span)
        side = emulated.network_side(span)
        call = side.originate("80001234", "13912345678")
        loop.run(lambda: bool(offered), max_seconds=10)
        leg, event = offered[0]
        assert (event.calling, event.called) == ("13912345678", "80001234")
        loop.answer(leg)
        loop.run(lambda: leg.result()["answered_by"] is not None, max_seconds=5)
        side.hangup(call)
        loop.run(lambda: leg.ended, max_seconds=10)
    result = leg.result()
    hangup = result["events"][-1]
    assert (result["outcome"], hangup["by"], hangup["cause"]) == ("human", "far_end", 16), \
        result["events"]


def test_dual_seizure_on_one_circuit(emulated):
    """Both ends send an IAM on one CIC (Q.764 2.9.1.4): the point with the higher point
    code controls the even CICs and the other gives way; whoever loses, no call is lost
    without a final outcome and every circuit ends idle."""
    span = ss7_span(emulated)
    offered: list[Leg] = []
    with LineLoop(emulated, zone=CN, spans=[span],
                  listener=lambda leg, e: offered.append(leg)
                  if isinstance(e, ev.Offered) else None,
                  inbound=InboundPolicy(timeout=3.0)) as loop:
        ready(loop, span)
        side = emulated.network_side(span)
        module = loop.modules[span]
        ours = loop.originate(CallOptions("13700000003"), span=span)
        cic = module.point.call_circuit(ours.call) if hasattr(ours, "call") else None
        cic = cic or next(c for c, s in module.state()["circuits"].items()
                          if s["state"].startswith("in call"))
        side.originate("80001235", "13912345679", cic=cic)
        loop.run(lambda: ours.ended and all(leg.ended for leg in offered), max_seconds=60)
        result = ours.result()
        assert result["outcome"] in ("busy", "congestion"), result["events"]
        loop.run(lambda: all(s["state"].startswith("idle")
                             for s in module.state()["circuits"].values()), max_seconds=60)


def test_a_link_lost_mid_call_clears_the_call_and_the_linkset_recovers(emulated):
    span = ss7_span(emulated)
    links: list[ev.LinkState] = []
    with LineLoop(emulated, zone=CN, spans=[span],
                  listener=lambda leg, e: links.append(e)
                  if isinstance(e, ev.LinkState) else None) as loop:
        ready(loop, span)
        module = loop.modules[span]
        leg = loop.originate(CallOptions("13600000006", ring_timeout=60.0), span=span)
        loop.run(lambda: any(e["event"] == "alerting" for e in leg.result()["events"]),
                 max_seconds=10)
        emulated.simulate_alarm(span, "red")
        loop.run(lambda: leg.ended, max_seconds=10)
        result = leg.result()
        # Q.850 38 network out of order, the outcome PRI gives it (the number was not
        # reached: the dialer tries it again).
        assert (result["outcome"], result["cause"]) == ("congestion", 38), result["events"]
        assert not module.can_place(None)  # circuits are avoided while the link is down
        assert links and links[-1].up is False
        emulated.simulate_alarm(span, "red", on=False)
        ready(loop, span)  # realigned (Q.703 proving), restarted (Q.704 9), circuits reset
        assert links[-1].up is True
        again = loop.originate(CallOptions("13700000006"), span=span)
        loop.run(lambda: again.ended, max_seconds=30)
    assert again.result()["outcome"] == "busy"


def test_circuits_blocked_by_the_exchange_are_avoided(emulated):
    span = ss7_span(emulated)
    with LineLoop(emulated, zone=CN, spans=[span]) as loop:
        ready(loop, span)
        side = emulated.network_side(span)
        module = loop.modules[span]
        circuits = sorted(module.state()["circuits"])
        for cic in circuits[1:]:
            side.block(cic)
        loop.run(lambda: sum(s["state"] == "blocked by the far end"
                             for s in module.state()["circuits"].values())
                 == len(circuits) - 1, max_seconds=10)
        leg = loop.originate(CallOptions("13700000007"), span=span)
        assert module.state()["circuits"][circuits[0]]["state"].startswith("in call")
        loop.run(lambda: leg.ended, max_seconds=30)
        side.block(circuits[0])
        loop.run(lambda: not module.can_place(None), max_seconds=10)
        for cic in circuits:
            side.unblock(cic)
        loop.run(lambda: module.can_place(None), max_seconds=10)
    assert leg.result()["outcome"] == "busy"
