"""Outcomes: the contact's next time by outcome, limits, lockouts, callbacks, and the
facts added to an attempt after its outcome."""

from __future__ import annotations

from campaign_testkit import ALWAYS, T0, open_store

from trunkline.dialer.campaigns.strategies import Strategy


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


def test_talk_wrap_and_note_are_added_after_the_outcome() -> None:
    store = open_store(contacts=1)
    claim = store.claim_next("sales", T0)
    store.mark_dialing(claim.attempt, T0)
    store.record_outcome(claim.attempt, "human", T0 + 60)
    store.set_talk(claim.attempt, "a1", 42.5)
    store.set_wrap(claim.attempt, 5.0)
    store.set_note(claim.attempt, "machine message left")
    row = store.query("SELECT outcome, agent, talk, wrap, note FROM attempt")[0]
    assert tuple(row) == ("human", "a1", 42.5, 5.0, "machine message left")


def test_a_lost_attempt_is_an_error_retried_after_the_error_delay() -> None:
    store = open_store(contacts=1, strategy=Strategy(windows=ALWAYS,
                                                     retries={"error": 900.0}))
    claim = store.claim_next("sales", T0)
    store.mark_dialing(claim.attempt, T0)
    store.record_lost(claim.attempt, T0 + 100)
    row = store.query("SELECT state, outcome, note FROM attempt")[0]
    assert tuple(row) == ("done", "error", "unknown after restart")
    assert store.contact(claim.contact)["next_at"] == T0 + 100 + 900.0
    assert store.abandon_counts("sales", 0) == (0.0, 0.0, 0.0)  # counted nowhere
