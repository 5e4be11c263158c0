"""The detector's events are exactly those of the golden file (issue 15, item 6).

The golden file was written by ``detector_golden_kit.py`` at the commit before the
per-tick speed work; any change of an event, its time or its order fails here. Inputs:
the recorded campaign trace and a 14-channel mix of real recordings and synthetic
tones (see the kit).
"""

from __future__ import annotations

import json

import pytest
from detector_golden_kit import GOLDEN, REAL_AUDIO, mixed_events, trace_events


def _golden() -> dict:
    return json.loads(GOLDEN.read_text())


def test_the_recorded_campaign_trace_gives_the_golden_events():
    assert trace_events() == _golden()["trace"]


def test_real_recordings_and_synthetic_tones_give_the_golden_events():
    if not REAL_AUDIO.is_dir():
        pytest.skip(f"real audio not found at {REAL_AUDIO}")
    want = _golden()["mixed"]
    got = mixed_events()
    assert len(want) > 50  # the mix exercises every kind of event it holds
    assert got == want
