"""The running gateway's recordings: policies, tags, starting by policy, indexing.

A :class:`RecordingDesk` is the recording store of one gateway service: it tags calls
with campaign, agent and customer, starts recordings on request or by policy at answer,
pauses them, and indexes every recording it is told of (opened, closed, the call's
outcome at hang-up). It drives the engine (``_call``, ``calls``, ``submit``,
``publish``) from the engine thread; the RPC methods are in
:mod:`trunkline.gateway.recording.methods`.
"""

from __future__ import annotations

import contextlib
import sqlite3
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import structlog

from trunkline.errors import CallStateError, TrunklineError
from trunkline.gateway.recording.archive import RecordingStore
from trunkline.gateway.recording.index import COLUMNS
from trunkline.gateway.recording.recorder import Recorder
from trunkline.gateway.recording.wav import finish_pool, sha256

log = structlog.get_logger("trunkline.gateway.recording.desk")


@dataclass
class _Policy:
    record_all: bool = False
    campaigns: set[str] = field(default_factory=set)
    encoding: str = "pcm16"


class RecordingDesk(RecordingStore):
    """Recordings on a running engine: start with metadata, pause, policies, indexing.

    The desk indexes the recorders built by :meth:`recorder`: those it starts itself,
    and those the engine starts for ``call.record`` when the service gives the engine
    this method as its recorder factory. It indexes no other desk's recordings.
    """

    def __init__(self, engine: Any, root: str | Path | None = None) -> None:
        super().__init__(root)
        self.engine = engine
        self.tags: dict[int, dict[str, Any]] = {}
        self.policy = _Policy()

    def recorder(self, path: Path, encoding: str = "pcm16", *, recording_id: int = 0,
                 meta: dict | None = None) -> Recorder:
        """A recorder (not yet opened) that this desk indexes: a
        :class:`~trunkline.gateway.recording.recorder.RecorderFactory`."""
        return Recorder(path, encoding, recording_id=recording_id, meta=meta, observer=self)

    def tag(self, call_id: int, **fields: Any) -> dict[str, Any]:
        call = self.engine.call(call_id)
        tags = self.tags.setdefault(call_id, {})
        tags.update({k: v for k, v in fields.items() if v is not None})
        if call.recorder is not None:
            self.index.update(call.recorder.path, **tags)
        elif call.answered_at is not None and self._wanted(call_id):
            self.start(call_id, reason="policy")
        return {"call": call_id, **tags}

    def set_policy(self, *, record_all: bool | None, campaigns: list[str] | None,
                   encoding: str | None) -> dict[str, Any]:
        if record_all is not None:
            self.policy.record_all = record_all
        if campaigns is not None:
            self.policy.campaigns = set(campaigns)
        if encoding is not None:
            self.policy.encoding = encoding
        return {"record_all": self.policy.record_all,
                "campaigns": sorted(self.policy.campaigns), "encoding": self.policy.encoding}

    def _wanted(self, call_id: int) -> bool:
        return self.policy.record_all or \
            self.tags.get(call_id, {}).get("campaign") in self.policy.campaigns

    def start(self, call_id: int, *, encoding: str | None = None, reason: str = "request",
              **fields: Any) -> dict[str, Any]:
        """Engine thread: start recording ``call_id`` into the store, indexed."""
        call = self.engine.call(call_id)
        if call.recorder is not None:
            raise CallStateError(f"call {call_id} is already recording to "
                           f"{call.recorder.path}")
        tags = self.tags.setdefault(call_id, {})
        tags.update({k: v for k, v in fields.items() if v is not None})
        started = time.time()
        meta = {"call_id": call_id, "customer": call.number or None, **tags,
                "reason": reason}
        recorder = self.recorder(self.new_path(call_id, started),
                                 encoding or self.policy.encoding, recording_id=call_id,
                                 meta=meta)
        recorder.open()
        call.recorder = recorder
        return {"call": call_id, "recording": str(recorder.path), "reason": reason}

    def pause(self, call_id: int, paused: bool) -> dict[str, Any]:
        call = self.engine.call(call_id)
        if call.recorder is None:
            raise CallStateError(f"call {call_id} is not recording")
        call.recorder.pause() if paused else call.recorder.resume()
        return {"call": call_id, "paused": call.recorder.paused,
                "pauses": call.recorder.pauses}

    def on_event(self, event: dict) -> None:
        """Engine events (engine thread): start by policy at answer, keep outcomes."""
        kind = event.get("event")
        if kind == "call.state" and event.get("state") == "answered":
            call_id = int(event["call"])
            if self._wanted(call_id):
                self.engine.submit(lambda: self._policy_start(call_id))
        elif kind == "call.state" and event.get("state") == "hungup":
            call_id = int(event["call"])
            self.tags.pop(call_id, None)
            with contextlib.suppress(sqlite3.Error):
                self.index._exec("UPDATE recordings SET outcome = ? WHERE call_id = ? AND "
                                 "outcome IS NULL", (event.get("outcome"), call_id))
        elif kind == "recording.finished":
            call_id = event.get("call")
            with contextlib.suppress(sqlite3.Error):
                self.index.update(event["path"], call_id=call_id,
                                  **self.tags.get(call_id, {}))

    def _policy_start(self, call_id: int) -> None:
        call = self.engine.calls.get(call_id)
        if call is not None and call.recorder is None:
            try:
                self.start(call_id, reason="policy")
            except (TrunklineError, OSError) as err:
                log.error("policy_recording_failed", call=call_id, error=str(err))

    # -- Recorder hooks (RecordingObserver) -----------------------------------------
    def opened(self, recorder: Recorder) -> None:
        self.index.add(path=str(recorder.path), encoding=recorder.encoding,
                       started=recorder.started_wall, state="recording",
                       **{k: v for k, v in recorder.meta.items() if k in COLUMNS})

    def closed(self, recorder: Recorder, final: Path, seconds: float) -> None:
        state = "failed" if recorder.error else "complete"
        self.index.update(recorder.path, duration=round(seconds, 3), state=state,
                          pauses=recorder.pauses, error=recorder.error, finished=time.time())
        if final == recorder.path:
            index = self.index

            def checksum() -> None:
                with contextlib.suppress(OSError, sqlite3.Error):
                    index.update(final, sha256=sha256(final), size=final.stat().st_size)

            finish_pool().submit(checksum)
        # recording.failed is the engine's to publish (in the tick the disk refused).
