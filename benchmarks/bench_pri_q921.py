#!/usr/bin/env python3
"""Soak: Q.921 recovery (MDL-ERRORs) on the emulated card's PRI span, real and scaled time.

A PRI campaign on the emulated card: waves of calls on span 1 (the hil-tests number
plan's 1380* subscribers: they answer after 11 s of ringing and we hang up 1 s later),
driven by the line loop as the gateway drives it, on a real clock and on scaled clocks. Under load a
late read leaves the far end's Q.921 polling (T200, 1 s of card time; 1/speed s of real
time on a scaled clock) and our side answering afterwards: libpri then reports
MDL-ERRORs (docs/pri.md, "Q.921 errors in the log"). This prints, per clock, the card's
overruns and the MDL-ERRORs by code on our side and on the network's, with the load
average beside them; ``--stall S`` adds one stall of S seconds of card time to each wave,
0.5 s before the answers (a tick that does not return while the network's CONNECTs wait
for our acknowledgement): the recovery case made sure.

The baseline, in the same run, is the same campaign in virtual time (no load can make a
read late there, so without ``--stall`` no MDL-ERROR is expected); the ratio column is
overruns per minute of card time against the real-clock run.

    python benchmarks/bench_pri_q921.py [--speeds 1,4,8] [--waves 2] [--calls 20] [--stall 0]
"""

from __future__ import annotations

import argparse
import os
import time
from collections import Counter
from collections.abc import MutableMapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import structlog

from trunkline.clock import Clock, RealClock, ScaledClock, VirtualClock
from trunkline.drivers.backends.emulated.card import EmulatedCard
from trunkline.drivers.dsp.zones import load_zone
from trunkline.drivers.lineloop import LineLoop
from trunkline.drivers.signalling.leg import CallOptions
from trunkline.drivers.signalling.pri.signalling import PriSignalling

PLAN = Path(__file__).resolve().parents[1] / "hil-tests" / "network.toml"
SPAN = 1
#: When the plan's 1380* subscribers answer (hil-tests/network.toml).
ANSWER_AFTER = 11.0


@dataclass(frozen=True)
class Run:
    """What one campaign cost and what Q.921 reported."""

    card_s: float
    real_s: float
    overruns: int
    ours: Counter[str]
    network: Counter[str]
    link_drops: int
    load: float


def campaign(clock: Clock, *, waves: int, calls: int, stall: float) -> Run:
    """One campaign on a fresh card; what it cost and what Q.921 reported."""
    card = EmulatedCard(clock=clock, network=PLAN)
    speed = clock.speed if isinstance(clock, ScaledClock) else 1.0
    started_real, started = time.monotonic(), clock.now()
    try:
        with LineLoop(card, zone=load_zone("cn"), spans=[SPAN]) as loop:
            module = loop.module(SPAN)
            assert isinstance(module, PriSignalling)
            for wave in range(waves):
                legs = [loop.originate(CallOptions(f"1380{wave:03d}{i:04d}", hold=1.0,
                                                   ring_timeout=30.0), span=SPAN)
                        for i in range(calls)]
                stalled = [stall <= 0]
                due = clock.now() + ANSWER_AFTER - 0.5

                def on_tick(_frames: object, due: float = due,
                            stalled: list[bool] = stalled) -> None:
                    if not stalled[0] and clock.now() >= due:
                        stalled[0] = True
                        if isinstance(clock, VirtualClock):
                            clock.advance(stall)
                        else:
                            time.sleep(stall / speed)

                loop.run(lambda: all(leg.ended for leg in legs),  # noqa: B023
                         on_tick=on_tick, max_seconds=60.0)
            network = card.network_side(SPAN).exchange.span
            return Run(clock.now() - started, time.monotonic() - started_real, card.overruns,
                       Counter(module.q921_errors), Counter(network.q921_errors),
                       card.network_side(SPAN).link_drops, os.getloadavg()[0])
    finally:
        card.close()


def codes(counts: Counter[str]) -> str:
    return " ".join(f"{code}:{n}" for code, n in sorted(counts.items())) or "-"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--speeds", default="1,4,8",
                        help="clock speeds to run (1: the real clock); default 1,4,8")
    parser.add_argument("--waves", type=int, default=2, help="waves of calls (default 2)")
    parser.add_argument("--calls", type=int, default=20, help="calls a wave (default 20)")
    parser.add_argument("--stall", type=float, default=0.0,
                        help="one stall a wave, in seconds of card time (default 0)")
    args = parser.parse_args()
    speeds = [float(s) for s in args.speeds.split(",") if s.strip()]
    if not speeds or any(s <= 0 for s in speeds):
        parser.error(f"--speeds must be positive numbers, got {args.speeds!r}")
    structlog.configure(processors=[_drop])  # the counts are the report

    runs: list[tuple[str, Run]] = []
    clocks: list[tuple[str, Clock]] = [("virtual (baseline)", VirtualClock())]
    clocks += [("real" if s == 1.0 else f"scaled x{s:g}",
                RealClock() if s == 1.0 else ScaledClock(s)) for s in speeds]
    for name, clock in clocks:
        runs.append((name, campaign(clock, waves=args.waves, calls=args.calls,
                                    stall=args.stall)))

    per_minute = {name: r.overruns / r.card_s * 60 for name, r in runs}
    base = per_minute.get("real")
    print(f"PRI campaign: {args.waves} waves x {args.calls} calls, "
          f"stall {args.stall:g} s a wave")
    header = (f"{'clock':<20} {'card s':>7} {'real s':>7} {'overruns':>8} {'/min':>7} "
              f"{'ratio':>6} {'ours':>10} {'network':>14} {'drops':>5} {'load1':>6}")
    print(header)
    print("-" * len(header))
    for name, r in runs:
        ratio = (f"{per_minute[name] / base:.2f}" if base else "-") \
            if not name.startswith("virtual") else "-"
        print(f"{name:<20} {r.card_s:>7.1f} {r.real_s:>7.1f} {r.overruns:>8} "
              f"{per_minute[name]:>7.1f} {ratio:>6} {codes(r.ours):>10} "
              f"{codes(r.network):>14} {r.link_drops:>5} {r.load:>6.2f}")
    print("\nours/network: Q.921 MDL-ERRORs by code (A-F: recovery already over; G-K: the "
          "link failed or was re-established); drops: the network's link drops; ratio: "
          "overruns per card minute against the real clock's.")


def _drop(_logger: Any, _name: str, _event: MutableMapping[str, Any]) -> Any:
    raise structlog.DropEvent


if __name__ == "__main__":
    main()
