#!/usr/bin/env python3
"""Music ring-back (彩铃) on real music: how soon the detector names it, and never speech.

Run: ``.venv/bin/python benchmarks/music_ringback_real.py [--compare REV] [--quick]``

The music is Debian's ``asterisk-moh-opsound-wav`` (scripts/setup installs it): five
Opsound tracks (Macroform, Manolo Camp, Reno Project; CC BY-SA 3.0 by the package's
copyright file), 8 kHz mono, read where Debian puts them, never copied here. Real
ring-back songs are not steady: quiet intros, rests between phrases, level changes,
vocals. Each track is heard as early media (never answered) from its start and from a
point every ``--every`` seconds, after 0.5 s of digital silence, for 8 s, through four
line renderings at ring-back levels (the track's mean power set to the level, so its
quiet passages stay quiet):

* ``pcm-15``         linear, -15 dBm0;
* ``alaw-20``        A-law, -20 dBm0;
* ``ulaw-25+noise``  mu-law, -25 dBm0, white line noise at -55 dBm0;
* ``alaw-30+noise``  A-law, -30 dBm0, line noise at -55 dBm0.

Printed per track and rendering: starts, the share named ``music`` within 1.5 s and 2 s
of the music's start, the median and 90th percentile of the time to ``music``, and the
misses (not named in 8 s). Then the same for each track heard from its first sample,
its real intro, as a ring-back that starts the song does (``intros``): a fade-in from
digital silence (robot_dity, over about 1.5 s; reno_project-system, after 0.4 s of
silence, over about 2 s), 0.9 s of digital silence before a strummed guitar
(morning_coffee), sound at once (cold_day, the_simplicity). Then operator
announcements followed at once by a song (``announcement + music``: the real-audio
SIT announcements and the emulated network's Mandarin and English ones, each before
every track from its start and from 15 s, A-law at -20 dBm0): ``music`` named while the
announcement is still playing is a false alarm and is counted. Then false alarms on
real speech: every speech file of
``../shared/testdata/real-audio`` (English and Mandarin; operator announcements,
greetings, read speech, speech over noise), Allison Smith's Asterisk prompts from
``asterisk-core-sounds-en-wav`` (CC BY-SA 3.0) and the emulated network's Mandarin and
English clips, each from every 0.5 s of it, A-law as recorded and mu-law 8 dB quieter
over line noise. ``tt-monkeys`` (recorded monkeys, not speech) is left out. Sets whose
files are missing are skipped and named.

``--compare REV`` runs the same with ``drivers/dsp/detector.py`` and ``music.py`` as
they were at git revision REV (loaded from ``git show``) and prints both, with the
ratios of the shares named by 2 s: the baseline measured in the same run.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

import numpy as np

from trunkline.drivers.dsp import detector as current_detector
from trunkline.drivers.dsp import g711
from trunkline.drivers.dsp.detector import BLOCK
from trunkline.drivers.dsp.levels import DBM0_RMS, power_dbm0
from trunkline.drivers.dsp.tones import to_int16
from trunkline.drivers.dsp.wavfile import read_audio

RATE = 8000
HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
#: Opsound music on hold (CC BY-SA 3.0), as Debian's asterisk-moh-opsound-wav installs it.
MOH = Path("/usr/share/asterisk/moh")
REAL_AUDIO = ROOT.parent / "shared" / "testdata" / "real-audio"
ALLISON = Path("/usr/share/asterisk/sounds/en_US_f_Allison")
NETWORK_CLIPS = ROOT / "firmware-profiles" / "audio"
#: (name, level dBm0, G.711 law or None, line noise dBm0 or None)
RENDERINGS = (("pcm-15", -15.0, None, None), ("alaw-20", -20.0, "alaw", None),
              ("ulaw-25+noise", -25.0, "ulaw", -55.0), ("alaw-30+noise", -30.0, "alaw", -55.0))
LEAD = 0.5
LISTEN = 8.0
#: Not speech: recorded monkeys.
NOT_SPEECH = {"tt-monkeys.wav"}
#: Real-audio files that are not speech (beeps, a bare SIT).
REAL_NOT_SPEECH = {"beep.gsm", "beep.wav", "IC_SIT.wav"}
BATCH = 96


@dataclass(frozen=True)
class Start:
    label: str     # track or speech set
    rendering: str
    signal: np.ndarray


def line(x: np.ndarray, law: str | None, noise: float | None,
         rng: np.random.Generator) -> np.ndarray:
    """Through line noise and G.711, as a call's early media reaches the card."""
    y = x if noise is None else x + rng.normal(0, DBM0_RMS * 10 ** (noise / 20), x.size)
    return y if law is None else g711.decode(g711.encode(to_int16(y), law), law).astype(float)


