#!/usr/bin/env python3
"""Benchmark: a quiet client's request latency while another client floods the gateway.

The gateway decodes requests on the event loop the media tick shares (issue 15, item 4:
"a second client answered within 1 s throughout"; red-team 3: "decoding never on the
tick's critical path"). One authenticated client (the flooder, its own process) sends
frames as large as the limits allow, back to back, reconnecting whenever it is cut; a
second client (this process, over TCP on loopback: another peer, since the request rate
is shared by a peer's connections) sends one small ``ping`` every ``--every`` seconds and
times each answer. The gateway runs in a third process, so the three share no GIL.

Rows, for each frame shape of the flood:

* ``quiet``: the baseline, no flood, measured in the same run;
* ``flood``, limits ``off``: the server built with ``decode_share=None`` and
  ``request_rate=None`` (how every gateway behaved before the per-client decode budget
  and request rate limit);
* ``flood``, limits ``on``: the server as shipped (its request rate: ``--request-rate``,
  default the shipped 500 a second, ``--request-burst`` 1000).

The ratios are against the quiet baseline. Shapes: ``nils`` (two arrays of 65,530 nils:
the most elements, the cheapest each), ``keys`` (maps of distinct string keys: msgpack
interns every map key, the costliest element there is), ``lists`` (4,000 lists of
30 integers) and ``pings`` (small pings pipelined as fast as the socket takes them:
what the request rate limit is for; with it on, the flooder is refused, cut, and
connects again). Real-time figures: print the load average beside them; the machine
should be quiet.

    .venv/bin/python benchmarks/bench_rpc_flood.py               # 3 s a row
    .venv/bin/python benchmarks/bench_rpc_flood.py --seconds 1 --shapes keys
    .venv/bin/python benchmarks/bench_rpc_flood.py --shapes pings --request-rate 5000
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import os
import socket
import tempfile
import time
from typing import Any

import msgpack

from trunkline.gateway.rpc.client import AsyncGatewayClient
from trunkline.gateway.rpc.protocol import DEFAULT_MAX_MAP_ENTRIES, HEADER, encode_frame
from trunkline.gateway.rpc.request_rate import DEFAULT_REQUEST_BURST, DEFAULT_REQUEST_RATE
from trunkline.gateway.rpc.server import GatewayServer
from trunkline.logs import configure_logging

TOKEN = "bench-token-0123456789"


def flood_frame(shape: str, n: int) -> bytes:
    """One framed request of ``shape`` as large as the server's limits allow (an unknown
    parameter, so the reply is a small error and the cost measured is the decoding)."""
    if shape == "nils":
        pad: Any = [[None] * 65530, [None] * 65530]
    elif shape == "keys":
        # Distinct keys in every frame: msgpack interns each, so repeats would be cheaper.
        pad = {f"k{n}.{i}": i for i in range(DEFAULT_MAX_MAP_ENTRIES - 8)}
    elif shape == "lists":
        pad = [list(range(30)) for _ in range(4000)]
    elif shape == "pings":  # a hundred small requests at once
        return b"".join(encode_frame({"id": n * 100 + i, "method": "ping"})
                        for i in range(100))
    else:
        raise ValueError(shape)
    body = msgpack.packb({"id": n, "method": "ping", "params": {"pad": pad}})
    return HEADER.pack(len(body)) + body


def serve(path: str, limits: tuple[float | None, float | None, int], ready: Any) -> None:
    configure_logging("error")
    decode_share, request_rate, request_burst = limits

    async def main() -> None:
        # The quiet client comes over TCP: another peer than the flooder (a Unix user
        # id), since the request rate is shared by a peer's connections.
        server = GatewayServer(unix_path=path, tcp=("127.0.0.1", 0),
                               tokens={TOKEN: "monitor"}, decode_share=decode_share,
                               request_rate=request_rate, request_burst=request_burst)
        await server.start()
        ready.put(server.tcp_address)
        await asyncio.Event().wait()

    asyncio.run(main())


def flood(path: str, shape: str, seconds: float, sent: Any) -> None:
    """Send ``shape`` frames back to back for ``seconds``, reading and dropping replies."""
    frames = [flood_frame(shape, n) for n in range(64)]
    per = 100 if shape == "pings" else 1  # frames in one element of ``frames``
    end = time.monotonic() + seconds
    count = 0
    while time.monotonic() < end:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            sock.connect(path)
        except OSError:
            sock.close()
            break  # the server is gone
        sock.setblocking(False)
        try:
            pending = memoryview(b"")
            while time.monotonic() < end:
                if not pending:
                    pending = memoryview(frames[count // per % len(frames)])
                    count += per
                try:
                    pending = pending[sock.send(pending):]
                except BlockingIOError:
                    time.sleep(0.0005)
                try:
                    if not sock.recv(1 << 20):
                        break  # cut: connect again, as a hostile client would
                except BlockingIOError:
                    pass
        except OSError:
            pass
        finally:
            sock.close()
    sent.put(count)


async def probe(url: str, seconds: float, every: float) -> list[float]:
    """Round-trip times (s) of small pings, one every ``every`` seconds."""
    client = await AsyncGatewayClient.connect(url, token=TOKEN)
    times: list[float] = []
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        started = time.perf_counter()
        await asyncio.wait_for(client.call("ping"), 5.0)
        times.append(time.perf_counter() - started)
        await asyncio.sleep(every)
    await client.close()
    return times


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def measure(folder: str, limits: tuple[float | None, float | None, int], shape: str | None,
            seconds: float, every: float) -> dict[str, float]:
    path = os.path.join(folder, f"gw{time.monotonic_ns() % 100000}")
    ready: Any = multiprocessing.Queue()
    server = multiprocessing.Process(target=serve, args=(path, limits, ready),
                                     daemon=True)
    server.start()
    host, port = ready.get(timeout=30)
    flooder = None
    sent: Any = multiprocessing.Queue()
    try:
        if shape is not None:
            flooder = multiprocessing.Process(target=flood, args=(path, shape, seconds + 1,
                                                                  sent), daemon=True)
            flooder.start()
            time.sleep(0.5)
        load = os.getloadavg()[0]
        times = asyncio.run(probe(f"tcp://{host}:{port}", seconds, every))
        frames = sent.get(timeout=30) if flooder is not None else 0
    finally:
        if flooder is not None:
            flooder.join(5)
            flooder.terminate()
        server.terminate()
        server.join()
    return {"p50": percentile(times, 0.5) * 1e3, "p99": percentile(times, 0.99) * 1e3,
            "max": max(times) * 1e3, "frames_s": frames / (seconds + 1), "load": load}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=3.0, help="per row")
    parser.add_argument("--every", type=float, default=0.005, help="s between pings")
    parser.add_argument("--shapes", nargs="+", default=["nils", "keys", "lists", "pings"],
                        choices=["nils", "keys", "lists", "pings"])
    parser.add_argument("--request-rate", type=float, default=DEFAULT_REQUEST_RATE,
                        help="the 'on' rows' request rate a connection (default the "
                             "shipped %(default)g; raise it to measure the other limits "
                             "alone)")
    parser.add_argument("--request-burst", type=int, default=DEFAULT_REQUEST_BURST)
    args = parser.parse_args()
    on = (0.1, args.request_rate, args.request_burst)
    off = (None, None, args.request_burst)
    configure_logging("error")
    print(f"\nQuiet client's ping latency while one client floods the gateway "
          f"(flooder on the Unix socket, quiet client over TCP on loopback: another "
          f"peer; {args.seconds:g} s a row, a ping every {args.every * 1e3:g} ms; "
          f"limits on: decode share 0.1, {args.request_rate:g} requests/s, burst "
          f"{args.request_burst})\n")
    print("| flood | limits | p50 ms | p99 ms | max ms | p99 / quiet | "
          "flood frames/s sent | load (1 min) |")
    print("|---|---|---:|---:|---:|---:|---:|---:|")
    with tempfile.TemporaryDirectory(dir="/tmp") as folder:
        quiet = measure(folder, on, None, args.seconds, args.every)
        print(f"| none (baseline) | on | {quiet['p50']:.2f} | {quiet['p99']:.2f} | "
              f"{quiet['max']:.2f} | 1.00 | 0 | {quiet['load']:.1f} |")
        for shape in args.shapes:
            for label, limits in (("off", off), ("on", on)):
                r = measure(folder, limits, shape, args.seconds, args.every)
                print(f"| {shape} | {label} | {r['p50']:.2f} | {r['p99']:.2f} | "
                      f"{r['max']:.2f} | {r['p99'] / quiet['p99']:.1f} | "
                      f"{r['frames_s']:.0f} | {r['load']:.1f} |", flush=True)


if __name__ == "__main__":
    main()
