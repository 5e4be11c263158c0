"""WebRTC agent positions on the gateway (issue 19 item 5): positions per core, the
latency the gateway adds, and the tick at load, with the peers on a thread of the
gateway (``[webrtc] media_worker = false``, the default and the baseline) and in the
media worker process, one gateway after the other in the same run.

A gateway (``trunkline gateway serve``, the emulated card, real time) runs as its own
process so its CPU (and its media worker's, a child process) can be read from /proc.
The browsers are played by ``--peers`` Python WebRTC clients (aiortc) and ``--browsers``
real pages of headless Chromium (``webrtc_bench_chromium.py``: Debian's
``/usr/bin/chromium``, a fake microphone saying a 1 kHz tone). The Python peers run in
``--client-processes`` processes of their own (``webrtc_bench_clients.py``), never in the
gateway's nor on one loop: 50 clients on the benchmark's own loop fell behind and the
gateway was measured against clients that could not keep up; two of them (the timed
pair) run in this process. Positions are connected one after another (as agents log
in), then bridged in pairs (each hears the other: audio crosses the jitter buffer, the
mixer and the pacing of every position), all sending audio all the time.

Measured in the same run, for each gateway:

* **kept**: positions up after connecting and still up at the end, Python peers
  connected at the end, and every ``webrtc.state`` lost or closed by reason (why a
  position went: ``no_media`` is the gateway's tick seeing no packet for 2 s, ``ice_*``
  aiortc's verdict);
* **CPU**: the gateway process's CPU over ``--seconds``, idle (no position) and at load,
  its media worker's at load, and the client processes' (not counted); positions per
  core = positions kept / (gateway + worker CPU seconds per second at load - the
  gateway's idle);
* **tick**: mean tick duration and overruns out of the ticks run (from the gateway's
  Prometheus endpoint), idle, at load and while bursts are timed;
* **mouth-to-ear latency**: a 1 kHz burst sent by one client, timed to its onset at the
  client on the other end of a bridge (through the gateway), against the same burst
  between two clients connected to each other directly (the baseline: aiortc's own send
  and receive); the difference is what the gateway adds (jitter buffer, tick, pacing),
  at p50 and p95 over ``--tries`` bursts, one pair alone and at load;
* **the Chromium pages**: connected, and the strongest frequency each hears (its
  partner's 1 kHz tone through the gateway).

The load average is printed beside the figures: on a machine shared with other work
the gateway's tick is starved (at load 12 on 2 cores it ran a third of its ticks) and
no figure is valid.

    .venv/bin/python benchmarks/bench_webrtc.py
    .venv/bin/python benchmarks/bench_webrtc.py --peers 20 --browsers 0 --seconds 10
    .venv/bin/python benchmarks/bench_webrtc.py --modes worker   # one gateway only
"""

from __future__ import annotations

import argparse
import contextlib
import json
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
#: A position's call states once its page is connected (answered; bridged to another).
UP = ("answered", "bridged")


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
    for name in ("tick_seconds_sum", "tick_seconds_count", "tick_overruns_total",
                 "tick_overruns_worked_total"):
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
            "overruns_worked": (m1["tick_overruns_worked_total"]
                                - m0["tick_overruns_worked_total"]),
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
    """How many positions are up (their peers connected) once ``count`` are, or
    after ``timeout`` s."""
    end = time.monotonic() + timeout
    while True:
        answered = sum(c["state"] in UP for c in client.call("calls.list"))
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


class ClientProcesses:
    """The load's Python peers in ``count`` processes of their own
    (``webrtc_bench_clients.py``), given calls in turn."""

    def __init__(self, sock: Path, count: int) -> None:
        script = Path(__file__).resolve().parent / "webrtc_bench_clients.py"
        self.procs = [subprocess.Popen([sys.executable, str(script), str(sock)],
                                       stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                       text=True, bufsize=1) for _ in range(count)]
        self._next = 0
        self.failed: list[str] = []

    def _ask(self, proc: subprocess.Popen, line: str) -> str:
        assert proc.stdin is not None and proc.stdout is not None
        proc.stdin.write(line + "\n")
        proc.stdin.flush()
        return proc.stdout.readline().strip()

    def connect(self, call: int) -> bool:
        proc = self.procs[self._next % len(self.procs)]
        self._next += 1
        reply = self._ask(proc, f"connect {call}")
        if not reply.startswith("ok"):
            self.failed.append(reply)
        return reply.startswith("ok")

    def states(self) -> dict[int, str]:
        out: dict[int, str] = {}
        for proc in self.procs:
            reply = self._ask(proc, "states")
            if reply.startswith("states "):
                out.update({int(k): v for k, v in json.loads(reply[7:]).items()})
        return out

    def cpu(self) -> float:
        return sum(_cpu_seconds(p.pid) for p in self.procs if p.poll() is None)

    def close(self) -> None:
        for proc in self.procs:
            with contextlib.suppress(OSError, ValueError):
                assert proc.stdin is not None
                proc.stdin.write("quit\n")
                proc.stdin.close()
        for proc in self.procs:
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()


