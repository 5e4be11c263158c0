"""Crash recovery: only these campaigns' open attempts are settled; a call of ours still
up on the gateway is cleared; the unknown ones go to the runner's own recording."""

from __future__ import annotations

from campaign_testkit import T0, mobile, open_store
from scripted_gateway_kit import ScriptedGateway

from trunkline.dialer.runner.settling import settle_open_attempts
from trunkline.dialer.store import NewContact
from trunkline.gateway.rpc.errors import RpcError


def dial_string(e164: str) -> str:
    return "0" + e164.removeprefix("+86")


def test_open_attempts_of_these_campaigns_are_settled() -> None:
    store = open_store(contacts=4)
    store.create_campaign("other", now=T0)
    store.add_list("other", "l", [NewContact(mobile(9), {})], now=T0)
    claimed = store.claim_next("sales", T0)                       # never sent
    up = store.claim_next("sales", T0)                            # still up on the gateway
    store.mark_dialing(up.attempt, T0, call_ref="11")
    moved = store.claim_next("sales", T0)                         # id reused by another call
    store.mark_dialing(moved.attempt, T0, call_ref="12")
    unsent = store.claim_next("sales", T0)                        # no call_ref: crashed early
    store.mark_dialing(unsent.attempt, T0)
    theirs = store.claim_next("other", T0)
    store.mark_dialing(theirs.attempt, T0, call_ref="13")
    gateway = ScriptedGateway(T0 + 60, up=[
        {"call": 11, "number": dial_string(up.number)}, {"call": 12, "number": "0999"},
        {"call": 13, "number": dial_string(theirs.number)}])
    gateway.fail["hangup"] = RpcError("not_found", "gone")        # suppressed
    unknown: list[int] = []
    counts = settle_open_attempts(store, gateway, {"sales"}, dial_string, unknown.append,
                                  T0 + 60)
    assert counts == {"released": 1, "unknown": 3, "cleared": 1}
    assert gateway.requests == [("hangup", 11, T0 + 60)]
    assert unknown == [up.attempt, moved.attempt, unsent.attempt]
    assert store.query("SELECT state FROM attempt WHERE id=?", (claimed.attempt,))[0][0] \
        == "released"
    assert [i.attempt for i in store.in_flight()] == [up.attempt, moved.attempt,
                                                      unsent.attempt, theirs.attempt]
