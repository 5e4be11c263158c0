"""A mobile card read too late (the modules' PCM piled up and the oldest was dropped)
names the open channels whose audio had a gap, once, so that AMD knows it did not hear
everything (docs/detector.md, "Lost audio")."""

from __future__ import annotations

import numpy as np

from trunkline.clock import VirtualClock
from trunkline.drivers.registry import open_card


def test_a_late_read_names_the_open_channels_once() -> None:
    clock = VirtualClock()
    card = open_card("mobile", clock=clock)
    try:
        card.open(1)
        for _ in range(3):
            card.write_frames(np.zeros_like(card.read_frames()))
        assert card.take_audio_gaps() == frozenset()
        clock.advance(0.5)  # the tick stalled
        card.read_frames()
        assert card.take_audio_gaps() == frozenset({1})
        card.read_frames()
        assert card.take_audio_gaps() == frozenset()
    finally:
        card.close()
