"""What the WebRTC media worker's channel costs the 20 ms tick (issue 19 item 5): the
evidence for one datagram a tick each way (``gateway/webrtc/worker_wire.py``).

The tick's share only, for ``--positions`` positions, each tick: one G.711 frame out per
position and one RTP packet in per position (the worker side's work is done outside the
timing, as it runs in another process):

* **in-process queues** (the baseline: aiortc on a thread of the gateway; the tick drains a
  ``SimpleQueue`` per position and appends to a ``deque``; the thread's GIL cost is not
  here, ``bench_webrtc.py`` measures it);
* **one datagram per packet and per frame** on an ``AF_UNIX`` ``SOCK_DGRAM`` pair;
* **one datagram a tick each way** (what the worker does: ``encode_frames``, send; receive,
  ``MediaExchange.deliver`` to the positions' queues, drained).

A shared-memory ring per position was not built: the batched socket already costs the
tick a few microseconds, and a ring would still need a wake-up for the worker's event loop
(a socket or an eventfd) each tick.

    .venv/bin/python benchmarks/bench_webrtc_channel.py
"""

from __future__ import annotations

import argparse
import queue
import socket
import sys
import time
from collections import deque

from trunkline.gateway.webrtc.positions import Position
from trunkline.gateway.webrtc.worker_link import MediaExchange
from trunkline.gateway.webrtc.worker_wire import encode_frames, encode_packets

FRAME = b"\xff" * 160


def in_process(n: int, ticks: int) -> float:
    inbound = [queue.SimpleQueue() for _ in range(n)]
    outbound = [deque(maxlen=4) for _ in range(n)]
    packet = (0, 1, 160, 7, FRAME)
    total = 0.0
    for _ in range(ticks):
        for q in inbound:            # the WebRTC thread's side: not timed
            q.put(packet)
        start = time.perf_counter()
        for q in inbound:
            while True:
                try:
                    q.get_nowait()
                except queue.Empty:
                    break
        for d in outbound:
            d.append(FRAME)
        total += time.perf_counter() - start
    return total / ticks


def per_packet(n: int, ticks: int) -> float:
    tick_end, worker_end = socket.socketpair(socket.AF_UNIX, socket.SOCK_DGRAM)
    tick_end.setblocking(False)
    worker_end.setblocking(False)
    record = encode_packets([(1, (0, 1, 160, 7, FRAME))])[0]
    total = 0.0
    for _ in range(ticks):
        for _ in range(n):           # the worker's side: not timed
            worker_end.send(record)
        start = time.perf_counter()
        while True:
            try:
                tick_end.recv(65536)
            except BlockingIOError:
                break
        for _ in range(n):
            tick_end.send(FRAME)
        total += time.perf_counter() - start
        for _ in range(n):
            worker_end.recv(65536)
    return total / ticks


def batched(n: int, ticks: int) -> float:
    tick_end, worker_end = socket.socketpair(socket.AF_UNIX, socket.SOCK_DGRAM)
    tick_end.setblocking(False)
    worker_end.setblocking(False)
    exchange = MediaExchange()
    positions = [Position(200 + i, i) for i in range(n)]
    exchange.routes.update({i + 1: p for i, p in enumerate(positions)})
    packets = encode_packets([(i + 1, (0, 1, 160, 7, FRAME)) for i in range(n)])
    total = 0.0
    for _ in range(ticks):
        for datagram in packets:     # the worker's side: not timed
            worker_end.send(datagram)
        start = time.perf_counter()
        while True:
            try:
                exchange.deliver(tick_end.recv(1 << 18))
            except BlockingIOError:
                break
        for p in positions:
            while True:
                try:
                    p.inbound.get_nowait()
                except queue.Empty:
                    break
        for datagram in encode_frames([(i + 1, FRAME) for i in range(n)]):
            tick_end.send(datagram)
        total += time.perf_counter() - start
        while True:
            try:
                worker_end.recv(1 << 18)
            except BlockingIOError:
                break
    return total / ticks


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--positions", type=int, default=50)
    parser.add_argument("--ticks", type=int, default=2000)
    args = parser.parse_args()
    n, ticks = args.positions, args.ticks
    base = in_process(n, ticks)
    rows = [("in-process queues (baseline)", base),
            ("one datagram per packet/frame", per_packet(n, ticks)),
            ("one datagram a tick each way", batched(n, ticks))]
    print(f"The tick's share of the WebRTC channel: {n} positions, a frame out and a "
          f"packet in each, {ticks} ticks")
    print()
    print(f"{'channel':34}{'us per tick':>14}{'ratio':>10}")
    for name, seconds in rows:
        print(f"{name:34}{seconds * 1e6:>14.1f}{seconds / base:>10.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
