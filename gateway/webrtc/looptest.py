"""The softphone's test call: a beep, the agent's voice recorded, then played back.

Before taking calls an agent checks the headset the way a hardware phone's echo test
does: the position hears a short beep (time to speak), the gateway keeps
``seconds`` of what the agent says, then plays it back, so the agent hears the
microphone as the customer would, through the whole path (browser, network, jitter
buffer, G.711). The level of what was recorded is kept for the page (too quiet, or
silent: the wrong microphone, or muted).

It runs as the call's media processor (:class:`~trunkline.gateway.media.calls.
MediaProcessor`), on the tick like a fax terminal, on a position that is answered and
on no other call (not bridged, not in a conference).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from trunkline.drivers.model import FRAME_SAMPLES

__all__ = ["BEEP_SECONDS", "LoopTest"]

#: The beep that says "speak now": 440 Hz (a common recording prompt), 0.3 s, -12 dBFS.
BEEP_SECONDS = 0.3
_BEEP = (0.25 * 32767 * np.sin(2 * np.pi * 440.0 * np.arange(int(8000 * BEEP_SECONDS))
                               / 8000)).astype(np.float32)


class LoopTest:
    """Beep, record ``seconds``, play back (see the module docstring). ``result`` holds
    the phase and, once recorded, the recording's level in dBFS."""

    def __init__(self, seconds: float = 3.0) -> None:
        if not 0.5 <= seconds <= 10:
            raise ValueError(f"a test call records 0.5..10 s, not {seconds}")
        self.frames = round(seconds * 8000 / FRAME_SAMPLES)
        self._beep = _BEEP
        self._recorded: list[np.ndarray] = []
        self._played = 0
        self.phase = "beep"
        self.level_dbfs: float | None = None
        self._done = False

    def process(self, received: np.ndarray, now: float
                ) -> tuple[np.ndarray | None, list[dict[str, Any]]]:
        events: list[dict[str, Any]] = []
        if self.phase == "beep":
            chunk, self._beep = self._beep[:FRAME_SAMPLES], self._beep[FRAME_SAMPLES:]
            out = np.zeros(FRAME_SAMPLES, np.float32)
            out[:len(chunk)] = chunk
            if not len(self._beep):
                self.phase = "recording"
                events.append(self._event())
            return out, events
        if self.phase == "recording":
            self._recorded.append(np.asarray(received, np.float32).copy())
            if len(self._recorded) >= self.frames:
                audio = np.concatenate(self._recorded)
                rms = float(np.sqrt(np.mean(audio.astype(np.float64) ** 2)))
                self.level_dbfs = round(20 * np.log10(max(rms, 1.0) / 32768), 1)
                self.phase = "playing"
                events.append(self._event())
            return None, events
        if self.phase == "playing":
            out = self._recorded[self._played]
            self._played += 1
            if self._played >= len(self._recorded):
                self.phase = "done"
                self._done = True
                events.append(self._event())
            return out, events
        return None, events

    def _event(self) -> dict[str, Any]:
        return {"event": "webrtc.test", "phase": self.phase, "level_dbfs": self.level_dbfs}

    def result(self) -> dict[str, Any]:
        return {"phase": self.phase, "level_dbfs": self.level_dbfs}

    @property
    def done(self) -> bool:
        return self._done

    def close(self) -> None:
        if not self._done:
            self.phase = "stopped" if self.phase != "done" else "done"
