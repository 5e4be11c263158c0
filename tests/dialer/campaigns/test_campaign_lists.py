"""CSV import: encodings, headers, bad rows with line numbers, duplicates, watched folder."""

from __future__ import annotations

import codecs
import csv
import os

import pytest
from campaign_testkit import T0, open_store
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from trunkline.dialer.campaigns.lists import ListImportError, import_file, watch_once

GOOD = "姓名,手机号码,欠款金额,城市\n张三,138 0013 8000,1200,上海\n王五,010-65529988,50,北京\n"


def _write(tmp_path, text: str, encoding: str, name: str = "list.csv"):
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gb18030", "gbk", "utf-16"])
def test_encodings_import_the_same_contacts(tmp_path, encoding: str) -> None:
    store = open_store()
    report = import_file(store, "sales", _write(tmp_path, GOOD, encoding), now=T0)
    assert (report.rows, report.added, report.errors) == (2, 2, [])
    fields = store.contact_fields(1)
    assert fields["姓名"] == "张三" and fields["欠款金额"] == "1200" and fields["城市"] == "上海"


def test_gbk_text_behind_a_utf8_bom_imports(tmp_path) -> None:
    """Some Windows editors put a UTF-8 byte order mark before GBK text (issue 15,
    red-team 14: the import failed and never said why)."""
    path = tmp_path / "bom.csv"
    path.write_bytes(codecs.BOM_UTF8 + GOOD.encode("gbk"))
    store = open_store()
    report = import_file(store, "sales", path, now=T0)
    assert (report.added, report.errors, report.encoding) == (
        2, [], "gb18030 (after a UTF-8 BOM)")
    assert store.contact_fields(1)["姓名"] == "张三"
    path.write_bytes(codecs.BOM_UTF8 + b"number\n\xff\xff\xff\n")
    with pytest.raises(ListImportError, match="starts with a UTF-8 byte order mark"):
        import_file(store, "sales", path, now=T0)


def test_wrong_encoding_refuses_the_file_rather_than_garbling_it(tmp_path) -> None:
    path = tmp_path / "bad.csv"
    path.write_bytes(b"number\n\xff\xfe\xfd\x80\n")
    with pytest.raises(ListImportError, match="cannot decode"):
        import_file(open_store(), "sales", path, now=T0)


def test_missing_number_column_names_the_columns_it_has(tmp_path) -> None:
    path = _write(tmp_path, "name,city\na,b\n", "utf-8")
    with pytest.raises(ListImportError, match=r"no number column.*'name', 'city'"):
        import_file(open_store(), "sales", path, now=T0)


def test_bad_rows_are_reported_with_line_and_reason_and_written_beside(tmp_path) -> None:
    text = ("name;phone;note\n"
            "ok;13800138000;fine\n"
            "short;1380013800;x\n"
            'multi;13900139000;"two\nlines"\n'
            "extra;13700137000;a;b\n"
            "\n"
            "bad;12345678901;x\n"
            "dup;+86 138 0013 8000;again\n")
    path = _write(tmp_path, text, "utf-8")
    store = open_store()
    report = import_file(store, "sales", path, now=T0)
    assert [(e.line, e.reason.split(":")[0]) for e in report.errors] == [
        (3, "phone"), (6, "4 fields, the header has 3"), (8, "phone")]
    assert (report.added, report.merged, report.duplicates_in_file) == (2, 1, 1)
    with report.rejected_file.open(encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.reader(fh))
    assert rows[0][:3] == ["_line", "_reason", "name"]
    assert [r[0] for r in rows[1:]] == ["3", "6", "8"]
    assert store.query("SELECT COUNT(*) FROM import_error")[0][0] == 3


def test_rejected_rows_are_spreadsheet_safe_and_import_again_as_written(tmp_path) -> None:
    """A rejected row's cells that a spreadsheet would run as formulas are written as
    text (issue 15, red-team 9); fixed and imported again, the apostrophe is dropped."""
    text = ('name,phone\n=HYPERLINK("http://evil"),+86 138 0013 8001 x\n'
            "@cmd,-1234\n")
    report = import_file(open_store(), "sales", _write(tmp_path, text, "utf-8"), now=T0)
    with report.rejected_file.open(encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.reader(fh))
    cells = [cell for row in rows[1:] for cell in row[2:-1]]   # then _code
    assert cells == ['\'=HYPERLINK("http://evil")', "'+86 138 0013 8001 x",
                     "'@cmd", "-1234"]
    fixed = _write(tmp_path, "name,phone\n'@cmd,'+8613800138001\n", "utf-8", "fixed.csv")
    store = open_store()
    again = import_file(store, "sales", fixed, now=T0)
    assert (again.added, again.errors) == (1, [])
    assert store.query("SELECT number FROM contact")[0][0] == "+8613800138001"


