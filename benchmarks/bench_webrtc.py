"""WebRTC agent positions on the gateway (issue 19 item 5): positions per core, the
latency the gateway adds, and the tick at load, with the peers on a thread of the
gateway (``[webrtc] media_worker = false``, the baseline) and in the media worker process
(the default), one gateway after the other in the same run.

A gateway (``trunkline gateway serve``, the emulated card, real time) runs as its own
process so its CPU (and its media worker's, a child process) can be read from /proc.
Python WebRTC clients (aiortc, one shared event loop in this benchmark's process, not the
gateway's) play the browsers: ``--peers`` positions are opened and connected, bridged in
pairs (each hears the other: audio crosses the jitter buffer, the mixer and the pacing of
every position), all sending audio all the time.

Measured in the same run, for each gateway:

* **CPU**: the gateway process's CPU over ``--seconds``, idle (no position) and at load,
  and its media worker's at load; positions per core = peers / (both processes' CPU
  seconds per second at load - the gateway's idle);
* **tick**: mean tick duration and overruns (from the gateway's Prometheus endpoint),
  idle and at load;
* **latency**: a 1 kHz burst sent by one client, timed to its onset at the client on the
  other end of a bridge (through the gateway), against the same burst between two
  clients connected to each other directly (the baseline: aiortc's own send and
  receive); the difference is what the gateway adds (jitter buffer, tick, pacing), at
  p50 and p99 over ``--tries`` bursts.

    .venv/bin/python benchmarks/bench_webrtc.py
    .venv/bin/python benchmarks/bench_webrtc.py --peers 20 --seconds 10
"""

from __future__ import annotations

import argparse
import contextlib
import os
import re
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "webrtc"))

from webrtc_client_kit import ClientLoop, PyBrowser, connect

from trunkline.gateway.rpc.client import GatewayClient
from trunkline.gateway.rpc.errors import RpcError

TICKS = os.sysconf("SC_CLK_TCK")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS   # utime + stime


def _metrics(port: int) -> dict[str, float]:
    text = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5).read().decode()
    out = {}
    for name in ("tick_seconds_sum", "tick_seconds_count", "tick_overruns_total"):
        match = re.search(rf"^\w*_{name} ([0-9.e+-]+)$", text, re.MULTILINE)
        out[name] = float(match.group(1)) if match else 0.0
    return out


def measure(pid: int, port: int, seconds: float) -> dict[str, float]:
    """CPU (s per s), mean tick (ms) and overruns over ``seconds``."""
    m0, c0, t0 = _metrics(port), _cpu_seconds(pid), time.monotonic()
    time.sleep(seconds)
    m1, c1, t1 = _metrics(port), _cpu_seconds(pid), time.monotonic()
    ticks = m1["tick_seconds_count"] - m0["tick_seconds_count"]
    return {"cpu": (c1 - c0) / (t1 - t0),
            "tick_ms": 1000 * (m1["tick_seconds_sum"] - m0["tick_seconds_sum"]) / max(1, ticks),
            "overruns": m1["tick_overruns_total"] - m0["tick_overruns_total"],
            "ticks": ticks}


def burst() -> np.ndarray:
    t = np.arange(1600) / 8000.0
    return (8000 * np.sin(2 * np.pi * 1000 * t)).astype(np.int16)


def onset_latency(sender: PyBrowser, receiver: PyBrowser, tries: int = 5) -> list[float]:
    """Seconds from a burst leaving ``sender`` to its onset at ``receiver``."""
    out = []
    for _ in range(tries):
        time.sleep(0.4)
        seen = len(receiver.received)
        sender.track.play(burst())
        deadline = time.monotonic() + 3.0
        while time.monotonic() < deadline:
            frames = receiver.received[seen:]
            hit = next((i for i, f in enumerate(frames)
                        if np.sqrt(np.mean(f.astype(np.float64) ** 2)) > 1500), None)
            if hit is not None and sender.track.sent_at:
                out.append(receiver.received_at[seen + hit] - sender.track.sent_at[-1])
                break
            time.sleep(0.01)
    return out


def direct_pair(shared: ClientLoop) -> tuple[PyBrowser, PyBrowser]:
    """Two clients connected to each other (no gateway): the baseline path."""
    from aiortc import RTCSessionDescription

    a, b = PyBrowser(shared=shared, raw=True), PyBrowser(shared=shared, raw=True)
    offer = a.offer()

    async def answer() -> str:
        from aiortc import RTCConfiguration, RTCPeerConnection, RTCRtpSender

        b.pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
        transceiver = b.pc.addTransceiver(b.track, direction="sendrecv")
        transceiver.setCodecPreferences(
            [c for c in RTCRtpSender.getCapabilities("audio").codecs
             if c.mimeType == "audio/PCMU"])

        transceiver.receiver._handle_rtp_packet = b._on_rtp

        await b.pc.setRemoteDescription(RTCSessionDescription(offer, "offer"))
        await b.pc.setLocalDescription(await b.pc.createAnswer())
        return str(b.pc.localDescription.sdp)

    a.accept(b._run(answer()))
    return a, b


