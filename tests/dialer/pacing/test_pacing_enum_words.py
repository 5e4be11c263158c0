"""The wire's words ("human", "busy", "message") mean the same as the enum members.

Regression (issue #15): ``CallAnswered(id, "human")`` validated but kept the string, and
the engine's ``kind is not AnswerKind.HUMAN`` then hung the person up as a machine.
Events and actions now hold members, whatever they were built from.
"""

from __future__ import annotations

import pytest
from dialer_testkit import Driver, contacts, dials

from trunkline.dialer.pacing import events as ev
from trunkline.dialer.pacing.actions import Abandon, Connect, HangUp, RecordOutcome
from trunkline.dialer.pacing.campaign import CampaignConfig
from trunkline.dialer.pacing.compliance import AbandonLedger, window_index
from trunkline.dialer.pacing.contacts import Contact, ContactQueue
from trunkline.dialer.vocab import AbandonRoute, AgentLevel, AnswerKind, CallOutcome, Regime


def test_a_person_answered_as_the_string_human_is_connected_not_hung_up() -> None:
    d = Driver(CampaignConfig("c", mode="progressive"), queue=ContactQueue(contacts("c", 5)))
    d.login("a1", ("c", "standard"))
    (dial,) = dials(d.tick(0.0))
    out = d.send(ev.CallAnswered(dial.call_id, "human"), at=3.0)  # type: ignore[arg-type]
    assert Connect(dial.call_id, "a1") in out
    assert not [a for a in out if isinstance(a, HangUp)]
    assert d.engine.stats("c").live == 1 and d.engine.stats("c").machines == 0


@pytest.mark.parametrize("word", ["human", "machine", "fax"])
def test_call_answered_holds_the_member(word: str) -> None:
    assert ev.CallAnswered(1, word).kind is AnswerKind(word)  # type: ignore[arg-type]


def test_other_enum_fields_hold_members() -> None:
    assert ev.CallFailed(1, "busy").outcome is CallOutcome.BUSY  # type: ignore[arg-type]
    logged = ev.AgentLoggedIn("a", (("c", "standard"),))  # type: ignore[arg-type]
    assert logged.campaigns[0][1] is AgentLevel.STANDARD
    assert Abandon(1, "c", "message").route is AbandonRoute.MESSAGE  # type: ignore[arg-type]
    rec = RecordOutcome(1, "c", Contact("x", "+15550000000", "c"), "human")  # type: ignore[arg-type]
    assert rec.outcome is CallOutcome.HUMAN
    assert AbandonLedger("us", 0.03).regime is Regime.US  # type: ignore[arg-type]


def test_a_string_regime_uses_its_own_window() -> None:
    # a "us" ledger counts 30-day periods from the start, not calendar days
    ledger = AbandonLedger("us", 0.03)  # type: ignore[arg-type]
    ledger.record_live(0.0)
    ledger.record_live(2 * 86_400.0)
    assert ledger.live == 2.0
    assert window_index(ledger.regime, 2 * 86_400.0) == 0


def test_bad_words_are_refused_by_name() -> None:
    with pytest.raises(ValueError, match="'person'"):
        ev.CallAnswered(1, "person")  # type: ignore[arg-type]
