"""Events and actions are validated when built; the engine refuses what does not fit."""

from __future__ import annotations

import pytest
from dialer_testkit import Driver

from trunkline.dialer.errors import DialerStateError, UnknownEntityError
from trunkline.dialer.pacing import events as ev
from trunkline.dialer.pacing.actions import Abandon, Dial
from trunkline.dialer.pacing.campaign import CampaignConfig
from trunkline.dialer.pacing.contacts import Contact
from trunkline.dialer.vocab import AbandonRoute, AnswerKind, CallOutcome


def test_events_are_validated_when_built():
    with pytest.raises(ValueError, match="agent must be a non-empty string"):
        ev.AgentReady("")
    with pytest.raises(ValueError, match="at least one campaign"):
        ev.AgentLoggedIn("a1", ())
    with pytest.raises(ValueError, match="lists a campaign twice"):
        ev.AgentLoggedIn("a1", (("c", "high"), ("c", "standard")))
    with pytest.raises(ValueError):
        ev.AgentLoggedIn("a1", (("c", "boss"),))
    with pytest.raises(ValueError, match="not a failure outcome"):
        ev.CallFailed(3, CallOutcome.HUMAN)
    with pytest.raises(ValueError, match="call_id"):
        ev.CallAnswered(-1, AnswerKind.HUMAN)
    with pytest.raises(ValueError, match="empty number"):
        Contact("x", "", "c")


def test_actions_are_validated_when_built():
    contact = Contact("x", "+1", "c")
    with pytest.raises(ValueError, match="ring_timeout"):
        Dial(1, "c", contact, 0.0)
    with pytest.raises(ValueError, match="target campaign"):
        Abandon(1, "c", AbandonRoute.CAMPAIGN)
    with pytest.raises(ValueError, match="target campaign"):
        Abandon(1, "c", AbandonRoute.MESSAGE, "other")


def test_campaign_config_checks_regulated_limits():
    with pytest.raises(ValueError, match="above the us cap"):
        CampaignConfig("c", target_abandon=0.05)
    CampaignConfig("c", target_abandon=0.05, regime="none")
    with pytest.raises(ValueError, match="whole number"):
        CampaignConfig("c", mode="progressive", ratio=1.5)
    CampaignConfig("c", mode="power", ratio=1.5)
    with pytest.raises(ValueError, match="abandon_after"):
        CampaignConfig("c", abandon_after=3.0)
    with pytest.raises(ValueError, match="at least 15"):
        CampaignConfig("c", ring_timeout=10.0, regime="uk")


def test_unknown_things_and_wrong_states_are_named():
    d = Driver(CampaignConfig("c"))
    with pytest.raises(UnknownEntityError, match="no agent 'ghost'"):
        d.send(ev.AgentReady("ghost"))
    with pytest.raises(UnknownEntityError, match="no campaign 'nope'"):
        d.send(ev.AgentLoggedIn("a1", (("nope", "standard"),)))
    with pytest.raises(UnknownEntityError, match="no call 99"):
        d.send(ev.CallAnswered(99, AnswerKind.HUMAN))
    d.login("a1", ("c", "standard"), ready=False)
    with pytest.raises(DialerStateError, match="cannot wrap done agent 'a1': state is paused"):
        d.send(ev.WrapUpDone("a1"))
    with pytest.raises(DialerStateError, match="already logged in"):
        d.send(ev.AgentLoggedIn("a1", (("c", "standard"),)))
    with pytest.raises(DialerStateError, match="time went backwards"):
        d.engine.handle(ev.Tick(), -5.0)


def test_hang_up_of_a_finished_call_is_ignored():
    d = Driver(CampaignConfig("c", mode="manual"))
    d.queue.add(Contact("x", "+1", "c"))
    d.login("a1", ("c", "standard"))
    (dial,) = d.send(ev.ManualDial("a1", "c"))[-1:]
    d.send(ev.CallFailed(dial.call_id, CallOutcome.BUSY), at=3.0)
    assert d.send(ev.CallHungUp(dial.call_id), at=3.5) == []
