"""Our signalling against itself over crossover cables: an MFC/R2 call from one E1 span
to another, and an SS7 call from one linkset to another, through the line loop.

On ``--card dahdi:sim`` these run on the bundled crossed system
(firmware-profiles/systems/crossed.toml: spans 1-2 MFC/R2 China No.1, spans 3-4 SS7
linksets "east", point 2 facing 1, and "west", point 1 facing 2), so the DAHDI backend's
own CAS bits, audio and MTP2 links carry them; ``--card dahdi:sim=crossed`` (or any
simulated system with such cables) runs them on that card itself. The emulated card's
spans face its network, so with ``--card emulated`` (the default, and CI) they run on
the bundled crossed system too:
the DAHDI backend and the simulated kernel carry R2 and SS7 in every test run. Whether
a board's spans are cabled to each other cannot be asked, so they skip on boards.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from trunkline.clock import VirtualClock
from trunkline.drivers.card import CardABC
from trunkline.drivers.dsp.zones import load_zone
from trunkline.drivers.lineloop import LineLoop
from trunkline.drivers.model import SpanSignalling
from trunkline.drivers.registry import open_card
from trunkline.drivers.signalling import events as ev
from trunkline.drivers.signalling.base import InboundPolicy
from trunkline.drivers.signalling.leg import CallOptions, Leg


@pytest.fixture
def crossed(card: CardABC, card_url: str) -> Iterator[CardABC]:
    """A simulated card with R2 spans and SS7 linksets cabled to each other: the card
    under test when it has them, else the bundled crossed system."""
    if card_url.split(":", 1)[0] == "dahdi" and not card_url.startswith("dahdi:sim"):
        pytest.skip("needs spans cabled to each other: a simulated DAHDI kernel")
    if card_url.startswith("dahdi:sim") and _cabled(card, SpanSignalling.CAS) \
            and _cabled(card, SpanSignalling.SS7):
        yield card
        return
    with open_card("dahdi:sim=crossed", clock=VirtualClock()) as sim:
        yield sim


def _cabled(card: CardABC, signalling: SpanSignalling) -> tuple[int, int] | None:
    """Two model spans of ``signalling``, with a protocol, joined by a simulated cable."""
    peers = card.device.cross.peer  # type: ignore[attr-defined]
    spans = {card.dahdi_span(s.number): s.number  # type: ignore[attr-defined]
             for s in card.spans if s.signalling is signalling and s.protocol}
    for dahdi, model in sorted(spans.items()):
        if peers.get(dahdi) in spans:
            return model, spans[peers[dahdi]]
    return None


class Answering:
    """The loop's listener: answers every call offered, keeps what each leg reports."""

    def __init__(self) -> None:
        self.loop: LineLoop | None = None
        self.heard: list[tuple[Leg | None, Any]] = []

    def __call__(self, leg: Leg | None, event: Any) -> None:
        self.heard.append((leg, event))
        if leg is not None and isinstance(event, ev.Offered) and self.loop is not None:
            self.loop.answer(leg)

    def inbound(self) -> list[Leg]:
        return list(dict.fromkeys(leg for leg, e in self.heard
                                  if leg is not None and isinstance(e, ev.Offered)))


def call(card: CardABC, out_span: int, in_span: int, *, link_up: bool = False
         ) -> tuple[Leg, Answering]:
    """Place 13800000001 on ``out_span``, answered on ``in_span``; held 1 s, then ours
    hangs up. Returns the outbound leg once both legs have ended."""
    listener = Answering()
    with LineLoop(card, zone=load_zone("cn"), listener=listener, spans=[out_span, in_span],
                  inbound=InboundPolicy(timeout=30.0)) as loop:
        listener.loop = loop
        if link_up:
            loop.run(lambda: loop.module(out_span).can_place(None), max_seconds=60)
            assert loop.module(out_span).can_place(None), "the linkset never came up"
        leg = loop.originate(CallOptions("13800000001", calling="80001", hold=1.0,
                                         amd=False), span=out_span)
        loop.run(lambda: leg.ended, max_seconds=60)
        loop.run(lambda: not loop.legs, max_seconds=10)
    return leg, listener


