#!/usr/bin/env python3
"""Detector throughput: channels per CPU core in real time, ours against spandsp.

Run: ``.venv/bin/python benchmarks/bench_detector.py [--channels 5000] [--seconds 4]``

Both pipelines get the same work: every channel carries a realistic mix (DTMF
strings, zone ringback/busy/congestion, fax CNG/CED, speech-like noise bursts, line
noise), fed as 20 ms blocks the way the gateway's media tick does.

* **trunkline**: :class:`~trunkline.drivers.dsp.detector.Detector` with DTMF,
  call progress (cadence), fax/modem tones and VAD enabled on every channel, one
  ``process`` call per tick for all channels.
* **spandsp from Python**: per channel and tick, ``dtmf_rx``, ``super_tone_rx`` (the
  zone's tones) and ``modem_connect_tones_rx`` (CED/ANS mode; CNG needs a second
  detector, which we leave out in spandsp's favour) through cffi; it has no VAD.
  This is the baseline the ratio is taken against (the issue's comparison).
* **spandsp in C**: the same three detectors called from one C loop per tick, for
  reference: what a C gateway gets from spandsp.

BLAS is pinned to one thread (OPENBLAS_NUM_THREADS=1) and the process to one core,
so "channels per core" is channels x audio seconds / CPU seconds. The baseline runs
in the same process, on the same signals, and the ratio is printed.

``--trace`` measures the other end of the scale, the per-tick cost at 8-32 channels
(what a small card, the demo and the test suite in virtual time pay, issue 15 item 6):
the recorded campaign trace ``benchmarks/data/detector-trace.npz``
(``record_detector_trace.py``: 16 calls of the emulated card's number plan on its 8 FXO
lines) is replayed -- its control calls and blocks, tiled 1, 2 and 4 times over as many
channels -- through today's detector and through the detector as of ``--baseline``
(a git commit; its processing modules are loaded from git into a scratch package, events
and zones shared; its AMD rules as of ``--baseline-amd``, today's rules before their
per-tick rewrite), alternating, each tick's best of ``--repeat`` runs per
side. The events of both must be identical (the run fails otherwise, printing the events
only one side gave), but for the kinds in ``CHANGED_ON_PURPOSE`` (rules changed on purpose
since the baseline, left out on both sides and counted); the table gives microseconds
per tick, the ratio and the load average. Figures: docs/detector.md ("Per-tick cost at
8-32 channels").

``--against COMMIT`` (without ``--trace``) times the large ticks of today's detector
against the detector as of COMMIT instead of spandsp (is a change to the small ticks
no slower on large ones?): ``--channels 2000 --seconds 2 --against 16d93f9``.
"""

from __future__ import annotations

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("MKL_NUM_THREADS", "1")

import argparse
import contextlib
import importlib
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from trunkline.drivers.dsp.detector import BLOCK, Detector
from trunkline.drivers.dsp.levels import amplitude
from trunkline.drivers.dsp.tones import dtmf_string, render_tone, sine, to_int16
from trunkline.drivers.dsp.zones import load_zone

RATE = 8000


def _pool(zone: str, seconds: float, rng: np.random.Generator) -> list[np.ndarray]:
    """A dozen distinct signals of ``seconds`` each (looped as needed)."""
    z = load_zone(zone)
    n = int(seconds * RATE)

    def fit(x: np.ndarray) -> np.ndarray:
        return np.resize(x.astype(np.int16), n)

    out = []
    for name in ("ringback", "busy", "congestion", "dial"):
        _, cycle = render_tone(z.tone(name), -18)
        out.append(fit(cycle))
    digits = "".join(rng.choice(list("0123456789*#"), 40))
    out.append(fit(dtmf_string(digits, 70, 80, low_dbm0=-12, high_dbm0=-10)))
    out.append(fit(np.concatenate([to_int16(sine([1100.0], 4000, -15)),
                                   np.zeros(24000, np.int16)])))
    out.append(fit(to_int16(sine([2100.0], n, -15))))
    # Speech-like: noise bursts shaped by a 4 Hz syllable envelope, pauses between.
    t = np.arange(n) / RATE
    env = np.clip(np.sin(2 * np.pi * 2.1 * t), 0, None) ** 2 * (np.sin(2 * np.pi * 0.3 * t) > -0.3)
    from scipy.signal import lfilter

    voiced = lfilter([1.0], [1.0, -1.3, 0.8], rng.normal(0, 1, n))
    out.append(fit(to_int16(voiced / voiced.std() * amplitude(-20) * env)))
    out.append(fit(to_int16(rng.normal(0, amplitude(-60), n))))
    return out


