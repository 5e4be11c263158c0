"""Archiving a campaign and removing a list through the admin API (issue 18 item 5):
admin only, refused (409 with the reason) while the campaign runs or has calls in
flight, audited, documented in the OpenAPI; the campaign's calls, recordings and reports
kept, and a removed list's called contacts kept with their history."""

from __future__ import annotations

import time
from pathlib import Path

from campaign_testkit import ALWAYS, T0
from qa_data_kit import finished_call, recorded_call, seeded_db
from web_kit import HUMANS, client, login

from trunkline.dialer.campaigns.strategies import Strategy
from trunkline.dialer.store import NewContact, Store

CSV = b"name,phone\nA,13800000001\nB,13800000002\n"


def _wait_idle(c: object, name: str) -> None:
    deadline = time.monotonic() + 20.0
    while time.monotonic() < deadline:
        if c.get(f"/api/campaigns/{name}").json()["state"] == "idle":  # type: ignore[attr-defined]
            return
        time.sleep(0.05)
    raise AssertionError(f"{name} did not stop")


def test_a_campaign_archived_keeps_its_calls_recordings_and_reports(tmp_path: Path) -> None:
    db = seeded_db(tmp_path)
    with Store(db) as store:
        rec = recorded_call(store, tmp_path, "sales", agent="li", at=T0 + 100)
    with client(tmp_path) as c:
        login(c, "li")
        assert c.delete("/api/admin/campaigns/sales", headers={
            "X-CSRF-Token": login(c, "li")}).status_code == 403
        assert c.delete("/api/admin/campaigns/sales", headers={
            "X-CSRF-Token": login(c, "boss")}).status_code == 403
        head = {"X-CSRF-Token": login(c, "root")}
        assert c.delete("/api/admin/campaigns/nope", headers=head).status_code == 404
        r = c.delete("/api/admin/campaigns/sales", headers=head)
        assert r.status_code == 200, r.text
        assert (r.json()["name"], r.json()["archived_by"]) == ("sales", "root")
        again = c.delete("/api/admin/campaigns/sales", headers=head)
        assert again.status_code == 409 and "archived already" in again.json()["message"]
        # Hidden from what runs; never started; its name not taken over by a PUT.
        assert [k["name"] for k in c.get("/api/campaigns").json()] == []
        start = c.post("/api/campaigns/sales/start", headers=head)
        assert start.status_code == 409 and "archived" in start.json()["message"]
        put = c.put("/api/admin/campaigns/sales", headers=head, json={})
        assert put.status_code == 409 and "restore" in put.json()["message"]
        assert c.post("/api/admin/campaigns/sales/lists", content=CSV, headers={
            **head, "Content-Type": "text/csv"}).status_code == 409
        assert [a["name"] for a in c.get("/api/admin/archived-campaigns").json()] == ["sales"]
        # Its history: the recording plays, the report counts the call, its definition reads.
        found = c.get("/api/recordings", params={"campaign": "sales"}).json()
        assert [x["id"] for x in found["items"]] == [rec]
        assert c.get(f"/api/recordings/{rec}/audio").status_code == 200
        rows = c.get("/api/reports/campaign", params={"campaign": "sales",
                                                       "since": 0}).json()["rows"]
        assert rows and rows[0]["dials"] == 1, rows
        assert c.get("/api/admin/campaigns/sales").status_code == 200
        # Restored: as it was.
        assert c.post("/api/admin/campaigns/sales/restore", headers=head).status_code == 200
        assert c.post("/api/admin/campaigns/sales/restore", headers=head).status_code == 409
        assert [k["name"] for k in c.get("/api/campaigns").json()] == ["sales"]
        assert [a["target"] for a in c.get("/api/audit", params={
            "action": "campaign.archive"}).json()] == ["sales"]
        assert len(c.get("/api/audit", params={"action": "campaign.restore"}).json()) == 1


def test_refused_while_running(tmp_path: Path) -> None:
    db = seeded_db(tmp_path)
    with Store(db) as store, store.transaction() as sql:  # due tomorrow: dials nothing
        sql.execute("UPDATE contact SET next_at=?", (T0 + 86_400,))
    with client(tmp_path) as c:
        head = {"X-CSRF-Token": login(c, "root")}
        seed = c.get("/api/admin/campaigns/sales/lists").json()[0]["id"]
        assert c.post("/api/campaigns/sales/start", headers=head).json()["state"] == "running"
        busy = c.delete("/api/admin/campaigns/sales", headers=head)
        assert busy.status_code == 409, busy.text
        assert "is running: stop it before archiving" in busy.json()["message"]
        busy = c.delete(f"/api/admin/lists/{seed}", headers=head)
        assert busy.status_code == 409 and "stop it before removing" in busy.json()["message"]
        c.post("/api/campaigns/sales/stop", headers=head)
        _wait_idle(c, "sales")
    with Store(db) as store:
        assert store.query("SELECT archived_at FROM campaign")[0][0] is None


