#!/usr/bin/env python3
"""AMD accuracy on real recordings: how often the verdict is right, and how fast.

Run: ``.venv/bin/python benchmarks/amd_eval.py [--extra DIR] [--errors] [--per-clip] [--seed N]``

The corpus is ``benchmarks/data/amd_corpus.toml``: labelled clips built from the real
recordings in ``../shared/testdata/real-audio``, Allison Smith's Asterisk prompts from
Debian's ``asterisk-core-sounds-en-wav`` (CC BY-SA 3.0, read where the package puts
them) and a few more found for it (sources, commits, checksums and licences in the
file; they stay outside the repository; clips whose files are missing are skipped and
named). Each
clip is played as a call answered at time 0 through several line renderings:

* ``clean``       linear PCM, 300 ms of digital silence before the clip;
* ``alaw_line``   A-law, white line noise at -60 dBm0;
* ``ulaw_room``   mu-law, 600 ms of digital silence, then room noise (a real kitchen
                  recording, CC BY 4.0) at -45 dBm0 under the clip and after it -- the
                  noise floor must be learnt again after the digital silence;
* ``alaw_late``   A-law, line noise, the clip starting 2.8 s after the answer;
* ``ulaw_noisy``  mu-law, white noise at -38 dBm0 (about 18 dB under the speech).

Speech is levelled to -20 dBm0 (active level) with a seeded +-4 dB spread. All renderings
of one condition run as channels of one :class:`Detector`, as the gateway runs them.

Printed: accuracy, human taken for machine, ``notsure`` share and median decision time,
each with a 95 % confidence interval (Wilson score interval for the proportions,
the binomial order-statistic interval for the median), overall, per rendering and per
category. The median is given twice: after the answer, and after the clip starts on
the line (``LEAD_S``), since ``alaw_late``'s built-in 2.8 s of silence moves a fifth of
the trials 2.5 s later whatever the detector does. The renderings of one recording are
not independent trials, so the intervals are narrower than the recordings alone would
give; the per-category table shows where the errors are.

The corpus is also where the rules were developed, so the recordings are split into a
*dev* half and a *held-out* half by a fixed seeded rule (:func:`split_halves`: clips
sharing a recording stay together) and both halves are printed: a rule or a threshold
is tuned on dev only, and held-out says whether it carries. ``--per-clip`` lists every
verdict with the rule that gave it and its time after the answer.
"""

from __future__ import annotations

import argparse
import math
import sys
import tomllib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from trunkline.drivers.dsp import g711
from trunkline.drivers.dsp.detector import BLOCK, Detector
from trunkline.drivers.dsp.levels import DBM0_RMS, amplitude
from trunkline.drivers.dsp.wavfile import read_audio

RATE = 8000
HERE = Path(__file__).resolve().parent
CORPUS = HERE / "data" / "amd_corpus.toml"
REAL_AUDIO = HERE.parent.parent / "shared" / "testdata" / "real-audio"
EXTRA = Path.home() / ".cache" / "trunkline" / "amd-extra"
#: Allison Smith's Asterisk prompts (CC BY-SA 3.0), as Debian's asterisk-core-sounds-en-wav
#: installs them (scripts/setup); read in place, never copied here.
ASTERISK_SOUNDS = Path("/usr/share/asterisk/sounds/en_US_f_Allison")
CONDITIONS = ("clean", "alaw_line", "ulaw_room", "alaw_late", "ulaw_noisy")
#: Seconds of line before the clip starts, per rendering. ``alaw_late``'s 2.8 s is there
#: to test that a late greeting is still judged; no verdict can come before the clip
#: starts, so it adds 2.5 s to every time after the answer by construction: the tables
#: also time each verdict from the clip's start on the line, the detector's own share.
LEAD_S = {"clean": 0.3, "alaw_line": 0.4, "ulaw_room": 0.6, "alaw_late": 2.8,
          "ulaw_noisy": 0.4}
