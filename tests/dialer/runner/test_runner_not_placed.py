"""A dial the gateway could not place (no free channel) is not an attempt and not
congestion (issue 15, item 3): the attempt is released, the contact keeps its attempts
and is due again in a moment, the campaign's dials do not count it, and the runner
draws no new contact for that moment (no burning through the list against a full
card). Before, each refusal was recorded as ``congestion``: an attempt used up."""

from __future__ import annotations

from pathlib import Path

from runner_kit import T0, make_store
from scripted_gateway_kit import ScriptedGateway

from trunkline.dialer.pacing.engine import quiet_logger
from trunkline.dialer.runner.campaign_runner import NOT_PLACED_BACKOFF, CampaignRunner
from trunkline.gateway.rpc.errors import RpcError


def test_a_dial_without_a_free_channel_is_no_attempt(tmp_path: Path) -> None:
    store = make_store(tmp_path, ranges=(("137", 3, "busy"),), config={"mode": "progressive"})
    answered = [(T0 + 1, {"event": "call.state", "call": c, "state": "answered",
                          "by": "unknown"}) for c in (101, 102)]
    gateway = ScriptedGateway(T0, answered)
    runner = CampaignRunner(store, "sales", gateway, group="pri", engine_log=quiet_logger())
    runner.start()                                         # positions 101 and 102 ring
    gateway.fail["originate"] = RpcError("conflict", "no free channel in group 'pri'")
    while gateway.now() < T0 + 1.5:
        runner.step(T0 + 1.5)
    tried = [r for r in gateway.requests if r[0] == "originate" and r[1][2] is None]
    assert tried, "the runner never tried to dial"
    assert runner.not_placed == len(tried) and runner.gateway_errors == []
    rows = store.query("SELECT state, outcome, note FROM attempt")
    assert rows and all(r["state"] == "released" and r["outcome"] is None for r in rows)
    for contact in store.query("SELECT state, attempts, next_at FROM contact"):
        assert (contact["state"], contact["attempts"]) == ("ready", 0)
    assert runner.totals()["dials"] == 0 and runner.outcomes.get("congestion") is None
    assert len(tried) == 1          # held for NOT_PLACED_BACKOFF: not one try per contact
    # the channel frees: the contact is dialled again after the back-off
    del gateway.fail["originate"]
    while gateway.now() < T0 + 1.5 + NOT_PLACED_BACKOFF + 1.5:
        runner.step(T0 + 1.5 + NOT_PLACED_BACKOFF + 1.5)
    again = [r for r in gateway.requests if r[0] == "originate" and r[1][2] is None]
    assert len(again) > len(tried)
    assert store.query("SELECT COUNT(*) FROM attempt WHERE state='dialing'")[0][0] >= 1
