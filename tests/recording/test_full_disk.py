"""A recording the disk refuses (issue 15, red-team 13): ``recording.failed`` with the
reason in the tick it happens, the call and the tick go on, the stop reply says it
failed, and what was written stays a valid WAV.

The kernel's own error is used where it can be without root: a file-size limit
(RLIMIT_FSIZE) in a child process makes ``write`` fail with EFBIG, part-way through a
second of audio, exactly as a full disk cuts a write short. Through the gateway, the
recording's own descriptor is made to answer ENOSPC at ``os.write`` (the writer's I/O
boundary; every other descriptor writes as usual).
"""

from __future__ import annotations

import errno
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import soundfile

from trunkline.gateway.config import GatewayConfig
from trunkline.gateway.recording import wav
from trunkline.gateway.recording.archive import RecordingStore
from trunkline.gateway.testing import VirtualGateway

CHILD = r"""
import json, resource, signal, sys
import numpy as np
from trunkline.gateway.recording.wav import WavWriter, wait_idle

signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # EFBIG from write(), not a killed process
path, limit = sys.argv[1], int(sys.argv[2])
writer = WavWriter(path, "pcm16", sync=False)
writer.open()
resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
for i in range(150):  # 3 s of 20 ms frames
    writer.write(np.full((160, 2), 1000.0 + i, dtype=np.float32))
final = writer.close()
wait_idle()
print(json.dumps({"error": writer.error, "final": str(final), "seconds": writer.samples / 8000}))
"""


def test_a_write_cut_short_by_the_kernel_keeps_a_valid_wav(tmp_path: Path) -> None:
    path = tmp_path / "limited.wav"
    # 44 bytes of header, one second (32000 bytes) and half of the next.
    out = subprocess.run([sys.executable, "-c", CHILD, str(path), str(44 + 48000)],
                         capture_output=True, text=True, timeout=120, check=True)
    result = json.loads(out.stdout.strip().splitlines()[-1])  # after the log lines
    assert "File too large" in result["error"] and result["seconds"] == 1.0
    assert result["final"] == str(path) and not path.with_name("limited.wav.part").exists()
    info = soundfile.info(str(path))
    assert (info.channels, info.samplerate, info.frames) == (2, 8000, 8000)
    assert path.stat().st_size == 44 + 32000  # the half second cut off, header counts all
    audio, _ = soundfile.read(str(path), dtype="int16")
    assert audio[0, 0] == 1000 and audio[-1, 0] == 1049  # the first 50 frames, whole


def _refuse_fd(monkeypatch, fd: int) -> list[int]:
    """``os.write`` answers ENOSPC on ``fd`` only; returns the refused sizes."""
    real = os.write
    refused: list[int] = []

    def write(target: int, data) -> int:
        if target == fd:
            refused.append(len(data))
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return real(target, data)

    monkeypatch.setattr(wav.os, "write", write)
    return refused


def test_a_full_disk_is_announced_and_the_call_goes_on(tmp_path: Path, monkeypatch) -> None:
    config = GatewayConfig(recordings_root=tmp_path / "rec", fax_spool=tmp_path / "fax")
    with VirtualGateway(config, start=0.0) as gw:
        call = gw.call("call.originate", number="13800000001", group="fxo")["call"]
        started = gw.call("call.record", call=call, action="start", path="full.wav")
        gw.call("call.play", call=call, tone="dial", loop=True)
        gw.run(1.3)  # one second flushed to disk
        recorder = gw.engine.calls[call].recorder
        refused = _refuse_fd(monkeypatch, recorder._writer._fd)
        gw.take_events()
        gw.run(2.5)  # two more flushes meet the full disk; only the first is tried
        events = gw.take_events()
        failed = [e for e in events if e["event"] == "recording.failed"]
        assert len(failed) == 1 and len(refused) == 1
        assert failed[0]["call"] == call and failed[0]["path"] == started["recording"]
        assert "No space left on device" in failed[0]["error"]
        assert failed[0]["duration"] == 1.0
        assert call in gw.engine.calls  # the call goes on, the tick too
        monkeypatch.undo()
        stopped = gw.call("call.record", call=call, action="stop")
        assert "No space left" in stopped["error"] and stopped["duration"] == 1.0
        assert stopped["path"] == started["recording"]
        finished = [e for e in gw.take_events() if e["event"] == "recording.finished"]
        assert finished and "No space left" in finished[0]["error"]
        assert not [e for e in gw.take_events() if e["event"] == "recording.failed"]
        assert soundfile.info(started["recording"]).frames == 8000
        wav.wait_idle()
        row = gw.service.recordings.index.get(Path(started["recording"]))
        assert row["state"] == "failed" and "No space" in row["error"]
        gw.call("call.hangup", call=call)


def test_a_header_that_cannot_be_fixed_leaves_a_part_that_verify_reports(
        tmp_path: Path, monkeypatch) -> None:
    writer = wav.WavWriter(tmp_path / "r.wav", sync=False, flush_frames=1)
    writer.open()
    writer.write(np.ones((160, 2), dtype=np.float32))
    assert writer.samples == 160
    fd = writer._fd
    real_pwrite, real_write = os.pwrite, os.write

    def refuse(target: int, data, *rest):
        if target == fd:
            raise OSError(errno.EIO, os.strerror(errno.EIO))
        return (real_pwrite if rest else real_write)(target, data, *rest)

    monkeypatch.setattr(wav.os, "write", refuse)
    monkeypatch.setattr(wav.os, "pwrite", refuse)
    writer.write(np.ones((160, 2), dtype=np.float32))
    final = writer.close()
    monkeypatch.undo()
    wav.wait_idle()
    assert final == tmp_path / "r.wav.part" and "Input/output error" in writer.error
    store = RecordingStore(tmp_path)
    assert [b["problem"].split(" (")[0] for b in store.verify()] == ["unrepaired .part"]
    repaired = store.recover()
    assert repaired[0]["state"] == "repaired" and store.verify() == []
    assert soundfile.info(str(tmp_path / "r.wav")).frames == 160
