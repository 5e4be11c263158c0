"""Caller ID on inbound FXO calls: the emulated exchange sends it after the first ring
(drivers/backends/emulated/lines.py), our port reads it on hook and the call is offered
with the caller's number (drivers/signalling/fxo.py, drivers/lineloop.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from trunkline.clock import VirtualClock
from trunkline.drivers.backends.emulated.card import EmulatedCard
from trunkline.drivers.backends.emulated.config import load_card_config
from trunkline.drivers.dsp.zones import load_zone
from trunkline.drivers.lineloop import LineLoop
from trunkline.drivers.model import LineOptions
from trunkline.drivers.signalling import events as ev
from trunkline.drivers.signalling.base import InboundPolicy
from trunkline.drivers.signalling.fxo import CALLER_ID_WAIT, FxoInboundLeg

CARD = """\
spec = "1.0"
zone = "cn"
seed = 3

[[span]]
kind = "fxo"
ports = 2
caller_id = "{standard}"

[[span.port]]
port = 2
caller_id = ""
"""


def _card(tmp_path: Path, standard: str) -> EmulatedCard:
    path = tmp_path / "card.toml"
    path.write_text(CARD.format(standard=standard))
    return EmulatedCard(load_card_config(path), clock=VirtualClock())


def _offer(card: EmulatedCard, channel: int, **ring: str) -> tuple[ev.Offered, float]:
    offers: list[tuple[ev.Offered, float]] = []

    def heard(leg, event) -> None:
        if isinstance(event, ev.Offered):
            offers.append((event, event.at - leg.started))

    with LineLoop(card, zone=load_zone("cn"), listener=heard,
                  inbound=InboundPolicy(timeout=1.0)) as loop:
        card.line(channel).ring_in(**ring)
        loop.run(lambda: bool(offers), max_seconds=10)
        (leg,) = loop.legs.values()
        assert isinstance(leg, FxoInboundLeg)
        loop.run(lambda: leg.ended, max_seconds=5)
    assert len(offers) == 1
    return offers[0]


@pytest.mark.parametrize("standard", ["bell202", "v23"])
def test_the_call_is_offered_with_the_callers_number(tmp_path: Path, standard: str) -> None:
    card = _card(tmp_path, standard)
    with card:
        first = card.spans[0].channels[0]
        assert card.line_options(first).caller_id == standard
        offered, after = _offer(card, first, caller="13800138000")
    assert offered.calling == "13800138000"
    # Read in the silence after the first ring (1 s), well before the second (5 s).
    assert 1.5 < after < 3.0


def test_a_private_caller_is_offered_when_the_message_says_so(tmp_path: Path) -> None:
    card = _card(tmp_path, "bell202")
    with card:
        offered, after = _offer(card, card.spans[0].channels[0])
    assert offered.calling == "" and after < 3.0


def test_a_line_without_caller_id_is_offered_at_the_first_ring(tmp_path: Path) -> None:
    card = _card(tmp_path, "bell202")
    with card:
        second = card.spans[0].channels[1]
        assert card.line_options(second).caller_id == ""
        offered, after = _offer(card, second, caller="13800138000")
    assert offered.calling == "" and after == 0.0


def test_no_message_offers_the_call_at_the_second_ring_or_the_wait(tmp_path: Path) -> None:
    # We expect caller ID (the installer said so) but the exchange sends none.
    card = _card(tmp_path, "bell202")
    with card:
        second = card.spans[0].channels[1]
        card.set_line_options(second, LineOptions(caller_id="bell202"))
        offered, after = _offer(card, second, caller="13800138000")
    assert offered.calling == "" and 4.9 <= after <= CALLER_ID_WAIT + 0.05


def test_line_options_refuse_an_unknown_standard() -> None:
    with pytest.raises(ValueError, match="caller_id='fsk'"):
        LineOptions(caller_id="fsk")
