#!/usr/bin/env python3
"""The emulated card's own cost per frame at small scale, against the old frame rule.

Run: ``.venv/bin/python benchmarks/bench_card_frame.py [--frames 1000] [--repeat 5]``

Issue 15, item 6: in virtual time the card's frame (``card._step``: the network's
timers, its player and line noise for every row) is paid on every tick of the demo and
of the test suite. Most rows (140 on the default emulated card) are idle, looping
silence. The player now reads a row that takes 160 consecutive samples of its clip with
one gather, and the noise from a loop stored with its head repeated; the baseline is the
previous sample-by-sample rule (kept here, patched in for the baseline rows) on the same
card in the same run, alternating, best of ``--repeat``. Both must give the same audio
(checked on every frame).
"""

from __future__ import annotations

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import argparse
import heapq
import time

import numpy as np

from trunkline.clock import VirtualClock
from trunkline.drivers.backends.emulated.network import Network
from trunkline.drivers.dsp.player import Player
from trunkline.drivers.model import FRAME_SAMPLES
from trunkline.drivers.registry import open_card


def old_player_frame(self: Player) -> tuple[np.ndarray, np.ndarray]:
    """Player.frame as of 19170ab: every row sample by sample."""
    off = self.pos[:, None] + self._offsets
    wrapped = self.start[:, None] + off % self.length[:, None]
    single = np.where(off < self.length[:, None], self.start[:, None] + off, 0)
    index = np.where(self.loop[:, None], wrapped, single)
    index = np.where((off < self.until[:, None]) & self.active[:, None], index, 0)
    out = self.bank.array[index].astype(np.float32)
    out *= self.gain[:, None]
    self.pos += FRAME_SAMPLES
    ended = np.flatnonzero(self.active & (self.pos >= self.until))
    return out, ended


def old_network_step(self: Network, now: float, tx: np.ndarray) -> np.ndarray:
    """Network.step as of 19170ab: the line noise indexed modulo its size, per sample."""
    self.now = now
    while self._timers and self._timers[0][0] <= now + 1e-9:
        _, _, port, generation, action = heapq.heappop(self._timers)
        if generation == port._generation:
            action()
    for port in list(self.listeners):
        port.hear(tx[port.row])
    audio, ended = self.player.frame()
    for row in ended:
        self.ports[row].on_step_ended()
    for row, source in list(self.live.items()):
        audio[row] = source.frame(tx[row])
    idx = (self._noise_offset[:, None] + self._frame * FRAME_SAMPLES
           + self._noise_index) % self._noise.size
    audio += self._noise[idx]
    self._frame += 1
    return audio


def run(frames: int, old: bool) -> tuple[float, list[np.ndarray]]:
    """CPU seconds of ``frames`` card frames on a fresh default card, and the audio."""
    card = open_card("emulated", clock=VirtualClock())
    audio: list[np.ndarray] = []
    with card:
        net = card.network
        if old:
            net.player.frame = old_player_frame.__get__(net.player)  # type: ignore[method-assign]
            net.step = old_network_step.__get__(net)  # type: ignore[method-assign]
        cpu = 0.0
        for _ in range(frames):
            t0 = time.process_time()
            rx = card._step()
            cpu += time.process_time() - t0
            audio.append(rx.copy())
    return cpu, audio


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--frames", type=int, default=1000)
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args()
    best_old = best_new = float("inf")
    same = True
    for _ in range(args.repeat):
        cpu_old, a_old = run(args.frames, True)
        cpu_new, a_new = run(args.frames, False)
        best_old, best_new = min(best_old, cpu_old), min(best_new, cpu_new)
        same &= all(np.array_equal(x, y) for x, y in zip(a_old, a_new, strict=True))
    print(f"default emulated card, idle, {args.frames} frames, best of {args.repeat}")
    print()
    print("| path | us per frame | x faster | audio identical |")
    print("|---|---:|---:|---|")
    print(f"| baseline (19170ab player) | {best_old / args.frames * 1e6:,.0f} | 1.00 | |")
    print(f"| now | {best_new / args.frames * 1e6:,.0f} | {best_old / best_new:.2f} | "
          f"{'yes' if same else 'NO'} |")
    return 0 if same else 1


if __name__ == "__main__":
    raise SystemExit(main())
