"""The real engine pulling contacts from the store, with outcomes persisted before acting."""

from __future__ import annotations

from campaign_testkit import T0, mobile, open_store

from trunkline.dialer.pacing import events as ev
from trunkline.dialer.pacing.actions import Dial, RecordOutcome
from trunkline.dialer.pacing.campaign import CampaignConfig
from trunkline.dialer.pacing.compliance import window_index
from trunkline.dialer.pacing.engine import Engine, quiet_logger
from trunkline.dialer.store import StoreContacts
from trunkline.dialer.vocab import Regime


def _run(engine: Engine, contacts: StoreContacts, event, now: float) -> list:
    actions = engine.handle(event, now)
    refused = contacts.persist(actions, now)  # durable first
    for call_id in refused:                   # then act: a refused dial never goes out
        actions += _run(engine, contacts, ev.CallFailed(call_id, "rejected"), now)
    return [a for a in actions if not (isinstance(a, Dial) and a.call_id in refused)]


def test_engine_dials_store_contacts_and_the_store_records_every_outcome() -> None:
    store = open_store(contacts=6)
    contacts = StoreContacts(
        store, window_of=lambda name, t: window_index(Regime.US, t, start=T0))
    engine = Engine([CampaignConfig("sales", mode="progressive")], contacts,
                    log=quiet_logger())
    now = T0
    _run(engine, contacts, ev.AgentLoggedIn("a1", (("sales", "standard"),)), now)
    dials = [a for a in _run(engine, contacts, ev.AgentReady("a1"), now)
             + _run(engine, contacts, ev.Tick(), now) if isinstance(a, Dial)]
    assert len(dials) == 1
    first = dials[0]
    assert contacts.claim(first.call_id).fields == {"name": "c0"}  # for the agent's screen
    store.add_dnc([mobile(1)], now=now)  # refused while the campaign runs
    now += 5
    out = _run(engine, contacts, ev.CallFailed(first.call_id, "busy"), now)
    out += _run(engine, contacts, ev.Tick(), now + 0.5)
    records = [a for a in out if isinstance(a, RecordOutcome)]
    assert [str(r.outcome) for r in records] == ["busy"]
    second = next(a for a in out if isinstance(a, Dial))
    assert second.contact.number == mobile(2)  # mobile(1) was skipped: on the DNC list
    now += 10
    _run(engine, contacts, ev.CallAnswered(second.call_id, "human"), now)
    now += 60
    _run(engine, contacts, ev.CallHungUp(second.call_id), now)
    rows = store.query("SELECT number, outcome FROM attempt WHERE state='done' ORDER BY id")
    assert [tuple(r) for r in rows] == [(mobile(0), "busy"), (mobile(2), "human")]
    assert store.contact(2)["state"] == "dnc"
    window = window_index(Regime.US, now, start=T0)
    assert store.abandon_counts("sales", window)[0] == 1.0
