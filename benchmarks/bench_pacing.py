"""Pacing benchmark: every mode and baseline over a grid of team sizes and answer rates.

Runs the real engine in the simulator (issue 6's world: ring U(4, 16) s, 10 % machines,
10 % busy, 26 s no-answer timeout, exponential talk of mean 120 s, 10 s wrap-up, US regime)
for agents {5, 10, 20, 50, 100} x answer probability {0.15, 0.3, 0.5}, and prints per cell
the occupancy and abandon rate of each mode, and ratios against the baselines measured in
the same run. Simulated hours per cell scale down with the team so each cell sees tens of
thousands of live answers; they are printed with the table.

    .venv/bin/python benchmarks/bench_pacing.py            # the full grid (~10 min on 2 cores)
    .venv/bin/python benchmarks/bench_pacing.py --quick    # 1/8 of the hours
    .venv/bin/python benchmarks/bench_pacing.py --hours 20 --agents 20 --p 0.3
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import sys
import time

from trunkline.dialer.pacing.campaign import CampaignConfig
from trunkline.dialer.pacing.simulator import Simulator, World, team

AGENTS = (5, 10, 20, 50, 100)
PROBABILITIES = (0.15, 0.3, 0.5)
#: simulated hours per cell by team size (default run)
HOURS = {5: 40.0, 10: 40.0, 20: 80.0, 50: 24.0, 100: 12.0}

#: column name -> campaign settings; "vicidial", "progressive" and "power" are baselines
MODES: dict[str, dict] = {
    "manual": {"mode": "manual"},
    "preview": {"mode": "preview"},
    "progressive": {"mode": "progressive", "ratio": 1.0},
    "power1.5": {"mode": "power", "ratio": 1.5},
    "vicidial": {"mode": "vicidial"},
    "precise": {"mode": "precise"},
    "pred3%": {"mode": "predictive", "target_abandon": 0.03},
    "pred1%": {"mode": "predictive", "target_abandon": 0.01},
}


def run_cell(job: tuple[str, int, float, float, int]) -> dict:
    name, agents, p, hours, seed = job
    config = CampaignConfig("bench", **MODES[name])
    started = time.perf_counter()
    result = Simulator([config], team(agents, "bench"), World(answer_probability=p),
                       hours=hours, seed=seed).run()
    summary = result.summary()
    summary.update(mode=name, p=p, seconds=round(time.perf_counter() - started, 2))
    return summary


def table(results: list[dict], agents: list[int], probs: list[float], modes: list[str],
          hours: dict[int, float]) -> str:
    by = {(r["agents"], r["p"], r["mode"]): r for r in results}
    lines = []
    head = "| agents | p | h | " + " | ".join(modes) + " | pred3%/vici | pred1%/vici |"
    lines.append(head)
    lines.append("|" + "---|" * (len(modes) + 5))
    for n in agents:
        for p in probs:
            cells = []
            for m in modes:
                r = by[(n, p, m)]
                cell = f"{100 * r['occupancy']:.1f} / {100 * r['abandon_rate']:.2f}"
                if m == "precise":
                    cell += f" ({100 * r['answered_without_agent_rate']:.2f})"
                cells.append(cell)
            ratios = []
            for m in ("pred3%", "pred1%"):
                if m in modes and "vicidial" in modes:
                    base = by[(n, p, "vicidial")]["occupancy"]
                    ratios.append(f"{by[(n, p, m)]['occupancy'] / base:.3f}")
                else:
                    ratios.append("-")
            lines.append(f"| {n} | {p} | {hours[n]:g} | " + " | ".join(cells) + " | "
                         + " | ".join(ratios) + " |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--hours", type=float,
                        help="simulated hours for every cell (default: by team size, "
                        f"{HOURS})")
    parser.add_argument("--quick", action="store_true", help="one eighth of the hours")
    parser.add_argument("--agents", type=int, nargs="*", default=list(AGENTS))
    parser.add_argument("--p", type=float, nargs="*", default=list(PROBABILITIES))
    parser.add_argument("--modes", nargs="*", default=list(MODES), choices=list(MODES))
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--jobs", type=int, default=min(2, os.cpu_count() or 1))
    parser.add_argument("--json", metavar="FILE", help="also write every result as JSON")
    args = parser.parse_args(argv)

    hours = {n: (args.hours if args.hours else HOURS.get(n, 40.0)) / (8 if args.quick else 1)
             for n in args.agents}
    jobs = [(m, n, p, hours[n], args.seed) for n in args.agents for p in args.p
            for m in args.modes]
    jobs.sort(key=lambda j: -j[1] * j[3])  # big cells first, for a balanced pool
    started = time.perf_counter()
    if args.jobs > 1:
        with multiprocessing.Pool(args.jobs) as pool:
            results = pool.map(run_cell, jobs, chunksize=1)
    else:
        results = [run_cell(j) for j in jobs]
    wall = time.perf_counter() - started

    print("cells: occupancy % / abandon rate % (US definition: abandoned / live answers);"
          " precise adds (answered without an agent at once, %).")
    print("ratios: predictive occupancy / VICIdial-style baseline occupancy, same run.")
    print(table(results, args.agents, args.p, args.modes, hours))
    print(f"\nseed {args.seed}; simulated hours per cell by agents: "
          + ", ".join(f"{n}: {h:g}" for n, h in hours.items())
          + f"; wall {wall:.0f} s on {args.jobs} process(es); "
          f"max cell {max(r['seconds'] for r in results):.1f} s")
    if args.json:
        with open(args.json, "w", encoding="utf-8") as f:
            json.dump(results, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
