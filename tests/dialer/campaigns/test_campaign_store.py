"""The store: migrations, claiming, outcomes, DNC at dial time, callbacks, counters."""

from __future__ import annotations

import sqlite3

import pytest
from campaign_testkit import ALWAYS, T0, mobile, open_store

from trunkline.dialer.campaigns.strategies import Strategy
from trunkline.dialer.pacing.compliance import AbandonLedger
from trunkline.dialer.store import (
    MIGRATIONS,
    SCHEMA_VERSION,
    InFlight,
    Resolution,
    Store,
    StoreError,
    migrate,
)
from trunkline.dialer.vocab import Regime


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


def test_a_claim_is_never_handed_out_twice() -> None:
    store = open_store(contacts=3)
    claims = [store.claim_next("sales", T0) for _ in range(4)]
    assert claims[3] is None
    assert len({c.contact for c in claims[:3]}) == 3
    assert claims[0].fields == {"name": "c0"}


def test_release_returns_the_contact_no_earlier_than_asked() -> None:
    store = open_store(contacts=1)
    claim = store.claim_next("sales", T0)
    store.release(claim.attempt, not_before=T0 + 120)
    assert store.claim_next("sales", T0 + 119) is None
    assert store.claim_next("sales", T0 + 120).contact == claim.contact


def test_outcome_schedules_the_retry_by_outcome() -> None:
    store = open_store(contacts=1, strategy=Strategy(windows=ALWAYS, max_per_day=10,
                                                     max_per_week=20))
    claim = store.claim_next("sales", T0)
    assert store.mark_dialing(claim.attempt, T0)
    due = store.record_outcome(claim.attempt, "busy", T0 + 30)
    assert due == T0 + 30 + 600
    assert store.record_outcome(claim.attempt, "busy", T0 + 31) is None  # idempotent
    assert store.claim_next("sales", due - 1) is None
    second = store.claim_next("sales", due)
    store.mark_dialing(second.attempt, due)
    assert store.record_outcome(second.attempt, "human", due + 60) is None
    row = store.contact(claim.contact)
    assert (row["state"], row["attempts"], row["last_outcome"]) == ("done", 2, "human")


def test_max_attempts_ends_the_contact() -> None:
    store = open_store(contacts=1, strategy=Strategy(windows=ALWAYS, max_attempts=2,
                                                     max_per_day=10, max_per_week=20))
    t = T0
    for _ in range(2):
        claim = store.claim_next("sales", t)
        store.mark_dialing(claim.attempt, t)
        due = store.record_outcome(claim.attempt, "no_answer", t + 30)
        t = (due or t) + 1
    assert due is None
    assert store.contact(claim.contact)["state"] == "done"


def test_dnc_added_while_running_is_honoured_at_claim_and_at_dial() -> None:
    store = open_store(contacts=2)
    held = store.claim_next("sales", T0)          # e.g. a preview shown to an agent
    store.add_dnc([held.number], now=T0 + 1)      # the customer calls in to refuse
    assert store.mark_dialing(held.attempt, T0 + 2) is False
    assert store.contact(held.contact)["state"] == "dnc"
    store.add_dnc([mobile(1)], now=T0 + 3, campaign="sales", kind="blacklist")
    assert store.claim_next("sales", T0 + 4) is None
    assert store.contact(2)["last_outcome"] == "blacklist"


def test_dnc_prefixes_and_scopes() -> None:
    store = open_store(contacts=1)
    store.create_campaign("other", now=T0)
    store.add_dnc(["+86138*"], now=T0, campaign="other")
    assert store.dnc_hit(mobile(0), "other") == "dnc"
    assert store.dnc_hit(mobile(0), "sales") is None
    assert store.remove_dnc(["+86138*"], campaign="other") == 1
    assert store.dnc_hit(mobile(0), "other") is None


def test_personal_callback_goes_to_its_agent_only() -> None:
    store = open_store(contacts=1)
    claim = store.claim_next("sales", T0)
    store.mark_dialing(claim.attempt, T0)
    store.schedule_callback(claim.contact, T0 + 3600, now=T0 + 10, agent="a1")
    assert store.record_outcome(claim.attempt, "human", T0 + 60) == T0 + 3600
    assert store.claim_next("sales", T0 + 4000) is None
    assert store.claim_callback("a2", T0 + 4000) is None
    assert store.claim_callback("a1", T0 + 3599) is None
    taken = store.claim_callback("a1", T0 + 4000)
    assert taken.contact == claim.contact and taken.callback_agent == "a1"


