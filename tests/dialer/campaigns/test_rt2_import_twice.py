"""``dialer import`` of the same file twice is refused as the admin API's upload refuses
it (second red-team pass, issue 15).

Before: run twice by mistake (a shell's history, a script retried), it made a second
list of the same rows, counted again in the list's figures, while the API answered 409
and the watched folder skipped it. A file whose import refused rows may be run again
(with the option that was wrong)."""

from __future__ import annotations

from pathlib import Path

import pytest
from campaign_testkit import T0, open_store

from trunkline.cli import main
from trunkline.dialer.campaigns.lists import ListImportError, import_file

GOOD = "name,phone\n张三,13800138000\n"


def test_the_second_import_is_refused_and_names_the_list(tmp_path: Path, capsys) -> None:
    path = tmp_path / "june.csv"
    path.write_text(GOOD, encoding="utf-8")
    db = str(tmp_path / "d.sqlite")
    assert main(["dialer", "campaign", "create", "sales", "--db", db]) == 0
    assert main(["dialer", "import", "--campaign", "sales", str(path), "--db", db]) == 0
    assert main(["dialer", "import", "--campaign", "sales", str(path), "--db", db]) == 1
    err = capsys.readouterr().err
    assert "imported into 'sales' already (list 1, 'june.csv')" in err
    assert "remove-list 1" in err
    assert main(["dialer", "campaign", "remove-list", "1", "--db", db]) == 0
    assert main(["dialer", "import", "--campaign", "sales", str(path), "--db", db]) == 0


def test_other_callers_keep_their_behaviour(tmp_path: Path) -> None:
    path = tmp_path / "june.csv"
    path.write_text(GOOD, encoding="utf-8")
    store = open_store()
    import_file(store, "sales", path, now=T0)
    assert import_file(store, "sales", path, now=T0).merged == 1    # the library merges
    with pytest.raises(ListImportError, match="already"):
        import_file(store, "sales", path, now=T0, refuse_if_imported=True)
    assert store.query("SELECT COUNT(*) FROM list")[0][0] == 2


def test_a_file_with_refused_rows_can_be_run_again(tmp_path: Path, capsys) -> None:
    """A retry with the option that was wrong must go through (the same bytes)."""
    path = tmp_path / "local.csv"
    path.write_text("name,phone\nx,65529988\n", encoding="utf-8")
    db = str(tmp_path / "d.sqlite")
    assert main(["dialer", "campaign", "create", "sales", "--db", db]) == 0
    assert main(["dialer", "import", "--campaign", "sales", str(path), "--db", db]) == 3
    assert "1 rejected" in capsys.readouterr().out
    assert main(["dialer", "import", "--campaign", "sales", str(path), "--default-area",
                 "21", "--db", db]) == 0
    assert "1 added" in capsys.readouterr().out