def _lost_reasons(watcher: GatewayClient) -> dict[str, int]:
    """``webrtc.state`` events lost/closed so far, by reason."""
    out: dict[str, int] = {}
    with contextlib.suppress(TimeoutError, ConnectionError):
        while True:
            event = watcher.next_event(0.05)
            if event.get("event") == "webrtc.state" and event.get("state") in ("lost",
                                                                                 "closed"):
                key = f"{event['state']} {event.get('reason', '')}".strip()
                out[key] = out.get(key, 0) + 1
    return out


def run_gateway(args: argparse.Namespace, worker: bool, shared: ClientLoop,
                peers: int) -> dict[str, Any]:
    """One gateway (``[webrtc] media_worker = worker``): idle, then ``peers`` Python
    positions and ``args.browsers`` Chromium pages bridged in pairs; what :func:`main`
    prints."""
    folder = Path(tempfile.mkdtemp(prefix="bench-webrtc-"))
    port = _free_port()
    sock = folder / "gw.sock"
    total = peers + args.browsers
    (folder / "gw.toml").write_text(
        f'[server]\nsocket = "{sock}"\nmetrics = "127.0.0.1:{port}"\n'
        f"[webrtc]\npositions = {total + 2}\nmedia_worker = {str(worker).lower()}\n")
    # Its log to a file: a pipe nobody reads would stop the gateway (and its media
    # worker, which shares it) at the first 64 kB.
    log_file = (folder / "gateway.log").open("w")
    gw = subprocess.Popen([sys.executable, "-m", "trunkline.cli", "gateway", "serve",
                           "--config", str(folder / "gw.toml")],
                          stdout=log_file, stderr=subprocess.STDOUT)
    if args.pin:
        # The gateway (and the media worker it starts later, which inherits this) on
        # CPU 0 alone; this process, its clients and Chromium stay on the others.
        os.sched_setaffinity(gw.pid, {0})
    browsers: list[PyBrowser] = []
    loaders: ClientProcesses | None = None
    pages: Any = None
    out: dict[str, Any] = {}
    try:
        deadline = time.monotonic() + 60
        while not sock.exists():
            if gw.poll() is not None or time.monotonic() > deadline:
                raise SystemExit("the gateway did not start: "
                                 f"{(folder / 'gateway.log').read_text()}")
            time.sleep(0.2)
        client = GatewayClient(str(sock)).connect()
        watcher = GatewayClient(str(sock)).connect()
        watcher.subscribe(["webrtc.state"])
        time.sleep(2.0)
        out["idle"] = measure(gw.pid, port, args.seconds)

        # One bridged pair alone (clients in this process: their burst is timed here).
        calls = [client.call("webrtc.open", label=f"bench-{i}", ring_timeout=900)["call"]
                 for i in range(2)]
        browsers += [connect(client, call, shared=shared, raw=True) for call in calls]
        if _wait_answered(client, 2, 60) < 2:
            raise SystemExit("two peers could not connect: is the machine overloaded?")
        client.call("call.bridge", call=calls[0], other=calls[1])
        time.sleep(2.0)
        out["alone"] = onset_latency(browsers[0], browsers[1], args.tries)
        client.call("call.unbridge", call=calls[0])   # bridged again with the others

        started = time.monotonic()
        page_calls: list[int] = []
        if args.browsers:
            from webrtc_bench_chromium import BrowserPeers

            pages = BrowserPeers(args.browsers, folder)
            for i in range(args.browsers):
                call = client.call("webrtc.open", label=f"page-{i}", ring_timeout=900)["call"]
                page_calls.append(call)
                before = _wait_answered(client, 0, 0)
                pages.connect(i, client, call)
                _wait_answered(client, before + 1, 20)
        loaders = ClientProcesses(sock, args.client_processes)
        calls += [client.call("webrtc.open", label=f"bench-{i}", ring_timeout=900)["call"]
                  for i in range(2, peers)]
        for call in calls[2:]:
            # One at a time (each peer's ICE checks done before the next starts), as
            # agents log in, not all in the same second.
            before = _wait_answered(client, 0, 0)
            if loaders.connect(call):
                _wait_answered(client, before + 1, 20)
        out["connected"] = _wait_answered(client, total, 60)
        out["connect_s"] = time.monotonic() - started
        bridged = calls + page_calls
        for a, b in zip(bridged[::2], bridged[1::2], strict=False):
            with contextlib.suppress(RpcError):   # a pair whose peer did not connect
                client.call("call.bridge", call=a, other=b)
        time.sleep(2.0)
        workers = _children(gw.pid) if worker else []
        w0 = sum(_cpu_seconds(w) for w in workers)
        l0, t0 = loaders.cpu(), time.monotonic()
        out["loaded"] = measure(gw.pid, port, args.seconds)
        out["load_avg"] = os.getloadavg()[0]
        elapsed = time.monotonic() - t0
        out["worker_cpu"] = ((sum(_cpu_seconds(w) for w in workers) - w0) / elapsed
                             if workers else 0.0)
        out["client_cpu"] = (loaders.cpu() - l0) / elapsed
        m0 = _metrics(port)
        out["through"] = onset_latency(browsers[0], browsers[1], args.tries)
        m1 = _metrics(port)
        out["overruns_latency"] = m1["tick_overruns_total"] - m0["tick_overruns_total"]
        out["ticks_latency"] = m1["tick_seconds_count"] - m0["tick_seconds_count"]
        out["kept"] = sum(c["state"] in UP for c in client.call("calls.list"))
        states = loaders.states()
        out["clients_connected"] = 2 + sum(s == "connected" for s in states.values())
        out["client_failures"] = loaders.failed
        if pages is not None:
            out["pages"] = list(zip(pages.states(), pages.peaks(), strict=True))
        up = {c["call"] for c in client.call("calls.list")}
        out["status"] = _status(client, calls[1])
        out["stats"] = [s for s in (_status(client, c) for c in bridged if c in up) if s]
        out["lost"] = _lost_reasons(watcher)
        watcher.close()
        client.close()
    finally:
        for browser in browsers:
            with contextlib.suppress(Exception):  # a client already gone
                browser.close()
        if loaders is not None:
            loaders.close()
        if pages is not None:
            with contextlib.suppress(Exception):  # a browser already gone
                pages.close()
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
                        help="bursts timed per path (p95 of 40 is their third largest)")
    parser.add_argument("--browsers", type=int, default=2,
                        help="Chromium pages beside the Python peers (0: none)")
    parser.add_argument("--client-processes", type=int, default=4,
                        help="processes the Python peers are shared among")
    parser.add_argument("--modes", default="thread,worker",
                        help="gateways measured, the first the baseline (thread, worker)")
    parser.add_argument("--pin", action="store_true",
                        help="the gateway and its media worker on CPU 0, the clients and "
                             "browsers on the other CPUs (as at a site, where the agents' "
                             "browsers are PCs of their own); needs 2 CPUs or more")
    args = parser.parse_args()
    if args.pin:
        others = os.sched_getaffinity(0) - {0}
        if 0 not in os.sched_getaffinity(0) or not others:
            parser.error("--pin needs CPU 0 and at least one other CPU")
        os.sched_setaffinity(0, others)   # before any thread: they all inherit it
    peers = args.peers + args.peers % 2
    args.browsers += args.browsers % 2
    shared = ClientLoop()
    try:
        base_a, base_b = direct_pair(shared)
        time.sleep(2.0)
        direct = onset_latency(base_a, base_b, args.tries)
        base_a.close()
        base_b.close()
    finally:
        shared.stop()
    names = args.modes.split(",")
    modes = {}
    for name in names:
        shared = ClientLoop()     # a fresh client loop each: nothing left of the last run
        try:
            modes[name] = run_gateway(args, name == "worker", shared, peers)
        finally:
            shared.stop()
    if len(names) == 1:
        names.append(names[0])
    base, other = modes[names[0]], modes[names[1]]
    total = peers + args.browsers
    direct_p50 = _percentile(direct, 0.5)
    print(f"WebRTC positions on the gateway: {peers} Python peers (aiortc, in "
          f"{args.client_processes} processes of their own; 2 of them in the benchmark's, "
          f"timed) and {args.browsers} Chromium pages, bridged in pairs, "
          f"{args.seconds:.0f} s each phase; {names[0]} (baseline) against {names[1]}"
          + ("; the gateway pinned to CPU 0, the clients to the others" if args.pin else ""))
    print()

    def row(name: str, a: float, b: float, fmt: str = ".3f", ratio: bool = True) -> None:
        r = f"{b / a:>10.2f}" if ratio and a and a == a and b == b else f"{'':>10}"
        print(f"{name:44}{a:>14{fmt}}{b:>14{fmt}}{r}")

    print(f"{'':44}{names[0] + ' (base)':>14}{names[1]:>14}{'ratio':>10}")
    row(f"positions answered after connecting (of {total})", base["connected"],
        other["connected"], ".0f")
    row(f"positions kept to the end (of {total})", base["kept"], other["kept"], ".0f")
    row(f"Python peers connected at the end (of {peers})", base["clients_connected"],
        other["clients_connected"], ".0f")
    row("connect time, one after another (s)", base["connect_s"], other["connect_s"], ".1f")
    row("gateway process CPU idle (cores)", base["idle"]["cpu"], other["idle"]["cpu"])
    row("gateway process CPU at load (cores)", base["loaded"]["cpu"], other["loaded"]["cpu"])
    row("media worker CPU at load (cores)", base["worker_cpu"], other["worker_cpu"],
        ratio=False)
    row("client processes' CPU at load (cores)", base["client_cpu"], other["client_cpu"])
    per = {}
    for name in names:
        mode = modes[name]
        used = mode["loaded"]["cpu"] + mode["worker_cpu"] - mode["idle"]["cpu"]
        # Over the positions kept to the end (none: no figure).
        per[name] = max(1e-9, used) / mode["kept"] if mode["kept"] else float("nan")
    row("CPU per position, gateway + worker (% core)", 100 * per[names[0]],
        100 * per[names[1]], ".2f")
    row("positions per core (gateway + worker)", 1 / per[names[0]], 1 / per[names[1]],
        ".0f")
    row("mean tick idle (ms)", base["idle"]["tick_ms"], other["idle"]["tick_ms"])
    row("mean tick at load (ms)", base["loaded"]["tick_ms"], other["loaded"]["tick_ms"])
    row("tick overruns idle (the machine's noise)", base["idle"]["overruns"],
        other["idle"]["overruns"], ".0f", ratio=False)
    row("tick overruns at load", base["loaded"]["overruns"], other["loaded"]["overruns"],
        ".0f", ratio=False)
    row("  of them, the tick's own CPU over 20 ms", base["loaded"]["overruns_worked"],
        other["loaded"]["overruns_worked"], ".0f", ratio=False)
    row("ticks at load", base["loaded"]["ticks"], other["loaded"]["ticks"], ".0f",
        ratio=False)
    row("tick overruns while timing bursts", base["overruns_latency"],
        other["overruns_latency"], ".0f", ratio=False)
    row("ticks while timing bursts", base["ticks_latency"], other["ticks_latency"], ".0f",
        ratio=False)
    row("load average (1 min) at load", base["load_avg"], other["load_avg"], ".1f",
        ratio=False)
    print()
    print(f"mouth-to-ear, burst onset send -> receive (ms; {args.tries} bursts a path; "
          f"direct client to client, the baseline: p50 {direct_p50:.1f}, "
          f"p95 {_percentile(direct, 0.95):.1f})")
    print(f"{'added by the gateway (ms)':44}{names[0] + ' (base)':>14}{names[1]:>14}"
          f"{'ratio':>10}")
    for key, label in (("alone", "one pair"), ("through", f"{total} positions")):
        for q in (0.5, 0.95):
            a = _percentile(base[key], q) - direct_p50
            b = _percentile(other[key], q) - direct_p50
            row(f"{label}, p{round(q * 100)}", a, b, ".1f")
    print()
    for name in dict.fromkeys(names):
        mode = modes[name]
        stats, status = mode["stats"], mode["status"]
        if stats:
            p50 = sorted(s.get("added_ms_p50") or 0 for s in stats)[len(stats) // 2]
            concealed = sum(s.get("concealed_frames", 0) for s in stats)
            received = sum(s.get("received", 0) for s in stats)
            print(f"{name}: jitter buffers' median p50 delay {p50} ms; concealed "
                  f"{concealed} frames of {received} packets "
                  f"({100 * concealed / max(1, received):.2f} %); timed pair: late "
                  f"{status.get('late')}, dropped_out {status.get('dropped_out')}")
        print(f"{name}: positions lost or closed (webrtc.state, by reason): "
              f"{mode['lost'] or 'none'}; offers failed: {mode['client_failures'] or 'none'}")
        for state, (hz, db) in mode.get("pages", []):
            print(f"{name}: Chromium page {state}, hears its partner's tone at {hz:.0f} Hz "
                  f"({db:.0f} dB)")
        print(f"{name}: gateway log {mode['log']}")
    print(f"machine load average at the end: {os.getloadavg()[0]:.1f} "
          f"({os.cpu_count()} cores, shared)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
