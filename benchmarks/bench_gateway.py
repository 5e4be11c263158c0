#!/usr/bin/env python3
"""Benchmark: the gateway with 480 emulated channels in calls, over its real socket.

Three measurements, in one run, on the emulated card with 16 E1 PRI spans
(benchmarks/data/bench-card-16e1.toml, plus a 17th span for the API test) in real time:

1. **Tick load**: 480 answered PRI calls with detection running; tick time p50/p99
   (the engine's own work per 20 ms tick), overruns, the process's share of a core.
2. **API rate**: call.originate + call.hangup pairs per second, against ``ping`` round
   trips per second on the same connection (the baseline; ratio = cost of a call
   operation in pings).
3. **Event latency**: from the engine publishing a card event (an agent phone going
   off hook) to a subscribed client receiving it; p50/p99.

    python benchmarks/bench_gateway.py [--calls 480] [--seconds 20]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))


def start_gateway(card: str):
    from trunkline.clock import RealClock
    from trunkline.gateway.config import GatewayConfig
    from trunkline.gateway.service import GatewayService
    from trunkline.gateway.testing import ServiceThread

    config = GatewayConfig()
    config.card_url = f"emulated:{card}"
    scratch = Path(tempfile.mkdtemp(prefix="tl-bench-", dir="/tmp"))
    config.socket = scratch / "gw.sock"
    config.recordings_root, config.fax_spool = scratch / "recordings", scratch / "fax"
    config.shutdown_grace = 1.0
    config.queue_limit = 100_000
    # The API's own throughput: its ten clients are one peer (this user), whose requests
    # the request rate limit (500 a second by default) would cap.
    config.request_rate, config.request_burst = 1_000_000.0, 1_000_000
    service = GatewayService(config, clock=RealClock())
    def stamped(event: dict) -> None:  # latency probe: when the engine published it
        service._forward({**event, "_published": time.perf_counter()})

    service.engine.unsubscribe(service.forwarding)
    service.engine.subscribe(stamped)
    thread = ServiceThread(config, service=service).start()
    return service, config.socket, thread.stop


def api_cycles(sock: str, total: int, workers: int) -> float:
    """originate -> hangup -> hungup event cycles per second, ``workers`` clients at once."""
    from trunkline.gateway.rpc.client import GatewayClient

    def worker(n: int) -> None:
        with GatewayClient(sock) as gw:
            gw.subscribe(events=["call.state"])
            for _ in range(n):
                call = gw.call("call.originate", number="13600000000", span=17)["call"]
                gw.call("call.hangup", call=call)
                while True:
                    event = gw.next_event(timeout=10)
                    if event.get("call") == call and event["state"] == "hungup":
                        break

    threads = [threading.Thread(target=worker, args=(total // workers,))
               for _ in range(workers)]
    t = time.perf_counter()
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    return (total // workers) * workers / (time.perf_counter() - t)


def percentiles(values: list[float]) -> tuple[float, float]:
    arr = np.array(values) * 1000
    return float(np.percentile(arr, 50)), float(np.percentile(arr, 99))


def main() -> int:
    from trunkline.gateway.rpc.client import GatewayClient

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=480)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--api-pairs", type=int, default=200)
    args = parser.parse_args()
    service, sock, shutdown = start_gateway(str(HERE / "data" / "bench-card-16e1.toml"))
    engine = service.engine
    try:
        with GatewayClient(str(sock)) as gw:
            while not all(s["dchannel_up"] for s in gw.call("spans.list")[:17]):
                time.sleep(0.2)
            for i in range(args.calls):
                gw.call("call.originate", number=f"138{i:08d}", group="pri")
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                calls = gw.call("calls.list")
                if sum(c["state"] == "answered" for c in calls) >= args.calls:
                    break
                time.sleep(0.5)
            answered = sum(c["state"] == "answered" for c in gw.call("calls.list"))
            engine.tick_durations.clear()
            over0, drop0 = service.card.overruns, service.card.frames_dropped
            c0, w0 = time.process_time(), time.perf_counter()
            time.sleep(args.seconds)
            cpu = (time.process_time() - c0) / (time.perf_counter() - w0)
            ticks = list(engine.tick_durations)
            overruns = service.card.overruns - over0
            dropped = service.card.frames_dropped - drop0
            tick_p50, tick_p99 = percentiles(ticks)

            # API rate: pings, then originate + hangup cycles (an unanswered number, on the
            # spare 17th span), each waiting for its hungup event, from 10 clients at once.
            t = time.perf_counter()
            for _ in range(args.api_pairs):
                gw.call("ping")
            ping_rate = args.api_pairs / (time.perf_counter() - t)
            pair_rate = api_cycles(str(sock), args.api_pairs, workers=10)

            # Event latency: an agent phone goes off hook; time publish -> client.
            gw.subscribe(events=["call.state"])
            latencies = []
            for _ in range(50):
                call = gw.call("call.originate", number="agent", group="agents")
                while True:
                    event = gw.next_event(timeout=10)
                    if event.get("call") == call["call"] and event["state"] == "answered":
                        latencies.append(time.perf_counter() - event["_published"])
                        break
                gw.call("call.hangup", call=call["call"])
            lat_p50, lat_p99 = percentiles(latencies)
    finally:
        shutdown()

    print(f"{'measure':<44} {'value':>14} {'baseline':>14} {'ratio':>7}")
    print("-" * 82)
    print(f"{'calls answered and held':<44} {answered:>14}")
    print(f"{'tick work p50 / p99 (ms, budget 20)':<44} {tick_p50:>6.2f} / {tick_p99:<6.2f}")
    print(f"{'overruns (frames dropped) in ' + str(args.seconds) + ' s':<44} "
          f"{overruns:>6} ({dropped})")
    print(f"{'process CPU (share of one core)':<44} {cpu:>13.0%}")
    print(f"{'originate+hangup cycles/s (10 clients)':<44} {pair_rate:>14.1f} "
          f"{ping_rate:>10.1f} pings {pair_rate / ping_rate:>6.3f}")
    print(f"{'event latency p50 / p99 (ms)':<44} {lat_p50:>6.2f} / {lat_p99:<6.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
