"""MFC/R2 and SS7 spans through the gateway, unchanged: channel groups place calls on
them, inbound calls are offered with the calling number, answered and cleared, and
``spans.list`` shows their circuits.

The default emulated card has one R2 span (5, China No.1) and one SS7 span (6, China
24-bit point codes) behind which the emulated network's exchanges run our own engines
in the network role. Calls run on the in-process gateway (the same engine and methods
as the socket service) in virtual time: R2's compelled MF cycle needs every frame, and
a shared CI machine running the service in real time can starve it of some; the
socket test checks what only the wire shows.
"""

from __future__ import annotations

import time

import pytest
from gw_service_kit import RunningGateway, wait_for

from trunkline.gateway.config import GatewayConfig
from trunkline.gateway.rpc.client import GatewayClient
from trunkline.gateway.testing import VirtualGateway

R2_SPAN, SS7_SPAN = 5, 6


@pytest.fixture
def gateway():
    with VirtualGateway(GatewayConfig(), start=0.0) as gw:
        # Until the linkset is up and both ends' start-up circuit resets are
        # acknowledged (Q.764 2.9.3.1).
        module = gw.engine.loop.modules[SS7_SPAN]
        gw.run_until(lambda: module.can_place(None), seconds=30)
        gw.run_until(lambda: gw.card.network_side(SS7_SPAN).point.free_circuits(),
                     seconds=30)
        yield gw


def ended(gw: VirtualGateway, call: int, seconds: float = 300.0) -> dict:
    return gw.run_until(lambda: next(
        (e for e in gw.events if e.get("call") == call and e.get("event") == "call.state"
         and e.get("state") == "hungup"), None), seconds=seconds)


@pytest.mark.parametrize(("group", "span", "number", "outcome", "cause"), [
    ("r2", R2_SPAN, "13700000011", "busy", 17),
    ("r2", R2_SPAN, "13000000011", "invalid_number", 1),
    ("r2", R2_SPAN, "13500000011", "congestion", 34),
    ("ss7", SS7_SPAN, "13700000012", "busy", 17),
    ("ss7", SS7_SPAN, "13500000012", "congestion", 34),
])
def test_a_group_of_r2_or_ss7_spans_places_calls(gateway, group, span, number, outcome,
                                                 cause):
    call = gateway.call("call.originate", number=number, group=group)["call"]
    end = ended(gateway, call)
    assert (end["span"], end["outcome"], end["cause"]) == (span, outcome, cause)


@pytest.mark.parametrize("group", ["r2", "ss7"])
def test_answered_call_on_r2_or_ss7_then_hung_up_by_the_client(gateway, group):
    call = gateway.call("call.originate", number="13800000021", group=group)["call"]
    states = lambda: [e["state"] for e in gateway.events  # noqa: E731
                      if e.get("call") == call and e.get("event") == "call.state"]
    gateway.run_until(lambda: "answered" in states(), seconds=60)
    assert "ringing" in states()
    gateway.call("call.hangup", call=call, cause=16)
    end = ended(gateway, call)
    assert (end["outcome"], end["by"]) == ("human", "near_end")


@pytest.mark.parametrize(("span", "kind"), [(R2_SPAN, "r2"), (SS7_SPAN, "ss7")])
def test_inbound_call_offered_with_the_calling_number_answered_and_cleared(
        gateway, span, kind):
    if kind == "r2":  # the exchange's register starts with our side's first signal
        gateway.run_until(lambda: gateway.card._r2_network.get(span), seconds=5)
    gateway.card.network_side(span).originate("80003", "13912340000")
    offered = gateway.run_until(lambda: next(
        (e for e in gateway.events if e.get("event") == "call.offered"
         and e.get("span") == span), None), seconds=10)
    assert (offered["calling"], offered["called"]) == ("13912340000", "80003")
    answer = gateway.call("call.answer", call=offered["call"])
    assert (answer["direction"], answer["kind"], answer["number"]) == (
        "inbound", kind, "13912340000")
    gateway.run_until(lambda: any(
        e.get("call") == offered["call"] and e.get("state") == "answered"
        for e in gateway.events), seconds=10)
    gateway.call("call.hangup", call=offered["call"])
    end = ended(gateway, offered["call"], seconds=30)
    assert (end["by"], end["outcome"]) == ("near_end", "human")


