"""WebRTC agent positions on the gateway (issue 19): positions per core, the latency the
gateway adds, and the tick at load.

A gateway (``trunkline gateway serve``, the emulated card, real time) runs as its own
process so its CPU can be read from /proc. Python WebRTC clients (aiortc, one shared
event loop in this process) play the browsers: ``--peers`` positions are opened and
connected, bridged in pairs (each hears the other: audio crosses the jitter buffer, the
mixer and the pacing of every position), all sending audio all the time.

Measured in the same run:

* **CPU**: the gateway process's CPU over ``--seconds``, idle (no position) and at load;
  positions per core = peers / (CPU seconds per second at load - idle);
* **tick**: mean tick duration and overruns (from the gateway's Prometheus endpoint),
  idle and at load;
* **latency**: a 1 kHz burst sent by one client, timed to its onset at the client on the
  other end of a bridge (through the gateway), against the same burst between two
  clients connected to each other directly (the baseline: aiortc's own send and
  receive); the difference is what the gateway adds (jitter buffer, tick, pacing).

    .venv/bin/python benchmarks/bench_webrtc.py
    .venv/bin/python benchmarks/bench_webrtc.py --peers 20 --seconds 10
"""

from __future__ import annotations

import argparse
import contextlib
import os
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

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


def _median_ms(values: list[float]) -> float:
    return 1000 * statistics.median(values) if values else float("nan")


def burst() -> np.ndarray:
    t = np.arange(1600) / 8000.0
    return (8000 * np.sin(2 * np.pi * 1000 * t)).astype(np.int16)


