"""The public names of the MFC/R2 package stay what we mean them to be."""

from __future__ import annotations

import pytest

from trunkline.drivers.signalling import r2
from trunkline.drivers.signalling.events import CallEvent


def test_public_names() -> None:
    assert set(r2.__all__) == {
        "VARIANTS", "Behaviour", "Line", "R2InboundLeg", "R2Leg", "R2LineSignal", "R2Pair",
        "R2Signal", "R2Span", "R2Variant", "variant"}
    for name in r2.__all__:
        assert getattr(r2, name) is not None


def test_observation_events_are_call_events_with_their_own_names() -> None:
    assert issubclass(r2.R2Signal, CallEvent) and issubclass(r2.R2LineSignal, CallEvent)
    signal = r2.R2Signal(1.5, "backward", "B", 1, "subscriber free", sent=False)
    assert signal.observation(1.0) == {"t": 0.5, "event": "r2", "direction": "backward",
                                       "group": "B", "signal": 1,
                                       "meaning": "subscriber free", "sent": False}
    assert r2.R2LineSignal(2.0, "answered", 0b0101, sent=False).observation(0.0)["event"] \
        == "r2_line"


def test_observation_events_are_validated() -> None:
    with pytest.raises(ValueError, match="direction='sideways'"):
        r2.R2Signal(0.0, "sideways", "A", 1, "x", sent=True)
    with pytest.raises(ValueError, match="signal=16"):
        r2.R2Signal(0.0, "forward", "I", 16, "x", sent=True)
    with pytest.raises(ValueError, match="bits=16"):
        r2.R2LineSignal(0.0, "idle", 16, sent=True)