def test_spans_list_shows_r2_timeslots_and_ss7_links_and_circuits_over_the_socket(capsys):
    from trunkline.cli import main
    from trunkline.gateway.cli import span_lines

    gw = RunningGateway().start()
    try:
        with GatewayClient(gw.socket) as client:
            client.subscribe()
            rows = {r["span"]: r for r in client.call("spans.list")}
            if not rows[SS7_SPAN]["dchannel_up"]:
                wait_for(client, lambda e: e.get("event") == "alarm"
                         and e.get("span") == SS7_SPAN and e.get("dchannel") == "up")
            deadline = time.monotonic() + 30
            while True:  # until the start-up circuit reset is acknowledged
                rows = {r["span"]: r for r in client.call("spans.list")}
                circuits = rows[SS7_SPAN]["signalling_state"]["circuits"]
                if all(c["state"] == "idle" for c in circuits.values()) \
                        or time.monotonic() > deadline:
                    break
                time.sleep(0.05)
        capsys.readouterr()
        assert main(["gw", "--socket", str(gw.socket), "spans"]) == 0
        printed = capsys.readouterr().out
    finally:
        gw.stop()
    assert "MFC/R2 variant cn:" in printed and "SS7 linkset up:" in printed
    r2, ss7 = rows[R2_SPAN]["signalling_state"], rows[SS7_SPAN]["signalling_state"]
    assert r2["variant"] == "cn" and len(r2["timeslots"]) == 30
    assert "16" not in r2["timeslots"]  # timeslot 16 carries the ABCD multiframe
    assert ss7["links"] == {"0": {"span": SS7_SPAN, "state": "in service"}}
    assert len(ss7["circuits"]) == 30 and "16" not in ss7["circuits"]  # TS16: the link
    assert {c["state"] for c in ss7["circuits"].values()} == {"idle"}
    assert "signalling_state" not in rows[1]  # PRI: the D-channel's state says it all
    text = "\n".join(span_lines(list(rows.values())))
    assert "MFC/R2 variant cn:" in text and "SS7 linkset up:" in text
    assert "link SLC 0 on span 6: in service" in text and "CIC 1-15,17-31" in text


def test_channel_block_tells_the_far_end_on_r2_and_ss7(gateway):
    """channel.block on an R2 circuit sends Q.421 blocking, on an SS7 circuit a BLO: the
    far end offers no calls there either; unblock lifts both."""
    r2_channel = gateway.card.span(R2_SPAN).channels[-1]
    ss7_channel = gateway.card.span(SS7_SPAN).channels[0]  # timeslot 1: CIC 1
    exchange_r2 = gateway.card.network_side(R2_SPAN)
    exchange_ss7 = gateway.card.network_side(SS7_SPAN)
    for channel in (r2_channel, ss7_channel):
        assert gateway.call("channel.block", channel=channel) == {"channel": channel,
                                                                   "blocked": True}
    gateway.run(1.0)
    assert exchange_r2.r2.line(r2_channel).state.value == "blocked_by_far_end"
    assert exchange_ss7.point.isup.circuits[1].remote_block
    # The exchange hunts from the low end and skips the blocked circuit.
    assert exchange_r2.r2.hunt() != r2_channel
    for channel in (r2_channel, ss7_channel):
        gateway.call("channel.unblock", channel=channel)
    gateway.run(1.0)
    assert exchange_r2.r2.line(r2_channel).state.value == "idle"
    assert not exchange_ss7.point.isup.circuits[1].remote_block
