#!/usr/bin/env python3
"""AMD on thousands of real short answers: how often a person is taken for a machine.

Run: ``.venv/bin/python benchmarks/amd_live_answers.py [--fsdd DIR] [--seed N]``

``amd_eval.py`` measures every class on a few dozen recordings; its live answers are
too few (175 renderings of 35 recordings) to bound "human taken for machine" under the
issue's 0.5 % (zero errors in n trials bounds the rate at about 3/n, so n must pass 600).
This script takes the other side of that trade: one class, many recordings.

The recordings are the Free Spoken Digit Dataset (FSDD, Jakobovski/free-spoken-digit-dataset
on GitHub, commit 26eb9aaf76e81b692f806f9140c2d2777410d7a1, CC BY-SA 4.0): 3,000 real
recordings, 8 kHz, of six men (US, Belgian, German and Greek accents) each saying a
digit, trimmed close to the word. A digit is the length and shape of the word a person
answers with ("hello", "喂"). Fetch them outside the repository, e.g.
``git clone https://github.com/Jakobovski/free-spoken-digit-dataset \
~/.cache/trunkline/amd-extra/fsdd`` (the default ``--fsdd`` is its ``recordings``).

Two answers are built from them, each played as a call answered at time 0 through
``amd_eval.py``'s renderings in turn (A-law/mu-law, line and room noise, late start):

* ``one word``: the word, then the line (the person waits for the caller);
* ``said twice``: the word, a pause of 0.5-1.2 s, a second word of the same speaker
  ("hello? ... hello?"), the hardest live answer for a word-counting AMD.

Printed: the share of verdicts ``human``, ``machine`` (the error that matters: a person
hung up on or played a message), ``notsure`` and none, with Wilson 95 % intervals, and
the median decision time from the answer, overall, per answer, per rendering and per
speaker. The trials are not independent beyond their six speakers: the per-speaker rows
show how far one voice moves the figure.
"""

from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path

import numpy as np
from amd_eval import (
    CONDITIONS,
    EXTRA,
    Clip,
    Verdict,
    _active_level,
    median_ci,
    run_renderings,
    share_ci,
)

from trunkline.drivers.dsp.levels import DBM0_RMS
from trunkline.drivers.dsp.wavfile import read_audio

RATE = 8000
FSDD = EXTRA / "fsdd" / "recordings"
#: Channels per Detector run: the gateway's own scale, and bounded memory.
BATCH = 400


def _levelled(x: np.ndarray) -> np.ndarray:
    """Speech at -20 dBm0 active level (render adds amd_eval's +-4 dB spread)."""
    return x * (DBM0_RMS * 10 ** (-20 / 20) / math.sqrt(_active_level(x)))


def load_answers(root: Path, seed: int) -> list[Clip]:
    """Every recording as a one-word answer, and half as many said-twice answers."""
    files = sorted(root.glob("*.wav"))
    if not files:
        raise FileNotFoundError(f"no FSDD recordings (*.wav) under {root}")
    rng = np.random.default_rng(seed)
    words: dict[str, list[np.ndarray]] = {}
    clips = []
    for path in files:
        speaker = path.stem.split("_")[1]
        x = _levelled(read_audio(path).astype(np.float64))
        words.setdefault(speaker, []).append(x)
        clips.append(Clip(path.stem, "human", f"one word/{speaker}", x))
    for speaker, xs in sorted(words.items()):
        order = rng.permutation(len(xs))
        for a, b in zip(order[0::2], order[1::2], strict=False):
            gap = np.zeros(int(rng.uniform(0.5, 1.2) * RATE))
            clips.append(Clip(f"twice_{speaker}_{a}_{b}", "human", f"said twice/{speaker}",
                              np.concatenate([xs[a], gap, xs[b]])))
    return clips


def print_table(title: str, rows: list[tuple[str, list[Verdict]]]) -> None:
    print(f"\n{title}")
    print(f"{'':22s} {'n':>5s}  {'human':>24s}  {'machine':>24s}  {'notsure':>24s}  "
          f"{'none':>5s}  {'median s [95 %]':>17s}")
    for name, vs in rows:
        n = len(vs)
        if not n:
            continue
        count = {r: sum(v.result == r for v in vs) for r in ("human", "machine", "notsure", "")}
        med, lo, hi = median_ci([v.seconds for v in vs])
        print(f"{name:22s} {n:5d}  {share_ci(count['human'], n, 2):>24s}  "
              f"{share_ci(count['machine'], n, 2):>24s}  {share_ci(count['notsure'], n, 2):>24s}  "
              f"{count['']:5d}  {med:5.2f} [{lo:4.2f}-{hi:4.2f}]")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--fsdd", type=Path, default=FSDD,
                    help=f"folder of FSDD's recordings/*.wav (default {FSDD})")
    ap.add_argument("--seed", type=int, default=2026)
    ap.add_argument("--zone", default="us",
                    help="tone zone of the detector (default us, as amd_eval.py)")
    ap.add_argument("--errors", action="store_true", help="list every verdict not human")
    args = ap.parse_args(argv)
    try:
        clips = load_answers(args.fsdd, args.seed)
    except FileNotFoundError as err:
        print(f"{err}; see this script's docstring for where to get them", file=sys.stderr)
        return 2
    # Each answer gets one rendering, in turn, so every rendering has a fifth of them.
    conds = [CONDITIONS[(i + args.seed) % len(CONDITIONS)] for i in range(len(clips))]
    print(f"{len(clips)} answers ({sum(c.category.startswith('one') for c in clips)} one word, "
          f"{sum(c.category.startswith('said') for c in clips)} said twice) from "
          f"{len({c.category.split('/')[1] for c in clips})} speakers; zone {args.zone}, "
          f"seed {args.seed}")
    verdicts: list[Verdict] = []
    for at in range(0, len(clips), BATCH):
        verdicts += run_renderings(clips[at:at + BATCH], conds[at:at + BATCH], args.zone,
                                   np.random.default_rng([args.seed, at]), EXTRA)
    print_table("All", [("all", verdicts)] + [
        (kind, [v for v in verdicts if v.clip.category.startswith(kind)])
        for kind in ("one word", "said twice")])
    print_table("By rendering", [(c, [v for v in verdicts if v.condition == c])
                                 for c in CONDITIONS])
    speakers = sorted({v.clip.category.split("/")[1] for v in verdicts})
    print_table("By speaker", [(s, [v for v in verdicts if v.clip.category.endswith("/" + s)])
                               for s in speakers])
    wrong = [v for v in verdicts if v.result != "human"]
    print(f"\n{len(wrong)} of {len(verdicts)} answers not called human")
    if args.errors:
        for v in wrong:
            print(f"  {v.clip.id:28s} {v.condition:11s} got {v.result or '-':8s} "
                  f"({v.reason}, {v.seconds:.2f} s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
