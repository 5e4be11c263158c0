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
  ``_reason`` columns before its own and ``_code`` after them (the reason in the
  operator's language: :mod:`trunkline.dialer.campaigns.refusal_words`); the good rows are
  imported all together in one transaction;
- numbers are normalised to E.164 (:mod:`trunkline.dialer.campaigns.numbers`), and duplicates within
  the file and with the campaign's earlier lists are merged into one contact.
"""

from __future__ import annotations

import codecs
import contextlib
import csv
import hashlib
import io
import itertools
import os
import shutil
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from trunkline import csvsafe
from trunkline.dialer.campaigns.numbers import REFUSAL_CODES as NUMBER_REFUSALS
from trunkline.dialer.campaigns.numbers import InvalidNumber, normalise
from trunkline.dialer.campaigns.refusal_words import check_language, refusal_reason
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


#: Every ``RowError.code``: the number's own refusals (:data:`NUMBER_REFUSALS`) and the
#: row's. A stable code beside the English reason, so a page says it in its language.
ROW_REFUSAL_CODES: dict[str, str] = {
    **NUMBER_REFUSALS,
    "row_malformed": "the CSV record itself is malformed (quotes)",
    "row_fields": "the row has more or fewer fields than the header",
    "time_zone": "the time zone column names no known zone",
    "priority": "the priority column is not a whole number",
}


@dataclass(frozen=True, slots=True)
class RowError:
    """A refused row: ``reason`` in English (stored, the API), ``code`` one of
    :data:`ROW_REFUSAL_CODES` for pages and files that translate, ``column`` the header
    of the cell refused (None when the row as a whole is)."""

    line: int
    reason: str
    raw: Sequence[str]
    code: str
    column: str | None = None

    def reason_in(self, lang: str) -> str:
        """The reason in ``lang`` (``en`` or ``zh-CN``)."""
        return refusal_reason(self.code, self.reason, self.column, lang)


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
    #: a watched file that could not be imported at all, or a folder named for no
    #: campaign: why, naming the file or folder (:func:`watch_once`); None for an import
    failed: str | None = None

    def summary(self) -> dict[str, object]:
        out: dict[str, object] = {
            "source": self.source, "encoding": self.encoding, "rows": self.rows,
            "added": self.added, "merged": self.merged,
            "duplicates_in_file": self.duplicates_in_file, "rejected": len(self.errors),
            "rejected_file": str(self.rejected_file) if self.rejected_file else None,
            "already_imported": self.skipped_already_imported}
        if self.failed is not None:
            out["failed"] = self.failed
        return out


def text_codec(encoding: str, *, source: str) -> str:
    """The codec named ``encoding`` (``--encoding``), refused unless it decodes bytes to
    text: Python also names bytes-to-bytes and text-to-text transforms codecs
    (``base64``, ``hex``, ``zlib``, ``rot13``), which fail deep in the import with
    their own exceptions."""
    try:
        info = codecs.lookup(encoding)
    except LookupError as err:
        raise ListImportError(f"cannot decode as {encoding}: unknown encoding",
                              source=source) from err
    # _is_text_encoding is how str.encode/bytes.decode themselves tell the two apart
    if not getattr(info, "_is_text_encoding", True):
        raise ListImportError(f"cannot decode as {encoding}: not a text encoding "
                              "(give one such as utf-8, gb18030, utf-16)", source=source)
    return info.name


#: What decode() asks for when detection fails. Its callers (the list upload API, ``dnc
#: import``) have no ``--encoding`` option, so the remedy is one each of them accepts.
RESAVE = "save it as UTF-8 (or GBK) and try again"


def decode(data: bytes, encoding: str | None = None, *, source: str = "<bytes>"
           ) -> tuple[str, str]:
    """Decode a list file: ``(text, encoding used)``; refuses rather than guessing wrong."""
    if encoding:
        text_codec(encoding, source=source)
        try:
            return data.decode(encoding), encoding
        except UnicodeError as err:   # UnicodeDecodeError, and UTF-16/32's missing BOM
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
                    f"UTF-8 nor GB18030/GBK after it; {RESAVE}", source=source) from None
    for candidate in ENCODINGS:
        try:
            return data.decode(candidate), candidate
        except UnicodeDecodeError:
            continue
    raise ListImportError(f"cannot decode the file as UTF-8 or GB18030/GBK; {RESAVE}",
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
    rows = ListRows(io.StringIO(text, newline=""), source=source,
                    number_column=number_column, default_country=default_country,
                    default_area=default_area)
    good: list[NewContact] = []
    bad: list[RowError] = []
    for item in rows:
        if isinstance(item, NewContact):
            good.append(item)
        else:
            bad.append(item)
    return good, bad, rows.headers, rows.seen


def unique_headers(headers: Sequence[str]) -> list[str]:
    """Every column a name of its own, so that none is lost: a contact's columns are
    kept by name, and two columns of one name (two 电话 or 备注 columns, as exports from
    spreadsheets and CRMs often have) kept only the last one's cell, without a word. A
    repeated name gets `` (2)``, `` (3)``... in file order, a blank one ``column_N`` (its
    position, from 1); ``--number-column "电话 (2)"`` then picks the second."""
    taken: set[str] = set()
    out: list[str] = []
    for position, header in enumerate(headers, 1):
        name = header or f"column_{position}"
        if name in taken:
            copy = 2
            while f"{name} ({copy})" in taken:
                copy += 1
            name = f"{name} ({copy})"
        taken.add(name)
        out.append(name)
    return out


class ListRows:
    """The rows of a CSV list read from ``stream`` (a text stream, ``newline=""``) one at
    a time: iterating yields each good row as a :class:`NewContact` and each bad one as
    a :class:`RowError`, in file order, holding only the row at hand (issue 15, red-team
    14: a million-row list was read whole). ``headers`` is known once the object is
    built (a file without a header or a number column is refused then); ``seen`` counts
    the rows read so far."""

    def __init__(self, stream: TextIO, *, source: str = "<string>",
                 number_column: str | None = None, default_country: str = "86",
                 default_area: str | None = None) -> None:
        self.seen = 0
        self._source = source
        self._country = default_country
        self._area = default_area
        # The delimiter is sniffed on the first 8 KiB, completed to a whole line.
        sample = stream.read(8192)
        sample += stream.readline()
        try:
            delimiter = csv.Sniffer().sniff(sample, delimiters=",;\t").delimiter
        except csv.Error:
            delimiter = ","
        # Only the delimiter is guessed: the sniffer takes cells that begin with an
        # apostrophe (a spreadsheet's text mark, which our own rejected-rows files carry)
        # for quoting; CSV quotes with '"' (RFC 4180), as every spreadsheet writes it.
        lines = itertools.chain(io.StringIO(sample, newline=""), stream)
        self._reader = csv.reader(lines, csv.excel, delimiter=delimiter)
        self.headers, self._cols = self._read_header(number_column)

    def _read_header(self, number_column: str | None
                     ) -> tuple[list[str], tuple[int, int | None, int | None, int | None]]:
        source = self._source
        reader = self._reader
        try:
            headers = unique_headers([h.strip() for h in next(reader)])
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
                    f"no number column; looked for one of {', '.join(NUMBER_HEADERS[:8])}, "
                    f"... (or give --number-column); the columns are {headers}",
                    source=source, line=1)
            col = found
        return headers, (col, _find(headers, ZONE_HEADERS), _find(headers, PRIORITY_HEADERS),
                         _find(headers, AREA_HEADERS))

    def __iter__(self) -> Iterator[NewContact | RowError]:
        reader, headers = self._reader, self.headers
        col, zone_col, prio_col, area_col = self._cols
        while True:
            start = reader.line_num + 1
            try:
                row = next(reader)
            except StopIteration:
                return
            except csv.Error as err:
                self.seen += 1
                yield RowError(start, f"malformed CSV: {err}", [], "row_malformed")
                continue
            if not row or all(not cell.strip() for cell in row):
                continue  # blank lines carry nothing
            self.seen += 1
            if len(row) != len(headers):
                reason = f"{len(row)} fields, the header has {len(headers)}"
                end = reader.line_num
                if end > start and any("\n" in cell for cell in row):
                    # A quote opened and not closed swallows the lines after it into one
                    # cell: they were counted as one bad row and never named
                    reason += (f"; a quote (\") opened on line {start} runs to line {end}: "
                               f"lines {start + 1}-{end} are inside it")
                yield RowError(start, reason, row, "row_fields")
                continue
            area = self._area
            if area_col is not None and row[area_col].strip():
                area = row[area_col].strip().lstrip("0")
            try:
                number = normalise(row[col], default_country=self._country,
                                   default_area=area)
            except InvalidNumber as err:
                yield RowError(start, f"{headers[col]}: {err.reason}", row, err.code,
                               headers[col])
                continue
            zone = number.time_zone
            if zone_col is not None and row[zone_col].strip():
                zone = row[zone_col].strip()
                try:
                    ZoneInfo(zone)
                except (ZoneInfoNotFoundError, ValueError):
                    yield RowError(start, f"{headers[zone_col]}: unknown time zone {zone!r}",
                                   row, "time_zone", headers[zone_col])
                    continue
            priority = 0
            if prio_col is not None and row[prio_col].strip():
                try:
                    priority = int(row[prio_col])
                except ValueError:
                    yield RowError(start, f"{headers[prio_col]}: {row[prio_col]!r} is not "
                                   "a whole number", row, "priority", headers[prio_col])
                    continue
            fields = {h: v.strip() for i, (h, v) in enumerate(zip(headers, row, strict=True))
                      if i not in (col, zone_col, prio_col)}
            fields["_raw_number"] = row[col].strip()
            yield NewContact(number.e164, fields, zone, start, priority)


#: How much of a list file is read at a time (the file is never held whole).
CHUNK = 1 << 20


def _scan(path: Path, encoding: str | None) -> tuple[str, str, str, int]:
    """One pass over the file's bytes, a chunk at a time: ``(codec, name, sha256, bytes
    to skip)`` — the encoding chosen as :func:`decode` chooses it, checked over the
    whole file, without holding the file (issue 15, red-team 14)."""
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        head = fh.read(4)
    if encoding:
        text_codec(encoding, source=str(path))
        candidates = [(encoding, encoding, 0)]
    elif head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        candidates = [("utf-16", "utf-16", 0)]
    elif head.startswith(codecs.BOM_UTF8):
        candidates = [("utf-8-sig", "utf-8-sig", 0),
                      ("gb18030", "gb18030 (after a UTF-8 BOM)", len(codecs.BOM_UTF8))]
    else:
        candidates = [(c, c, 0) for c in ENCODINGS]
    try:
        decoders = [codecs.getincrementaldecoder(c)() for c, _, _ in candidates]
    except LookupError as err:
        raise ListImportError(f"cannot decode as {encoding}: {err}", source=str(path)) from err
    alive = list(range(len(candidates)))
    # UnicodeError, not only UnicodeDecodeError: UTF-16/32 without a BOM raise the base
    failure: UnicodeError | None = None
    offset = 0
    with path.open("rb") as fh:
        while chunk := fh.read(CHUNK):
            digest.update(chunk)
            for i in list(alive):
                skip = max(candidates[i][2] - offset, 0)
                try:
                    decoders[i].decode(chunk[skip:])
                except UnicodeError as err:
                    alive.remove(i)
                    failure = err
            offset += len(chunk)
    for i in list(alive):
        try:
            decoders[i].decode(b"", final=True)
        except UnicodeError as err:
            alive.remove(i)
            failure = err
    if not alive:
        if encoding:
            raise ListImportError(f"cannot decode as {encoding}: {failure}", source=str(path))
        if head.startswith(codecs.BOM_UTF8):
            raise ListImportError(
                "the file starts with a UTF-8 byte order mark (BOM) but is neither "
                "UTF-8 nor GB18030/GBK after it; save it as UTF-8 or give --encoding",
                source=str(path))
        raise ListImportError("cannot decode the file as UTF-8 or GB18030/GBK; give "
                              "--encoding", source=str(path))
    codec, name, skip = candidates[alive[0]]
    return codec, name, digest.hexdigest(), skip


class _Rejected:
    """The rejected rows, written as they are found under a temporary name (made at the
    first one), put in place only after the rows are committed. A folder that cannot
    take the file fails the import inside its transaction, so nothing is stored and
    running it again never imports the list twice.

    Columns: ``_line``, ``_reason`` (in ``lang``), the file's own columns, ``_code``.
    The file's columns stay where they were before ``_code`` was added, so tools that
    read them by position still do; a row with fewer cells than the header is filled
    with empty cells so that ``_code`` stays in its column, and one with more keeps its
    extra cells after ``_code`` (none is lost)."""

    def __init__(self, path: Path, rejected_dir: str | Path | None,
                 rejected_name: str | None, lang: str = "en") -> None:
        where = Path(rejected_dir) if rejected_dir is not None else path.parent
        self.out = where / (rejected_name or f"{path.stem}.rejected.csv")
        self.temporary = self.out.with_name(f".{self.out.name}.{os.getpid()}.part")
        self._path = path
        self._where = where
        self._writer: Any = None
        self._fh: TextIO | None = None
        self._lang = lang
        self.rows = 0

    def _failed(self, err: OSError) -> ListImportError:
        with contextlib.suppress(OSError):
            self.temporary.unlink()
        return ListImportError(f"cannot write the rejected rows to {self.out}: "
                               f"{err.strerror}; nothing was imported (the folder must be "
                               "writable)", source=str(self._path))

    def write(self, headers: list[str], err: RowError) -> None:
        try:
            if self._fh is None:
                self._where.mkdir(parents=True, exist_ok=True)
                self._fh = self.temporary.open("w", encoding="utf-8-sig", newline="")
            if self._writer is None:
                self._writer = csvsafe.writer(self._fh)
                self._writer.writerow(["_line", "_reason", *headers, "_code"])
            cells = list(err.raw)
            cells += [""] * (len(headers) - len(cells))
            self._writer.writerow([err.line, err.reason_in(self._lang),
                                   *cells[:len(headers)], err.code, *cells[len(headers):]])
            self.rows += 1
        except OSError as oserr:
            raise self._failed(oserr) from oserr

    def finish(self) -> Path | None:
        """After the commit: the file in place (None when no row was rejected)."""
        if self._fh is None:
            return None
        self._fh.close()
        self.temporary.replace(self.out)
        return self.out

    def discard(self) -> None:
        if self._fh is None:
            return
        with contextlib.suppress(OSError):
            self._fh.close()
        with contextlib.suppress(OSError):
            self.temporary.unlink()


def import_file(store: Store, campaign: str, path: str | Path, *, now: float,
                encoding: str | None = None, number_column: str | None = None,
                default_country: str = "86", default_area: str | None = None,
                rejected_dir: str | Path | None = None, list_name: str | None = None,
                skip_if_imported: bool = False, rejected_name: str | None = None,
                refuse_if_imported: bool = False, lang: str = "en") -> ImportReport:
    """Import ``path`` into ``campaign``: good rows in one transaction, bad rows reported.

    The rejected rows go to ``<name>.rejected.csv`` in ``rejected_dir`` (default: beside
    the file), UTF-8 with a BOM so that Excel opens it in Chinese correctly, their
    reasons in ``lang`` (``en`` or ``zh-CN``) and their codes in ``_code``.
    ``skip_if_imported`` (the watched folder) skips a file whose exact bytes were already
    imported into the campaign, so a crash between commit and archiving does not import
    it twice; ``refuse_if_imported`` (``dialer import``) refuses it, as the admin API's
    upload does, naming the list it became (run twice by mistake, it made a second
    list of the same rows).

    The file is read twice, a chunk or a row at a time, never whole: once for its
    encoding and its digest, once for its rows, which stream into the store's
    transaction (memory stays bounded by the longest row and the rejected rows; issue
    15, red-team 14).
    """
    path = Path(path)
    codec, used, digest, skip = _scan(path, encoding)
    source = f"{path.name} sha256:{digest}"
    report = ImportReport(str(path), used)
    if skip_if_imported and store.query(
            "SELECT 1 FROM list WHERE campaign_id=? AND source=?",
            (store.campaign_id(campaign), source)):
        report.skipped_already_imported = True
        return report
    if refuse_if_imported:
        # Only an import that took every row: one that refused rows is retried with the
        # option that was wrong (--default-area, --number-column), the same bytes again.
        earlier = store.query(
            "SELECT id, name FROM list WHERE campaign_id=? AND source=? AND removed_at IS "
            "NULL AND rows_bad=0 ORDER BY id LIMIT 1", (store.campaign_id(campaign), source))
        if earlier:
            list_id, name = earlier[0]
            raise ListImportError(
                f"this exact file was imported into {campaign!r} already (list {list_id}, "
                f"{name!r}); nothing imported (to import it again: 'dialer campaign "
                f"remove-list {list_id}' first)", source=str(path))
    check_language(lang)
    rejected = _Rejected(path, rejected_dir, rejected_name, lang)
    bad: list[RowError] = []
    errors: list[tuple[int, str, str, str]] = []
    good = 0
    try:
        with path.open("rb") as raw:
            raw.seek(skip)
            text = io.TextIOWrapper(raw, encoding=codec, newline="")
            try:
                rows = ListRows(text, source=str(path), number_column=number_column,
                                default_country=default_country,
                                default_area=default_area)

                def good_rows() -> Iterator[NewContact]:
                    nonlocal good
                    for item in rows:
                        if isinstance(item, NewContact):
                            good += 1
                            yield item
                        else:
                            rejected.write(rows.headers, item)
                            bad.append(item)
                            errors.append((item.line, item.reason, ",".join(item.raw), item.code))

                counts = store.add_list(campaign, list_name or path.name, good_rows(),
                                        now=now, source=source, errors=errors)
            except UnicodeError as err:   # _scan checked; the file changed since
                raise ListImportError(f"cannot decode as {used}: {err}",
                                      source=str(path)) from err
    except BaseException:
        rejected.discard()
        raise
    report.rows = rows.seen
    report.errors = bad
    report.added, report.merged = counts["added"], counts["merged"]
    linked = store.query("SELECT COUNT(*) FROM contact_list WHERE list_id=?",
                         (counts["list"],))[0][0]
    report.duplicates_in_file = good - linked
    report.rejected_file = rejected.finish()
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
    known = store.campaigns()
    for folder in sorted(p for p in root.iterdir() if p.is_dir()):
        campaign = (campaigns or {}).get(folder.name, folder.name)
        # *.csv in any case: Windows hosts write LIST.CSV, which was never imported
        ready = sorted(p for p in folder.iterdir() if p.suffix.lower() == ".csv"
                       and p.is_file() and p.stat().st_mtime <= now - settle)
        if campaign not in known:
            if ready:   # a misspelt folder: its lists would wait there for ever, unsaid
                reports.append(ImportReport(str(folder), "", failed=(
                    f"{folder}: no campaign named {campaign!r} for this folder's "
                    f"{len(ready)} list(s) (known: {', '.join(known) or 'none'})")))
            continue
        archive = folder / "archive"
        for path in ready:
            stamp = f"{int(now)}"
            # The archive first: a folder that cannot take the file fails before anything
            # is imported (issue 15, red-team 11: the rows were committed, then the move
            # failed with a traceback).
            try:
                archive.mkdir(exist_ok=True)
            except OSError as err:
                raise ListImportError(f"cannot make the archive folder {archive}: "
                                      f"{err.strerror}; nothing was imported",
                                      source=str(path)) from err
            try:
                report = import_file(store, campaign, path, now=now, rejected_dir=archive,
                                     skip_if_imported=True,
                                     rejected_name=f"{path.stem}.{stamp}.rejected.csv",
                                     **options)
            except ListImportError as err:
                # A file that cannot be imported at all (no number column, not text...)
                # stopped the watcher, and again at every restart, so that no list of
                # any campaign was taken until someone removed it: set it aside instead.
                reports.append(_set_aside(path, archive, stamp, err))
                continue
            try:
                shutil.move(str(path), archive / f"{path.stem}.{stamp}{path.suffix}")
            except OSError as err:
                raise ListImportError(
                    f"imported, but cannot move it to {archive}: {err.strerror}; it stays "
                    "where it is and is skipped as already imported", source=str(path)
                ) from err
            reports.append(report)
    return reports


def _set_aside(path: Path, archive: Path, stamp: str, err: ListImportError) -> ImportReport:
    """Move a watched file that cannot be imported to ``archive/NAME.<time>.failed.csv``
    with the reason in ``NAME.<time>.error.txt`` beside it (nothing of it was stored),
    and report it. Where the file cannot be moved it would fail again at every pass:
    that stops the watcher, naming the file."""
    reason = str(err)
    failed = archive / f"{path.stem}.{stamp}.failed{path.suffix}"
    try:
        (archive / f"{path.stem}.{stamp}.error.txt").write_text(reason + "\n",
                                                                 encoding="utf-8")
        shutil.move(str(path), failed)
    except OSError as move_err:
        raise ListImportError(f"cannot be imported ({reason}) nor moved to {archive}: "
                              f"{move_err.strerror}", source=str(path)) from move_err
    return ImportReport(str(path), "", failed=f"{reason}; nothing imported, moved to {failed}")
