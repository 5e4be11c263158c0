"""WebRTC positions on a real gateway (socket, engine, emulated card, real time) with
Python WebRTC clients (aiortc): the position rings until the page connects, audio goes
both ways through a bridge, keys are heard in-band and as telephone-events, a reload
resumes the same call, a vanished page ends it after the reconnect time."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "gateway_service"))

from gw_service_kit import PLAN, wait_for, wait_until
from webrtc_client_kit import connect

from trunkline.clock import RealClock
from trunkline.drivers.backends.emulated.digits import frame_keys
from trunkline.drivers.dsp.tones import dtmf_string
from trunkline.gateway.config import GatewayConfig
from trunkline.gateway.rpc.client import GatewayClient
from trunkline.gateway.rpc.errors import RpcError
from trunkline.gateway.testing import ServiceThread
from trunkline.gateway.webrtc.settings import SoftphoneSettings


@pytest.fixture(scope="module")
def gateway(tmp_path_factory):
    folder = tmp_path_factory.mktemp("webrtc-gw")
    config = GatewayConfig()
    config.socket = folder / "gw.sock"
    config.network = PLAN
    config.shutdown_grace = 1.0
    config.webrtc = SoftphoneSettings(positions=4, reconnect=2.0)
    gw = ServiceThread(config, clock=RealClock()).start()
    yield gw
    gw.stop()


@pytest.fixture
def client(gateway):
    with GatewayClient(gateway.socket) as c:
        c.subscribe()
        yield c


def state_is(call: int, state: str):
    return lambda e: e.get("event") == "call.state" and e.get("call") == call \
        and e.get("state") == state


def keys_in(samples: np.ndarray) -> str:
    """The keys in ``samples``, one per run of frames holding it."""
    n = len(samples) // 160
    found = frame_keys(samples[:n * 160].reshape(-1, 160).astype(np.float64))
    out, last = [], ""
    for key in found.tolist():
        if key and key != last:
            out.append(key)
        last = key
    return "".join(out)


def test_a_position_rings_until_the_page_connects_then_carries_audio_both_ways(
        gateway, client):
    position = client.call("webrtc.open", label="agent-1")
    call, channel = position["call"], position["channel"]
    assert position["kind"] == "webrtc" and channel > 140
    wait_for(client, state_is(call, "ringing"))
    browser = connect(client, call)
    try:
        answered = wait_for(client, state_is(call, "answered"))[-1]
        assert answered["by"] == "human"
        # An FXS phone as the "customer": bridged to the browser.
        phone_call = client.call("call.originate", number="customer", group="agents")
        wait_for(client, state_is(phone_call["call"], "answered"))
        client.call("call.bridge", call=call, other=phone_call["call"])
        phone = gateway.service.card.phone(phone_call["channel"])

        # Phone -> browser: the phone's keys reach the page.
        gateway.on_engine(lambda: phone.press("73", on_ms=200, off_ms=200))
        wait_until(lambda: "73" in keys_in(browser.heard()), "the page hearing 7 3",
                   timeout=15)

        # Browser -> phone, in-band: the gateway's detector hears the page's keys on the
        # position's channel, and the phone hears them.
        browser.track.play(dtmf_string("59", on_ms=200, off_ms=200))
        digits = wait_for(client, lambda e: e.get("event") == "dtmf" and e.get("call") == call
                          and e.get("digit") == "9", timeout=15)
        assert [e["digit"] for e in digits if e.get("event") == "dtmf"
                and e.get("call") == call] == ["5", "9"]
        wait_until(lambda: "59" in keys_in(gateway.on_engine(lambda: phone.heard.copy())),
                   "the phone hearing 5 9", timeout=15)

        status = client.call("webrtc.status", call=call)
        assert status["peer"] == "connected" and status["received"] > 50
        assert status["law"] == "ulaw"
        client.call("call.hangup", call=phone_call["call"])
    finally:
        client.call("call.hangup", call=call)
        wait_for(client, state_is(call, "hungup"))
        browser.close()


def test_pcma_is_negotiated_when_the_page_offers_only_pcma(client):
    call = client.call("webrtc.open", label="agent-2")["call"]
    browser = connect(client, call, codec="PCMA")
    try:
        wait_for(client, state_is(call, "answered"))
        assert client.call("webrtc.status", call=call)["law"] == "alaw"
    finally:
        client.call("call.hangup", call=call)
        browser.close()


def test_an_offer_without_g711_is_refused_by_name(client):
    call = client.call("webrtc.open", label="agent-3")["call"]
    try:
        with pytest.raises(RpcError, match="PCMU nor PCMA"):
            connect(client, call, codec="opus")
    finally:
        client.call("call.hangup", call=call)


def test_a_reload_resumes_the_same_call_and_a_vanished_page_ends_it(gateway, client):
    call = client.call("webrtc.open", label="agent-4")["call"]
    first = connect(client, call)
    wait_for(client, state_is(call, "answered"))
    # The page reloads: a new offer for the same call replaces the old peer.
    second = connect(client, call)
    first.close()
    wait_for(client, lambda e: e.get("event") == "webrtc.state" and e.get("call") == call
             and e.get("state") == "replaced")
    wait_for(client, lambda e: e.get("event") == "webrtc.state" and e.get("call") == call
             and e.get("state") == "connected")
    assert call in [c["call"] for c in client.call("calls.list")]
    # The page vanishes without a word: after [webrtc] reconnect (2 s) the call ends.
    second.close()
    ended = wait_for(client, state_is(call, "hungup"), timeout=20)[-1]
    assert ended["outcome"] == "human"


def test_positions_run_out_with_a_clear_refusal(client):
    calls = []
    try:
        with pytest.raises(RpcError, match="positions are in use"):
            for _ in range(5):
                calls.append(client.call("webrtc.open", label="x")["call"])
    finally:
        for call in calls:
            client.call("call.hangup", call=call)


def test_offer_for_a_call_that_is_not_a_position(client):
    with pytest.raises(RpcError, match="no call"):
        client.call("webrtc.offer", call=999999, sdp="v=0")


def test_a_supervisor_whispers_to_the_browser_agent_and_the_customer_does_not_hear(
        gateway, client):
    """call.monitor whisper takes a WebRTC position as it takes an FXS one: the page
    hears the supervisor, the customer does not."""
    call = client.call("webrtc.open", label="agent-5")["call"]
    browser = connect(client, call)
    others = []
    try:
        wait_for(client, state_is(call, "answered"))
        customer = client.call("call.originate", number="customer", group="agents")
        supervisor = client.call("call.originate", number="boss", group="agents")
        others = [customer["call"], supervisor["call"]]
        for other in others:
            wait_for(client, state_is(other, "answered"))
        client.call("call.bridge", call=call, other=customer["call"])
        client.call("call.monitor", call=supervisor["call"], target=call, mode="whisper")
        boss = gateway.service.card.phone(supervisor["channel"])
        gateway.on_engine(lambda: boss.press("48", on_ms=200, off_ms=200))
        wait_until(lambda: "48" in keys_in(browser.heard()), "the page hearing the "
                   "supervisor's whisper", timeout=15)
        heard = gateway.on_engine(
            lambda: gateway.service.card.phone(customer["channel"]).heard.copy())
        assert "4" not in keys_in(heard) and "8" not in keys_in(heard)
    finally:
        for other in [*others, call]:
            client.call("call.hangup", call=other)
        browser.close()


def _tone_frames(samples: np.ndarray, hz: float) -> int:
    """How many 20 ms frames of ``samples`` are mostly the ``hz`` tone."""
    n = len(samples) // 160
    x = samples[:n * 160].reshape(n, 160).astype(np.float64)
    t = np.arange(160) / 8000.0
    c, s = x @ np.cos(2 * np.pi * hz * t), x @ np.sin(2 * np.pi * hz * t)
    energy = np.einsum("ij,ij->i", x, x)
    share = np.where(energy > 1e5, 2 * (c * c + s * s) / 160 / np.maximum(energy, 1), 0)
    return int(np.sum(share > 0.5))


def test_the_test_call_beeps_records_the_agent_and_plays_it_back(gateway, client):
    call = client.call("webrtc.open", label="agent-6")["call"]
    browser = connect(client, call)
    try:
        wait_for(client, state_is(call, "answered"))
        mark = len(browser.received)
        # The agent "speaks" from the beep on: a 1 kHz tone into the microphone, longer
        # than the beep and the recording together (a slow machine delays its start).
        t = np.arange(4 * 8000) / 8000.0
        browser.track.play((8000 * np.sin(2 * np.pi * 1000 * t)).astype(np.int16))
        started = client.call("webrtc.test", call=call, seconds=1.0)
        assert started["phase"] == "beep"
        wait_for(client, lambda e: e.get("event") == "webrtc.test" and e.get("call") == call
                 and e.get("phase") == "recording")
        done = wait_for(client, lambda e: e.get("event") == "webrtc.test"
                        and e.get("call") == call and e.get("phase") == "done")[-1]
        assert -30 < done["level_dbfs"] < -5
        time.sleep(0.3)
        back = np.concatenate(browser.received[mark:])
        # The recording (1 s: 50 frames) came back: most of it is the agent's tone.
        assert _tone_frames(back, 1000.0) >= 30, "the agent heard its own tone played back"
        assert client.call("webrtc.status", call=call)["test"]["phase"] == "done"
        # Not while on a call.
        other = client.call("call.originate", number="customer", group="agents")["call"]
        wait_for(client, state_is(other, "answered"))
        client.call("call.bridge", call=call, other=other)
        with pytest.raises(RpcError, match="on no call"):
            client.call("webrtc.test", call=call)
        client.call("call.hangup", call=other)
    finally:
        client.call("call.hangup", call=call)
        browser.close()
