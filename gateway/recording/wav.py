"""The crash-safe recording file: a stereo 8 kHz WAV that a crash cannot corrupt.

Crash safety (docs/recording.md has the operator's version):

- A recording is written to ``NAME.wav.part``: a complete WAV header first (sizes 0),
  then audio. The media tick hands each frame to :class:`WavWriter`, which buffers in
  memory and, once a second (50 frames), writes the buffer with ``os.write`` and then
  rewrites the header's RIFF and data sizes (``pwrite``). After that write the second is
  in the kernel: a crash of the gateway process loses nothing older than a second.
- A background thread (:class:`_Syncer`) ``fdatasync``\\ s every open recording once a
  second, so a crash of the machine loses at most about the last second as well. The
  tick itself never waits for the disk beyond one ``write`` a second per recording.
- On stop the rest is written, the header made final, the file renamed to ``NAME.wav``
  (atomic), then fsynced with its folder by the finishing thread (:func:`finish_pool`),
  which also computes checksums (:func:`sha256`) for the index. A finished recording is
  never rewritten again, so it cannot be corrupted by a later crash.
- :func:`repair` makes an interrupted ``.part`` a valid ``.wav``: cut to whole frames,
  header sizes fixed from the file's real length (the archive calls it on restart).

A full disk (ENOSPC), a file-size limit (EFBIG), an I/O error or a vanished folder makes
the writer stop writing (the tick carries on), cut the file back to the audio its header
on disk counts, and report the error in :attr:`WavWriter.error`; the audio up to the
error is kept. On close the header is written whole again for that audio (rewriting it
needs no new disk block) and the file gets its final name; if even that fails it stays
``NAME.wav.part``, which :func:`repair` makes whole on restart.

This module knows nothing of calls, the index or the engine.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import struct
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import structlog

from trunkline.errors import ConfigError
from trunkline.gateway.background import worker
from trunkline.gateway.recording.errors import RecordingError

log = structlog.get_logger("trunkline.gateway.recording.wav")

SAMPLE_RATE = 8000
CHANNELS = 2
#: WAVE format tags (RFC 2361): PCM, A-law, mu-law.
FORMATS = {"pcm16": (1, 2), "alaw": (6, 1), "ulaw": (7, 1)}
FLUSH_FRAMES = 50  # one second of 20 ms frames


# -- the WAV writer ----------------------------------------------------------------------

def _header(encoding: str, frames: int) -> tuple[bytes, int, int | None]:
    """The WAV header for ``frames`` sample frames; (bytes, data offset, fact offset)."""
    tag, width = FORMATS[encoding]
    block = CHANNELS * width
    data = frames * block
    if tag == 1:
        fmt = struct.pack("<HHIIHH", tag, CHANNELS, SAMPLE_RATE, SAMPLE_RATE * block, block, 16)
        head = b"fmt " + struct.pack("<I", len(fmt)) + fmt
        fact = b""
    else:  # non-PCM WAVE needs cbSize and a fact chunk (sample frames)
        fmt = struct.pack("<HHIIHHH", tag, CHANNELS, SAMPLE_RATE, SAMPLE_RATE * block, block,
                          8, 0)
        head = b"fmt " + struct.pack("<I", len(fmt)) + fmt
        fact = b"fact" + struct.pack("<II", 4, frames)
    body = head + fact + b"data" + struct.pack("<I", data)
    out = b"RIFF" + struct.pack("<I", 4 + len(body) + data) + b"WAVE" + body
    fact_at = 12 + len(head) + 8 if fact else None
    return out, len(out), fact_at


class _Syncer:
    """One thread that fdatasyncs every open recording once a second."""

    def __init__(self) -> None:
        self._fds: dict[int, WavWriter] = {}
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self.interval = 1.0

    def add(self, writer: WavWriter) -> None:
        with self._lock:
            self._fds[id(writer)] = writer
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="trunkline-rec-sync",
                                                daemon=True)
                self._thread.start()

    def remove(self, writer: WavWriter) -> None:
        with self._lock:
            self._fds.pop(id(writer), None)

    def _run(self) -> None:
        while True:
            time.sleep(self.interval)
            with self._lock:
                writers = list(self._fds.values())
            for w in writers:
                w.sync()


_syncer = _Syncer()


def finish_pool() -> ThreadPoolExecutor:
    """The background thread that finishes recordings (closing never runs in the tick).

    Closing files (fsync) and checksumming them run here, one after the other, so
    :func:`wait_idle` can wait for all of it.
    """
    return worker("rec")


def _encode(block: np.ndarray, encoding: str) -> bytes:
    """Interleaved stereo frames (n x 2, float) as the file's sample bytes."""
    pcm = np.clip(np.rint(block), -32768, 32767).astype(np.int16)
    if encoding == "pcm16":
        return pcm.astype("<i2").tobytes()
    from trunkline.drivers.dsp.g711 import encode

    return np.asarray(encode(pcm.reshape(-1), encoding), dtype=np.uint8).tobytes()


