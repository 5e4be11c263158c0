"""A DAHDI channel whose receive buffers overran (DAHDI_EVENT_READ_OVERRUN: the kernel
kept the oldest blocks and dropped the rest, dahdi-base.c __putbuf_chunk) is named by
take_audio_gaps, once, so that AMD knows it did not hear everything."""

from __future__ import annotations

import numpy as np
from dahdi_helpers import sim_card


def test_a_late_read_names_each_overrun_channel_once() -> None:
    card, kernel = sim_card()
    with card:
        card.open([1, 2])
        silence = np.zeros((2, 160), np.int16)
        for _ in range(5):
            card.read_frames()
            card.write_frames(silence)
        assert card.take_audio_gaps() == frozenset()  # in time
        kernel.clock.sleep_until(kernel.clock.now() + 0.5)  # we stalled for 500 ms
        card.read_frames()
        assert card.take_audio_gaps() == frozenset({1, 2})
        card.read_frames()
        assert card.take_audio_gaps() == frozenset()  # one overrun, reported once
