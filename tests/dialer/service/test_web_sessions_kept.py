"""Web sessions survive a restart of the service (kept in the campaign database by a
hash of their id), with the same rules: logout, idle timeout, lifetime, a disabled user."""

from __future__ import annotations

import hashlib
from pathlib import Path

from campaign_testkit import T0
from web_kit import Clock, client, login

from trunkline.dialer.service.websessions import TOUCH_EVERY, SessionTable
from trunkline.dialer.store import Store


def _cookie(c) -> str:
    return c.cookies["trunkline_session"]


def test_a_session_survives_a_restart_and_only_its_hash_is_stored(tmp_path: Path) -> None:
    clock = Clock()
    with client(tmp_path, clock) as c:
        token = login(c, "li")
        cookie = _cookie(c)
        session_id = c.app.state.ctx.unsign(cookie)
    with Store(tmp_path / "dialer.sqlite") as store:
        rows = store.query("SELECT * FROM web_session")
        assert [r["user"] for r in rows] == ["li"]
        assert rows[0]["id_hash"] == hashlib.sha256(session_id.encode()).hexdigest()
        dump = "\n".join(store._conn.iterdump())
        assert session_id not in dump  # a copy of the database opens no session
    clock.now += 600
    with client(tmp_path, clock) as c:  # the service restarted
        c.cookies.set("trunkline_session", cookie)
        me = c.get("/api/me")
        assert me.status_code == 200, me.text
        assert me.json()["name"] == "li" and me.json()["csrf_token"] == token
        assert c.post("/api/logout", headers={"X-CSRF-Token": token}).status_code == 200
    with client(tmp_path, clock) as c:  # logged out stays logged out after a restart
        c.cookies.set("trunkline_session", cookie)
        assert c.get("/api/me").status_code == 401
    with Store(tmp_path / "dialer.sqlite") as store:
        assert store.web_session_count() == 0


def test_idle_timeout_and_a_disabled_user_hold_across_a_restart(tmp_path: Path) -> None:
    clock = Clock()
    with client(tmp_path, clock, sessions=SessionTable(idle=900.0)) as c:
        login(c, "li")
        li = _cookie(c)
        c.cookies.clear()
        login(c, "wang")
        wang = _cookie(c)
    clock.now += 901  # li idle past the timeout while the service was down
    with Store(tmp_path / "dialer.sqlite") as store:
        store.set_disabled("wang", True, now=clock.now)  # trunkline users disable wang
    with client(tmp_path, clock, sessions=SessionTable(idle=900.0)) as c:
        for cookie in (li, wang):
            c.cookies.clear()
            c.cookies.set("trunkline_session", cookie)
            assert c.get("/api/me").status_code == 401
    with Store(tmp_path / "dialer.sqlite") as store:
        assert [r["user"] for r in store.query("SELECT user FROM web_session")] == []


def test_last_use_is_written_at_most_once_a_minute() -> None:
    with Store(":memory:") as store:
        table = SessionTable(idle=1800.0, keeper=store)
        session = table.open("li", "agent", T0)
        table.use(session.id, T0 + TOUCH_EVERY / 2)
        assert store.find_web_session(session.id).last_seen == T0
        table.use(session.id, T0 + TOUCH_EVERY)
        assert store.find_web_session(session.id).last_seen == T0 + TOUCH_EVERY
        # a new table (a restarted service) finds it; its rules still apply
        again = SessionTable(idle=1800.0, keeper=store)
        found = again.peek(session.id, T0 + 100)
        assert found is not None and (found.user, found.csrf) == ("li", session.csrf)
        assert again.use(session.id, T0 + TOUCH_EVERY + 1801) is None
        assert store.find_web_session(session.id) is None
        lived = again.open("wang", "agent", T0)
        assert again.use(lived.id, T0 + 12 * 3600 + 1) is None  # the lifetime
        assert again.use("no-such-id", T0) is None
