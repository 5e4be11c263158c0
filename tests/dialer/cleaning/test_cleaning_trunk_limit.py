"""Cleaning is paced per trunk: at most N call attempts a minute, at least a gap apart
(issue 15, item 3: carriers flag ring-and-release bursts)."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given
from hypothesis import strategies as st

from trunkline.dialer.cleaning.settings import CleaningSettings
from trunkline.dialer.cleaning.trunk_limit import WINDOW, TrunkLimiter


def test_the_gap_and_the_minute() -> None:
    limiter = TrunkLimiter(per_minute=3, min_gap=2.0)
    assert limiter.next_allowed("pri", 0.0) == 0.0
    limiter.record("pri", 0.0)
    assert limiter.next_allowed("pri", 0.5) == 2.0
    assert limiter.next_allowed("fxo", 0.5) == 0.5     # another trunk is its own
    limiter.record("pri", 2.0)
    limiter.record("pri", 4.0)
    # three in this minute: the next when the first leaves it
    assert limiter.next_allowed("pri", 6.0) == WINDOW
    assert limiter.attempts_in_window("pri", 6.0) == 3
    limiter.record("pri", WINDOW)
    assert limiter.next_allowed("pri", WINDOW) == 62.0


@given(st.integers(1, 8), st.floats(0.0, 5.0),
       st.lists(st.floats(0.0, 3.0), min_size=1, max_size=60))
def test_dialling_whenever_allowed_never_breaks_either_limit(
        per_minute: int, gap: float, waits: list[float]) -> None:
    """A caller that always asks first, whatever its timing, stays within both limits."""
    limiter = TrunkLimiter(per_minute=per_minute, min_gap=gap)
    now, placed = 0.0, []
    for wait in waits:
        now = limiter.next_allowed("t", now + wait)
        limiter.record("t", now)
        placed.append(now)
    for a, b in itertools.pairwise(placed):
        assert b - a >= gap - 1e-9
    for i, t in enumerate(placed):
        # an attempt at u counts in the sliding minute until u + 60
        assert sum(1 for u in placed[:i + 1] if u + WINDOW > t) <= per_minute


@pytest.mark.parametrize(("field", "value", "message"), [
    ("trunk_per_minute", 0, r"trunk_per_minute must be a whole number in \[1, 6000\]"),
    ("trunk_per_minute", 2.5, r"trunk_per_minute must be a whole number in \[1, 6000\]"),
    ("trunk_per_minute", True, r"trunk_per_minute must be a whole number in \[1, 6000\]"),
    ("trunk_min_gap", -1.0, r"trunk_min_gap must be in \[0, 600\] s"),
    ("trunk_min_gap", float("nan"), r"trunk_min_gap must be in \[0, 600\] s"),
    ("trunk_min_gap", "1", r"trunk_min_gap must be in \[0, 600\] s"),
])
def test_bad_settings_are_named(field: str, value: object, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        CleaningSettings(**{field: value})  # type: ignore[arg-type]


def test_defaults_and_round_trip() -> None:
    s = CleaningSettings()
    assert (s.trunk_per_minute, s.trunk_min_gap) == (60, 0.0)
    assert CleaningSettings(**s.to_dict()) == s


def test_the_cleaning_runner_keeps_to_its_trunk_limits() -> None:
    """Ten lines at ten calls a second, held to 4 attempts a minute, 5 s apart."""
    from campaign_testkit import T0, open_store
    from scripted_gateway_kit import ScriptedGateway

    from trunkline.dialer.cleaning.runner import CleaningRunner
    from trunkline.dialer.cleaning.settings import create_cleaning_campaign

    settings = CleaningSettings(concurrency=10, rate=10.0, listen=5.0, retries=0,
                                trunk_per_minute=4, trunk_min_gap=5.0)
    store = open_store(contacts=6)
    create_cleaning_campaign(store, "sc", now=T0, source="sales", settings=settings)
    runner = CleaningRunner(store, "sc", ScriptedGateway(T0, []))
    runner.run(seconds=200)
    at = [t - T0 for name, _, t in runner.gateway.requests if name == "originate"]
    # 0, 5, 10, 15, then the minute is full until the first leaves it: 60, 65
    assert at == [0.0, 5.0, 10.0, 15.0, 60.0, 65.0]
