"""Polarity reversals on DAHDI carry no value: the backend keeps the line's polarity as
sig_analog does, with its debounce (polarityonanswerdelay)."""

from __future__ import annotations

from dahdi_helpers import sim_card

from trunkline.drivers.backends.dahdi.card import POLARITY_DELAY
from trunkline.drivers.model import EventKind

FXO = 32


def _frames(card, seconds):
    events = []
    for _ in range(round(seconds / 0.02)):
        card.read_frames()
        events += card.poll_events()
    return [(e.kind, e.value) for e in events if e.kind is EventKind.POLARITY]


def test_answer_then_clear_are_reported_as_polarity_levels():
    card, kernel = sim_card()
    with card:
        card.open(FXO)
        card.hook(FXO, "offhook")
        kernel.reverse_polarity(FXO)  # a glitch as the line is seized: too soon
        assert _frames(card, 0.1) == []
        _frames(card, POLARITY_DELAY + 0.2)
        kernel.reverse_polarity(FXO)  # the far end answers
        assert _frames(card, 0.1) == [(EventKind.POLARITY, 1)]
        kernel.reverse_polarity(FXO)  # a bounce right after the answer: ignored
        assert _frames(card, 0.1) == []
        _frames(card, POLARITY_DELAY + 0.2)
        kernel.reverse_polarity(FXO)  # the far end clears
        assert _frames(card, 0.1) == [(EventKind.POLARITY, 0)]
        assert card.stats["polarity_ignored"] == 2


def test_a_new_seizure_starts_from_idle_polarity():
    card, kernel = sim_card()
    with card:
        card.open(FXO)
        card.hook(FXO, "offhook")
        _frames(card, POLARITY_DELAY + 0.2)
        kernel.reverse_polarity(FXO)
        assert _frames(card, 0.1) == [(EventKind.POLARITY, 1)]
        card.hook(FXO, "onhook")
        card.hook(FXO, "offhook")  # the next call: an answer is a reversal again
        _frames(card, POLARITY_DELAY + 0.2)
        kernel.reverse_polarity(FXO)
        assert _frames(card, 0.1) == [(EventKind.POLARITY, 1)]
