"""The detector's events on fixed inputs, kept as a golden file (issue 15, item 6).

The per-tick speed-ups of the detector must not change a single event. This kit runs
two inputs through :class:`~trunkline.drivers.dsp.detector.Detector` and writes down
every event, in order:

* ``trace``: the recorded campaign trace ``benchmarks/data/detector-trace.npz`` (the
  emulated card's number plan on its 8 FXO lines, with every enable/configure/reset/
  mark_answered/disable call of the campaign replayed at its tick);
* ``mixed``: one detector of 14 channels, each its own signal and configuration,
  starting at different ticks so that the channel subsets change from tick to tick --
  real recordings read in place from ``../shared/testdata/real-audio`` (greetings,
  speech, SIT announcements, DTMF) through A-law, and synthetic DTMF, SIT, CNG, CED
  with reversals, busy, ringback then a greeting (AMD), MF R2 and line noise.

``tests/detector/test_detector_golden_events.py`` compares today's events with the
golden file ``tests/detector/data/detector-golden-events.json``, which was generated
once at the commit before the speed work (19170ab). Regenerate it only when a change
is *meant* to change events::

    .venv/bin/python tests/detector/detector_golden_kit.py
"""

from __future__ import annotations

import dataclasses
import json
import sys
from pathlib import Path
from typing import Any

import numpy as np

from trunkline.drivers.dsp import g711
from trunkline.drivers.dsp.detector import BLOCK, Detector
from trunkline.drivers.dsp.events import DetectionEvent
from trunkline.drivers.dsp.levels import DBM0_RMS, amplitude
from trunkline.drivers.dsp.tones import DTMF_FREQS, to_int16
from trunkline.drivers.dsp.wavfile import read_audio

RATE = 8000
HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
TRACE = ROOT / "benchmarks" / "data" / "detector-trace.npz"
GOLDEN = HERE / "data" / "detector-golden-events.json"
REAL_AUDIO = ROOT / ".." / "shared" / "testdata" / "real-audio"


def event_record(e: DetectionEvent) -> dict[str, Any]:
    """An event as plain JSON values (tuples as lists), with its class name."""
    d = dataclasses.asdict(e)
    d["type"] = type(e).__name__
    return json.loads(json.dumps(d))


def load_trace(path: Path = TRACE) -> tuple[dict, list[np.ndarray], list[np.ndarray]]:
    """(meta, ids per tick, blocks per tick), as benchmarks/record_detector_trace.py saved."""
    with np.load(path) as d:
        meta = json.loads(str(d["meta"]))
        blocks = d["blocks"]
        if meta.get("alaw"):
            blocks = g711.decode(blocks, "alaw").astype(np.int16)
        cuts = np.cumsum(d["counts"])[:-1]
        return meta, np.split(d["ids"].astype(np.intp), cuts), np.split(blocks, cuts)


def trace_events(path: Path = TRACE) -> list[dict[str, Any]]:
    meta, ids, blocks = load_trace(path)
    det = Detector(meta["zone"], meta["max_channels"], announcements=[])
    ops = meta["ops"]
    at = 0
    out: list[dict[str, Any]] = []
    for tick in range(len(ids)):
        while at < len(ops) and ops[at][0] == tick:
            _, name, ch, args, kw = ops[at]
            at += 1
            getattr(det, name)(ch, *args, **kw)
        out += [event_record(e) for e in det.process(blocks[tick], ids[tick])]
    return out


# -- the mixed scenario --------------------------------------------------------------
def _sines(freqs: tuple[float, ...], ms: float, dbm0: float) -> np.ndarray:
    t = np.arange(int(RATE * ms / 1000)) / RATE
    return sum((amplitude(dbm0) * np.sin(2 * np.pi * f * t) for f in freqs),
               np.zeros(t.size))


def _sil(ms: float) -> np.ndarray:
    return np.zeros(int(RATE * ms / 1000))


def _real(rel: str, dbm0: float = -20.0) -> np.ndarray:
    x = read_audio(REAL_AUDIO / rel).astype(np.float64)
    n = x.size // BLOCK
    p = (x[:n * BLOCK].reshape(n, BLOCK) ** 2).mean(axis=1)
    active = p[p >= p.max() * 1e-3].mean()
    return x * DBM0_RMS * 10 ** (dbm0 / 20) / np.sqrt(active)


def _alaw(x: np.ndarray) -> np.ndarray:
    return g711.decode(g711.encode(to_int16(x), "alaw"), "alaw").astype(np.float64)


