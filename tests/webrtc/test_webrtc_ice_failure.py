"""Network faults on a WebRTC position (issue 19 item 3), with real peers.

A real ICE failure: a Python client (aiortc)
whose offered candidates, and the gateway's it is given, point at a UDP port nobody
listens on, as when a firewall or a dead network lies between the agent's PC and the
gateway. Nothing is mocked: the gateway's aioice sends its connectivity checks, none is
answered, and the peer connection fails. The only thing shortened is STUN's retransmission
count (aioice's RETRY_MAX, 6 by default: 63 s before a check gives up; 1 here: 1.5 s), in
this process (the client) and in the gateway's WebRTC media worker (started with it set).

The gateway reports it (``webrtc.state`` lost, reason ``ice_failed``), keeps the position
``[webrtc] reconnect`` s, and a page that can reach it takes the same call back.

A network drop mid-call: the client's packets stop (its loop frozen); the gateway says
the audio is lost after 2 s of no packets, long before ICE would, and back when they
return."""

from __future__ import annotations

import re
import socket
import sys
import time
from pathlib import Path

import aioice.stun
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "gateway_service"))

from gw_service_kit import PLAN, wait_for
from webrtc_client_kit import PyBrowser, connect

from trunkline.clock import RealClock
from trunkline.gateway.config import GatewayConfig
from trunkline.gateway.rpc.client import GatewayClient
from trunkline.gateway.testing import ServiceThread
from trunkline.gateway.webrtc.settings import SoftphoneSettings

#: The gateway's media worker, with aioice's STUN retransmissions cut as ``quick_stun``
#: does here (its arguments, the two descriptors, follow: ``sys.argv[1:]``).
QUICK_STUN_WORKER = [
    sys.executable, "-c",
    "import sys, aioice.stun; aioice.stun.RETRY_MAX = 1; "
    "from trunkline.gateway.webrtc.worker import main; sys.exit(main())"]

CANDIDATE = re.compile(r"^(a=candidate:\S+ \d+ udp \d+ )(\S+) (\d+)( typ .*)$",
                       re.MULTILINE | re.IGNORECASE)


@pytest.fixture(scope="module")
def gateway(tmp_path_factory):
    folder = tmp_path_factory.mktemp("webrtc-ice")
    config = GatewayConfig()
    config.socket = folder / "gw.sock"
    config.network = PLAN
    config.shutdown_grace = 1.0
    config.webrtc = SoftphoneSettings(positions=2, reconnect=3.0, media_worker=True)
    gw = ServiceThread(config, clock=RealClock()).start()
    gw.service.softphone.worker_command = QUICK_STUN_WORKER
    yield gw
    gw.stop()


@pytest.fixture
def quick_stun(monkeypatch):
    """Checks give up after 0.5 + 1 s instead of 63 s (the same code path)."""
    monkeypatch.setattr(aioice.stun, "RETRY_MAX", 1)


def dead_port() -> int:
    """A UDP port just freed: nothing listens on it."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("0.0.0.0", 0))
        return int(s.getsockname()[1])


def unreachable(sdp: str, port: int) -> str:
    """``sdp`` with every candidate moved to ``port`` (its host kept)."""
    moved, n = CANDIDATE.subn(lambda m: f"{m[1]}{m[2]} {port}{m[4]}", sdp)
    assert n > 0, "the SDP has no candidate lines"
    return moved


def state_of(call: int, state: str):
    return lambda e: e.get("event") == "webrtc.state" and e.get("call") == call \
        and e.get("state") == state


def test_ice_failure_is_reported_by_name_and_a_reachable_page_takes_the_call_back(
        gateway, quick_stun):
    with GatewayClient(gateway.socket) as client:
        client.subscribe()
        call = client.call("webrtc.open", label="agent-ice")["call"]
        cut_off = PyBrowser()
        good = None
        try:
            port = dead_port()
            reply = client.call("webrtc.offer", call=call,
                                sdp=unreachable(cut_off.offer(), port))
            cut_off.accept(unreachable(reply["sdp"], port))
            seen = wait_for(client, state_of(call, "lost"), timeout=20)
            assert seen[-1]["reason"] == "ice_failed"
            assert not [e for e in seen if state_of(call, "connected")(e)]
            assert client.call("webrtc.status", call=call)["peer"] in ("failed", "closed")
            # Still the agent's position: a page that can reach the gateway resumes it.
            assert call in [c["call"] for c in client.call("calls.list")]
            good = connect(client, call)
            wait_for(client, state_of(call, "connected"), timeout=20)
            assert client.call("webrtc.status", call=call)["peer"] == "connected"
        finally:
            client.call("call.hangup", call=call)
            cut_off.close()
            if good is not None:
                good.close()


def test_a_page_whose_packets_stop_is_lost_within_seconds_and_back_when_they_return(
        gateway):
    """The agent's network drops mid-call: the client's loop is frozen 3 s (no RTP, no
    STUN answers, as a pulled cable). ICE would notice after ~30 s (consent freshness);
    the position says ``lost`` (``no_media``) after 2 s of no packets, so the customer
    gets the hold sound at once, and ``connected`` when the packets come back."""
    with GatewayClient(gateway.socket) as client:
        client.subscribe()
        call = client.call("webrtc.open", label="agent-drop")["call"]
        browser = connect(client, call)
        try:
            wait_for(client, state_of(call, "connected"), timeout=20)
            time.sleep(0.5)                       # packets flowing
            browser.loop.call_soon_threadsafe(time.sleep, 3.0)   # the network drops
            # Lost during the 3 s freeze (connected again only after it), by the media
            # watch, not by ICE (~30 s). When exactly (MEDIA_TIMEOUT_TICKS quiet ticks)
            # is the tick-level property test's (test_webrtc_media_watch.py): no
            # wall-clock bound here, on a shared machine.
            lost = wait_for(client, state_of(call, "lost"), timeout=10)[-1]
            assert lost["reason"] == "no_media"
            wait_for(client, state_of(call, "connected"), timeout=10)
            # Back within [webrtc] reconnect: the same call goes on.
            assert call in [c["call"] for c in client.call("calls.list")]
            assert client.call("webrtc.status", call=call)["peer"] == "connected"
        finally:
            client.call("call.hangup", call=call)
            browser.close()