#: NANP SIT segments (Hz, ms), detection-anchors.md section 4.
SIT_NANP = {"IC": ((913.8, 274), (1370.6, 274), (1776.7, 380)),
            "NC": ((985.2, 380), (1428.5, 380), (1776.7, 380)),
            "VC": ((985.2, 380), (1370.6, 274), (1776.7, 380)),
            "RO": ((913.8, 274), (1428.5, 380), (1776.7, 380))}


@dataclass(frozen=True)
class Clip:
    id: str
    label: str
    category: str
    audio: np.ndarray   # float, 8 kHz, levelled
    half: str = "dev"   # "dev" or "held-out" (split_halves)


@dataclass(frozen=True)
class Verdict:
    clip: Clip
    condition: str
    result: str          # the AMD result ("" when none came)
    reason: str
    seconds: float       # decision time after the answer

    @property
    def after_onset(self) -> float:
        """Decision time after the clip starts on the line (its rendering's lead)."""
        return self.seconds - LEAD_S[self.condition]


def _sine(hz: float, ms: float, dbm0: float, *, am: float = 0.0,
          reversal_ms: float | None = None) -> np.ndarray:
    t = np.arange(int(RATE * ms / 1000)) / RATE
    phase = np.pi * np.floor(t * 1000 / reversal_ms) if reversal_ms else 0.0
    x = amplitude(dbm0) * np.sin(2 * np.pi * hz * t + phase)
    return x * (1 + am * np.sin(2 * np.pi * 15 * t)) if am else x


def _part(spec: str, extra: Path) -> tuple[np.ndarray, bool]:
    """Samples of one part, and whether it is speech to be levelled."""
    kind, _, rest = spec.partition(":")
    if kind == "silence":
        return np.zeros(int(RATE * float(rest) / 1000)), False
    if kind == "tone":
        hz, ms = rest.split(":")
        return _sine(float(hz), float(ms), -12.0), False
    if kind == "ced":
        return _sine(2100.0, float(rest), -12.0), False
    if kind == "ans_reversals":
        return _sine(2100.0, float(rest), -12.0, reversal_ms=450.0), False
    if kind == "ansam":
        return _sine(2100.0, float(rest), -12.0, am=0.2), False
    if kind == "sit":
        return np.concatenate([_sine(hz, ms, -24.0) for hz, ms in SIT_NANP[rest]]), False
    path, _, cut = spec.partition("@")
    root, _, rel = path.partition("/")
    base = {"real-audio": REAL_AUDIO, "extra": extra, "asterisk-sounds": ASTERISK_SOUNDS}.get(root)
    if base is None:
        raise ValueError(f"{CORPUS}: part {spec!r} names none of real-audio/, extra/, "
                         "asterisk-sounds/")
    x = read_audio(base / rel).astype(np.float64)
    if cut:
        a, b = (float(v) for v in cut.split("-"))
        x = x[int(a * RATE):int(b * RATE)]
    return x, True


def _active_level(x: np.ndarray) -> float:
    """Power of the blocks within 30 dB of the loudest (speech's active level)."""
    n = x.size // BLOCK
    p = (x[:n * BLOCK].reshape(n, BLOCK) ** 2).mean(axis=1)
    return float(p[p >= p.max() * 1e-3].mean())


#: The split's seed: fixed, so the held-out half stays held out across sessions.
SPLIT_SEED = 15
_SYNTHETIC = ("silence", "tone", "ced", "ans_reversals", "ansam", "sit")


def _recordings(entry: dict[str, object]) -> list[str]:
    """The recordings a clip is cut from; beeps (shared by many prompts, and no
    speech) and synthetic parts do not count, a clip of those alone is its own."""
    out = []
    for spec in entry["parts"]:  # type: ignore[attr-defined]
        if spec.partition(":")[0] in _SYNTHETIC:
            continue
        path = spec.partition("@")[0]
        if "beep" not in path.rsplit("/", 1)[-1]:
            out.append(path)
    return out or [f"clip:{entry['id']}"]


