"""Generated hostile traffic on a live gateway's socket (issue 15, item 4): 0 crashes, 0
``internal`` errors, 0 hangs, and a second client answered within 1 s throughout.

The default run sends a few thousand cases; the long one as many as
``TRUNKLINE_FUZZ_CASES`` says (README, "Tests": 100,000 in about 30 s here, 0 problems,
the bystander answered within 0.41 s at worst). The cases and the checks are in
``gateway_fuzz_kit.py``; ``TRUNKLINE_FUZZ_SEED`` draws other cases.
"""

from __future__ import annotations

import os

import pytest
from gateway_fuzz_kit import fuzz
from gw_service_kit import RunningGateway, wait_until

from trunkline.gateway.config import GatewayConfig


def run(cases: int, bystander_limit: float) -> None:
    # The cases reach the handlers: the request rate limit (500 a second by default; the
    # fuzz pipelines about 3,000) would answer most of them overloaded unread. The
    # limit has its own test (test_gateway_request_rate_flood.py).
    config = GatewayConfig()
    config.request_rate, config.request_burst = 1_000_000.0, 1_000_000
    with RunningGateway(config) as gw:
        specs = {spec.name: spec for spec in gw.service.registry}
        report = fuzz(str(gw.socket), specs, cases,
                      seed=int(os.environ.get("TRUNKLINE_FUZZ_SEED", "15")),
                      bystander_limit=bystander_limit)
        print(report.line())
        alive = gw.service.engine.ticks
        assert report.problems == [], report.problems[:10]
        assert report.replies >= report.requests * 0.9     # most requests answered
        # the tick went on under the traffic (asked until it has ticked once more: read
        # at once, on a loaded machine, the count could still be the same tick's)
        wait_until(lambda: gw.on_engine(lambda: gw.service.engine.ticks) > alive,
                   "the media tick goes on after the traffic", timeout=5.0)


def test_a_few_thousand_generated_cases() -> None:
    # In the default run (a shared, loaded machine: the whole suite beside it) a wait
    # only counts as a stall past 5 s; the 1 s goal is the long run's, which is run
    # alone and prints the worst wait.
    run(3000, bystander_limit=5.0)


@pytest.mark.slow
@pytest.mark.skipif("TRUNKLINE_FUZZ_CASES" not in os.environ,
                    reason="the long fuzz run: TRUNKLINE_FUZZ_CASES=100000 (README)")
def test_a_hundred_thousand_generated_cases() -> None:
    run(int(os.environ["TRUNKLINE_FUZZ_CASES"]), bystander_limit=1.0)
