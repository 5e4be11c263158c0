"""The agent's desk through the HTTP API and the WebSocket, on the desk runner and the
emulated card (virtual time): log in to an FXS position, a refused pause code named, ready,
the screen pop of the right contact, a disposition refused for its missing field and then
saved, all audited and stored."""

from __future__ import annotations

from pathlib import Path

import pytest
from web_kit import BASE, client, login

from trunkline.dialer.desk.config import DeskConfig
from trunkline.dialer.store import Store

DESK = {"max_wrap_up": 3600, "disposition": [
    {"code": "promise", "field": [{"name": "amount", "kind": "money", "required": True},
                                  {"name": "date", "kind": "date", "required": True}]},
    {"code": "no_deal"}]}


def _until(ws, kind: str, limit: int = 2000, **match: object) -> dict:
    for _ in range(limit):
        event = ws.receive_json()
        if event["type"] == kind and all(event.get(k) == v for k, v in match.items()):
            return event
    raise AssertionError(f"no {kind} {match}")


@pytest.mark.slow
def test_an_agent_works_a_call_through_the_api(tmp_path: Path) -> None:
    from web_kit import make_db

    db = make_db(tmp_path)
    with Store(db) as store:
        store.save_desk_config("sales", DeskConfig.from_dict("sales", DESK))
    with client(tmp_path, desk=True) as c:
        token = login(c, "boss")
        assert c.post("/api/campaigns/sales/start",
                      headers={"X-CSRF-Token": token}).status_code == 200
        token = login(c, "li")
        h = {"X-CSRF-Token": token}
        r = c.post("/api/desk/ready", headers=h)
        assert r.status_code == 409 and "not logged in" in r.json()["message"]
        with c.websocket_connect("/api/ws", headers={"Origin": BASE}) as ws:
            assert ws.receive_json()["type"] == "hello"
            assert ws.receive_json() == {"type": "desk.snapshot", "seats": []}
            bad = c.post("/api/desk/login", headers=h, json={
                "position": "fxs", "address": "port 7", "campaigns": [{"name": "sales"}]})
            assert bad.status_code == 422 and "channel number" in bad.json()["message"]
            r = c.post("/api/desk/login", headers=h, json={
                "position": "fxs", "address": "71", "campaigns": [{"name": "sales"}]})
            assert r.status_code == 202, r.text
            assert r.json()["command"]["campaigns"] == [["sales", "standard"]]
            _until(ws, "desk.state", state="paused")
            assert [s["agent"] for s in c.get("/api/desk").json()] == ["li"]
            c.post("/api/desk/pause", headers=h, json={"reason": "nap"})
            refused = _until(ws, "desk.refused")
            assert refused["agent"] == "li" and "nap" in refused["error"]
            assert c.post("/api/desk/ready", headers=h).status_code == 202
            _until(ws, "desk.state", state="ready")
            pop = _until(ws, "desk.screen_pop")
            assert pop["agent"] == "li"
            number = pop["contact"]["number"]
            _until(ws, "desk.state", state="wrap_up")
            c.post("/api/desk/disposition", headers=h,
                   json={"code": "promise", "fields": {"date": "2025-06-15"}})
            refused = _until(ws, "desk.refused")
            assert refused["field"] == "amount"
            r = c.post("/api/desk/disposition", headers=h, json={
                "code": "promise", "fields": {"amount": "2000", "date": "2025-06-15"},
                "then": "pause", "reason": "break"})
            assert r.status_code == 202
            saved = _until(ws, "desk.disposition_saved")
            assert saved["agent"] == "li"
            _until(ws, "desk.state", state="paused")
    with Store(db) as store:
        row = store.query("SELECT d.code, d.agent, d.fields, c.number FROM disposition d "
                          "JOIN contact c ON c.id=d.contact_id")[0]
        assert (row["code"], row["agent"], row["number"]) == ("promise", "li", number)
        assert '"2000.00"' in row["fields"]
        actions = [(e.action, e.details.get("result")) for e in store.audit_entries(user="li")]
        assert ("desk.login", "queued") in actions
        assert ("desk.ready", "refused") in actions
        assert actions.count(("desk.save_disposition", "queued")) == 2


def test_a_supervisor_pauses_and_resumes_a_desk_campaign(tmp_path: Path) -> None:
    with client(tmp_path, desk=True) as c:
        token = login(c, "boss")
        h = {"X-CSRF-Token": token}
        assert c.post("/api/campaigns/sales/start", headers=h).json()["state"] == "running"
        with c.websocket_connect("/api/ws", headers={"Origin": BASE}) as ws:
            r = c.post("/api/campaigns/sales/pause", headers=h)
            assert r.status_code == 200 and r.json()["state"] == "paused"
            _until(ws, "campaign.paused", campaign="sales")
            again = c.post("/api/campaigns/sales/pause", headers=h)
            assert again.status_code == 200 and again.json()["state"] == "paused"  # harmless
            r = c.post("/api/campaigns/sales/resume", headers=h)
            assert r.status_code == 200 and r.json()["state"] == "running"
            _until(ws, "campaign.running", campaign="sales")
        r = c.post("/api/campaigns/sales/resume", headers=h)
        assert r.status_code == 409 and "not paused" in r.json()["message"]
    with Store(tmp_path / "dialer.sqlite") as store:
        done = [(e.action, e.details["result"]) for e in store.audit_entries(user="boss")
                if e.action.startswith("campaign.")]
        assert ("campaign.pause", "ok") in done and ("campaign.resume", "ok") in done


def test_leaving_the_service_leaves_the_desk(tmp_path: Path) -> None:
    """Also: ``POST /api/desk/consult/end`` reaches the desk (refused with the reason
    when nobody consults the agent; the runner tests cover the consultation itself) and
    is audited like every agent action."""
    with client(tmp_path, desk=True) as c:
        boss = login(c, "boss")
        c.post("/api/campaigns/sales/start", headers={"X-CSRF-Token": boss})
        li = {"X-CSRF-Token": login(c, "li")}
        with c.websocket_connect("/api/ws", headers={"Origin": BASE}) as ws:
            assert c.post("/api/desk/login", headers=li, json={
                "position": "fxs", "address": "71", "campaigns": [{"name": "sales"}]}
            ).status_code == 202
            _until(ws, "desk.state", state="paused")
            r = c.post("/api/desk/consult/end", headers=li)
            assert r.status_code == 202 and r.json()["command"] == {
                "type": "end_consult", "agent": "li"}
            refused = _until(ws, "desk.refused", command="end_consult")
            assert refused["error"] == "nobody is consulting you"
            assert c.post("/api/logout", headers=li).status_code == 200
        login(c, "boss")
        for _ in range(200):
            if not c.get("/api/desk").json():
                break
        else:
            raise AssertionError("li is still at the desk after logging out")
    with Store(tmp_path / "dialer.sqlite") as store:
        entry = store.audit_entries(action="desk.logout")[0]
        assert (entry.user, entry.details["result"]) == ("li", "queued")
        entry = store.audit_entries(action="desk.end_consult")[0]
        assert (entry.user, entry.target, entry.details["result"]) == ("li", "li", "queued")