def split_halves(entries: list[dict[str, object]], seed: int = SPLIT_SEED) -> dict[str, str]:
    """Clip id -> "dev" or "held-out", splitting the recordings, not the renderings.

    Clips that share a recording (cuts of one file, a greeting and a live answer cut
    from the same reading, a prompt reused in a longer one) are joined into one group,
    so no audio is heard in both halves. The groups, in a seeded random order, go
    each to the half with fewer clips so far (ties to dev): a fixed rule, balanced in
    clips, that no tuning can move.
    """
    parent: dict[str, str] = {}

    def root(x: str) -> str:
        while parent.setdefault(x, x) != x:
            x = parent[x]
        return x

    recs = {str(e["id"]): _recordings(e) for e in entries}
    for files in recs.values():
        for f in files[1:]:
            parent[root(f)] = root(files[0])
    groups: dict[str, list[str]] = {}
    for cid, files in recs.items():
        groups.setdefault(root(files[0]), []).append(cid)
    order = sorted(groups)
    rng = np.random.default_rng(seed)
    halves: dict[str, str] = {}
    size = {"dev": 0, "held-out": 0}
    for i in rng.permutation(len(order)):
        members = groups[order[i]]
        half = "dev" if size["dev"] <= size["held-out"] else "held-out"
        size[half] += len(members)
        halves.update((cid, half) for cid in members)
    return halves


def load_corpus(extra: Path) -> tuple[list[Clip], list[str]]:
    """The clips whose files are present, and the ids skipped for missing files."""
    data = tomllib.loads(CORPUS.read_text())
    halves = split_halves(data["clip"])
    clips, skipped = [], []
    for entry in data["clip"]:
        try:
            parts = [_part(p, extra) for p in entry["parts"]]
        except FileNotFoundError:
            skipped.append(entry["id"])
            continue
        except Exception as err:  # an unreadable file: name it, do not guess
            if "no such file" in str(err):
                skipped.append(entry["id"])
                continue
            raise
        speech = [x for x, is_speech in parts if is_speech and x.size]
        gain = 1.0
        if speech:
            gain = DBM0_RMS * 10 ** (-20 / 20) / math.sqrt(_active_level(np.concatenate(speech)))
        audio = np.concatenate([x * gain if s else x for x, s in parts])
        clips.append(Clip(entry["id"], entry["label"], entry["category"], audio,
                          halves[entry["id"]]))
    return clips, skipped


def _room_noise(extra: Path, n: int, rng: np.random.Generator) -> tuple[np.ndarray, str]:
    path = extra / "doing_the_dishes.wav"
    if path.exists():
        noise = read_audio(path).astype(np.float64)
        start = int(rng.integers(0, noise.size - n)) if noise.size > n else 0
        x = np.resize(noise[start:], n)
        return x, "kitchen recording"
    # Fallback (said in the report): pink-ish noise.
    white = rng.normal(0, 1, n + 1)
    return np.cumsum(white)[1:] * 0.02 + white[1:], "SYNTHETIC pink-ish noise"


def render(clip: Clip, condition: str, rng: np.random.Generator, extra: Path,
           total_s: float = 10.0) -> np.ndarray:
    """The clip as heard on a line answered at sample 0, ``total_s`` long."""
    n = int(total_s * RATE)
    x = clip.audio * 10 ** (rng.uniform(-4, 4) / 20)
    lead = LEAD_S[condition]
    out = np.zeros(n)
    i = int(lead * RATE)
    out[i:i + x.size] = x[:n - i]

    def noise_at(dbm0: float, shape: np.ndarray) -> np.ndarray:
        return shape / max(shape.std(), 1e-9) * DBM0_RMS * 10 ** (dbm0 / 20)

    if condition in ("alaw_line", "alaw_late"):
        out += noise_at(-60, rng.normal(0, 1, n))
    elif condition == "ulaw_noisy":
        out += noise_at(-38, rng.normal(0, 1, n))
    elif condition == "ulaw_room":
        room, _ = _room_noise(extra, n - i, rng)
        out[i:] += noise_at(-45, room)
    law = {"alaw_line": "alaw", "alaw_late": "alaw", "ulaw_room": "ulaw",
           "ulaw_noisy": "ulaw"}.get(condition)
    pcm = np.clip(np.round(out), -32768, 32767).astype(np.int16)
    return g711.decode(g711.encode(pcm, law), law).astype(np.int16) if law else pcm


