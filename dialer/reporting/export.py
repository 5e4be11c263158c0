"""Report rows as files a spreadsheet opens: CSV and XLSX.

CSV goes through :mod:`trunkline.csvsafe` (a text cell starting with ``=``, ``+``,
``-`` or ``@`` gets a leading apostrophe: OWASP "CSV Injection"). In XLSX every text
cell is written as a string cell (``t="s"``/inline), which a spreadsheet never evaluates
as a formula, and the same apostrophe is added so a sheet copied to CSV stays safe;
numbers stay numbers. Columns are the union of the rows' keys, in first-seen order.
A workbook in zh-CN titles its sheets and columns in Chinese (:mod:`.export_words`); the
CSV keeps the keys, which scripts read.
"""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence
from typing import Any

from openpyxl import Workbook  # type: ignore[import-untyped]
from openpyxl.cell.cell import TYPE_STRING  # type: ignore[import-untyped]
from openpyxl.styles import Font  # type: ignore[import-untyped]

from trunkline import csvsafe
from trunkline.dialer.reporting.export_words import titles

#: Excel's sheet names: at most 31 characters, none of these.
_SHEET_BAD = set('[]:*?/\\')


def columns(rows: Sequence[Mapping[str, Any]]) -> list[str]:
    seen: dict[str, None] = {}
    for row in rows:
        for key in row:
            seen.setdefault(key, None)
    return list(seen)


def _cell(value: Any) -> Any:
    if isinstance(value, list | tuple | dict):
        return str(value)
    return value


def to_csv(rows: Sequence[Mapping[str, Any]]) -> str:
    """One CSV text with a header row (empty for no rows)."""
    out = io.StringIO()
    names = columns(rows)
    if not names:
        return ""
    writer = csvsafe.writer(out)
    writer.writerow(names)
    for row in rows:
        writer.writerow(["" if row.get(k) is None else _cell(row.get(k)) for k in names])
    return out.getvalue()


def sheet_name(name: str) -> str:
    clean = "".join("_" if ch in _SHEET_BAD else ch for ch in name).strip("'") or "report"
    return clean[:31]


def to_xlsx(sheets: Mapping[str, Sequence[Mapping[str, Any]]], lang: str = "en") -> bytes:
    """A workbook with one sheet per entry (name -> rows), header bold and frozen; sheet
    names and column titles in ``lang`` (``en``: the names and keys as they are)."""
    sheet_titles, column_titles = titles(lang)
    book = Workbook()
    book.remove(book.active)
    for title, rows in sheets.items():
        ws = book.create_sheet(sheet_name(sheet_titles.get(title, title)))
        names = columns(rows)
        ws.append([column_titles.get(key, key) for key in names])
        for cell in ws[1]:
            cell.font = Font(bold=True)
        ws.freeze_panes = "A2"
        for r, row in enumerate(rows, 2):
            for c, key in enumerate(names, 1):
                value = _cell(row.get(key))
                cell = ws.cell(row=r, column=c)
                if isinstance(value, str):
                    cell.value = csvsafe.spreadsheet_safe(value)
                    cell.data_type = TYPE_STRING  # never a formula
                else:
                    cell.value = value
        for c, key in enumerate(names, 1):
            # a CJK character takes about two columns' width
            head = column_titles.get(key, key)
            width = max([len(head) + sum(ord(ch) > 0x2e7f for ch in head)]
                        + [len(str(row.get(key, ""))) for row in rows[:200]])
            ws.column_dimensions[ws.cell(row=1, column=c).column_letter].width = \
                min(40, width + 2)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
