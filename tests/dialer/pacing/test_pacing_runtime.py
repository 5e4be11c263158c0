"""What the agent desk needs of the engine at run time: campaigns added and removed while
it runs, and a connected call handed from one agent to another (or to a campaign)."""

from __future__ import annotations

import pytest

from trunkline.dialer.errors import DialerStateError, UnknownEntityError
from trunkline.dialer.pacing import events as ev
from trunkline.dialer.pacing.actions import Connect, Dial, RecordOutcome
from trunkline.dialer.pacing.campaign import CampaignConfig
from trunkline.dialer.pacing.contacts import Contact, ContactQueue
from trunkline.dialer.pacing.engine import Engine, quiet_logger
from trunkline.dialer.vocab import AgentState, AnswerKind


def engine_with(*names: str, mode: str = "progressive") -> tuple[Engine, ContactQueue]:
    queue = ContactQueue([Contact(f"{n}{i}", f"{n}-{i}", n) for n in ("a", "b", "c")
                          for i in range(20)])
    configs = [CampaignConfig(n, mode=mode, regime="none") for n in names]
    return Engine(configs, queue, log=quiet_logger()), queue


def dials(actions: list) -> list[Dial]:
    return [a for a in actions if isinstance(a, Dial)]


def test_a_campaign_added_while_running_dials_and_one_removed_stops() -> None:
    engine, _ = engine_with("a")
    engine.add_campaign(CampaignConfig("b", mode="progressive", regime="none"))
    with pytest.raises(DialerStateError, match="running already"):
        engine.add_campaign(CampaignConfig("b"))
    with pytest.raises(UnknownEntityError, match="not running"):
        engine.add_campaign(CampaignConfig("c", abandon_route="campaign",
                                           abandon_target="zz"))
    engine.handle(ev.AgentLoggedIn("x", (("b", "standard"),)), 0.0)
    out = engine.handle(ev.AgentReady("x"), 0.0) + engine.handle(ev.Tick(), 0.0)
    (dial,) = dials(out)
    assert dial.campaign == "b"
    with pytest.raises(DialerStateError, match="agents x are logged in"):
        engine.remove_campaign("b", 1.0)
    engine.handle(ev.CallFailed(dial.call_id, "busy"), 1.0)
    engine.handle(ev.AgentPaused("x"), 1.0)
    engine.handle(ev.Tick(), 1.0)
    with pytest.raises(DialerStateError, match=r"are in flight|logged in"):
        engine.remove_campaign("b", 1.0)
    for call in list(engine.calls):
        engine.handle(ev.CallFailed(call, "busy"), 1.0)
    engine.handle(ev.AgentLoggedOut("x"), 1.0)
    engine.remove_campaign("b", 2.0)
    assert engine.campaigns == ["a"]
    # its timers are gone with it: time passes without errors, and it can come back
    engine.handle(ev.Tick(), 10.0)
    engine.add_campaign(CampaignConfig("b", mode="progressive", regime="none"))
    engine.handle(ev.AgentLoggedIn("x", (("b", "standard"),)), 11.0)
    out = engine.handle(ev.AgentReady("x"), 11.0) + engine.handle(ev.Tick(), 11.0)
    assert len(dials(out)) == 1


def talking(engine: Engine, agent: str, campaign: str, now: float) -> int:
    engine.handle(ev.AgentLoggedIn(agent, ((campaign, "standard"),)), now)
    out = engine.handle(ev.AgentReady(agent), now) + engine.handle(ev.Tick(), now)
    call = dials(out)[0].call_id
    out = engine.handle(ev.CallAnswered(call, AnswerKind.HUMAN), now)
    assert Connect(call, agent) in out
    return call


def two_teams() -> tuple[Engine, int]:
    """x talks on a progressive campaign ``a``; y is logged in to a manual campaign
    ``b`` (a manual agent stays ready: nothing is dialled for it)."""
    queue = ContactQueue([Contact(f"a{i}", f"a-{i}", "a") for i in range(5)])
    engine = Engine([CampaignConfig("a", mode="progressive", regime="none"),
                     CampaignConfig("b", mode="manual", regime="none")], queue,
                    log=quiet_logger())
    call = talking(engine, "x", "a", 0.0)
    engine.handle(ev.AgentLoggedIn("y", (("b", "standard"),)), 1.0)
    return engine, call


def test_a_call_is_handed_to_another_agent_and_recorded_once() -> None:
    engine, call = two_teams()
    with pytest.raises(DialerStateError, match="state is paused"):
        engine.handle(ev.CallTransferred(call, agent="y"), 2.0)
    with pytest.raises(DialerStateError, match="it is on it"):
        engine.handle(ev.CallTransferred(call, agent="x"), 2.0)
    assert engine.agents["x"].state is AgentState.TALKING      # unchanged
    engine.handle(ev.AgentReady("y"), 2.0)
    talk_before = engine.model("a").talk.mean
    out = engine.handle(ev.CallTransferred(call, agent="y"), 3.0)
    assert out[-1] == Connect(call, "y")
    assert engine.agents["x"].state is AgentState.WRAP_UP
    assert engine.agents["y"].state is AgentState.TALKING
    assert engine.model("a").talk.mean < talk_before   # x's 3 s of talk were learned
    out = engine.handle(ev.CallHungUp(call), 9.0)
    assert [a.call_id for a in out if isinstance(a, RecordOutcome)] == [call]
    assert engine.agents["y"].state is AgentState.WRAP_UP


def test_a_call_goes_to_a_campaigns_ready_agent() -> None:
    engine, call = two_teams()
    with pytest.raises(ValueError, match="one of them"):
        ev.CallTransferred(call)
    with pytest.raises(DialerStateError, match="no agent of it is ready"):
        engine.handle(ev.CallTransferred(call, campaign="b"), 2.0)
    engine.handle(ev.AgentReady("y"), 2.0)
    out = engine.handle(ev.CallTransferred(call, campaign="b"), 3.0)
    assert Connect(call, "y") in out
    assert engine.calls[call].campaign == "b" and engine.calls[call].origin == "a"


def test_a_callback_dialled_for_an_agent_looking_at_a_preview() -> None:
    queue = ContactQueue([Contact(f"p{i}", f"p-{i}", "p") for i in range(3)])
    engine = Engine([CampaignConfig("p", mode="preview", regime="none")], queue,
                    log=quiet_logger())
    engine.handle(ev.AgentLoggedIn("x", (("p", "standard"),)), 0.0)
    engine.handle(ev.AgentReady("x"), 0.0)
    shown = engine.agents["x"].preview
    assert shown is not None
    with pytest.raises(DialerStateError, match="state is preview"):
        engine.handle(ev.ManualDial("x", "p"), 1.0)          # the campaign's next: no
    callback = Contact("cb", "p-99", "p")
    out = engine.handle(ev.ManualDial("x", "p", callback), 1.0)
    assert [d.contact for d in dials(out)] == [callback]
    assert engine.agents["x"].state is AgentState.RESERVED
    assert queue.next_contact("p", 1.0) == Contact("p1", "p-1", "p")   # the list goes on
    assert shown in [queue.next_contact("p", 1.0), queue.next_contact("p", 1.0)]
