"""The method registry: roles, parameter checks and error mapping, without sockets."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace

import pytest

from trunkline.errors import ChannelOutOfService
from trunkline.gateway import metrics
from trunkline.gateway.rpc import client, errors, protocol, server
from trunkline.gateway.rpc import registry as rpc
from trunkline.gateway.rpc.errors import ErrorCode
from trunkline.gateway.rpc.registry import MethodRegistry, Param, Role, RpcError


def session(role: str | None) -> SimpleNamespace:
    return SimpleNamespace(role=None if role is None else Role.parse(role))


def registry() -> MethodRegistry:
    reg = MethodRegistry()

    @reg.method("call.originate", role="control", params={
        "number": Param(str, required=True, doc="digits to dial"),
        "span": Param(int), "ring_timeout": Param(float, default=45.0, minimum=1, maximum=600),
        "detect": Param(dict, default={}), "tags": Param(list, items=str, maximum=3),
        "line": Param(str, choices=("pri", "fxo"), default="pri"),
    })
    async def originate(session, **kwargs):
        kwargs["detect"]["seen"] = True
        return kwargs

    @reg.method("down")
    def down(session):
        raise ChannelOutOfService("span 2 is in alarm (RED)")

    return reg


def dispatch(reg: MethodRegistry, role: str | None, name: str, **params):
    return asyncio.run(reg.dispatch(session(role), name, params))


def test_valid_call_gets_defaults_and_conversions():
    out = dispatch(registry(), "control", "call.originate", number="123", ring_timeout=30)
    assert out == {"number": "123", "span": None, "ring_timeout": 30.0, "detect": {"seen": True},
                   "tags": None, "line": "pri"}
    assert isinstance(out["ring_timeout"], float)
    again = dispatch(registry(), "admin", "call.originate", number="1")
    assert again["detect"] == {"seen": True}  # a fresh copy of the default each call


@pytest.mark.parametrize(("params", "match"), [
    ({}, r"call.originate: missing required parameter 'number' \(string: digits to dial\)"),
    ({"number": 123}, "parameter 'number' must be string, got integer 123"),
    ({"number": "1", "span": "2"}, "parameter 'span' must be integer, got string '2'"),
    ({"number": "1", "span": True}, "parameter 'span' must be integer, got boolean True"),
    ({"number": "1", "ring_timeout": 0.5}, "parameter 'ring_timeout' must be of >= 1"),
    ({"number": "1", "ring_timeout": 601}, "parameter 'ring_timeout' must be of <= 600"),
    ({"number": "1", "tags": ["a", 2]}, "parameter 'tags' item 1 must be string"),
    ({"number": "1", "tags": ["a"] * 4}, "parameter 'tags' must be of length <= 3"),
    ({"number": "1", "line": "r2"}, "parameter 'line' must be one of 'pri', 'fxo'"),
    ({"number": "1", "spam": 1}, "unknown parameter 'spam'"),
    # NaN passes every bound (it compares false) and would ring for ever.
    ({"number": "1", "ring_timeout": float("nan")},
     "parameter 'ring_timeout' must be a finite number, got"),
    ({"number": "1", "ring_timeout": float("inf")},
     "parameter 'ring_timeout' must be a finite number, got"),
    ({"number": "1", "span": 2**64 - 1}, "parameter 'span' must be a 64-bit integer, got"),
])
def test_bad_params_are_named(params, match):
    with pytest.raises(RpcError, match=match) as info:
        dispatch(registry(), "control", "call.originate", **params)
    assert info.value.code is ErrorCode.INVALID_PARAMS


def test_roles_are_ordered():
    assert Role.MONITOR < Role.CONTROL < Role.ADMIN
    with pytest.raises(RpcError, match="needs role control; this connection has role monitor"):
        dispatch(registry(), "monitor", "call.originate", number="1")
    with pytest.raises(ValueError, match="unknown role 'root'"):
        Role.parse("root")


def test_unknown_method_and_mapped_exceptions():
    with pytest.raises(RpcError, match="unknown method 'nope'") as info:
        dispatch(registry(), "admin", "nope")
    assert info.value.code is ErrorCode.UNKNOWN_METHOD
    with pytest.raises(RpcError, match="span 2 is in alarm") as info:
        dispatch(registry(), "admin", "down")
    assert info.value.code is ErrorCode.UNAVAILABLE


def test_map_exception_and_registration_errors():
    reg = registry()
    reg.map_exception(LookupError, "not_found")

    @reg.method("find")
    def find(session):
        raise LookupError("no call 17")

    with pytest.raises(RpcError, match="no call 17") as info:
        dispatch(reg, "monitor", "find")
    assert info.value.code is ErrorCode.NOT_FOUND
    with pytest.raises(ValueError, match="already registered"):
        reg.register("find", find)
    with pytest.raises(TypeError, match="must be a Param"):
        reg.register("x", find, params={"a": int})  # type: ignore[dict-item]
    with pytest.raises(ValueError, match="cannot have a default"):
        Param(int, required=True, default=1)


def test_describe_lists_params():
    spec = registry().get("call.originate")
    assert spec is not None and spec.is_async
    described = spec.describe()
    assert described["role"] == "control"
    assert described["params"]["number"] == {"type": "string", "required": True,
                                             "doc": "digits to dial"}


def test_public_names_stay_what_we_mean():
    assert set(rpc.__all__) == {"MethodRegistry", "MethodSpec", "Param", "Role", "RpcError"}
    assert {"GatewayServer", "Session", "Subscription"} <= set(server.__all__)
    assert {"AsyncGatewayClient", "GatewayClient"} <= set(client.__all__)
    assert {"FrameDecoder", "ProtocolError", "encode_frame"} <= set(protocol.__all__)
    assert {"GatewayMetrics", "MetricsEndpoint"} <= set(metrics.__all__)
    assert issubclass(errors.ProtocolError, errors.RpcError)
    assert issubclass(errors.CallTimeout, TimeoutError)
    assert issubclass(errors.ConnectionClosed, ConnectionError)


def test_a_channel_or_span_the_card_lacks_is_not_found() -> None:
    """Naming a channel or span the card does not have is not_found, not conflict (issue
    15, red-team 14): the request is wrong about the card, not about its state."""
    from trunkline.gateway.config import GatewayConfig
    from trunkline.gateway.testing import VirtualGateway

    with VirtualGateway(GatewayConfig(), start=0.0) as gw:
        for method, params in (("call.originate", {"number": "1", "channel": 9999}),
                               ("call.originate", {"number": "1", "span": 99}),
                               ("channel.block", {"channel": 9999}),
                               ("channels.list", {"span": 99}),
                               ("span.maintenance", {"span": 99, "mode": "clear"})):
            with pytest.raises(RpcError, match=r"has no (channel 9999|span 99)") as info:
                gw.call(method, **params)
            assert info.value.code is ErrorCode.NOT_FOUND, method
