"""After a restart: claimed attempts released, dialing ones settled, none redialled at once."""

from __future__ import annotations

from campaign_testkit import T0, open_store

from trunkline.dialer.store import InFlight, Resolution


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


def test_recover_releases_only_what_never_left_and_still_up_calls_stay() -> None:
    store = open_store(contacts=3)
    claimed = store.claim_next("sales", T0)
    up = store.claim_next("sales", T0)
    store.mark_dialing(up.attempt, T0, call_ref="5")
    assert store.recover(T0 + 10) == 1
    assert [(i.attempt, i.state, i.call_ref) for i in store.in_flight()] == \
        [(up.attempt, "dialing", "5")]
    counts = store.reconcile(lambda item: Resolution(still_up=True), T0 + 20)
    assert counts == {"released": 0, "resolved": 0, "unknown": 0, "still_up": 1}
    assert store.query("SELECT state FROM attempt WHERE id=?", (claimed.attempt,))[0][0] \
        == "released"
