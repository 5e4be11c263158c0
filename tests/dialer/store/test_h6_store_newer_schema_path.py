"""A campaign database from a newer trunkline is refused naming the file.

The refusal said only "the campaign database has schema version N, newer than this
trunkline understands": an operator after a downgrade, with several databases (one per
site, a copy from a backup), could not tell which one.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from trunkline.cli import main
from trunkline.dialer.errors import StoreError
from trunkline.dialer.store import Store
from trunkline.dialer.store.schema import SCHEMA_VERSION


def _newer(path: Path) -> None:
    conn = sqlite3.connect(path)
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    conn.close()


def test_the_refusal_names_the_database_file(tmp_path: Path) -> None:
    path = tmp_path / "site-b.sqlite"
    _newer(path)
    with pytest.raises(StoreError) as caught:
        Store(path)
    assert str(caught.value).startswith(f"{path}: the campaign database has schema version "
                                        f"{SCHEMA_VERSION + 1}, newer than this trunkline")


def test_the_cli_says_the_file_and_exits_1(tmp_path: Path, capsys) -> None:
    path = tmp_path / "site-b.sqlite"
    _newer(path)
    assert main(["dialer", "campaign", "list", "--db", str(path)]) == 1
    err = capsys.readouterr().err
    assert err.startswith(f"trunkline: error: {path}: the campaign database has schema")
    conn = sqlite3.connect(path)
    assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION + 1
    conn.close()