def onset_latency(sender: PyBrowser, receiver: PyBrowser, tries: int = 5) -> list[float]:
    """Seconds from a burst leaving ``sender`` to its onset at ``receiver``."""
    out = []
    for _ in range(tries):
        time.sleep(0.6)
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


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--peers", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=15.0)
    args = parser.parse_args()
    peers = args.peers + args.peers % 2
    folder = Path(tempfile.mkdtemp(prefix="bench-webrtc-"))
    port = _free_port()
    sock = folder / "gw.sock"
    (folder / "gw.toml").write_text(
        f'[server]\nsocket = "{sock}"\nmetrics = "127.0.0.1:{port}"\n'
        f"[webrtc]\npositions = {peers + 2}\n")
    gw = subprocess.Popen([sys.executable, "-m", "trunkline.cli", "gateway", "serve",
                           "--config", str(folder / "gw.toml")],
                          stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    shared = ClientLoop()
    browsers: list[PyBrowser] = []
    try:
        deadline = time.monotonic() + 60
        while not sock.exists():
            if gw.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"the gateway did not start: {gw.stderr.read()}")
            time.sleep(0.2)
        client = GatewayClient(str(sock)).connect()
        time.sleep(2.0)
        idle = measure(gw.pid, port, args.seconds)

        base_a, base_b = direct_pair(shared)
        time.sleep(2.0)
        direct = onset_latency(base_a, base_b)
        base_a.close()
        base_b.close()

        # One bridged pair alone: the gateway's path without load.
        calls = [client.call("webrtc.open", label=f"bench-{i}", ring_timeout=900)["call"]
                 for i in range(2)]
        browsers += [connect(client, call, shared=shared, raw=True) for call in calls]
        if _wait_answered(client, 2, 60) < 2:
            raise SystemExit("two peers could not connect: is the machine overloaded?")
        client.call("call.bridge", call=calls[0], other=calls[1])
        time.sleep(2.0)
        alone = onset_latency(browsers[0], browsers[1])
        client.call("call.unbridge", call=calls[0])

        started = time.monotonic()
        calls += [client.call("webrtc.open", label=f"bench-{i}", ring_timeout=900)["call"]
                  for i in range(2, peers)]
        for n, call in enumerate(calls[2:], start=3):
            # One at a time (each peer's ICE checks done before the next starts), as
            # agents log in, not all in the same second.
            browsers.append(connect(client, call, shared=shared, raw=True))
            _wait_answered(client, n, 20)
        connected = _wait_answered(client, peers, 120)
        connect_s = time.monotonic() - started
        for a, b in zip(calls[::2], calls[1::2], strict=True):
            with contextlib.suppress(RpcError):   # a pair whose peer did not connect
                client.call("call.bridge", call=a, other=b)
        time.sleep(2.0)
        loaded = measure(gw.pid, port, args.seconds)
        up = {c["call"] for c in client.call("calls.list")}
        pair = next(((i, i + 1) for i in range(0, peers, 2)
                     if calls[i] in up and calls[i + 1] in up), None)
        through = [] if pair is None else onset_latency(browsers[pair[0]], browsers[pair[1]])
        up = {c["call"] for c in client.call("calls.list")}
        status = _status(client, calls[pair[1]]) if pair is not None else {}
        stats = [s for s in (_status(client, c) for c in calls if c in up) if s]
    finally:
        for browser in browsers:
            with contextlib.suppress(Exception):  # a client already gone
                browser.close()
        shared.stop()
        gw.terminate()
        gw.wait(timeout=30)

    per_peer = max(1e-9, loaded["cpu"] - idle["cpu"]) / peers
    direct_ms = _median_ms(direct)
    alone_ms = _median_ms(alone)
    through_ms = _median_ms(through)
    print(f"WebRTC positions on the gateway: {peers} peers (aiortc clients), bridged in "
          f"pairs, {args.seconds:.0f} s each phase; {connected} of {peers} connected within "
          f"{connect_s:.1f} s")
    print()
    print(f"{'':34}{'idle (baseline)':>18}{f'{peers} peers':>14}{'ratio':>10}")
    print(f"{'gateway CPU (cores)':34}{idle['cpu']:>18.3f}{loaded['cpu']:>14.3f}"
          f"{loaded['cpu'] / max(idle['cpu'], 1e-9):>10.1f}")
    print(f"{'mean tick (ms)':34}{idle['tick_ms']:>18.3f}{loaded['tick_ms']:>14.3f}"
          f"{loaded['tick_ms'] / max(idle['tick_ms'], 1e-9):>10.1f}")
    print(f"{'tick overruns':34}{idle['overruns']:>18.0f}{loaded['overruns']:>14.0f}"
          f"{'':>10}")
    print(f"{'ticks':34}{idle['ticks']:>18.0f}{loaded['ticks']:>14.0f}")
    print()
    lost = peers - len(stats)
    print(f"positions still up at the end: {len(stats)} of {peers} ({lost} lost their "
          "peer for longer than [webrtc] reconnect: ICE consent checks late on a loaded "
          "machine)" if lost else f"positions still up at the end: all {peers}")
    if stats:
        p50 = sorted(s.get("added_ms_p50") or 0 for s in stats)[len(stats) // 2]
        concealed = sum(s.get("concealed_frames", 0) for s in stats)
        received = sum(s.get("received", 0) for s in stats)
        print(f"jitter buffers: median of the positions' p50 added delay {p50} ms; "
              f"concealed frames {concealed} of {received} packets received "
              f"({100 * concealed / max(1, received):.2f} %)")
    print(f"CPU per position: {100 * per_peer:.2f} % of a core -> about "
          f"{1 / per_peer:.0f} positions per core (the gateway process alone; the "
          "clients ran in this process)")
    print()
    print(f"{'burst onset, send -> receive (ms)':34}{'median':>10}{'ratio':>10}")
    print(f"{'direct, client to client (baseline)':34}{direct_ms:>10.1f}{1:>10.2f}")
    print(f"{'via the gateway, one pair':34}{alone_ms:>10.1f}{alone_ms / direct_ms:>10.2f}")
    print(f"{f'via the gateway, {peers} peers':34}{through_ms:>10.1f}"
          f"{through_ms / direct_ms:>10.2f}")
    print(f"added by the gateway (one pair): {alone_ms - direct_ms:.1f} ms; at load: "
          f"{through_ms - direct_ms:.1f} ms (that pair's jitter buffer p50 "
          f"{status.get('added_ms_p50')} ms, concealed {status.get('concealed_frames')}, "
          f"late {status.get('late')})")
    print(f"machine load average during the run: {os.getloadavg()[0]:.1f} "
          f"({os.cpu_count()} cores)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
