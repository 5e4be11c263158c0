"""List import (名单导入): CSV files by hand or from a watched folder.

Host systems export lists in whatever their locale uses, so the importer accepts UTF-8
(with or without the BOM Excel writes), UTF-16 with a BOM (Excel's "Unicode text") and
GB18030, the superset of GBK and GB2312 that Chinese Windows systems write. The separator
is sniffed among ``,`` ``;`` and tab.

Rules (issue 7 item 2; DESIGN.md principle 5 "nothing lost, nothing silent"):

- the number column is found by name (``number``, ``phone``, ``mobile``, ``电话``,
  ``手机号码``...; or given with ``number_column``); without one the whole file is refused,
  naming the headers it has;
- every other column is kept and travels with the contact to the agent's screen;
- each bad row is reported with its line number (the line where the record starts) and the
  reason, and written to ``FILE.rejected.csv`` beside the file with ``_line`` and
  ``_reason`` columns; the good rows are imported all together in one transaction;
- numbers are normalised to E.164 (:mod:`trunkline.dialer.campaigns.numbers`), and duplicates within
  the file and with the campaign's earlier lists are merged into one contact.
"""

from __future__ import annotations

import codecs
import contextlib
import csv
import hashlib
import io
import os
import shutil
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from trunkline import csvsafe
from trunkline.dialer.campaigns.numbers import try_normalise
from trunkline.dialer.store import NewContact, Store
from trunkline.errors import ConfigError

#: Header names (compared case-insensitively, spaces and ``-`` as ``_``) per role.
NUMBER_HEADERS = ("number", "phone", "phone_number", "phonenumber", "mobile", "tel",
                  "telephone", "msisdn", "电话", "手机", "手机号", "手机号码", "电话号码",
                  "号码", "联系电话")
ZONE_HEADERS = ("time_zone", "timezone", "tz", "时区")
PRIORITY_HEADERS = ("priority", "优先级")
AREA_HEADERS = ("area_code", "区号")

ENCODINGS = ("utf-8-sig", "gb18030")


class ListImportError(ConfigError):
    """The file as a whole cannot be imported (encoding, no number column, empty)."""


@dataclass(frozen=True, slots=True)
class RowError:
    line: int
    reason: str
    raw: Sequence[str]


@dataclass(slots=True)
class ImportReport:
    """What an import did; ``errors`` in file order."""

    source: str
    encoding: str
    rows: int = 0
    added: int = 0
    merged: int = 0           # duplicates merged (within the file and with earlier lists)
    duplicates_in_file: int = 0
    errors: list[RowError] = field(default_factory=list)
    rejected_file: Path | None = None
    skipped_already_imported: bool = False

    def summary(self) -> dict[str, object]:
        return {"source": self.source, "encoding": self.encoding, "rows": self.rows,
                "added": self.added, "merged": self.merged,
                "duplicates_in_file": self.duplicates_in_file, "rejected": len(self.errors),
                "rejected_file": str(self.rejected_file) if self.rejected_file else None,
                "already_imported": self.skipped_already_imported}


def decode(data: bytes, encoding: str | None = None, *, source: str = "<bytes>"
           ) -> tuple[str, str]:
    """Decode a list file: ``(text, encoding used)``; refuses rather than guessing wrong."""
    if encoding:
        try:
            return data.decode(encoding), encoding
        except (UnicodeDecodeError, LookupError) as err:
            raise ListImportError(f"cannot decode as {encoding}: {err}", source=source) from err
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return data.decode("utf-16"), "utf-16"
    bom = data.startswith(codecs.BOM_UTF8)
    if bom:
        try:
            return data.decode("utf-8-sig"), "utf-8-sig"
        except UnicodeDecodeError:
            # A UTF-8 mark in front of GBK text (some Windows editors write one whatever
            # the encoding): read as GB18030 without the mark, which would otherwise
            # become garbage in the first header.
            body = data[len(codecs.BOM_UTF8):]
            try:
                return body.decode("gb18030"), "gb18030 (after a UTF-8 BOM)"
            except UnicodeDecodeError:
                raise ListImportError(
                    "the file starts with a UTF-8 byte order mark (BOM) but is neither "
                    "UTF-8 nor GB18030/GBK after it; save it as UTF-8 or give --encoding",
                    source=source) from None
    for candidate in ENCODINGS:
        try:
            return data.decode(candidate), candidate
        except UnicodeDecodeError:
            continue
    raise ListImportError("cannot decode the file as UTF-8 or GB18030/GBK; give --encoding",
                          source=source)


