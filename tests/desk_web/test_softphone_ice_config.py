"""The page's STUN/TURN servers come from the gateway's configuration (issue 19 item 2:
"TURN configurable for sites that need it"): the desk page cannot be configured by an
inline script (its CSP allows none), so the service hands them over the WebSocket
(``softphone.config``, answered from the gateway's ``[[webrtc.ice_server]]`` through
``webrtc.ice``). None by default: sites are offline, host candidates only.

The service and the in-process gateway run for real (a browser position opened by the
desk's login); only the page is played by the test, over the WebSocket."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
from desk_browser_kit import PASSWORDS, make_db
from fastapi.testclient import TestClient

from trunkline.dialer.runner.desk_runner import DeskRunner
from trunkline.dialer.runner.gateway import InProcessGateway
from trunkline.dialer.service.host import GatewaySpec, ServiceHost
from trunkline.dialer.service.web import create_app
from trunkline.dialer.service.web_auth import secret_key
from trunkline.gateway.config import GatewayConfig
from trunkline.gateway.webrtc.settings import SoftphoneSettings

TURN = {"urls": ["turn:turn.example.net:3478?transport=udp"], "username": "trunkline",
        "credential": "s3cret"}
STUN = {"urls": "stun:10.1.2.3:3478"}


def _client(folder: Path, settings: SoftphoneSettings) -> TestClient:
    db = make_db(folder)

    def gateway() -> tuple[InProcessGateway, object]:
        g = InProcessGateway(start=time.time(), config=GatewayConfig(webrtc=settings))
        return g, g.close

    def runner(store: Any, names: Any, gw: Any, progress: Any, sink: Any) -> DeskRunner:
        return DeskRunner(store, names, gw, sink=sink, progress=progress)

    host = ServiceHost(str(db), [GatewaySpec("virtual", gateway)], runner, drain=5.0)
    return TestClient(create_app(str(db), host, key=secret_key(str(db))),
                      base_url="http://testserver")


def _page_config(c: TestClient) -> dict[str, Any]:
    """What the page is told before it makes its peer connection: the agent logs in to a
    browser position, then asks ``softphone.config`` until the position is open (before
    the login: asked to wait)."""
    boss = c.post("/api/login", json={"name": "boss", "password": PASSWORDS["boss"]})
    assert boss.status_code == 200
    r = c.post("/api/campaigns/loans/start",
               headers={"X-CSRF-Token": boss.json()["csrf_token"]})
    assert r.status_code == 200, r.text
    c.post("/api/logout", headers={"X-CSRF-Token": boss.json()["csrf_token"]})
    li = c.post("/api/login", json={"name": "li", "password": PASSWORDS["li"]})
    token = li.json()["csrf_token"]
    with c.websocket_connect("/api/ws", headers={"Origin": "http://testserver"}) as ws:
        def ask(n: int) -> dict[str, Any]:
            ws.send_json({"type": "softphone.config", "id": n})
            while (reply := ws.receive_json()).get("id") != n:
                pass   # the desk's own events
            return dict(reply)

        # not at a desk yet: told to ask again, and no server (nor credential) handed out
        early = ask(0)
        assert early["type"] == "softphone.error" and early["retry"] is True
        assert "ice_servers" not in early
        r = c.post("/api/desk/login", headers={"X-CSRF-Token": token},
                   json={"position": "browser", "address": "",
                         "campaigns": [{"name": "loans"}]})
        assert r.status_code == 202, r.text
        deadline = time.monotonic() + 20
        n = 0
        while time.monotonic() < deadline:
            n += 1
            reply = ask(n)
            if reply["type"] == "softphone.config":
                return reply
            assert reply["type"] == "softphone.error" and reply["retry"], reply
            time.sleep(0.2)
    raise AssertionError("the browser position never opened")


def test_no_ice_server_is_sent_by_default(tmp_path: Path) -> None:
    with _client(tmp_path, SoftphoneSettings()) as c:
        assert _page_config(c)["ice_servers"] == []


def test_the_gateways_turn_and_stun_reach_the_page(tmp_path: Path) -> None:
    with _client(tmp_path, SoftphoneSettings(ice_servers=(TURN, STUN))) as c:
        assert _page_config(c)["ice_servers"] == [TURN, STUN]


@pytest.mark.parametrize("servers", [(), (TURN,)])
def test_the_gateway_method_answers_for_a_position_only(servers: tuple[dict[str, Any], ...]
                                                        ) -> None:
    gw = InProcessGateway(start=time.time(),
                          config=GatewayConfig(webrtc=SoftphoneSettings(ice_servers=servers)))
    try:
        call = gw.webrtc_open("li")
        assert gw.webrtc("ice", call) == {"call": call, "ice_servers": list(servers)}
        with pytest.raises(Exception, match="no call 99999"):
            gw.webrtc("ice", 99999)
    finally:
        gw.close()