def _scenario(rng: np.random.Generator) -> list[tuple[int, np.ndarray, dict[str, Any]]]:
    """(start tick, signal, enable kwargs) per channel."""
    dtmf = np.concatenate([np.concatenate([_sines(DTMF_FREQS[d], 60 + 10 * i, -10), _sil(70)])
                           for i, d in enumerate("0123456789*#ABCD")])
    sit = np.concatenate([_sines((913.8,), 380, -20), _sines((1370.6,), 276, -20),
                          _sines((1776.7,), 380, -20), _sil(2000)])
    busy = np.concatenate([np.concatenate([_sines((450.0,), 350, -15), _sil(350)])
                           for _ in range(6)])
    ringback = np.concatenate([np.concatenate([_sines((450.0,), 1000, -15), _sil(4000)])
                               for _ in range(2)])
    cng = np.concatenate([np.concatenate([_sines((1100.0,), 500, -15), _sil(3000)])
                          for _ in range(2)])
    t = np.arange(int(3.5 * RATE)) / RATE
    ced = amplitude(-12) * np.sin(2 * np.pi * 2100 * t + np.pi * np.floor(t / 0.45))
    noise = rng.normal(0, amplitude(-45), 4 * RATE)
    r2 = np.concatenate([np.concatenate([_sines(f, 150, -10), _sil(150)])
                         for f in ((1380.0, 1500.0), (1380.0, 1620.0), (1500.0, 1620.0))])
    greet = _real("answering_machine/vm-nobodyavail.gsm")
    person = _real("speech/input.8.wav")[: 2 * RATE]
    on = dict(dtmf=True, progress=True, fax=True, vad=True)
    answered = dict(on, amd=True, answered_at=0)
    return [
        (0, _alaw(dtmf), on),
        (3, _alaw(sit), on),
        (5, _alaw(busy), on),
        (0, _alaw(np.concatenate([ringback, greet, _sil(3000)])),
         dict(on, amd=True, answered_at=ringback.size)),
        (7, _alaw(cng), on),
        (11, _alaw(ced), answered),
        (2, _alaw(np.concatenate([_sil(400), noise, person, _sil(2500)])), answered),
        (13, _alaw(np.concatenate([_real("sit_announcements/not-in-service-with-sit.wav"),
                                   _sil(1000)])), answered),
        (4, _alaw(np.concatenate([_real("answering_machine/please-leave-a-message-at-the-tone"
                                        ".wav"),
                                  _real("answering_machine/beep.wav", -12), _sil(2000)])),
         answered),
        (9, _alaw(np.concatenate([_real("dtmf/digits.321.unclean.8000hz.wav", -8), _sil(500)])),
         dict(on, progress=False)),
        (1, _alaw(np.concatenate([_sil(300), _real("speech/kristoff.raw"), _sil(2000)])),
         dict(on, amd=True, answered_at=2400)),
        (6, _alaw(r2), dict(on, dtmf=False, mf="r2_forward")),
        (8, _alaw(noise), dict(on, vad=False, fax=False)),
        (10, _alaw(np.concatenate([_real("speech/hts1.raw", -26), _sil(1500)])),
         dict(on, dtmf=False, fax=False)),
    ]


def mixed_events() -> list[dict[str, Any]]:
    rng = np.random.default_rng(15)
    plan = _scenario(rng)
    det = Detector("cn", len(plan), announcements=[])
    blocks = []
    for start, x, _ in plan:
        y = to_int16(np.concatenate([x, np.zeros((-x.size) % BLOCK)]))
        blocks.append((start, y.reshape(-1, BLOCK)))
    ticks = max(s + b.shape[0] for s, b in blocks)
    out: list[dict[str, Any]] = []
    for tick in range(ticks):
        live = []
        for ch, (start, b) in enumerate(blocks):
            if tick == start:
                det.enable(ch, **plan[ch][2])
            if start <= tick < start + b.shape[0]:
                live.append(ch)
            elif tick == start + b.shape[0]:
                det.disable(ch)
        if 40 <= tick < 45 and 6 in live:  # a channel skips ticks (no audio this tick)
            live.remove(6)
        if tick == 60:
            det.configure(0, dtmf=False)
        if tick == 100:
            det.configure(0, dtmf=True)
            det.reset(2)
        if not live:
            continue
        ids = np.array(live[::-1] if tick % 2 else live, np.intp)  # any order
        block = np.stack([blocks[ch][1][tick - blocks[ch][0]] for ch in ids])
        out += [event_record(e) for e in det.process(block, ids)]
    return out


def all_events() -> dict[str, list[dict[str, Any]]]:
    return {"trace": trace_events(), "mixed": mixed_events()}


def main() -> int:
    if not REAL_AUDIO.is_dir():
        print(f"real audio not found at {REAL_AUDIO}", file=sys.stderr)
        return 1
    events = all_events()
    GOLDEN.parent.mkdir(exist_ok=True)
    GOLDEN.write_text(json.dumps(events, indent=0, sort_keys=True) + "\n")
    for name, evs in events.items():
        kinds: dict[str, int] = {}
        for e in evs:
            kinds[e["type"]] = kinds.get(e["type"], 0) + 1
        print(f"{name}: {len(evs)} events {kinds}")
    print(f"wrote {GOLDEN}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
