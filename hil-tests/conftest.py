"""The hardware-in-the-loop suite: one suite for the emulated card (CI) and real boards.

``pytest hil-tests`` runs against ``--card emulated`` (the default); ``--card dahdi``
runs the same tests on a board, and ``--card dahdi:sim`` on the DAHDI backend over the
simulated kernel, both skipping those that need the emulated network behind the card
(a real line's far end cannot be told what to do); on dahdi:sim the analog call flows
run too, with the emulated network behind the simulated board's analog ports.
``--card mobile`` runs on the sample mobile card's emulated GSM/LTE modules
(test_mobile_calls.py runs on them in any case).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from trunkline.clock import VirtualClock
from trunkline.drivers.registry import open_card

HERE = Path(__file__).resolve().parent
PLAN = HERE / "network.toml"


@pytest.fixture
def card_url(request) -> str:
    return request.config.getoption("--card")


@pytest.fixture
def card(card_url):
    """The card under test; fails the test if it leaves a channel open."""
    options = {}
    if card_url.split(":", 1)[0] in ("emulated", "mobile"):  # mobile: emulated modules
        options = {"clock": VirtualClock(), "network": PLAN}
    elif card_url == "dahdi:sim":  # the sample board's analog lines: the same plan
        options = {"network": PLAN}
    card = open_card(card_url, **options)
    try:
        yield card
        leaked = card.open_channels
        assert not leaked, f"the test left channels open: {leaked}"
    finally:
        card.close()


@pytest.fixture
def emulated(card):
    """The emulated card, whose network the test controls; skipped on real boards (and
    on dahdi:sim, whose simulated network is behind its analog ports only)."""
    if card.number_plan is None or getattr(card, "exchange_lines", False):
        pytest.skip("needs the emulated network behind the card")
    if card.backend == "mobile":  # its emulated modules have test_mobile_calls.py
        pytest.skip("needs the emulated card's lines and spans")
    return card


@pytest.fixture
def trunks(card):
    """A card with the emulated network behind at least one PRI span (the emulated
    card, or dahdi:sim's TE4/0/2); skipped on real boards."""
    if card.number_plan is None:
        pytest.skip("needs the emulated network behind a span")
    return card


@pytest.fixture
def lines(card):
    """A card whose analog lines and phones the test controls: the emulated card, or
    the DAHDI backend on the simulated kernel with the emulated network behind its
    analog ports (``--card dahdi:sim``); skipped on real boards."""
    if card.number_plan is None:
        pytest.skip("needs the emulated network behind the analog ports")
    return card

