"""Agent sessions: login to logout committed; a crashed runner's sessions closed at the
agent's last known activity, never counting the outage."""

from __future__ import annotations

import json

import pytest
from campaign_testkit import ALWAYS, T0, open_store
from campaign_testkit import finished_call as _call

from trunkline.dialer.campaigns import reports
from trunkline.dialer.campaigns.strategies import Strategy
from trunkline.dialer.store import Resolution, StoreError


def _by_agent(rows: list[dict]) -> dict[str, dict]:
    return {r["agent"]: r for r in rows}


def test_a_crashed_runners_session_ends_at_the_agents_last_activity() -> None:
    store = open_store(contacts=4)
    store.create_campaign("other", Strategy(windows=ALWAYS), now=T0)
    crashed = store.open_agent_session("a1", ["sales"], T0)
    idle = store.open_agent_session("a2", ["sales"], T0 + 100)
    elsewhere = store.open_agent_session("a3", ["other"], T0)
    _call(store, T0 + 600, agent="a1", talk=300, wrap=60)      # busy until T0 + 660
    _call(store, T0 + 900)                                      # not a1's
    claim = store.claim_next("sales", T0 + 799)
    store.mark_dialing(claim.attempt, T0 + 800, agent="a1")     # then the runner died
    # the restart settles the attempt first (stamped with the restart time) ...
    assert store.reconcile(lambda item: Resolution(), T0 + 5000)["unknown"] == 1
    # ... which must not count the outage as logged in
    assert store.close_stale_sessions(["sales"], T0 + 5000) == 2
    got = {r["id"]: tuple(r) for r in store.query(
        "SELECT id, ended_at, ended_how FROM agent_session")}
    assert got[crashed][1:] == (T0 + 800, "crash")
    assert got[idle][1:] == (T0 + 100, "crash")                 # no activity: its start
    assert got[elsewhere][1:] == (None, None)                   # another campaign's runner
    assert store.close_stale_sessions(["sales"], T0 + 6000) == 0
    row = _by_agent(reports.report(store, by="agent", now=T0 + 6000))["a1"]
    assert row["occupancy"] == round(360 / 800, 4)


def test_session_lifecycle_and_errors() -> None:
    store = open_store(contacts=1)
    first = store.open_agent_session("a1", ["sales", "sales"], T0)
    assert json.loads(store.query("SELECT campaigns FROM agent_session")[0][0]) == ["sales"]
    # an open session counts up to now; without now, up to the latest record
    assert _by_agent(reports.report(store, by="agent", now=T0 + 1800))["a1"][
        "logged_in_h"] == 0.5
    # logging in again: the earlier session is a leftover, closed as a crash
    second = store.open_agent_session("a1", ["sales"], T0 + 3600)
    assert tuple(store.query("SELECT ended_at, ended_how FROM agent_session WHERE id=?",
                             (first,))[0]) == (T0, "crash")
    store.close_agent_session(second, T0 + 7200)
    store.close_agent_session(second, T0 + 9999, how="crash")   # idempotent
    assert tuple(store.query("SELECT ended_at, ended_how FROM agent_session WHERE id=?",
                             (second,))[0]) == (T0 + 7200, "logout")
    with pytest.raises(StoreError, match="no agent session 99"):
        store.close_agent_session(99, T0)
    third = store.open_agent_session("a1", ["sales"], T0 + 8000)
    with pytest.raises(StoreError, match=f"cannot end agent session {third}"):
        store.close_agent_session(third, T0 + 7999)
    with pytest.raises(StoreError, match="no campaign 'nope'"):
        store.open_agent_session("a2", ["nope"], T0)
    with pytest.raises(StoreError, match="no campaign"):
        store.open_agent_session("a2", [], T0)
    with pytest.raises(StoreError, match="agent id"):
        store.open_agent_session("", ["sales"], T0)
