"""Abandon counters survive a restart and seed the engine's ledger; hour-of-week stats."""

from __future__ import annotations

from campaign_testkit import SHANGHAI, T0, finished_call, open_store

from trunkline.dialer.campaigns.strategies import hour_of_week
from trunkline.dialer.pacing.compliance import AbandonLedger
from trunkline.dialer.store import Store
from trunkline.dialer.vocab import Regime


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


def test_hour_stats_count_dials_and_live_answers_by_local_hour() -> None:
    store = open_store(contacts=4)
    finished_call(store, T0 + 600, outcome="human", talk=60)       # claimed 10:08
    finished_call(store, T0 + 660, outcome="no_answer")             # claimed 10:10
    finished_call(store, T0 + 4000, outcome="abandoned")            # claimed 11:06
    ten, eleven = hour_of_week(T0, SHANGHAI), hour_of_week(T0 + 3600, SHANGHAI)
    stats = store.hour_stats("sales")
    assert (stats.dials[ten], stats.live[ten]) == (2, 1)
    assert (stats.dials[eleven], stats.live[eleven]) == (1, 1)    # abandoned: a person
    assert sum(stats.dials) == 3
    later = store.hour_stats("sales", since=T0 + 3600)
    assert (sum(later.dials), later.dials[eleven]) == (1, 1)
