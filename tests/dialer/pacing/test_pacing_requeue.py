"""A customer whose agent was lost mid-call (a browser's audio gone for good, issue 19
item 3) is requeued in the engine: served before new answers, first requeued first
served; an answer the free agent could not take because of it waits as any answer with
no agent and counts as an abandon if nobody comes in time; the requeued call itself is
never an abandon."""

from __future__ import annotations

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from trunkline.dialer.errors import DialerStateError
from trunkline.dialer.pacing import events as ev
from trunkline.dialer.pacing.actions import Abandon, Connect, Dial, RecordOutcome
from trunkline.dialer.pacing.campaign import CampaignConfig
from trunkline.dialer.pacing.contacts import Contact, ContactQueue
from trunkline.dialer.pacing.engine import Engine, quiet_logger
from trunkline.dialer.vocab import AgentState, AnswerKind, CallState


def _talking(engine: Engine, agent: str, now: float) -> int:
    engine.handle(ev.AgentLoggedIn(agent, (("a", "standard"),)), now)
    out = engine.handle(ev.AgentReady(agent), now) + engine.handle(ev.Tick(), now)
    (dial,) = [a for a in out if isinstance(a, Dial)]
    assert Connect(dial.call_id, agent) in engine.handle(
        ev.CallAnswered(dial.call_id, AnswerKind.HUMAN), now)
    return dial.call_id


def test_requeued_customers_go_first_and_the_abandon_count_stays_honest() -> None:
    queue = ContactQueue([Contact(f"a{i}", f"a-{i}", "a") for i in range(20)])
    engine = Engine([CampaignConfig("a", mode="progressive", regime="none",
                                    abandon_after=2.0)], queue, log=quiet_logger())
    c1, c2, c3 = (_talking(engine, x, t) for x, t in (("x1", 0.0), ("x2", 0.1),
                                                        ("x3", 0.2)))
    stats = engine.stats("a")
    # z comes free: a dial goes out for it
    engine.handle(ev.AgentLoggedIn("z", (("a", "standard"),)), 5.0)
    out = engine.handle(ev.AgentReady("z"), 5.0) + engine.handle(ev.Tick(), 5.0)
    (dial,) = [a for a in out if isinstance(a, Dial)]
    # x1's browser is lost: its customer goes to z, the free agent, at once
    out = engine.handle(ev.CallRequeued(c1), 6.0)
    assert Connect(c1, "z") in out
    assert engine.agents["x1"].state is AgentState.WRAP_UP
    # the dial answers: nobody is free now, it waits as any answer with no agent
    out = engine.handle(ev.CallAnswered(dial.call_id, AnswerKind.HUMAN), 7.0)
    assert not [a for a in out if isinstance(a, Connect)]
    assert engine.calls[dial.call_id].state is CallState.WAITING
    assert stats.answered_without_agent == 1
    # two more customers requeued, with nobody free: they wait, in order
    assert engine.handle(ev.CallRequeued(c3), 7.2) == []
    assert engine.handle(ev.CallRequeued(c2), 7.4) == []
    with pytest.raises(DialerStateError, match="requeued already"):
        engine.handle(ev.CallRequeued(c2), 7.4)
    assert engine.agents["x2"].state is AgentState.TALKING   # until someone takes it
    # y comes free: the first requeued customer, ahead of the answer waiting longer
    engine.handle(ev.AgentLoggedIn("y", (("a", "standard"),)), 7.5)
    out = engine.handle(ev.AgentReady("y"), 8.0)
    assert [a for a in out if isinstance(a, Connect)] == [Connect(c3, "y")]
    assert engine.agents["x3"].state is AgentState.WRAP_UP
    # the answer nobody took within 2 s is the one abandon; the requeued ones are not
    out = engine.handle(ev.Tick(), 9.0)
    assert [a.call_id for a in out if isinstance(a, Abandon)] == [dial.call_id]
    assert stats.abandoned == 1 and engine.ledger("a").abandoned == 1
    # c2's customer hangs up while waiting: a call that was connected, not an abandon
    out = engine.handle(ev.CallHungUp(c2), 10.0)
    assert [str(a.outcome) for a in out if isinstance(a, RecordOutcome)] == ["human"]
    assert stats.abandoned == 1 and engine.ledger("a").abandoned == 1
    assert engine.agents["x2"].state is AgentState.WRAP_UP
    with pytest.raises(DialerStateError, match="not waiting for an agent"):
        engine.handle(ev.RequeueGivenUp(c3), 10.0)   # y has it


