"""The software line echo canceller (drivers/dsp/echo.py, issue 20): what it takes away
(ERLE) and what it costs, on a synthetic echo path, against no canceller measured in
the same run.

* ERLE after 1, 2 and 4 s of speech-like audio sent into an echo path of 10 dB ERL with
  a 5 ms bulk delay (plus the 20 ms the ports take), per tail length;
* CPU per 20 ms frame and channel, as a ratio to the frame copy without a canceller;
* on an emulated module (pyserial on its ptys, the echo made inside the module): the
  level received while we send noise into an answering machine's recording, with no
  echo, with the echo, and with the echo and a 64 ms canceller.

    .venv/bin/python benchmarks/bench_mobile_echo.py
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

import numpy as np

from trunkline.drivers.dsp.echo import EchoCanceller, erle_db

FRAME = 160


def speech_like(seconds: float, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    n = int(seconds * 8000)
    noise = np.convolve(rng.standard_normal(n), np.ones(4) / 2, mode="same")
    return 6000 * noise * (0.55 + 0.45 * np.sin(2 * np.pi * 3.0 * np.arange(n) / 8000) ** 2)


def echo_path(delay: int, erl_db: float) -> np.ndarray:
    h = np.zeros(delay + 24)
    h[delay:] = np.exp(-np.arange(24) / 6.0) * np.cos(np.arange(24) * 0.9)
    return h * 10 ** (-erl_db / 20) / np.sqrt(np.sum(h ** 2))


def run(tail: int | None, seconds: float = 4.0) -> tuple[list[float], float]:
    """(ERLE of each second, CPU µs per frame)."""
    sent = speech_like(seconds, 1)
    echo = np.convolve(np.concatenate([np.zeros(FRAME), sent]), echo_path(40, 10.0))
    received = np.rint(echo[:len(sent)]).astype(np.int16)
    canceller = EchoCanceller(tail) if tail else None
    out, previous = [], None
    start = time.process_time()
    for k in range(0, len(sent), FRAME):
        frame = received[k:k + FRAME]
        out.append(frame.copy() if canceller is None else canceller.process(frame, previous))
        previous = np.rint(sent[k:k + FRAME]).astype(np.int16)
    cpu = (time.process_time() - start) * 1e6 / (len(sent) // FRAME)
    left = np.concatenate(out).astype(np.float64)
    return [erle_db(echo[i:i + 8000], left[i:i + 8000]) for i in range(0, len(sent), 8000)], cpu


def emulated() -> tuple[float, float, float]:
    import sys

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "mobile"))
    from test_mobile_echo_canceller import received_levels

    tmp = Path(tempfile.mkdtemp())
    path = "echo_path = {erl_db = 10.0, delay_ms = 5.0}"
    return (float(np.mean(received_levels(tmp, "")[-100:])),
            float(np.mean(received_levels(tmp, path)[-100:])),
            float(np.mean(received_levels(tmp, path + "\necho_canceller = 64")[-100:])))


def main() -> None:
    _, base = run(None)
    print("echo path 10 dB ERL, 5 ms + 20 ms; speech-like audio; ERLE per second")
    print(f"  {'tail':>8} {'1 s':>7} {'2 s':>7} {'3 s':>7} {'4 s':>7} {'CPU/frame':>11}  ratio")
    print(f"  {'none':>8} {'':>31} {base:8.1f} µs  x1.00")
    for tail in (16, 32, 64, 128):
        erle, cpu = run(tail)
        cells = " ".join(f"{e:6.1f}" for e in erle)
        print(f"  {tail:>5} ms {cells} {cpu:8.1f} µs  x{cpu / base:.0f}"
              f"  ({cpu / 200:.2f} % of a tick)")
    floor, echoed, cancelled = emulated()
    echo_alone = 10 * np.log10(10 ** (echoed / 10) - 10 ** (floor / 10))
    print("emulated module, received level while we send noise (dB of the decoded PCM):")
    print(f"  no echo {floor:.2f}, echo {echoed:.2f} (the echo alone {echo_alone:.1f}), "
          f"echo with a 64 ms canceller {cancelled:.2f}")


if __name__ == "__main__":
    main()
