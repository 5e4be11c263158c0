"""A call's recording while it is written: the media tick's side of a recording.

Recordings are stereo WAV files, customer on the left and what we sent (the agent,
prompts) on the right, written crash-safely (:mod:`trunkline.gateway.recording.wav`): a
crash loses at most the last second, and an interrupted file is repaired on restart.

Who indexes a recording is decided when it is built: a :class:`Recorder` reports to the
:class:`RecordingObserver` it is given (a gateway's recording desk), or to nobody. There
is no process-wide "current desk", so two gateways in one process (tests, tools) each
index their own recordings. The engine builds the recorders of ``call.record`` with a
:class:`RecorderFactory` it is given; the desk's ``recorder`` method is one.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Protocol

import numpy as np
import structlog

from trunkline.drivers.model import FRAME_SAMPLES, SAMPLE_RATE
from trunkline.errors import AudioFileError, ConfigError
from trunkline.gateway.recording.errors import RecordingError
from trunkline.gateway.recording.wav import WavWriter

log = structlog.get_logger("trunkline.gateway.recording.recorder")


class RecordingObserver(Protocol):
    """Told when a recording opens and when it is finished (to index it).

    Both are called in the media tick; an exception is logged, never raised, so the
    index can never stop a recording.
    """

    def opened(self, recorder: Recorder) -> None: ...

    def closed(self, recorder: Recorder, final: Path, seconds: float) -> None: ...


class RecorderFactory(Protocol):
    """Builds a (not yet opened) :class:`Recorder`: the :class:`Recorder` class itself
    (unindexed), or a recording desk's ``recorder`` method (indexed by that desk)."""

    def __call__(self, path: Path, encoding: str = "pcm16", *, recording_id: int = 0,
                 meta: dict | None = None) -> Recorder: ...


class Recorder:
    """A stereo WAV recording: left = what the line received (the customer), right =
    what we sent (the agent, prompts).

    Written crash-safely by :class:`~trunkline.gateway.recording.wav.WavWriter`: into
    ``NAME.wav.part``, data and header sizes on disk once a second, fsynced by a
    background thread, renamed to ``NAME.wav`` when it stops; an interrupted ``.part`` is
    repaired on restart. ``write`` runs in the media tick and never raises: a full disk
    or a vanished folder stops the recording (``error`` says why), keeps what is on disk,
    and the tick goes on. ``pause``/``resume`` write silence meanwhile and keep the
    intervals (seconds from the start) in ``pauses``. ``observer`` (a recording desk, or
    None) is told when the recording opens and closes, and indexes it.
    """

    def __init__(self, path: Path, encoding: str = "pcm16", frames: int = 0,
                 recording_id: int = 0, *, meta: dict | None = None,
                 observer: RecordingObserver | None = None) -> None:
        self.path = Path(path)
        self.encoding = encoding
        self.frames = frames
        self.recording_id = recording_id
        self.meta = dict(meta or {})
        self.paused = False
        self.pauses: list[list[float]] = []
        self.started_wall = 0.0
        self._writer = None
        self._block = np.zeros((FRAME_SAMPLES, 2), dtype=np.float32)
        self._observer = observer
        self._closed_error: str | None = None
        self._failure_told = False
        self._closed_seconds = 0.0
        #: Where the audio is once closed: ``path``, or ``path.part`` if the file could
        #: not be finished (None while recording).
        self.final_path: Path | None = None

    @property
    def error(self) -> str | None:
        return self._writer.error if self._writer is not None else self._closed_error

    def open(self) -> None:
        if self.encoding not in ("pcm16", "alaw", "ulaw"):
            raise ConfigError(f"unknown recording encoding {self.encoding!r}; "
                              "expected pcm16, alaw or ulaw")
        writer = WavWriter(self.path, self.encoding)
        try:
            writer.open()
        except RecordingError as err:
            raise AudioFileError(str(err)) from err
        self._writer = writer
        self.started_wall = time.time()
        if self._observer is not None:
            try:
                self._observer.opened(self)
            except Exception as err:  # the index must not stop a recording
                log.error("recording_index_failed", path=str(self.path), error=str(err))

    def write(self, received: np.ndarray, sent: np.ndarray) -> None:
        if self._writer is None:
            return
        if self.paused:
            self._block[:] = 0.0
        else:
            self._block[:, 0] = received
            self._block[:, 1] = sent
        self._writer.write(self._block)
        self.frames += 1

    @property
    def seconds(self) -> float:
        return self.frames * FRAME_SAMPLES / SAMPLE_RATE

    @property
    def saved_seconds(self) -> float:
        """The audio on disk (after a failure: what the file keeps)."""
        if self._writer is not None:
            return self._writer.samples / SAMPLE_RATE
        return self._closed_seconds

    def take_failure(self) -> str | None:
        """The error, the first time it is asked for after it happened (so the engine
        publishes ``recording.failed`` once, in the tick the disk refused)."""
        error = self.error
        if error is None or self._failure_told:
            return None
        self._failure_told = True
        return error

    def pause(self) -> None:
        """Write silence from now on (e.g. while the customer reads a card number)."""
        if not self.paused:
            self.paused = True
            self.pauses.append([round(self.seconds, 3), None])  # type: ignore[list-item]

    def resume(self) -> None:
        if self.paused:
            self.paused = False
            self.pauses[-1][1] = round(self.seconds, 3)

    def close(self) -> float:
        """Finish the file; returns its duration in seconds."""
        if self._writer is not None:
            if self.paused:
                self.resume()
            writer, self._writer = self._writer, None
            final = writer.close()
            self.final_path = final
            self._closed_error = writer.error
            self._closed_seconds = writer.samples / SAMPLE_RATE
            if self._observer is not None:
                try:
                    self._observer.closed(self, final, writer.samples / SAMPLE_RATE)
                except Exception as err:
                    log.error("recording_index_failed", path=str(self.path), error=str(err))
            return writer.samples / SAMPLE_RATE
        return self.frames * FRAME_SAMPLES / SAMPLE_RATE
