"""The recording.* methods through the method registry, on a running engine."""

from __future__ import annotations

import asyncio
from pathlib import Path
from types import SimpleNamespace

import pytest
from engine_events import EngineEvents
from recording_kit import HUMAN_NUMBER, write_plan

from trunkline.clock import VirtualClock
from trunkline.gateway.config import GatewayConfig
from trunkline.gateway.recording.wav import wait_idle
from trunkline.gateway.rpc.registry import Role, RpcError
from trunkline.gateway.service import GatewayService


def test_recording_methods(tmp_path: Path) -> None:
    svc = GatewayService(GatewayConfig(network=write_plan(tmp_path), fax_spool=tmp_path / "fax",
                                       recordings_root=tmp_path / "rec"), clock=VirtualClock())
    rec = svc.recordings
    session = SimpleNamespace(role=Role.ADMIN)
    svc.engine.start()  # virtual time: the tick thread runs as fast as it can

    async def call(method: str, /, **params):
        return await svc.registry.dispatch(session, method, params)

    async def scenario() -> None:
        with EngineEvents(svc.engine) as events:
            await scenario_with(events)

    async def scenario_with(events: EngineEvents) -> None:
        policy = await call("recording.policy", campaigns=["spring"], encoding="alaw")
        assert policy == {"record_all": False, "campaigns": ["spring"], "encoding": "alaw"}
        await call("recording.policy", campaigns=[], encoding="pcm16")
        # Recording on request, with pause, then a search.
        info = await call("call.originate", number=HUMAN_NUMBER, group="pri")
        tagged = await call("recording.tag", call=info["call"], agent_name="Li Lei")
        assert tagged == {"call": info["call"], "agent_name": "Li Lei"}
        await events.wait_for(lambda e: e["event"] == "call.state"
                              and e.get("call") == info["call"] and e["state"] == "answered")
        calls = await call("calls.list")
        assert any(c["call"] == info["call"] and c["state"] == "answered" for c in calls)
        with pytest.raises(RpcError, match="is not recording"):
            await call("recording.stop", call=info["call"])
        started = await call("recording.start", call=info["call"], campaign="m", agent_id="7")
        assert started["recording"].startswith(str(tmp_path / "rec"))
        with pytest.raises(RpcError, match="already recording"):
            await call("recording.start", call=info["call"])
        await call("recording.pause", call=info["call"])
        resumed = await call("recording.resume", call=info["call"])
        assert resumed["paused"] is False and len(resumed["pauses"]) == 1
        stopped = await call("recording.stop", call=info["call"])
        assert stopped["path"] == started["recording"]
        await asyncio.to_thread(wait_idle)
        rows = await call("recordings.search", campaign="m")
        assert len(rows) == 1 and rows[0]["agent_id"] == "7" and rows[0]["state"] == "complete"
        assert rows[0]["agent_name"] == "Li Lei"

    try:
        asyncio.run(scenario())
    finally:
        svc.engine.stop()
        svc.card.close()
    assert rec.index.search(limit=5)
