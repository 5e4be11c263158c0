"""Deferred commits (issue 17 item 7): inside ``Store.deferred_commits()`` each
transaction is a savepoint of one open transaction, committed at ``flush()``. Each
transaction still succeeds or fails alone; nothing is visible to (or durable for) anyone
else before the flush; everything is after it."""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

import pytest
from campaign_testkit import T0, open_store

from trunkline.dialer.store import Store, StoreError


def _states(path: Path) -> dict[int, str]:
    """Attempt states as another connection sees them (only committed rows)."""
    with sqlite3.connect(path) as other:
        return dict(other.execute("SELECT id, state FROM attempt").fetchall())


def _commits(store: Store) -> list[str]:
    seen: list[str] = []
    store._conn.set_trace_callback(
        lambda sql: seen.append(sql) if sql.strip().upper() == "COMMIT" else None)
    return seen


def test_writes_are_committed_together_at_the_flush(tmp_path: Path) -> None:
    path = tmp_path / "c.sqlite"
    store = open_store(path, contacts=3)
    commits = _commits(store)
    with store.deferred_commits():
        claims = [store.claim_next("sales", T0) for _ in range(3)]
        assert all(claims)
        for claim in claims:
            assert store.mark_dialing(claim.attempt, T0)
        assert _states(path) == {}             # another connection sees nothing yet
        assert commits == []
        store.flush()                           # before the originates
        assert set(_states(path).values()) == {"dialing"} and len(commits) == 1
        store.set_call_ref(claims[0].attempt, "101")
    assert len(commits) == 2                    # the end of the block flushes the rest
    assert store.query("SELECT call_ref FROM attempt WHERE id=?",
                       (claims[0].attempt,))[0][0] == "101"
    store.close()


def test_a_failed_transaction_rolls_back_alone(tmp_path: Path) -> None:
    path = tmp_path / "c.sqlite"
    store = open_store(path, contacts=2)
    with store.deferred_commits():
        first = store.claim_next("sales", T0)
        assert first is not None
        with pytest.raises(StoreError, match="state is released"):
            store.release(first.attempt, not_before=T0)   # fine
            store.release(first.attempt, not_before=T0)   # its own error: rolled back
        with pytest.raises(RuntimeError), store.transaction() as db:
            db.execute("UPDATE contact SET state='done'")
            raise RuntimeError("the caller's own failure")
        second = store.claim_next("sales", T0 + 1)
        assert second is not None
        with pytest.raises(sqlite3.IntegrityError), store.transaction() as db:
            db.execute("INSERT INTO campaign (id, name, strategy, config, created_at) "
                       "SELECT id, name, strategy, config, created_at FROM campaign")
    states = _states(path)
    assert states == {first.attempt: "released", second.attempt: "claimed"}
    assert "done" not in {r[0] for r in store.query("SELECT state FROM contact")}
    store.close()


def test_nothing_deferred_outside_the_block_and_nesting_joins(tmp_path: Path) -> None:
    path = tmp_path / "c.sqlite"
    store = open_store(path, contacts=2)
    claim = store.claim_next("sales", T0)       # committed at once, as always
    assert claim is not None and _states(path) == {claim.attempt: "claimed"}
    store.flush()                               # nothing to do
    with store.deferred_commits():
        with store.deferred_commits():
            assert store.mark_dialing(claim.attempt, T0)
        assert _states(path) == {claim.attempt: "claimed"}   # the inner end is no flush
    assert _states(path) == {claim.attempt: "dialing"}
    store.close()


def test_another_thread_commits_the_deferred_writes_before_its_own(tmp_path: Path) -> None:
    path = tmp_path / "c.sqlite"
    store = open_store(path, contacts=2)
    with store.deferred_commits():
        claim = store.claim_next("sales", T0)
        assert claim is not None
        errors: list[BaseException] = []

        def other() -> None:
            try:
                store.add_user("x", "agent", "hash", now=T0)
                with pytest.raises(StoreError, match="another thread"), \
                        store.deferred_commits():
                    pass
            except BaseException as err:   # reported below
                errors.append(err)
        thread = threading.Thread(target=other)
        thread.start()
        thread.join()
        assert errors == []
        assert _states(path) == {claim.attempt: "claimed"}   # went first, committed
    store.close()


def test_writes_sqlite_rolled_back_make_the_flush_fail(tmp_path: Path) -> None:
    """SQLite may roll a whole transaction back itself (an I/O error, a full disk): the
    earlier savepoints are gone too, so the flush says so instead of letting the caller
    act on them (e.g. dial an attempt whose mark_dialing was lost)."""
    path = tmp_path / "c.sqlite"
    store = open_store(path, contacts=2)
    with pytest.raises(StoreError, match="rolled back"), store.deferred_commits():
        claim = store.claim_next("sales", T0)
        assert claim is not None
        with pytest.raises(StoreError, match="disk I/O"), store.transaction() as db:
            db.execute("ROLLBACK")      # what SQLite does on such an error
            raise sqlite3.OperationalError("disk I/O error")
        store.flush()
    assert _states(path) == {}
    store.flush()                            # reported once; the store works on
    assert store.claim_next("sales", T0) is not None
    store.close()
