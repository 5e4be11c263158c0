"""DNC lists: effective at claim and at dial, prefixes and scopes, numbers barred in bulk."""

from __future__ import annotations

from campaign_testkit import T0, mobile, open_store


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


def test_block_numbers_lists_them_and_blocks_waiting_contacts() -> None:
    store = open_store(contacts=4)
    dialing = store.claim_next("sales", T0)          # mobile(0): being dialled
    store.mark_dialing(dialing.attempt, T0)
    bad = {"invalid": [mobile(0), mobile(1)], "barred": [mobile(2), "+8613999999999"]}
    assert store.block_numbers("sales", bad, source="clean", now=T0, dry_run=True) == \
        (4, 2, 1)
    assert store.query("SELECT COUNT(*) FROM dnc")[0][0] == 0       # dry run: nothing
    assert store.contact(2)["state"] == "ready"
    assert store.block_numbers("sales", bad, source="clean", now=T0 + 1) == (4, 2, 1)
    rows = store.query("SELECT scope, number, kind, source FROM dnc ORDER BY number")
    assert [tuple(r) for r in rows] == [
        ("sales", mobile(0), "invalid", "clean"), ("sales", mobile(1), "invalid", "clean"),
        ("sales", mobile(2), "barred", "clean"), ("sales", "+8613999999999", "barred",
                                                  "clean")]
    states = {r["number"]: (r["state"], r["last_outcome"]) for r in store.query(
        "SELECT number, state, last_outcome FROM contact")}
    assert states == {mobile(0): ("dialing", None), mobile(1): ("dnc", "invalid"),
                      mobile(2): ("dnc", "barred"), mobile(3): ("ready", None)}
    # again: already listed and blocked; the one being dialled still counts as busy
    assert store.block_numbers("sales", bad, source="clean", now=T0 + 2) == (0, 0, 1)
    assert store.block_numbers("sales", bad, source="clean", now=T0 + 2,
                               dry_run=True) == (0, 0, 1)
