"""Admins manage users over the API, with the CLI's rules, audited."""

from __future__ import annotations

from pathlib import Path

from web_kit import client, login

from trunkline.dialer.service.passwords import verify_password
from trunkline.dialer.store import Store


def test_an_admin_adds_disables_enables_and_resets_users(tmp_path: Path) -> None:
    with client(tmp_path) as c:
        h = {"X-CSRF-Token": login(c, "root")}
        r = c.post("/api/users", headers=h,
                   json={"name": "zhao", "role": "agent", "password": "zhao-password"})
        assert r.status_code == 200 and r.json()["role"] == "agent"
        assert "password" not in str(r.json())
        dup = c.post("/api/users", headers=h,
                     json={"name": "zhao", "role": "agent", "password": "zhao-password"})
        assert dup.status_code == 409 and "already exists" in dup.json()["message"]
        weak = c.post("/api/users", headers=h,
                      json={"name": "qian", "role": "agent", "password": "short"})
        assert weak.status_code == 422 and "too short" in weak.json()["message"]
        role = c.post("/api/users", headers=h,
                      json={"name": "qian", "role": "boss", "password": "qian-password"})
        assert role.status_code == 422 and role.json()["fields"][0]["field"] == "body.role"
        bad = c.post("/api/users", headers=h,
                     json={"name": "two words", "role": "agent", "password": "qian-pass"})
        assert bad.status_code == 422 and "bad user name" in bad.json()["message"]
        assert c.post("/api/users/root/disable", headers=h).status_code == 409
        assert c.post("/api/users/ghost/disable", headers=h).status_code == 404
        assert c.post("/api/users/li/disable", headers=h).json()["disabled"] is True
        assert c.post("/api/users/li/enable", headers=h).json()["disabled"] is False
        r = c.post("/api/users/li/password", headers=h, json={"password": "li-new-password"})
        assert r.status_code == 200
        # agents and supervisors may not
        h = {"X-CSRF-Token": login(c, "boss")}
        r = c.post("/api/users/li/disable", headers=h)
        assert r.status_code == 403 and "admin" in r.json()["message"]
    with Store(tmp_path / "dialer.sqlite") as store:
        assert verify_password(store.get_user("li").password_hash, "li-new-password")
        assert verify_password(store.get_user("zhao").password_hash, "zhao-password")
        assert {u.name for u in store.users()} == {"li", "wang", "boss", "root", "zhao"}
        done = [(e.action, e.target, e.details["result"])
                for e in reversed(store.audit_entries(user="root")) if e.action != "login"]
        assert done == [("user.add", "zhao", "ok"), ("user.add", "zhao", "refused"),
                        ("user.add", "two words", "refused"),
                        ("user.disable", "ghost", "refused"), ("user.disable", "li", "ok"),
                        ("user.enable", "li", "ok"), ("user.passwd", "li", "ok")]
