#!/usr/bin/env python3
"""Benchmark: 30 MFC/R2 calls set up at once on one E1 span, against the tick budget.

Every timeslot of one China No.1 span is seized in the same tick; the 30 compelled MF
sequences (called number, KA and the calling number, KD, group B) run side by side on
the line loop's one detector pass, until every call rings. The emulated card's R2
exchange answers them (its own register and detector), in virtual time so the
machine's load cannot starve the compelled cycles.

We report our side's CPU per 20 ms tick (signal, timers, detection, write: what the
gateway's tick would do; the card's read is the emulated network and is reported
apart), p50/p99/max over the set-up, the set-up time of the slowest call in line time,
and the outcome of every call. The baseline, measured in the same run, is 30 PRI calls
placed at once on one span (SETUP to ALERTING over libpri, no MF): the ratio is what
R2's register signalling costs against it. The same span with its 30 circuits idle
(the always-open CAS channels alone) is shown too.

    python benchmarks/bench_r2.py [--calls 30] [--repeat 3]
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable

import numpy as np

from trunkline.clock import VirtualClock
from trunkline.drivers.backends.emulated.card import EmulatedCard
from trunkline.drivers.backends.emulated.config import card_config_from_string
from trunkline.drivers.dsp.zones import load_zone
from trunkline.drivers.lineloop import LineLoop
from trunkline.drivers.signalling.leg import CallOptions, Leg

CARD = """
[[span]]
kind = "e1"
signalling = "cas"
variant = "cn"
[[span]]
kind = "e1"
signalling = "pri"
"""
R2_SPAN, PRI_SPAN = 1, 2
BUDGET_MS = 20.0


def timed_ticks(loop: LineLoop, until: Callable[[], bool], max_ticks: int
                ) -> tuple[list[float], list[float], int]:
    """Tick until ``until()``; our side's CPU per tick and the card's (ms), and ticks."""
    ours, card = [], []
    ticks = 0
    while not until() and ticks < max_ticks:
        t0 = time.process_time()
        frames = loop.read()
        t1 = time.process_time()
        now = loop.clock.now()
        loop.signal(now)
        loop.run_timers(now)
        loop.detect(frames, now)
        loop.write()
        t2 = time.process_time()
        card.append((t1 - t0) * 1000)
        ours.append((t2 - t1) * 1000)
        ticks += 1
    return ours, card, ticks


def ringing(leg: Leg) -> bool:
    return leg.ended or any(e["event"] == "alerting" for e in leg.result()["events"])


def scenario(kind: str, calls: int) -> dict:
    card = EmulatedCard(card_config_from_string(CARD), clock=VirtualClock())
    with card, LineLoop(card, zone=load_zone("cn"), spans=[R2_SPAN, PRI_SPAN]) as loop:
        loop.run(lambda: bool(loop.modules[PRI_SPAN].link_up), max_seconds=5)
        for _ in range(10):
            loop.tick()
        legs: list[Leg] = []
        if kind == "r2":
            for ch in card.span(R2_SPAN).channels[:calls]:
                legs.append(loop.originate(CallOptions(f"138{ch:08d}", calling="01088886666",
                                                       ring_timeout=120),
                                           span=R2_SPAN, channel=ch))
        elif kind == "pri":
            for i in range(calls):
                legs.append(loop.originate(CallOptions(f"138{i:08d}", ring_timeout=120),
                                           span=PRI_SPAN))
        start = loop.clock.now()
        if kind == "idle":
            ours, card_ms, ticks = timed_ticks(loop, lambda: False, 100)
        else:
            ours, card_ms, ticks = timed_ticks(loop, lambda: all(ringing(g) for g in legs),
                                               3000)
        setup = loop.clock.now() - start if legs else 0.0
        outcomes = sorted({"ringing" if not g.ended else g.result()["outcome"] for g in legs})
        for leg in legs:
            if not leg.ended:
                loop.hangup(leg)
        loop.run(lambda: all(g.ended for g in legs), max_seconds=10)
    return {"ours": np.array(ours), "card": np.array(card_ms), "ticks": ticks,
            "setup": setup, "outcomes": outcomes}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[1])
    parser.add_argument("--calls", type=int, default=30)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    from trunkline.logs import configure_logging

    configure_logging("warning")
    rows = []
    for name, kind, calls in ((f"baseline: {args.calls} PRI calls at once", "pri", args.calls),
                              ("30 idle R2 circuits", "idle", 0),
                              (f"{args.calls} R2 calls at once", "r2", args.calls)):
        runs = [scenario(kind, calls) for _ in range(args.repeat)]
        ours = np.concatenate([r["ours"] for r in runs])
        card = np.concatenate([r["card"] for r in runs])
        rows.append((name, ours, card, max(r["setup"] for r in runs),
                     sorted({o for r in runs for o in r["outcomes"]})))
    base = float(np.median(rows[0][1]))
    print(f"{'scenario':<30} {'ours p50 / p99 / max ms':>24} {'ratio p50':>9} "
          f"{'% budget p99':>12} {'card p50 ms':>11} {'set-up s':>8}  outcomes")
    for name, ours, card, setup, outcomes in rows:
        p50, p99, top = np.percentile(ours, 50), np.percentile(ours, 99), ours.max()
        print(f"{name:<30} {p50:7.3f} / {p99:6.3f} / {top:6.3f} {p50 / base:9.2f} "
              f"{100 * p99 / BUDGET_MS:11.1f}% {np.median(card):11.3f} "
              f"{f'{setup:.2f}' if setup else '-':>8}  {', '.join(outcomes) or '-'}")


if __name__ == "__main__":
    main()