def _wait_answered(client: GatewayClient, count: int, timeout: float) -> int:
    """How many positions are answered (their peers connected) once ``count`` are, or
    after ``timeout`` s."""
    end = time.monotonic() + timeout
    while True:
        answered = sum(c["state"] == "answered" for c in client.call("calls.list"))
        if answered >= count or time.monotonic() > end:
            return answered
        time.sleep(0.2)


def _status(client: GatewayClient, call: int) -> dict:
    """``webrtc.status`` of ``call``; empty when it ended meanwhile."""
    try:
        return dict(client.call("webrtc.status", call=call))
    except RpcError:
        return {}


def _children(pid: int) -> list[int]:
    """The child processes of ``pid`` (the media worker of a gateway)."""
    out: list[int] = []
    with contextlib.suppress(OSError):
        for task in Path(f"/proc/{pid}/task").iterdir():
            text = (task / "children").read_text().split()
            out += [int(c) for c in text]
    return out


def _percentile(values: list[float], q: float) -> float:
    """The ``q`` quantile (nearest rank), in ms."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    return 1000 * ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def run_gateway(args: argparse.Namespace, worker: bool, shared: ClientLoop,
                peers: int) -> dict[str, Any]:
    """One gateway (``[webrtc] media_worker = worker``): idle, then ``peers`` positions
    bridged in pairs; what :func:`main` prints."""
    folder = Path(tempfile.mkdtemp(prefix="bench-webrtc-"))
    port = _free_port()
    sock = folder / "gw.sock"
    (folder / "gw.toml").write_text(
        f'[server]\nsocket = "{sock}"\nmetrics = "127.0.0.1:{port}"\n'
        f"[webrtc]\npositions = {peers + 2}\nmedia_worker = {str(worker).lower()}\n")
    # Its log to a file: a pipe nobody reads would stop the gateway (and its media
    # worker, which shares it) at the first 64 kB.
    log_file = (folder / "gateway.log").open("w")
    gw = subprocess.Popen([sys.executable, "-m", "trunkline.cli", "gateway", "serve",
                           "--config", str(folder / "gw.toml")],
                          stdout=log_file, stderr=subprocess.STDOUT)
    browsers: list[PyBrowser] = []
    out: dict[str, Any] = {}
    try:
        deadline = time.monotonic() + 60
        while not sock.exists():
            if gw.poll() is not None or time.monotonic() > deadline:
                raise SystemExit("the gateway did not start: "
                                 f"{(folder / 'gateway.log').read_text()}")
            time.sleep(0.2)
        client = GatewayClient(str(sock)).connect()
        time.sleep(2.0)
        out["idle"] = measure(gw.pid, port, args.seconds)

        # One bridged pair alone: the gateway's path without load.
        calls = [client.call("webrtc.open", label=f"bench-{i}", ring_timeout=900)["call"]
                 for i in range(2)]
        browsers += [connect(client, call, shared=shared, raw=True) for call in calls]
        if _wait_answered(client, 2, 60) < 2:
            raise SystemExit("two peers could not connect: is the machine overloaded?")
        client.call("call.bridge", call=calls[0], other=calls[1])
        time.sleep(2.0)
        out["alone"] = onset_latency(browsers[0], browsers[1], args.tries)
        client.call("call.unbridge", call=calls[0])

        started = time.monotonic()
        calls += [client.call("webrtc.open", label=f"bench-{i}", ring_timeout=900)["call"]
                  for i in range(2, peers)]
        for n, call in enumerate(calls[2:], start=3):
            # One at a time (each peer's ICE checks done before the next starts), as
            # agents log in, not all in the same second.
            browsers.append(connect(client, call, shared=shared, raw=True))
            _wait_answered(client, n, 20)
        out["connected"] = _wait_answered(client, peers, 120)
        out["connect_s"] = time.monotonic() - started
        for a, b in zip(calls[::2], calls[1::2], strict=True):
            with contextlib.suppress(RpcError):   # a pair whose peer did not connect
                client.call("call.bridge", call=a, other=b)
        time.sleep(2.0)
        workers = _children(gw.pid) if worker else []
        w0 = sum(_cpu_seconds(w) for w in workers)
        t0 = time.monotonic()
        out["loaded"] = measure(gw.pid, port, args.seconds)
        out["worker_cpu"] = (sum(_cpu_seconds(w) for w in workers) - w0) / (
            time.monotonic() - t0) if workers else 0.0
        up = {c["call"] for c in client.call("calls.list")}
        pair = next(((i, i + 1) for i in range(0, peers, 2)
                     if calls[i] in up and calls[i + 1] in up), None)
        m0 = _metrics(port)
        out["through"] = [] if pair is None else onset_latency(
            browsers[pair[0]], browsers[pair[1]], args.tries)
        m1 = _metrics(port)
        out["overruns_latency"] = m1["tick_overruns_total"] - m0["tick_overruns_total"]
        out["ticks_latency"] = m1["tick_seconds_count"] - m0["tick_seconds_count"]
        up = {c["call"] for c in client.call("calls.list")}
        out["status"] = _status(client, calls[pair[1]]) if pair is not None else {}
        out["stats"] = [s for s in (_status(client, c) for c in calls if c in up) if s]
    finally:
        for browser in browsers:
            with contextlib.suppress(Exception):  # a client already gone
                browser.close()
        gw.terminate()
        gw.wait(timeout=30)
        log_file.close()
    out["log"] = folder / "gateway.log"
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--peers", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=15.0)
    parser.add_argument("--tries", type=int, default=40,
                        help="bursts timed per path (p99 of 40 is their largest but one)")
    args = parser.parse_args()
    peers = args.peers + args.peers % 2
    shared = ClientLoop()
    try:
        base_a, base_b = direct_pair(shared)
        time.sleep(2.0)
        direct = onset_latency(base_a, base_b, args.tries)
        base_a.close()
        base_b.close()
    finally:
        shared.stop()
    modes = {}
    for name, worker in (("thread", False), ("worker", True)):
        shared = ClientLoop()     # a fresh client loop each: nothing left of the last run
        try:
            modes[name] = run_gateway(args, worker, shared, peers)
        finally:
            shared.stop()

    thread, worker = modes["thread"], modes["worker"]
    direct_p50 = _percentile(direct, 0.5)
    print(f"WebRTC positions on the gateway: {peers} peers (aiortc clients in the "
          f"benchmark's process, not the gateway's), bridged in pairs, {args.seconds:.0f} s "
          f"each phase; peers on a thread of the gateway (baseline) against the media "
          f"worker process")
    print()

    def row(name: str, a: float, b: float, fmt: str = ".3f", ratio: bool = True) -> None:
        r = f"{b / a:>10.2f}" if ratio and a and a == a and b == b else f"{'':>10}"
        print(f"{name:40}{a:>14{fmt}}{b:>14{fmt}}{r}")

    print(f"{'':40}{'thread (base)':>14}{'worker':>14}{'ratio':>10}")
    row("peers connected", thread["connected"], worker["connected"], ".0f")
    row("connect time, one after another (s)", thread["connect_s"], worker["connect_s"], ".1f")
    row("gateway process CPU idle (cores)", thread["idle"]["cpu"], worker["idle"]["cpu"])
    row("gateway process CPU at load (cores)", thread["loaded"]["cpu"],
        worker["loaded"]["cpu"])
    row("media worker CPU at load (cores)", 0.0, worker["worker_cpu"], ratio=False)
    per = {}
    for name, mode in modes.items():
        total = mode["loaded"]["cpu"] + mode["worker_cpu"] - mode["idle"]["cpu"]
        per[name] = max(1e-9, total) / peers
    row("CPU per peer, both processes (% core)", 100 * per["thread"], 100 * per["worker"],
        ".2f")
    row("peers per core (both processes)", 1 / per["thread"], 1 / per["worker"], ".0f")
    row("mean tick idle (ms)", thread["idle"]["tick_ms"], worker["idle"]["tick_ms"])
    row("mean tick at load (ms)", thread["loaded"]["tick_ms"], worker["loaded"]["tick_ms"])
    row("tick overruns idle (the machine's noise)", thread["idle"]["overruns"],
        worker["idle"]["overruns"], ".0f", ratio=False)
    row("tick overruns at load", thread["loaded"]["overruns"], worker["loaded"]["overruns"],
        ".0f", ratio=False)
    row("ticks at load", thread["loaded"]["ticks"], worker["loaded"]["ticks"], ".0f",
        ratio=False)
    row("tick overruns while timing bursts", thread["overruns_latency"],
        worker["overruns_latency"], ".0f", ratio=False)
    print()
    print(f"burst onset, send -> receive (ms; {args.tries} bursts a path; direct client to "
          f"client, the baseline: p50 {direct_p50:.1f}, p99 {_percentile(direct, 0.99):.1f})")
    print(f"{'added by the gateway (ms)':40}{'thread (base)':>14}{'worker':>14}{'ratio':>10}")
    for key, label in (("alone", "one pair"), ("through", f"{peers} peers")):
        for q in (0.5, 0.99):
            a = _percentile(thread[key], q) - direct_p50
            b = _percentile(worker[key], q) - direct_p50
            row(f"{label}, p{round(q * 100)}", a, b, ".1f")
    for name, mode in modes.items():
        stats, status = mode["stats"], mode["status"]
        if stats:
            p50 = sorted(s.get("added_ms_p50") or 0 for s in stats)[len(stats) // 2]
            concealed = sum(s.get("concealed_frames", 0) for s in stats)
            received = sum(s.get("received", 0) for s in stats)
            print(f"{name}: {len(stats)} of {peers} positions up at the end; jitter buffers' "
                  f"median p50 delay {p50} ms; concealed {concealed} frames of {received} "
                  f"packets ({100 * concealed / max(1, received):.2f} %); timed pair: late "
                  f"{status.get('late')}, dropped_out {status.get('dropped_out')}")
    print(f"machine load average at the end: {os.getloadavg()[0]:.1f} "
          f"({os.cpu_count()} cores, shared)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
