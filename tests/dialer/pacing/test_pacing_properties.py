"""Properties over random teams, lists and modes: the engine's invariants always hold."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from trunkline.dialer.pacing.actions import Connect, Dial, RecordOutcome
from trunkline.dialer.pacing.campaign import CampaignConfig
from trunkline.dialer.pacing.compliance import AbandonLedger
from trunkline.dialer.pacing.contacts import Contact, ContactQueue
from trunkline.dialer.pacing.simulator import AgentSpec, Simulator, World
from trunkline.dialer.vocab import AgentLevel, CallOutcome, Mode, Regime


class Invariants:
    """Watches every action: no number twice at once, no agent on two calls."""

    def __init__(self) -> None:
        self.numbers: dict[str, int] = {}
        self.agent_call: dict[str, int] = {}
        self.call_agent: dict[int, str] = {}
        self.dials = 0

    def __call__(self, action, now: float) -> None:
        if isinstance(action, Dial):
            assert action.contact.number not in self.numbers, (
                f"{action.contact.number} dialed while call "
                f"{self.numbers.get(action.contact.number)} is still on it")
            self.numbers[action.contact.number] = action.call_id
            self.dials += 1
        elif isinstance(action, Connect):
            assert action.agent not in self.agent_call, (
                f"agent {action.agent} given call {action.call_id} while on "
                f"{self.agent_call[action.agent]}")
            self.agent_call[action.agent] = action.call_id
            self.call_agent[action.call_id] = action.agent
        elif isinstance(action, RecordOutcome):
            self.numbers.pop(action.contact.number, None)
            agent = self.call_agent.pop(action.call_id, None)
            if agent is not None and action.outcome is CallOutcome.HUMAN:
                del self.agent_call[agent]


def duplicate_heavy_list(campaigns: list[str], n: int, distinct: int) -> ContactQueue:
    """A list where numbers repeat (imported lists do), to tempt double dialing."""
    q = ContactQueue()
    for i in range(n):
        for name in campaigns:
            q.add(Contact(f"{name}-{i}", f"+1{i % distinct}", name, preview=i % 17 == 5))
    return q


@pytest.mark.slow
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    mode=st.sampled_from(list(Mode)),
    agents=st.integers(1, 6),
    answer=st.floats(0.1, 0.7),
    ratio=st.sampled_from([1.0, 2.0, 3.0]),
    regime=st.sampled_from([Regime.US, Regime.UK, Regime.NONE]),
    seed=st.integers(0, 2**31),
    second=st.booleans(),
)
def test_no_number_twice_at_once_no_agent_two_calls_cap_holds(mode, agents, answer, ratio,
                                                               regime, seed, second):
    ratio = ratio if mode in (Mode.PROGRESSIVE, Mode.POWER) else 1.0
    configs = [CampaignConfig("A", mode=mode, ratio=ratio, regime=regime)]
    specs = [AgentSpec(f"a{i}", (("A", AgentLevel.STANDARD),)) for i in range(agents)]
    if second:  # a second campaign sharing some agents, with overflow
        configs.append(CampaignConfig("B", mode=Mode.POWER, ratio=2.0, regime=regime))
        specs.append(AgentSpec("b0", (("B", AgentLevel.HIGH), ("A", AgentLevel.OVERFLOW))))
        specs.append(AgentSpec("x0", (("A", AgentLevel.STANDARD),
                                      ("B", AgentLevel.STANDARD))))
    watch = Invariants()
    queue = duplicate_heavy_list([c.name for c in configs], 3000, distinct=40)
    result = Simulator(configs, specs, World(answer_probability=answer), hours=0.4,
                       seed=seed, provider=queue, observe=watch).run()
    assert watch.dials > 0
    if regime is not Regime.NONE and mode is not Mode.VICIDIAL:
        assert result.max_running_window_rate <= 0.03 + 1e-12


@given(st.lists(st.tuples(st.booleans(), st.integers(0, 6), st.integers(0, 3)),
                min_size=1, max_size=400))
def test_an_adversary_spending_every_allowance_never_breaks_the_cap(steps):
    """Dial everything the cap allows and make every uncovered call a live abandon."""
    ledger = AbandonLedger(Regime.US, 0.03)
    now = 0.0
    for covered_live, ready, waiting in steps:
        now += 60.0
        if covered_live:
            ledger.record_live(now)
        allowed = ledger.max_in_flight(now, ready=ready, waiting=0, horizon=30.0)
        uncovered = max(allowed - ready, 0)
        for _ in range(uncovered):
            ledger.record_live(now)
            ledger.record_abandon(now)
        assert ledger.abandoned <= 0.03 * ledger.live + 1e-9
        del waiting
