#!/usr/bin/env python3
"""Record what the detector is fed during a campaign, for bench_detector.py's replay.

Run: ``.venv/bin/python benchmarks/record_detector_trace.py [--calls 24] [--hold 2]
[--out benchmarks/data/detector-trace.npz]``

It runs the driver-level call batch of ``trunkline call demo`` (calls to every behaviour of
the emulated card's number plan -- people, machines, fax, busy, SIT, announcements --
on all its FXO lines at once, a virtual clock) with every call of the
:class:`~trunkline.drivers.dsp.detector.Detector` --
``enable``, ``configure``, ``reset``, ``mark_answered``, ``disable`` and each tick's
``process`` with its blocks -- written down in order. The trace is what the detector's
own speed and its events are checked on (``bench_detector.py --trace``): replaying it
must give identical events before and after a change.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
from pathlib import Path

import numpy as np

from trunkline.drivers.dsp import detector as det_mod
from trunkline.drivers.dsp import g711

HERE = Path(__file__).resolve().parent
DEFAULT_OUT = HERE / "data" / "detector-trace.npz"


class Recorder:
    """Wraps the Detector class's methods; the first detector made is the one recorded."""

    def __init__(self) -> None:
        self.ops: list[list[object]] = []     # [tick, method, args...]
        self.ids: list[np.ndarray] = []
        self.blocks: list[np.ndarray] = []
        self.target: object | None = None
        self.max_channels = 0
        self.zone = ""

    def install(self) -> None:
        cls = det_mod.Detector
        rec = self
        orig_init = cls.__init__

        def init(self, zone="cn", max_channels=1, **kw):  # type: ignore[no-untyped-def]
            orig_init(self, zone, max_channels, **kw)
            if rec.target is None:
                rec.target = self
                rec.max_channels = max_channels
                rec.zone = zone if isinstance(zone, str) else zone.zone

        cls.__init__ = init  # type: ignore[method-assign]
        for name in ("enable", "configure", "reset", "mark_answered", "disable"):
            orig = getattr(cls, name)

            def wrap(self, ch, *a, _orig=orig, _name=name, **kw):  # type: ignore[no-untyped-def]
                if self is rec.target:
                    rec.ops.append([len(rec.blocks), _name, int(ch), list(a), kw])
                return _orig(self, ch, *a, **kw)

            setattr(cls, name, wrap)
        orig_process = cls.process

        def process(self, block, channel_ids):  # type: ignore[no-untyped-def]
            if self is rec.target:
                rec.ids.append(np.asarray(channel_ids, np.int16).copy())
                rec.blocks.append(np.asarray(block, np.int16).copy())
            return orig_process(self, block, channel_ids)

        cls.process = process  # type: ignore[method-assign]

    def save(self, path: Path) -> None:
        """The trace as .npz; the blocks as A-law codes when that is lossless (the
        emulated card's audio crossed G.711 already), else as int16."""
        counts = np.array([len(i) for i in self.ids], np.int32)
        blocks = np.concatenate(self.blocks) if self.blocks else np.zeros((0, 160), np.int16)
        codes = g711.encode(blocks, "alaw")
        lossless = bool((g711.decode(codes, "alaw") == blocks).all())
        np.savez_compressed(
            path, counts=counts,
            ids=np.concatenate(self.ids) if self.ids else np.zeros(0, np.int16),
            blocks=codes if lossless else blocks,
            meta=np.array(json.dumps({"zone": self.zone, "max_channels": self.max_channels,
                                      "alaw": lossless, "ops": self.ops})))


def load_trace(path: Path) -> tuple[dict, list[np.ndarray], list[np.ndarray]]:
    """(meta, ids per tick, blocks per tick) of a recorded trace."""
    with np.load(path) as d:
        meta = json.loads(str(d["meta"]))
        blocks = d["blocks"]
        if meta.get("alaw"):
            blocks = g711.decode(blocks, "alaw").astype(np.int16)
        cuts = np.cumsum(d["counts"])[:-1]
        return meta, np.split(d["ids"].astype(np.intp), cuts), np.split(blocks, cuts)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--calls", type=int, default=16, help="calls in the batch (default 16)")
    ap.add_argument("--hold", type=float, default=1.0,
                    help="seconds a call stays up once decided (default 1)")
    ap.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = ap.parse_args(argv)
    rec = Recorder()
    rec.install()
    from trunkline.clock import VirtualClock
    from trunkline.drivers.demo import run_demo
    from trunkline.drivers.registry import open_card

    card = open_card("emulated", clock=VirtualClock())
    with card, contextlib.redirect_stdout(io.StringIO()):
        run_demo(card, calls=args.calls, hold=args.hold, as_json=True, live=False)
    rec.save(args.out)
    counts = [len(i) for i in rec.ids]
    print(f"{args.out}: {len(counts)} ticks, {len(rec.ops)} control calls, channels per "
          f"tick {min(counts, default=0)}-{max(counts, default=0)} (mean "
          f"{np.mean(counts) if counts else 0:.1f}), {args.out.stat().st_size / 1e3:.0f} kB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
