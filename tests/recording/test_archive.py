"""The archive: crash recovery (kill -9 and repair), retention, backup, restore, export."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import soundfile
from recording_kit import fake_recording

from trunkline.errors import ConfigError
from trunkline.gateway.recording.archive import RecordingStore, RetentionRule, load_rules
from trunkline.gateway.recording.errors import RecordingError

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


def test_new_paths_are_per_day_and_unique_per_call(tmp_path: Path) -> None:
    store = RecordingStore(tmp_path)
    started = time.mktime((2026, 11, 24, 9, 30, 5, 0, 0, -1)) + 0.25
    path = store.new_path(17, started)
    assert path == tmp_path / "2026/11/24" / "call17-093005-250.wav"
    assert store.new_path(18, started) != path


def test_retention_deletes_expired_and_logs(tmp_path: Path) -> None:
    store = RecordingStore(tmp_path)
    now = 1_000_000_000.0
    old = fake_recording(store, "old", now - 40 * 86400, None)
    new = fake_recording(store, "new", now - 5 * 86400, None)
    keep = fake_recording(store, "keep", now - 40 * 86400, "legal")
    rules = [RetentionRule(30), RetentionRule(365, "legal")]
    assert [d["path"] for d in store.purge(rules, now=now, dry_run=True)] == [str(old)]
    assert old.exists()
    deleted = store.purge(rules, now=now)
    assert [d["path"] for d in deleted] == [str(old)] and deleted[0]["rule"] == "*:30d"
    assert not old.exists() and new.exists() and keep.exists()
    log = store.index.deletions()
    assert len(log) == 1 and log[0]["path"] == str(old) and log[0]["deleted_at"] == now
    assert store.index.get(old) is None


def test_retention_rules_from_toml(tmp_path: Path) -> None:
    rules = tmp_path / "r.toml"
    rules.write_text('default_days = 90\n[[rule]]\ncampaign = "legal"\ndays = 3650\n')
    assert [r.name for r in load_rules(rules)] == ["*:90d", "legal:3650d"]
    rules.write_text('[[rule]]\ncampaign = "legal"\n')
    with pytest.raises(ConfigError, match=r"rule\[0\] needs 'days'"):
        load_rules(rules)
    rules.write_text("")
    with pytest.raises(ConfigError, match="no retention rules"):
        load_rules(rules)
    with pytest.raises(ConfigError, match="retention days must be > 0"):
        RetentionRule(0)


def test_backup_restore_and_tamper_detection(tmp_path: Path) -> None:
    store = RecordingStore(tmp_path / "a")
    paths = [fake_recording(store, f"r{i}", 1e9 + i, "c") for i in range(3)]
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
