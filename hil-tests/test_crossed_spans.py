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