def test_refused_with_calls_in_flight(tmp_path: Path) -> None:
    # A call in flight the service's host does not know of (another dialer on the file).
    db = seeded_db(tmp_path)
    with Store(db) as store:
        store.add_list("sales", "more", [NewContact("+8613700000001", {}, line=2)], now=T0)
        claim = store.claim_next("sales", T0 + 10)
        assert claim is not None
        store.mark_dialing(claim.attempt, T0 + 10, call_ref="9")
        seed = store.query("SELECT id FROM list WHERE name='seed'")[0][0]
    with client(tmp_path) as c:
        head = {"X-CSRF-Token": login(c, "root")}
        busy = c.delete("/api/admin/campaigns/sales", headers=head)
        assert busy.status_code == 409 and "in flight" in busy.json()["message"]
        assert c.delete(f"/api/admin/lists/{seed}", headers=head).status_code == 409
        assert [k["name"] for k in c.get("/api/campaigns").json()] == ["sales"]  # unchanged
    with Store(db) as store:
        assert store.query("SELECT archived_at FROM campaign")[0][0] is None
        assert store.query("SELECT COUNT(*) FROM list WHERE removed_at IS NOT NULL"
                           )[0][0] == 0


def test_a_list_removed_keeps_the_history_of_its_called_contacts(tmp_path: Path) -> None:
    db = seeded_db(tmp_path)
    with Store(db) as store:  # a busy call, to be tried again
        store.create_campaign("sales", Strategy(windows=ALWAYS, max_attempts=3), now=T0)
        _, called, number = finished_call(store, "sales", agent="li", at=T0 + 100,
                                          outcome="busy", code=None)
        # One of the seed's numbers is in a second list too: it stays dialable.
        store.add_list("sales", "again", [NewContact(HUMANS[2], {}, line=2)], now=T0 + 1)
        seed = store.query("SELECT id FROM list WHERE name='seed'")[0][0]
    with client(tmp_path) as c:
        for who in ("li", "boss"):
            assert c.delete(f"/api/admin/lists/{seed}", headers={
                "X-CSRF-Token": login(c, who)}).status_code == 403
        head = {"X-CSRF-Token": login(c, "root")}
        assert c.delete("/api/admin/lists/999", headers=head).status_code == 404
        r = c.delete(f"/api/admin/lists/{seed}", headers=head)
        assert r.status_code == 200, r.text
        assert {k: r.json()[k] for k in ("deleted", "closed", "kept")} == \
            {"deleted": 1, "closed": 1, "kept": 1}, r.json()
        assert c.delete(f"/api/admin/lists/{seed}", headers=head).status_code == 409
        assert [li["name"] for li in c.get("/api/admin/campaigns/sales/lists").json()] == \
            ["again"]
        every = c.get("/api/admin/campaigns/sales/lists",
                      params={"include_removed": "true"}).json()
        assert [li["removed_at"] is not None for li in every] == [False, True]
        assert c.get(f"/api/admin/lists/{seed}/errors").status_code == 200
        rows = c.get("/api/reports/campaign", params={"campaign": "sales",
                                                       "since": 0}).json()["rows"]
        assert rows[0]["dials"] == 1
        audit = c.get("/api/audit", params={"action": "list.remove"}).json()
        assert [(a["user"], a["target"], a["details"]["closed"]) for a in audit] == \
            [("root", "sales", 1)]
    with Store(db) as store:
        left = {r[0]: r[1] for r in store.query("SELECT number, state FROM contact")}
        assert left == {number: "done", HUMANS[2]: "ready"}, left  # never-called one gone
        assert store.query("SELECT state FROM contact WHERE id=?", (called,))[0][0] == "done"
        assert store.query("SELECT COUNT(*) FROM attempt WHERE contact_id=?",
                           (called,))[0][0] == 1


def test_the_routes_are_documented(tmp_path: Path) -> None:
    seeded_db(tmp_path)
    with client(tmp_path) as c:
        paths = c.get("/openapi.json").json()["paths"]
    assert "409" in paths["/api/admin/campaigns/{name}"]["delete"]["responses"]
    assert "409" in paths["/api/admin/lists/{list_id}"]["delete"]["responses"]
    assert "post" in paths["/api/admin/campaigns/{name}/restore"]
    assert "get" in paths["/api/admin/archived-campaigns"]
