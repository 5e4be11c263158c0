"""CSV that a spreadsheet opens as text: no cell is taken for a formula.

A cell beginning with ``=``, ``+``, ``-``, ``@`` (or a tab or carriage return, which some
spreadsheets skip before looking) is run as a formula when the file is opened: a
campaign named ``=HYPERLINK(...)`` in a report becomes a link, a contact's field a
command (OWASP, "CSV Injection"). Such text cells get a leading apostrophe, which
spreadsheets show as text; numbers written as numbers are left alone. Every CSV file
trunkline writes goes through :func:`writer` or :func:`dict_writer`, and the list
importer drops the apostrophe again from a number cell (a rejected-rows file, fixed and
imported again, reads back as written).
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Mapping
from typing import Any

__all__ = ["FORMULA_STARTS", "dict_writer", "spreadsheet_safe", "writer"]

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_safe(value: Any) -> Any:
    """``value`` with a leading apostrophe when it is text a spreadsheet would run (a
    lone sign, as reports write for "none", and a negative number such as ``-3.5`` are
    not formulas and stay as they are)."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS) and len(value) > 1 \
            and not _is_number(value):
        return "'" + value
    return value


def _is_number(text: str) -> bool:
    """A negative number as reports print it (``-3.5``); a leading ``+`` is kept as text:
    that is how phone numbers (E.164) come, and a spreadsheet would turn them into
    numbers that lose their ``+`` and their last digits."""
    if not text.startswith("-"):
        return False
    try:
        float(text)
    except ValueError:
        return False
    return text[1:2].isdigit() or text[1:2] == "."


class _Writer:
    def __init__(self, inner: Any) -> None:
        self._inner = inner

    def writerow(self, row: Iterable[Any]) -> Any:
        return self._inner.writerow([spreadsheet_safe(v) for v in row])

    def writerows(self, rows: Iterable[Iterable[Any]]) -> None:
        for row in rows:
            self.writerow(row)


class _DictWriter:
    def __init__(self, inner: csv.DictWriter) -> None:
        self._inner = inner

    def writeheader(self) -> Any:
        return self._inner.writerow({k: spreadsheet_safe(k) for k in self._inner.fieldnames})

    def writerow(self, row: Mapping[str, Any]) -> Any:
        return self._inner.writerow({k: spreadsheet_safe(v) for k, v in row.items()})

    def writerows(self, rows: Iterable[Mapping[str, Any]]) -> None:
        for row in rows:
            self.writerow(row)


def writer(out: Any, **options: Any) -> _Writer:
    """``csv.writer`` whose cells are :func:`spreadsheet_safe`."""
    return _Writer(csv.writer(out, **options))


def dict_writer(out: Any, fieldnames: Iterable[str], **options: Any) -> _DictWriter:
    """``csv.DictWriter`` whose cells (and header) are :func:`spreadsheet_safe`."""
    return _DictWriter(csv.DictWriter(out, list(fieldnames), **options))
