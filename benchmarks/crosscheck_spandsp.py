#!/usr/bin/env python3
"""Cross-check trunkline's detector against spandsp on the same signals.

Run: ``.venv/bin/python benchmarks/crosscheck_spandsp.py [--markdown]``

spandsp (LGPL-2.1, Debian libspandsp-dev) is bound with cffi in
``trunkline.drivers.native.spandsp_detect``: ``dtmf_rx`` (default settings),
``super_tone_rx`` configured with each zone's tones, and ``modem_connect_tones_rx``
(CNG mode and ANSam/PR mode). Every test signal goes through both; the report lists
each condition with both results and marks the rows where they disagree (``<<``).
Signals are synthesized here (seeded), plus speech from espeak-ng and the shared
real recordings when available.
"""

from __future__ import annotations

import argparse
import glob
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

from trunkline.drivers.dsp import g711
from trunkline.drivers.dsp.detector import detect_file
from trunkline.drivers.dsp.levels import amplitude
from trunkline.drivers.dsp.tones import DTMF_FREQS, render_tone, to_int16
from trunkline.drivers.dsp.zones import load_zone
from trunkline.drivers.native import spandsp_detect as sd

RATE = 8000
KEYS = "123A456B789C*0#D"
REAL = Path(__file__).resolve().parents[1] / ".." / "shared" / "testdata" / "real-audio"
rng = np.random.default_rng(2026)


def sil(ms):
    return np.zeros(int(RATE * ms / 1000))


def tone(f, ms, dbm0, *, am=0.0, rev=None):
    t = np.arange(int(RATE * ms / 1000)) / RATE
    ph = np.pi * np.floor(t * 1000 / rev) if rev else 0.0
    x = amplitude(dbm0) * np.sin(2 * np.pi * f * t + ph)
    return x * (1 + am * np.sin(2 * np.pi * 15 * t)) / (1 + am)


def digits_signal(ms=50, gap=50, low=-10.0, high=-10.0, dl=0.0, dh=0.0, snr=None, dial=None):
    parts = [sil(40)]
    for d in KEYS:
        f1, f2 = DTMF_FREQS[d]
        parts += [tone(f1 * (1 + dl), ms, low) + tone(f2 * (1 + dh), ms, high), sil(gap)]
    x = np.concatenate(parts)
    if snr is not None:
        p = (amplitude(low) ** 2 + amplitude(high) ** 2) / 2
        x = x + rng.normal(0, np.sqrt(p / 10 ** (snr / 10)), x.size)
    if dial is not None:
        x = x + tone(450.0, len(x) / 8, dial)
    return to_int16(x)


def ours_digits(x):
    return "".join(e.digit for e in detect_file(x, "cn", progress=False, fax=False, vad=False,
                                                announcements=False) if e.kind == "dtmf")


def spandsp_digits(x):
    rx = sd.DtmfRx()
    sd.run_blocks(rx, x)
    return "".join(d for d, _ in rx.events())


def score(got, want=KEYS):
    """Digits found in order (longest common subsequence), and extra digits."""
    from difflib import SequenceMatcher

    hits = sum(b.size for b in SequenceMatcher(None, got, want, autojunk=False)
               .get_matching_blocks())
    extra = len(got) - hits
    return f"{hits}/{len(want)}" + (f" +{extra} false" if extra else "")


