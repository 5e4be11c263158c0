"""The method registry: names, roles and parameter schemas of gateway methods.

The telephony side declares each method once, with the role it needs and its parameters::

    registry = MethodRegistry()

    @registry.method("call.hangup", role="control", params={
        "call": Param(int, required=True, doc="call id"),
        "cause": Param(int, default=16, minimum=1, maximum=127, doc="Q.850 cause"),
    })
    async def hangup(session, call, cause): ...

The registry checks the caller's role and every parameter before the handler runs, so a
handler receives only values of the declared types (and never a missing required one);
errors name the method, the parameter, what was expected and what came. A handler
answers a failure by raising :class:`RpcError` (``raise RpcError("not_found", "no call
17")``); exceptions registered with :meth:`MethodRegistry.map_exception` are converted to
their code; anything else is an ``internal`` error, logged with its traceback.

Roles are ordered: ``monitor`` (read and subscribe) < ``control`` (place and handle
calls) < ``admin`` (maintenance); a method needing ``control`` is open to ``admin`` too.
"""

from __future__ import annotations

import copy
import inspect
import math
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from enum import IntEnum
from typing import Any, Protocol

import structlog

from trunkline.errors import (
    AudioFileError,
    ChannelError,
    ChannelOutOfService,
    ChannelStateError,
    ChannelTimeout,
    ConfigError,
    InvalidRequest,
    NotFound,
    NumberFormatError,
    StateConflict,
    TrunklineError,
    Unsupported,
)
from trunkline.gateway.rpc.errors import ErrorCode, RpcError

log = structlog.get_logger("trunkline.gateway.rpc")

__all__ = ["MethodRegistry", "MethodSpec", "Param", "Role", "RpcError"]


class Role(IntEnum):
    """What a connection may do; higher includes lower."""

    MONITOR = 1
    CONTROL = 2
    ADMIN = 3

    @classmethod
    def parse(cls, role: str | Role) -> Role:
        """``"control"`` -> Role.CONTROL; ValueError naming the known roles otherwise."""
        if isinstance(role, cls):
            return role
        if isinstance(role, str):
            try:
                return cls[role.upper()]
            except KeyError:
                pass
        raise ValueError(f"unknown role {role!r}; expected monitor, control or admin")

    def __str__(self) -> str:
        return self.name.lower()


class Caller(Protocol):
    """Who calls a method, as the registry sees it: a socket's Session, or the in-process
    gateway's LocalSession. Only the role is read; handlers get the caller as it is."""

    @property
    def role(self) -> Role | None: ...


_TYPE_NAMES = {
    str: "string", int: "integer", float: "number", bool: "boolean", dict: "map",
    list: "array", bytes: "bytes",
}


def _type_name(types: tuple[type, ...]) -> str:
    return " or ".join(_TYPE_NAMES.get(t, t.__name__) for t in types)


def _describe(value: Any) -> str:
    text = repr(value)
    if len(text) > 40:
        text = text[:37] + "..."
    return f"{_TYPE_NAMES.get(type(value), type(value).__name__)} {text}"


_MISSING: Any = object()


#: The integers a parameter may carry (signed 64-bit, SQLite's INTEGER).
INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1


