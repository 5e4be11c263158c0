"""A campaign's settings are validated when built, naming the campaign and the value."""

from __future__ import annotations

import pytest

from trunkline.dialer.pacing.campaign import (
    REGULATED_ABANDON_AFTER,
    REGULATED_MIN_RING,
    CampaignConfig,
)
from trunkline.dialer.vocab import AbandonRoute, Mode, Regime


def test_words_become_the_vocabulary_and_the_cap_follows_the_regime() -> None:
    config = CampaignConfig("sales", mode="power", regime="uk", abandon_route="message",
                            ratio=1.5)
    assert (config.mode, config.regime, config.abandon_route) == \
        (Mode.POWER, Regime.UK, AbandonRoute.MESSAGE)
    assert config.cap == 0.03
    assert CampaignConfig("c", regime="cn", target_abandon=0.2, ring_timeout=5,
                          abandon_after=30).cap is None


@pytest.mark.parametrize(("changes", "message"), [
    ({"name": ""}, "a campaign needs a name"),
    ({"mode": "turbo"}, "'turbo' is not a valid Mode"),
    ({"ratio": 0.5}, r"campaign 'c': ratio must be in \[1, 10\], got 0.5"),
    ({"mode": "progressive", "ratio": 1.5}, "a progressive ratio is a whole number"),
    ({"target_abandon": 0.05}, "target_abandon 0.05 is above the us cap of 0.03"),
    ({"target_abandon": 0.0}, r"target_abandon must be in \(0, 1\)"),
    ({"ring_timeout": REGULATED_MIN_RING - 1}, "ring_timeout must be at least 15.0 s"),
    ({"abandon_after": REGULATED_ABANDON_AFTER + 1}, r"abandon_after must be in \[0, 2.0\]"),
    ({"abandon_route": "campaign"}, "abandon_target goes with abandon_route 'campaign'"),
    ({"abandon_route": "campaign", "abandon_target": "c"}, "cannot route abandoned calls "
                                                           "to itself"),
    ({"max_lines_per_agent": 30}, "max_lines_per_agent must be in"),
    ({"pace_interval": 0.01}, "pace_interval must be in"),
    ({"precise_target": 0.5}, "precise_target must be in"),
    ({"preview_timeout": 0}, r"preview_timeout must be in \(0, 3600\] s, got 0"),
    ({"amd_false_positive_rate": 1.0}, "amd_false_positive_rate must be in"),
    ({"vicidial_max_level": 0.5}, r"vicidial_max_level must be in \[1, 20\], got 0.5"),
    ({"vicidial_drop_action": "drop"}, "vicidial_drop_action is 'average' or 'hard_limit'"),
    ({"ring_timeout": float("inf")}, "ring_timeout must be a finite number, got inf"),
    ({"target_abandon": float("nan")}, "target_abandon must be a finite number, got nan"),
    ({"pace_interval": "1"}, "pace_interval must be a finite number, got '1'"),
    ({"regime": "cn", "ring_timeout": 601}, r"ring_timeout must be in \(0, 600\] s"),
])
def test_bad_settings_are_refused(changes: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        CampaignConfig(**{"name": "c", **changes})
