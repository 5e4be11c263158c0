"""The gateway service end to end: real socket, real engine, the emulated card."""

from __future__ import annotations

import threading

import numpy as np
import pytest
import soundfile
from gw_service_kit import RunningGateway, wait_for, wait_until

from trunkline.drivers.backends.emulated.digits import frame_keys
from trunkline.gateway.config import GatewayConfig
from trunkline.gateway.rpc.client import GatewayClient
from trunkline.gateway.rpc.errors import RpcError


@pytest.fixture(scope="module")
def gateway():
    gw = RunningGateway().start()
    yield gw
    gw.stop()


@pytest.fixture
def client(gateway):
    with GatewayClient(gateway.socket) as c:
        yield c


def state_is(call_id: int, state: str):
    return lambda e: e.get("event") == "call.state" and e.get("call") == call_id \
        and e.get("state") == state


def test_system_spans_channels_groups(client):
    info = client.call("system.info")
    assert info["backend"] == "emulated" and info["spans"] == 6 and info["channels"] == 140
    client.subscribe()  # before looking: a link coming up meanwhile is not missed
    spans = client.call("spans.list")
    assert [s["kind"] for s in spans] == ["e1", "e1", "fxo", "fxs", "e1", "e1"]
    down = {s["span"] for s in spans[:2] if not s["dchannel_up"]}
    while down:
        up = wait_for(client, lambda e: e.get("event") == "alarm"
                      and e.get("dchannel") == "up" and e.get("span") in down)[-1]
        down.discard(up["span"])
    assert all(s["dchannel_up"] for s in client.call("spans.list")[:2])
    assert len(client.call("channels.list")) == 140
    assert len(client.call("channels.list", span=3)) == 8
    groups = client.call("groups.list")
    assert {"outbound", "fxo", "pri", "r2", "ss7", "agents"} <= groups.keys()


def test_fxo_call_to_a_busy_number(client):
    client.subscribe()
    call = client.call("call.originate", number="13700000009", group="fxo")["call"]
    events = wait_for(client, state_is(call, "hungup"))
    mine = [e for e in events if e.get("call") == call]
    states = [e["state"] for e in mine if e["event"] == "call.state"]
    assert states[0] == "dialing" and states[-1] == "hungup"
    assert mine[-1]["outcome"] == "busy"
    assert any(e["event"] == "tone" and e["tone"] == "busy" for e in mine)


@pytest.mark.slow
def test_pri_call_answered_then_hung_up_by_the_client(client):
    client.subscribe()
    call = client.call("call.originate", number="13800000009", group="pri")["call"]
    events = wait_for(client, state_is(call, "answered"))
    assert any(state_is(call, "ringing")(e) for e in events)
    wait_for(client, lambda e: e.get("event") == "amd" and e.get("call") == call)
    client.call("call.hangup", call=call, cause=16)
    ended = wait_for(client, state_is(call, "hungup"))[-1]
    assert ended["outcome"] == "human" and ended["cause"] == 16


def agent_call(client) -> tuple[int, int]:
    info = client.call("call.originate", number="agent", group="agents")
    wait_for(client, state_is(info["call"], "answered"))
    return info["call"], info["channel"]


