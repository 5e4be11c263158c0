"""Per-user campaign assignment: an admin sets which campaigns (and at which level) each
agent may log in to at the desk, over the API and with ``trunkline users assign``; the
desk login refuses a campaign not assigned, naming it; everything is audited."""

from __future__ import annotations

import io
import json
import sys
from pathlib import Path

import pytest
from campaign_testkit import ALWAYS, T0
from web_kit import client, login, make_db

from trunkline.cli import main
from trunkline.dialer.campaigns.strategies import Strategy
from trunkline.dialer.store import Store


def _with_loans(folder: Path) -> Path:
    db = make_db(folder)
    with Store(db) as store:
        store.create_campaign("loans", Strategy(windows=ALWAYS, max_attempts=1), now=T0)
    return db


def test_an_admin_assigns_and_the_desk_login_refuses_what_is_not_assigned(
        tmp_path: Path) -> None:
    db = _with_loans(tmp_path)
    with client(tmp_path, desk=True) as c:
        h = {"X-CSRF-Token": login(c, "li")}
        r = c.post("/api/desk/login", headers=h, json={
            "position": "fxs", "address": "71", "campaigns": [{"name": "loans"}]})
        assert r.status_code == 403
        assert "campaign 'loans' is not assigned to li" in r.json()["message"]
        r = c.post("/api/desk/login", headers=h, json={
            "position": "fxs", "address": "71",
            "campaigns": [{"name": "sales", "level": "high"}]})
        assert r.status_code == 403 and "at level standard, not high" in r.json()["message"]
        assert c.put("/api/users/li/campaigns/loans", headers=h,
                     json={"level": "high"}).status_code == 403  # agents cannot assign
        admin = {"X-CSRF-Token": login(c, "root")}
        r = c.put("/api/users/li/campaigns/loans", headers=admin, json={"level": "high"})
        assert r.status_code == 200 and r.json()["level"] == "high"
        got = c.get("/api/users/li/campaigns").json()
        assert [(a["campaign"], a["level"]) for a in got] == [("loans", "high"),
                                                              ("sales", "standard")]
        assert c.put("/api/users/li/campaigns/nope", headers=admin,
                     json={}).status_code == 404
        assert c.put("/api/users/ghost/campaigns/loans", headers=admin,
                     json={}).status_code == 404
        r = c.put("/api/users/li/campaigns/loans", headers=admin, json={"level": "top"})
        assert r.status_code == 422 and r.json()["fields"][0]["field"] == "body.level"
        assert c.delete("/api/users/li/campaigns/sales", headers=admin).status_code == 200
        assert c.delete("/api/users/li/campaigns/sales", headers=admin).status_code == 404
        h = {"X-CSRF-Token": login(c, "li")}
        r = c.post("/api/desk/login", headers=h, json={
            "position": "fxs", "address": "71", "campaigns": [{"name": "sales"}]})
        assert r.status_code == 403 and "'sales' is not assigned" in r.json()["message"]
        # assigned, but not running: the host says so (the assignment check passed)
        r = c.post("/api/desk/login", headers=h, json={
            "position": "fxs", "address": "71", "campaigns": [{"name": "loans"}]})
        assert r.status_code == 409 and "'loans' is idle" in r.json()["message"]
    with Store(db) as store:
        done = [(e.action, e.target, e.details.get("campaign"), e.details.get("result"))
                for e in store.audit_entries(user="root")]
        assert ("user.assign", "li", "loans", "ok") in done
        assert ("user.assign", "li", "nope", "refused") in done
        assert ("user.unassign", "li", "sales", "ok") in done
        assert ("user.unassign", "li", "sales", "not assigned") in done
        refused = [e for e in store.audit_entries(user="li") if e.action == "desk.login"]
        assert any(e.details["result"] == "refused" and "not assigned" in e.details["reason"]
                   for e in refused)


def test_the_assigned_level_is_the_one_the_desk_gets(tmp_path: Path) -> None:
    db = make_db(tmp_path)
    with Store(db) as store:
        store.assign("li", "sales", "overflow", now=T0)
    with client(tmp_path, desk=True) as c:
        boss = {"X-CSRF-Token": login(c, "boss")}
        assert c.post("/api/campaigns/sales/start", headers=boss).status_code == 200
        h = {"X-CSRF-Token": login(c, "li")}
        r = c.post("/api/desk/login", headers=h, json={
            "position": "fxs", "address": "71", "campaigns": [{"name": "sales"}]})
        assert r.status_code == 202, r.text
        assert r.json()["command"]["campaigns"] == [["sales", "overflow"]]
        c.post("/api/desk/logout", headers=h)


def _users(db: Path, *argv: str, monkeypatch: pytest.MonkeyPatch) -> int:
    monkeypatch.setattr(sys, "stdin", io.StringIO(""))
    return main(["users", *argv, "--db", str(db)])


def test_users_assign_unassign_and_list(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                        capsys: pytest.CaptureFixture) -> None:
    db = _with_loans(tmp_path)
    assert _users(db, "assign", "li", "loans", "--level", "1", monkeypatch=monkeypatch) == 0
    assert "li may log in to loans (high)" in capsys.readouterr().out
    assert _users(db, "list", monkeypatch=monkeypatch) == 0
    listing = capsys.readouterr().out
    line = next(x for x in listing.splitlines() if x.startswith("li "))
    assert "campaigns loans (high), sales" in line
    assert _users(db, "list", "--json", monkeypatch=monkeypatch) == 0
    li = next(u for u in json.loads(capsys.readouterr().out) if u["name"] == "li")
    assert li["campaigns"] == [{"campaign": "loans", "level": "high"},
                               {"campaign": "sales", "level": "standard"}]
    assert _users(db, "unassign", "li", "loans", monkeypatch=monkeypatch) == 0
    assert _users(db, "unassign", "li", "loans", monkeypatch=monkeypatch) == 1
    assert "campaign 'loans' is not assigned to li" in capsys.readouterr().err
    assert _users(db, "assign", "li", "ghost", monkeypatch=monkeypatch) == 1
    assert "no campaign 'ghost' (known: loans, sales)" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        _users(db, "assign", "li", "loans", "--level", "top", monkeypatch=monkeypatch)
    with Store(db) as store:
        assert store.assigned_level("li", "loans") is None
        actions = [(e.action, e.details.get("result")) for e in store.audit_entries()
                   if e.action.startswith("user.")]
        assert ("user.assign", "ok") in actions and ("user.unassign", "ok") in actions
