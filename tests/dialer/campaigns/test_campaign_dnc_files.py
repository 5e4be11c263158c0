"""`dialer dnc import` of a file it cannot read says so, naming the file, and exits
non-zero (issue 15, item 4: bad files fail with an error naming the file; before, a
missing file or a folder was a raw FileNotFoundError / IsADirectoryError traceback)."""

from __future__ import annotations

from pathlib import Path

import pytest
from campaign_testkit import T0, open_store

from trunkline.cli import main
from trunkline.dialer.campaigns.dnc import import_dnc
from trunkline.dialer.campaigns.lists import ListImportError


@pytest.mark.parametrize(("name", "why"), [("missing.txt", "No such file"),
                                           (".", "Is a directory")])
def test_an_unreadable_file_is_named(tmp_path: Path, name: str, why: str) -> None:
    store = open_store()
    path = tmp_path / name
    with pytest.raises(ListImportError, match=rf"{path}: cannot read the file: {why}"):
        import_dnc(store, path, now=T0)
    assert store.query("SELECT COUNT(*) FROM dnc")[0][0] == 0


def test_the_cli_says_one_line_and_exits_non_zero(tmp_path: Path, capsys) -> None:
    db = tmp_path / "d.sqlite"
    open_store(db).close()
    assert main(["dialer", "dnc", "import", str(tmp_path / "missing.txt"),
                 "--db", str(db)]) == 1
    err = capsys.readouterr().err
    assert "missing.txt: cannot read the file" in err and "Traceback" not in err
