"""The claim queries run for every dial and every agent coming free: SQLite must answer
them from an index in their own order (no sort of the campaign's due contacts, no scan
of the contact table), whatever the list's size (issue 17 item 7: at 200 agents the
sort took 72 % of the service's CPU)."""

from __future__ import annotations

from pathlib import Path

from trunkline.dialer.campaigns.strategies import Strategy
from trunkline.dialer.store import NewContact, Store
from trunkline.dialer.store.claims import DUE_CALLBACKS, DUE_CONTACTS


def _plan(store: Store, query: str, params: tuple) -> str:
    return " | ".join(row[3] for row in store.query(f"EXPLAIN QUERY PLAN {query}", params))


def test_due_contacts_and_callbacks_are_read_in_index_order(tmp_path: Path) -> None:
    with Store(tmp_path / "d.sqlite") as store:
        store.create_campaign("c", Strategy(), now=0.0)
        store.add_list("c", "l", [NewContact(f"+86138{i:08d}", {}, line=i + 2)
                                  for i in range(500)], now=0.0)
        store.query("ANALYZE")
        due = _plan(store, DUE_CONTACTS, (1, 1e9, 64))
        assert "USING INDEX contact_due" in due and "TEMP B-TREE" not in due, due
        callbacks = _plan(store, DUE_CALLBACKS, ("a1", 1e9))
        assert "USING INDEX contact_callback_agent" in callbacks, callbacks
        assert "TEMP B-TREE" not in callbacks and "SCAN c" not in callbacks, callbacks


def test_claims_still_come_in_priority_then_due_order(tmp_path: Path) -> None:
    with Store(tmp_path / "d.sqlite") as store:
        store.create_campaign("c", Strategy(windows=Strategy().windows), now=0.0)
        store.add_list("c", "l", [NewContact(f"+86138{i:08d}", {}, line=i + 2)
                                  for i in range(6)], now=0.0)
        ids = [r[0] for r in store.query("SELECT id FROM contact ORDER BY id")]
        with store.transaction() as sql:
            sql.execute("UPDATE contact SET priority=5, next_at=30 WHERE id=?", (ids[4],))
            sql.execute("UPDATE contact SET next_at=20 WHERE id=?", (ids[0],))
            sql.execute("UPDATE contact SET next_at=10 WHERE id=?", (ids[1],))
        rows = store.query(DUE_CONTACTS, (1, 1e9, 64))
        assert [r["id"] for r in rows] == [ids[4], ids[2], ids[3], ids[5], ids[1], ids[0]]
