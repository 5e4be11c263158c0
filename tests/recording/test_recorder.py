"""The live recorder: stereo frames from the tick, never raising, told to its observer."""

from __future__ import annotations

import errno
import os
from pathlib import Path

import numpy as np
import pytest
import soundfile

from trunkline.errors import AudioFileError
from trunkline.gateway.recording import wav
from trunkline.gateway.recording.desk import RecordingDesk
from trunkline.gateway.recording.recorder import Recorder
from trunkline.gateway.recording.wav import wait_idle


class Observer:
    """Keeps what it is told; fails on demand (the index must not stop a recording)."""

    def __init__(self, fail: bool = False) -> None:
        self.fail = fail
        self.seen: list[tuple] = []

    def opened(self, recorder: Recorder) -> None:
        self.seen.append(("opened", recorder.path))
        if self.fail:
            raise RuntimeError("index is down")

    def closed(self, recorder: Recorder, final: Path, seconds: float) -> None:
        self.seen.append(("closed", final, seconds))
        if self.fail:
            raise RuntimeError("index is down")


@pytest.mark.parametrize("fail", [False, True])
def test_the_observer_is_told_and_cannot_stop_the_recording(tmp_path: Path,
                                                             fail: bool) -> None:
    observer = Observer(fail)
    rec = Recorder(tmp_path / "x.wav", "pcm16", meta={"call_id": 1}, observer=observer)
    rec.open()
    for i in range(60):
        rec.write(np.full(160, 100.0 + i), np.full(160, -100.0))
    rec.pause()
    for _ in range(10):
        rec.write(np.full(160, 5000.0), np.full(160, 5000.0))
    seconds = rec.close()
    wait_idle()
    assert seconds == 1.4 and rec.pauses == [[1.2, 1.4]] and rec.error is None
    assert observer.seen == [("opened", tmp_path / "x.wav"),
                             ("closed", tmp_path / "x.wav", 1.4)]
    data, _ = soundfile.read(str(tmp_path / "x.wav"), dtype="int16")
    assert data.shape == (int(1.4 * 8000), 2) and (data[:, 1][:9600] == -100).all()
    assert not data[9600:].any()  # paused: silence


def test_a_recorder_without_observer_is_not_indexed(tmp_path: Path) -> None:
    desk = RecordingDesk(None, root=tmp_path)
    rec = Recorder(tmp_path / "plain.wav")
    rec.open()
    rec.write(np.zeros(160), np.zeros(160))
    rec.close()
    assert (tmp_path / "plain.wav").exists() and desk.index.all() == []


def test_full_disk_keeps_what_was_written(tmp_path: Path, monkeypatch) -> None:
    store = RecordingDesk(None, root=tmp_path)
    rec = store.recorder(tmp_path / "full.wav", "pcm16", meta={"call_id": 3})
    rec.open()
    for _ in range(100):
        rec.write(np.full(160, 500.0), np.zeros(160))
    real_write = os.write

    def full(fd, data):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(wav.os, "write", full)
    for _ in range(100):
        rec.write(np.full(160, 500.0), np.zeros(160))  # must not raise in the tick
    monkeypatch.setattr(wav.os, "write", real_write)
    seconds = rec.close()
    assert seconds == 2.0 and "No space left" in rec.error
    assert soundfile.info(str(tmp_path / "full.wav")).frames == 2 * 8000
    row = store.index.get(tmp_path / "full.wav")
    assert row["state"] == "failed" and "No space" in row["error"]


def test_unwritable_folder_is_a_clear_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(AudioFileError, match="cannot record here"):
        Recorder(blocker / "x.wav").open()
    done = tmp_path / "done.wav"
    done.write_bytes(b"RIFF")
    with pytest.raises(AudioFileError, match="already there"):
        Recorder(done).open()
    assert done.read_bytes() == b"RIFF"  # a finished recording is never overwritten
