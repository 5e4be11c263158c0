"""The mobile card's tick (issue 20): what moving AT and PCM over real ptys costs.

A 20 ms tick of the mobile card reads each module's AT and audio ports (pyserial), runs
its AT state machine, and writes a frame of PCM back; with emulated modules the card
also steps the modules and the network behind them. Measured per tick, in CPU and wall
milliseconds, with the sample card's two emulated modules (and ``--modules N``):

* idle: no call (the AT side polls +CSQ/+CREG every 30 s);
* in calls: every module in an answered call, PCM both ways each tick.

The budget is the tick: 20 ms for everything the gateway does, on a 2-core box.

    .venv/bin/python benchmarks/bench_mobile.py
    .venv/bin/python benchmarks/bench_mobile.py --modules 8 --seconds 20
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from trunkline.clock import VirtualClock
from trunkline.drivers.backends.mobile.card import MobileCard
from trunkline.drivers.backends.mobile.config import mobile_config_from_string
from trunkline.drivers.modem import CallProgress


def card_with(modules: int) -> MobileCard:
    text = "".join(f'[[module]]\nname = "gsm{i}"\nemulated = true\n' for i in range(modules))
    return MobileCard(mobile_config_from_string(text), clock=VirtualClock())


def run(card: MobileCard, ticks: int) -> tuple[float, float]:
    """(CPU ms, wall ms) per tick."""
    cpu, wall = time.process_time(), time.perf_counter()
    for _ in range(ticks):
        rx = card.read_frames()
        card.poll_events()
        card.write_frames(np.zeros_like(rx))
    return ((time.process_time() - cpu) * 1000 / ticks,
            (time.perf_counter() - wall) * 1000 / ticks)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--modules", type=int, default=2)
    parser.add_argument("--seconds", type=float, default=10.0)
    args = parser.parse_args()
    ticks = int(args.seconds / 0.02)
    with card_with(args.modules) as card:
        card.open(list(card.channels))
        idle = run(card, ticks)
        links = [card.modem(s.number) for s in card.spans]
        for link in links:
            link.dial("13800000001")  # the sample plan: a person, answering in 3..12 s
        active: set[int] = set()
        for _ in range(int(15 / 0.02)):
            rx = card.read_frames()
            card.write_frames(np.zeros_like(rx))
            for i, link in enumerate(links):
                while (event := link.receive()) is not None:
                    if event.progress is CallProgress.ACTIVE:
                        active.add(i)
        calls = run(card, ticks)
        card.close_channel(list(card.channels))
    print(f"{args.modules} emulated modules, {ticks} ticks each")
    print(f"  idle       : {idle[0]:6.3f} ms CPU, {idle[1]:6.3f} ms wall per tick")
    print(f"  {len(active)} in calls : {calls[0]:6.3f} ms CPU, {calls[1]:6.3f} ms wall per tick"
          " (modules and their network included)")


if __name__ == "__main__":
    main()
