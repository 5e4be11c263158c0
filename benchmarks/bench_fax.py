"""How many simultaneous faxes and recordings one gateway's media tick sustains.

Runs the gateway's media engine on the emulated card (two E1 PRI spans: 60 B-channels)
in virtual time, places N calls at once and measures the engine's own work per 20 ms
tick (``engine.tick_durations``: everything the gateway does for a tick, not the
emulated network's far-end fax machines, which real lines do not cost us). A tick over
20 ms would be an overrun on a real board.

    .venv/bin/python benchmarks/bench_fax.py                  # the default table
    .venv/bin/python benchmarks/bench_fax.py --faxes 10 60 --recordings 60 --seconds 20

Faxes: each call sends a one-page fine-resolution fax (V.17 14400, ECM) to the network's
fax subscriber; the window measured is while all N faxes are in page transfer.
Recordings: each call goes to a talking person and is recorded (stereo PCM16) from
answer; the window is 20 s of all N recording.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

PLAN = """spec = "1.0"
zone = "cn"
seed = 1
max_digits = 11
[[subscriber]]
number = "0105*"
behaviour = "fax"
answer_after = 2.0
hangup_after = 600.0
[[subscriber]]
number = "138*"
behaviour = "human"
answer_after = 2.0
talk = 600.0
"""


def _service(work: Path):
    from trunkline.clock import VirtualClock
    from trunkline.gateway.config import GatewayConfig
    from trunkline.gateway.service import GatewayService

    plan = work / "plan.toml"
    plan.write_text(PLAN)
    svc = GatewayService(GatewayConfig(network=plan), clock=VirtualClock())
    for _ in range(20):
        svc.engine.tick()
    return svc


def _stats(durations: list[float]) -> dict[str, float]:
    a = np.asarray(durations) * 1000
    return {"ticks": a.size, "p50": float(np.percentile(a, 50)),
            "p99": float(np.percentile(a, 99)), "max": float(a.max()),
            "over20": int((a > 20).sum())}


def bench_faxes(n: int, work: Path) -> dict:
    from PIL import Image, ImageDraw

    from trunkline.drivers.backends.emulated import fax_far_end
    from trunkline.gateway.fax.documents import prepare
    from trunkline.gateway.fax.jobs import _hangup_later
    from trunkline.gateway.fax.session import FaxSession

    fax_far_end.reset()
    fax_far_end.configure(inbox=work / f"far{n}")
    img = Image.new("1", (1728, 2200), 1)
    draw = ImageDraw.Draw(img)
    for y in range(50, 2150, 60):
        draw.text((80, y), "trunkline benchmark page " * 6, fill=0)
    img.save(work / "page.tif", compression="group4", dpi=(204, 196))
    doc = prepare(work / "page.tif", work / "doc.tif")
    svc = _service(work)
    eng = svc.engine
    sessions = []
    for _ in range(n):
        info = eng.originate("01051234567", group="pri", ring_timeout=60)
        call = eng.calls[info["call"]]
        s = FaxSession("send", calling=True, document=doc.path, call=call,
                       hangup=_hangup_later(eng, call.id))
        eng.attach_processor(call.id, s)
        sessions.append(s)
        for _ in range(5):  # one SETUP per poll of the emulated exchange (see docs/fax.md)
            eng.tick()
    # Until every fax has negotiated, then measure until the first finishes.
    while not all(s._negotiated for s in sessions) and svc.clock.now() < 120:
        eng.tick()
    eng.tick_durations.clear()
    wall = time.perf_counter()
    while not any(s.result for s in sessions) and svc.clock.now() < 300:
        eng.tick()
    elapsed = time.perf_counter() - wall
    durations = list(eng.tick_durations)
    while any(s.result is None for s in sessions) and svc.clock.now() < 400:
        eng.tick()
    ok = sum(1 for s in sessions if s.result is not None and s.result.ok)
    svc.card.close()
    return {**_stats(durations), "ok": ok, "wall_per_tick": elapsed / max(1, len(durations))}


def bench_recordings(n: int, work: Path, seconds: float) -> dict:
    from trunkline.gateway.recording.desk import RecordingDesk

    svc = _service(work)
    eng = svc.engine
    desk = RecordingDesk(eng, root=work / f"rec{n}")
    ids = []
    for _ in range(n):
        ids.append(eng.originate("13812345678", group="pri", ring_timeout=60)["call"])
        for _ in range(5):
            eng.tick()
    while not all(eng.calls[i].answered_at for i in ids) and svc.clock.now() < 60:
        eng.tick()
    for i in ids:
        desk.start(i)
    eng.tick_durations.clear()
    end = svc.clock.now() + seconds
    while svc.clock.now() < end:
        eng.tick()
    durations = list(eng.tick_durations)
    for i in ids:
        eng.record(i, "stop", None, "pcm16")
    svc.card.close()
    return {**_stats(durations), "ok": n}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--faxes", type=int, nargs="*", default=[1, 10, 30, 60])
    parser.add_argument("--recordings", type=int, nargs="*", default=[10, 30, 60])
    parser.add_argument("--seconds", type=float, default=20.0)
    args = parser.parse_args(argv)
    from trunkline.logs import configure_logging

    configure_logging("warning")
    work = Path(tempfile.mkdtemp(prefix="tl-bench-fax-"))
    print(f"cpus={os.cpu_count()} python={sys.version.split()[0]}")
    print(f"{'load':<16}{'ticks':>7}{'p50 ms':>9}{'p99 ms':>9}{'max ms':>9}{'>20ms':>7}"
          f"{'ok':>5}")
    for n in args.faxes:
        r = bench_faxes(n, work)
        print(f"{f'{n} faxes':<16}{r['ticks']:>7}{r['p50']:>9.2f}{r['p99']:>9.2f}"
              f"{r['max']:>9.2f}{r['over20']:>7}{r['ok']:>5}")
    for n in args.recordings:
        r = bench_recordings(n, work, args.seconds)
        print(f"{f'{n} recordings':<16}{r['ticks']:>7}{r['p50']:>9.2f}{r['p99']:>9.2f}"
              f"{r['max']:>9.2f}{r['over20']:>7}{r['ok']:>5}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