class WavWriter:
    """A stereo 8 kHz WAV file written crash-safely (see the module docstring)."""

    def __init__(self, path: str | Path, encoding: str = "pcm16", *,
                 flush_frames: int = FLUSH_FRAMES, sync: bool = True) -> None:
        if encoding not in FORMATS:
            raise ConfigError(f"unknown recording encoding {encoding!r}; "
                              "expected pcm16, alaw or ulaw")
        self.path = Path(path)
        self.part = self.path.with_name(self.path.name + ".part")
        self.encoding = encoding
        self.flush_frames = flush_frames
        self.sync_enabled = sync
        self.samples = 0  # sample frames on disk
        self._counted = 0  # sample frames the header on disk counts
        self.error: str | None = None
        self._buffer: list[bytes] = []
        self._buffered = 0
        self._fd: int | None = None
        self._lock = threading.Lock()
        self._dirty = False
        self._data_at = 0
        self._fact_at: int | None = None

    def open(self) -> None:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            if self.path.exists():
                raise FileExistsError(17, "a finished recording is already there",
                                      str(self.path))
            # O_EXCL with O_NOFOLLOW: a .part already there (another recording of the
            # same name) or planted as a link is never truncated or followed (issue 15,
            # red-team 4: a symlinked .part overwrote its target).
            fd = os.open(self.part, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW,
                         0o640)
            header, self._data_at, self._fact_at = _header(self.encoding, 0)
            os.write(fd, header)
        except OSError as err:
            raise RecordingError(f"{self.path}: cannot record here: "
                                 f"{err.strerror or err}") from err
        self._fd = fd
        if self.sync_enabled:
            _syncer.add(self)

    def write(self, stereo: np.ndarray) -> None:
        """Append frames (n x 2: left, right); never raises (errors are kept in .error)."""
        if self._fd is None or self.error is not None:
            return
        self._buffer.append(_encode(stereo, self.encoding))
        self._buffered += stereo.shape[0]
        if self._buffered >= self.flush_frames * 160:
            self.flush()

    def flush(self) -> None:
        """Write what is buffered, then the header sizes (the once-a-second step)."""
        if self._fd is None or not self._buffer or self.error is not None:
            return
        data = b"".join(self._buffer)
        frames = self._buffered
        self._buffer, self._buffered = [], 0
        try:
            view = memoryview(data)
            while view:
                n = os.write(self._fd, view)
                view = view[n:]
        except OSError as err:
            self._fail(err)
            return
        self.samples += frames
        self._write_sizes()
        self._dirty = True

    def _write_sizes(self) -> None:
        _tag, width = FORMATS[self.encoding]
        data = self.samples * CHANNELS * width
        try:
            assert self._fd is not None
            os.pwrite(self._fd, struct.pack("<I", self._data_at - 8 + data), 4)
            os.pwrite(self._fd, struct.pack("<I", data), self._data_at - 4)
            if self._fact_at is not None:
                os.pwrite(self._fd, struct.pack("<I", self.samples), self._fact_at)
        except OSError as err:
            self._fail(err)
            return
        self._counted = self.samples

    def _fail(self, err: OSError) -> None:
        """Stop writing; keep the audio the last good header counts (a write cut short
        by a full disk may have left part of a second after it)."""
        self.error = f"{self.part}: {err.strerror or err}"
        self.samples = self._counted
        log.error("recording_write_failed", path=str(self.path), error=self.error,
                  seconds=round(self.samples / SAMPLE_RATE, 2))
        with contextlib.suppress(OSError):
            assert self._fd is not None
            os.ftruncate(self._fd, self._data_end())

    def _data_end(self) -> int:
        return self._data_at + self.samples * CHANNELS * FORMATS[self.encoding][1]

    def _make_whole(self, fd: int) -> bool:
        """After an error: the file cut to the counted audio and its whole header
        rewritten (overwriting bytes needs no free block); False if the disk refuses."""
        header, _, _ = _header(self.encoding, self.samples)
        try:
            os.ftruncate(fd, self._data_end())
            os.pwrite(fd, header, 0)
        except OSError as err:
            log.error("recording_header_unfixed", path=str(self.part),
                      error=err.strerror or str(err))
            return False
        return True

    def sync(self) -> None:
        """fdatasync if anything was written since the last sync (syncer thread)."""
        with self._lock:
            if self._fd is None or not self._dirty:
                return
            self._dirty = False
            with contextlib.suppress(OSError):
                os.fdatasync(self._fd)

    def close(self) -> Path:
        """Finish: write the rest, final header, rename ``.part`` to the final name.

        The fsync of file and folder happens in a worker thread (the tick does not wait
        for the disk); returns the final path (or the ``.part`` kept after an error).
        """
        if self._fd is None:
            return self.path
        self.flush()
        _syncer.remove(self)
        with self._lock:
            fd, self._fd = self._fd, None
        final = self.path
        if self.error is not None and not self._make_whole(fd):
            # Kept under its .part name: not a finished recording until repaired.
            finish_pool().submit(_durable_close, fd, self.part)
            return self.part
        try:
            os.rename(self.part, self.path)
        except OSError as err:
            self.error = self.error or f"{self.path}: cannot finish: {err.strerror}"
            final = self.part
        finish_pool().submit(_durable_close, fd, final)
        return final

    @property
    def seconds(self) -> float:
        return (self.samples + self._buffered) / SAMPLE_RATE


