"""A list is imported a chunk and a row at a time (issue 15, red-team 14: a million-row
list was read, decoded and parsed whole, 25 times the file in memory). The figures are
in benchmarks/bench_list_import.py; here: rows are handed to the store as they are read,
and the encoding is judged over every chunk, multi-byte characters split across chunk
boundaries included."""

from __future__ import annotations

import codecs
import io

import pytest
from campaign_testkit import T0, open_store

from trunkline.dialer.campaigns import lists
from trunkline.dialer.campaigns.lists import ListImportError, ListRows, import_file
from trunkline.dialer.store import NewContact


class Exhausted(Exception):
    pass


class Tap(io.StringIO):
    """A text stream that fails once more than ``limit`` lines were read from it."""

    def __init__(self, text: str, limit: int) -> None:
        super().__init__(text, newline="")
        self.limit, self.lines = limit, 0

    def __next__(self) -> str:
        self.lines += 1
        if self.lines > self.limit:
            raise Exhausted
        return super().__next__()


def test_rows_come_out_before_the_file_is_read_to_its_end() -> None:
    text = "name,phone\n" + "".join(f"c{i},1380013{i:04d}\n" for i in range(5000))
    rows = iter(ListRows(Tap(text, limit=700)))
    first = [next(rows) for _ in range(100)]
    assert all(isinstance(r, NewContact) for r in first)
    assert first[0].number == "+8613800130000" and first[99].line == 101
    with pytest.raises(Exhausted):      # the rest is still unread
        list(rows)


def test_rows_stream_into_the_store(tmp_path, monkeypatch) -> None:
    path = tmp_path / "l.csv"
    path.write_text("name,phone\n" + "".join(f"c{i},1380013{i:04d}\n" for i in range(300)))
    store = open_store()
    seen: list[type] = []
    add_list = store.add_list

    def spy(campaign, name, rows, **kw):
        assert not isinstance(rows, list | tuple)     # a stream, not a materialised list
        seen.append(type(rows))
        return add_list(campaign, name, rows, **kw)

    monkeypatch.setattr(store, "add_list", spy)
    report = import_file(store, "sales", path, now=T0)
    assert report.added == 300 and seen


@pytest.mark.parametrize("chunk", [1, 2, 3, 7, 64])
@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gb18030", "utf-16"])
def test_the_encoding_is_judged_across_chunk_boundaries(tmp_path, monkeypatch, chunk: int,
                                                        encoding: str) -> None:
    monkeypatch.setattr(lists, "CHUNK", chunk)
    text = "姓名,电话,备注\n" + "".join(f"客户{i},1380013{i:04d},上海浦东\n" for i in range(40))
    path = tmp_path / "l.csv"
    path.write_bytes(text.encode(encoding))
    store = open_store()
    report = import_file(store, "sales", path, now=T0)
    assert report.added == 40 and report.errors == []
    assert store.contact_fields(1)["姓名"] == "客户0"


def test_gbk_behind_a_bom_with_the_first_non_ascii_byte_past_the_first_chunk(
        tmp_path, monkeypatch) -> None:
    monkeypatch.setattr(lists, "CHUNK", 16)
    text = "name,phone,note\n" + "".join(f"c{i},1380013{i:04d},x\n" for i in range(5))
    text += "客户,13800139999,上海\n"
    path = tmp_path / "l.csv"
    path.write_bytes(codecs.BOM_UTF8 + text.encode("gbk"))
    report = import_file(open_store(), "sales", path, now=T0)
    assert report.encoding == "gb18030 (after a UTF-8 BOM)" and report.added == 6


def test_duplicates_in_the_file_are_counted_without_holding_the_numbers(tmp_path) -> None:
    path = tmp_path / "l.csv"
    path.write_text("name,phone\na,13800138000\nb,13800138001\nc,13800138000\n")
    report = import_file(open_store(), "sales", path, now=T0)
    assert (report.added, report.merged, report.duplicates_in_file) == (2, 1, 1)


def test_a_file_that_is_no_text_is_still_refused(tmp_path) -> None:
    path = tmp_path / "l.csv"
    path.write_bytes(b"name,phone\n" + bytes([0x81, 0x30, 0xFF, 0xFF]) * 10)
    with pytest.raises(ListImportError, match="cannot decode"):
        import_file(open_store(), "sales", path, now=T0)
