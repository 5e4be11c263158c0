"""Gateway methods for call recording (registered by ``GatewayService``).

``register_recording_methods(service)`` builds the service's
:class:`~trunkline.gateway.recording.desk.RecordingDesk` (repairing interrupted
recordings first) and adds ``recording.start``, ``recording.stop``, ``recording.pause``,
``recording.resume``, ``recording.policy``, ``recording.tag`` and ``recordings.search``.
See docs/recording.md. It must be called once the service's engine exists (at the end of
``GatewayService.__init__``).

Methods that touch a call run on the engine thread (``service.run``); searches run in a
worker thread, so a slow disk never blocks the event loop. The desk's policies subscribe
to the engine's event bus.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from trunkline.gateway.methods import CALL
from trunkline.gateway.recording.desk import RecordingDesk
from trunkline.gateway.rpc.registry import Param


def register_recording_methods(service: Any, *,
                               root: str | Path | None = None) -> RecordingDesk:
    """Add the recording methods; returns the :class:`~trunkline.gateway.recording.desk.
    RecordingDesk` (also ``service.recordings``). Repairs interrupted recordings first."""
    desk = RecordingDesk(service.engine, root=root)
    service.recordings = desk
    desk.recover()
    engine = service.engine
    engine.subscribe(desk.on_event)
    r = service.registry
    run = service.run

    meta = {"campaign": Param(str), "agent_id": Param(str), "agent_name": Param(str),
            "customer": Param(str, doc="the customer's number (default: the dialed one)")}

    @r.method("recording.start", role="control", params={
        **CALL, **meta, "encoding": Param(str, default="pcm16",
                                          choices=("pcm16", "alaw", "ulaw")),
        "reason": Param(str, default="request", choices=("request", "policy", "supervisor"))})
    async def rec_start(session, call, encoding="pcm16", reason="request", **fields) -> dict:
        """Record the call (customer left, agent right) into the indexed store."""
        return await run(lambda: desk.start(call, encoding=encoding, reason=reason, **fields))

    @r.method("recording.stop", role="control", params=CALL)
    async def rec_stop(session, call) -> dict:
        """Stop recording the call; the file is finished and indexed."""
        return await run(lambda: engine.record(call, "stop", None, "pcm16"))

    @r.method("recording.pause", role="control", params=CALL)
    async def rec_pause(session, call) -> dict:
        """Pause (silence is written, the interval is indexed): e.g. card numbers."""
        return await run(lambda: desk.pause(call, True))

    @r.method("recording.resume", role="control", params=CALL)
    async def rec_resume(session, call) -> dict:
        """Resume a paused recording."""
        return await run(lambda: desk.pause(call, False))

    @r.method("recording.policy", role="admin", params={
        "record_all": Param(bool), "campaigns": Param(list, items=str),
        "encoding": Param(str, choices=("pcm16", "alaw", "ulaw"))})
    async def rec_policy(session, record_all=None, campaigns=None, encoding=None) -> dict:
        """Which calls are recorded from answer: all, or those of given campaigns."""
        return desk.set_policy(record_all=record_all, campaigns=campaigns, encoding=encoding)

    @r.method("recording.tag", role="control", params={**CALL, **meta})
    async def rec_tag(session, call, **fields) -> dict:
        """Say which campaign/agent/customer a call belongs to (for policy and index)."""
        return await run(lambda: desk.tag(call, **fields))

    @r.method("recordings.search", role="monitor", params={
        "call": Param(int), "campaign": Param(str), "agent_id": Param(str),
        "agent_name": Param(str), "customer": Param(str), "outcome": Param(str),
        "since": Param(float), "until": Param(float), "limit": Param(int, default=100,
                                                                      minimum=1, maximum=10000)})
    async def rec_search(session, limit=100, **filters) -> list:
        """Indexed recordings matching every filter given, newest first."""
        return await asyncio.to_thread(desk.index.search, limit=limit, **filters)

    return desk
