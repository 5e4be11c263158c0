"""Logins, sessions, CSRF, roles and the audit of the web API, over a real database."""

from __future__ import annotations

from pathlib import Path

from web_kit import BASE, Clock, client, login

from trunkline.dialer.store import Store


def test_login_sets_a_signed_httponly_strict_cookie_and_returns_the_csrf_token(
        tmp_path: Path) -> None:
    with client(tmp_path) as c:
        r = c.post("/api/login", json={"name": "li", "password": "li-password"})
        assert r.status_code == 200
        body = r.json()
        assert body["name"] == "li" and body["role"] == "agent" and body["csrf_token"]
        cookie = r.headers["set-cookie"]
        assert "trunkline_session=" in cookie and "HttpOnly" in cookie
        assert "SameSite=strict" in cookie or "samesite=strict" in cookie.lower()
        assert "Secure" not in cookie  # plain HTTP here
        me = c.get("/api/me").json()
        assert me["csrf_token"] == body["csrf_token"] and me["name"] == "li"
    with Store(tmp_path / "dialer.sqlite") as store:
        entry = store.audit_entries()[0]
        assert (entry.user, entry.action, entry.remote) == ("li", "login", "testclient")
    assert (tmp_path / "dialer.sqlite.web-key").stat().st_mode & 0o777 == 0o600


def test_a_forged_or_unsigned_cookie_is_refused(tmp_path: Path) -> None:
    with client(tmp_path) as c:
        login(c, "li")
        good = c.cookies["trunkline_session"]
        c.cookies.clear()
        for forged in (good[:-2] + ("AA" if not good.endswith("AA") else "BB"),
                       "plain-session-id", ""):
            c.cookies.set("trunkline_session", forged)
            r = c.get("/api/me")
            assert r.status_code == 401 and r.json()["error"] == "unauthenticated"


def test_wrong_passwords_are_refused_alike_and_audited(tmp_path: Path) -> None:
    with client(tmp_path) as c:
        wrong = c.post("/api/login", json={"name": "li", "password": "nope-nope"})
        nobody = c.post("/api/login", json={"name": "ghost", "password": "nope-nope"})
        assert wrong.status_code == nobody.status_code == 401
        assert wrong.json()["message"] == nobody.json()["message"]
        assert c.get("/api/me").status_code == 401
    with Store(tmp_path / "dialer.sqlite") as store:
        failed = store.audit_entries(action="login.failed")
        assert sorted(e.target for e in failed) == ["ghost", "li"]


def test_every_state_changing_request_needs_the_csrf_token(tmp_path: Path) -> None:
    with client(tmp_path) as c:
        token = login(c, "boss")
        missing = c.post("/api/campaigns/sales/stop")
        assert missing.status_code == 403 and missing.json()["error"] == "csrf"
        assert "missing X-CSRF-Token" in missing.json()["message"]
        wrong = c.post("/api/logout", headers={"X-CSRF-Token": token + "x"})
        assert wrong.status_code == 403 and "does not match" in wrong.json()["message"]
        assert c.get("/api/me").status_code == 200  # still logged in
        assert c.post("/api/logout", headers={"X-CSRF-Token": token}).status_code == 200
        assert c.get("/api/me").status_code == 401
        # the old token is worthless after a new login
        again = login(c, "boss")
        assert again != token
        r = c.post("/api/logout", headers={"X-CSRF-Token": token})
        assert r.status_code == 403


def test_a_cross_site_request_is_refused_by_its_origin(tmp_path: Path) -> None:
    with client(tmp_path) as c:
        r = c.post("/api/login", json={"name": "li", "password": "li-password"},
                   headers={"Origin": "https://evil.example"})
        assert r.status_code == 403 and r.json()["error"] == "origin"
        ok = c.post("/api/login", json={"name": "li", "password": "li-password"},
                    headers={"Origin": BASE})
        assert ok.status_code == 200


def test_the_session_ends_after_the_idle_timeout(tmp_path: Path) -> None:
    clock = Clock()
    with client(tmp_path, clock) as c:
        login(c, "li")
        idle = c.get("/api/me").json()["idle_timeout"]
        clock.now += idle - 1
        assert c.get("/api/me").status_code == 200  # used: the idle time starts again
        clock.now += idle - 1
        assert c.get("/api/me").status_code == 200
        clock.now += idle + 1
        r = c.get("/api/me")
        assert r.status_code == 401 and "idle timeout" in r.json()["message"]


def test_disabling_a_user_ends_its_sessions_at_once(tmp_path: Path) -> None:
    with client(tmp_path) as c:
        login(c, "li")
        with Store(tmp_path / "dialer.sqlite") as store:
            store.set_disabled("li", True, now=0.0)
        assert c.get("/api/me").status_code == 401
        r = c.post("/api/login", json={"name": "li", "password": "li-password"})
        assert r.status_code == 401


def test_logins_are_rate_limited_per_user(tmp_path: Path) -> None:
    clock = Clock()
    with client(tmp_path, clock) as c:
        for _ in range(5):
            assert c.post("/api/login", json={"name": "li", "password": "bad-bad-bad"}
                          ).status_code == 401
        r = c.post("/api/login", json={"name": "li", "password": "li-password"})
        assert r.status_code == 429 and int(r.headers["Retry-After"]) > 0
        assert r.json()["error"] == "rate_limited"
        # another user from the same address is not locked out by li's failures
        assert c.post("/api/login", json={"name": "wang", "password": "wang-password"}
                      ).status_code == 200
        clock.now += 301
        assert c.post("/api/login", json={"name": "li", "password": "li-password"}
                      ).status_code == 200


def test_roles_are_checked(tmp_path: Path) -> None:
    with client(tmp_path) as c:
        token = login(c, "li")
        for path in ("/api/campaigns", "/api/campaigns/sales", "/api/snapshot",
                     "/api/audit", "/api/users"):
            r = c.get(path)
            assert r.status_code == 403 and "needs the" in r.json()["message"], path
        r = c.post("/api/campaigns/sales/start", headers={"X-CSRF-Token": token})
        assert r.status_code == 403 and "supervisor" in r.json()["message"]
        token = login(c, "boss")
        assert c.get("/api/campaigns").status_code == 200
        assert c.get("/api/users").status_code == 403  # admin only
        login(c, "root")
        users = c.get("/api/users").json()
        assert {u["name"] for u in users} == {"li", "wang", "boss", "root"}
        assert all("password_hash" not in u for u in users)


def test_a_new_password_ends_the_open_sessions(tmp_path: Path) -> None:
    clock = Clock()
    with client(tmp_path, clock) as c:
        login(c, "li")
        clock.now += 60
        with Store(tmp_path / "dialer.sqlite") as store:
            store.set_password_hash("li", store.get_user("li").password_hash,
                                    now=clock.now)
        clock.now += 1
        assert c.get("/api/me").status_code == 401
        login(c, "li")
        assert c.get("/api/me").status_code == 200


def test_the_cookie_is_secure_over_tls(tmp_path: Path) -> None:
    with client(tmp_path, base_url="https://dialer.example") as c:
        r = c.post("/api/login", json={"name": "li", "password": "li-password"},
                   headers={"Origin": "https://dialer.example"})
        assert r.status_code == 200
        assert "Secure" in r.headers["set-cookie"]
        assert c.get("/api/me").status_code == 200
        # the plain-HTTP origin of the same host is another origin
        r = c.post("/api/login", json={"name": "li", "password": "li-password"},
                   headers={"Origin": "http://dialer.example"})
        assert r.status_code == 403
