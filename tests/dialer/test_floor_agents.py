"""The demo's simulated agents (sans-IO): what they send is what the desk takes, when
a collections agent would send it."""

from __future__ import annotations

import random
from datetime import datetime
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from trunkline.dialer.desk import commands as cmd
from trunkline.dialer.desk.config import CallbackRule, DeskConfig
from trunkline.dialer.floor.agents import FloorAgent, Habits
from trunkline.dialer.floor.setup import CAMPAIGN, DESK
from trunkline.dialer.floor.shift import command_for

CONFIG = DeskConfig.from_dict(CAMPAIGN, DESK)
T0 = 1_780_000_000.0


@settings(max_examples=300, deadline=None)
@given(seed=st.integers(0, 2**32), now=st.floats(T0, T0 + 3e7),
       balance=st.one_of(st.none(), st.integers(-5, 100_000).map(str), st.just("abc")))
def test_every_disposition_is_one_the_campaign_takes(seed: int, now: float,
                                                     balance: str | None) -> None:
    agent = FloorAgent("agent01", random.Random(seed))
    agent.on_event({"type": "desk.screen_pop", "contact": {"fields": {"balance": balance}}},
                   now)
    body = agent.disposition(now)
    disposition = CONFIG.disposition(body["code"])
    stored = disposition.check(body.get("fields", {}))  # FieldError if the desk refused
    if body["code"] == "promise":
        assert float(stored["amount"]["amount"]) >= 100
        promised = datetime.strptime(str(stored["date"]), "%Y-%m-%d").date()
        today = datetime.fromtimestamp(now, ZoneInfo("Asia/Shanghai")).date()
        assert 1 <= (promised - today).days <= 15
    if disposition.callback is CallbackRule.REQUIRED:
        assert body["callback"]["at"] > datetime.fromtimestamp(
            now, ZoneInfo("Asia/Shanghai")).strftime("%Y-%m-%d %H:%M")
    command = command_for("agent01", ("disposition", body))  # the API's command
    assert isinstance(command, cmd.SaveDisposition) and command.code == body["code"]
    assert body["then"] in ("ready", "pause")


def test_an_agent_talks_hangs_up_and_wraps_up_in_a_collections_rhythm() -> None:
    agent = FloorAgent("agent01", random.Random(7), Habits())
    agent.on_event({"type": "desk.state", "state": "paused", "reason": "login"}, 0.0)
    assert agent.due(1.0) == [] and agent.due(2.0) == [("ready", {})]
    talks, wraps = [], []
    now = 10.0
    for _ in range(400):
        agent.on_event({"type": "desk.state", "state": "talking"}, now)
        agent.on_event({"type": "desk.screen_pop", "contact": {"fields": {}}}, now)
        at = agent.next_at()
        assert at is not None and agent.due(at - 0.01) == []
        assert agent.due(at) == [("hangup", {})]
        talks.append(at - now)
        now = at
        agent.on_event({"type": "desk.state", "state": "wrap_up"}, now)
        at = agent.next_at()
        (route, body), = agent.due(at)
        assert route == "disposition"
        wraps.append(at - now)
        now = at + 1
        agent.on_event({"type": "desk.state",
                        "state": "paused" if body["then"] == "pause" else "ready",
                        "reason": body.get("reason", "")}, now)
        if body["then"] == "pause":  # a break of 2-5 minutes, then ready
            at = agent.next_at()
            assert 120 <= at - now <= 300 and agent.due(at) == [("ready", {})]
            now = at
    assert 75 <= sum(talks) / len(talks) <= 105     # lognormal, mean 90 s
    assert min(wraps) >= 15 and max(wraps) <= 45
    assert agent.calls == 400


def test_a_customer_hanging_up_first_cancels_the_hangup_and_a_refusal_is_retried() -> None:
    agent = FloorAgent("agent01", random.Random(3))
    agent.on_event({"type": "desk.state", "state": "talking"}, 0.0)
    agent.on_event({"type": "desk.screen_pop", "contact": {"fields": {}}}, 0.0)
    agent.on_event({"type": "desk.state", "state": "wrap_up"}, 5.0)  # the customer hung up
    assert all(route != "hangup" for route, _ in agent.due(10_000.0))
    agent.on_event({"type": "desk.state", "state": "wrap_up"}, 20.0)
    agent.on_event({"type": "desk.refused", "command": "save_disposition",
                    "error": "amount: required"}, 21.0)
    assert agent.due(22.0) == [("disposition", {"code": "wrong_party", "then": "ready"})]
    assert agent.refusals == ["save_disposition: amount: required"]
