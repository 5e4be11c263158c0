"""The in-process gateway (gateway/testing.py VirtualGateway): requests dispatch through the
service's registry (defaults, roles, errors) and run on the engine at the end of the next
tick; results and events come out as msgpack decodes them."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from trunkline.gateway.rpc.errors import ErrorCode, RpcError
from trunkline.gateway.rpc.registry import Param, Role
from trunkline.gateway.testing import VirtualGateway, _as_wire


@pytest.fixture
def gw() -> Iterator[VirtualGateway]:
    with VirtualGateway(start=1000.0) as gateway:
        yield gateway


def test_virtual_time_starts_where_asked_and_moves_only_in_ticks(gw: VirtualGateway) -> None:
    assert gw.now() == pytest.approx(1000.3)  # after the warm-up that brings the links up
    before = gw.now()
    gw.run(0.1)
    assert gw.now() == pytest.approx(before + 0.1) and gw.ticks >= 20


def test_a_request_runs_at_the_end_of_the_next_tick(gw: VirtualGateway) -> None:
    pending = gw.request("calls.list")
    assert not pending.done()
    ticks = gw.ticks
    gw.tick()
    assert pending.done() and pending.result() == [] and gw.ticks == ticks + 1


def test_call_ticks_until_the_reply_and_applies_defaults(gw: VirtualGateway) -> None:
    ticks = gw.ticks
    info = gw.call("call.originate", number="13800000001", group="fxo")
    assert gw.ticks == ticks + 1
    assert info["kind"] == "fxo" and info["state"] == "dialing" and info["number"] == "13800000001"
    # cause took its default; a loop-start line is on hook at once.
    assert gw.call("call.hangup", call=info["call"]) == {"call": info["call"],
                                                           "state": "hungup"}


def test_the_registry_checks_parameters_and_names_them(gw: VirtualGateway) -> None:
    with pytest.raises(RpcError, match="missing required parameter 'number'") as info:
        gw.call("call.originate")
    assert info.value.code is ErrorCode.INVALID_PARAMS
    with pytest.raises(RpcError, match="parameter 'ring_timeout' must be of <= 600"):
        gw.call("call.originate", number="1", ring_timeout=1000)
    with pytest.raises(RpcError) as info:
        gw.call("no.such.method")
    assert info.value.code is ErrorCode.UNKNOWN_METHOD


def test_roles_are_checked_as_over_the_socket(gw: VirtualGateway) -> None:
    gw.session.role = Role.MONITOR
    assert gw.call("groups.list")["fxo"] == list(range(63, 71))
    with pytest.raises(RpcError, match="needs role control; this connection has role monitor"
                       ) as info:
        gw.call("call.originate", number="13800000001")
    assert info.value.code is ErrorCode.FORBIDDEN
    gw.session.role = Role.CONTROL
    with pytest.raises(RpcError, match="needs role admin") as info:
        gw.call("channel.block", channel=63)
    assert info.value.code is ErrorCode.FORBIDDEN


def test_domain_errors_come_back_with_their_wire_codes(gw: VirtualGateway) -> None:
    cases = [
        ({"number": "12a", "group": "fxo"}, ErrorCode.INVALID_PARAMS, "cannot dial '12a'"),
        ({"number": "1+2", "span": 1}, ErrorCode.INVALID_PARAMS, "cannot call '1\\+2'"),
        ({"number": "1", "group": "sales"}, ErrorCode.NOT_FOUND, "no group 'sales'"),
        ({"number": "1", "detect": {"vad": True}}, ErrorCode.INVALID_PARAMS,
         "unknown detect option"),
    ]
    for params, code, match in cases:
        with pytest.raises(RpcError, match=match) as info:
            gw.call("call.originate", **params)
        assert info.value.code is code, params
    with pytest.raises(RpcError, match="no call 42") as info:
        gw.call("call.hangup", call=42)
    assert info.value.code is ErrorCode.NOT_FOUND
    assert gw.call("calls.list") == []  # nothing refused was left behind


def test_results_and_events_are_what_msgpack_gives_a_client(gw: VirtualGateway) -> None:
    gw.service.registry.register("test.shapes", lambda session: {
        "pair": (1, 2), "nested": [(3, {"k": (4,)})], 5: b"raw"}, role="monitor")
    assert gw.call("test.shapes") == {"pair": [1, 2], "nested": [[3, {"k": [4]}]], 5: b"raw"}
    gw.service.registry.register("test.object", lambda session: object(), role="monitor")
    with pytest.raises(RpcError, match=r"test\.object returned a value msgpack cannot carry"
                       ) as info:
        gw.call("test.object")
    assert info.value.code is ErrorCode.INTERNAL
    gw.engine.publish({"event": "test.event", "ids": (1, 2)})
    assert gw.take_events() == [{"event": "test.event", "ids": [1, 2]}]
    assert gw.take_events() == []


def test_as_wire_is_a_msgpack_round_trip() -> None:
    assert _as_wire((1, "a", None, 2.5, True)) == [1, "a", None, 2.5, True]
    assert _as_wire({1: {"x": (b"\x00",)}}) == {1: {"x": [b"\x00"]}}


def test_events_of_a_call_come_through_the_bus(gw: VirtualGateway) -> None:
    call = gw.call("call.originate", number="13700000001", group="fxo")["call"]
    gw.run_until(lambda: any(e["event"] == "call.state" and e["state"] == "hungup"
                             for e in gw.events), seconds=30)
    said = [(e["event"], e.get("state") or e.get("tone")) for e in gw.events
            if e.get("call") == call]
    assert said == [("call.state", "dialing"), ("tone", "busy"), ("call.state", "hungup")]
    assert gw.events[-1] == {"event": "call.state", "call": call, "span": 3, "channel": 63,
                             "state": "hungup", "outcome": "busy", "cause": None,
                             "by": "near_end"}


def test_run_until_gives_up_after_its_card_time(gw: VirtualGateway) -> None:
    start = gw.now()
    with pytest.raises(AssertionError, match=r"condition not met within 0\.2 s of card time"):
        gw.run_until(lambda: False, seconds=0.2)
    assert gw.now() == pytest.approx(start + 0.2, abs=0.021)
    assert gw.run_until(lambda: "yes") == "yes"


def test_async_handlers_and_their_params() -> None:
    with VirtualGateway(warmup=0.0) as gateway:
        async def echo(session: object, text: str, times: int) -> str:
            return text * times

        gateway.service.registry.register("test.echo", echo, role="monitor", params={
            "text": Param(str, required=True), "times": Param(int, default=2)})
        assert gateway.call("test.echo", text="ab") == "abab"


def test_close_removes_the_scratch_folder() -> None:
    gateway = VirtualGateway(warmup=0.0)
    scratch = Path(gateway.config.recordings_root).parent
    assert scratch.is_dir()
    gateway.close()
    assert not scratch.exists() and gateway.card.open_channels == ()
