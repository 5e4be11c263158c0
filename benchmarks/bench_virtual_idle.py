#!/usr/bin/env python3
"""An idle-heavy virtual campaign run, outside the detector, against the old tick.

Run: ``.venv/bin/python benchmarks/bench_virtual_idle.py [--seconds 300] [--repeat 2]``

Issue 15, item 6: ``dialer run --virtual`` with a handful of contacts spends most of its
ticks with nothing to do (6 contacts: a few seconds of calls, then agents waiting), yet
each 20 ms tick of virtual time cost about 1.7 ms of CPU. A profile of such a run (6
contacts, 2 agents, 600 virtual s, cProfile) put about 11 % of it in
``gateway.background.drain``: after every tick the in-process gateway sent an empty task
to each background thread (recordings, fax documents) and waited for it, a thread
hand-off every 20 ms even with nothing queued. Now a pool with nothing outstanding is
skipped. The baseline patches the old drain back in, in the same run, alternating, best
of ``--repeat``; both runs must store the same attempts (outcomes, times, causes) and
give the same summary.
"""

from __future__ import annotations

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import argparse
import sqlite3
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from trunkline.dialer.campaigns.lists import import_file
from trunkline.dialer.campaigns.strategies import Strategy, Windows
from trunkline.dialer.pacing.engine import quiet_logger
from trunkline.dialer.runner.campaign_runner import CampaignRunner
from trunkline.dialer.runner.gateway import InProcessGateway
from trunkline.dialer.store import Store
from trunkline.gateway import background, testing

#: Wednesday 2025-06-04 10:00 in Shanghai (inside the all-day window).
T0 = 1749002400.0
ALWAYS = Strategy(windows=Windows.from_dict({"default": ["00:00-24:00"]}))
#: Six numbers of the sample network: three humans, two busy, one machine.
NUMBERS = ("13810001234", "13810009153", "13810017072", "13700001234", "13700009153",
           "13900001234")


def old_drain(timeout: float = 30.0) -> None:
    """The drain before: an empty task to every pool, waited for, every tick."""
    with background._lock:
        pools = list(background._pools.values())
    for pool in pools:
        pool.submit(lambda: None).result(timeout=timeout)


@contextmanager
def patched_drain(fn: Callable[..., None]) -> Iterator[None]:
    saved = testing.drain  # type: ignore[attr-defined]
    testing.drain = fn  # type: ignore[attr-defined]
    try:
        yield
    finally:
        testing.drain = saved  # type: ignore[attr-defined]


def one_run(seconds: float) -> tuple[float, float, int, Any, list[tuple[Any, ...]]]:
    """(CPU s, wall s, ticks, summary, stored attempts) of one virtual run."""
    folder = Path(tempfile.mkdtemp(prefix="bench-virtual-idle-"))
    (folder / "list.csv").write_text("name,phone\n" + "".join(
        f"c{i},{n}\n" for i, n in enumerate(NUMBERS)))
    store = Store(folder / "dialer.sqlite")
    store.create_campaign("sales", ALWAYS, config={"mode": "progressive"}, now=T0)
    import_file(store, "sales", folder / "list.csv", now=T0)
    gateway = InProcessGateway(start=T0)
    runner = CampaignRunner(store, "sales", gateway, agents=[71, 72], group="pri",
                            engine_log=quiet_logger(), progress=lambda line: None)
    wall, cpu = time.perf_counter(), time.process_time()
    try:
        summary = runner.run(seconds=seconds, drain=5)
    finally:
        cpu = time.process_time() - cpu
        wall = time.perf_counter() - wall
        ticks = gateway.ticks
        gateway.close()
    with sqlite3.connect(folder / "dialer.sqlite") as db:
        attempts = db.execute("SELECT * FROM attempt ORDER BY id").fetchall()
    return cpu, wall, ticks, summary, attempts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=300.0,
                        help="virtual seconds per run (default 300)")
    parser.add_argument("--repeat", type=int, default=2, help="runs of each (best kept)")
    args = parser.parse_args()
    import logging
    logging.disable(logging.INFO)
    try:
        import structlog
        structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(
            logging.WARNING))
    except ImportError:  # pragma: no cover - structlog is a dependency
        pass
    best: dict[str, tuple[float, float, int]] = {}
    seen: dict[str, tuple[Any, list[tuple[Any, ...]]]] = {}
    for _ in range(args.repeat):
        for name, fn in (("before (drain every tick)", old_drain),
                         ("after (drain what is outstanding)", background.drain)):
            with patched_drain(fn):
                cpu, wall, ticks, summary, attempts = one_run(args.seconds)
            if name not in best or cpu < best[name][0]:
                best[name] = (cpu, wall, ticks)
            seen[name] = (summary, attempts)
    (s0, a0), (s1, a1) = seen.values()
    same = (s0.outcomes, s0.dials, s0.live, s0.connects) == \
        (s1.outcomes, s1.dials, s1.live, s1.connects) and a0 == a1
    base = next(iter(best.values()))[0]
    print(f"{args.seconds:g} virtual s, 6 contacts, 2 agents, best of {args.repeat}; "
          f"load {os.getloadavg()[0]:.1f} {os.getloadavg()[1]:.1f}")
    print(f"{'':36} {'CPU s':>7} {'wall s':>7} {'ticks':>6} {'ms CPU/tick':>11} {'ratio':>6}")
    for name, (cpu, wall, ticks) in best.items():
        print(f"{name:36} {cpu:7.2f} {wall:7.2f} {ticks:6d} {cpu / ticks * 1e3:11.3f} "
              f"{cpu / base:6.2f}")
    print(f"outcomes {s1.outcomes}; stored attempts identical: {same}")
    if not same:
        sys.exit("the runs differ")


if __name__ == "__main__":
    main()
