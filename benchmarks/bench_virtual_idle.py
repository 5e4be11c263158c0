#!/usr/bin/env python3
"""An idle-heavy virtual campaign run, outside the detector, against the old tick.

Run: ``.venv/bin/python benchmarks/bench_virtual_idle.py [--seconds 300] [--repeat 2]
[--against COMMIT]``

Issue 15, item 6: ``dialer run --virtual`` with a handful of contacts spends most of its
ticks with nothing to do (6 contacts: a few seconds of calls, then agents waiting), yet
each 20 ms tick of virtual time cost about 1.7 ms of CPU. A profile of such a run (6
contacts, 2 agents, 600 virtual s, cProfile) put about 11 % of it in
``gateway.background.drain``: after every tick the in-process gateway sent an empty task
to each background thread (recordings, fax documents) and waited for it, a thread
hand-off every 20 ms even with nothing queued. Now a pool with nothing outstanding is
skipped. The emulated card's frame also tested its spans' alarms by combining IntFlag
members (about 20 enum operations a frame) and looked up the R2 span's 30 ports one by
one with checks every frame; now plain bits and a list made once.

Rows, alternating, best of ``--repeat``, each run in its own process:

* **COMMIT** (``--against``, default d189171, before these changes): the source of that
  commit (``git archive``) imported instead of this tree; every change between it and
  the tree counts, the detector's included (another helper's work, if committed since).
* **tree, old drain**: this tree with the old drain patched back in (that change alone).
* **tree**: this tree as it is.

All must store the same attempts (outcomes, times, causes) and give the same summary.
"""

from __future__ import annotations

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import argparse
import json
import shutil
import sqlite3
import subprocess
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

REPO = Path(__file__).resolve().parent.parent
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


def child(seconds: float, old: bool) -> None:
    """One run in this process; prints its figures as JSON on the last line."""
    import logging
    logging.disable(logging.INFO)
    import structlog
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))
    with patched_drain(old_drain if old else testing.drain):  # type: ignore[attr-defined]
        cpu, wall, ticks, summary, attempts = one_run(seconds)
    import trunkline.drivers
    print(json.dumps({"cpu": cpu, "wall": wall, "ticks": ticks,
                      "from": str(Path(trunkline.drivers.__file__).parent.parent),
                      "summary": [summary.outcomes, summary.dials, summary.live,
                                  summary.connects, summary.abandoned],
                      "attempts": attempts}, default=str))


def source_of(commit: str, folder: Path) -> Path:
    """An importable ``trunkline`` of ``commit`` (its folders mapped as pyproject maps
    them: trunkline.drivers is drivers/, and so on)."""
    src = folder / "src"
    src.mkdir()
    archive = subprocess.run(["git", "-C", str(REPO), "archive", commit],
                             check=True, capture_output=True).stdout
    subprocess.run(["tar", "-x", "-C", str(src)], input=archive, check=True)
    root = folder / "path"
    shutil.copytree(src / "trunkline", root / "trunkline")
    for name, where in (("drivers", "drivers"), ("gateway", "gateway"),
                        ("dialer", "dialer"), ("profiles", "firmware-profiles")):
        (root / "trunkline" / name).symlink_to(src / where)
    return root


def spawn(seconds: float, old: bool, path: Path | None) -> dict[str, Any]:
    env = dict(os.environ)
    if path is not None:
        env["PYTHONPATH"] = str(path)
    out = subprocess.run([sys.executable, __file__, "--child", "--seconds", str(seconds)]
                         + (["--old-drain"] if old else []), env=env, check=True,
                         capture_output=True, text=True).stdout
    result: dict[str, Any] = json.loads(out.strip().splitlines()[-1])
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=300.0,
                        help="virtual seconds per run (default 300)")
    parser.add_argument("--repeat", type=int, default=2, help="runs of each (best kept)")
    parser.add_argument("--against", metavar="COMMIT", default="d189171",
                        help="the baseline commit (default d189171, before this work)")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--old-drain", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.seconds, args.old_drain)
        return
    with tempfile.TemporaryDirectory(prefix="bench-virtual-idle-src-") as tmp:
        baseline = source_of(args.against, Path(tmp))
        sides: dict[str, tuple[bool, Path | None]] = {
            args.against: (False, baseline), "tree, old drain": (True, None),
            "tree": (False, None)}
        best: dict[str, dict[str, Any]] = {}
        for _ in range(args.repeat):
            for name, (old, path) in sides.items():
                result = spawn(args.seconds, old, path)
                if name not in best or result["cpu"] < best[name]["cpu"]:
                    best[name] = result
    first = best[args.against]
    if not first["from"].startswith(tmp):
        sys.exit(f"the baseline imported {first['from']}, not the commit's source")
    load = os.getloadavg()
    print(f"{args.seconds:g} virtual s, 6 contacts, 2 agents, best of {args.repeat}, "
          f"load {load[0]:.1f} {load[1]:.1f}")
    print(f"{'':20} {'CPU s':>7} {'wall s':>7} {'ticks':>6} {'ms CPU/tick':>11} {'ratio':>6}")
    for name, r in best.items():
        print(f"{name:20} {r['cpu']:7.2f} {r['wall']:7.2f} {r['ticks']:6d} "
              f"{r['cpu'] / r['ticks'] * 1e3:11.3f} {r['cpu'] / first['cpu']:6.2f}")
    same = all(r["summary"] == first["summary"] and r["attempts"] == first["attempts"]
               for r in best.values())
    print(f"outcomes {first['summary'][0]}; stored attempts identical: {same}")
    if not same:
        sys.exit("the runs differ")


if __name__ == "__main__":
    main()