@dataclass(frozen=True, slots=True)
class Param:
    """One parameter of a method.

    ``type`` is a class or a tuple of classes (``str``, ``int``, ``float``, ``bool``,
    ``dict``, ``list``, ``bytes``). ``int`` refuses booleans; ``float`` accepts integers
    and converts them. A parameter that is absent, or sent as nil, takes ``default``
    (deep-copied on each call, so ``default={}`` is safe) unless ``required``. ``minimum``
    and ``maximum`` bound numbers (inclusive) and the length of strings and arrays;
    ``choices`` restricts the value to a set; ``items`` is the type of an array's items.
    """

    type: type | tuple[type, ...]
    required: bool = False
    default: Any = None
    doc: str = ""
    minimum: float | None = None
    maximum: float | None = None
    choices: Sequence[Any] | None = None
    items: type | tuple[type, ...] | None = None

    def __post_init__(self) -> None:
        types = self.type if isinstance(self.type, tuple) else (self.type,)
        for t in types:
            if not isinstance(t, type):
                raise TypeError(f"Param type must be a class or a tuple of classes, got {t!r}")
        if self.required and self.default is not None:
            raise ValueError("a required Param cannot have a default")

    @property
    def types(self) -> tuple[type, ...]:
        return self.type if isinstance(self.type, tuple) else (self.type,)

    def check(self, method: str, name: str, value: Any) -> Any:
        """Return ``value`` (converted where documented) or raise invalid_params."""

        def fail(expected: str) -> RpcError:
            return RpcError(
                ErrorCode.INVALID_PARAMS,
                f"{method}: parameter {name!r} must be {expected}, got {_describe(value)}",
                data={"param": name},
            )

        value = self._coerce(value, self.types, fail)
        if self.choices is not None and value not in self.choices:
            raise fail("one of " + ", ".join(repr(c) for c in self.choices))
        if self.items is not None and isinstance(value, list):
            item_types = self.items if isinstance(self.items, tuple) else (self.items,)
            converted = []
            for index, item in enumerate(value):

                def fail_item(expected: str, index: int = index, item: Any = item) -> RpcError:
                    return RpcError(
                        ErrorCode.INVALID_PARAMS,
                        f"{method}: parameter {name!r} item {index} must be {expected}, "
                        f"got {_describe(item)}",
                        data={"param": name, "index": index},
                    )

                converted.append(self._coerce(item, item_types, fail_item))
            value = converted
        size = len(value) if isinstance(value, str | list | bytes | dict) else value
        if isinstance(size, int | float) and not isinstance(size, bool):
            what = "length " if size is not value else ""
            if self.minimum is not None and size < self.minimum:
                raise fail(f"of {what}>= {self.minimum}")
            if self.maximum is not None and size > self.maximum:
                raise fail(f"of {what}<= {self.maximum}")
        return value

    @staticmethod
    def _coerce(value: Any, types: tuple[type, ...], fail: Callable[[str], RpcError]) -> Any:
        for t in types:
            if t is int and isinstance(value, int) and not isinstance(value, bool):
                # What SQLite, msgpack and the card can hold: a bigger integer would
                # only fail later, deep inside, as an internal error.
                if not INT64_MIN <= value <= INT64_MAX:
                    raise fail("a 64-bit integer")
                return value
            if t is float and isinstance(value, int | float) and not isinstance(value, bool):
                # NaN compares false with every bound, and infinity passes a minimum: a
                # ring_timeout of either would ring for ever.
                if not math.isfinite(value):
                    raise fail("a finite number")
                return float(value)
            if t is bool and isinstance(value, bool):
                return value
            if t not in (int, float, bool) and isinstance(value, t):
                return value
        raise fail(_type_name(types))

    def default_value(self) -> Any:
        return copy.deepcopy(self.default)

    def describe(self) -> dict[str, Any]:
        """A msgpack-able description, for the ``methods`` built-in and the docs."""
        out: dict[str, Any] = {"type": _type_name(self.types), "required": self.required}
        if self.default is not None:
            out["default"] = self.default
        for key in ("doc", "minimum", "maximum"):
            if getattr(self, key) not in (None, ""):
                out[key] = getattr(self, key)
        if self.choices is not None:
            out["choices"] = list(self.choices)
        return out


Handler = Callable[..., Any]


@dataclass(slots=True)
class MethodSpec:
    """A registered method: its name, role, parameter schema and handler."""

    name: str
    handler: Handler
    role: Role = Role.MONITOR
    params: Mapping[str, Param] = field(default_factory=dict)
    doc: str = ""
    #: true when the handler is a coroutine function (the server runs it as a task)
    is_async: bool = False
    #: false for built-ins that must run before authentication (``auth``)
    needs_auth: bool = True

    def validate(self, params: Mapping[str, Any]) -> dict[str, Any]:
        """Return the keyword arguments for the handler, or raise invalid_params."""
        unknown = [k for k in params if k not in self.params]
        if unknown:
            known = ", ".join(self.params) or "none"
            raise RpcError(
                ErrorCode.INVALID_PARAMS,
                f"{self.name}: unknown parameter {unknown[0]!r} (parameters: {known})",
                data={"param": unknown[0]},
            )
        kwargs: dict[str, Any] = {}
        for name, param in self.params.items():
            value = params.get(name)
            if value is None:
                if param.required:
                    raise RpcError(
                        ErrorCode.INVALID_PARAMS,
                        f"{self.name}: missing required parameter {name!r} "
                        f"({_type_name(param.types)}{': ' + param.doc if param.doc else ''})",
                        data={"param": name},
                    )
                kwargs[name] = param.default_value()
            else:
                kwargs[name] = param.check(self.name, name, value)
        return kwargs

    def describe(self) -> dict[str, Any]:
        return {
            "name": self.name, "role": str(self.role), "doc": self.doc,
            "params": {k: p.describe() for k, p in self.params.items()},
        }


#: The one table from trunkline's domain errors (trunkline/errors.py) to wire codes:
#: nothing below the service raises wire errors. The most specific class of an
#: exception that is listed decides (a NumberFormatError is invalid_params although it
#: is also a TrunklineError); anything not listed is ``internal``.
DEFAULT_EXCEPTION_CODES: tuple[tuple[type[BaseException], ErrorCode], ...] = (
    (InvalidRequest, ErrorCode.INVALID_PARAMS),
    (NumberFormatError, ErrorCode.INVALID_PARAMS),
    (ConfigError, ErrorCode.INVALID_PARAMS),
    (AudioFileError, ErrorCode.INVALID_PARAMS),
    (NotFound, ErrorCode.NOT_FOUND),
    (StateConflict, ErrorCode.CONFLICT),
    (ChannelStateError, ErrorCode.CONFLICT),
    (ChannelOutOfService, ErrorCode.UNAVAILABLE),
    (Unsupported, ErrorCode.UNAVAILABLE),
    (ChannelTimeout, ErrorCode.TIMEOUT),
    (ChannelError, ErrorCode.CONFLICT),
    (TrunklineError, ErrorCode.CONFLICT),
)


