"""No cell of a list is lost to its header: two columns of one name, or a blank name,
each keep their cells (second red-team pass, issue 15).

Before: ``备注,电话,备注`` kept only the second 备注 cell (the contact's columns are a
mapping by name), without a word; a blank header stored a field named ``""``."""

from __future__ import annotations

from pathlib import Path

from campaign_testkit import T0, open_store
from hypothesis import given
from hypothesis import strategies as st

from trunkline.dialer.campaigns.lists import import_file, parse, unique_headers


def test_two_note_columns_both_reach_the_contact(tmp_path: Path) -> None:
    path = tmp_path / "list.csv"
    path.write_bytes("备注,电话,备注,,电话\nA,13800138020,B,C,010-65529988\n".encode("gb18030"))
    store = open_store()
    report = import_file(store, "sales", path, now=T0)
    assert (report.added, report.errors) == (1, [])
    fields = store.contact_fields(1)
    assert fields["备注"] == "A" and fields["备注 (2)"] == "B"
    assert fields["column_4"] == "C" and fields["电话 (2)"] == "010-65529988"


def test_the_second_of_two_number_columns_can_be_chosen() -> None:
    good, bad, headers, _ = parse("电话,电话\n13800138020,13800138021\n",
                                  number_column="电话 (2)")
    assert bad == [] and [c.number for c in good] == ["+8613800138021"]
    assert headers == ["电话", "电话 (2)"]


@given(st.lists(st.sampled_from(["a", "a (2)", "", "b", "column_3"]), max_size=8))
def test_headers_come_out_unique_and_in_place(headers: list[str]) -> None:
    out = unique_headers(headers)
    assert len(out) == len(headers) and len(set(out)) == len(out)
    for given_name, name in zip(headers, out, strict=True):
        assert name and (not given_name or name.startswith(given_name))
    if headers:
        assert out[0] == (headers[0] or "column_1")    # the first is never renamed
