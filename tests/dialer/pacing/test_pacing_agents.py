"""Agents: the state table, several campaigns at once, levels and overflow."""

from __future__ import annotations

import pytest
from dialer_testkit import Driver, contacts, dials

from trunkline.dialer.errors import DialerStateError
from trunkline.dialer.pacing import events as ev
from trunkline.dialer.pacing.actions import Abandon, Connect
from trunkline.dialer.pacing.agents import TRANSITIONS, Agent
from trunkline.dialer.pacing.campaign import CampaignConfig
from trunkline.dialer.pacing.contacts import ContactQueue
from trunkline.dialer.vocab import AbandonRoute, AgentLevel, AgentState, AnswerKind


def test_transition_table_covers_every_state():
    sources = {state for state, _ in TRANSITIONS}
    assert sources == set(AgentState)


def test_refused_transition_names_agent_and_state():
    agent = Agent.log_in("a7", (("c", AgentLevel.STANDARD),), 0.0)
    with pytest.raises(DialerStateError, match=r"cannot hangup agent 'a7': state is paused"):
        agent.fire("hangup", 1.0)


def test_home_is_the_best_level():
    agent = Agent.log_in("a", (("x", AgentLevel.OVERFLOW), ("y", AgentLevel.HIGH)), 0.0)
    assert agent.home == "y"


def two_campaigns(**kw) -> Driver:
    q = ContactQueue(contacts("A", 50) + contacts("B", 50, start=100))
    return Driver(CampaignConfig("A", mode="progressive", **kw),
                  CampaignConfig("B", mode="progressive"), queue=q)


def test_an_agent_in_two_campaigns_is_paced_by_its_home_only():
    d = two_campaigns()
    d.login("x", ("A", "high"), ("B", "standard"))
    d.tick(0.0)
    assert [p.campaign for p in dials(d.actions)] == ["A"]


def test_overflow_agent_takes_a_call_only_when_the_campaign_has_none():
    d = two_campaigns()
    d.login("b1", ("B", "standard"))
    d.login("o1", ("A", "standard"), ("B", "overflow"))
    d.tick(0.0)
    (a_dial, b_dial) = sorted(dials(d.actions), key=lambda x: x.campaign)
    # B's own agent b1 takes B's answer although o1 is free too
    out = d.send(ev.CallAnswered(b_dial.call_id, AnswerKind.HUMAN), at=4.0)
    assert Connect(b_dial.call_id, "b1") in out
    # A's call fails: A re-dials for its own agent; B, with b1 busy, places nothing
    out = d.send(ev.CallFailed(a_dial.call_id, "no_answer"), at=5.0) + d.tick(6.0)
    assert [p.campaign for p in dials(out)] == ["A"]


def test_overflow_agent_rescues_a_waiting_caller_when_spare():
    q = ContactQueue(contacts("A", 5) + contacts("B", 5, start=100))
    d = Driver(CampaignConfig("A", mode="manual"), CampaignConfig("B", mode="power",
               ratio=2.0, regime="none"), queue=q)
    d.login("b1", ("B", "standard"))
    d.login("o1", ("A", "standard"), ("B", "overflow"))
    d.tick(0.0)
    first, second = dials(d.actions)
    d.send(ev.CallAnswered(first.call_id, AnswerKind.HUMAN), at=5.0)
    out = d.send(ev.CallAnswered(second.call_id, AnswerKind.HUMAN), at=6.0)
    # b1 is talking; overflow agent o1 (idle in manual campaign A) takes the second one
    assert Connect(second.call_id, "o1") in out


def test_overflow_agent_is_not_taken_while_its_home_needs_it():
    q = ContactQueue(contacts("A", 5) + contacts("B", 5, start=100))
    d = Driver(CampaignConfig("A", mode="progressive"),
               CampaignConfig("B", mode="power", ratio=2.0, regime="none"), queue=q)
    d.login("b1", ("B", "standard"))
    d.login("o1", ("A", "standard"), ("B", "overflow"))
    d.tick(0.0)
    b_calls = [p for p in dials(d.actions) if p.campaign == "B"]
    d.send(ev.CallAnswered(b_calls[0].call_id, AnswerKind.HUMAN), at=5.0)
    out = d.send(ev.CallAnswered(b_calls[1].call_id, AnswerKind.HUMAN), at=6.0)
    assert not any(isinstance(a, Connect) for a in out)  # o1 covers A's call in flight
    out = d.tick(8.0)
    assert Abandon(b_calls[1].call_id, "B", AbandonRoute.MESSAGE) in out


def test_freed_agent_takes_waiting_caller_of_a_second_campaign():
    q = ContactQueue(contacts("A", 5) + contacts("B", 5, start=100))
    d = Driver(CampaignConfig("A", mode="manual"),
               CampaignConfig("B", mode="power", ratio=2.0, regime="none"), queue=q)
    d.login("b1", ("B", "standard"))
    d.tick(0.0)
    first, second = dials(d.actions)
    d.send(ev.CallAnswered(first.call_id, AnswerKind.HUMAN), at=5.0)
    d.send(ev.CallAnswered(second.call_id, AnswerKind.HUMAN), at=6.0)
    out = d.login("x", ("A", "high"), ("B", "standard"))
    assert Connect(second.call_id, "x") in out


def test_pause_while_covering_a_call_waits_for_it():
    d = Driver(CampaignConfig("A", mode="progressive"),
               queue=ContactQueue(contacts("A", 5)))
    d.login("a1", ("A", "standard"))
    (dial,) = dials(d.tick(0.0))
    d.send(ev.AgentPaused("a1"), at=1.0)
    assert d.engine.agents["a1"].state is AgentState.READY  # covers the call in flight
    out = d.send(ev.CallAnswered(dial.call_id, AnswerKind.HUMAN), at=5.0)
    assert Connect(dial.call_id, "a1") in out
    d.send(ev.CallHungUp(dial.call_id), at=60.0)
    d.send(ev.WrapUpDone("a1"), at=65.0)
    assert d.engine.agents["a1"].state is AgentState.PAUSED
    assert dials(d.tick(66.0)) == []


def test_wrap_up_then_ready_and_logout():
    d = Driver(CampaignConfig("A", mode="progressive"), queue=ContactQueue(contacts("A", 5)))
    d.login("a1", ("A", "standard"))
    (dial,) = dials(d.tick(0.0))
    d.send(ev.CallAnswered(dial.call_id, AnswerKind.HUMAN), at=5.0)
    with pytest.raises(DialerStateError, match="cannot logout agent 'a1': state is talking"):
        d.send(ev.AgentLoggedOut("a1"))
    d.send(ev.CallHungUp(dial.call_id), at=60.0)
    assert d.engine.agents["a1"].state is AgentState.WRAP_UP
    d.send(ev.AgentLoggedOut("a1"), at=61.0)
    assert "a1" not in d.engine.agents
    assert dials(d.tick(62.0)) == []
