"""What the engine tells the supervisor's floor about its pacing (engine.pacing): the
predictive pacer's risk limit per dial, which a new target replaces at once, and the
ratio of progressive and power modes; nothing for preview."""

from __future__ import annotations

import dataclasses

import pytest

from trunkline.dialer.pacing.campaign import CampaignConfig
from trunkline.dialer.pacing.contacts import ContactQueue
from trunkline.dialer.pacing.engine import Engine, quiet_logger
from trunkline.dialer.vocab import Mode


def _engine(**config: object) -> tuple[Engine, CampaignConfig]:
    campaign = CampaignConfig("loans", **config)  # type: ignore[arg-type]
    return Engine([campaign], ContactQueue([]), log=quiet_logger()), campaign


def test_predictive_shows_its_risk_limit_and_a_new_target_replaces_it() -> None:
    engine, config = _engine(mode=Mode.PREDICTIVE, target_abandon=0.03)
    kind, value = engine.pacing("loans")
    assert kind == "risk" and value == pytest.approx(0.03)
    engine.reconfigure(dataclasses.replace(config, target_abandon=0.02))
    assert engine.pacing("loans") == ("risk", pytest.approx(0.02))


@pytest.mark.parametrize(("mode", "ratio", "shown"), [
    (Mode.PROGRESSIVE, 1.0, ("ratio", 1.0)), (Mode.POWER, 1.5, ("ratio", 1.5)),
    (Mode.PREVIEW, 1.0, ("", None))])
def test_other_modes(mode: Mode, ratio: float, shown: tuple[str, float | None]) -> None:
    engine, _ = _engine(mode=mode, ratio=ratio)
    assert engine.pacing("loans") == shown
