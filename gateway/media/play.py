"""Per-call playback: what a call plays.

Playback sources are prerendered int16 arrays stepped 160 samples a tick (a slice, not a
per-sample loop). Recordings being written are in
:mod:`trunkline.gateway.recording.recorder`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from trunkline.drivers.dsp.tones import dtmf_string, render_tone
from trunkline.drivers.dsp.wavfile import read_audio
from trunkline.drivers.dsp.zones import Zone
from trunkline.drivers.model import FRAME_SAMPLES, SAMPLE_RATE
from trunkline.errors import ConfigError

#: Received RMS (linear, full scale 32768) under which a frame counts as quiet for
#: ``wait_silence``: about -45 dBm0, above idle line noise, far below speech.
QUIET_RMS = 60.0


@dataclass
class PlaySource:
    """Audio being played into a call: ``prefix`` once, then ``loop`` for ever (if any)."""

    name: str
    prefix: np.ndarray
    loop: np.ndarray | None = None
    pos: int = 0
    play_id: int = 0
    #: Hold the start until the far end has been quiet this long (seconds): a message
    #: left on an answering machine must begin after its greeting and beep, or the
    #: recording misses its start. 0 starts at once.
    wait_silence: float = 0.0
    #: Start anyway after this long (a machine that never stops: music, noise).
    wait_max: float = 30.0
    quiet_blocks: int = 0
    held_blocks: int = 0
    released: bool = False

    @property
    def finished(self) -> bool:
        return self.loop is None and self.pos >= self.prefix.size

    @property
    def holding(self) -> bool:
        """Still waiting for the far end to go quiet (nothing played yet)."""
        return self.wait_silence > 0 and not self.released

    @property
    def held_seconds(self) -> float:
        return self.held_blocks * FRAME_SAMPLES / SAMPLE_RATE

    def hold(self, received: np.ndarray) -> bool:
        """Account one received frame; True while the start is still held.

        Quiet is an RMS under :data:`QUIET_RMS` (about -45 dBm0: line noise passes,
        speech and tones do not).
        """
        rms = float(np.sqrt(np.mean(np.square(received, dtype=np.float64))))
        self.quiet_blocks = self.quiet_blocks + 1 if rms < QUIET_RMS else 0
        self.held_blocks += 1
        block = FRAME_SAMPLES / SAMPLE_RATE
        if self.quiet_blocks * block >= self.wait_silence - 1e-9 \
                or self.held_blocks * block >= self.wait_max - 1e-9:
            self.released = True
        return not self.released

    def next_frame(self) -> np.ndarray:
        out = np.zeros(FRAME_SAMPLES, dtype=np.float32)
        n = 0
        if self.pos < self.prefix.size:
            chunk = self.prefix[self.pos: self.pos + FRAME_SAMPLES]
            out[: chunk.size] = chunk
            n = chunk.size
        if n < FRAME_SAMPLES and self.loop is not None and self.loop.size:
            start = self.pos + n - self.prefix.size
            idx = (start + np.arange(FRAME_SAMPLES - n)) % self.loop.size
            out[n:] = self.loop[idx]
        self.pos += FRAME_SAMPLES
        return out


def source_for(spec: dict[str, Any], zone: Zone, play_id: int) -> PlaySource:
    """Build a source from ``call.play`` parameters: one of file, tone, digits."""
    given = [k for k in ("file", "tone", "digits") if spec.get(k) is not None]
    if len(given) != 1:
        raise ConfigError("call.play needs exactly one of 'file', 'tone' or 'digits'")
    kind = given[0]
    wait = float(spec.get("wait_silence") or 0.0)
    wait_max = float(spec.get("wait_max") or 30.0)
    if not 0.0 <= wait <= 30.0 or not 0.0 < wait_max <= 120.0:
        raise ConfigError("call.play: wait_silence must be in [0, 30] s and wait_max in "
                          "(0, 120] s")
    source = _source(spec, kind, zone, play_id)
    source.wait_silence, source.wait_max = wait, wait_max
    return source


def _source(spec: dict[str, Any], kind: str, zone: Zone, play_id: int) -> PlaySource:
    if kind == "file":
        samples = read_audio(Path(spec["file"]))
        loop = bool(spec.get("loop", False))
        return PlaySource(f"file:{spec['file']}", np.zeros(0, np.int16) if loop else samples,
                          samples if loop else None, play_id=play_id)
    if kind == "tone":
        try:
            tone = zone.tone(spec["tone"])
        except KeyError as err:
            raise ConfigError(str(err.args[0])) from None
        prefix, cycle = render_tone(tone)
        return PlaySource(f"tone:{spec['tone']}", prefix, cycle, play_id=play_id)
    digits = str(spec["digits"])
    try:
        audio = dtmf_string(digits, int(spec.get("on_ms", 100)), int(spec.get("off_ms", 100)))
    except ValueError as err:
        raise ConfigError(str(err)) from None
    return PlaySource(f"digits:{digits}", audio, play_id=play_id)
