"""The campaigns API and the WebSocket, scoped reads, and hostile clients, through the
FastAPI TestClient over a real database and real runners on the emulated card."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from campaign_testkit import T0
from starlette.websockets import WebSocketDisconnect
from web_kit import BASE, HUMANS, Clock, client, login

from trunkline.dialer.store import Store


def _until(ws, kind: str, limit: int = 500) -> list[dict]:
    """The events up to ``kind``, without the live floor's (``floor``, ``floor.alarm``:
    a supervisor's socket gets one every second, docs/supervisor-console.md)."""
    seen = []
    for _ in range(limit):
        event = ws.receive_json()
        if event["type"].startswith("floor"):
            continue
        seen.append(event)
        if event["type"] == kind:
            return seen
    raise AssertionError(f"no {kind} in {seen}")


@pytest.mark.slow
def test_a_supervisor_starts_a_campaign_and_watches_it_finish_over_the_websocket(
        tmp_path: Path) -> None:
    with client(tmp_path) as c:
        token = login(c, "boss")
        with c.websocket_connect("/api/ws", headers={"Origin": BASE}) as ws:
            assert ws.receive_json() == {"type": "hello", "user": "boss",
                                         "role": "supervisor"}
            snap = ws.receive_json()
            assert snap["type"] == "snapshot"
            assert [g["name"] for g in snap["gateways"]] == ["virtual"]
            assert ws.receive_json() == {"type": "desk.snapshot", "seats": []}
            r = c.post("/api/campaigns/sales/start", headers={"X-CSRF-Token": token})
            assert r.status_code == 200, r.text
            assert r.json()["state"] == "running"
            again = c.post("/api/campaigns/sales/start", headers={"X-CSRF-Token": token})
            assert again.status_code == 409 and again.json()["error"] == "conflict"
            events = _until(ws, "campaign.finished")
        assert events[0]["type"] == "campaign.started"
        assert events[-1]["summary"]["dials"] == len(HUMANS)
        status = c.get("/api/campaigns/sales").json()
        assert (status["state"], status["ended_how"]) == ("idle", "finished")
        assert c.get("/api/campaigns/nope").status_code == 404
    with Store(tmp_path / "dialer.sqlite") as store:
        starts = store.audit_entries(action="campaign.start")
        assert [(e.user, e.target, e.details["result"]) for e in starts] == [
            ("boss", "sales", "refused"), ("boss", "sales", "ok")]


def test_pause_is_refused_honestly_when_the_runner_cannot(tmp_path: Path) -> None:
    with client(tmp_path) as c:
        token = login(c, "boss")
        idle = c.post("/api/campaigns/sales/pause", headers={"X-CSRF-Token": token})
        assert idle.status_code == 409 and "is idle" in idle.json()["message"]
        c.post("/api/campaigns/sales/start", headers={"X-CSRF-Token": token})
        r = c.post("/api/campaigns/sales/pause", headers={"X-CSRF-Token": token})
        # the plain runner (no desk) cannot: the desk runner's pause is tested apart
        assert r.status_code == 501 and "stop the campaign instead" in r.json()["message"]
        assert c.post("/api/campaigns/sales/stop", headers={"X-CSRF-Token": token}
                      ).status_code == 200


def test_an_agent_gets_no_campaign_events_and_only_its_own_calls(tmp_path: Path) -> None:
    with client(tmp_path) as c:
        with Store(tmp_path / "dialer.sqlite") as store:
            for agent in ("li", "wang"):
                claim = store.claim_next("sales", T0)
                assert claim is not None
                store.mark_dialing(claim.attempt, T0 + 1, agent=agent)
                store.record_outcome(claim.attempt, "human", T0 + 60, agent=agent, talk=50)
        login(c, "li")
        calls = c.get("/api/calls").json()
        assert [call["agent"] for call in calls] == ["li"]
        assert [call["agent"] for call in c.get("/api/calls?agent=wang").json()] == ["li"]
        mine = calls[0]["contact_id"]
        seen = c.get(f"/api/contacts/{mine}").json()
        assert [call["agent"] for call in seen["calls"]] == ["li"]
        assert seen["number"] == calls[0]["number"]
        login(c, "boss")
        theirs = next(x for x in c.get("/api/calls").json() if x["agent"] == "wang")
        login(c, "li")
        r = c.get(f"/api/contacts/{theirs['contact_id']}")
        assert r.status_code == 404 and r.json()["error"] == "not_found"
        with c.websocket_connect("/api/ws", headers={"Origin": BASE}) as ws:
            assert ws.receive_json()["role"] == "agent"
            assert ws.receive_json() == {"type": "desk.snapshot", "seats": []}
            c.app.state.ctx.host.publish({"type": "campaign.started", "campaign": "sales"})
            c.app.state.ctx.host.publish({"type": "desk.state", "agent": "wang"})
            c.app.state.ctx.host.publish({"type": "desk.state", "agent": "li", "n": 1})
            event = ws.receive_json()
            assert event["type"] == "desk.state" and event["agent"] == "li"


