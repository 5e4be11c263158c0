#!/usr/bin/env python3
"""Measurement: how many gateway requests a second the dialer's runners send at full load.

Why: the gateway limits each connection's request rate (``[server] request_rate`` and
``request_burst``, gateway/rpc/request_rate.py); its defaults must never bother a normal
dialer. This runs the dialer's own runners against the gateway on the emulated card and
counts every request they send, by the time it is sent:

* ``demo``: the demo's floor (``trunkline demo --virtual``: the desk runner, 10 agents
  at FXS positions, the predictive collections campaign, round-robin over every trunk);
* ``power``: the campaign runner (``trunkline dialer run``) in power mode with every
  agent position of the card and ``--ratio`` lines per agent: the card's outbound lines
  kept as full as the runner can keep them, the most requests a runner sends.

The runners run on the in-process gateway in virtual time
(:class:`~trunkline.dialer.runner.gateway.InProcessGateway`); each of their requests
is one request over the socket when they drive a live gateway (``LiveGateway._call``
is one ``GatewayClient.call``), and virtual seconds are the seconds a live floor would
take, so the rates are those a live gateway would see on the runner's one connection.
Virtual time: the figures do not depend on the machine's load.

Printed per run: requests in all, the mean rate, the most in any 1 s and in any 100 ms
(the burst a bucket must hold), and the methods sent most. Measured 2026-12-03 (virtual
time: the load does not matter): ``demo`` (2 min asked, 261 s run) 108 requests, 0.4 a
second, at most 13 in a second and 7 in 100 ms; ``power`` at ratio 10 (4 min asked,
560 s run) 252 requests, 0.5 a second, at most 30 in a second and 7 in 100 ms. The
defaults of ``[server] request_rate`` (500) and ``request_burst`` (1000) are ten times
and more above them.

    .venv/bin/python benchmarks/measure_dialer_request_rate.py
    .venv/bin/python benchmarks/measure_dialer_request_rate.py --minutes 5 --runs power
"""

from __future__ import annotations

import argparse
import bisect
import shutil
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

from trunkline.dialer.runner.gateway import InProcessGateway


class CountingGateway(InProcessGateway):
    """The in-process gateway, noting the virtual time of every request it is sent."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.sent: list[tuple[float, str]] = []

    def _call(self, method: str, **params: Any) -> Any:
        self.sent.append((self.now(), method))
        return super()._call(method, **params)


def most_in_window(times: list[float], window: float) -> int:
    """The most requests in any ``window`` seconds (each window starting at a request)."""
    return max((bisect.bisect_left(times, t + window) - i for i, t in enumerate(times)),
               default=0)


def figures(name: str, sent: list[tuple[float, str]], seconds: float) -> str:
    times = sorted(t for t, _ in sent)
    methods = Counter(m for _, m in sent).most_common(5)
    top = ", ".join(f"{m} {n}" for m, n in methods)
    return (f"| {name} | {len(sent)} | {seconds:.0f} | {len(sent) / seconds:.1f} | "
            f"{most_in_window(times, 1.0)} | {most_in_window(times, 0.1)} | {top} |")


def demo_run(folder: Path, minutes: float, contacts: int) -> tuple[list[Any], float]:
    from trunkline.dialer import demo
    from trunkline.dialer.floor.shift import run_shift

    start = time.time()
    store, _ = demo.prepare(folder, contacts, start=start)
    gateway = CountingGateway(start=start, config=demo._gateway_config(folder))
    try:
        with store:
            run_shift(store, gateway, contacts=contacts, agents=demo.AGENTS, seed=1,
                      seconds=minutes * 60, progress=None, progress_every=3600.0)
        return gateway.sent, gateway.now() - start
    finally:
        gateway.close()


def power_run(folder: Path, minutes: float, contacts: int, ratio: float
              ) -> tuple[list[Any], float]:
    from trunkline.dialer import demo
    from trunkline.dialer.pacing.engine import quiet_logger
    from trunkline.dialer.runner.campaign_runner import CampaignRunner
    from trunkline.dialer.runner.settings import campaign_config

    start = time.time()
    store, _ = demo.prepare(folder, contacts, start=start)
    gateway = CountingGateway(start=start, config=demo._gateway_config(folder))
    try:
        with store:
            config = campaign_config(store, demo.CAMPAIGN, mode="power", ratio=ratio)
            runner = CampaignRunner(store, demo.CAMPAIGN, gateway, config=config,
                                    engine_log=quiet_logger())
            runner.run(seconds=minutes * 60)
        return gateway.sent, gateway.now() - start
    finally:
        gateway.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--minutes", type=float, default=20.0, help="virtual, per run")
    parser.add_argument("--contacts", type=int, default=20000)
    parser.add_argument("--ratio", type=float, default=10.0,
                        help="power: lines per agent (at most 10; 12 agents x 10: 120 of "
                             "the card's 128 outbound lines)")
    parser.add_argument("--runs", nargs="+", choices=("demo", "power"),
                        default=["demo", "power"])
    args = parser.parse_args()
    from trunkline.logs import configure_logging

    configure_logging("error")
    print(f"\nGateway requests the dialer's runners send (virtual time, "
          f"{args.minutes:g} min a run)\n")
    print("| run | requests | seconds | mean /s | most in 1 s | most in 100 ms | "
          "top methods |")
    print("|---|---:|---:|---:|---:|---:|---|")
    for name in args.runs:
        folder = Path(tempfile.mkdtemp(prefix="tl-rate-", dir="/tmp"))
        try:
            if name == "demo":
                sent, seconds = demo_run(folder, args.minutes, args.contacts)
            else:
                sent, seconds = power_run(folder, args.minutes, args.contacts, args.ratio)
        finally:
            shutil.rmtree(folder, ignore_errors=True)
        print(figures(f"{name}" + (f" (ratio {args.ratio:g})" if name == "power" else ""),
                      sent, seconds), flush=True)


if __name__ == "__main__":
    main()
