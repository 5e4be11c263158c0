"""List cleaning's records: verdicts committed with their evidence, undecided numbers
retried within the calling window, refused originates not counted as tries."""

from __future__ import annotations

import json

import pytest
from campaign_testkit import T0, mobile, open_store

from trunkline.dialer.campaigns.strategies import Strategy, Windows
from trunkline.dialer.store import StoreError
from trunkline.dialer.store.cleaning import verdict_note


def _dialing(store, now: float) -> int:
    claim = store.claim_next("sales", now)
    assert claim is not None and store.mark_dialing(claim.attempt, now)
    return claim.attempt


def test_a_verdict_finishes_the_contact_with_its_class() -> None:
    store = open_store(contacts=1)
    attempt = _dialing(store, T0)
    result = store.record_verdict(attempt, cls="invalid", outcome="invalid_number",
                                  evidence="cause 1 (unallocated number)", now=T0 + 3,
                                  cause=1)
    assert result == "invalid"
    row = store.query("SELECT state, outcome, cause, note FROM attempt")[0]
    assert tuple(row[:3]) == ("done", "invalid_number", 1)
    assert json.loads(row["note"]) == {"class": "invalid",
                                       "evidence": "cause 1 (unallocated number)"}
    contact = store.contact(1)
    assert (contact["state"], contact["last_outcome"]) == ("done", "invalid")
    # idempotent: a second verdict for the same attempt changes nothing
    assert store.record_verdict(attempt, cls="live", outcome="busy", evidence="x",
                                now=T0 + 9) == "done"
    assert store.contact(1)["last_outcome"] == "invalid"
    with pytest.raises(StoreError, match="no attempt 99"):
        store.record_verdict(99, cls="live", outcome="busy", evidence="x", now=T0)


def test_an_undecided_number_is_retried_as_often_as_asked_then_finished() -> None:
    windows = Windows.from_dict({"default": ["09:00-10:30"]})    # T0 is 10:00
    store = open_store(contacts=1, strategy=Strategy(windows=windows, max_per_day=10))
    results, t = [], T0
    for _ in range(3):
        attempt = _dialing(store, t)
        results.append(store.record_verdict(
            attempt, cls="unknown", outcome="congestion", evidence="network busy",
            now=t + 5, answered_at=t + 2, retry=(2, 1200.0)))
        t = store.contact(1)["next_at"]
    assert results == ["retry", "retry", "unknown"]
    dialled = [r[0] for r in store.query("SELECT dialed_at FROM attempt ORDER BY id")]
    # the second retry would fall after 10:30: moved to the window's next opening
    assert dialled == [T0, T0 + 5 + 1200.0, T0 + 23 * 3600]
    assert store.query("SELECT answered_at FROM attempt")[0][0] == T0 + 2
    contact = store.contact(1)
    assert (contact["state"], contact["last_outcome"]) == ("done", "unknown")


def test_a_refused_originate_releases_the_attempt() -> None:
    store = open_store(contacts=2)
    attempt = _dialing(store, T0)
    store.release_undialled(attempt, T0 + 1, not_before=T0 + 6, reason="gateway refused")
    row = store.query("SELECT state, ended_at, note FROM attempt")[0]
    assert tuple(row) == ("released", T0 + 1,
                          '{"class": null, "evidence": "gateway refused"}')
    assert (store.contact(1)["state"], store.contact(1)["next_at"]) == ("ready", T0 + 6)
    store.release_undialled(attempt, T0 + 2, not_before=T0 + 99, reason="again")  # no-op
    assert store.contact(1)["next_at"] == T0 + 6


def test_cleaning_rows_carry_the_last_finished_call() -> None:
    store = open_store(contacts=2)
    first = _dialing(store, T0)                                # mobile(0)
    store.record_verdict(first, cls="unknown", outcome="congestion", evidence="first",
                         now=T0 + 1, cause=34, retry=(1, 0.0))
    _dialing(store, T0 + 2)                                    # mobile(1), in flight
    again = _dialing(store, T0 + 2)                            # mobile(0), retried
    store.record_verdict(again, cls="live", outcome="no_answer", evidence="ringing",
                         now=T0 + 3)
    rows = [dict(r) for r in store.cleaning_rows("sales")]
    assert [(r["number"], r["state"], r["attempts"], r["cause"]) for r in rows] == [
        (mobile(0), "done", 2, None), (mobile(1), "dialing", 0, None)]
    assert rows[0]["note"] == verdict_note("live", "ringing")
    assert rows[1]["note"] is None