class MethodRegistry:
    """The methods a gateway offers, by name.

    Register with the :meth:`method` decorator or :meth:`register`. Handlers are called as
    ``handler(session, **params)`` and may be plain functions (run inline on the event
    loop: they must not block) or coroutine functions (run as a task per request). The
    return value must be msgpack-able (None, bool, int, float, str, bytes, list, dict).
    """

    def __init__(self) -> None:
        self._methods: dict[str, MethodSpec] = {}
        self._exception_codes: dict[type[BaseException], ErrorCode] = dict(
            DEFAULT_EXCEPTION_CODES)

    def method(
        self, name: str, *, role: str | Role = Role.MONITOR,
        params: Mapping[str, Param] | None = None, doc: str | None = None,
    ) -> Callable[[Handler], Handler]:
        """Decorator form of :meth:`register`; returns the function unchanged."""

        def decorate(func: Handler) -> Handler:
            self.register(name, func, role=role, params=params, doc=doc)
            return func

        return decorate

    def register(
        self, name: str, handler: Handler, *, role: str | Role = Role.MONITOR,
        params: Mapping[str, Param] | None = None, doc: str | None = None,
        needs_auth: bool = True,
    ) -> MethodSpec:
        """Add a method. Raises ValueError for a duplicate name or a bad schema."""
        if not isinstance(name, str) or not name:
            raise ValueError(f"method name must be a non-empty string, got {name!r}")
        if name in self._methods:
            raise ValueError(f"method {name!r} is already registered")
        params = dict(params or {})
        for pname, param in params.items():
            if not isinstance(param, Param):
                raise TypeError(f"{name}: parameter {pname!r} must be a Param, got {param!r}")
        if doc is None:
            doc = inspect.cleandoc(handler.__doc__ or "").split("\n\n")[0]
        spec = MethodSpec(
            name=name, handler=handler, role=Role.parse(role), params=params, doc=doc,
            is_async=inspect.iscoroutinefunction(handler), needs_auth=needs_auth,
        )
        self._methods[name] = spec
        return spec

    def map_exception(self, exc_type: type[BaseException], code: str | int | ErrorCode) -> None:
        """Answer ``exc_type`` (and subclasses not mapped themselves) with ``code``.

        The exception's text becomes the message; the most specific mapping wins.
        """
        self._exception_codes[exc_type] = ErrorCode.parse(code)

    def failure(self, method: str, exc: Exception) -> RpcError:
        """What the caller of ``method`` is told about ``exc``: its mapped code, or
        ``internal`` naming the method and the exception (also logged)."""
        mapped = self.error_for(exc)
        if mapped is not None:
            return mapped
        log.error("gateway.handler_failed", method=method, exc_info=exc)
        return RpcError(ErrorCode.INTERNAL,
                        f"internal error in {method}: {type(exc).__name__}: {exc}")

    def error_for(self, exc: BaseException) -> RpcError | None:
        """The RpcError a handler exception maps to, or None for an unexpected one."""
        if isinstance(exc, RpcError):
            return exc
        for exc_type in type(exc).__mro__:
            code = self._exception_codes.get(exc_type)
            if code is not None:
                return RpcError(code, str(exc) or type(exc).__name__)
        return None

    def get(self, name: str) -> MethodSpec | None:
        return self._methods.get(name)

    def __contains__(self, name: object) -> bool:
        return name in self._methods

    def __iter__(self) -> Iterator[MethodSpec]:
        return iter(self._methods.values())

    def __len__(self) -> int:
        return len(self._methods)

    def names(self) -> list[str]:
        return sorted(self._methods)

    def lookup(self, name: str, role: Role | None) -> MethodSpec:
        """The method, after checking that ``role`` may call it.

        Raises unknown_method, or forbidden naming the role needed and the role held.
        """
        spec = self._methods.get(name)
        if spec is None:
            raise RpcError(ErrorCode.UNKNOWN_METHOD, f"unknown method {name!r:.80}")
        if role is None or role < spec.role:
            held = "none" if role is None else str(role)
            raise RpcError(
                ErrorCode.FORBIDDEN,
                f"method {name!r} needs role {spec.role}; this connection has role {held}",
            )
        return spec

    async def dispatch(self, session: Caller, name: str, params: Mapping[str, Any]) -> Any:
        """Look up, authorise, validate and run one method; return its result.

        Raises RpcError for every failure, exactly as the socket server answers it:
        mapped exceptions with their code, anything else as ``internal``.
        """
        spec = self.lookup(name, session.role)
        kwargs = spec.validate(params)
        try:
            result = spec.handler(session, **kwargs)
            if inspect.isawaitable(result):
                result = await result
        except RpcError:
            raise
        except Exception as exc:
            raise self.failure(spec.name, exc) from exc
        return result
