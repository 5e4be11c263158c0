"""The recording desk of a running gateway: policies, tags, pause, indexing, isolation."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import soundfile
from recording_kit import HUMAN_NUMBER, Gateway

from trunkline.gateway.recording.wav import sha256, wait_idle


def test_recording_a_call_with_pause_policy_and_index(tmp_path: Path) -> None:
    gw = Gateway(tmp_path, tmp_path / "rec")
    try:
        desk = gw.desk
        desk.set_policy(record_all=False, campaigns=["spring"], encoding="alaw")
        info = gw.engine.originate(HUMAN_NUMBER, group="fxo", ring_timeout=30)
        call_id = info["call"]
        desk.tag(call_id, campaign="spring", agent_id="a1", agent_name="Li Lei")
        gw.run_until(lambda: gw.named("call.state", state="answered"), 30)
        gw.run(4.0)
        assert gw.engine.calls[call_id].recorder is not None  # started by policy
        desk.pause(call_id, True)
        gw.run(2.0)
        desk.pause(call_id, False)
        gw.run(2.0)
        gw.engine.hangup(call_id)
        gw.run(1.0)
        wait_idle()
        rows = desk.index.search(campaign="spring")
        assert len(rows) == 1
        row = rows[0]
        assert row["state"] == "complete" and row["outcome"] == "human"
        assert row["agent_name"] == "Li Lei" and row["customer"] == HUMAN_NUMBER
        assert row["reason"] == "policy" and row["encoding"] == "alaw"
        (start, end), = row["pauses"]
        assert end - start == pytest.approx(2.0, abs=0.05)
        data, _ = soundfile.read(row["path"], dtype="int16")
        paused = data[int(start * 8000) + 80: int(end * 8000) - 80]
        assert np.abs(paused.astype(int)).max() <= 8  # A-law silence
        assert np.abs(data[: int(start * 8000), 0].astype(int)).max() > 1000  # the customer
        assert row["sha256"] == sha256(row["path"])
        assert desk.index.search(agent_name="Lei")[0]["id"] == row["id"]
        assert desk.index.search(customer="1381")[0]["id"] == row["id"]
        assert desk.index.search(call=call_id)[0]["id"] == row["id"]
        assert desk.index.search(campaign="autumn") == []
        # The engine's own call.record path is indexed too.
        call = gw.answered_call("pri")
        gw.engine.record(call, "start", str(tmp_path / "adhoc.wav"), "pcm16")
        gw.run(1.5)
        gw.engine.record(call, "stop", None, "pcm16")
        assert desk.index.get(tmp_path / "adhoc.wav")["state"] == "complete"
    finally:
        gw.close()


def test_two_gateways_in_one_process_index_their_own_recordings(tmp_path: Path) -> None:
    # Two services, each with its desk; the second is built while the first is alive.
    gateways = {name: Gateway(tmp_path / name, tmp_path / name / "rec") for name in "ab"}
    try:
        calls = {name: gw.answered_call("pri") for name, gw in gateways.items()}
        started = {name: gw.desk.start(calls[name], campaign=name)["recording"]
                   for name, gw in gateways.items()}
        for gw in gateways.values():
            gw.run(1.0)
        for name, gw in gateways.items():  # then the engine's own call.record
            gw.engine.record(calls[name], "stop", None, "pcm16")
            gw.engine.record(calls[name], "start", str(tmp_path / f"adhoc-{name}.wav"),
                             "pcm16")
        for gw in gateways.values():
            gw.run(1.0)
        for name, gw in gateways.items():
            gw.engine.record(calls[name], "stop", None, "pcm16")
        wait_idle()
        for name, gw in gateways.items():
            rows = gw.desk.index.all()
            assert sorted(r["path"] for r in rows) == \
                sorted([started[name], str(tmp_path / f"adhoc-{name}.wav")])
            assert all(r["state"] == "complete" and r["campaign"] == name
                       and r["call_id"] == calls[name] for r in rows)
            assert all(r["sha256"] == sha256(r["path"]) for r in rows)
            assert Path(started[name]).is_relative_to(tmp_path / name / "rec")
    finally:
        for gw in gateways.values():
            gw.close()