def _durable_close(fd: int, path: Path) -> None:
    with contextlib.suppress(OSError):
        os.fsync(fd)
    os.close(fd)
    with contextlib.suppress(OSError):
        dir_fd = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)


def repair(part: str | Path) -> tuple[Path, float]:
    """Make an interrupted ``.part`` a valid WAV; returns (final path, seconds).

    The header is read for the encoding; the data is cut to whole sample frames and the
    sizes are set from the file's length. A ``.part`` too short to hold its header is
    renamed ``.broken`` (kept for inspection, never deleted).
    """
    part = Path(part)
    final = part.with_name(part.name[: -len(".part")]) if part.name.endswith(".part") else part
    with open(part, "r+b") as fh:
        head = fh.read(64)
        size = os.fstat(fh.fileno()).st_size
        if len(head) < 44 or head[:4] != b"RIFF" or head[8:12] != b"WAVE":
            fh.close()
            broken = part.with_name(part.name + ".broken")
            os.replace(part, broken)
            raise RecordingError(f"{part}: not a WAV recording (kept as {broken.name})")
        tag = struct.unpack_from("<H", head, 20)[0]
        encoding = {1: "pcm16", 6: "alaw", 7: "ulaw"}.get(tag)
        if encoding is None:
            raise RecordingError(f"{part}: unknown WAVE format {tag}")
        _, data_at, _fact_at = _header(encoding, 0)
        block = CHANNELS * FORMATS[encoding][1]
        frames = max(0, (size - data_at) // block)
        fh.truncate(data_at + frames * block)
        header, _, _ = _header(encoding, frames)
        fh.seek(0)
        fh.write(header)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(part, final)
    return final, frames / SAMPLE_RATE


def sha256(path: str | Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def wait_idle(timeout: float = 10.0) -> None:
    """Wait until the background fsync/checksum work queued so far is done (tests, CLI)."""
    finish_pool().submit(lambda: None).result(timeout=timeout)
