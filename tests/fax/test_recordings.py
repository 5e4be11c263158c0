"""Recording: crash safety (kill -9 and repair), index, pause, retention, backup/restore."""

from __future__ import annotations

import errno
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import soundfile
from fax_kit import HUMAN_NUMBER, Rig, write_plan

from trunkline.gateway.recording import wav
from trunkline.gateway.recording.archive import RecordingStore, RetentionRule
from trunkline.gateway.recording.desk import RecordingDesk
from trunkline.gateway.recording.errors import RecordingError
from trunkline.gateway.recording.recorder import Recorder
from trunkline.gateway.recording.wav import WavWriter, repair, wait_idle

CRASHER = r"""
import sys, time
import numpy as np
from pathlib import Path
from trunkline.gateway.recording.desk import RecordingDesk
root = Path(sys.argv[1])
desk = RecordingDesk(None, root=root)
done = desk.recorder(root / "done.wav", "alaw", meta={"call_id": 1, "campaign": "c1"})
done.open()
for i in range(100):
    done.write(np.full(160, 1000.0), np.full(160, -1000.0))
done.close()
rec = desk.recorder(root / "live.wav", "pcm16", meta={"call_id": 2, "campaign": "c1",
                                                      "agent_id": "a7", "customer": "138"})
rec.open()
for i in range(175):  # 3.5 s: left counts frames, right is its negative
    rec.write(np.full(160, float(i)), np.full(160, -float(i)))
print("ready", flush=True)
time.sleep(60)
"""