def test_an_r2_call_crosses_from_one_span_to_the_other(crossed):
    cable = _cabled(crossed, SpanSignalling.CAS)
    assert cable is not None
    out_span, in_span = cable
    leg, listener = call(crossed, out_span, in_span)
    result = leg.result()
    assert result["outcome"] == "human", result["events"]
    (inbound,) = listener.inbound()
    assert crossed.channel(inbound.channel).span == in_span
    assert crossed.channel(inbound.channel).timeslot == crossed.channel(leg.channel).timeslot
    offered = next(e for lg, e in listener.heard if lg is inbound and isinstance(e, ev.Offered))
    assert (offered.called, offered.calling) == ("13800000001", "80001")  # MF both ways
    ended = [e for lg, e in listener.heard if isinstance(e, ev.HungUp)]
    assert [e.by for e in ended] == ["far_end", "near_end"]  # one HungUp per leg


def test_an_ss7_call_crosses_from_one_linkset_to_the_other(crossed):
    cable = _cabled(crossed, SpanSignalling.SS7)
    assert cable is not None
    out_span, in_span = cable
    assert crossed.span(out_span).protocol != crossed.span(in_span).protocol
    leg, listener = call(crossed, out_span, in_span, link_up=True)
    result = leg.result()
    assert (result["outcome"], result["cause"]) == ("human", 16), result["events"]
    (inbound,) = listener.inbound()
    assert crossed.channel(inbound.channel).span == in_span
    messages = [e["message"] for e in result["events"] if e["event"] == "isup"]
    assert messages == ["IAM", "ACM", "ANM", "REL", "RLC"]
    links = [e for lg, e in listener.heard if lg is None and isinstance(e, ev.LinkState)]
    assert {(e.span, e.up) for e in links} >= {(out_span, True), (in_span, True)}


# -- faults over the cable --------------------------------------------------------------

def _loop(card: CardABC, spans: list[int], listener: Answering | None = None,
          timeout: float = 30.0) -> LineLoop:
    loop = LineLoop(card, zone=load_zone("cn"), spans=spans, listener=listener,
                    inbound=InboundPolicy(timeout=timeout))
    if listener is not None:
        listener.loop = loop
    return loop


def _peer_channel(card: CardABC, channel: int, span: int) -> int:
    timeslot = card.channel(channel).timeslot
    return next(c for c in card.span(span).channels if card.channel(c).timeslot == timeslot)


def test_r2_glare_both_ends_seize_one_circuit(crossed):
    """Both spans seize the same timeslot in the same frame (Q.422 3.2.7 double
    seizure): both calls give way as congestion, cause 44, and the circuit works after."""
    out_span, in_span = _cabled(crossed, SpanSignalling.CAS)
    listener = Answering()
    with _loop(crossed, [out_span, in_span], listener) as loop:
        loop.tick()
        a = crossed.span(out_span).channels[4]
        b = _peer_channel(crossed, a, in_span)
        ours = loop.originate(CallOptions("13800000001", hold=0.5), span=out_span, channel=a)
        theirs = loop.originate(CallOptions("13800000002", hold=0.5), span=in_span,
                                channel=b)
        loop.run(lambda: ours.ended and theirs.ended, max_seconds=30)
        for leg in (ours, theirs):
            result = leg.result()
            assert (result["outcome"], result["cause"]) == ("congestion", 44), result
        loop.run(lambda: loop.module(out_span).can_place(a)
                 and loop.module(in_span).can_place(b), max_seconds=30)
        again = loop.originate(CallOptions("13800000003", hold=0.5, amd=False),
                               span=out_span, channel=a)
        loop.run(lambda: again.ended, max_seconds=60)
    assert again.result()["outcome"] == "human"


def test_r2_far_end_that_stops_answering_the_compelled_sequence(crossed):
    """The far end acknowledges the seizure (ABCD by hand) and then says nothing: our
    register gives up (Q.476), the call ends with cause 102 and clears forward."""
    out_span, in_span = _cabled(crossed, SpanSignalling.CAS)
    with _loop(crossed, [out_span]) as loop:
        channel = crossed.span(out_span).channels[0]
        far = _peer_channel(crossed, channel, in_span)
        crossed.open(far)
        try:
            leg = loop.originate(CallOptions("13800000001"), span=out_span, channel=channel)
            loop.run(lambda: crossed.cas_bits(far) >> 2 == 0b00, max_seconds=2)  # seizing
            crossed.set_cas_bits(far, 0b1111)  # China No.1: seizure acknowledged
            loop.run(lambda: leg.ended, max_seconds=120)
            result = leg.result()
            assert (result["outcome"], result["cause"]) == ("error", 102), result["events"]
            assert crossed.cas_bits(far) >> 2 == 0b10  # clear-forward
            crossed.set_cas_bits(far, 0b1011)  # release guard, then idle
            loop.run(lambda: loop.module(out_span).can_place(channel), max_seconds=10)
        finally:
            crossed.close_channel(far)


