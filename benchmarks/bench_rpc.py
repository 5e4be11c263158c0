#!/usr/bin/env python3
"""Benchmark: gateway RPC round trips and event fan-out, against a raw msgpack baseline.

Two servers run in their own processes on the same kind of socket (Unix by default):

* ``raw``: the baseline, a minimal asyncio protocol that frames and unframes msgpack
  (same 4-byte prefix) and echoes each request's params back, with no validation,
  registry, roles, queues or metrics. It costs what the wire alone costs.
* ``gateway``: :class:`GatewayServer` with a registry, answering the built-in ``ping``.

Round trips are measured from one client, one request at a time and with a window of
requests in flight. Fan-out: N clients subscribe, and the server publishes timestamped
events (every ``--interval`` seconds, so clients can keep up); the latency of each event
at each client is the monotonic clock at receipt minus the stamp (CLOCK_MONOTONIC is one
clock for every process on Linux). The gateway side uses the real client library
(:class:`AsyncGatewayClient`); the baseline a bare reader with the same framing code.
Ratios are gateway / raw (for throughput, higher is better; for latency, lower is).

    .venv/bin/python benchmarks/bench_rpc.py                 # Unix socket, 1/10/50 clients
    .venv/bin/python benchmarks/bench_rpc.py --tcp --requests 5000 --clients 1 100
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import os
import statistics
import tempfile
import time
from collections.abc import Callable
from typing import Any

from trunkline.gateway.rpc.client import AsyncGatewayClient
from trunkline.gateway.rpc.protocol import FrameDecoder, encode_frame
from trunkline.gateway.rpc.registry import MethodRegistry, Param
from trunkline.gateway.rpc.server import GatewayServer, Session
from trunkline.logs import configure_logging

TOKEN = "bench-token"
#: running burst tasks (a reference keeps them from being garbage-collected)
TASKS: set[asyncio.Task[None]] = set()


def spawn(coro: Any) -> None:
    task = asyncio.get_running_loop().create_task(coro)
    TASKS.add(task)
    task.add_done_callback(TASKS.discard)


# -- servers (run in child processes) ------------------------------------------------------

async def burst(publish: Callable[[dict[str, Any]], Any], count: int,
                interval: float) -> None:
    """Publish ``count`` stamped events, one every ``interval`` seconds."""
    loop = asyncio.get_running_loop()
    start = loop.time()
    for n in range(count):
        publish({"event": "bench.tick", "n": n, "t": time.monotonic(), "span": 1})
        delay = start + (n + 1) * interval - loop.time()
        await asyncio.sleep(max(0.0, delay))


class RawEcho(asyncio.Protocol):
    """The baseline: frame in, ``{"id", "result": params}`` out; burst to all peers."""

    peers: set[RawEcho] = set()  # noqa: RUF012 - one process, one server

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport
        self.decoder = FrameDecoder()
        RawEcho.peers.add(self)

    def connection_lost(self, exc: Exception | None) -> None:
        RawEcho.peers.discard(self)

    def data_received(self, data: bytes) -> None:
        for frame in self.decoder.feed(data):
            if frame.get("method") == "burst":
                RawEcho.peers.discard(self)  # the controller does not receive events
                params = frame["params"]
                spawn(burst(self.broadcast, params["count"], params["interval"]))
            self.transport.write(encode_frame({"id": frame.get("id"),  # type: ignore[attr-defined]
                                               "result": frame.get("params")}))

    @staticmethod
    def broadcast(event: dict[str, Any]) -> None:
        data = encode_frame(event)
        for peer in RawEcho.peers:
            peer.transport.write(data)  # type: ignore[attr-defined]


def serve(kind: str, address: dict[str, Any], ready: Any) -> None:
    configure_logging("error")

    async def main() -> None:
        loop = asyncio.get_running_loop()
        if kind == "raw":
            if "path" in address:
                server = await loop.create_unix_server(RawEcho, address["path"])
            else:
                server = await loop.create_server(RawEcho, "127.0.0.1", address["port"])
            port = server.sockets[0].getsockname()
        else:
            registry = MethodRegistry()
            gateway: GatewayServer | None = None

            @registry.method("bench.burst", role="admin", params={
                "count": Param(int, required=True), "interval": Param(float, required=True)})
            def start_burst(session: Session, count: int, interval: float) -> bool:
                assert gateway is not None
                spawn(burst(gateway.publish, count, interval))
                return True

            gateway = GatewayServer(
                registry, unix_path=address.get("path"),
                tcp=("127.0.0.1", address["port"]) if "port" in address else None,
                tokens={TOKEN: "admin"}, queue_limit=100_000,
                request_rate=None)  # the RPC layer's throughput, not the rate limit's cap
            await gateway.start()
            port = gateway.tcp_address
        ready.put(port)
        await asyncio.Event().wait()

    asyncio.run(main())


# -- clients -------------------------------------------------------------------------------

class RawClient:
    """The baseline client: framing and a dict of futures, nothing else."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer
        self.decoder = FrameDecoder()
        self.pending: dict[int, asyncio.Future[Any]] = {}
        self.events: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self.next_id = 0
        self.task = asyncio.get_running_loop().create_task(self.read())

    async def read(self) -> None:
        while data := await self.reader.read(262144):
            for frame in self.decoder.feed(data):
                if "event" in frame:
                    self.events.put_nowait(frame)
                else:
                    self.pending.pop(frame["id"]).set_result(frame["result"])

    async def call(self, method: str, **params: Any) -> Any:
        self.next_id += 1
        future = asyncio.get_running_loop().create_future()
        self.pending[self.next_id] = future
        self.writer.write(encode_frame({"id": self.next_id, "method": method,
                                        "params": params}))
        return await future

    async def next_event(self, timeout: float) -> dict[str, Any]:
        return await asyncio.wait_for(self.events.get(), timeout)

    async def subscribe(self, events: list[str]) -> None:
        return None

    async def close(self) -> None:
        self.task.cancel()
        self.writer.close()


