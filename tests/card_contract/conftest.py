"""The card contract (drivers/card.py), run against every backend.

As python-can's ``back2back_test`` runs one suite over every bus, each test here runs
once per backend URL: the emulated card, the DAHDI backend on the simulated kernel
(``dahdi:sim``) and, on a machine with a board, the DAHDI backend on the real kernel
(``dahdi``, marked ``hardware``; skipped where no board is found).

Every card is opened as the layers above open it, with
``open_card(url, clock=VirtualClock())``, and only its public interface is used. The
one exception is the far end of a line (card_contract_kit.FarEnd): what the exchange
or a phone does is outside the contract, so each simulated backend says how its far
end is told; a real line's far end cannot be told, and tests that need it skip on
real boards.

An autouse fixture fails any test that leaves a channel open on a card it opened.
Where backends legitimately differ, the tests say what each one does, by name.
"""

from __future__ import annotations

import pytest
from card_contract_kit import BACKENDS, CAS_BACKENDS, FarEnd, backend_of, far_end_of

from trunkline.clock import VirtualClock
from trunkline.drivers.card import CardABC
from trunkline.drivers.registry import open_card
from trunkline.errors import CardNotFound

_CALL_FAILED = pytest.StashKey[bool]()


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    report = yield
    if report.when == "call":
        item.stash[_CALL_FAILED] = not report.passed  # failed, xfailed or skipped
    return report


class CardOpener:
    """Opens the cards of one test, on a virtual clock unless told otherwise."""

    def __init__(self) -> None:
        self.cards: list[CardABC] = []

    def __call__(self, url: str, **options) -> CardABC:
        options.setdefault("clock", VirtualClock())
        try:
            card = open_card(url, **options)
        except CardNotFound:
            if backend_of(url) == "dahdi":
                pytest.skip("no DAHDI board on this machine")
            raise
        self.cards.append(card)
        return card


@pytest.fixture(autouse=True)
def open_cards(request):
    """Every card a test opens goes through this; when the test ends, a channel left
    open fails it (unless it failed already: one failure is enough), then the cards are
    closed."""
    opener = CardOpener()
    yield opener
    leaked = {card.name: card.open_channels for card in opener.cards if card.open_channels}
    for card in opener.cards:
        card.close()
    if not request.node.stash.get(_CALL_FAILED, False):
        assert not leaked, f"the test left channels open: {leaked}"


@pytest.fixture(params=BACKENDS)
def card_url(request) -> str:
    return request.param


@pytest.fixture
def backend(card_url) -> str:
    """``emulated``, ``dahdi:sim`` or ``dahdi``."""
    return backend_of(card_url)


@pytest.fixture
def card(card_url, open_cards) -> CardABC:
    """A fresh card of the backend under test, on a virtual clock starting at 0."""
    return open_cards(card_url)


@pytest.fixture(params=CAS_BACKENDS)
def cas_url(request) -> str:
    return request.param


@pytest.fixture
def cas_card(cas_url, open_cards) -> CardABC:
    """A card with an E1 CAS span (a real board without one skips)."""
    card = open_cards(cas_url)
    if not any(c.signalling.value == "cas" for c in card.channels.values()):
        pytest.skip("this board has no CAS span")
    return card


@pytest.fixture
def far_end(card, backend) -> FarEnd:
    return far_end_of(card, backend)


@pytest.fixture
def cas_far_end(cas_card, cas_url) -> FarEnd:
    return far_end_of(cas_card, backend_of(cas_url))
