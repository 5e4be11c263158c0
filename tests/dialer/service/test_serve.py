"""``trunkline dialer serve --virtual`` as a real process: the OpenAPI description, a login
over real HTTP, a campaign started and stopped through the API and watched on the
WebSocket, and a clean stop on SIGTERM."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from wav_kit import tone_wav
from web_kit import make_db
from websockets.sync.client import connect

from trunkline.dialer.desk.config import DeskConfig
from trunkline.dialer.store import Store


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_up(url: str, proc: subprocess.Popen, timeout: float = 60.0) -> httpx.Response:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if proc.poll() is not None:
            raise AssertionError(f"the service exited: {proc.stderr.read()}")
        try:
            return httpx.get(f"{url}/openapi.json", timeout=2.0)
        except httpx.TransportError:
            time.sleep(0.2)
    raise AssertionError("the service did not come up")


def _abandon_wav(folder: Path) -> str:
    """A real 1 s recorded abandon message, ``sorry.wav`` in ``folder/prompts`` (give the
    service ``TRUNKLINE_PROMPTS``: :func:`_env`): the campaign's regime (us, the default)
    needs one (abandon_message.py)."""
    (folder / "prompts").mkdir(exist_ok=True)
    return tone_wav(folder / "prompts" / "sorry.wav").name


def _env(folder: Path) -> dict[str, str]:
    """The service's environment: unbuffered, its virtual gateway's prompts in
    ``folder/prompts``."""
    return {**os.environ, "PYTHONUNBUFFERED": "1", "TRUNKLINE_PROMPTS": str(folder / "prompts")}


def _until(ws, kind: str, timeout: float = 120.0) -> list[dict]:
    seen = []
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        event = json.loads(ws.recv(timeout=max(0.1, end - time.monotonic())))
        seen.append(event)
        if event["type"] == kind:
            return seen
    raise AssertionError(f"no {kind} in {seen}")


@pytest.mark.slow
def test_the_service_serves_runs_a_campaign_and_stops_cleanly(tmp_path: Path) -> None:
    db = make_db(tmp_path)
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    env = _env(tmp_path)
    proc = subprocess.Popen(
        [sys.executable, "-m", "trunkline.cli", "dialer", "serve", "--virtual",
         "--db", str(db), "--listen", f"127.0.0.1:{port}", "--drain", "5",
         "--abandon-file", _abandon_wav(tmp_path)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    try:
        spec = _wait_up(url, proc)
        assert spec.status_code == 200
        assert "/api/login" in spec.json()["paths"]
        with httpx.Client(base_url=url, timeout=30.0) as http:
            r = http.post("/api/login", json={"name": "boss", "password": "boss-password"})
            assert r.status_code == 200, r.text
            token = r.json()["csrf_token"]
            cookie = f"trunkline_session={http.cookies['trunkline_session']}"
            with connect(f"ws://127.0.0.1:{port}/api/ws",
                         additional_headers={"Cookie": cookie, "Origin": url}) as ws:
                assert json.loads(ws.recv(timeout=10))["type"] == "hello"
                assert json.loads(ws.recv(timeout=10))["type"] == "snapshot"
                assert json.loads(ws.recv(timeout=10))["type"] == "desk.snapshot"
                r = http.post("/api/campaigns/sales/start", headers={"X-CSRF-Token": token})
                assert r.status_code == 200, r.text
                assert r.json()["state"] == "running" and r.json()["gateway"] == "virtual"
                _until(ws, "campaign.started")
                r = http.post("/api/campaigns/sales/stop", headers={"X-CSRF-Token": token})
                # stopping, or already idle: with no call in flight the shift ends at once
                assert r.status_code == 200 and r.json()["state"] in ("stopping", "idle")
                ended = _until(ws, "campaign.stopped")[-1]
                assert ended["summary"] is not None
            assert http.get("/api/campaigns/sales").json()["state"] == "idle"
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 0, err
    assert f"trunkline dialer service on {url}" in out
    with Store(db) as store:
        actions = [e.action for e in store.audit_entries()]
        assert actions[:3] == ["campaign.stop", "campaign.start", "login"]


@pytest.mark.slow
def test_an_agent_works_a_call_in_real_time_on_the_served_emulated_card(
        tmp_path: Path) -> None:
    """The whole path in real time: the service's own gateway thread on the emulated
    card, the desk runner, an agent at FXS port 71 over HTTP, its screen pop and
    disposition over the WebSocket."""
    db = make_db(tmp_path)
    with Store(db) as store:
        store.save_desk_config("sales", DeskConfig.from_dict("sales", {
            "disposition": [{"code": "promise", "field": [
                {"name": "amount", "kind": "money", "required": True}]}]}))
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    proc = subprocess.Popen(
        [sys.executable, "-m", "trunkline.cli", "dialer", "serve", "--virtual",
         "--db", str(db), "--listen", f"127.0.0.1:{port}", "--drain", "10",
         "--abandon-file", _abandon_wav(tmp_path)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=_env(tmp_path))
    try:
        _wait_up(url, proc)
        with httpx.Client(base_url=url, timeout=60.0) as boss, \
                httpx.Client(base_url=url, timeout=30.0) as li:
            token = boss.post("/api/login", json={"name": "boss", "password": "boss-password"}
                              ).json()["csrf_token"]
            assert boss.post("/api/campaigns/sales/start",
                             headers={"X-CSRF-Token": token}).status_code == 200
            h = {"X-CSRF-Token": li.post("/api/login", json={
                "name": "li", "password": "li-password"}).json()["csrf_token"]}
            cookie = f"trunkline_session={li.cookies['trunkline_session']}"
            with connect(f"ws://127.0.0.1:{port}/api/ws",
                         additional_headers={"Cookie": cookie, "Origin": url}) as ws:
                assert li.post("/api/desk/login", headers=h, json={
                    "position": "fxs", "address": "71", "campaigns": [{"name": "sales"}]}
                ).status_code == 202
                _until_state(ws, "paused")
                assert li.post("/api/desk/ready", headers=h).status_code == 202
                pop = next(e for e in _until(ws, "desk.screen_pop")
                           if e["type"] == "desk.screen_pop")
                assert pop["agent"] == "li" and pop["contact"]["number"].startswith("+861381")
                _until_state(ws, "wrap_up")
                assert li.post("/api/desk/disposition", headers=h, json={
                    "code": "promise", "fields": {"amount": "2000"}, "then": "pause",
                    "reason": "break"}).status_code == 202
                saved = _until(ws, "desk.disposition_saved")[-1]
                assert saved["agent"] == "li"
                _until_state(ws, "paused")  # no second call: the agent paused
        proc.send_signal(signal.SIGTERM)
        proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 0
    with Store(db) as store:
        rows = store.query("SELECT d.agent, d.code, c.number FROM disposition d "
                           "JOIN contact c ON c.id=d.contact_id")
        assert [tuple(r) for r in rows] == [("li", "promise", pop["contact"]["number"])]


@pytest.mark.parametrize(("trust", "seen"), [(True, "10.9.8.7"), (False, "127.0.0.1")])
def test_forwarded_addresses_are_believed_only_from_a_trusted_proxy(
        tmp_path: Path, trust: bool, seen: str) -> None:
    db = make_db(tmp_path)
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    proc = subprocess.Popen(
        [sys.executable, "-m", "trunkline.cli", "dialer", "serve", "--virtual", "--db",
         str(db), "--listen", f"127.0.0.1:{port}",
         *(["--trust-proxy", "127.0.0.1"] if trust else [])],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        _wait_up(url, proc)
        r = httpx.post(f"{url}/api/login", json={"name": "li", "password": "li-password"},
                       headers={"X-Forwarded-For": "10.9.8.7"})
        assert r.status_code == 200
        proc.send_signal(signal.SIGTERM)
        proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    with Store(db) as store:
        assert store.audit_entries(action="login")[0].remote == seen


def _until_state(ws, state: str) -> None:
    for _ in range(100):
        event = _until(ws, "desk.state")[-1]
        if event["state"] == state:
            return
    raise AssertionError(f"agent never {state}")


@pytest.mark.parametrize(("argv", "message"), [
    (["--listen", "nowhere"], "not HOST:PORT"),
    (["--tls-cert", "x.pem"], "give both --tls-cert and --tls-key"),
    (["--network", "plan.toml"], "--network goes with --virtual"),
])
def test_bad_options_are_named(tmp_path: Path, argv: list[str], message: str) -> None:
    done = subprocess.run([sys.executable, "-m", "trunkline.cli", "dialer", "serve",
                           "--db", str(tmp_path / "d.sqlite"), *argv],
                          capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode != 0 and message in done.stderr
