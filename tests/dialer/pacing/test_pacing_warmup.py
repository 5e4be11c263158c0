"""A conservative start in every regime (issue 15, item 3): a fresh model-paced campaign
dials no more lines than it has free agents until it has seen WARMUP_LIVE live answers,
so it cannot overshoot its target while its model learns. us and uk got there by their
caps (no live answers yet: no abandon allowed); cn and none have no cap and, before,
dialled from their priors at once (three lines an agent here)."""

from __future__ import annotations

import pytest
from test_pacing_reconfigure import engine_for, ready_all

from trunkline.dialer.pacing import events as ev
from trunkline.dialer.pacing.campaign import CampaignConfig
from trunkline.dialer.pacing.engine import Engine
from trunkline.dialer.pacing.engine_dialing import WARMUP_LIVE
from trunkline.dialer.vocab import AgentState, AnswerKind, CallState


def warmed_up(engine: Engine, agents: int) -> float:
    """WARMUP_LIVE live answers, then no call in flight and every agent paused."""
    now = 0.0
    ready_all(engine, agents, now)
    while engine.stats("c").live < WARMUP_LIVE:
        now += 1
        for call_id, call in list(engine.calls.items()):
            if call.state is CallState.DIALING:
                engine.handle(ev.CallAnswered(call_id, AnswerKind.HUMAN), now)
        now += 30
        _settle(engine, agents, now)
    for i in range(agents):
        engine.handle(ev.AgentPaused(f"a{i}"), now)
    while engine.calls:
        now += 1
        for call_id, call in list(engine.calls.items()):
            if call.state is CallState.DIALING:
                engine.handle(ev.CallFailed(call_id, "busy"), now)
        _settle(engine, agents, now)
    return now + 1


def _settle(engine: Engine, agents: int, now: float) -> None:
    for call_id in list(engine.calls):
        if engine.calls[call_id].state is not CallState.DIALING:
            engine.handle(ev.CallHungUp(call_id), now)
    for i in range(agents):
        if engine.agents[f"a{i}"].state is AgentState.WRAP_UP:
            engine.handle(ev.WrapUpDone(f"a{i}"), now)


@pytest.mark.parametrize("regime", ["us", "uk", "cn", "none"])
@pytest.mark.parametrize("mode", ["predictive", "precise"])
def test_a_fresh_campaign_dials_no_more_lines_than_free_agents(regime: str,
                                                               mode: str) -> None:
    config = CampaignConfig("c", mode=mode, regime=regime, max_lines_per_agent=5.0,
                            target_abandon=0.03)
    engine = engine_for(config, 10)
    assert ready_all(engine, 10, 0.0) <= 10


@pytest.mark.parametrize("regime", ["cn", "none"])
def test_after_the_warm_up_the_model_paces_beyond_the_free_agents(regime: str) -> None:
    config = CampaignConfig("c", mode="predictive", regime=regime, max_lines_per_agent=5.0,
                            target_abandon=0.05)
    engine = engine_for(config, 10)
    now = warmed_up(engine, 10)
    assert ready_all(engine, 10, now) > 10


def test_warmup_live_is_a_campaign_setting() -> None:
    config = CampaignConfig("c", mode="predictive", regime="none", max_lines_per_agent=5.0,
                            target_abandon=0.05, warmup_live=0)
    assert ready_all(engine_for(config, 10), 10, 0.0) > 10      # off: the priors at once
    with pytest.raises(ValueError, match="warmup_live"):
        CampaignConfig("c", warmup_live=-1)