def named_at(module: ModuleType, signals: list[np.ndarray]) -> list[float | None]:
    """Seconds from each signal's sound (after LEAD) to ``music``, or None."""
    out: list[float | None] = []
    for at in range(0, len(signals), BATCH):
        batch = signals[at:at + BATCH]
        n = max(s.size for s in batch)
        n += (-n) % BLOCK
        audio = np.zeros((len(batch), n), np.int16)
        for i, s in enumerate(batch):
            audio[i, :s.size] = to_int16(s)
        det = module.Detector("cn", len(batch), announcements=[])
        for ch in range(len(batch)):
            det.enable(ch, answered_at=None)
        ids = np.arange(len(batch))
        first: list[float | None] = [None] * len(batch)
        for b in range(n // BLOCK):
            for e in det.process(audio[:, b * BLOCK:(b + 1) * BLOCK], ids):
                if e.kind == "tone" and e.tone == "music" and first[e.channel] is None:
                    first[e.channel] = e.decided / RATE - LEAD
        out += first
    return out


def music_starts(every: float, rng: np.random.Generator) -> list[Start]:
    starts: list[Start] = []
    lead = np.zeros(int(LEAD * RATE))
    for path in sorted(MOH.glob("*.wav")):
        x = read_audio(path).astype(np.float64)
        mean = float(power_dbm0(x))
        for name, level, law, noise in RENDERINGS:
            y = x * 10 ** ((level - mean) / 20)
            for t in np.arange(0.0, x.size / RATE - LISTEN, every):
                seg = y[int(t * RATE):int((t + LISTEN) * RATE)]
                starts.append(Start(path.stem, name,
                                    np.concatenate([lead, line(seg, law, noise, rng)])))
    return starts


def intro_starts(rng: np.random.Generator) -> list[Start]:
    """Each track from its first sample (its real intro), through every rendering."""
    lead = np.zeros(int(LEAD * RATE))
    starts: list[Start] = []
    for path in sorted(MOH.glob("*.wav")):
        x = read_audio(path).astype(np.float64)
        mean = float(power_dbm0(x))
        for name, level, law, noise in RENDERINGS:
            seg = x[:int(LISTEN * RATE)] * 10 ** ((level - mean) / 20)
            starts.append(Start(path.stem, name,
                                np.concatenate([lead, line(seg, law, noise, rng)])))
    return starts


def announcement_files() -> list[Path]:
    files = [REAL_AUDIO / "sit_announcements" / n for n in
             ("disconnected-with-sit.wav", "not-in-service-with-sit.wav", "ss-noservice.gsm")]
    files += sorted(NETWORK_CLIPS.glob("*_announce_*.wav"))
    return [p for p in files if p.is_file()]


def announcement_then_music(rng: np.random.Generator) -> list[tuple[Start, float]]:
    """(start, seconds of announcement before the music): each announcement, then a
    track from its start or from 15 s, both at -20 dBm0 A-law, as one early media."""
    lead = np.zeros(int(LEAD * RATE))
    out: list[tuple[Start, float]] = []
    songs = {p.stem: read_audio(p).astype(np.float64) for p in sorted(MOH.glob("*.wav"))}
    for ann_path in announcement_files():
        ann = read_audio(ann_path).astype(np.float64)
        ann = ann * 10 ** ((-20.0 - float(power_dbm0(ann))) / 20)
        for stem, x in songs.items():
            y = x * 10 ** ((-20.0 - float(power_dbm0(x))) / 20)
            for at in (0, 15):
                seg = y[at * RATE:(at + 6) * RATE]
                sig = np.concatenate([lead, line(np.concatenate([ann, seg]), "alaw", None, rng)])
                out.append((Start(f"{ann_path.name} + {stem}@{at}s", "alaw-20", sig),
                            ann.size / RATE))
    return out


def speech_files() -> dict[str, list[Path]]:
    sets: dict[str, list[Path]] = {}
    if REAL_AUDIO.is_dir():
        sets["shared real-audio"] = sorted(
            p for d in ("speech", "answering_machine", "sit_announcements")
            for p in (REAL_AUDIO / d).iterdir() if p.name not in REAL_NOT_SPEECH)
    if ALLISON.is_dir():
        sets["Asterisk Allison"] = sorted(p for p in ALLISON.glob("*.wav")
                                          if p.name not in NOT_SPEECH)
    if NETWORK_CLIPS.is_dir():
        sets["emulated zh/en"] = sorted(NETWORK_CLIPS.glob("*.wav"))
    return sets


def speech_starts(rng: np.random.Generator) -> list[Start]:
    starts: list[Start] = []
    lead = np.zeros(int(LEAD * RATE))
    for label, files in speech_files().items():
        for path in files:
            x = read_audio(path).astype(np.float64)
            for t in np.arange(0.0, max(x.size / RATE - 0.5, 0.01), 0.5):
                seg = x[int(t * RATE):int((t + LISTEN) * RATE)]
                for name, gain, law, noise in (("alaw", 1.0, "alaw", None),
                                               ("ulaw-8dB+noise", 0.4, "ulaw", -55.0)):
                    starts.append(Start(f"{label}: {path.name}@{t:g}s", name,
                                        np.concatenate([lead, line(seg * gain, law, noise,
                                                                   rng)])))
    return starts


def share(times: list[float | None], limit: float) -> float:
    return sum(t is not None and t <= limit for t in times) / max(len(times), 1)


def table(starts: list[Start], times: list[float | None]) -> dict[tuple[str, str], float]:
    print(f"{'track':28} {'rendering':14} {'starts':>6} {'<=1.5s':>7} {'<=2s':>6} "
          f"{'median':>7} {'p90':>6} {'missed':>6}")
    by2: dict[tuple[str, str], float] = {}
    keys = list(dict.fromkeys((s.label, s.rendering) for s in starts))
    for key in [*keys, ("all", "all")]:
        ts = [t for s, t in zip(starts, times, strict=True)
              if key == ("all", "all") or (s.label, s.rendering) == key]
        got = [t for t in ts if t is not None]
        med = f"{np.median(got):.2f}" if got else "-"
        p90 = f"{np.percentile(got, 90):.2f}" if got else "-"
        by2[key] = share(ts, 2.0)
        print(f"{key[0]:28} {key[1]:14} {len(ts):6d} {share(ts, 1.5):7.1%} {by2[key]:6.1%} "
              f"{med:>7} {p90:>6} {len(ts) - len(got):6d}")
    return by2


def _module_from_text(name: str, text: str) -> ModuleType:
    fd, path = tempfile.mkstemp(suffix=f"_{name}.py")
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(text)
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    os.unlink(path)
    return module


def load_revision(rev: str) -> ModuleType:
    """drivers/dsp/detector.py as it was at ``rev``, as a module of its own, with the
    music ring-back rules (drivers/dsp/music.py, where ``rev`` has them there) as of
    ``rev`` too."""
    def show(path: str) -> str | None:
        done = subprocess.run(["git", "-C", str(ROOT), "show", f"{rev}:{path}"],
                              capture_output=True, text=True)
        return done.stdout if done.returncode == 0 else None

    text = show("drivers/dsp/detector.py")
    if text is None:
        raise SystemExit(f"no drivers/dsp/detector.py at git revision {rev}")
    music = show("drivers/dsp/music.py")
    if music is not None:
        _module_from_text(f"music_at_{rev}", music)
        text = text.replace("from trunkline.drivers.dsp.music import",
                            f"from music_at_{rev} import")
    return _module_from_text(f"detector_at_{rev}", text)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--compare", metavar="REV", help="also run detector.py as at git REV")
    ap.add_argument("--every", type=float, default=10.0,
                    help="seconds between starts in each track (default 10)")
    ap.add_argument("--quick", action="store_true", help="a start every 30 s, no speech")
    args = ap.parse_args(argv)
    if not MOH.is_dir() or not any(MOH.glob("*.wav")):
        print(f"no music at {MOH}: install Debian's asterisk-moh-opsound-wav (scripts/setup)")
        return 1
    rng = np.random.default_rng(15)
    print(f"load average at start: {os.getloadavg()[0]:.2f}")
    modules = [("current", current_detector)]
    if args.compare:
        modules.append((f"at {args.compare}", load_revision(args.compare)))
    music = music_starts(30.0 if args.quick else args.every, rng)
    speech = [] if args.quick else speech_starts(rng)
    # Their own generator: the starts above stay as they were before these were added.
    extra_rng = np.random.default_rng(16)
    intros = intro_starts(extra_rng)
    announced = announcement_then_music(extra_rng)
    results: dict[str, dict[tuple[str, str], float]] = {}
    for name, module in modules:
        print(f"\n== music ring-back, detector {name} (seconds from the music's start)")
        results[name] = table(music, named_at(module, [s.signal for s in music]))
        print(f"\n-- intros: each track from its first sample, detector {name}")
        results[f"{name} intros"] = table(intros, named_at(module, [s.signal for s in intros]))
        times = named_at(module, [s.signal for s, _ in announced])
        early = [(s, t, ann) for (s, ann), t in zip(announced, times, strict=True)
                 if t is not None and t < ann]
        after = [t - ann for (_, ann), t in zip(announced, times, strict=True)
                 if t is not None and t >= ann]
        print(f"\nannouncement + music: {len(early)} of {len(announced)} called music during "
              f"the announcement ({len(announcement_files())} announcements x "
              f"{len(announced) // max(len(announcement_files()), 1)} song starts); the "
              f"music named within 2 s of its start in {share(after, 2.0) * len(after):.0f}, "
              f"named at all in {len(after)}")
        for s, t, ann in early[:10]:
            print(f"    {s.label}: music at {t:.2f} s, the announcement lasts {ann:.2f} s")
        if speech:
            called = [(s, t) for s, t in zip(speech, named_at(module, [s.signal for s in speech]),
                                             strict=True) if t is not None]
            sets = ", ".join(f"{k} ({len(v)} files)" for k, v in speech_files().items())
            print(f"speech called music: {len(called)} of {len(speech)} starts ({sets})")
            for s, t in called[:20]:
                print(f"    {s.label} {s.rendering}: music at {t:.2f} s")
    if args.compare:
        for part in ("", " intros"):
            base = results[f"at {args.compare}{part}"]
            print(f"\n== named within 2 s{part}, current / at {args.compare}")
            for key, value in results[f"current{part}"].items():
                ratio = f"{value / base[key]:.2f}x" if base[key] else "-"
                print(f"{key[0]:28} {key[1]:14} {value:6.1%} / {base[key]:6.1%}  {ratio}")
    print(f"load average at end: {os.getloadavg()[0]:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
