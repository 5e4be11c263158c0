"""The registry's error table: a handler's exception maps to a wire code by its most
specific listed class; anything unlisted is ``internal`` naming the method."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace

import pytest

from trunkline.drivers.signalling.pri.errors import (
    PriCallStateError,
    PriConfigError,
    PriLinkDown,
    PriNoChannel,
)
from trunkline.errors import (
    AudioFileError,
    BackendError,
    CallStateError,
    CardNotFound,
    ChannelError,
    ChannelOutOfService,
    ChannelStateError,
    ChannelTimeout,
    ConfigError,
    InvalidRequest,
    NotFound,
    NumberFormatError,
    NumberPlanError,
    StateConflict,
    TrunklineError,
    Unsupported,
)
from trunkline.gateway.rpc.errors import ErrorCode, RpcError
from trunkline.gateway.rpc.registry import MethodRegistry, Role

ADMIN = SimpleNamespace(role=Role.ADMIN)


def raising(exc: BaseException, *, coroutine: bool = False) -> MethodRegistry:
    registry = MethodRegistry()
    if coroutine:
        async def handler(session: object) -> None:
            raise exc
    else:
        def handler(session: object) -> None:
            raise exc
    registry.register("call.test", handler)
    return registry


def failure(exc: BaseException, *, coroutine: bool = False,
            registry: MethodRegistry | None = None) -> RpcError:
    registry = registry or raising(exc, coroutine=coroutine)
    with pytest.raises(RpcError) as info:
        asyncio.run(registry.dispatch(ADMIN, "call.test", {}))
    return info.value


class OurOwn(TrunklineError):
    """A domain error nobody listed."""


class NarrowerNumber(NumberFormatError):
    pass


@pytest.mark.parametrize(("exc", "code"), [
    # Also TrunklineErrors (conflict), but their own class is listed and decides.
    (NumberFormatError("cannot dial '12a'"), ErrorCode.INVALID_PARAMS),
    (InvalidRequest("unknown option"), ErrorCode.INVALID_PARAMS),
    (ConfigError("bad tone"), ErrorCode.INVALID_PARAMS),
    (NumberPlanError("bad plan"), ErrorCode.INVALID_PARAMS),
    (AudioFileError("corrupt WAV"), ErrorCode.INVALID_PARAMS),
    (NotFound("no call 17"), ErrorCode.NOT_FOUND),
    (StateConflict("draining"), ErrorCode.CONFLICT),
    (CallStateError("not offered"), ErrorCode.CONFLICT),
    (ChannelStateError("not open"), ErrorCode.CONFLICT),
    (ChannelOutOfService("in alarm"), ErrorCode.UNAVAILABLE),
    (Unsupported("cannot simulate alarms"), ErrorCode.UNAVAILABLE),
    (ChannelTimeout("slow"), ErrorCode.TIMEOUT),
    (ChannelError("no channel 999"), ErrorCode.CONFLICT),
    (BackendError("card closed"), ErrorCode.CONFLICT),
    (CardNotFound("no board"), ErrorCode.CONFLICT),
    (OurOwn("something"), ErrorCode.CONFLICT),
    (NarrowerNumber("a subclass"), ErrorCode.INVALID_PARAMS),
    # The PRI errors mix a PriError base with the standard tree.
    (PriLinkDown("D-channel is down"), ErrorCode.UNAVAILABLE),
    (PriNoChannel("no free B-channel"), ErrorCode.UNAVAILABLE),
    (PriCallStateError("no such call"), ErrorCode.CONFLICT),
    (PriConfigError("bad switch type"), ErrorCode.INVALID_PARAMS),
])
def test_domain_errors_map_by_their_most_specific_listed_class(exc: Exception,
                                                               code: ErrorCode) -> None:
    error = failure(exc)
    assert error.code is code and error.message == str(exc)
    assert error.__cause__ is exc


@pytest.mark.parametrize("exc", [ValueError("plain"), KeyError("k"), RuntimeError("bug"),
                                 ZeroDivisionError("division by zero")])
@pytest.mark.parametrize("coroutine", [False, True])
def test_unexpected_exceptions_are_internal_and_name_the_method(exc: Exception,
                                                                coroutine: bool) -> None:
    error = failure(exc, coroutine=coroutine)
    assert error.code is ErrorCode.INTERNAL
    assert error.message == f"internal error in call.test: {type(exc).__name__}: {exc}"


def test_a_message_less_error_is_named_by_its_class() -> None:
    assert failure(NotFound()).message == "NotFound"


def test_rpc_errors_pass_through_unchanged() -> None:
    original = RpcError(ErrorCode.NOT_FOUND, "no fax 3", data={"fax": 3})
    assert failure(original) is original


def test_a_mapping_added_for_a_base_does_not_override_a_more_specific_one() -> None:
    registry = raising(NumberFormatError("cannot dial"))
    registry.map_exception(ValueError, "not_found")
    assert failure(NumberFormatError("x"), registry=registry).code is ErrorCode.INVALID_PARAMS
    plain = raising(ValueError("plain"))
    plain.map_exception(ValueError, "not_found")
    assert failure(ValueError("plain"), registry=plain).code is ErrorCode.NOT_FOUND


def test_a_mapping_for_a_subclass_wins_over_its_base() -> None:
    registry = raising(NarrowerNumber("narrow"))
    registry.map_exception(NarrowerNumber, ErrorCode.UNAVAILABLE)
    assert failure(NarrowerNumber("narrow"), registry=registry).code is ErrorCode.UNAVAILABLE
    assert registry.error_for(NumberFormatError("x")).code is ErrorCode.INVALID_PARAMS


def test_error_for_and_failure() -> None:
    registry = MethodRegistry()
    assert registry.error_for(RuntimeError("x")) is None
    mapped = registry.error_for(ChannelTimeout("slow"))
    assert mapped is not None and mapped.code is ErrorCode.TIMEOUT
    internal = registry.failure("spans.list", RuntimeError("oops"))
    assert internal.code is ErrorCode.INTERNAL
    assert internal.message == "internal error in spans.list: RuntimeError: oops"
