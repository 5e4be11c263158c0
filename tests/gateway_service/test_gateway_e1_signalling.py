"""MFC/R2 and SS7 spans through the gateway, unchanged: channel groups place calls on
them, inbound calls are offered with the calling number, answered and cleared.

The default emulated card has one R2 span (5, China No.1) and one SS7 span (6, China
24-bit point codes) behind which the emulated network's exchanges run our own engines
in the network role.
"""

from __future__ import annotations

import time

import pytest
from gw_service_kit import RunningGateway, wait_for

from trunkline.gateway.rpc.client import GatewayClient
from trunkline.gateway.rpc.errors import RpcError

R2_SPAN, SS7_SPAN = 5, 6


@pytest.fixture(scope="module")
def gateway():
    gw = RunningGateway().start()
    yield gw
    gw.stop()


@pytest.fixture
def client(gateway):
    with GatewayClient(gateway.socket) as c:
        yield c


def state_is(call_id: int, state: str):
    return lambda e: e.get("event") == "call.state" and e.get("call") == call_id \
        and e.get("state") == state


def wait_linkset_up(client) -> None:
    """Until the linkset is up and its circuits are reset: the group reset at start-up
    (Q.764 2.9.3.1) leaves no circuit free until the exchange acknowledges it, and the
    gateway answers a call on no free circuit with a conflict."""
    spans = {s["span"]: s for s in client.call("spans.list")}
    if not spans[SS7_SPAN]["dchannel_up"]:
        wait_for(client, lambda e: e.get("event") == "alarm" and e.get("span") == SS7_SPAN
                 and e.get("dchannel") == "up")


def originate(client, number: str, group: str) -> int:
    deadline = time.monotonic() + 30
    while True:
        try:
            return client.call("call.originate", number=number, group=group)["call"]
        except RpcError as err:
            if err.code != 302 or time.monotonic() > deadline:
                raise
            time.sleep(0.1)


@pytest.mark.parametrize(("group", "span", "number", "outcome", "cause"), [
    ("r2", R2_SPAN, "13700000011", "busy", 17),
    ("r2", R2_SPAN, "13000000011", "invalid_number", 1),
    ("ss7", SS7_SPAN, "13700000012", "busy", 17),
    ("ss7", SS7_SPAN, "13500000012", "congestion", 34),
])
def test_a_group_of_r2_or_ss7_spans_places_calls(client, group, span, number, outcome,
                                                 cause):
    client.subscribe()
    if group == "ss7":
        wait_linkset_up(client)
    call = originate(client, number, group)
    ended = wait_for(client, state_is(call, "hungup"))[-1]
    assert (ended["span"], ended["outcome"], ended["cause"]) == (span, outcome, cause)


@pytest.mark.slow
@pytest.mark.parametrize("group", ["r2", "ss7"])
def test_answered_call_on_r2_or_ss7_then_hung_up_by_the_client(client, group):
    client.subscribe()
    if group == "ss7":
        wait_linkset_up(client)
    call = originate(client, "13800000021", group)
    events = wait_for(client, state_is(call, "answered"))
    assert any(state_is(call, "ringing")(e) for e in events)
    client.call("call.hangup", call=call, cause=16)
    ended = wait_for(client, state_is(call, "hungup"))[-1]
    assert ended["outcome"] == "human" and ended["by"] == "near_end"


@pytest.mark.parametrize(("span", "kind"), [(R2_SPAN, "r2"), (SS7_SPAN, "ss7")])
def test_inbound_call_offered_with_the_calling_number_answered_and_cleared(
        gateway, client, span, kind):
    client.subscribe()
    card = gateway.service.card
    if kind == "ss7":
        wait_linkset_up(client)

    gateway.on_engine(lambda: card.network_side(span).originate("80003", "13912340000"))
    offered = wait_for(client, lambda e: e.get("event") == "call.offered"
                       and e.get("span") == span)[-1]
    assert (offered["calling"], offered["called"]) == ("13912340000", "80003")
    answer = client.call("call.answer", call=offered["call"])
    assert (answer["direction"], answer["kind"], answer["number"]) == (
        "inbound", kind, "13912340000")
    wait_for(client, state_is(offered["call"], "answered"))
    client.call("call.hangup", call=offered["call"])
    ended = wait_for(client, state_is(offered["call"], "hungup"))[-1]
    assert (ended["by"], ended["outcome"]) == ("near_end", "human")
