"""A campaign over a mix of E1 trunks: PRI, MFC/R2 and SS7 spans in one channel group.

The runner and the gateway know nothing of the signalling: the group ``trunks`` names
the PRI, R2 and SS7 spans of the default emulated card, ``order = round_robin`` spreads
the calls over them, and every number must end as the plan says whichever span carried
it.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest
from runner_kit import WatchedGateway, make_store, numbers

from trunkline.dialer.pacing.engine import quiet_logger
from trunkline.dialer.runner.campaign_runner import CampaignRunner
from trunkline.gateway.config import GatewayConfig

RANGES = (("1381", 10, "human"), ("137", 6, "busy"), ("135", 4, "congestion"),
          ("130", 4, "invalid_number"), ("134", 3, "unreachable"))
PRI_SPANS, R2_SPAN, SS7_SPAN = {1, 2}, 5, 6


@pytest.mark.slow
def test_a_campaign_runs_over_pri_r2_and_ss7_spans(tmp_path: Path) -> None:
    store = make_store(tmp_path, config={"mode": "predictive", "ring_timeout": 20.0},
                       ranges=RANGES)
    config = GatewayConfig(groups={"trunks": ["pri", "r2", "ss7"], "agents": ["fxs"]},
                           group_order={"trunks": "round_robin"})
    gateway = WatchedGateway(tmp_path / "dialer.sqlite", config=config)
    # Until the SS7 linkset is up and its circuits reset: the round-robin would skip it.
    module = gateway.engine.loop.modules[SS7_SPAN]
    gateway.virtual.run_until(lambda: module.can_place(None), seconds=30)
    dialed: list[dict] = []
    gateway.engine.subscribe(lambda e: dialed.append(e) if e.get("event") == "call.state"
                             and e.get("state") == "dialing" else None)
    runner = CampaignRunner(store, "sales", gateway, agents=[71, 72, 73], group="trunks",
                            engine_log=quiet_logger())
    try:
        summary = runner.run(seconds=3600)
    finally:
        gateway.close()
    assert summary.finished and runner.gateway_errors == []
    spans = Counter(e["span"] for e in dialed if e.get("span") != 4)  # 4: the agents
    assert set(spans) >= {R2_SPAN, SS7_SPAN} and set(spans) & PRI_SPANS, spans
    got = {row[0]: row[1] for row in store.query("SELECT number, last_outcome FROM contact")}
    for number, expected in numbers(RANGES):
        allowed = {"human", "abandoned"} if expected == "human" else {expected}
        assert got["+86" + number] in allowed, (number, expected, got["+86" + number])
    assert summary.connects > 0
