"""Live floor benchmark: the supervisor's wallboard computed and encoded for a floor of
agents and channels, sans-IO (issue 18: 200 agents and 1,000 channels, every second).

Per size it times, over ``--rounds`` updates with the state changing between them:

* ``baseline``: encoding the raw facts as JSON (what any floor must at least do: copy
  every agent, campaign and channel onto the WebSocket), measured in the same run;
* ``floor``: :meth:`FloorWatch.update` (time in state, the abandon gauges, penetration,
  predicted wait, span and channel counts, alarms) and encoding its result as JSON.

Printed: median and p99 milliseconds per update, the ratio of the floor's median to the
baseline's, the JSON size, and the share of the one-second budget the floor takes.

    .venv/bin/python benchmarks/bench_floor.py
    .venv/bin/python benchmarks/bench_floor.py --rounds 200
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import random
import time

import numpy as np

from trunkline.dialer.service.floor import (
    AgentFact,
    CampaignFact,
    ChannelFact,
    FloorFacts,
    FloorWatch,
    SpanFact,
)

STATES = ("ready", "talking", "talking", "talking", "wrap_up", "paused", "reserved")
SIZES = ((50, 250), (200, 1000), (800, 4000))
CAMPAIGN_KEYS = [f.name for f in dataclasses.fields(CampaignFact)]


def facts(agents: int, channels: int, now: float, rng: random.Random) -> FloorFacts:
    campaigns = max(1, agents // 20)
    names = [f"campaign-{i}" for i in range(campaigns)]
    agent_rows = tuple(
        AgentFact(f"agent-{i:04d}", rng.choice(STATES), since=now - rng.uniform(0, 600),
                  reason="break" if rng.random() < 0.1 else "",
                  campaigns=(names[i % campaigns],), campaign=names[i % campaigns],
                  contact=str(rng.randrange(10**6)), number=f"1380000{i:04d}",
                  gateway="gw")
        for i in range(agents))
    campaign_rows = tuple(
        CampaignFact(name, "running", "predictive", "us", 0.03, 0.03,
                     dials=int(now), live=int(now * 0.3), abandoned=int(now * 0.006),
                     window_live=now * 0.3, window_abandoned=now * 0.006 * rng.uniform(0.5, 1.5),
                     contacts=50_000, attempted=int(now * 2), open=50_000 - int(now * 2),
                     gateway="gw")
        for name in names)
    per_span = 30
    spans = []
    for s in range(0, channels, per_span):
        chans = tuple(ChannelFact(c, "blocked" if rng.random() < 0.02 else "up",
                                  call=rng.randrange(10**6) if rng.random() < 0.6 else None)
                      for c in range(s + 1, min(channels, s + per_span) + 1))
        spans.append(SpanFact("gw", s // per_span + 1, "e1",
                              "RED" if rng.random() < 0.01 else "OK", chans))
    return FloorFacts(agent_rows, campaign_rows, tuple(spans))


def raw_json(f: FloorFacts) -> str:
    return json.dumps({"agents": [[a.agent, a.state, a.since, a.reason, a.campaigns,
                                   a.campaign, a.contact, a.number, a.gateway]
                                  for a in f.agents],
                       "campaigns": [[getattr(c, k) for k in CAMPAIGN_KEYS]
                                     for c in f.campaigns],
                       "spans": [[s.gateway, s.span, s.kind, s.alarms,
                                  [[c.channel, c.state, c.call] for c in s.channels]]
                                 for s in f.spans]})


def measure(agents: int, channels: int, rounds: int, seed: int) -> dict[str, float]:
    rng = random.Random(seed)
    inputs = [facts(agents, channels, 1000.0 + i, rng) for i in range(rounds)]
    base, flo = [], []
    watch = FloorWatch()
    size = 0
    for i, f in enumerate(inputs):
        t = time.perf_counter()
        raw_json(f)
        base.append(time.perf_counter() - t)
        t = time.perf_counter()
        floor, _ = watch.update(f, 1000.0 + i)
        text = json.dumps(floor)
        flo.append(time.perf_counter() - t)
        size = len(text)
    b, fl = np.array(base) * 1e3, np.array(flo) * 1e3
    return {"base_p50": float(np.median(b)), "base_p99": float(np.percentile(b, 99)),
            "floor_p50": float(np.median(fl)), "floor_p99": float(np.percentile(fl, 99)),
            "bytes": size}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=100)
    parser.add_argument("--seed", type=int, default=18)
    args = parser.parse_args()
    print(f"{'agents':>6} {'channels':>8} | {'baseline ms p50':>15} {'p99':>6} | "
          f"{'floor ms p50':>12} {'p99':>6} | {'ratio':>5} | {'JSON KiB':>8} | "
          f"{'of 1 s':>6}")
    for agents, channels in SIZES:
        r = measure(agents, channels, args.rounds, args.seed)
        print(f"{agents:>6} {channels:>8} | {r['base_p50']:>15.2f} {r['base_p99']:>6.2f} | "
              f"{r['floor_p50']:>12.2f} {r['floor_p99']:>6.2f} | "
              f"{r['floor_p50'] / r['base_p50']:>5.2f} | {r['bytes'] / 1024:>8.1f} | "
              f"{r['floor_p50'] / 10:>5.2f}%")


if __name__ == "__main__":
    main()