def _key(header: str) -> str:
    return header.strip().lower().replace(" ", "_").replace("-", "_")


def _find(headers: list[str], names: Sequence[str]) -> int | None:
    keys = [_key(h) for h in headers]
    for name in names:
        if name in keys:
            return keys.index(name)
    return None


def parse(text: str, *, source: str = "<string>", number_column: str | None = None,
          default_country: str = "86", default_area: str | None = None
          ) -> tuple[list[NewContact], list[RowError], list[str], int]:
    """Parse CSV text: ``(good rows, bad rows, headers, rows seen)``. Pure: no store."""
    sample = text[:8192]
    try:
        delimiter = csv.Sniffer().sniff(sample, delimiters=",;\t").delimiter
    except csv.Error:
        delimiter = ","
    # Only the delimiter is guessed: the sniffer takes cells that begin with an
    # apostrophe (a spreadsheet's text mark, which our own rejected-rows files carry)
    # for quoting; CSV quotes with '"' (RFC 4180), as every spreadsheet writes it.
    reader = csv.reader(io.StringIO(text, newline=""), csv.excel, delimiter=delimiter)
    try:
        headers = [h.strip() for h in next(reader)]
    except StopIteration:
        raise ListImportError("the file is empty", source=source) from None
    except csv.Error as err:
        raise ListImportError(f"line 1: {err}", source=source, line=1) from err
    if number_column is not None:
        try:
            col = [h.strip() for h in headers].index(number_column)
        except ValueError:
            raise ListImportError(f"no column {number_column!r}; columns are {headers}",
                                  source=source, line=1) from None
    else:
        found = _find(headers, NUMBER_HEADERS)
        if found is None:
            raise ListImportError(
                f"no number column; looked for one of {', '.join(NUMBER_HEADERS[:8])}, ... "
                f"(or give --number-column); the columns are {headers}",
                source=source, line=1)
        col = found
    zone_col = _find(headers, ZONE_HEADERS)
    prio_col = _find(headers, PRIORITY_HEADERS)
    area_col = _find(headers, AREA_HEADERS)
    good: list[NewContact] = []
    bad: list[RowError] = []
    seen = 0
    while True:
        start = reader.line_num + 1
        try:
            row = next(reader)
        except StopIteration:
            break
        except csv.Error as err:
            bad.append(RowError(start, f"malformed CSV: {err}", []))
            seen += 1
            continue
        if not row or all(not cell.strip() for cell in row):
            continue  # blank lines carry nothing
        seen += 1
        if len(row) != len(headers):
            bad.append(RowError(start, f"{len(row)} fields, the header has {len(headers)}",
                                row))
            continue
        area = default_area
        if area_col is not None and row[area_col].strip():
            area = row[area_col].strip().lstrip("0")
        number, reason = try_normalise(row[col], default_country=default_country,
                                       default_area=area)
        if number is None:
            bad.append(RowError(start, f"{headers[col]}: {reason}", row))
            continue
        zone = number.time_zone
        if zone_col is not None and row[zone_col].strip():
            zone = row[zone_col].strip()
            try:
                ZoneInfo(zone)
            except (ZoneInfoNotFoundError, ValueError):
                bad.append(RowError(start, f"{headers[zone_col]}: unknown time zone {zone!r}",
                                    row))
                continue
        priority = 0
        if prio_col is not None and row[prio_col].strip():
            try:
                priority = int(row[prio_col])
            except ValueError:
                bad.append(RowError(start, f"{headers[prio_col]}: {row[prio_col]!r} is not "
                                    "a whole number", row))
                continue
        fields = {h: v.strip() for i, (h, v) in enumerate(zip(headers, row, strict=True))
                  if i not in (col, zone_col, prio_col)}
        fields["_raw_number"] = row[col].strip()
        good.append(NewContact(number.e164, fields, zone, start, priority))
    return good, bad, headers, seen


