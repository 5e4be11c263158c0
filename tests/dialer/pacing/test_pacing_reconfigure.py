"""A running campaign's pacing changed by a supervisor (issue 18): the engine applies
the new mode, ratio or target at its next decision and keeps what it learned."""

from __future__ import annotations

import dataclasses

import pytest

from trunkline.dialer.errors import DialerStateError
from trunkline.dialer.pacing import events as ev
from trunkline.dialer.pacing.actions import Dial
from trunkline.dialer.pacing.campaign import CampaignConfig
from trunkline.dialer.pacing.contacts import Contact, ContactQueue
from trunkline.dialer.pacing.engine import Engine, quiet_logger


def engine_for(config: CampaignConfig, agents: int) -> Engine:
    queue = ContactQueue([Contact(f"c{i}", f"n-{i}", config.name) for i in range(500)])
    engine = Engine([config], queue, log=quiet_logger())
    for i in range(agents):
        engine.handle(ev.AgentLoggedIn(f"a{i}", ((config.name, "standard"),)), 0.0)
    return engine


def ready_all(engine: Engine, agents: int, now: float) -> int:
    out = []
    for i in range(agents):
        out += engine.handle(ev.AgentReady(f"a{i}"), now)
    out += engine.handle(ev.Tick(), now)
    return sum(isinstance(a, Dial) for a in out)


def fail_all(engine: Engine, now: float) -> None:
    for call in list(engine.calls):
        engine.handle(ev.CallFailed(call, "busy"), now)


def test_a_new_ratio_and_mode_change_the_next_decision() -> None:
    config = CampaignConfig("c", mode="power", ratio=1.0, regime="none")
    engine = engine_for(config, 4)
    assert ready_all(engine, 4, 0.0) == 4                   # one line per ready agent
    fail_all(engine, 0.5)
    for i in range(4):
        engine.handle(ev.AgentPaused(f"a{i}"), 0.5)
    engine.handle(ev.Tick(), 0.5)
    fail_all(engine, 0.6)
    engine.reconfigure(dataclasses.replace(config, ratio=2.5))
    assert ready_all(engine, 4, 1.0) == 10                  # 2.5 lines per agent
    assert engine.stats("c").dials >= 14                    # the counts carried on


def test_a_lower_abandon_target_makes_the_predictive_pacer_more_careful() -> None:
    def decision(target: float) -> int:
        config = CampaignConfig("c", mode="predictive", target_abandon=0.05,
                                regime="none", max_lines_per_agent=5.0, warmup_live=0)
        engine = engine_for(config, 20)
        if target != 0.05:
            engine.reconfigure(dataclasses.replace(config, target_abandon=target))
        return ready_all(engine, 20, 0.0)

    loose, tight = decision(0.05), decision(0.005)
    assert tight < loose, (tight, loose)


def test_what_cannot_change_while_running_is_refused_and_nothing_changes() -> None:
    config = CampaignConfig("c", mode="power", ratio=1.0, regime="none")
    engine = engine_for(config, 2)
    with pytest.raises(DialerStateError, match="regime cannot change while it runs"):
        engine.reconfigure(dataclasses.replace(config, regime="us", target_abandon=0.03,
                                               ring_timeout=20.0))
    assert ready_all(engine, 2, 0.0) == 2
