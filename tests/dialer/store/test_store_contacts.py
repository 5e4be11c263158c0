"""Contacts: lists merged by number, copies for another campaign, what is left to call."""

from __future__ import annotations

from campaign_testkit import T0, mobile, open_store

from trunkline.dialer.store import NewContact


def test_merge_within_and_across_lists_keeps_history_and_columns() -> None:
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


def test_copyable_contacts_leave_out_barred_numbers() -> None:
    store = open_store(contacts=3)
    store.add_dnc([mobile(1)], now=T0)
    assert [store.claim_next("sales", T0).number for _ in range(2)] == \
        [mobile(0), mobile(2)]                      # claims skip mobile(1), and mark it
    assert store.contact(2)["state"] == "dnc"
    rows = store.copyable_contacts("sales")
    assert [(r.number, dict(r.fields), r.line) for r in rows] == [
        (mobile(0), {"name": "c0"}, 1), (mobile(2), {"name": "c2"}, 2)]


def test_open_contacts_and_next_due() -> None:
    store = open_store(contacts=2)
    store.create_campaign("other", now=T0)
    assert store.open_contacts(["sales"]) == 2 and store.open_contacts(["other"]) == 0
    assert store.next_due("sales") == 0.0 and store.next_due("other") is None
    first = store.claim_next("sales", T0)
    store.mark_dialing(first.attempt, T0)
    assert store.open_contacts(["sales", "other"]) == 2          # one ready, one dialing
    store.record_outcome(first.attempt, "busy", T0 + 30)          # retried in 10 minutes
    second = store.claim_next("sales", T0 + 40)
    store.mark_dialing(second.attempt, T0 + 40)
    store.record_outcome(second.attempt, "human", T0 + 100)
    assert store.open_contacts(["sales"]) == 1
    assert store.next_due("sales") == T0 + 30 + 600
