"""CSV cells a spreadsheet would run as formulas are written as text (issue 15,
red-team 9: a campaign named ``=HYPERLINK(...)`` became a formula in reports)."""

from __future__ import annotations

import csv
import io

import pytest
from hypothesis import given
from hypothesis import strategies as st

from trunkline.csvsafe import FORMULA_STARTS, dict_writer, spreadsheet_safe, writer


@pytest.mark.parametrize(("cell", "written"), [
    ('=HYPERLINK("http://x","y")', '\'=HYPERLINK("http://x","y")'),
    ("+8613800000000", "'+8613800000000"),   # E.164: text, not a number that loses its +
    ("@SUM(A1)", "'@SUM(A1)"), ("-2+3", "'-2+3"), ("\tcmd", "'\tcmd"),
    ("-", "-"), ("+", "+"), ("-3.5", "-3.5"), ("+7", "'+7"), ("sales", "sales"),
    (-3, -3), (None, None),
])
def test_formula_cells_get_an_apostrophe(cell, written) -> None:
    assert spreadsheet_safe(cell) == written


@given(st.text(max_size=20))
def test_no_written_text_cell_starts_a_formula(text: str) -> None:
    out = io.StringIO()
    writer(out).writerow([text])
    (cell,) = next(csv.reader(io.StringIO(out.getvalue()))) or [""]
    if cell.startswith(FORMULA_STARTS) and len(cell) > 1:
        assert cell.startswith("-")
        float(cell)  # only a negative number may start with a sign


def test_dict_writer_escapes_header_and_values() -> None:
    out = io.StringIO()
    w = dict_writer(out, ["campaign", "=x"], lineterminator="\n")
    w.writeheader()
    w.writerow({"campaign": "=1+1", "=x": 5})
    assert out.getvalue() == "campaign,'=x\n'=1+1,5\n"