def test_a_requeued_customer_given_up_is_no_longer_offered() -> None:
    queue = ContactQueue([Contact(f"a{i}", f"a-{i}", "a") for i in range(20)])
    engine = Engine([CampaignConfig("a", mode="manual", regime="none")], queue,
                    log=quiet_logger())
    engine.handle(ev.AgentLoggedIn("x", (("a", "standard"),)), 0.0)
    engine.handle(ev.AgentReady("x"), 0.0)
    out = engine.handle(ev.ManualDial("x", "a", Contact("m1", "m-1", "a")), 0.0)
    (dial,) = [a for a in out if isinstance(a, Dial)]
    with pytest.raises(DialerStateError, match="cannot requeue"):   # not answered yet
        engine.handle(ev.CallRequeued(dial.call_id), 0.5)
    engine.handle(ev.CallAnswered(dial.call_id, AnswerKind.HUMAN), 1.0)
    engine.handle(ev.CallRequeued(dial.call_id), 2.0)
    engine.handle(ev.RequeueGivenUp(dial.call_id), 5.0)   # the apology plays now
    engine.handle(ev.AgentLoggedIn("y", (("a", "standard"),)), 5.0)
    out = engine.handle(ev.AgentReady("y"), 5.5)
    assert not [a for a in out if isinstance(a, Connect)]
    out = engine.handle(ev.CallHungUp(dial.call_id), 9.0)
    assert [str(a.outcome) for a in out if isinstance(a, RecordOutcome)] == ["human"]
    assert engine.stats("a").abandoned == 0


OPS = st.lists(st.tuples(st.sampled_from(["ready", "answer", "fail", "requeue", "hangup",
                                          "giveup", "tick"]), st.integers(0, 7)),
               min_size=1, max_size=80)


@settings(max_examples=150, deadline=None)
@given(OPS)
# an agent comes free with answers waiting and a customer requeued (the customer first)
@example([("ready", 0), ("answer", 0), ("answer", 0), ("answer", 0), ("requeue", 0),
          ("ready", 1)])
# two customers requeued, then one agent free (the first requeued)
@example([("ready", 0), ("ready", 1), ("answer", 0), ("answer", 0), ("requeue", 0),
          ("requeue", 0), ("ready", 2)])
def test_requeued_first_in_order_never_an_abandon_no_agent_idle(ops) -> None:
    """Random agents, answers, losses, hang-ups and time: whenever an agent is given a
    call while customers are requeued it is the one requeued longest ago; no agent is
    ever ready while one waits; a requeued call is never abandoned nor counted so, and
    the campaign's abandons are exactly its answers nobody took in time."""
    queue = ContactQueue([Contact(f"a{i}", f"a-{i}", "a") for i in range(200)])
    # answers wait long (10 s) and dials outnumber agents: answers waiting, requeued
    # customers and agents coming free meet often
    engine = Engine([CampaignConfig("a", mode="progressive", ratio=3.0, regime="none",
                                    abandon_after=10.0)], queue, log=quiet_logger())
    agents = [f"x{i}" for i in range(3)]
    now = 0.0
    pending: set[int] = set()
    waiting: set[int] = set()
    connected: dict[int, str] = {}
    requeued: list[int] = []
    ever: set[int] = set()
    abandons = 0

    def apply(actions: list) -> None:
        nonlocal abandons
        for action in actions:
            if isinstance(action, Dial):
                pending.add(action.call_id)
            elif isinstance(action, Connect):
                if requeued:   # first requeued, first served; before any answer
                    assert action.call_id == requeued[0], (action, requeued)
                    requeued.pop(0)
                connected.pop(action.call_id, None)
                assert action.agent not in connected.values()
                connected[action.call_id] = action.agent
                waiting.discard(action.call_id)
                pending.discard(action.call_id)
            elif isinstance(action, Abandon):
                assert action.call_id not in ever
                abandons += 1
                waiting.discard(action.call_id)
            elif isinstance(action, RecordOutcome):
                if action.call_id in ever:
                    assert str(action.outcome) == "human"
                for book in (pending, waiting):
                    book.discard(action.call_id)
                connected.pop(action.call_id, None)
                if action.call_id in requeued:
                    requeued.remove(action.call_id)

    for agent in agents:
        apply(engine.handle(ev.AgentLoggedIn(agent, (("a", "standard"),)), now))
    for op, k in ops:
        event: ev.Event | None = None
        if op == "ready":
            agent = engine.agents[agents[k % len(agents)]]
            if agent.state is AgentState.PAUSED:
                event = ev.AgentReady(agent.id)
            elif agent.state is AgentState.WRAP_UP:
                event = ev.WrapUpDone(agent.id)
        elif op in ("answer", "fail") and pending:
            call = sorted(pending)[k % len(pending)]
            pending.discard(call)
            event = ev.CallAnswered(call, AnswerKind.HUMAN) if op == "answer" \
                else ev.CallFailed(call, "busy")
            if op == "answer":
                waiting.add(call)   # until an agent is connected
        elif op == "requeue":
            calls = sorted(c for c in connected if c not in ever)
            if calls:
                call = calls[k % len(calls)]
                ever.add(call)
                requeued.append(call)
                event = ev.CallRequeued(call)
        elif op == "hangup":
            calls = sorted(set(connected) | waiting)
            if calls:
                call = calls[k % len(calls)]
                if call in waiting and call not in connected:
                    abandons += 1   # the customer hung up before any agent came
                event = ev.CallHungUp(call)
        elif op == "giveup" and requeued:
            call = requeued.pop(k % len(requeued))
            event = ev.RequeueGivenUp(call)
        else:
            now += 0.7
            event = ev.Tick()
        if event is None:
            continue
        apply(engine.handle(event, now))
        if requeued:   # nobody idles while a requeued customer waits
            assert all(a.state is not AgentState.READY for a in engine.agents.values())
    assert engine.stats("a").abandoned == abandons
