"""Issue 18 items 3 and 6 end to end on the emulated card, in virtual time: an agent's
call is recorded (stereo WAV, tagged in the dialer's store with the attempt, agent,
number and disposition), found, played with a Range request, drawn as a waveform and
scored through the web API (an agent sees only its own), and the disposition and the
call's result reach a real HTTP receiver, signed."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from desk_runner_kit import DESK, HUMANS, login, state, step_until
from fastapi.testclient import TestClient
from runner_kit import T0, make_store
from webhook_receiver_kit import receiver

from trunkline.dialer.desk import commands as cmd
from trunkline.dialer.desk.config import DeskConfig
from trunkline.dialer.pacing.engine import quiet_logger
from trunkline.dialer.review import wavfile
from trunkline.dialer.runner.desk_runner import DeskRunner
from trunkline.dialer.runner.gateway import InProcessGateway
from trunkline.dialer.service.host import GatewaySpec, ServiceHost
from trunkline.dialer.service.passwords import hash_password
from trunkline.dialer.service.web import create_app
from trunkline.dialer.service.web_auth import secret_key
from trunkline.dialer.webhooks.dispatcher import WebhookDispatcher
from trunkline.dialer.webhooks.signing import verify

QA = {"title": "loans QA", "pass_score": 70, "item": [
    {"id": "greeting", "label": "Greets, names the company", "max": 5, "weight": 1},
    {"id": "disclosure", "label": "Reads the disclosure", "max": 1, "weight": 2,
     "critical": True},
    {"id": "tone", "label": "Polite", "max": 10, "weight": 1}]}


def _app(db: Path, now: float) -> TestClient:
    def never() -> tuple[object, object]:
        raise AssertionError("no campaign is started through this app")

    host = ServiceHost(str(db), [GatewaySpec("virtual", never)],
                       lambda *a: None, drain=1.0)  # type: ignore[arg-type, return-value]
    app = create_app(str(db), host, key=secret_key(str(db)), clock=lambda: now,
                     manage_host=False)
    return TestClient(app, base_url="http://testserver")


def _login(c: TestClient, name: str) -> dict[str, str]:
    r = c.post("/api/login", json={"name": name, "password": f"{name}-password"})
    assert r.status_code == 200, r.text
    return {"X-CSRF-Token": r.json()["csrf_token"]}


@pytest.mark.slow
def test_a_connected_call_is_recorded_found_played_scored_and_sent(tmp_path: Path) -> None:
    store = make_store(tmp_path, campaign="loans", ranges=HUMANS,
                       config={"mode": "predictive", "ring_timeout": 20.0})
    store.save_desk_config("loans", DeskConfig.from_dict("loans", DESK))
    for name, role in (("a1", "agent"), ("b2", "agent"), ("boss", "supervisor")):
        store.add_user(name, role, hash_password(f"{name}-password"), now=T0)
    with receiver() as hook:
        store.add_webhook("crm", hook.url, ["disposition", "call.result"], now=T0,
                          secret="s" * 32)
        gateway = InProcessGateway(start=T0)
        runner = DeskRunner(store, "loans", gateway, group="pri", engine_log=quiet_logger())
        try:
            runner.start()
            login(runner, (("loans", "standard"),))
            step_until(runner, lambda: state(runner) == "wrap_up")
            runner.submit(cmd.SaveDisposition("a1", "no_deal", {}))
            step_until(runner, lambda: state(runner) != "wrap_up", 5)
            step_until(runner, lambda: store.query(
                "SELECT state FROM call_recording")[0][0] != "recording", 30)
            row = store.query("SELECT r.*, d.code FROM call_recording r JOIN disposition d "
                              "ON d.attempt_id=r.attempt_id")[0]
            assert (row["agent"], row["state"], row["code"]) == ("a1", "complete", "no_deal")
            assert row["number"].startswith("+86") and row["duration"] > 1.0
            assert row["contact_id"] == store.query(
                "SELECT contact_id FROM attempt WHERE id=?", (row["attempt_id"],))[0][0]
            assert runner.recording.started == 1 and runner.recording.failed == 0
            path = Path(row["path"])
            head = wavfile.info(path)
            assert (head.channels, head.sample_rate) == (2, 8000)
            assert abs(head.duration - row["duration"]) < 0.1

            with _app(tmp_path / "dialer.sqlite", gateway.now()) as c:
                _login(c, "b2")  # another agent: finds nothing, cannot fetch it
                assert c.get("/api/recordings").json()["total"] == 0
                assert c.get(f"/api/recordings/{row['id']}/audio").status_code == 404
                _login(c, "a1")
                page = c.get("/api/recordings", params={"number": row["number"][-4:],
                                                        "disposition": "no_deal"}).json()
                assert page["total"] == 1 and page["items"][0]["agent"] == "a1"
                assert "path" not in page["items"][0]
                assert c.get("/api/recordings", params={"min_duration": 3600}
                             ).json()["total"] == 0
                part = c.get(f"/api/recordings/{row['id']}/audio",
                             headers={"Range": "bytes=0-99"})
                assert part.status_code == 206 and len(part.content) == 100
                size = path.stat().st_size
                assert part.headers["content-range"] == f"bytes 0-99/{size}"
                whole = c.get(f"/api/recordings/{row['id']}/audio")
                assert whole.status_code == 200 and whole.content == path.read_bytes()
                assert c.get(f"/api/recordings/{row['id']}/audio",
                             headers={"Range": f"bytes={size}-"}).status_code == 416
                wave = c.get(f"/api/recordings/{row['id']}/waveform",
                             params={"buckets": 40}).json()
                assert wave["channels"] == 2 and wave["buckets"] == 40
                customer = wave["peaks"][0]
                assert max(customer["max"]) > 0.01  # the customer spoke
                # an agent cannot score; a supervisor sets the form and scores
                assert c.post(f"/api/recordings/{row['id']}/qa", headers=_login(c, "a1"),
                              json={"items": {}}).status_code == 403
                csrf = _login(c, "boss")
                assert c.put("/api/campaigns/loans/qa-form", json=QA,
                             headers=csrf).status_code == 200
                bad = c.post(f"/api/recordings/{row['id']}/qa", headers=csrf,
                             json={"items": {"greeting": 6, "disclosure": 1, "tone": 5}})
                assert bad.status_code == 422 and "greeting" in bad.json()["message"]
                scored = c.post(f"/api/recordings/{row['id']}/qa", headers=csrf, json={
                    "items": {"greeting": 4, "disclosure": 1, "tone": 7.5},
                    "comments": "good"})
                assert scored.status_code == 201, scored.text
                # 100 * (1*4/5 + 2*1/1 + 1*7.5/10) / 4
                assert scored.json()["score"] == 88.75
                _login(c, "a1")
                summary = c.get("/api/qa/summary").json()
                assert summary == [{"campaign": "loans", "agent": "a1", "reviews": 1,
                                    "calls": 1, "avg_score": 88.75, "min_score": 88.75,
                                    "max_score": 88.75, "pass_rate": 1.0}]
        finally:
            gateway.close()
        # the service's dispatcher thread may have sent them already; what is left, now
        with WebhookDispatcher(store) as dispatcher:
            dispatcher.run_once()
        assert store.query("SELECT COUNT(*) FROM webhook_delivery WHERE state!='delivered'"
                           )[0][0] == 0
        assert len(hook.requests) == store.query(
            "SELECT COUNT(*) FROM webhook_delivery")[0][0] >= 2
        kinds = {}
        for got in hook.requests:
            assert verify("s" * 32, got.headers["x-trunkline-signature"],
                          got.headers["x-trunkline-timestamp"], got.body, now=time.time())
            body = json.loads(got.body)
            kinds.setdefault(body["event"], []).append(body["data"])
        assert kinds["disposition"][0]["code"] == "no_deal"
        assert kinds["disposition"][0]["attempt_id"] == row["attempt_id"]
        assert "name" in kinds["disposition"][0]["contact_fields"]
        results = {d["attempt_id"]: d for d in kinds["call.result"]}
        assert results[row["attempt_id"]]["outcome"] == "human"