def _write_rejected(path: Path, bad: list[RowError], headers: list[str],
                    rejected_dir: str | Path | None, rejected_name: str | None
                    ) -> tuple[Path, Path]:
    """Write the rejected rows under a temporary name; (temporary, final) paths."""
    where = Path(rejected_dir) if rejected_dir is not None else path.parent
    out = where / (rejected_name or f"{path.stem}.rejected.csv")
    temporary = out.with_name(f".{out.name}.{os.getpid()}.part")
    try:
        where.mkdir(parents=True, exist_ok=True)
        with temporary.open("w", encoding="utf-8-sig", newline="") as fh:
            writer = csvsafe.writer(fh)
            writer.writerow(["_line", "_reason", *headers])
            for err in bad:
                writer.writerow([err.line, err.reason, *err.raw])
    except OSError as err:
        with contextlib.suppress(OSError):
            temporary.unlink()
        raise ListImportError(f"cannot write the rejected rows to {out}: {err.strerror}; "
                              "nothing was imported (the folder must be writable)",
                              source=str(path)) from err
    return temporary, out


def import_file(store: Store, campaign: str, path: str | Path, *, now: float,
                encoding: str | None = None, number_column: str | None = None,
                default_country: str = "86", default_area: str | None = None,
                rejected_dir: str | Path | None = None, list_name: str | None = None,
                skip_if_imported: bool = False, rejected_name: str | None = None
                ) -> ImportReport:
    """Import ``path`` into ``campaign``: good rows in one transaction, bad rows reported.

    The rejected rows go to ``<name>.rejected.csv`` in ``rejected_dir`` (default: beside
    the file), UTF-8 with a BOM so that Excel opens it in Chinese correctly.
    ``skip_if_imported`` (the watched folder) skips a file whose exact bytes were already
    imported into the campaign, so a crash between commit and archiving does not import
    it twice.
    """
    path = Path(path)
    data = path.read_bytes()
    digest = hashlib.sha256(data).hexdigest()
    source = f"{path.name} sha256:{digest}"
    text, used = decode(data, encoding, source=str(path))
    report = ImportReport(str(path), used)
    if skip_if_imported and store.query(
            "SELECT 1 FROM list WHERE campaign_id=? AND source=?",
            (store.campaign_id(campaign), source)):
        report.skipped_already_imported = True
        return report
    good, bad, headers, seen = parse(text, source=str(path), number_column=number_column,
                                     default_country=default_country,
                                     default_area=default_area)
    report.rows = seen
    report.errors = bad
    numbers = [row.number for row in good]
    report.duplicates_in_file = len(numbers) - len(set(numbers))
    # The rejected rows are written (to a temporary name) before the rows are committed,
    # and put in place after: a folder that cannot take the file fails the import before
    # anything is stored, so running it again never imports the list twice.
    pending = _write_rejected(path, bad, headers, rejected_dir, rejected_name) if bad \
        else None
    try:
        counts = store.add_list(campaign, list_name or path.name, good, now=now,
                                source=source,
                                errors=[(e.line, e.reason, ",".join(e.raw)) for e in bad])
    except BaseException:
        if pending is not None:
            with contextlib.suppress(OSError):
                pending[0].unlink()
        raise
    report.added, report.merged = counts["added"], counts["merged"]
    if pending is not None:
        temporary, out = pending
        temporary.replace(out)
        report.rejected_file = out
    return report


def watch_once(store: Store, root: str | Path, *, now: float, settle: float = 5.0,
               campaigns: Mapping[str, str] | None = None, **options) -> list[ImportReport]:
    """One pass over a watched folder: ``ROOT/<campaign>/*.csv`` are imported.

    A file is taken once it has not changed for ``settle`` seconds (its mtime is older
    than ``now - settle``: a host still writing it is left alone). After import it is
    moved to ``ROOT/<campaign>/archive/`` with the import time in its name, and its
    rejected rows are written beside the archived copy. ``campaigns`` maps folder names
    to campaign names when they differ. Call it on a timer (``trunkline dialer watch``).
    """
    reports = []
    root = Path(root)
    for folder in sorted(p for p in root.iterdir() if p.is_dir()):
        campaign = (campaigns or {}).get(folder.name, folder.name)
        if campaign not in store.campaigns():
            continue
        archive = folder / "archive"
        for path in sorted(folder.glob("*.csv")):
            if path.stat().st_mtime > now - settle:
                continue
            stamp = f"{int(now)}"
            report = import_file(store, campaign, path, now=now, rejected_dir=archive,
                                 skip_if_imported=True,
                                 rejected_name=f"{path.stem}.{stamp}.rejected.csv", **options)
            archive.mkdir(exist_ok=True)
            shutil.move(str(path), archive / f"{path.stem}.{stamp}{path.suffix}")
            reports.append(report)
    return reports