def test_kill_during_recording_then_recover(tmp_path: Path) -> None:
    proc = subprocess.Popen([sys.executable, "-c", CRASHER, str(tmp_path)],
                            stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout.readline().strip() == "ready"
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
    assert (tmp_path / "live.wav.part").exists() and not (tmp_path / "live.wav").exists()
    # Even before repair, the .part is a valid WAV of whole seconds (header kept current).
    info = soundfile.info(str(tmp_path / "live.wav.part"), )
    assert info.channels == 2 and info.samplerate == 8000 and info.frames == 3 * 8000
    store = RecordingStore(tmp_path)
    repaired = store.recover()
    assert [r["state"] for r in repaired] == ["repaired"]
    data, rate = soundfile.read(str(tmp_path / "live.wav"), dtype="int16")
    assert rate == 8000 and data.shape == (3 * 8000, 2)  # at most the last second lost
    frames = data[::160, 0]
    assert list(frames) == list(range(150)) and (data[:, 1] == -data[:, 0]).all()
    row = store.index.get(tmp_path / "live.wav")
    assert row["state"] == "repaired" and row["duration"] == 3.0 and row["agent_id"] == "a7"
    done = store.index.get(tmp_path / "done.wav")
    assert done["state"] == "complete" and done["duration"] == 2.0
    assert store.verify() == []
    assert store.recover() == []  # nothing left to repair


def test_repair_of_a_torn_write_and_of_garbage(tmp_path: Path) -> None:
    w = WavWriter(tmp_path / "x.wav", "ulaw", sync=False)
    w.open()
    w.write(np.zeros((8000, 2), np.float32))
    w.flush()
    with open(w.part, "ab") as fh:
        fh.write(b"\x01")  # half a stereo frame after the last header update
    final, seconds = repair(w.part)
    assert seconds == 1.0 and soundfile.info(str(final)).frames == 8000
    junk = tmp_path / "junk.wav.part"
    junk.write_bytes(b"nothing")
    with pytest.raises(RecordingError, match="not a WAV"):
        repair(junk)
    assert (tmp_path / "junk.wav.part.broken").exists()


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
    from trunkline.errors import AudioFileError

    with pytest.raises(AudioFileError, match="cannot record here"):
        Recorder(blocker / "x.wav").open()
    done = tmp_path / "done.wav"
    done.write_bytes(b"RIFF")
    with pytest.raises(AudioFileError, match="already there"):
        Recorder(done).open()
    assert done.read_bytes() == b"RIFF"  # a finished recording is never overwritten


def test_recording_a_call_with_pause_policy_and_index(tmp_path: Path) -> None:
    rig = Rig(write_plan(tmp_path))
    try:
        desk = RecordingDesk(rig.engine, root=tmp_path / "rec")
        original = rig.engine.publish
        rig.engine.publish = lambda e: (original(e), desk.on_event(e))
        desk.set_policy(record_all=False, campaigns=["spring"], encoding="alaw")
        info = rig.engine.originate(HUMAN_NUMBER, group="fxo", ring_timeout=30)
        call_id = info["call"]
        desk.tag(call_id, campaign="spring", agent_id="a1", agent_name="Li Lei")
        rig.run_until(lambda: rig.named("call.state", state="answered"), 30)
        rig.run(4.0)
        assert rig.engine.calls[call_id].recorder is not None  # started by policy
        desk.pause(call_id, True)
        rig.run(2.0)
        desk.pause(call_id, False)
        rig.run(2.0)
        rig.engine.hangup(call_id)
        rig.run(1.0)
        wait_idle()
        rows = desk.index.search(campaign="spring")
        assert len(rows) == 1
        row = rows[0]
        assert row["state"] == "complete" and row["outcome"] == "human"
        assert row["agent_name"] == "Li Lei" and row["customer"] == HUMAN_NUMBER
        assert row["reason"] == "policy" and row["encoding"] == "alaw"
        (start, end), = row["pauses"]
        assert end - start == pytest.approx(2.0, abs=0.05)
        data, _ = soundfile.read(row["path"], dtype="int16")
        paused = data[int(start * 8000) + 80: int(end * 8000) - 80]
        assert np.abs(paused.astype(int)).max() <= 8  # A-law silence
        assert np.abs(data[: int(start * 8000), 0].astype(int)).max() > 1000  # the customer
        assert row["sha256"] == wav.sha256(row["path"])
        assert desk.index.search(agent_name="Lei")[0]["id"] == row["id"]
        assert desk.index.search(customer="1381")[0]["id"] == row["id"]
        assert desk.index.search(call=call_id)[0]["id"] == row["id"]
        assert desk.index.search(campaign="autumn") == []
        # The engine's own call.record path is indexed too, by the service's own desk.
        info = rig.engine.originate(HUMAN_NUMBER, group="pri", ring_timeout=30)
        rig.run_until(lambda: rig.engine.calls[info["call"]].answered_at, 30)
        rig.engine.record(info["call"], "start", str(tmp_path / "adhoc.wav"), "pcm16")
        rig.run(1.5)
        rig.engine.record(info["call"], "stop", None, "pcm16")
        assert rig.service.recordings.index.get(tmp_path / "adhoc.wav")["state"] == "complete"
        assert desk.index.get(tmp_path / "adhoc.wav") is None
    finally:
        rig.close()


def _fake(store: RecordingStore, name: str, started: float, campaign: str | None) -> Path:
    path = store.root / f"{name}.wav"
    w = WavWriter(path, sync=False)
    w.open()
    w.write(np.ones((800, 2), np.float32))
    w.close()
    wait_idle()
    store.index.add(path=str(path), started=started, duration=0.1, campaign=campaign,
                    state="complete", sha256=wav.sha256(path))
    return path


def test_retention_deletes_expired_and_logs(tmp_path: Path) -> None:
    store = RecordingStore(tmp_path)
    now = 1_000_000_000.0
    old = _fake(store, "old", now - 40 * 86400, None)
    new = _fake(store, "new", now - 5 * 86400, None)
    keep = _fake(store, "keep", now - 40 * 86400, "legal")
    rules = [RetentionRule(30), RetentionRule(365, "legal")]
    assert [d["path"] for d in store.purge(rules, now=now, dry_run=True)] == [str(old)]
    assert old.exists()
    deleted = store.purge(rules, now=now)
    assert [d["path"] for d in deleted] == [str(old)] and deleted[0]["rule"] == "*:30d"
    assert not old.exists() and new.exists() and keep.exists()
    log = store.index.deletions()
    assert len(log) == 1 and log[0]["path"] == str(old) and log[0]["deleted_at"] == now
    assert store.index.get(old) is None


def test_backup_restore_and_tamper_detection(tmp_path: Path) -> None:
    store = RecordingStore(tmp_path / "a")
    paths = [_fake(store, f"r{i}", 1e9 + i, "c") for i in range(3)]
    store.backup(tmp_path / "bk")
    with pytest.raises(RecordingError, match="not empty"):
        store.backup(tmp_path / "bk")
    other = RecordingStore(tmp_path / "b")
    assert other.restore(tmp_path / "bk") == {"restored": 3, "skipped": 0}
    assert len(other.index.search(campaign="c")) == 3 and other.verify() == []
    assert other.restore(tmp_path / "bk") == {"restored": 0, "skipped": 3}
    manifest = json.loads((tmp_path / "bk" / "manifest.json").read_text())
    victim = tmp_path / "bk" / manifest["recordings"][1]["file"]
    victim.write_bytes(victim.read_bytes()[:-4] + b"XXXX")
    third = RecordingStore(tmp_path / "c")
    with pytest.raises(RecordingError, match="checksum mismatch"):
        third.restore(tmp_path / "bk")
    assert third.index.all() == [] and not list((tmp_path / "c").rglob("*.wav"))
    exported = store.export(tmp_path / "ex", store.index.search(campaign="c")[1:])
    assert exported["files"] == 2
    paths[0].write_bytes(b"changed")
    assert [b["problem"] for b in store.verify()] == ["checksum mismatch"]
    with pytest.raises(RecordingError, match="checksum"):
        store.export(tmp_path / "ex2", store.index.search(campaign="c"))


def test_recordings_cli(tmp_path: Path, capsys) -> None:
    import trunkline.cli as cli

    store = RecordingStore(tmp_path)
    _fake(store, "x", time.time() - 100 * 86400, "spring")
    _fake(store, "y", time.time(), "autumn")
    assert cli.main(["recordings", "--root", str(tmp_path), "search", "--campaign",
                     "spring", "--json"]) == 0
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [r["campaign"] for r in rows] == ["spring"]
    assert cli.main(["recordings", "--root", str(tmp_path), "purge", "--days", "30"]) == 0
    assert "deleted" in capsys.readouterr().out
    assert cli.main(["recordings", "--root", str(tmp_path), "purge"]) == 1
    assert "needs --days" in capsys.readouterr().err
    assert cli.main(["recordings", "--root", str(tmp_path), "verify"]) == 0