def test_callback_for_anyone_comes_back_as_a_preview_record() -> None:
    store = open_store(contacts=1)
    claim = store.claim_next("sales", T0)
    store.mark_dialing(claim.attempt, T0)
    store.record_outcome(claim.attempt, "human", T0 + 60)
    store.schedule_callback(claim.contact, T0 + 7200, now=T0 + 70)
    again = store.claim_next("sales", T0 + 7200)
    assert again.contact == claim.contact and again.preview


def test_abandon_counters_are_durable_and_restore_the_ledger(tmp_path) -> None:
    path = tmp_path / "c.sqlite"
    store = open_store(path, contacts=3)
    outcomes = ["human", "abandoned", "machine"]
    for i, outcome in enumerate(outcomes):
        claim = store.claim_next("sales", T0 + i)
        store.mark_dialing(claim.attempt, T0 + i)
        store.mark_answered(claim.attempt, "human" if outcome != "machine" else "machine",
                            T0 + i + 5, window=7)
        store.record_outcome(claim.attempt, outcome, T0 + i + 6, window=7)
    store.close()
    again = Store(path)
    assert again.abandon_counts("sales", 7) == (2.0, 1.0, 1.0)
    ledger = AbandonLedger(Regime.UK, 0.03, amd_false_positive_rate=0.5)
    again.restore_ledger(ledger, "sales", 7)
    assert (ledger.window, ledger.live, ledger.abandoned) == (7, 2.5, 1.5)


def test_uk_abandon_lockout_blocks_for_72_hours() -> None:
    strategy = Strategy(windows=ALWAYS, abandon_lockout=72 * 3600, max_per_day=10,
                        max_per_week=20)
    store = open_store(contacts=1, strategy=strategy)
    claim = store.claim_next("sales", T0)
    store.mark_dialing(claim.attempt, T0)
    due = store.record_outcome(claim.attempt, "abandoned", T0 + 10, window=0)
    assert due == T0 + 10 + 72 * 3600
    assert store.claim_next("sales", due - 1) is None
    assert store.claim_next("sales", due) is not None


def test_reconcile_after_restart_never_redials_at_once() -> None:
    store = open_store(contacts=3)
    claimed = store.claim_next("sales", T0)                 # never sent
    dialing = store.claim_next("sales", T0)
    store.mark_dialing(dialing.attempt, T0)                  # may have gone out
    known = store.claim_next("sales", T0)
    store.mark_dialing(known.attempt, T0, call_ref="gw-9")

    def ask_gateway(item: InFlight) -> Resolution:
        return Resolution("no_answer") if item.call_ref == "gw-9" else Resolution()

    counts = store.reconcile(ask_gateway, T0 + 100)
    assert counts == {"released": 1, "resolved": 1, "unknown": 1, "still_up": 0}
    assert store.in_flight() == []
    assert store.claim_next("sales", T0 + 100).contact == claimed.contact
    assert store.claim_next("sales", T0 + 100) is None       # the other two wait
    note = store.query("SELECT note FROM attempt WHERE id=?", (dialing.attempt,))[0][0]
    assert note == "unknown after restart"


def test_merge_within_and_across_lists_keeps_history_and_columns() -> None:
    from trunkline.dialer.store import NewContact

    store = open_store(contacts=1)
    claim = store.claim_next("sales", T0)
    store.mark_dialing(claim.attempt, T0)
    store.record_outcome(claim.attempt, "no_answer", T0 + 30)
    counts = store.add_list("sales", "second", [
        NewContact(mobile(0), {"name": "c0", "amount": "12"}, line=2),
        NewContact(mobile(5), {"name": "new"}, line=3),
        NewContact(mobile(5), {"name": "new", "city": "SH"}, line=4),
    ], now=T0 + 60)
    assert (counts["added"], counts["merged"]) == (1, 2)
    assert store.contact(claim.contact)["attempts"] == 1
    assert store.contact_fields(claim.contact) == {"name": "c0", "amount": "12"}
    assert store.query("SELECT fields FROM contact WHERE number=?",
                       (mobile(5),))[0][0] == '{"name": "new", "city": "SH"}'