def run_condition(clips: list[Clip], condition: str, zone: str, seed: int,
                  extra: Path) -> list[Verdict]:
    rng = np.random.default_rng([seed, CONDITIONS.index(condition)])
    return run_renderings(clips, [condition] * len(clips), zone, rng, extra)


def run_renderings(clips: list[Clip], conditions: list[str], zone: str,
                   rng: np.random.Generator, extra: Path) -> list[Verdict]:
    """Each clip through its own rendering, all as channels of one :class:`Detector`
    (as the gateway runs them); the first AMD verdict of each."""
    audio = np.stack([render(c, cond, rng, extra)
                      for c, cond in zip(clips, conditions, strict=True)])
    det = Detector(zone, len(clips), announcements=[])
    for ch in range(len(clips)):
        det.enable(ch, dtmf=False, progress=True, fax=True, vad=True, amd=True,
                   answered_at=0)
    ids = np.arange(len(clips))
    first: dict[int, tuple[str, str, float]] = {}
    for b in range(audio.shape[1] // BLOCK):
        for e in det.process(audio[:, b * BLOCK:(b + 1) * BLOCK], ids):
            if e.kind == "amd" and e.channel not in first:
                first[e.channel] = (e.result, e.reason, e.after_answer / RATE)
        if len(first) == len(clips):
            break  # every verdict is in: the rest of the audio cannot change them
    return [Verdict(c, cond, *first.get(i, ("", "no verdict", float("nan"))))
            for i, (c, cond) in enumerate(zip(clips, conditions, strict=True))]


def wilson(k: int, n: int, z: float = 1.96) -> tuple[float, float]:
    """Wilson score interval of k successes in n trials."""
    if n == 0:
        return (float("nan"), float("nan"))
    p = k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return max(0.0, centre - half), min(1.0, centre + half)


def median_ci(values: list[float], z: float = 1.96) -> tuple[float, float, float]:
    """Median and its distribution-free 95 % interval (binomial order statistics)."""
    v = sorted(x for x in values if not math.isnan(x))
    n = len(v)
    if n == 0:
        return (float("nan"),) * 3
    lo = max(math.floor(n / 2 - z * math.sqrt(n) / 2), 0)
    hi = min(math.ceil(n / 2 + z * math.sqrt(n) / 2), n - 1)
    return float(np.median(v)), v[lo], v[hi]


def correct(v: Verdict) -> bool:
    return v.result == v.clip.label


def summary(verdicts: list[Verdict]) -> dict[str, object]:
    n = len(verdicts)
    ok = sum(map(correct, verdicts))
    humans = [v for v in verdicts if v.clip.label == "human"]
    h2m = sum(v.result == "machine" for v in humans)
    ns = sum(v.result == "notsure" for v in verdicts)
    med = median_ci([v.seconds for v in verdicts])
    onset = median_ci([v.after_onset for v in verdicts])
    return {"n": n, "acc": (ok, n), "h2m": (h2m, len(humans)), "notsure": (ns, n),
            "median": med, "onset": onset}


def share_ci(k: int, n: int, digits: int = 1) -> str:
    """``k`` of ``n`` as a percentage with its Wilson 95 % interval, ``digits`` decimals."""
    lo, hi = wilson(k, n)
    w = digits + 4
    return (f"{100 * k / max(n, 1):{w}.{digits}f} % "
            f"[{100 * lo:{w - 1}.{digits}f}-{100 * hi:{w}.{digits}f}]")


def print_table(title: str, rows: list[tuple[str, list[Verdict]]]) -> None:
    print(f"\n{title}")
    print(f"{'':28s} {'n':>4s}  {'correct':>22s}  {'human->machine':>22s}  "
          f"{'notsure':>22s}  {'median s [95 %]':>17s}  {'from clip start':>17s}")
    for name, vs in rows:
        if not vs:
            continue
        s = summary(vs)
        med, lo, hi = s["median"]  # type: ignore[misc]
        o_med, o_lo, o_hi = s["onset"]  # type: ignore[misc]
        print(f"{name:28s} {s['n']:4d}  {share_ci(*s['acc']):>22s}  "  # type: ignore[misc]
              f"{share_ci(*s['h2m']) if s['h2m'][1] else '-':>22s}  "  # type: ignore[index]
              f"{share_ci(*s['notsure']):>22s}  {med:5.2f} [{lo:4.2f}-{hi:4.2f}]"
              f"  {o_med:5.2f} [{o_lo:4.2f}-{o_hi:4.2f}]")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--extra", type=Path, default=EXTRA,
                    help=f"folder of the corpus's extra recordings (default {EXTRA})")
    ap.add_argument("--zone", default="us", help="tone zone of the detector (default us)")
    ap.add_argument("--seed", type=int, default=2026)
    ap.add_argument("--errors", action="store_true", help="list every wrong verdict")
    ap.add_argument("--per-clip", action="store_true",
                    help="list every verdict: clip, half, rendering, result, reason, seconds")
    args = ap.parse_args(argv)
    if not REAL_AUDIO.is_dir():
        print(f"real recordings not found at {REAL_AUDIO}", file=sys.stderr)
        return 2
    clips, skipped = load_corpus(args.extra)
    if skipped:
        print(f"skipped (files missing under {args.extra} or {ASTERISK_SOUNDS}): "
              f"{', '.join(skipped)}")
    room = "kitchen recording" if (args.extra / "doing_the_dishes.wav").exists() else \
        "SYNTHETIC pink-ish noise (doing_the_dishes.wav missing)"
    print(f"{len(clips)} clips x {len(CONDITIONS)} renderings; room noise: {room}")
    verdicts: list[Verdict] = []
    for cond in CONDITIONS:
        verdicts += run_condition(clips, cond, args.zone, args.seed, args.extra)
    print_table("All (median: seconds after the answer, and after the clip starts on the line)",
                [("all", verdicts),
                 ("human + machine only", [v for v in verdicts
                                           if v.clip.label in ("human", "machine")]),
                 ("all but alaw_late", [v for v in verdicts if v.condition != "alaw_late"])])
    print_table(f"By half (recordings split by split_halves, seed {SPLIT_SEED})",
                [(f"{h} ({len({v.clip.id for v in verdicts if v.clip.half == h})} clips)",
                  [v for v in verdicts if v.clip.half == h]) for h in ("dev", "held-out")])
    print_table("By rendering", [(c, [v for v in verdicts if v.condition == c])
                                 for c in CONDITIONS])
    cats = sorted({v.clip.category for v in verdicts})
    print_table("By category", [(c[:28], [v for v in verdicts if v.clip.category == c])
                                for c in cats])
    if args.per_clip:
        print(f"\n{'clip':24s} {'half':8s} {'rendering':11s} {'label':8s} {'result':8s} "
              f"{'s':>5s}  reason")
        for v in sorted(verdicts, key=lambda v: (v.clip.category, v.clip.id, v.condition)):
            print(f"{v.clip.id:24s} {v.clip.half:8s} {v.condition:11s} {v.clip.label:8s} "
                  f"{v.result or '-':8s} {v.seconds:5.2f}  {v.reason}")
    wrong = [v for v in verdicts if not correct(v)]
    print(f"\n{len(wrong)} of {len(verdicts)} verdicts differ from the label")
    if args.errors:
        for v in wrong:
            print(f"  {v.clip.id:24s} {v.condition:11s} label {v.clip.label:8s} got "
                  f"{v.result or '-':8s} ({v.reason}, {v.seconds:.2f} s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
