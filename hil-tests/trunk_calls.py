"""What the digital-trunk suites share (a unique module name: never import from conftest).

``OUTCOMES`` is what each number of hil-tests/network.toml ends as on a trunk that
carries Q.850 causes (PRI, SS7 ISUP): the same table for both, since the same number
must give the same outcome whichever signalling carries it. ``Offers`` is a line loop
listener that keeps the calls offered to us; ``first_span`` finds the span to call on.
"""

from __future__ import annotations

from typing import Any

import pytest

from trunkline.drivers.model import SpanSignalling
from trunkline.drivers.signalling import events as ev
from trunkline.drivers.signalling.leg import Leg

#: (number, outcome, Q.850 cause) on PRI and SS7.
OUTCOMES = [
    ("13800000001", "human", 16),
    ("13900000001", "machine", 16),
    ("01050000001", "fax", 16),
    ("01060000001", "fax", 16),
    ("13700000001", "busy", 17),
    ("13500000001", "congestion", 34),
    ("13400000001", "unreachable", 20),
    ("13300000001", "unreachable", 27),
    ("13000000001", "invalid_number", 1),
]


def first_span(card: Any, signalling: SpanSignalling, name: str) -> int:
    """The card's first span of ``signalling``; the test is skipped without one."""
    spans = [s.number for s in card.spans if s.signalling is signalling]
    if not spans:
        pytest.skip(f"the card has no {name} span")
    return spans[0]


class Offers:
    """A line loop listener keeping (leg, Offered) for each call offered to us."""

    def __init__(self) -> None:
        self.offered: list[tuple[Leg, ev.Offered]] = []

    def __call__(self, leg: Leg | None, event: Any) -> None:
        if leg is not None and isinstance(event, ev.Offered):
            self.offered.append((leg, event))
