"""After a crash (issue 15, red-team 6): what the store knew of a call is kept, and a
call never known to be answered is retried, not finished. Before, every attempt left
``dialing`` became a final ``error``: bridged conversations were lost from the reports
(fewer answers than the abandon window counted) and contacts at their last attempt were
never called again."""

from __future__ import annotations

from campaign_testkit import ALWAYS, T0, open_store

from trunkline.dialer.campaigns.strategies import Strategy

ONE_TRY = Strategy(windows=ALWAYS, max_attempts=1, retries={"error": 900.0})


def dialing(store):
    claim = store.claim_next("sales", T0)
    assert store.mark_dialing(claim.attempt, T0)
    return claim


def test_a_bridged_call_is_kept_as_a_conversation() -> None:
    store = open_store(contacts=1, strategy=ONE_TRY)
    claim = dialing(store)
    store.mark_answered(claim.attempt, "human", T0 + 10, window=0)
    store.mark_bridged(claim.attempt, "agent-71", T0 + 11)
    assert store.record_lost(claim.attempt, T0 + 100, window_of=lambda c, t: 0) == "human"
    row = store.query("SELECT state, outcome, agent FROM attempt")[0]
    assert tuple(row) == ("done", "human", "agent-71")
    assert store.contact(claim.contact)["last_outcome"] == "human"
    assert store.abandon_counts("sales", 0) == (1.0, 0.0, 0.0)   # counted once, at answer


def test_a_person_answered_and_left_without_an_agent_is_an_abandon() -> None:
    store = open_store(contacts=1, strategy=ONE_TRY)
    claim = dialing(store)
    store.mark_answered(claim.attempt, "human", T0 + 10, window=3)
    windows = []
    outcome = store.record_lost(claim.attempt, T0 + 100,
                                window_of=lambda c, t: windows.append((c, t)) or 3)
    assert outcome == "abandoned" and windows == [("sales", T0 + 10)]
    assert store.abandon_counts("sales", 3) == (1.0, 1.0, 0.0)


def test_a_machine_answer_is_kept() -> None:
    store = open_store(contacts=1, strategy=ONE_TRY)
    claim = dialing(store)
    store.mark_answered(claim.attempt, "machine", T0 + 10, window=0)
    assert store.record_lost(claim.attempt, T0 + 100) == "machine"
    assert store.abandon_counts("sales", 0) == (0.0, 0.0, 1.0)


def test_an_unknown_call_is_retried_even_at_the_last_attempt() -> None:
    store = open_store(contacts=1, strategy=ONE_TRY)
    claim = dialing(store)
    assert store.record_lost(claim.attempt, T0 + 100) == "error"
    contact = store.contact(claim.contact)
    assert (contact["state"], contact["attempts"]) == ("ready", 0)   # not counted
    assert contact["next_at"] == T0 + 100 + 900.0                     # the error delay
    assert store.claim_next("sales", T0 + 100 + 899) is None          # never at once
    again = store.claim_next("sales", T0 + 100 + 900)
    assert again is not None and again.contact == claim.contact
    assert store.abandon_counts("sales", 0) == (0.0, 0.0, 0.0)


def test_a_strategy_without_an_error_retry_still_retries_a_crash() -> None:
    store = open_store(contacts=1, strategy=Strategy(windows=ALWAYS, retries={}))
    claim = dialing(store)
    store.record_lost(claim.attempt, T0)
    assert store.contact(claim.contact)["state"] == "ready"


def test_settled_attempts_are_left_alone() -> None:
    store = open_store(contacts=1, strategy=ONE_TRY)
    claim = dialing(store)
    store.record_outcome(claim.attempt, "busy", T0 + 5)
    assert store.record_lost(claim.attempt, T0 + 100) is None
    assert store.query("SELECT outcome FROM attempt")[0][0] == "busy"