def dtmf_rows():
    rows = []
    for pct in (1.0, 1.5, 2.0, 2.5, 3.0, 3.5, 4.0):
        for sign in (1, -1):
            x = digits_signal(dl=sign * pct / 100, dh=sign * pct / 100)
            rows.append((f"DTMF both tones {sign * pct:+.1f} %", "accept" if pct <= 1.5 else
                         "reject" if pct >= 3.5 else "either",
                         score(ours_digits(x)), score(spandsp_digits(x))))
    for tw in (-10, -9, -8, 4, 5, 6):
        if tw > 0:
            x = digits_signal(low=-15 - tw, high=-15)
        else:
            x = digits_signal(low=-15, high=-15 + tw)
        want = "accept" if -8 <= tw <= 4 else "(not set by Q.24)"
        rows.append((f"DTMF twist {tw:+d} dB (high - low)", want, score(ours_digits(x)),
                     score(spandsp_digits(x))))
    for lv in (0, -25, -30, -36, -40, -45, -55):
        x = digits_signal(low=lv, high=lv)
        want = "accept" if lv >= -25 else "reject" if lv <= -55 else "either"
        rows.append((f"DTMF level {lv} dBm0 per tone", want, score(ours_digits(x)),
                     score(spandsp_digits(x))))
    for ms in (20, 23, 30, 35, 40):
        x = digits_signal(ms=ms, gap=60)
        want = "accept" if ms >= 40 else "reject" if ms <= 23 else "either"
        rows.append((f"DTMF {ms} ms tones", want, score(ours_digits(x)),
                     score(spandsp_digits(x))))
    for ms in (20, 23, 30, 35, 40):  # the Q.24 limits in line noise (issue 15)
        x = digits_signal(ms=ms, gap=60, low=-20, high=-20, snr=10)
        x = g711.decode(g711.encode(x, "alaw"), "alaw")
        want = "accept" if ms >= 40 else "reject" if ms <= 23 else "either"
        rows.append((f"DTMF {ms} ms tones, 10 dB SNR, A-law", want, score(ours_digits(x)),
                     score(spandsp_digits(x))))
    for gap in (40, 30):
        x = digits_signal(ms=50, gap=gap)
        rows.append((f"DTMF 50 ms tones, {gap} ms pauses", "accept", score(ours_digits(x)),
                     score(spandsp_digits(x))))
    for snr in (15, 12, 9, 6):
        digits = "".join(rng.choice(list(KEYS), 200))
        parts = [sil(40)]
        for d in digits:
            f1, f2 = DTMF_FREQS[d]
            parts += [tone(f1, 50, -20) + tone(f2, 50, -20), sil(50)]
        x = np.concatenate(parts)
        x = to_int16(x + rng.normal(0, np.sqrt(amplitude(-20) ** 2 / 10 ** (snr / 10)), x.size))
        rows.append((f"DTMF 200 random digits, {snr} dB SNR", "accept",
                     score(ours_digits(x), digits), score(spandsp_digits(x), digits)))
    for db in (10, 12, 15):
        x = digits_signal(low=-25, high=-25, dial=-25 + db)
        rows.append((f"DTMF -25 dBm0 with cn dial tone {db} dB above", "accept",
                     score(ours_digits(x)), score(spandsp_digits(x))))
    return rows


def speech_signals():
    out = []
    if shutil.which("espeak-ng") and shutil.which("sox"):
        texts = [("en-us", "Hello, you have reached the office of John Smith. Please leave a "
                           "message after the tone and I will call you back as soon as I can. "
                           "The quick brown fox jumps over the lazy dog nine times a day."),
                 ("cmn", "您好，您拨打的电话暂时无法接通，请稍后再拨。今天天气很好，我们一起去"
                         "公园散步吧，我的电话号码是一三九八八六七五四三二。")]
        with tempfile.TemporaryDirectory() as tmp:
            for voice, text in texts:
                raw, wav = Path(tmp) / "r.wav", Path(tmp) / "o.wav"
                subprocess.run(["espeak-ng", "-v", voice, "-w", str(raw), text], check=True)
                subprocess.run(["sox", str(raw), "-r", "8000", "-c", "1", "-b", "16", str(wav)],
                               check=True)
                from trunkline.drivers.dsp.wavfile import read_audio

                out.append((f"espeak {voice}", read_audio(wav)))
    if REAL.is_dir():
        from trunkline.drivers.dsp.wavfile import read_audio

        for path in sorted(glob.glob(str(REAL / "speech" / "*"))):
            out.append((Path(path).name, read_audio(path)))
    return out


def talkoff_rows():
    rows = []
    total = {"ours": 0, "spandsp": 0, "s": 0.0}
    for name, x in speech_signals():
        for gain in (0.5, 2.0):
            y = to_int16(x * gain)
            a, b = len(ours_digits(y)), len(spandsp_digits(y))
            total["ours"] += a
            total["spandsp"] += b
            total["s"] += len(y) / RATE
        rows.append((f"talk-off: {name} (x0.5, x2)", "0 digits", str(a), str(b)))
    h = total["s"] / 3600
    rows.append((f"talk-off total {total['s']:.0f} s of speech: false digits per hour", "~0",
                 f"{total['ours'] / h:.1f}", f"{total['spandsp'] / h:.1f}"))
    return rows


