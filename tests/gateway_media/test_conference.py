"""The three-way conference on the emulated card, proved by tone: three agent phones in
one conference; a key pressed on one phone is heard (its two DTMF frequencies, ITU-T
Q.23) on the two others and not on itself; a member that leaves hears nothing more, and
the two left go on hearing each other; a conference left with one call ends."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pytest

from trunkline.clock import VirtualClock
from trunkline.drivers.dsp.zones import load_zone
from trunkline.drivers.registry import open_card
from trunkline.errors import CallStateError, InvalidRequest, NotFound
from trunkline.gateway.media.channels import resolve_groups
from trunkline.gateway.media.engine import MediaEngine

#: Q.23: the key 5 is 770 Hz + 1336 Hz; 9 is 852 Hz + 1477 Hz.
KEYS = {"5": (770.0, 1336.0), "9": (852.0, 1477.0)}


@pytest.fixture
def engine() -> Iterator[MediaEngine]:
    card = open_card("emulated", clock=VirtualClock())
    groups = resolve_groups(card, {"outbound": ["fxo"], "pri": ["pri"], "agents": ["fxs"]})
    engine = MediaEngine(card, card.clock, zone=load_zone("cn"), groups=groups)
    try:
        yield engine
    finally:
        engine.close()
        card.close()


def ticks(engine: MediaEngine, seconds: float) -> None:
    end = engine.clock.now() + seconds
    while engine.clock.now() < end - 1e-9:
        engine.tick()


def phones(engine: MediaEngine, n: int) -> list[int]:
    """``n`` agent phones, answered."""
    calls = [engine.originate(f"position {i}", group="agents")["call"] for i in range(n)]
    ticks(engine, 8.0)
    assert all(engine.call(c).state == "answered" for c in calls)
    return calls


def tone_level(engine: MediaEngine, call: int, freq: float, seconds: float = 0.5) -> float:
    """The share of what the phone of ``call`` heard in its last ``seconds`` that is at
    ``freq`` (a single-bin DFT, Goertzel's measure, over the window)."""
    heard = engine.card.phone(engine.call(call).channel).heard[-int(8000 * seconds):]
    x = heard.astype(np.float64)
    if not x.any():
        return 0.0
    t = np.arange(x.size) / 8000.0
    bin_power = abs(np.dot(x, np.exp(-2j * np.pi * freq * t))) ** 2 / x.size
    return float(bin_power / np.dot(x, x))


def hears_key(engine: MediaEngine, call: int, key: str) -> bool:
    low, high = KEYS[key]
    return tone_level(engine, call, low) > 0.1 and tone_level(engine, call, high) > 0.1


def press(engine: MediaEngine, call: int, key: str) -> None:
    engine.card.phone(engine.call(call).channel).press(key, on_ms=400, off_ms=10)
    ticks(engine, 0.4)


def test_three_phones_hear_each_other_and_not_themselves(engine: MediaEngine) -> None:
    a, b, c = phones(engine, 3)
    engine.bridge(a, b)
    reply = engine.conference([a, b, c])
    assert reply == {"conference": 1, "calls": [a, b, c]}
    assert engine.call(a).bridged_to is None                   # the bridge gave way
    press(engine, a, "5")
    assert hears_key(engine, b, "5") and hears_key(engine, c, "5")
    assert not hears_key(engine, a, "5")
    press(engine, c, "9")
    assert hears_key(engine, a, "9") and hears_key(engine, b, "9")
    # b leaves: it hears nothing more, a and c still hear each other
    assert engine.leave_conference(b) == {"conference": 1, "left": b}
    press(engine, a, "5")
    assert hears_key(engine, c, "5") and not hears_key(engine, b, "5")
    # c hangs up: a is alone, and out of the conference
    engine.hangup(c)
    ticks(engine, 0.2)
    assert engine.call(a).conference is None


def test_conference_refusals(engine: MediaEngine) -> None:
    a, b, c = phones(engine, 3)
    with pytest.raises(InvalidRequest, match="at least two"):
        engine.conference([a])
    with pytest.raises(InvalidRequest, match="listed twice"):
        engine.conference([a, a])
    engine.bridge(a, b)
    with pytest.raises(CallStateError, match=f"call {a} is bridged to {b}, which is not"):
        engine.conference([a, c])
    with pytest.raises(NotFound, match="no conference 5"):
        engine.conference([c], 5)
    number = engine.conference([a, b])["conference"]
    with pytest.raises(CallStateError, match=f"call {a} is in conference {number}"):
        engine.bridge(a, c)
    assert engine.conference([c], number)["calls"] == [a, b, c]
    with pytest.raises(CallStateError, match=f"call {c} is in conference"):
        engine.conference([c, a])
    with pytest.raises(CallStateError, match="not in a conference"):
        engine.leave_conference(engine.originate("position 9", group="agents")["call"])
