"""The supervisor's live control through the HTTP API, on the desk runner and the
emulated card (virtual time): a running campaign's pacing changed (the engine paces
with it), refusals named and nothing changed, an agent paused by the supervisor, and
the supervisor on an agent's call from its own FXS phone: listen, whisper (the agent
hears the supervisor's key, checked by the detector), barge, take over; all audited."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient
from web_kit import BASE, client, login

from trunkline.dialer.pacing.pacers import ModelPacer, RatioPacer
from trunkline.dialer.store import Store
from trunkline.drivers.dsp.detector import detect_file
from trunkline.drivers.dsp.events import DtmfEvent


def _until(ws: Any, type_: str, limit: int = 5000, **match: object) -> dict:
    for _ in range(limit):
        event = ws.receive_json()
        if event["type"] == type_ and all(event.get(k) == v for k, v in match.items()):
            return event
    raise AssertionError(f"no {type_} {match}")


def on_gateway(c: TestClient, fn: Any) -> Any:
    """``fn(runner, port, store)`` on the gateway's worker thread."""
    host = c.app.state.ctx.host  # type: ignore[attr-defined]
    return c.portal.call(host.on_worker, "virtual", fn)  # type: ignore[union-attr]


def test_a_running_campaigns_pacing_is_changed_checked_and_audited(tmp_path: Path) -> None:
    with client(tmp_path, desk=True) as c:
        h = {"X-CSRF-Token": login(c, "boss")}
        assert c.post("/api/campaigns/sales/start", headers=h).status_code == 200
        with c.websocket_connect("/api/ws", headers={"Origin": BASE}) as ws:
            r = c.patch("/api/campaigns/sales/settings", headers=h,
                        json={"mode": "power", "ratio": 2.5,
                              "windows": {"default": ["09:00-12:00", "13:30-20:00"],
                                          "sun": []}})
            assert r.status_code == 200, r.text
            body = r.json()
            assert body["applied"] == "running"
            assert body["changed"]["mode"] == ["predictive", "power"]
            assert body["changed"]["ratio"] == [1.0, 2.5]
            assert body["changed"]["windows"][1]["sun"] == []
            event = _until(ws, "campaign.settings", campaign="sales")
            assert event["changed"]["ratio"] == [1.0, 2.5]

        def pacing(runner: Any, port: Any, store: Any) -> tuple[str, float, float]:
            run = runner.engine._runs["sales"]
            assert isinstance(run.pacer, RatioPacer)
            return str(run.config.mode), run.config.ratio, run.pacer.ratio
        assert on_gateway(c, pacing) == ("power", 2.5, 2.5)

        # refusals name the setting and change nothing
        r = c.patch("/api/campaigns/sales/settings", headers=h, json={"target_abandon": 0.05})
        assert r.status_code == 422 and "above the us cap of 0.03" in r.json()["message"]
        r = c.patch("/api/campaigns/sales/settings", headers=h,
                    json={"windows": {"mon": ["21:00-09:00"]}})
        assert r.status_code == 422 and "windows" in r.json()["message"]
        r = c.patch("/api/campaigns/sales/settings", headers=h,
                    json={"windows": {"monday": ["09:00-10:00"]}})
        assert r.status_code == 422 and "unknown keys monday" in r.json()["message"]
        r = c.patch("/api/campaigns/sales/settings", headers=h, json={"regime": "uk"})
        assert r.status_code == 422 and r.json()["fields"][0]["field"] == "body.regime"
        r = c.patch("/api/campaigns/nope/settings", headers=h, json={"ratio": 2})
        assert r.status_code == 404
        li = TestClient(c.app, base_url=BASE)
        agent = {"X-CSRF-Token": login(li, "li")}
        r = li.patch("/api/campaigns/sales/settings", headers=agent, json={"ratio": 3})
        assert r.status_code == 403
        assert on_gateway(c, pacing) == ("power", 2.5, 2.5)

        # precise mode's connect-rate target: out of (0, 0.5) is refused naming it, and
        # nothing changes; in range, the engine's new pacer regulates to it
        for bad in (0.5, 0, -0.1):
            r = c.patch("/api/campaigns/sales/settings", headers=h,
                        json={"mode": "precise", "precise_target": bad})
            assert r.status_code == 422, r.text
            assert r.json()["fields"][0]["field"] == "body.precise_target"
        assert on_gateway(c, pacing) == ("power", 2.5, 2.5)
        r = c.patch("/api/campaigns/sales/settings", headers=h,
                    json={"mode": "precise", "precise_target": 0.01})
        assert r.status_code == 200, r.text
        assert r.json()["changed"]["precise_target"] == [0.004, 0.01]

        def precise(runner: Any, port: Any, store: Any) -> tuple[str, float, float, bool]:
            run = runner.engine._runs["sales"]
            assert isinstance(run.pacer, ModelPacer)
            return (str(run.config.mode), run.config.precise_target,
                    run.pacer.controller.target, run.pacer.precise)
        assert on_gateway(c, precise) == ("precise", 0.01, 0.01, True)
    with Store(tmp_path / "dialer.sqlite") as store:
        assert store.campaign_config("sales")["ratio"] == 2.5
        assert store.campaign_config("sales")["precise_target"] == 0.01
        assert store.strategy("sales").windows.days[6] == ()
        results = [e.details["result"] for e in store.audit_entries(user="boss")
                   if e.action == "campaign.settings"]
        assert results.count("ok") == 2 and results.count("refused") == 4


