"""The connection: transactions that nest and roll back, the campaigns, the public names."""

from __future__ import annotations

import pytest
from campaign_testkit import ALWAYS, T0, open_store

import trunkline.dialer.store as store_package
from trunkline.dialer.campaigns.strategies import Strategy
from trunkline.dialer.store import Store, StoreError


def test_the_public_names_stay_what_we_mean() -> None:
    assert set(store_package.__all__) == {
        "GLOBAL", "MIGRATIONS", "SCHEMA_VERSION", "Claim", "InFlight", "NewContact",
        "Resolution", "Store", "StoreContacts", "StoreError", "migrate", "ROLES",
        "AuditEntry", "User", "Viewer", "Assignment"}
    for part in ("add_list", "add_dnc", "claim_next", "record_outcome", "abandon_counts",
                 "reconcile", "open_agent_session", "record_verdict", "transaction"):
        assert callable(getattr(Store, part)), part


def test_a_failed_transaction_changes_nothing_and_nested_ones_join_the_outer() -> None:
    store = open_store()
    with pytest.raises(RuntimeError, match="boom"), store.transaction() as db:
        db.execute("INSERT INTO dnc (scope, number, added_at) VALUES ('', '+1', 0)")
        with store.transaction() as inner:   # joins: no second BEGIN
            inner.execute("INSERT INTO dnc (scope, number, added_at) VALUES ('', '+2', 0)")
        raise RuntimeError("boom")
    assert store.query("SELECT COUNT(*) FROM dnc")[0][0] == 0
    with store.transaction() as db:
        db.execute("INSERT INTO dnc (scope, number, added_at) VALUES ('', '+3', 0)")
    assert store.query("SELECT number FROM dnc")[0][0] == "+3"


def test_campaigns_their_strategy_settings_and_creation_time(tmp_path) -> None:
    path = tmp_path / "c.sqlite"
    with Store(path) as store:
        strategy = Strategy(windows=ALWAYS, max_attempts=4)
        store.create_campaign("sales", strategy, config={"mode": "power"}, now=T0)
        store.create_campaign("sales", strategy, config={"mode": "predictive"},
                              now=T0 + 99)                      # an update keeps created_at
    with Store(path) as again:
        assert again.campaigns() == ["sales"]
        assert again.strategy("sales") == strategy
        assert again.campaign_config("sales") == {"mode": "predictive"}
        assert again.campaign_created_at("sales") == T0
        with pytest.raises(StoreError, match=r"no campaign 'nope' \(known: sales\)"):
            again.campaign_id("nope")
        with pytest.raises(StoreError, match="a campaign needs a name"):
            again.create_campaign("")
