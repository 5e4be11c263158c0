"""The abandon limit runs from the moment each regime names (issue #15, item 3).

US TSR 16 CFR 310.4(b)(4)(iii): 2 s after the completed greeting; Ofcom: 2 s after the
answer. Answer detection takes seconds to say "human", so a limit counted from its
verdict let a UK caller wait 2 s too many.
"""

from __future__ import annotations

import pytest
from dialer_testkit import Driver, contacts, dials

from trunkline.dialer.pacing import events as ev
from trunkline.dialer.pacing.abandon_clock import abandon_clock_start
from trunkline.dialer.pacing.actions import Abandon, Connect, RecordOutcome
from trunkline.dialer.pacing.campaign import CampaignConfig
from trunkline.dialer.pacing.contacts import ContactQueue
from trunkline.dialer.vocab import AbandonRoute, AnswerKind, CallOutcome, Regime


def waiting_call(regime: str) -> tuple[Driver, int, float]:
    """A power campaign at two lines for its one agent, after enough connected live
    answers that the regime's cap leaves room for a call nobody is free to take; the
    agent takes the first answer and the second waits. Returns the driver, the waiting
    call and the time its line answers."""
    d = Driver(CampaignConfig("c", mode="power", ratio=2.0, regime=regime),
               queue=ContactQueue(contacts("c", 200)))
    d.login("a1", ("c", "standard"))
    t = 0.0
    d.tick(t)
    while len(live := [a.call_id for a in dials(d.actions) if a.call_id in d.engine.calls]) < 2:
        t += 1.0
        d.send(ev.CallAnswered(live[0], AnswerKind.HUMAN), at=t)
        d.send(ev.CallHungUp(live[0]), at=t + 0.5)
        d.send(ev.WrapUpDone("a1"), at=t + 0.6)
        d.tick(t + 0.7)
    first, second = live[:2]
    d.send(ev.CallAnswered(first, AnswerKind.HUMAN), at=t + 1.0)
    return d, second, t + 2.0


def abandoned_at(d: Driver, call_id: int, since: float) -> float | None:
    for step in range(1, 100):
        t = round(since + step / 10, 6)
        out = d.tick(t)
        if any(isinstance(a, Abandon) and a.call_id == call_id for a in out):
            return t - since
    return None


def test_uk_counts_from_the_answer_not_from_the_verdict() -> None:
    d, call, t0 = waiting_call("uk")
    # the line answered at t0, the greeting ended 0.8 s later, AMD said "human" at 1.5 s
    d.send(ev.CallAnswered(call, AnswerKind.HUMAN, answered_at=t0,
                           greeting_ended_at=t0 + 0.8), at=t0 + 1.5)
    assert abandoned_at(d, call, t0 + 1.5) == pytest.approx(0.5)


def test_us_counts_from_the_end_of_the_greeting() -> None:
    d, call, t0 = waiting_call("us")
    d.send(ev.CallAnswered(call, AnswerKind.HUMAN, answered_at=t0,
                           greeting_ended_at=t0 + 0.8), at=t0 + 1.5)
    assert abandoned_at(d, call, t0 + 1.5) == pytest.approx(1.3)


def test_a_verdict_after_the_limit_abandons_at_once_with_the_message() -> None:
    d, call, t0 = waiting_call("uk")
    out = d.send(ev.CallAnswered(call, AnswerKind.HUMAN, answered_at=t0,
                                 greeting_ended_at=t0 + 1.0), at=t0 + 2.4)
    assert Abandon(call, "c", AbandonRoute.MESSAGE) in out
    (rec,) = [a for a in out if isinstance(a, RecordOutcome)]
    assert rec.outcome is CallOutcome.ABANDONED
    assert d.engine.stats("c").abandoned == 1


def test_unknown_moments_fall_back_to_the_verdict() -> None:
    d, call, t0 = waiting_call("uk")
    d.send(ev.CallAnswered(call, AnswerKind.HUMAN), at=t0 + 1.5)
    assert abandoned_at(d, call, t0 + 1.5) == pytest.approx(2.0)


def test_a_free_agent_still_takes_a_late_verdict() -> None:
    d = Driver(CampaignConfig("c", mode="progressive", regime="uk"),
               queue=ContactQueue(contacts("c", 3)))
    d.login("a1", ("c", "standard"))
    (dial,) = dials(d.tick(0.0))
    out = d.send(ev.CallAnswered(dial.call_id, AnswerKind.HUMAN, answered_at=1.0), at=4.0)
    assert Connect(dial.call_id, "a1") in out


@pytest.mark.parametrize(("regime", "expected"), [
    (Regime.UK, 1.0), (Regime.US, 3.0), (Regime.CN, 3.0), (Regime.NONE, 3.0)])
def test_clock_start_per_regime(regime: Regime, expected: float) -> None:
    assert abandon_clock_start(regime, answered_at=1.0, greeting_ended_at=3.0,
                               now=4.0) == expected
    # never later than now, and the answer when the greeting's end is unknown
    assert abandon_clock_start(regime, answered_at=None, greeting_ended_at=None,
                               now=4.0) == 4.0
    assert abandon_clock_start(regime, answered_at=1.0, greeting_ended_at=None,
                               now=4.0) == 1.0


def test_bad_moments_are_refused_by_name() -> None:
    with pytest.raises(ValueError, match="answered_at must be a finite time"):
        ev.CallAnswered(1, AnswerKind.HUMAN, answered_at=float("nan"))
    with pytest.raises(ValueError, match="cannot end"):
        ev.CallAnswered(1, AnswerKind.HUMAN, answered_at=5.0, greeting_ended_at=4.0)
