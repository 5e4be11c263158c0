"""A watched folder whose archive cannot be made imports nothing and says why (issue 15,
red-team 11, "the same in `dialer watch`"): before, the rows were committed and then
``archive.mkdir`` failed with a raw ``FileExistsError`` traceback, on every pass."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from campaign_testkit import T0, open_store

from trunkline.cli import main
from trunkline.dialer.campaigns.lists import ListImportError, watch_once

ALL_GOOD = "name,phone\nok,13800138000\n"     # no rejected row: nothing else to write


def dropped(tmp_path: Path) -> Path:
    folder = tmp_path / "in" / "sales"
    folder.mkdir(parents=True)
    path = folder / "batch.csv"
    path.write_text(ALL_GOOD, encoding="utf-8")
    os.utime(path, (T0 - 60, T0 - 60))
    (folder / "archive").write_text("a file where the archive folder should be")
    return path


def test_an_archive_that_cannot_be_made_imports_nothing(tmp_path: Path) -> None:
    path = dropped(tmp_path)
    store = open_store()
    for _ in range(2):
        with pytest.raises(ListImportError, match=r"batch.csv: cannot make the archive "
                                                  r"folder .*archive.*nothing was imported"):
            watch_once(store, tmp_path / "in", now=T0)
    assert store.query("SELECT COUNT(*) FROM contact")[0][0] == 0
    assert path.exists()
    (path.parent / "archive").unlink()         # the operator clears the way
    assert [r.added for r in watch_once(store, tmp_path / "in", now=T0 + 1)] == [1]
    assert not path.exists()


def test_the_cli_says_one_line_and_exits_non_zero(tmp_path: Path, capsys) -> None:
    dropped(tmp_path)
    db = tmp_path / "d.sqlite"
    open_store(db).close()
    assert main(["dialer", "watch", "--once", "--db", str(db), str(tmp_path / "in")]) == 1
    err = capsys.readouterr().err
    assert "cannot make the archive folder" in err and "Traceback" not in err