def test_r2_circuits_blocked_by_the_far_end_are_avoided(crossed):
    out_span, in_span = _cabled(crossed, SpanSignalling.CAS)
    listener = Answering()
    with _loop(crossed, [out_span, in_span], listener) as loop:
        loop.tick()
        module, far_module = loop.module(out_span), loop.module(in_span)
        top = max(crossed.span(out_span).channels)
        far = _peer_channel(crossed, top, in_span)
        assert far_module.block_circuit(loop.clock.now(), far, True)
        loop.run(lambda: not module.can_place(top), max_seconds=2)
        assert module.r2.hunt() != top  # type: ignore[attr-defined]
        leg = loop.originate(CallOptions("13800000001", hold=0.5, amd=False), span=out_span)
        assert leg.channel != top
        loop.run(lambda: leg.ended, max_seconds=60)
        far_module.block_circuit(loop.clock.now(), far, False)
        loop.run(lambda: module.can_place(top), max_seconds=2)
    assert leg.result()["outcome"] == "human"


def test_ss7_link_lost_mid_call_clears_it_and_the_linkset_recovers(crossed):
    out_span, in_span = _cabled(crossed, SpanSignalling.SS7)
    listener = Answering()
    with _loop(crossed, [out_span, in_span], listener) as loop:
        module = loop.module(out_span)
        loop.run(lambda: module.can_place(None), max_seconds=60)
        leg = loop.originate(CallOptions("13800000001", amd=False), span=out_span)
        loop.run(lambda: leg.result()["answered_by"] is not None, max_seconds=10)
        kernel = crossed.device  # type: ignore[attr-defined]
        dahdi_span = crossed.dahdi_span(out_span)  # type: ignore[attr-defined]
        kernel.inject("alarm", span=dahdi_span, alarm="red")
        loop.run(lambda: leg.ended and all(g.ended for g in listener.inbound()),
                 max_seconds=30)
        result = leg.result()
        assert result["cause"] == 38, result["events"]
        assert not module.can_place(None)
        kernel.inject("alarm", span=dahdi_span, alarm="none")
        loop.run(lambda: module.can_place(None), max_seconds=60)
        again = loop.originate(CallOptions("13800000002", hold=0.5, amd=False),
                               span=out_span)
        loop.run(lambda: again.ended, max_seconds=60)
    assert again.result()["outcome"] == "human"


def test_ss7_circuits_blocked_by_the_far_end_are_avoided(crossed):
    out_span, in_span = _cabled(crossed, SpanSignalling.SS7)
    listener = Answering()
    with _loop(crossed, [out_span, in_span], listener) as loop:
        module, far_module = loop.module(out_span), loop.module(in_span)
        loop.run(lambda: module.can_place(None) and far_module.can_place(None),
                 max_seconds=60)
        far_channels = crossed.span(in_span).channels
        for channel in far_channels[1:]:
            far_module.block_circuit(loop.clock.now(), channel, True)
        loop.run(lambda: sum(s["state"] == "blocked by the far end" for s in
                             module.state()["circuits"].values()) == len(far_channels) - 1,
                 max_seconds=10)
        leg = loop.originate(CallOptions("13800000001", hold=0.5, amd=False), span=out_span)
        assert leg.channel is not None
        assert crossed.channel(leg.channel).timeslot == crossed.channel(far_channels[0]).timeslot
        loop.run(lambda: leg.ended, max_seconds=60)
        for channel in far_channels[1:]:
            far_module.block_circuit(loop.clock.now(), channel, False)
        loop.run(lambda: all(s["state"] == "idle"
                             for s in module.state()["circuits"].values()), max_seconds=10)
    assert leg.result()["outcome"] == "human"