def test_bridge_carries_audio_both_ways_and_digits_are_detected(gateway, client):
    client.subscribe()
    a, ch_a = agent_call(client)
    b, ch_b = agent_call(client)
    client.call("call.bridge", call=a, other=b)
    phone_a = gateway.service.card.phone(ch_a)
    gateway.on_engine(lambda: phone_a.press("5", on_ms=200, off_ms=100))
    digit = wait_for(client, lambda e: e.get("event") == "dtmf" and e.get("call") == a)[-1]
    assert digit["digit"] == "5"

    def b_heard_the_key() -> bool:
        heard = gateway.on_engine(lambda: gateway.service.card.phone(ch_b).heard.copy())
        frames = heard[-(heard.size // 160) * 160:].reshape(-1, 160)
        return "5" in set(frame_keys(frames[-100:]).tolist())

    wait_until(b_heard_the_key, "B's agent hearing A's key")
    client.call("call.unbridge", call=a)
    for call in (a, b):
        client.call("call.hangup", call=call)
        wait_for(client, state_is(call, "hungup"))


def test_collect_dtmf(gateway, client):
    client.subscribe()
    call, channel = agent_call(client)
    engine, card = gateway.service.engine, gateway.service.card
    phone = card.phone(channel)

    def collect_once() -> tuple[dict, int]:
        """One collect of the keys pressed; and the card frames lost meanwhile."""
        result: dict = {}

        def collect() -> None:
            with GatewayClient(gateway.socket) as other:
                result.update(other.call("call.collect_dtmf", call=call, max_digits=3,
                                         timeout=10.0))

        lost = gateway.on_engine(lambda: card.overruns)
        worker = threading.Thread(target=collect)
        worker.start()
        wait_until(lambda: gateway.on_engine(lambda: engine.calls[call].collect is not None),
                   "the collect_dtmf request reaching the engine")
        gateway.on_engine(lambda: phone.press("429"))
        worker.join(timeout=30)
        assert not worker.is_alive(), "collect_dtmf did not return"
        return result, gateway.on_engine(lambda: card.overruns) - lost

    # A machine loaded past the card's buffers loses frames as a board does (a CI run
    # lost '4' and '2' so): such a try is tried again; a digit lost with no frame lost
    # fails the test.
    for _ in range(3):
        result, lost = collect_once()
        if result["digits"] == "429" or not lost:
            break
    assert result == {"call": call, "digits": "429", "reason": "max_digits"}, lost
    client.call("call.hangup", call=call)


def test_recording_is_a_stereo_wav_of_the_right_length(gateway, client, tmp_path):
    client.subscribe()
    call, _ = agent_call(client)
    # A relative path is taken in the recordings folder (gateway/paths.py).
    name = f"rec-{tmp_path.name}.wav"
    started = client.call("call.record", call=call, action="start", path=name)
    path = gateway.service.recordings.root.resolve() / name
    assert started["recording"] == str(path)
    client.call("call.play", call=call, tone="dial")
    engine = gateway.service.engine
    start = engine.ticks
    wait_until(lambda: engine.ticks >= start + 50, "a second of card time recorded")
    stopped = client.call("call.record", call=call, action="stop")
    info = soundfile.info(str(path))
    assert (info.channels, info.samplerate, info.format) == (2, 8000, "WAV")
    assert info.frames / 8000 == pytest.approx(stopped["duration"], abs=1e-9)
    assert stopped["duration"] > 0.5
    audio, _ = soundfile.read(str(path), dtype="int16")
    sent = audio[:, 1].astype(float)[-4000:]
    assert abs(np.argmax(np.abs(np.fft.rfft(sent))) * 8000 / sent.size - 450) < 5
    finished = wait_for(client, lambda e: e.get("event") == "recording.finished")
    assert finished[-1]["path"] == str(path)
    client.call("call.hangup", call=call)


def test_bad_requests_get_named_errors(client):
    with pytest.raises(RpcError, match=r"not_found.*no call 99999"):
        client.call("call.hangup", call=99999)
    with pytest.raises(RpcError, match="invalid_params"):
        client.call("call.originate", number=12345)
    with pytest.raises(RpcError, match="no group 'nosuch'"):
        client.call("call.originate", number="123", group="nosuch")
    with pytest.raises(RpcError, match="cannot dial"):
        client.call("call.originate", number="12a", group="fxo")
    assert client.call("system.info")["backend"] == "emulated"  # still serving


def test_unclaimed_inbound_pri_call_is_rejected(gateway, client):
    client.subscribe()
    side = gateway.service.card._pri_network[1]
    gateway.on_engine(lambda: side.exchange.originate("80001", "13912345678"))
    offered = wait_for(client, lambda e: e.get("event") == "call.offered")[-1]
    assert offered["calling"] == "13912345678" and offered["called"] == "80001"
    ended = wait_for(client, state_is(offered["call"], "hungup"))[-1]
    assert ended["outcome"] == "rejected" and ended["cause"] == 21


def test_inbound_pri_call_answered(gateway, client):
    client.subscribe()
    side = gateway.service.card._pri_network[1]
    gateway.on_engine(lambda: side.exchange.originate("80002", "13912345679"))
    offered = wait_for(client, lambda e: e.get("event") == "call.offered")[-1]
    assert (offered["calling"], offered["called"], offered["span"]) == (
        "13912345679", "80002", 1)
    answer = client.call("call.answer", call=offered["call"])
    assert (answer["direction"], answer["kind"], answer["number"]) == (
        "inbound", "pri", "13912345679")
    answered = wait_for(client, state_is(offered["call"], "answered"))[-1]
    assert (answered["span"], answered["channel"]) == (1, offered["channel"])
    client.call("call.hangup", call=offered["call"])
    ended = wait_for(client, state_is(offered["call"], "hungup"))[-1]
    assert (ended["by"], ended["cause"], ended["outcome"]) == ("near_end", 16, "human")


def test_tcp_roles():
    config = GatewayConfig()
    config.tcp = ("127.0.0.1", 0)
    config.tokens = {"m" * 20: "monitor", "c" * 20: "control"}
    gw = RunningGateway(config).start()
    try:
        port = gw.service.server.tcp_address[1]
        with GatewayClient(("127.0.0.1", port), token="m" * 20) as monitor:
            assert monitor.call("system.info")["backend"] == "emulated"
            with pytest.raises(RpcError, match="forbidden"):
                monitor.call("call.originate", number="13700000001")
        with GatewayClient(("127.0.0.1", port), token="c" * 20) as control:
            call = control.call("call.originate", number="13700000001", group="fxo")
            assert call["state"] == "dialing"
    finally:
        gw.stop()


def test_logs_are_json_lines_carrying_call_and_channel(capsys):
    import json as _json

    from trunkline.gateway.media import engine
    from trunkline.logs import configure_logging

    configure_logging("info", json=True)
    try:
        engine.log.info("call_state", call=7, channel=63, state="answered")
    finally:
        configure_logging("warning", json=False)
    line = capsys.readouterr().err.strip().splitlines()[-1]
    record = _json.loads(line)
    assert (record["call"], record["channel"], record["event"]) == (7, 63, "call_state")
    assert record["level"] == "info" and "timestamp" in record


def test_detect_options_switch_amd_off_and_unknown_ones_are_refused(client):
    client.subscribe()
    call = client.call("call.originate", number="13900000011", group="pri",
                       detect={"amd": False})["call"]
    events = wait_for(client, lambda e: e.get("event") == "amd" and e.get("call") == call)
    assert events[-1]["reason"] == "amd_off" and events[-1]["result"] == "human"
    client.call("call.hangup", call=call)
    wait_for(client, state_is(call, "hungup"))
    with pytest.raises(RpcError, match=r"unknown detect option.*'beep'"):
        client.call("call.originate", number="13900000012", group="pri", detect={"beep": True})
