"""Configuration tables checked against the dataclass they fill, with one message format.

A TOML table that becomes a dataclass (a campaign's ``[strategy]`` is a ``Strategy``,
its ``[campaign]`` a ``CampaignConfig`` and ``RunnerSettings``) is checked here, key by
key, against the field types the dataclass declares, before the dataclass is built:
a wrong type is refused as ``FILE:LINE: [table] key: expected ..., got ...`` instead of
surfacing later as a Python error (``'<' not supported between instances of 'str' and
'int'`` for ``max_attempts = "5"``), a traceback (a time zone that does not exist), or
not at all (``best_time = "no"`` is truthy; ``max_per_day = 1.5`` was saved). The range
checks stay in the dataclasses; :func:`located` gives their messages the same shape.
(issue 15, red-team 12.)
"""

from __future__ import annotations

import dataclasses
import enum
import math
import types
import typing
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from trunkline.errors import ConfigError
from trunkline.tomlconf import TomlDocument


def describe(value: Any) -> str:
    """How a TOML value reads in a message: ``the string '5'``, ``the number 1.5``."""
    if isinstance(value, bool):
        return f"the boolean {str(value).lower()}"
    if isinstance(value, str):
        return f"the string {value!r:.60}"
    if isinstance(value, int | float):
        return f"the number {value!r}"
    if isinstance(value, Mapping):
        return "a table"
    if isinstance(value, list):
        return "an array"
    return f"{type(value).__name__} {value!r:.40}"


@dataclasses.dataclass(frozen=True)
class Expect:
    """What a key must hold: ``test(value)`` and how to say it."""

    what: str
    test: Callable[[Any], bool]


def _is_int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _is_number(v: Any) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v)


def _is_zone(v: Any) -> bool:
    try:
        ZoneInfo(v)
    except (ZoneInfoNotFoundError, ValueError, TypeError):
        return False
    return True


ZONE = Expect("a time zone of the IANA database (such as 'Asia/Shanghai')",
              lambda v: isinstance(v, str) and _is_zone(v))


def expect_of(tp: Any) -> Expect | None:
    """The expectation for a field annotated ``tp`` (None: anything goes)."""
    origin = typing.get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        parts = [expect_of(a) for a in typing.get_args(tp) if a is not type(None)]
        if any(p is None for p in parts):
            return None
        known = [p for p in parts if p is not None]
        return Expect(" or ".join(p.what for p in known),
                      lambda v: any(p.test(v) for p in known))
    if origin is not None:
        tp = origin
    if tp is bool:
        return Expect("true or false", lambda v: isinstance(v, bool))
    if tp is int:
        return Expect("a whole number", _is_int)
    if tp is float:
        return Expect("a finite number", _is_number)
    if isinstance(tp, type) and issubclass(tp, enum.Enum):
        values = [str(m.value) for m in tp]
        return Expect("one of " + ", ".join(values), lambda v: str(v) in values
                      and isinstance(v, str))
    if tp is str:
        return Expect("a string", lambda v: isinstance(v, str))
    if isinstance(tp, type) and issubclass(tp, Mapping | dict):
        return Expect("a table", lambda v: isinstance(v, Mapping))
    if isinstance(tp, type) and (dataclasses.is_dataclass(tp)):
        return Expect("a table", lambda v: isinstance(v, Mapping))
    if isinstance(tp, type) and issubclass(tp, list | tuple | Sequence) and tp is not str:
        return Expect("an array", lambda v: isinstance(v, list))
    return None


def check_table(doc: TomlDocument, table: Any, path: Sequence[str], cls: type, *,
                extra: Mapping[str, Expect] | None = None,
                skip: Iterable[str] = ()) -> None:
    """Check every key of ``table`` (at ``path`` in ``doc``) that is a field of the
    dataclass ``cls`` against the field's type (``extra`` overrides or adds keys).
    Unknown keys are left to the caller (it knows what else the table may hold)."""
    label = "[" + ".".join(path) + "]"
    if not isinstance(table, Mapping):
        raise doc.error(f"{label}: expected a table, got {describe(table)}", path)
    hints = typing.get_type_hints(cls)
    fields = {f.name for f in dataclasses.fields(cls)} - set(skip)
    for key, value in table.items():
        expect = (extra or {}).get(key)
        if expect is None and key in fields:
            expect = expect_of(hints.get(key))
        if expect is not None and not expect.test(value):
            raise doc.error(f"{label} {key}: expected {expect.what}, got {describe(value)}",
                            (*path, key))


def located(doc: TomlDocument, path: Sequence[str], table: Mapping[str, Any],
            err: Exception) -> ConfigError:
    """``err`` (a dataclass's range check) as a :class:`ConfigError` of ``doc`` at the
    first key of ``table`` its message names (else at the table)."""
    text = str(err)
    label = "[" + ".".join(path) + "]"
    for key in table:
        # a key is named as itself, or in the singular ("window mon: ...")
        if key in text or (key.endswith("s") and text.startswith(key[:-1])) \
                or (key == "retries" and "retry" in text):
            return doc.error(f"{label} {key}: {text}", (*path, key))
    return doc.error(f"{label}: {text}", path)
