"""A contact list uploaded through the API (issue 18 item 5): CSV or XLSX bytes imported
as ``trunkline dialer import`` imports a file, with the same parser, number rules
and one transaction, and every rejected row returned with its line and reason (the page
shows them; nothing is written beside the file, as there is no file).

An XLSX workbook's first sheet is read as the rows of a CSV file (openpyxl, values not
formulas): a number cell holding a phone number (13812345678 stored as a number) becomes
its digits, a date its ISO form, an empty cell an empty string.
"""

from __future__ import annotations

import csv
import hashlib
import io
from datetime import date, datetime
from typing import Any

from trunkline.dialer.campaigns.lists import ImportReport, ListImportError, decode, parse
from trunkline.dialer.store import Store

#: An XLSX file is a ZIP archive (ECMA-376 part 2, Open Packaging Conventions).
ZIP_MAGIC = b"PK\x03\x04"
#: The most rows read from a workbook (a sheet's dimension can claim a million rows).
MAX_ROWS = 1_000_000


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime | date):
        return value.isoformat()
    return str(value)


def xlsx_text(data: bytes, *, source: str) -> str:
    """The first sheet of an XLSX workbook as CSV text. Raises ListImportError."""
    from openpyxl import load_workbook  # type: ignore[import-untyped]

    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as err:  # openpyxl raises zipfile, KeyError, ValueError...
        raise ListImportError(f"not a readable XLSX workbook: {err}", source=source) from err
    try:
        if not book.worksheets:
            raise ListImportError("the workbook has no sheet", source=source)
        out = io.StringIO()
        writer = csv.writer(out)
        for n, row in enumerate(book.worksheets[0].iter_rows(values_only=True)):
            if n >= MAX_ROWS:
                raise ListImportError(f"more than {MAX_ROWS} rows", source=source)
            writer.writerow([_cell(v) for v in row])
        return out.getvalue()
    finally:
        book.close()


def import_upload(store: Store, campaign: str, data: bytes, *, filename: str, now: float,
                  list_name: str | None = None, number_column: str | None = None,
                  default_country: str = "86", encoding: str | None = None
                  ) -> ImportReport:
    """Import uploaded bytes (XLSX when they are a ZIP archive, else CSV text in
    ``encoding`` or the one detected) into ``campaign``; ``errors`` are the rows refused.
    The same bytes imported again are refused (a double click does not double a list)."""
    digest = hashlib.sha256(data).hexdigest()
    source = f"{filename} sha256:{digest}"
    if store.query("SELECT 1 FROM list WHERE campaign_id=? AND source=? AND removed_at IS NULL",
                   (store.campaign_id(campaign), source)):
        raise ListImportError("this exact file was imported into the campaign already",
                              source=filename)
    if data.startswith(ZIP_MAGIC):
        text, used = xlsx_text(data, source=filename), "xlsx"
    else:
        text, used = decode(data, encoding, source=filename)
    report = ImportReport(filename, used)
    good, bad, _headers, seen = parse(text, source=filename, number_column=number_column,
                                      default_country=default_country)
    report.rows = seen
    report.errors = bad
    numbers = [row.number for row in good]
    report.duplicates_in_file = len(numbers) - len(set(numbers))
    counts = store.add_list(campaign, list_name or filename, good, now=now, source=source,
                            errors=[(e.line, e.reason, ",".join(e.raw), e.code) for e in bad])
    report.added, report.merged = counts["added"], counts["merged"]
    return report
