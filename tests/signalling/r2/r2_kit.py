"""Helpers for the MFC/R2 leg tests: what a leg reported, what it asked for."""

from __future__ import annotations

from typing import Any

from trunkline.drivers.signalling import events as ev
from trunkline.drivers.signalling.leg import Leg
from trunkline.drivers.signalling.r2.inbound import R2InboundLeg
from trunkline.drivers.signalling.r2.pair import End, R2Pair

NUMBER = "13800000001"
CALLING = "02087654321"


def hungups(leg: Leg) -> list[ev.HungUp]:
    return [e for e in leg.events if isinstance(e, ev.HungUp)]


def names(leg: Leg) -> list[str]:
    """The shared call events a leg reported, by name (no R2 observations)."""
    return [e.NAME for e in leg.events if not e.NAME.startswith("r2")]


def did(end: End, leg: Leg, kind: type) -> list[Any]:
    """The outputs of type ``kind`` ``leg`` returned on ``end``."""
    return [o for _, call, o in end.log if call == leg.id and isinstance(o, kind)]


def inbound(pair: R2Pair, side: str = "b") -> R2InboundLeg:
    legs = [leg for leg in pair.end(side).calls if isinstance(leg, R2InboundLeg)]
    assert legs, f"no inbound call on {side}"
    return legs[-1]


def run_until_offered(pair: R2Pair, side: str = "b", seconds: float = 60.0) -> R2InboundLeg:
    def offered() -> bool:
        return any(isinstance(leg, R2InboundLeg) and leg.state.value in ("offered", "ringing")
                   for leg in pair.end(side).calls)
    pair.run(seconds, until=offered)
    assert offered(), "no call was offered"
    return inbound(pair, side)
