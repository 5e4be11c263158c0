"""Recording each connected call (dialer/runner/recording.py) without a gateway: tags and
refusals, and the recordings a stopped run left open settled from their files."""

from __future__ import annotations

import wave
from pathlib import Path
from typing import Any

import numpy as np
from campaign_testkit import T0, open_store

from trunkline.dialer.runner.recording import CallRecording
from trunkline.gateway.rpc.errors import RpcError


class Port:
    """A gateway port that records into ``folder`` (or refuses)."""

    name = "gw1"

    def __init__(self, folder: Path, refuse: bool = False) -> None:
        self.folder, self.refuse = folder, refuse
        self.asked: list[tuple[int, dict[str, Any]]] = []

    def record(self, call: int, **tags: str) -> dict[str, Any]:
        self.asked.append((call, tags))
        if self.refuse:
            raise RpcError("conflict", "call 10 is not up")
        return {"call": call, "recording": str(self.folder / f"{call}.wav")}


def _wav(path: Path, seconds: float) -> None:
    with wave.open(str(path), "wb") as w:
        w.setnchannels(2)
        w.setsampwidth(2)
        w.setframerate(8000)
        w.writeframes(np.zeros((int(8000 * seconds), 2), "<i2").tobytes())


def test_tags_refusals_settings_and_settling(tmp_path: Path) -> None:
    store = open_store()
    store.create_campaign("c", now=T0)
    store.create_campaign("quiet", config={"record_calls": False}, now=T0)
    port = Port(tmp_path)
    rec = CallRecording(store, port, lambda name: name != "quiet")
    rec.connected(gw=5, campaign="c", attempt=None, agent="li", number="+8613800000001",
                  now=T0)
    rec.connected(gw=6, campaign="quiet", attempt=None, agent="li", number="+1", now=T0)
    rec.connected(gw=7, campaign="c", attempt=None, agent="wang", number="+2", now=T0)
    rec.connected(gw=8, campaign="c", attempt=None, agent="wang", number="+3", now=T0)
    assert [a[0] for a in port.asked] == [5, 7, 8]
    assert port.asked[0][1] == {"campaign": "c", "agent_id": "li", "agent_name": "li",
                                "customer": "+8613800000001"}
    assert rec.on_event({"event": "recording.finished", "call": 5,
                         "path": str(tmp_path / "5.wav"), "duration": 12.5})
    assert not rec.on_event({"event": "call.state", "call": 5, "state": "hungup"})
    rows = {r["call_ref"]: dict(r) for r in store.query("SELECT * FROM call_recording")}
    assert (rows["5"]["state"], rows["5"]["duration"], rows["5"]["agent"]) == \
        ("complete", 12.5, "li")
    assert rows["7"]["state"] == "recording"
    # the run stops; 7's file was finished, 8's is still being written, 9's is gone
    _wav(tmp_path / "7.wav", 3.0)
    (tmp_path / "8.wav.part").write_bytes(b"")
    store.add_call_recording(campaign="c", call_ref="9", path=str(tmp_path / "9.wav"),
                             started_at=T0, gateway="gw1")
    store.add_call_recording(campaign="c", call_ref="1", path="/elsewhere.wav",
                             started_at=T0, gateway="another gateway")
    again = CallRecording(store, port, lambda name: True)
    assert again.settled == 2
    rows = {r["call_ref"]: dict(r) for r in store.query("SELECT * FROM call_recording")}
    assert (rows["7"]["state"], rows["7"]["duration"]) == ("complete", 3.0)
    assert rows["8"]["state"] == "recording"
    assert rows["9"]["state"] == "failed" and "not finished" in rows["9"]["error"]
    assert rows["1"]["state"] == "recording"  # another gateway's is not ours to settle
    refusing = CallRecording(store, Port(tmp_path, refuse=True), lambda name: True)
    refusing.connected(gw=10, campaign="c", attempt=None, agent="li", number="+4", now=T0)
    assert (refusing.started, refusing.failed) == (0, 1)
    assert CallRecording(store, object(), lambda name: True).gateway_name == ""
