"""The schema: WAL at the latest version, migrations that keep data, newer ones refused."""

from __future__ import annotations

import sqlite3

import pytest
from campaign_testkit import T0, open_store

from trunkline.dialer.campaigns import reports
from trunkline.dialer.store import MIGRATIONS, SCHEMA_VERSION, Store, StoreError, migrate


def test_new_database_is_wal_at_the_latest_schema(tmp_path) -> None:
    store = open_store(tmp_path / "c.sqlite")
    assert store.query("PRAGMA journal_mode")[0][0] == "wal"
    assert store.query("PRAGMA user_version")[0][0] == SCHEMA_VERSION
    store.close()


def test_migration_from_version_1_keeps_data(tmp_path) -> None:
    path = tmp_path / "old.sqlite"
    conn = sqlite3.connect(path, isolation_level=None)
    conn.executescript(MIGRATIONS[0] + "PRAGMA user_version = 1;")
    conn.execute("INSERT INTO campaign (name, created_at) VALUES ('old', 0)")
    conn.execute("INSERT INTO contact (campaign_id, number, created_at) VALUES (1, '+1', 0)")
    conn.close()
    store = Store(path)
    assert store.schema_found == 1
    assert store.query("SELECT number, preview FROM contact")[0][:] == ("+1", 0)
    store.close()


def test_a_newer_schema_is_refused(tmp_path) -> None:
    path = tmp_path / "new.sqlite"
    conn = sqlite3.connect(path)
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    conn.close()
    with pytest.raises(StoreError, match="newer than this trunkline"):
        Store(path)


def test_migrate_is_idempotent() -> None:
    conn = sqlite3.connect(":memory:", isolation_level=None)
    assert migrate(conn) == 0
    assert migrate(conn) == SCHEMA_VERSION


def test_migration_from_version_2_keeps_data_and_adds_sessions(tmp_path) -> None:
    path = tmp_path / "v2.sqlite"
    conn = sqlite3.connect(path, isolation_level=None)
    conn.executescript(MIGRATIONS[0] + MIGRATIONS[1] + "PRAGMA user_version = 2;")
    conn.execute("INSERT INTO campaign (name, created_at) VALUES ('old', ?)", (T0,))
    conn.execute("INSERT INTO contact (campaign_id, number, attempts, state, created_at) "
                 "VALUES (1, '+8613800138000', 1, 'done', ?)", (T0,))
    conn.execute("INSERT INTO attempt (contact_id, campaign_id, number, state, claimed_at, "
                 "ended_at, outcome, agent, talk, wrap) VALUES (1, 1, '+8613800138000', "
                 "'done', ?, ?, 'human', 'a1', 50, 10)", (T0, T0 + 60))
    conn.close()
    store = Store(path)
    assert store.schema_found == 2
    assert store.query("PRAGMA user_version")[0][0] == SCHEMA_VERSION >= 3
    assert tuple(store.query("SELECT number, state, preview FROM contact")[0]) == \
        ("+8613800138000", "done", 0)
    assert store.query("SELECT COUNT(*) FROM agent_session")[0][0] == 0
    indexes = {r[0] for r in store.query(
        "SELECT name FROM sqlite_master WHERE type='index' AND tbl_name='agent_session'")}
    assert {"agent_session_time", "agent_session_open"} <= indexes
    (old,) = reports.report(store, by="agent")
    assert (old["connects"], old["avg_talk"], old["occupancy"]) == (1, 50.0, None)
    session = store.open_agent_session("a1", ["old"], T0 + 3600)
    store.close_agent_session(session, T0 + 7200)
    store.close()
    again = Store(path)
    assert again.schema_found == SCHEMA_VERSION
    assert again.query("SELECT ended_how FROM agent_session")[0][0] == "logout"
    again.close()