async def connect(kind: str, address: dict[str, Any]) -> Any:
    if kind == "gateway":
        target = address["path"] if "path" in address else ("127.0.0.1", address["port"])
        token = None if "path" in address else TOKEN
        return await AsyncGatewayClient.connect(target, token=token, event_queue=1_000_000)
    if "path" in address:
        return RawClient(*await asyncio.open_unix_connection(address["path"]))
    return RawClient(*await asyncio.open_connection("127.0.0.1", address["port"]))


async def round_trips(kind: str, address: dict[str, Any], count: int, window: int) -> float:
    """Requests per second with ``window`` requests in flight."""
    client = await connect(kind, address)
    method = "ping" if kind == "gateway" else "echo"
    for _ in range(200):  # warm up
        await client.call(method, data=1)
    remaining = count

    async def worker() -> None:
        nonlocal remaining
        while remaining > 0:
            remaining -= 1
            await client.call(method, data=remaining)

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(window)))
    elapsed = time.perf_counter() - started
    await client.close()
    return count / elapsed


async def fan_out(kind: str, address: dict[str, Any], clients: int, count: int,
                  interval: float) -> list[float]:
    """Latencies (s) of ``count`` events at each of ``clients`` subscribers."""
    subscribers = [await connect(kind, address) for _ in range(clients)]
    for sub in subscribers:
        await sub.subscribe(["bench.tick"])
    controller = await connect(kind, address)
    if kind == "gateway":
        await controller.call("bench.burst", count=count, interval=interval)
    else:
        await controller.call("burst", count=count, interval=interval)
    latencies: list[float] = []

    async def collect(sub: Any) -> None:
        for _ in range(count):
            event = await sub.next_event(timeout=30)
            latencies.append(time.monotonic() - event["t"])

    await asyncio.gather(*(collect(sub) for sub in subscribers))
    for sub in [*subscribers, controller]:
        await sub.close()
    return latencies


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


# -- main ----------------------------------------------------------------------------------

def start_server(kind: str, tcp: bool, folder: str) -> tuple[Any, dict[str, Any]]:
    ready: Any = multiprocessing.Queue()
    address: dict[str, Any] = {"port": 0} if tcp else {"path": os.path.join(folder, kind)}
    process = multiprocessing.Process(target=serve, args=(kind, address, ready), daemon=True)
    process.start()
    bound = ready.get(timeout=30)
    if tcp:
        address = {"port": bound[1]}
    return process, address


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tcp", action="store_true", help="TCP on 127.0.0.1, not Unix")
    parser.add_argument("--requests", type=int, default=20000)
    parser.add_argument("--window", type=int, default=32, help="requests in flight")
    parser.add_argument("--clients", type=int, nargs="+", default=[1, 10, 50])
    parser.add_argument("--events", type=int, default=300, help="events per fan-out run")
    parser.add_argument("--interval", type=float, default=0.005, help="s between events")
    args = parser.parse_args()
    configure_logging("error")
    results: dict[str, dict[str, float]] = {"raw": {}, "gateway": {}}
    with tempfile.TemporaryDirectory(dir="/tmp") as folder:
        for kind in ("raw", "gateway"):
            process, address = start_server(kind, args.tcp, folder)
            try:
                r = results[kind]
                r["rtt_1"] = asyncio.run(round_trips(kind, address, args.requests // 4, 1))
                r[f"rtt_{args.window}"] = asyncio.run(
                    round_trips(kind, address, args.requests, args.window))
                for n in args.clients:
                    lat = asyncio.run(fan_out(kind, address, n, args.events, args.interval))
                    r[f"p50_{n}"] = percentile(lat, 0.50) * 1e3
                    r[f"p99_{n}"] = percentile(lat, 0.99) * 1e3
                    r[f"mean_{n}"] = statistics.fmean(lat) * 1e3
            finally:
                process.terminate()
                process.join()

    raw, gw = results["raw"], results["gateway"]
    transport = "TCP 127.0.0.1" if args.tcp else "Unix socket"
    print(f"\nGateway RPC benchmark ({transport}; {args.requests} requests, "
          f"{args.events} events every {args.interval * 1e3:g} ms)\n")
    print("| measure | raw msgpack (baseline) | gateway | gateway / raw |")
    print("|---|---:|---:|---:|")
    for key, label in (("rtt_1", "round trips/s, 1 in flight"),
                       (f"rtt_{args.window}", f"round trips/s, {args.window} in flight")):
        print(f"| {label} | {raw[key]:,.0f} | {gw[key]:,.0f} | {gw[key] / raw[key]:.2f} |")
    for n in args.clients:
        for q in ("p50", "p99"):
            key = f"{q}_{n}"
            print(f"| fan-out latency {q}, {n} client{'s' if n > 1 else ''} (ms) | "
                  f"{raw[key]:.3f} | {gw[key]:.3f} | {gw[key] / raw[key]:.2f} |")


if __name__ == "__main__":
    main()
