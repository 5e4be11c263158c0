"""Helpers for the recording tests: a number plan, short WAVs, a gateway in virtual time."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from trunkline.clock import VirtualClock
from trunkline.gateway.config import GatewayConfig
from trunkline.gateway.recording.archive import RecordingStore
from trunkline.gateway.recording.wav import WavWriter, sha256, wait_idle
from trunkline.gateway.service import GatewayService

HUMAN_NUMBER = "13812345678"

#: Humans only: every call is answered after 3 s and talks for a minute.
PLAN = """spec = "1.0"
zone = "cn"
seed = 5
max_digits = 11

[[subscriber]]
number = "138*"
behaviour = "human"
answer_after = 3.0
talk = 60.0
"""


def write_plan(folder: Path) -> Path:
    path = folder / "plan.toml"
    path.write_text(PLAN)
    return path


def fake_recording(store: RecordingStore, name: str, started: float,
                   campaign: str | None) -> Path:
    """A finished 0.1 s recording under ``store``'s root, indexed as complete."""
    path = store.root / f"{name}.wav"
    w = WavWriter(path, sync=False)
    w.open()
    w.write(np.ones((800, 2), np.float32))
    w.close()
    wait_idle()
    store.index.add(path=str(path), started=started, duration=0.1, campaign=campaign,
                    state="complete", sha256=sha256(path))
    return path


class Gateway:
    """A whole gateway service on the emulated card, its recordings under ``root``,
    ticked by hand in virtual time (this thread is the engine thread).

    The service is wired as in production (its own recording desk, indexing both
    ``recording.start`` and ``call.record``); events are also collected in ``events``.
    """

    def __init__(self, folder: Path, root: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        self.clock = VirtualClock()
        self.service = GatewayService(
            GatewayConfig(network=write_plan(folder), recordings_root=root,
                          fax_spool=folder / "fax"), clock=self.clock)
        self.engine = self.service.engine
        self.desk = self.service.recordings
        self.events: list[dict] = []
        self.service.engine.subscribe(self.events.append)
        self.run(0.3)  # PRI D-channels come up

    def run(self, seconds: float) -> None:
        end = self.clock.now() + seconds
        while self.clock.now() < end:
            self.engine.tick()

    def run_until(self, predicate: Callable[[], Any], seconds: float = 60.0) -> Any:
        end = self.clock.now() + seconds
        while self.clock.now() < end:
            value = predicate()
            if value:
                return value
            self.engine.tick()
        raise AssertionError(f"condition not met within {seconds} s of card time; last events: "
                             f"{[e.get('event') for e in self.events[-15:]]}")

    def named(self, name: str, **fields: Any) -> list[dict]:
        return [e for e in self.events if e.get("event") == name
                and all(e.get(k) == v for k, v in fields.items())]

    def answered_call(self, group: str = "pri") -> int:
        """Place a call to the human and wait for the answer; returns the call id."""
        call_id = self.engine.originate(HUMAN_NUMBER, group=group, ring_timeout=30)["call"]
        self.run_until(lambda: self.engine.calls[call_id].answered_at, 30)
        return call_id

    def close(self) -> None:
        self.service.card.close()
