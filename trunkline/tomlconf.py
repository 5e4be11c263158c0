"""TOML loading with line numbers, so configuration errors can say where to look.

:mod:`tomllib` parses but forgets positions. :class:`LineIndex` re-reads the text to map
each key path (``("subscriber", 2, "talk")``) to its 1-based line, which every
configuration validator uses to name the line of an unknown key or a bad value.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from trunkline.errors import ConfigError

KeyPath = tuple[str | int, ...]

_TABLE = re.compile(r"^\s*(\[\[?)\s*([^\]]+?)\s*\]\]?\s*(#.*)?$")
_KEY = re.compile(r"""^\s*("[^"]*"|'[^']*'|[A-Za-z0-9_.\-" ]+?)\s*=""")


def _split_dotted(key: str) -> list[str]:
    parts = []
    for part in re.findall(r'"[^"]*"|\'[^\']*\'|[^.]+', key):
        part = part.strip()
        if part[:1] in "\"'":
            part = part[1:-1]
        parts.append(part)
    return parts


@dataclass
class LineIndex:
    """Where each key of a TOML document stands."""

    lines: dict[KeyPath, int] = field(default_factory=dict)

    @classmethod
    def of(cls, text: str) -> LineIndex:
        index = cls()
        table: list[str | int] = []
        array_counts: dict[tuple[str | int, ...], int] = {}
        in_multiline: str | None = None
        for number, raw in enumerate(text.splitlines(), start=1):
            line = raw
            if in_multiline is not None:
                if line.count(in_multiline) % 2 == 1:
                    in_multiline = None
                continue
            if (m := _TABLE.match(line)) and not _KEY.match(line):
                names = _split_dotted(m.group(2))
                is_array = m.group(1) == "[["
                # Resolve the header against arrays of tables seen so far: [[span.port]]
                # belongs to the latest [[span]] element.
                resolved: list[str | int] = []
                for i, name in enumerate(names):
                    resolved.append(name)
                    last = i == len(names) - 1
                    base = tuple(resolved)
                    if last and is_array:
                        position = array_counts.get(base, 0)
                        array_counts[base] = position + 1
                        resolved.append(position)
                    elif base in array_counts:
                        resolved.append(array_counts[base] - 1)
                table = resolved
                index.lines.setdefault(tuple(table), number)
                continue
            if m := _KEY.match(line):
                path = (*table, *_split_dotted(m.group(1)))
                index.lines.setdefault(path, number)
                rest = line[m.end():]
                for quote in ('"""', "'''"):
                    if rest.count(quote) % 2 == 1:
                        in_multiline = quote
        return index

    def line_of(self, path: Iterable[str | int]) -> int | None:
        """The line of ``path``, or of its nearest enclosing key or table."""
        key = tuple(path)
        while key:
            if key in self.lines:
                return self.lines[key]
            key = key[:-1]
        return None


@dataclass(frozen=True)
class TomlDocument:
    """A parsed TOML document that remembers where it came from."""

    data: dict[str, Any]
    source: str
    index: LineIndex
    error_type: type[ConfigError] = ConfigError

    def error(self, message: str, path: Iterable[str | int] = ()) -> ConfigError:
        """A :class:`ConfigError` naming this document, the key and its line."""
        path = tuple(path)
        key = ".".join(str(p) for p in path if isinstance(p, str)) or None
        return self.error_type(
            message, source=self.source, key=key, line=self.index.line_of(path)
        )


def parse_toml(text: str, source: str = "<string>",
               error_type: type[ConfigError] = ConfigError) -> TomlDocument:
    """Parse ``text``; a syntax error becomes an ``error_type`` with its line.

    Errors the document raises later (:meth:`TomlDocument.error`) are of the same type.
    """
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        m = re.search(r"line (\d+)", str(err))
        raise error_type(
            f"not valid TOML: {err}", source=source, line=int(m.group(1)) if m else None
        ) from err
    return TomlDocument(data, source, LineIndex.of(text), error_type)


def load_toml(path: str | Path, error_type: type[ConfigError] = ConfigError) -> TomlDocument:
    """Read and parse a TOML file; a missing or unreadable file is an ``error_type``."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError as err:
        raise error_type("no such file", source=str(path)) from err
    except IsADirectoryError as err:
        raise error_type("is a directory, not a file", source=str(path)) from err
    except (OSError, UnicodeDecodeError) as err:
        raise error_type(f"cannot read: {err}", source=str(path)) from err
    return parse_toml(text, str(path), error_type)


def describe_path(path: Iterable[str | int]) -> str:
    """``("subscriber", 1, "talk")`` as ``subscriber[1].talk`` (0-based, as in the data)."""
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else part)
    return out


def reject_unknown_keys(
    doc: TomlDocument, table: Mapping[str, Any], allowed: Iterable[str],
    path: tuple[str | int, ...] = (),
) -> None:
    """Raise naming the first key of ``table`` not in ``allowed``, with its line."""
    allowed = set(allowed)
    for key in table:
        if key not in allowed:
            where = f" in {describe_path(path)}" if path else ""
            raise doc.error(
                f"unknown key {key!r}{where}; expected one of: {', '.join(sorted(allowed))}",
                (*path, key),
            )
