"""An admin changes a user's role over the API (the console's Admin tab uses it): the
user's open sessions end, the change is audited, bad roles and one's own role are
refused, and only an admin may do it."""

from __future__ import annotations

from pathlib import Path

from web_kit import client, login


def test_an_admin_changes_a_role_and_the_sessions_end(tmp_path: Path) -> None:
    with client(tmp_path) as c:
        login(c, "li")
        assert c.get("/api/me").json()["role"] == "agent"
        li_cookies = dict(c.cookies)
        h = {"X-CSRF-Token": login(c, "root")}
        r = c.post("/api/users/li/role", headers=h, json={"role": "supervisor"})
        assert r.status_code == 200 and r.json()["role"] == "supervisor", r.text
        assert c.post("/api/users/li/role", headers=h,
                      json={"role": "boss"}).status_code == 422
        assert c.post("/api/users/ghost/role", headers=h,
                      json={"role": "agent"}).status_code == 404
        assert c.post("/api/users/root/role", headers=h,
                      json={"role": "agent"}).status_code == 409
        audit = c.get("/api/audit", params={"action": "user.role"}).json()
        assert [(a["target"], a["details"]["role"]) for a in audit][-1] == ("li", "supervisor")
        root_cookies = dict(c.cookies)
        c.cookies.clear()
        c.cookies.update(li_cookies)
        assert c.get("/api/me").status_code == 401          # its session ended
        c.cookies.clear()
        c.cookies.update(root_cookies)
        h = {"X-CSRF-Token": login(c, "li")}
        assert c.get("/api/me").json()["role"] == "supervisor"
        assert c.post("/api/users/root/role", headers=h,
                      json={"role": "agent"}).status_code == 403
