"""The agent's network drops mid-call, in a real browser (issue 19 item 3): headless
Chromium in a network namespace of its own, joined to this host by one veth pair (the
agent's PC and its cable; chromium_softphone_kit.browser_network). Pulling the cable is
real: the host's end of the pair goes down, nothing passes either way (the page's
WebRTC audio and its WebSocket alike), then it comes back up.

Through a predictive campaign call to a customer on the emulated network: the customer
hears the agent (the fake microphone's 600 Hz); the cable is pulled: the gateway says the
position's audio is lost (``no_media``, its packets stopped) and the customer hears the
campaign's hold music (the service's ``--hold-file``, 300 Hz here), not silence; the
cable is plugged back within ``[webrtc] reconnect``: the same call goes on, the hold
music stops and the customer hears the agent again, and the page is connected and
talking. Needs root for the namespace (skipped without)."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "desk_web"))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "gateway_service"))

from chromium_softphone_kit import (
    OPTIONS,
    browser_network,
    customers_plan,
    fake_microphone_args,
    needs_chromium,
    serve,
    stop,
)
from desk_browser_kit import DEBTORS, log_in, make_db, start_campaign
from gw_service_kit import wait_for, wait_until
from webrtc_speech_kit import peak_hz

from trunkline.clock import RealClock
from trunkline.gateway.config import GatewayConfig
from trunkline.gateway.rpc.client import GatewayClient
from trunkline.gateway.testing import ServiceThread
from trunkline.gateway.webrtc.settings import SoftphoneSettings

pytestmark = pytest.mark.slow

STATE = "[data-testid=agent-state]"
PLAN = customers_plan(120)
AGENT_HZ, HOLD_HZ = 600.0, 300.0


class Listener:
    """The customer's end on the trunk: silent, keeps what it hears."""

    def __init__(self) -> None:
        self.heard: list[np.ndarray] = []

    def frame(self, heard: np.ndarray) -> np.ndarray:
        self.heard.append(np.asarray(heard, np.float64).copy())
        return np.zeros(160, np.int16)

    def hears(self) -> float:
        """The strongest frequency of the last 0.4 s (0: silence)."""
        last = self.heard[-20:]
        if len(last) < 20:
            return 0.0
        audio = np.concatenate(last)
        return peak_hz(audio) if np.sqrt(np.mean(audio ** 2)) > 100 else 0.0


def _tone(path: Path, hz: float) -> Path:
    t = np.arange(8000) / 8000.0
    soundfile.write(path, (8000 * np.sin(2 * np.pi * hz * t)).astype(np.int16), 8000,
                    subtype="PCM_16")
    return path


def test_the_customer_hears_the_hold_music_while_the_agents_cable_is_out(
        tmp_path: Path) -> None:
    needs_chromium()
    from playwright.sync_api import sync_playwright

    plan = tmp_path / "network.toml"
    plan.write_text(PLAN)
    mic = _tone(tmp_path / "agent.wav", AGENT_HZ)
    hold = _tone(tmp_path / "hold.wav", HOLD_HZ)
    config = GatewayConfig(socket=tmp_path / "gw.sock", network=plan,
                           recordings_root=tmp_path / "rec", fax_spool=tmp_path / "fax",
                           prompts=tmp_path,   # the hold music's folder (call.play's)
                           webrtc=SoftphoneSettings(positions=2, reconnect=30.0))
    gateway = ServiceThread(config, clock=RealClock()).start()
    db = make_db(tmp_path, DEBTORS[:1])
    with browser_network(tmp_path) as cable:
        proc, url = serve(db, gateway.socket, host=cable.host_ip,
                          extra=("--hold-file", str(hold)))
        watcher = GatewayClient(gateway.socket).connect()
        watcher.subscribe()
        try:
            start_campaign(url)
            with sync_playwright() as p:
                chromium = p.chromium.launch(executable_path=str(cable.chromium), args=[
                    *fake_microphone_args(mic),
                    # getUserMedia on http:// only for localhost, else this (a test box)
                    f"--unsafely-treat-insecure-origin-as-secure={url}"])
                context = chromium.new_context(permissions=["microphone"])
                context.add_init_script(OPTIONS)
                page = context.new_page()
                log_in(page, url, "li")
                page.wait_for_function("() => !!window.trunklineSoftphone")
                page.select_option("[data-testid=position-kind]", "browser")
                page.click("[data-testid=position-login]")
                page.wait_for_selector(f"{STATE}[data-state=paused]", timeout=30_000)
                page.click("[data-testid=ready]")
                page.wait_for_selector(f"{STATE}[data-state=talking]", timeout=30_000)
                calls = {c["call"]: c for c in watcher.call("calls.list")}
                position = next(c for c in calls.values() if c["kind"] == "webrtc")
                customer = calls[position["bridged_to"]]
                listener = Listener()
                card = gateway.service.card
                gateway.on_engine(lambda: card.port(customer["channel"])
                                  .attach_live(listener))
                wait_until(lambda: abs(listener.hears() - AGENT_HZ) < 30,
                           "the customer hearing the agent", timeout=15)

                cable.down()                         # the agent's cable is pulled
                lost = wait_for(watcher, lambda e: e.get("event") == "webrtc.state"
                                and e.get("call") == position["call"]
                                and e.get("state") == "lost", timeout=10)[-1]
                assert lost["reason"] == "no_media", lost
                wait_until(lambda: abs(listener.hears() - HOLD_HZ) < 30,
                           "the customer hearing the hold music", timeout=5)
                assert customer["call"] in [c["call"] for c in watcher.call("calls.list")]

                cable.up()                           # plugged back within reconnect
                wait_for(watcher, lambda e: e.get("event") == "webrtc.state"
                         and e.get("call") == position["call"]
                         and e.get("state") == "connected", timeout=20)
                wait_until(lambda: abs(listener.hears() - AGENT_HZ) < 30,
                           "the customer hearing the agent again", timeout=10)
                now = {c["call"]: c for c in watcher.call("calls.list")}
                assert now[customer["call"]]["bridged_to"] == position["call"]
                page.wait_for_function("() => window.trunklineSoftphone.ready()",
                                       timeout=15_000)
                assert page.get_attribute(STATE, "data-state") == "talking"
                chromium.close()
        finally:
            watcher.close()
            stop(proc)
            gateway.stop()
