"""Claims: a due contact is handed out once, committed, and dialled only when allowed."""

from __future__ import annotations

import pytest
from campaign_testkit import T0, open_store

from trunkline.dialer.store import StoreError


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


def test_an_attempt_is_dialled_once_and_keeps_the_gateway_call() -> None:
    store = open_store(contacts=1)
    claim = store.claim_next("sales", T0)
    assert store.mark_dialing(claim.attempt, T0 + 1, agent="a1")
    with pytest.raises(StoreError, match=f"cannot dial attempt {claim.attempt}: state is "
                                         "dialing"):
        store.mark_dialing(claim.attempt, T0 + 2)
    with pytest.raises(StoreError, match=f"cannot release attempt {claim.attempt}"):
        store.release(claim.attempt, not_before=T0)
    store.set_call_ref(claim.attempt, "17")
    row = store.query("SELECT state, dialed_at, agent, call_ref FROM attempt")[0]
    assert tuple(row) == ("dialing", T0 + 1, "a1", "17")
    with pytest.raises(StoreError, match="no attempt 99"):
        store.mark_dialing(99, T0)