def digits_heard(port: Any, channel: int, seconds: float = 0.6) -> set[str]:
    audio = port.card.phone(channel).heard[-int(8000 * seconds):]
    return {e.digit for e in detect_file(audio, progress=False, fax=False, vad=False,
                                         announcements=False) if isinstance(e, DtmfEvent)}


def test_a_supervisor_listens_whispers_barges_and_takes_over(tmp_path: Path) -> None:
    agent_ch, boss_ch = 71, 72
    with client(tmp_path, desk=True) as c:
        h = {"X-CSRF-Token": login(c, "boss")}
        c.patch("/api/campaigns/sales/settings", headers=h, json={"mode": "progressive"})
        assert c.post("/api/campaigns/sales/start", headers=h).status_code == 200
        li = TestClient(c.app, base_url=BASE)
        a = {"X-CSRF-Token": login(li, "li")}
        with c.websocket_connect("/api/ws", headers={"Origin": BASE}) as ws:
            r = c.post("/api/supervisor/monitor", headers=h, json={"agent": "li"})
            assert r.status_code == 409 and "not at a position" in r.json()["message"]
            r = c.post("/api/supervisor/position", headers=h,
                       json={"position": "fxs", "address": str(boss_ch)})
            assert r.status_code == 200, r.text
            assert li.post("/api/desk/login", headers=a, json={
                "position": "fxs", "address": str(agent_ch),
                "campaigns": [{"name": "sales"}]}).status_code == 202
            _until(ws, "desk.state", agent="li", state="paused")
            # a supervisor forces a pause code on the agent; the desk takes it
            r = c.post("/api/agents/li/pause", headers=h, json={"reason": "meeting"})
            assert r.status_code == 202
            _until(ws, "desk.state", agent="li", state="paused", reason="meeting")
            assert li.post("/api/desk/ready", headers=a).status_code == 202
            _until(ws, "desk.state", agent="li", state="talking")
            deadline = time.monotonic() + 30
            while True:  # the supervisor's phone answers in a few seconds of card time
                r = c.post("/api/supervisor/monitor", headers=h, json={"agent": "li"})
                if r.status_code == 200 or time.monotonic() > deadline:
                    break
                assert "not answered" in r.json()["message"], r.text
                time.sleep(0.05)
            assert r.status_code == 200, r.text
            assert r.json()["mode"] == "listen" and r.json()["monitoring"] == "li"

            def calls(runner: Any, port: Any, store: Any) -> dict[int, dict]:
                return {x["channel"]: x for x in port.calls()}
            on = on_gateway(c, calls)
            assert on[boss_ch]["listening_to"] == on[agent_ch]["call"]
            assert on[boss_ch]["monitor"] == "listen"

            def press(key: str) -> set[str]:
                """The supervisor presses ``key``: the digits the agent's phone heard
                since (however far the runner's steps moved the card's time)."""
                start = on_gateway(c, lambda runner, port, store: (
                    port.card.phone(boss_ch).press(key, on_ms=300, off_ms=20),
                    port.now())[1])
                while on_gateway(c, lambda runner, port, store: port.now()) < start + 0.5:
                    time.sleep(0.02)
                return set(on_gateway(c, lambda runner, port, store: digits_heard(
                    port, agent_ch, min(9.0, port.now() - start + 0.2))))

            assert "7" not in press("7")          # listening: the agent does not hear it
            r = c.post("/api/supervisor/monitor", headers=h,
                       json={"agent": "li", "mode": "whisper"})
            assert r.status_code == 200 and r.json()["mode"] == "whisper"
            assert "9" in press("9")              # whispering: the agent hears it

            r = c.post("/api/supervisor/monitor", headers=h,
                       json={"agent": "li", "mode": "barge"})
            assert r.status_code == 200 and on_gateway(c, calls)[boss_ch]["monitor"] == "barge"
            customer = on_gateway(c, calls)[agent_ch]["bridged_to"]
            assert customer is not None
            r = c.post("/api/supervisor/takeover", headers=h, json={"agent": "li"})
            assert r.status_code == 200, r.text
            assert r.json()["mode"] == "takeover"
            state = on_gateway(c, lambda runner, port, store: (
                runner.desk.seats["li"].state, {x["channel"]: x for x in port.calls()}))
            assert state[0] == "wrap_up"      # the agent's desk goes on as after a transfer
            on = state[1]
            assert on[boss_ch]["bridged_to"] == customer        # the customer stays on
            assert on[agent_ch]["bridged_to"] is None and on[agent_ch]["state"] == "answered"
            _until(ws, "desk.state", agent="li", state="wrap_up")   # then the takeover
            taken = _until(ws, "supervisor.takeover", agent="li")
            assert taken["supervisor"] == "boss"
            # logged out by the supervisor: li owes the disposition, so the desk waits
            r = c.post("/api/agents/li/logout", headers=h)
            assert r.status_code == 202
            _until(ws, "desk.state", agent="li", state="wrap_up", then="logout")
            assert li.post("/api/desk/disposition", headers=a, json={
                "code": "promise", "fields": {"amount": "2000", "date": "2025-06-15"},
                "then": "ready"}).status_code == 202
            _until(ws, "desk.state", agent="li", state="logged_out")
            assert c.post("/api/supervisor/position/logout", headers=h).status_code == 200
    with Store(tmp_path / "dialer.sqlite") as store:
        done = [(e.action, e.details.get("mode"), e.details.get("result"))
                for e in store.audit_entries(user="boss")]
        for row in [("supervisor.login", None, "ok"), ("agent.pause", None, "ok"),
                    ("agent.logout", None, "ok"),
                    ("supervisor.monitor", "listen", "ok"),
                    ("supervisor.monitor", "whisper", "ok"),
                    ("supervisor.monitor", "barge", "ok"), ("supervisor.takeover", None, "ok"),
                    ("supervisor.logout", None, "ok")]:
            assert row in done, row
        assert ("supervisor.monitor", "listen", "refused") in done