def test_the_websocket_needs_a_session_and_this_origin(tmp_path: Path) -> None:
    with client(tmp_path) as c:
        with pytest.raises(WebSocketDisconnect) as closed, \
                c.websocket_connect("/api/ws", headers={"Origin": BASE}) as ws:
            ws.receive_json()
        assert closed.value.code == 4401
        login(c, "boss")
        for origin in ("https://evil.example", None):
            headers = {"Origin": origin} if origin else {}
            with pytest.raises(WebSocketDisconnect) as closed, \
                    c.websocket_connect("/api/ws", headers=headers) as ws:
                ws.receive_json()
            assert closed.value.code == 1008


@pytest.mark.parametrize(("body", "headers", "status", "says"), [
    ('{"name": "li", "password": ', {"Content-Type": "application/json"}, 400,
     "not valid JSON"),
    ('{"name": 5, "password": "x"}', {"Content-Type": "application/json"}, 422, "body.name"),
    ('{"name": "li"}', {"Content-Type": "application/json"}, 422, "body.password"),
    ('{"name": "li", "password": "li-password", "admin": true}',
     {"Content-Type": "application/json"}, 422, "body.admin"),
    ('[1, 2]', {"Content-Type": "application/json"}, 422, "body"),
    ("name=li&password=x", {"Content-Type": "application/x-www-form-urlencoded"}, 415,
     "application/json"),
    ("x" * 70_000, {"Content-Type": "application/json"}, 413, "larger than"),
])
def test_a_hostile_client_gets_a_4xx_naming_the_problem(
        tmp_path: Path, body: str, headers: dict, status: int, says: str) -> None:
    with client(tmp_path) as c:
        r = c.post("/api/login", content=body, headers=headers)
        assert r.status_code == status, r.text
        assert says in json.dumps(r.json())
        assert r.json()["error"] and r.json()["message"]
    with Store(tmp_path / "dialer.sqlite") as store:
        assert len(store.users()) == 4  # nothing stored was lost


def test_a_body_streamed_past_the_limit_is_refused(tmp_path: Path) -> None:
    def chunks():
        for _ in range(100):
            yield b"x" * 1024

    with client(tmp_path) as c:
        r = c.post("/api/login", content=chunks(),
                   headers={"Content-Type": "application/json"})
        assert r.status_code == 413


def test_wrong_types_in_the_path_and_query_are_named(tmp_path: Path) -> None:
    with client(tmp_path) as c:
        token = login(c, "boss")
        r = c.get("/api/contacts/abc")
        assert r.status_code == 422 and r.json()["fields"][0]["field"] == "path.contact_id"
        r = c.get("/api/calls?limit=-1")
        assert r.status_code == 422 and r.json()["fields"][0]["field"] == "query.limit"
        r = c.post("/api/campaigns/sales/start", json={"gateway": 7},
                   headers={"X-CSRF-Token": token})
        assert r.status_code == 422 and r.json()["fields"][0]["field"] == "body.gateway"
        r = c.post("/api/campaigns/sales/start", json={"gateway": "gw9"},
                   headers={"X-CSRF-Token": token})
        assert r.status_code == 409 and "no gateway 'gw9'" in r.json()["message"]
        assert c.get("/api/nothing").status_code == 404


def test_logout_closes_the_websocket_at_once(tmp_path: Path) -> None:
    with client(tmp_path) as c:
        token = login(c, "li")
        with c.websocket_connect("/api/ws", headers={"Origin": BASE}) as ws:
            assert ws.receive_json()["type"] == "hello"
            assert ws.receive_json()["type"] == "desk.snapshot"
            assert c.post("/api/logout", headers={"X-CSRF-Token": token}).status_code == 200
            assert ws.receive_json() == {"type": "session.ended"}
            with pytest.raises(WebSocketDisconnect) as closed:
                ws.receive_json()
            assert closed.value.code == 4401


def test_an_open_websocket_keeps_the_session_and_an_idle_one_ends(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import trunkline.dialer.service.web as web

    monkeypatch.setattr(web, "PING_EVERY", 0.05)
    clock = Clock()
    with client(tmp_path, clock) as c:
        login(c, "li")
        idle = c.get("/api/me").json()["idle_timeout"]
        with c.websocket_connect("/api/ws", headers={"Origin": BASE}) as ws:
            ws.receive_json(), ws.receive_json()  # hello, desk.snapshot
            for _ in range(3):  # the page stays open past several idle periods
                clock.now += idle - 1
                while (ping := ws.receive_json())["ts"] != clock.now:  # pings at the old time
                    assert ping["type"] == "ping"
            clock.now += idle + 1  # the clock jumps: no ping came in the idle time
            assert ws.receive_json() == {"type": "session.ended"}
        assert c.get("/api/me").status_code == 401
