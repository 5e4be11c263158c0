"""A reader later than the card's buffers loses frames on every backend, and the card
names each open channel whose audio had that gap, once (CardABC.take_audio_gaps): AMD
must know it did not hear everything (docs/detector.md, "Lost audio")."""

from __future__ import annotations

import numpy as np
import pytest

from trunkline.clock import VirtualClock


def test_a_late_read_names_each_open_channel_once(card, backend):
    if backend == "dahdi":
        pytest.skip("a real board's clock is real time: no stall can be made on it")
    clock = card.clock
    assert isinstance(clock, VirtualClock)
    chans = next(s.channels[:2] for s in card.spans
                 if s.channels and not card.span_status(s.number).alarms)
    card.open(chans)
    for _ in range(5):
        card.write_frames(np.zeros_like(card.read_frames()))
    assert card.take_audio_gaps() == frozenset()
    clock.sleep_until(clock.now() + 0.5)  # the tick stalled half a second
    for _ in range(3):
        card.write_frames(np.zeros_like(card.read_frames()))
    assert card.take_audio_gaps() == frozenset(chans)
    assert card.overruns >= 1
    for _ in range(3):
        card.write_frames(np.zeros_like(card.read_frames()))
    assert card.take_audio_gaps() == frozenset()  # in time again: no gap
    card.close_channel(chans)
