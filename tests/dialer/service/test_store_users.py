"""Users, the audit log and the scoped views of the campaign database (schema 4)."""

from __future__ import annotations

import pytest
from campaign_testkit import T0, finished_call, open_store

from trunkline.dialer.store import Store, StoreError, Viewer


def test_users_are_added_listed_changed_and_disabled(tmp_path) -> None:
    path = tmp_path / "d.sqlite"
    with open_store(path) as store:
        store.add_user("li", "agent", "$argon2id$x", now=T0)
        store.add_user("boss", "supervisor", "$argon2id$y", now=T0 + 1)
        store.set_password_hash("li", "$argon2id$z", now=T0 + 5)
        store.set_disabled("boss", True, now=T0 + 6)
    with Store(path) as again:  # committed: a second connection sees it
        li, boss = again.get_user("li"), again.get_user("boss")
        assert [u.name for u in again.users()] == ["boss", "li"]
    assert (li.role, li.password_hash, li.created_at, li.changed_at) == (
        "agent", "$argon2id$z", T0, T0 + 5)
    assert boss.disabled and not li.disabled


@pytest.mark.parametrize(("name", "role", "match"), [
    ("li", "agent", "already exists"),
    ("wang", "boss", "unknown role 'boss' .roles: agent, supervisor, admin"),
    ("two words", "agent", "bad user name"),
    ("", "agent", "bad user name"),
])
def test_a_bad_user_is_refused_and_nothing_stored_is_lost(name: str, role: str,
                                                          match: str) -> None:
    store = open_store()
    store.add_user("li", "agent", "$argon2id$x", now=T0)
    with pytest.raises(StoreError, match=match):
        store.add_user(name, role, "$argon2id$new", now=T0 + 1)
    assert [(u.name, u.password_hash) for u in store.users()] == [("li", "$argon2id$x")]


def test_changing_an_unknown_user_names_it() -> None:
    store = open_store()
    with pytest.raises(StoreError, match="no user 'ghost'"):
        store.set_disabled("ghost", True, now=T0)
    with pytest.raises(StoreError, match="no user 'ghost'"):
        store.get_user("ghost")
    assert store.find_user("ghost") is None


def test_the_audit_log_keeps_who_when_what_and_from_where() -> None:
    store = open_store()
    store.audit("login", now=T0, user="li", remote="10.0.0.7")
    store.audit("campaign.start", now=T0 + 2, user="boss", target="sales",
                details={"mode": "predictive", "名": "销售"}, remote="10.0.0.8")
    newest, first = store.audit_entries()
    assert (newest.user, newest.action, newest.target, newest.details, newest.remote) == (
        "boss", "campaign.start", "sales", {"mode": "predictive", "名": "销售"}, "10.0.0.8")
    assert first.ts == T0 and first.action == "login"
    assert [e.action for e in store.audit_entries(user="li")] == ["login"]
    assert store.audit_entries(since=T0 + 1) == [newest]
    with pytest.raises(StoreError, match="needs an action"):
        store.audit("", now=T0)


def test_an_agent_sees_only_its_own_calls_and_contacts() -> None:
    store = open_store(contacts=4)
    mine = finished_call(store, T0 + 100, agent="li", talk=20.0)
    theirs = finished_call(store, T0 + 200, agent="wang", talk=30.0)
    finished_call(store, T0 + 300, agent=None)  # nobody's: a machine
    li, boss = Viewer("li", "agent"), Viewer("boss", "supervisor")
    assert [c["id"] for c in store.calls_for(li)] == [mine]
    # an agent cannot widen its scope by naming another agent
    assert [c["id"] for c in store.calls_for(li, agent="wang")] == [mine]
    assert len(store.calls_for(boss)) == 3
    assert [c["id"] for c in store.calls_for(boss, agent="wang")] == [theirs]
    my_contact = store.calls_for(li)[0]["contact_id"]
    their_contact = store.calls_for(boss, agent="wang")[0]["contact_id"]
    seen = store.contact_for(li, my_contact)
    assert seen is not None and [c["id"] for c in seen["calls"]] == [mine]
    assert seen["fields"] == {"name": "c0"}
    assert store.contact_for(li, their_contact) is None
    assert store.contact_for(boss, their_contact) is not None
    assert store.contact_for(boss, 999_999) is None
