"""Per-call media: what a call plays, and recordings being written.

Playback sources are prerendered int16 arrays stepped 160 samples a tick (a slice, not a
per-sample loop). Recordings are stereo WAV files, customer on the left and what we sent
(the agent, prompts) on the right, written a frame at a time through libsndfile and
closed with the right length when the recording stops.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import soundfile
from trunkline.drivers.dsp.tones import dtmf_string, render_tone
from trunkline.drivers.dsp.wavfile import read_audio
from trunkline.drivers.dsp.zones import Zone
from trunkline.drivers.model import FRAME_SAMPLES, SAMPLE_RATE

from trunkline.errors import AudioFileError, ConfigError


@dataclass
class PlaySource:
    """Audio being played into a call: ``prefix`` once, then ``loop`` for ever (if any)."""

    name: str
    prefix: np.ndarray
    loop: np.ndarray | None = None
    pos: int = 0
    play_id: int = 0

    @property
    def finished(self) -> bool:
        return self.loop is None and self.pos >= self.prefix.size

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


def source_for(spec: dict, zone: Zone, play_id: int) -> PlaySource:
    """Build a source from ``call.play`` parameters: one of file, tone, digits."""
    given = [k for k in ("file", "tone", "digits") if spec.get(k) is not None]
    if len(given) != 1:
        raise ConfigError("call.play needs exactly one of 'file', 'tone' or 'digits'")
    kind = given[0]
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


@dataclass
class Recorder:
    """A stereo WAV recording: left = what the line received, right = what we sent."""

    path: Path
    encoding: str = "pcm16"
    frames: int = 0
    recording_id: int = 0
    _file: soundfile.SoundFile | None = field(default=None, repr=False)

    def open(self) -> None:
        subtype = {"pcm16": "PCM_16", "alaw": "ALAW", "ulaw": "ULAW"}.get(self.encoding)
        if subtype is None:
            raise ConfigError(f"unknown recording encoding {self.encoding!r}; "
                              "expected pcm16, alaw or ulaw")
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._file = soundfile.SoundFile(str(self.path), "w", SAMPLE_RATE, 2, subtype,
                                             format="WAV")
        except (OSError, RuntimeError) as err:
            raise AudioFileError(f"{self.path}: cannot record here: {err}") from err

    def write(self, received: np.ndarray, sent: np.ndarray) -> None:
        if self._file is None:
            return
        block = np.stack([received, sent], axis=1)
        self._file.write(np.clip(np.rint(block), -32768, 32767).astype(np.int16))
        self.frames += 1

    def close(self) -> float:
        """Finish the file; returns its duration in seconds."""
        if self._file is not None:
            self._file.close()
            self._file = None
        return self.frames * FRAME_SAMPLES / SAMPLE_RATE