def make_audio(channels: int, seconds: float, zone: str, seed: int = 1) -> np.ndarray:
    rng = np.random.default_rng(seed)
    pool = _pool(zone, seconds, rng)
    pick = rng.integers(len(pool), size=channels)
    shift = rng.integers(0, int(seconds * RATE), size=channels)
    audio = np.empty((channels, int(seconds * RATE) // BLOCK * BLOCK), np.int16)
    for c in range(channels):
        audio[c] = np.roll(pool[pick[c]], shift[c])[: audio.shape[1]]
    return audio


def bench_trunkline(audio: np.ndarray, zone: str, det_cls: type = Detector) -> tuple[float, int]:
    channels = audio.shape[0]
    det = det_cls(zone, channels, announcements=[])
    for ch in range(channels):
        det.enable(ch, dtmf=True, progress=True, fax=True, vad=True)
    ids = np.arange(channels)
    blocks = audio.reshape(channels, -1, BLOCK)
    n_events = 0
    det.process(blocks[:, 0], ids)  # warm-up (first-touch allocations)
    start = time.process_time()
    for b in range(1, blocks.shape[1]):
        n_events += len(det.process(blocks[:, b], ids))
    return time.process_time() - start, n_events


def bench_spandsp(audio: np.ndarray, zone: str) -> tuple[float, int] | None:
    try:
        from trunkline.drivers.native import spandsp_detect as sd

        sd.library()
    except Exception as err:  # the binding cannot be built here: report, don't fail
        print(f"spandsp baseline skipped: {err}")
        return None
    ffi, L, dtmf, sup, mct = _spandsp_receivers(audio.shape[0], zone)
    channels = audio.shape[0]
    blocks = audio.reshape(channels, -1, BLOCK)
    start = time.process_time()
    for b in range(1, blocks.shape[1]):
        tick = np.ascontiguousarray(blocks[:, b])
        buf = ffi.from_buffer("int16_t[]", tick)
        for c in range(channels):
            p = buf + c * BLOCK
            L.dtmf_rx(dtmf[c].state, p, BLOCK)
            L.super_tone_rx(sup[c].state, p, BLOCK)
            L.modem_connect_tones_rx(mct[c].state, p, BLOCK)
    elapsed = time.process_time() - start
    n_events = sum(len(d.events()) for d in dtmf) + sum(len(s.events()) for s in sup)
    return elapsed, n_events


def _spandsp_receivers(channels: int, zone: str):
    """spandsp's ffi and lib, and a DTMF, tone and modem-tone receiver per channel."""
    from trunkline.drivers.native import spandsp_detect as sd

    z = load_zone(zone)
    lib = sd.library()
    dtmf = [sd.DtmfRx() for _ in range(channels)]
    sup = [sd.SuperToneRx(z) for _ in range(channels)]
    mct = [sd.ModemTonesRx("ced") for _ in range(channels)]
    return lib.ffi, lib.lib, dtmf, sup, mct


def bench_spandsp_c(audio: np.ndarray, zone: str) -> tuple[float, int] | None:
    """The same spandsp detectors driven by one C loop per tick (no Python per channel)."""

    ffi, L, dtmf, sup, mct = _spandsp_receivers(audio.shape[0], zone)
    channels = audio.shape[0]
    pd = ffi.new("dtmf_rx_state_t *[]", [d.state for d in dtmf])
    ps = ffi.new("super_tone_rx_state_t *[]", [s.state for s in sup])
    pm = ffi.new("modem_connect_tones_rx_state_t *[]", [m.state for m in mct])
    blocks = audio.reshape(channels, -1, BLOCK)
    start = time.process_time()
    for b in range(1, blocks.shape[1]):
        tick = np.ascontiguousarray(blocks[:, b])
        L.tl_batch(pd, ps, pm, ffi.from_buffer("int16_t[]", tick), channels, BLOCK)
    elapsed = time.process_time() - start
    return elapsed, sum(len(d.events()) for d in dtmf)


#: The modules of the detector's per-tick path, loaded from the baseline commit, and
#: ``amd``, loaded from BASELINE_AMD_COMMIT: its rules (the verdicts) changed since
#: a835e22 with their own work (issue 15 item 1), and both sides must give the same
#: events, so the baseline runs today's AMD rules as they were before their per-tick
#: rewrite, fed by its own detector.
BASELINE_MODULES = ("detector", "vad", "runs", "dtmf", "goertzel", "progress",
                    "modemtones", "sit", "amd")
#: The AMD rules of the baseline: today's (fb9e617, issue 15 item 1), on arrays only.
BASELINE_AMD_COMMIT = "fb9e617"
#: The commit whose detector is the baseline of ``--trace``: the last one before the
#: third round of per-tick work of issue 15, item 6 (the first two, from 19170ab, gave
#: 1.06-1.23x; the music ring-back rules since changed the events, so 19170ab can no
#: longer be compared event for event).
BASELINE_COMMIT = "a835e22"
#: Events whose rules changed on purpose after the baseline, by what they are: the
#: comparison leaves them out on both sides (and says how many differ), so the check
#: still fails on any other change. The music ring-back rules were rewritten for real
#: songs in f116063 (issue 15 item 3): the trace's two synthetic ring-backs are named
#: 1.36 s earlier; the baseline's old music rules still run, so its cost is like for like.
CHANGED_ON_PURPOSE = {("ToneEvent", "music"): "f116063, music ring-back on real songs"}
HERE = Path(__file__).resolve().parent
TRACE = HERE / "data" / "detector-trace.npz"


def baseline_detector(commit: str, amd_commit: str = BASELINE_AMD_COMMIT) -> type:
    """The Detector class as of ``commit`` (its AMD as of ``amd_commit``), from its
    processing modules in git."""
    root = Path(tempfile.mkdtemp(prefix="tl-baseline-"))
    pkg = root / "tl_baseline_dsp"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    # The music rules are a module of their own since 1092bfb: the commit's own, where
    # it has one (before, they were in its detector.py).
    modules = (*BASELINE_MODULES, "music")
    for name in modules:
        at = amd_commit if name == "amd" else commit
        got = subprocess.run(["git", "-C", str(HERE.parent), "show",
                              f"{at}:drivers/dsp/{name}.py"], capture_output=True, text=True)
        if got.returncode and name == "music":
            continue
        got.check_returncode()
        src = got.stdout
        for other in modules:
            src = src.replace(f"from trunkline.drivers.dsp import {other} ",
                              f"from tl_baseline_dsp import {other} ")
            src = src.replace(f"from trunkline.drivers.dsp.{other} ",
                              f"from tl_baseline_dsp.{other} ")
        (pkg / f"{name}.py").write_text(src)
    sys.path.insert(0, str(root))
    return importlib.import_module("tl_baseline_dsp.detector").Detector


def replay(det_cls: type, trace: tuple, copies: int) -> tuple[np.ndarray, list]:
    """CPU seconds of each tick's ``process`` and the events, for the trace tiled
    ``copies`` times."""
    meta, ids, blocks = trace
    n = meta["max_channels"]
    det = det_cls(meta["zone"], n * copies, announcements=[])
    ops = meta["ops"]
    at = 0
    events: list = []
    cpu = np.zeros(len(ids))
    for tick in range(len(ids)):
        while at < len(ops) and ops[at][0] == tick:
            _, name, ch, args, kw = ops[at]
            at += 1
            for c in range(copies):
                getattr(det, name)(ch + c * n, *args, **kw)
        tick_ids = np.concatenate([ids[tick] + c * n for c in range(copies)])
        tick_blocks = np.concatenate([blocks[tick]] * copies)
        t0 = time.process_time()
        out = det.process(tick_blocks, tick_ids)
        cpu[tick] = time.process_time() - t0
        events += out
    return cpu, events


def _changed_on_purpose(event: object) -> bool:
    """Whether ``event`` is of a kind whose rules changed on purpose since the baseline."""
    return (type(event).__name__, getattr(event, "tone", None)) in CHANGED_ON_PURPOSE


def _compared(events: list) -> list:
    """The events the check compares: all but those whose rules changed on purpose."""
    return [e for e in events if not _changed_on_purpose(e)]


def bench_trace(baseline: str, repeat: int, path: Path,
                amd_baseline: str = BASELINE_AMD_COMMIT) -> int:
    sys.path.insert(0, str(HERE))
    from record_detector_trace import load_trace

    trace = load_trace(path)
    meta, ids, _ = trace
    old_cls = baseline_detector(baseline, amd_baseline)
    ticks = len(ids)
    mean_ch = float(np.mean([len(i) for i in ids]))
    max_ch = max(len(i) for i in ids)
    print(f"trace {path.name}: {ticks} ticks, zone {meta['zone']}, {mean_ch:.1f} channels "
          f"per tick (at most {max_ch}); baseline {baseline} (AMD {amd_baseline}); each "
          f"tick's best of {repeat} runs")
    print()
    print("| copies | channels (mean / max) | baseline us/tick | now us/tick | x faster | "
          "events identical | load average (1/5/15 min) |")
    print("|---:|---:|---:|---:|---:|---|---|")
    ok = True
    differ: tuple[list, list] | None = None
    on_purpose = 0
    for copies in (1, 2, 4):
        best_old = best_new = np.full(ticks, np.inf)
        same = True
        for _ in range(repeat):
            cpu_old, ev_old = replay(old_cls, trace, copies)
            cpu_new, ev_new = replay(Detector, trace, copies)
            # Each tick's best over the runs: a run interrupted by another process on a
            # loaded machine loses only the ticks it was interrupted in.
            best_old, best_new = np.minimum(best_old, cpu_old), np.minimum(best_new, cpu_new)
            on_purpose = max(on_purpose, sum(_changed_on_purpose(e) and e not in ev_old
                                             for e in ev_new))
            ev_old, ev_new = _compared(ev_old), _compared(ev_new)
            same &= ev_old == ev_new
            if ev_old != ev_new and differ is None:
                differ = ([e for e in ev_old if e not in ev_new],
                          [e for e in ev_new if e not in ev_old])
        best_old, best_new = float(best_old.sum()), float(best_new.sum())
        ok &= same
        print(f"| {copies} | {mean_ch * copies:.1f} / {max_ch * copies} | "
              f"{best_old / ticks * 1e6:,.0f} | {best_new / ticks * 1e6:,.0f} | "
              f"{best_old / best_new:.2f} | {'yes' if same else 'NO'} ({len(ev_new)}) | "
              f"{' / '.join(f'{a:.2f}' for a in os.getloadavg())} |")
    if on_purpose:
        print(f"\nleft out of the comparison (rules changed on purpose since the baseline): "
              f"up to {on_purpose} events differ of kinds "
              f"{', '.join(f'{k[0]} {k[1]} ({why})' for k, why in CHANGED_ON_PURPOSE.items())}")
    if not ok:
        print("events differ from the baseline's", file=sys.stderr)
        if differ is not None:  # what differs (the first copies that differed)
            for side, evs in zip(("baseline only", "now only"), differ, strict=True):
                for e in evs[:10]:
                    print(f"  {side}: {e}", file=sys.stderr)
    return 0 if ok else 1


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--trace", nargs="?", const=TRACE, type=Path, default=None,
                    help=f"replay a recorded trace instead (default {TRACE.name})")
    ap.add_argument("--baseline", default=BASELINE_COMMIT,
                    help=f"git commit of the --trace baseline (default {BASELINE_COMMIT})")
    ap.add_argument("--baseline-amd", default=BASELINE_AMD_COMMIT,
                    help=f"git commit of the --trace baseline's AMD rules (default "
                         f"{BASELINE_AMD_COMMIT})")
    ap.add_argument("--repeat", type=int, default=3,
                    help="--trace and --against runs per side")
    ap.add_argument("--against", metavar="COMMIT", default=None,
                    help="large ticks only: time today's detector against the detector "
                         "as of COMMIT (its processing modules and AMD from git), "
                         "alternating, and print CPU seconds and the ratio; no spandsp")
    ap.add_argument("--channels", type=int, default=5000)
    ap.add_argument("--seconds", type=float, default=4.0)
    ap.add_argument("--spandsp-channels", type=int, default=1000,
                    help="channels for the (slower) spandsp run; rates are per channel")
    ap.add_argument("--zone", default="cn")
    args = ap.parse_args()
    with contextlib.suppress(AttributeError, OSError):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
    if args.trace is not None:
        return bench_trace(args.baseline, args.repeat, args.trace, args.baseline_amd)
    print(f"zone {args.zone}, {args.seconds:g} s of audio, 20 ms blocks, 1 core, "
          f"BLAS threads {os.environ['OPENBLAS_NUM_THREADS']}")
    rows = []
    audio = make_audio(args.channels, args.seconds, args.zone)
    audio_s = audio.shape[1] / RATE - BLOCK / RATE
    if args.against:  # large ticks against a commit's detector: alternating, best of runs
        old_cls = baseline_detector(args.against, args.against)
        best = {"old": (np.inf, 0), "new": (np.inf, 0)}
        for _ in range(args.repeat):
            for side, cls in (("old", old_cls), ("new", Detector)):
                best[side] = min(best[side], bench_trunkline(audio, args.zone, cls))
        (cpu_old, ev_old), (cpu, events) = best["old"], best["new"]
        print(f"trunkline as of {args.against}: {cpu_old:.2f} CPU s ({ev_old} events); now: "
              f"{cpu:.2f} CPU s ({events} events); now/then {cpu / cpu_old:.3f} (best of "
              f"{args.repeat}; load {' / '.join(f'{a:.2f}' for a in os.getloadavg())})")
        return 0 if ev_old == events else 1
    cpu, events = bench_trunkline(audio, args.zone)
    ours = args.channels * audio_s / cpu
    rows.append(("trunkline Detector (DTMF+progress+fax/modem+VAD)", args.channels, cpu,
                 ours, events))
    small = audio[: args.spandsp_channels]
    res = bench_spandsp(small, args.zone)
    if res is not None:
        cpu_s, ev_s = res
        theirs = small.shape[0] * audio_s / cpu_s
        rows.append(("spandsp from Python (dtmf_rx+super_tone_rx+modem_connect_tones)",
                     small.shape[0], cpu_s, theirs, ev_s))
    if res is not None:
        cpu_c, ev_c = bench_spandsp_c(small, args.zone)
        rows.append(("spandsp in C (same three detectors, one C loop per tick)",
                     small.shape[0], cpu_c, small.shape[0] * audio_s / cpu_c, ev_c))
    print()
    print(f"| {'pipeline':<66} | channels | CPU s | channels/core | x spandsp |")
    print(f"|{'-' * 68}|---------:|------:|--------------:|----------:|")
    base = rows[1][3] if len(rows) > 1 else None
    for name, ch, cpu_s, rate, _ in rows:
        ratio = f"{rate / base:9.1f}" if base else "      n/a"
        print(f"| {name:<66} | {ch:8d} | {cpu_s:5.2f} | {rate:13,.0f} | {ratio} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
