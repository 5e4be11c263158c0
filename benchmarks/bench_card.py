#!/usr/bin/env python3
"""Benchmark: the emulated card moving frames for 480 channels (16 E1 spans) in real time.

Every B-channel is open and carries network audio (speech, tones, music, in turn); the
application writes a frame back for every channel each tick, as a gateway would. We
report the CPU time per 20 ms tick (p50, p99), the wall time per tick, the overruns
(ticks that started more than one frame late) and the share of one core used. The
baseline, measured in the same run, is one E1 span (30 channels); the ratio column is
the CPU cost per channel relative to it.

    python benchmarks/bench_card.py [--seconds 20] [--spans 16]
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from trunkline.clock import RealClock, VirtualClock
from trunkline.drivers.backends.emulated.card import EmulatedCard
from trunkline.drivers.backends.emulated.config import card_config_from_string
from trunkline.drivers.backends.emulated.farend import Step


def make_card(spans: int, clock) -> EmulatedCard:
    # far_end = "none": the card alone, without the emulated R2 exchange behind it.
    text = "\n".join('[[span]]\nkind = "e1"\nsignalling = "cas"\nfar_end = "none"'
                     for _ in range(spans))
    card = EmulatedCard(card_config_from_string(text), clock=clock)
    sounds = card.sounds
    sources = [Step(c.clip, loop=True) for c in sounds.speech[:8]] + [
        Step(sounds.tones["ringback"][1], loop=True), Step(sounds.music, loop=True),
        Step(sounds.tones["busy"][1], loop=True), Step(sounds.fax_v21, loop=True)]
    channels = [c for s in card.spans for c in s.channels]
    for i, ch in enumerate(channels):
        card.port(ch).play([sources[i % len(sources)]])
    card.open(channels)
    return card


def run(spans: int, seconds: float, realtime: bool) -> dict[str, float]:
    clock = RealClock() if realtime else VirtualClock()
    card = make_card(spans, clock)
    n = len(card.open_channels)
    reply = np.zeros((n, 160), dtype=np.int16)
    ticks = int(seconds / 0.02)
    cpu, wall = np.zeros(ticks), np.zeros(ticks)
    late = 0
    start_wall = time.perf_counter()
    start_cpu = time.process_time()
    for i in range(ticks):
        # CPU time counts the whole tick (the sleep in read_frames costs none); wall
        # time counts from the frame's arrival to the reply, the tick's latency.
        t0c = time.process_time()
        frames = card.read_frames()  # waits for the frame on a real clock
        t1w = time.perf_counter()
        reply[:] = frames[::-1]  # echo something back, as a bridge would
        card.write_frames(reply)
        card.poll_events()
        cpu[i] = time.process_time() - t0c
        wall[i] = time.perf_counter() - t1w
    total_wall = time.perf_counter() - start_wall
    total_cpu = time.process_time() - start_cpu
    late = card.overruns
    card.close()
    return {
        "channels": n, "ticks": ticks, "cpu_p50_ms": float(np.percentile(cpu, 50) * 1e3),
        "cpu_p99_ms": float(np.percentile(cpu, 99) * 1e3),
        "wall_p99_ms": float(np.percentile(wall, 99) * 1e3), "overruns": late,
        "core_share": total_cpu / total_wall if realtime else float("nan"),
        "cpu_per_channel_us": total_cpu / ticks / n * 1e6,
        "realtime_factor": (ticks * 0.02) / total_wall,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=20.0,
                        help="real time to run each configuration (default 20)")
    parser.add_argument("--spans", type=int, default=16, help="E1 spans (default 16 = 480 ch)")
    args = parser.parse_args()
    rows = [
        ("baseline: 1 E1, real time", run(1, args.seconds, True)),
        (f"{args.spans} E1, real time", run(args.spans, args.seconds, True)),
        (f"{args.spans} E1, virtual time", run(args.spans, args.seconds, False)),
    ]
    base = rows[0][1]["cpu_per_channel_us"]
    header = (f"{'configuration':<26} {'chans':>5} {'ticks':>6} {'cpu p50':>8} {'cpu p99':>8} "
              f"{'wall p99':>8} {'overruns':>8} {'core':>6} {'us/ch/tick':>10} {'ratio':>6} "
              f"{'x realtime':>10}")
    print(header)
    print("-" * len(header))
    for name, r in rows:
        share = "-" if np.isnan(r["core_share"]) else f"{r['core_share']:.0%}"
        print(f"{name:<26} {r['channels']:>5} {r['ticks']:>6} {r['cpu_p50_ms']:>6.2f}ms "
              f"{r['cpu_p99_ms']:>6.2f}ms {r['wall_p99_ms']:>6.2f}ms {r['overruns']:>8} "
              f"{share:>6} {r['cpu_per_channel_us']:>10.2f} "
              f"{r['cpu_per_channel_us'] / base:>6.2f} {r['realtime_factor']:>10.1f}")
    print("\nratio: CPU per channel per tick against the 1-span baseline (below 1: the "
          "per-tick fixed cost is shared by more channels).")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
