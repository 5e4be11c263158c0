"""Predictive mode's agent-wait objective (issue 18 item 2): a supervisor asks for agents
to wait about so long between calls; the pacer gives up dials (and abandons) for it, and
never goes past the abandon target to shorten a wait."""

from __future__ import annotations

import math

import pytest

from trunkline.dialer.pacing.campaign import CampaignConfig
from trunkline.dialer.pacing.campaign_run import make_pacer
from trunkline.dialer.pacing.learning import CampaignModel
from trunkline.dialer.pacing.pacers import ModelPacer, WaitController
from trunkline.dialer.pacing.simulator import Simulator, World, team


def test_long_waits_raise_the_limit_only_up_to_the_abandon_loops() -> None:
    wait = WaitController(10.0, alpha=0.01)
    for _ in range(200):
        wait.observe(60.0, ceiling=0.03)
    assert wait.alpha == pytest.approx(0.03)      # held at the ceiling: no wind-up
    wait.observe(0.0, ceiling=0.03)               # so one short wait moves it at once
    assert wait.alpha < 0.03
    assert wait.mean_wait == pytest.approx(60.0 * 200 / 201)


def test_short_waits_lower_the_limit_and_waits_on_target_hold_it() -> None:
    wait = WaitController(20.0, alpha=0.03)
    for _ in range(20):
        wait.observe(2.0, ceiling=0.03)
    assert wait.alpha < 0.03 * math.exp(-0.1 * 0.9 * 19)
    low = wait.alpha
    for _ in range(50):
        wait.observe(20.0, ceiling=0.03)
    assert wait.alpha == pytest.approx(low)


def test_the_pacer_dials_at_the_lower_of_the_two_limits() -> None:
    config = CampaignConfig("c", mode="predictive", target_abandon=0.03,
                            agent_wait_target=30.0)
    pacer = make_pacer(config, CampaignModel())
    assert isinstance(pacer, ModelPacer) and pacer.wait is not None
    assert pacer.alpha == pytest.approx(0.03)
    for _ in range(10):
        pacer.on_connect(0.0, 1.0)                  # agents hardly wait: dial less
    assert pacer.alpha == pacer.wait.alpha < pacer.controller.alpha
    plain = make_pacer(CampaignConfig("c", mode="predictive"), CampaignModel())
    assert isinstance(plain, ModelPacer) and plain.wait is None


@pytest.mark.parametrize("bad", [-1.0, 601.0, math.nan, math.inf])
def test_the_target_is_checked_as_a_campaign_file_is(bad: float) -> None:
    with pytest.raises(ValueError, match="agent_wait_target"):
        CampaignConfig("c", mode="predictive", agent_wait_target=bad)


def test_other_modes_ignore_it_so_a_mode_change_needs_no_clearing() -> None:
    config = CampaignConfig("c", mode="progressive", agent_wait_target=30.0)
    assert not isinstance(make_pacer(config, CampaignModel()), ModelPacer)


def _run(**kw: float) -> tuple[float, float, float]:
    config = CampaignConfig("c", mode="predictive", target_abandon=0.03, **kw)
    result = Simulator([config], team(20, "c"), World(), hours=2.0, seed=1).run()
    return (result.idle_total / result.idle_count, result.abandon_rate, result.occupancy)


def test_a_long_wait_target_trades_occupancy_for_fewer_abandons() -> None:
    wait0, abandon0, occupancy0 = _run()
    wait, abandon, occupancy = _run(agent_wait_target=2 * wait0)
    assert wait > wait0 * 1.15                    # agents wait longer, as asked
    assert abandon < abandon0 / 2                 # for fewer abandoned people
    assert occupancy < occupancy0
    # a wait shorter than the abandon target allows is not bought with abandons
    _, abandon_short, _ = _run(agent_wait_target=1.0)
    assert abandon_short <= 0.03 * 1.15
