"""Numbers typed as ``dialer dnc`` arguments are not a file: the first one is never
taken for a header (second red-team pass, issue 15).

Before: ``dnc add '*'`` (meant as "bar everything", or a typo) printed ``0 added`` and
exited 0 without a word; ``dnc add abc 13800138000`` skipped ``abc`` silently; ``dnc
check abc`` printed nothing and exited 0, which a script reads as "allowed"."""

from __future__ import annotations

from pathlib import Path

import pytest

from trunkline.cli import main
from trunkline.dialer.campaigns.dnc import parse_entries


@pytest.fixture
def db(tmp_path: Path) -> str:
    path = str(tmp_path / "d.sqlite")
    assert main(["dialer", "campaign", "create", "sales", "--db", path]) == 0
    return path


@pytest.mark.parametrize("first", ["*", "+*", "abc"])
def test_a_first_argument_without_digits_is_refused(db: str, capsys, first: str) -> None:
    capsys.readouterr()
    assert main(["dialer", "dnc", "add", first, "13800138000", "--db", db]) == 3
    out = capsys.readouterr()
    assert "argument 1:" in out.err and "1 added" in out.out


def test_check_of_an_unreadable_number_is_neither_allowed_nor_barred(db: str, capsys) -> None:
    assert main(["dialer", "dnc", "check", "abc", "--db", db]) == 2
    assert "argument 1: illegal characters 'abc'" in capsys.readouterr().err
    assert main(["dialer", "dnc", "check", "13800138000", "--db", db]) == 0
    assert main(["dialer", "dnc", "add", "13800138000", "--db", db]) == 0
    assert main(["dialer", "dnc", "check", "13800138000", "--db", db]) == 1


def test_a_file_still_skips_its_header(tmp_path: Path, db: str, capsys) -> None:
    path = tmp_path / "dnc.csv"
    path.write_text("number\n13800138000\n")
    assert main(["dialer", "dnc", "import", str(path), "--db", db]) == 0
    assert "1 added, 0 already listed, 0 rejected" in capsys.readouterr().out
    assert parse_entries(["number", "13800138000"], header=True) == (["+8613800138000"], [])
    assert [r.line for r in parse_entries(["number", "13800138000"])[1]] == [1]
