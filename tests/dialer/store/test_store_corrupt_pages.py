"""A database whose first page is whole but whose tables are not opens, and fails only
when a read reaches a bad page: that failure names the file and the reason too, and
the CLI exits non-zero with one line (issue 15, red-team 12; before, `dialer campaign
list` printed a raw ``sqlite3.DatabaseError: database disk image is malformed``
traceback)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from trunkline.cli import main
from trunkline.dialer.errors import StoreError
from trunkline.dialer.store import Store


def corrupt_campaign_table(path: Path) -> None:
    """A store with one campaign, then the root pages of the campaign table and of its
    indexes overwritten (a query may read an index only)."""
    with Store(path) as store:
        store.create_campaign("sales")
    db = sqlite3.connect(path)
    try:
        page = db.execute("PRAGMA page_size").fetchone()[0]
        roots = [r[0] for r in db.execute(
            "SELECT rootpage FROM sqlite_master WHERE tbl_name='campaign' AND rootpage")]
    finally:
        db.close()
    data = bytearray(path.read_bytes())
    for root in roots:
        data[(root - 1) * page:root * page] = b"\xa5" * page
    path.write_bytes(bytes(data))


def test_a_bad_page_found_by_a_read_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "d.sqlite"
    corrupt_campaign_table(path)
    store = Store(path)               # the open's checks pass: page 1 is whole
    try:
        with pytest.raises(StoreError, match=r"d.sqlite: the database file is corrupt"):
            store.query("SELECT name FROM campaign")
    finally:
        store.close()


def test_a_bad_page_inside_a_with_block_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "d.sqlite"
    corrupt_campaign_table(path)
    with pytest.raises(StoreError, match=r"d.sqlite: the database file is corrupt"), \
            Store(path) as store:
        store._conn.execute("SELECT name FROM campaign").fetchall()


def test_a_programming_error_stays_itself(tmp_path: Path) -> None:
    with pytest.raises(sqlite3.OperationalError, match="no such table"), \
            Store(tmp_path / "d.sqlite") as store:
        store.query("SELECT * FROM no_such_table")


def test_the_cli_says_one_line_and_exits_non_zero(tmp_path: Path, capsys) -> None:
    path = tmp_path / "d.sqlite"
    corrupt_campaign_table(path)
    assert main(["dialer", "campaign", "list", "--db", str(path)]) == 1
    err = capsys.readouterr().err
    assert "d.sqlite: the database file is corrupt" in err and "Traceback" not in err