def test_the_floor_is_published_every_second(tmp_path: Path) -> None:
    with client(tmp_path, desk=True) as c:
        h = {"X-CSRF-Token": login(c, "boss")}
        assert c.post("/api/campaigns/sales/start", headers=h).status_code == 200
        with c.websocket_connect("/api/ws", headers={"Origin": BASE}) as ws:
            first = _until(ws, "floor")
            t0 = time.monotonic()
            _until(ws, "floor")
            assert time.monotonic() - t0 < 1.6
        spans = {s["span"]: s for s in first["spans"]}
        assert spans[4]["kind"] == "fxs" and spans[4]["channels"] == 12
        sales = next(x for x in first["campaigns"] if x["name"] == "sales")
        assert sales["state"] == "running" and sales["level"] == "ok"
        assert sales["contacts"] == 3 and sales["cap"] == 0.03
        r = c.get("/api/floor")
        assert r.status_code == 200 and r.json()["channels"]["total"] == first[
            "channels"]["total"]
        # a red alarm on a span is raised on the floor
        on_gateway(c, lambda runner, port, store: port._call(
            "span.maintenance", span=1, mode="alarm", alarm="red"))
        with c.websocket_connect("/api/ws", headers={"Origin": BASE}) as ws:
            alarm = _until(ws, "floor.alarm", kind="span_red")
            assert alarm["span"] == 1 and "red alarm" in alarm["message"]
        li = TestClient(c.app, base_url=BASE)
        login(li, "li")
        assert li.get("/api/floor").status_code == 403
