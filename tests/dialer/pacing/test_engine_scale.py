"""Many campaigns on one engine (issue 7 item 6): idle campaigns cost nothing.

1,000 campaigns are configured in one engine and a few of them run (have agents and
calls). The engine must never ask for contacts of, pace, or time anything for the idle
ones, and the running campaigns must come out exactly as they do alone (same seed, same
dials, answers and abandons). The cost itself is measured by
``benchmarks/bench_campaigns.py``, not here.
"""

from __future__ import annotations

from collections import Counter

import pytest

from trunkline.dialer.pacing.campaign import CampaignConfig
from trunkline.dialer.pacing.contacts import Contact, SyntheticContacts
from trunkline.dialer.pacing.simulator import Simulator, World, team


class CountingContacts(SyntheticContacts):
    """Synthetic contacts that count which campaigns were asked for one."""

    def __init__(self) -> None:
        super().__init__()
        self.asked: Counter[str] = Counter()

    def next_contact(self, campaign: str, now: float) -> Contact | None:
        self.asked[campaign] += 1
        return super().next_contact(campaign, now)


def _run(idle: int) -> tuple[Simulator, CountingContacts]:
    running = [CampaignConfig(f"run{i}", mode=mode)
               for i, mode in enumerate(("predictive", "progressive", "precise"))]
    idle_configs = [CampaignConfig(f"idle{i:03d}") for i in range(idle)]
    agents = [spec for i, c in enumerate(running) for spec in team(3, c.name, prefix=f"c{i}-")]
    contacts = CountingContacts()
    sim = Simulator(running + idle_configs, agents, World(), hours=0.5, seed=3,
                    provider=contacts)
    sim.run()
    return sim, contacts


@pytest.mark.slow
def test_idle_campaigns_are_never_visited_and_change_nothing() -> None:
    alone, alone_contacts = _run(0)
    crowded, crowded_contacts = _run(997)
    assert set(crowded_contacts.asked) == {"run0", "run1", "run2"}
    assert crowded_contacts.asked == alone_contacts.asked
    for name in ("run0", "run1", "run2"):
        a, b = alone.engine.stats(name), crowded.engine.stats(name)
        assert (a.dials, a.live, a.abandoned, a.machines) == \
            (b.dials, b.live, b.abandoned, b.machines)
        assert a.dials > 50
    for i in range(997):
        stats = crowded.engine.stats(f"idle{i:03d}")
        assert stats.dials == stats.live == 0
    assert crowded.engine.next_deadline() == alone.engine.next_deadline()