def progress_rows():
    rows = []
    for zn in ("cn", "us", "uk", "de", "fr", "jp", "in", "au", "br", "ru"):
        z = load_zone(zn)
        for name in ("dial", "ringback", "busy", "congestion"):
            if name not in z.tones:
                continue
            prefix, cycle = render_tone(z.tone(name), -15)
            x = np.concatenate([np.zeros(1600, np.int16), prefix,
                                np.resize(cycle, 8 * RATE)]).astype(np.int16)
            ours = [(e.tone, e.decided / 8) for e in detect_file(x, zn, dtmf=False, fax=False,
                                                                 vad=False) if e.kind == "tone"]
            st = sd.SuperToneRx(z)
            sd.run_blocks(st, x)
            theirs = [(n, at / 8) for n, at in st.events()]
            fmt = lambda ev: ", ".join(f"{n}@{ms - 200:.0f}ms" for n, ms in ev[:2]) or "-"  # noqa: E731
            rows.append((f"{zn} {name} ({z.tone(name).text})", name, fmt(ours), fmt(theirs)))
    return rows


def modem_rows():
    rows = []

    def ours(x):
        return ",".join(e.tone for e in detect_file(to_int16(x), "cn", dtmf=False, vad=False,
                                                    announcements=False) if e.kind == "tone")

    def theirs(x, mode):
        rx = sd.ModemTonesRx(mode)
        sd.run_blocks(rx, to_int16(x))
        return ",".join(sorted({n for n, _ in rx.events()}))

    for off in (0, 23, 46, 60, 80, -80):
        x = np.concatenate([sil(100), tone(1100 + off, 600, -20), sil(3000)])
        want = "detect" if abs(off) <= 46 else "reject" if abs(off) >= 80 else "either"
        rows.append((f"CNG 1100{off:+d} Hz", want, ours(x) or "-", theirs(x, "cng") or "-"))
    for off in (0, 23, 40, 80, -80):
        x = np.concatenate([sil(100), tone(2100 + off, 3000, -20)])
        want = "detect" if abs(off) <= 23 else "reject" if abs(off) >= 80 else "either"
        rows.append((f"CED 2100{off:+d} Hz", want, ours(x) or "-", theirs(x, "ced") or "-"))
    for lv in (-43, -44):
        x = np.concatenate([sil(100), tone(2100, 3000, lv)])
        rows.append((f"CED at {lv} dBm0", "detect" if lv == -43 else "reject",
                     ours(x) or "-", theirs(x, "ced") or "-"))
    for label, x in (("ANS/ (reversals 450 ms)", tone(2100, 3000, -12, rev=450)),
                     ("ANSam (15 Hz AM)", tone(2100, 3000, -12, am=0.2)),
                     ("ANSam/ (AM + reversals)", tone(2100, 3000, -12, am=0.2, rev=450))):
        x = np.concatenate([sil(100), x])
        rows.append((label, label.split()[0], ours(x) or "-", theirs(x, "ced") or "-"))
    return rows


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.parse_args()
    try:
        sd.library()
    except Exception as err:
        print(f"cannot build the spandsp binding: {err}", file=sys.stderr)
        return 1
    sections = [("DTMF (Q.24 AT&T, spandsp dtmf_rx_tests.c)", dtmf_rows()),
                ("Talk-off", talkoff_rows()),
                ("Call progress (decision time after tone start)", progress_rows()),
                ("Fax and modem tones", modem_rows())]
    disagree = 0
    for title, rows in sections:
        print(f"\n### {title}\n")
        print("| condition | expected | trunkline | spandsp | |")
        print("|---|---|---|---|---|")
        for cond, want, a, b in rows:
            differ = _differ(a, b)
            disagree += differ
            print(f"| {cond} | {want} | {a} | {b} | {'<<' if differ else ''} |")
    print(f"\n{disagree} rows where the two disagree (marked <<).")
    return 0


def _differ(a: str, b: str) -> bool:
    import re

    strip = lambda s: re.sub(r"@\d+ms", "", s)  # noqa: E731
    return strip(a) != strip(b)


if __name__ == "__main__":
    raise SystemExit(main())
