"""A quote opened and never closed in a list is named with the lines it swallowed
(second red-team pass, issue 15).

Before: ``"unterminated,13800138031`` on line 3 took lines 4 and 5 into one cell; the
import said ``3: 1 fields, the header has 2`` and counted 2 rows of a 4-row file, so the
two rows after it were lost without being named."""

from __future__ import annotations

from campaign_testkit import T0, open_store

from trunkline.dialer.campaigns.lists import import_file, parse

TEXT = ('name,phone\na,13800138030\n"unterminated,13800138031\nb,13800138032\n'
        'c,13800138033\n')


def test_the_swallowed_lines_are_named() -> None:
    good, bad, _, _ = parse(TEXT)
    assert [c.number for c in good] == ["+8613800138030"]
    assert [e.line for e in bad] == [3]
    assert 'a quote (") opened on line 3 runs to line 5: lines 4-5 are inside it' \
        in bad[0].reason


def test_a_closed_quote_with_a_newline_inside_is_a_good_row(tmp_path) -> None:
    path = tmp_path / "list.csv"
    path.write_text('name,phone\n"two\nlines",13800138030\n', encoding="utf-8")
    store = open_store()
    report = import_file(store, "sales", path, now=T0)
    assert (report.added, report.errors) == (1, [])
