"""Campaign scale benchmark (issue 7 item 6): 1,000 campaigns defined, 100 running.

Two measurements, each with its baseline measured in the same run:

* **engine**: the real engine in the simulator (issue 6's world) with 100 running
  campaigns of 2 agents each, for half an hour of virtual time, alone and then with 900
  idle campaigns defined beside them (configured in the same engine, no agents, no
  calls). Printed: CPU microseconds per engine event (ticks included) and the ratio to
  the run without idle campaigns; the outcome counts must be identical (idle campaigns
  change nothing).
* **store**: claiming the next contact (``StoreContacts.next_contact``, one SQLite
  transaction) for the 100 running campaigns, with 100 and with 1,000 campaigns defined
  in the database (20 contacts each).

    .venv/bin/python benchmarks/bench_campaigns.py            # ~1 min on 2 cores
    .venv/bin/python benchmarks/bench_campaigns.py --hours 0.1
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from trunkline.dialer.campaigns.strategies import Strategy, Windows
from trunkline.dialer.pacing.campaign import CampaignConfig
from trunkline.dialer.pacing.simulator import Simulator, World, team
from trunkline.dialer.store import NewContact, Store, StoreContacts

RUNNING = 100
DEFINED = 1000


def engine_run(idle: int, hours: float) -> tuple[float, int, dict[str, int]]:
    """(CPU seconds, engine events, outcome counts) of one simulation."""
    running = [CampaignConfig(f"run{i:03d}", mode="predictive") for i in range(RUNNING)]
    idle_configs = [CampaignConfig(f"idle{i:03d}", mode="predictive") for i in range(idle)]
    agents = [spec for i, c in enumerate(running) for spec in team(2, c.name, prefix=f"c{i}-")]
    sim = Simulator(running + idle_configs, agents, World(), hours=hours, seed=7)
    started = time.process_time()
    result = sim.run()
    cpu = time.process_time() - started
    stats = [sim.engine.stats(c.name) for c in running]
    counts = {"dials": sum(s.dials for s in stats), "live": sum(s.live for s in stats),
              "abandoned": sum(s.abandoned for s in stats)}
    idle_dials = sum(sim.engine.stats(c.name).dials for c in idle_configs)
    if idle_dials:
        raise SystemExit(f"idle campaigns dialled {idle_dials} calls")
    return cpu, result.events, counts


def store_claims(defined: int, folder: Path) -> float:
    """Microseconds per claimed contact for the running campaigns."""
    store = Store(folder / f"campaigns-{defined}.sqlite")
    now = 1_750_000_000.0
    always = Strategy(windows=Windows.from_dict({"default": ["00:00-24:00"]}))
    for i in range(defined):
        name = f"c{i:04d}"
        store.create_campaign(name, always, now=now)
        store.add_list(name, "list", [NewContact(f"+86138{i:04d}{j:04d}", {}, line=j + 2)
                                      for j in range(20)], now=now)
    # write the import back into the database first: the claims are what is measured,
    # not the checkpoint of 20,000 freshly imported rows that the first commits would do
    store.query("PRAGMA wal_checkpoint(TRUNCATE)")
    contacts = StoreContacts(store)
    names = [f"c{i:04d}" for i in range(RUNNING)]
    claimed = 0
    started = time.perf_counter()
    for _ in range(5):
        for name in names:
            if contacts.next_contact(name, now) is not None:
                claimed += 1
    elapsed = time.perf_counter() - started
    store.close()
    return 1e6 * elapsed / claimed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hours", type=float, default=0.5,
                        help="virtual hours of each engine run (default 0.5)")
    args = parser.parse_args()
    base_cpu, base_events, base_counts = engine_run(0, args.hours)
    cpu, events, counts = engine_run(DEFINED - RUNNING, args.hours)
    base_us, us = 1e6 * base_cpu / base_events, 1e6 * cpu / events
    with tempfile.TemporaryDirectory() as tmp:
        claim_base = store_claims(RUNNING, Path(tmp))
        claim_all = store_claims(DEFINED, Path(tmp))
    print(f"{RUNNING} running campaigns x 2 agents, {args.hours:g} h virtual "
          f"(dials {base_counts['dials']}, live {base_counts['live']}, "
          f"abandoned {base_counts['abandoned']})")
    print(f"{'measure':<44}{'baseline':>12}{'+idle':>12}{'ratio':>8}")
    print(f"{'engine us/event (0 vs 900 idle campaigns)':<44}{base_us:>12.1f}{us:>12.1f}"
          f"{us / base_us:>8.2f}")
    print(f"{'engine events':<44}{base_events:>12}{events:>12}{events / base_events:>8.2f}")
    print(f"{'store us/claim (100 vs 1000 defined)':<44}{claim_base:>12.0f}"
          f"{claim_all:>12.0f}{claim_all / claim_base:>8.2f}")
    same = "identical" if counts == base_counts else f"DIFFERENT: {counts}"
    print(f"outcomes with 900 idle campaigns: {same}")


if __name__ == "__main__":
    main()
