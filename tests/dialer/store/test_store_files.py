"""A campaign database that cannot be used says which file and why, and loses nothing
(issue 15, red-team 12: raw sqlite3 errors, a full disk masked by "cannot rollback - no
transaction is active")."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from trunkline.dialer.errors import StoreError
from trunkline.dialer.store import Store
from trunkline.dialer.store.database import Database


@pytest.mark.parametrize(("make", "match"), [
    (lambda d: d, r"is a folder, not a campaign database file"),
    (lambda d: d / "missing" / "x.sqlite", r"the folder .*missing does not exist"),
    (lambda d: (d / "notes.txt").write_text("hello, not a database " * 100) and
     d / "notes.txt", r"notes.txt: cannot open the campaign database: it is not a database"),
])
def test_unusable_files_are_named_with_the_reason(tmp_path: Path, make, match) -> None:
    with pytest.raises(StoreError, match=match):
        Store(make(tmp_path))


def test_a_locked_database_says_so_and_the_stored_rows_stay(tmp_path: Path) -> None:
    path = tmp_path / "d.sqlite"
    Store(path).close()
    db = Database(path, timeout=0.1)
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("BEGIN EXCLUSIVE")
    try:
        with pytest.raises(StoreError, match=r"d.sqlite: another process holds the "
                                             r"database locked"), db.transaction() as conn:
            conn.execute("CREATE TABLE t (x)")
    finally:
        other.execute("ROLLBACK")
        other.close()
    with db.transaction() as conn:  # usable again once the other lets go
        conn.execute("CREATE TABLE t (x)")
    db.close()


def test_a_failed_commit_names_the_cause_not_a_rollback_error(tmp_path: Path) -> None:
    """When COMMIT fails SQLite may already have rolled back; the error must be the
    commit's (the disk is full), not "no transaction is active"."""
    db = Database(tmp_path / "d.sqlite")
    with db.transaction() as conn:
        conn.execute("CREATE TABLE t (x INTEGER CHECK (x < 10))")
        conn.execute("CREATE TABLE big (b BLOB)")
    # A database capped at its current size fails like a full disk on the next write.
    pages = db._conn.execute("PRAGMA page_count").fetchone()[0]
    db._conn.execute(f"PRAGMA max_page_count={pages}")
    with pytest.raises(StoreError, match=r"the disk is full; nothing of this transaction "
                                         r"was stored"), db.transaction() as conn:
        conn.execute("INSERT INTO big VALUES (zeroblob(1000000))")
    with db.transaction() as conn:  # and the store goes on
        conn.execute("INSERT INTO t VALUES (1)")
    assert db._conn.execute("SELECT COUNT(*) FROM big").fetchone()[0] == 0
    db.close()
