"""Opening a card by URL with the common options; what the card knows of its lines."""

from __future__ import annotations

import pytest
from card_contract_kit import channels_of

from trunkline.clock import VirtualClock
from trunkline.drivers.backends.emulated.plan import NumberPlan, default_plan
from trunkline.drivers.dsp.zones import load_zone
from trunkline.drivers.model import LineOptions, SpanKind
from trunkline.errors import ChannelError, ConfigError

#: The tone zone each backend's default card reports: the emulated card's network has
#: one; a DAHDI card reports the kernel's default zone (the simulated machine's dahdi_cfg
#: loaded cn; a real machine's is whatever its system.conf loaded, or None).
TONE_ZONE = {"emulated": "cn", "dahdi:sim": "cn", "mobile": "cn"}


def test_the_card_keeps_the_clock_it_was_given(card_url, backend, open_cards):
    clock = VirtualClock(100.0)
    card = open_cards(card_url, clock=clock)
    if backend == "dahdi":
        assert card.clock is not clock  # a real board keeps real time
        return
    assert card.clock is clock
    card.read_frames()
    assert clock.now() == pytest.approx(100.02)


def test_seed_is_a_common_option(card_url, open_cards):
    card = open_cards(card_url, seed=7)
    assert card.spans


def test_a_network_needs_a_card_that_simulates_one(card_url, card, open_cards):
    plan = default_plan()
    if card.number_plan is None:
        with pytest.raises(ConfigError, match="number plan"):
            open_cards(card_url, network=plan)
        return
    assert isinstance(card.number_plan, NumberPlan)
    assert open_cards(card_url, network=plan).number_plan is plan


def test_number_plan_by_backend(card, backend):
    # mobile: its sample card's emulated modules; dahdi:sim: its analog ports' network
    if backend in ("emulated", "mobile") or getattr(card, "exchange_lines", False):
        assert isinstance(card.number_plan, NumberPlan)
    else:
        assert card.number_plan is None  # a card on real lines


def test_unknown_options_are_refused_by_name(card_url, open_cards):
    with pytest.raises(ConfigError, match="bogus_option"):
        open_cards(card_url, bogus_option=1)


def test_tone_zone(card, backend):
    if backend in TONE_ZONE:
        assert card.tone_zone == TONE_ZONE[backend]
    if card.tone_zone is not None:
        assert load_zone(card.tone_zone).tone("dial")


def test_line_options_default_and_set(card):
    fxo = channels_of(card, SpanKind.FXO)
    for number, info in card.channels.items():
        options = card.line_options(number)
        assert isinstance(options, LineOptions)
        if number not in fxo:
            assert options == LineOptions(), (number, info)  # nobody said otherwise
    first, second = fxo[0], fxo[1]
    before = card.line_options(second)
    for value in (True, False):
        card.set_line_options(first, LineOptions(answer_on_polarity=value))
        assert card.line_options(first) == LineOptions(answer_on_polarity=value)
    assert card.line_options(second) == before  # each line has its own


def test_line_options_of_an_unknown_channel(card):
    missing = max(card.channels) + 1
    with pytest.raises(ChannelError, match=f"no channel {missing}"):
        card.line_options(missing)
    with pytest.raises(ChannelError, match=f"no channel {missing}"):
        card.set_line_options(missing, LineOptions())


def test_overruns_start_at_zero(card):
    assert card.overruns == 0
    card.read_frames()
    assert card.overruns == 0