def test_a_folder_that_cannot_take_the_rejected_rows_imports_nothing(tmp_path) -> None:
    """Issue 15, red-team 11: in a read-only folder the import committed the rows, then
    failed writing the rejected file; run again, it imported the list twice. (A folder
    under a file cannot be written even by root, which CI may run as.)"""
    path = _write(tmp_path, "name,phone\nok,13800138000\nbad,123\n", "utf-8")
    store = open_store()
    blocked = tmp_path / "list.csv" / "rejected"
    for _ in range(2):
        with pytest.raises(ListImportError, match=r"cannot write the rejected rows.*"
                                                  "nothing was imported"):
            import_file(store, "sales", path, now=T0, rejected_dir=blocked)
    assert store.query("SELECT COUNT(*) FROM contact")[0][0] == 0
    assert [p.name for p in tmp_path.iterdir()] == ["list.csv"]
    report = import_file(store, "sales", path, now=T0)
    assert report.added == 1 and report.rejected_file is not None
    assert store.query("SELECT COUNT(*) FROM contact")[0][0] == 1


def test_the_rejected_file_is_put_in_place_only_when_the_rows_are_stored(
        tmp_path, monkeypatch) -> None:
    path = _write(tmp_path, "name,phone\nok,13800138000\nbad,123\n", "utf-8")
    store = open_store()

    def fail(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(store, "add_list", fail)
    with pytest.raises(RuntimeError, match="disk full"):
        import_file(store, "sales", path, now=T0)
    assert [p.name for p in tmp_path.iterdir()] == ["list.csv"]  # no file, no leftover


def test_watched_folder_imports_archives_and_never_imports_twice(tmp_path) -> None:
    store = open_store()
    folder = tmp_path / "in" / "sales"
    folder.mkdir(parents=True)
    path = _write(folder, GOOD + "bad,123,1,x\n", "gb18030", "batch1.csv")
    os.utime(path, (T0 - 60, T0 - 60))
    fresh = _write(folder, GOOD, "utf-8", "still-writing.csv")
    os.utime(fresh, (T0, T0))
    reports = watch_once(store, tmp_path / "in", now=T0)
    assert [r.added for r in reports] == [2]
    archived = sorted(p.name for p in (folder / "archive").iterdir())
    assert archived == [f"batch1.{int(T0)}.csv", f"batch1.{int(T0)}.rejected.csv"]
    assert fresh.exists()
    # the same bytes dropped again (e.g. a crash after commit, before the move): skipped
    again = _write(folder, GOOD + "bad,123,1,x\n", "gb18030", "batch1.csv")
    os.utime(again, (T0 - 60, T0 - 60))
    assert [r.skipped_already_imported for r in watch_once(store, tmp_path / "in",
                                                           now=T0 + 1)] == [True]


good_mobile = st.builds(lambda p, n: f"1{p}{n:09d}", st.sampled_from("3456789"),
                        st.integers(0, 10**9 - 1))
bad_number = st.sampled_from(["123", "12800138000", "abc", "", "010-123", "1.3E+10"])
cell = st.text(st.characters(blacklist_categories=("Cs", "Cc")), max_size=8)


@settings(max_examples=40, suppress_health_check=[HealthCheck.function_scoped_fixture],
          deadline=None)
@given(rows=st.lists(st.tuples(st.one_of(good_mobile, bad_number), cell), max_size=25),
       encoding=st.sampled_from(["utf-8-sig", "gb18030"]))
def test_property_nothing_good_is_lost(tmp_path_factory, rows, encoding) -> None:
    tmp = tmp_path_factory.mktemp("prop")
    path = tmp / "p.csv"
    with path.open("w", encoding=encoding, errors="replace", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["mobile", "备注"])
        writer.writerows(rows)
    store = open_store()
    report = import_file(store, "sales", path, now=T0)
    good = {f"+86{n}" for n, c in rows if n[:1] == "1" and len(n) == 11 and n[1] in "3456789"}
    stored = {r[0] for r in store.query("SELECT number FROM contact")}
    assert stored == good
    blank = sum(1 for n, c in rows if not n.strip() and not c.strip())
    assert report.rows == len(rows) - blank
    assert report.rows == report.added + report.merged + len(report.errors)
