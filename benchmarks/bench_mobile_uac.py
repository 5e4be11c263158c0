"""USB Audio Class voice (issue 20): what pacing a module's sound card into 20 ms frames
costs per frame, both ways, against the 8 kHz pass-through measured in the same run.

* 8 kHz card: bytes to frames and back, no filtering (the baseline);
* 16 kHz card: a 47-tap low-pass and halving on capture, doubling and the same filter
  on playback;
* the ALSA ``null`` device through pyalsaaudio (read and write a period each frame), if
  pyalsaaudio is installed: the library's own cost, without a real card's timing.

    .venv/bin/python benchmarks/bench_mobile_uac.py [--frames 20000]
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from trunkline.drivers.backends.mobile.uac import AlsaAudio, UacPacer
from trunkline.errors import CardNotFound


def pacing(rate: int, frames: int) -> float:
    """CPU µs per 20 ms frame: capture a period, take the frame, play one back."""
    pacer = UacPacer(rate)
    t = np.arange(rate // 50) / rate
    period = np.rint(8000 * np.sin(2 * np.pi * 700 * t)).astype("<i2").tobytes()
    out = np.zeros(160, dtype=np.int16)
    start = time.process_time()
    for _ in range(frames):
        pacer.capture(period)
        pacer.frame()
        pacer.playback(out)
    return (time.process_time() - start) * 1e6 / frames


def alsa_null(frames: int) -> float | None:
    try:
        audio = AlsaAudio("null")
    except CardNotFound:  # no pyalsaaudio, or no ALSA: the row is left out
        return None
    data = bytes(320)
    start = time.process_time()
    try:
        for _ in range(frames):
            audio.write(data)
            # One period, as a real card gives each 20 ms (AlsaAudio.read would drain
            # the null device, which never runs dry, READ_PERIODS at a time).
            audio._capture.read()
    finally:
        audio.close()
    return (time.process_time() - start) * 1e6 / frames


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--frames", type=int, default=20000)
    args = parser.parse_args()
    base = pacing(8000, args.frames)
    rows = [("8 kHz card (pass-through)", base), ("16 kHz card (resampled)",
                                                 pacing(16000, args.frames))]
    null = alsa_null(args.frames)
    if null is not None:
        rows.append(("ALSA null device I/O", null))
    print(f"{args.frames} frames of 20 ms; CPU per frame, ratio to the 8 kHz baseline")
    for name, us in rows:
        print(f"  {name:28s} {us:8.1f} µs  x{us / base:5.2f}  ({us / 200:.2f} % of a "
              "20 ms tick)")


if __name__ == "__main__":
    main()
