"""Rows naming host files are never touched (issue 15, red-team 4: escaped paths were
indexed, then purged or exported): an index written before client paths were confined
may hold them; a crafted backup manifest may name them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from trunkline.gateway.recording.archive import RecordingStore, RetentionRule
from trunkline.gateway.recording.errors import RecordingError


@pytest.fixture
def store_and_victim(tmp_path: Path) -> tuple[RecordingStore, Path, Path]:
    root = tmp_path / "recordings"
    root.mkdir()
    victim = tmp_path / "host" / "victim.wav"
    victim.parent.mkdir()
    victim.write_bytes(b"RIFF host file")
    store = RecordingStore(root)
    # As an unconfined call.record left it: a row for a file outside the root...
    store.index.add(path=str(victim), state="complete", started=1000.0, campaign="c")
    # ...and one through a link inside the root that leads out.
    (root / "link").symlink_to(victim.parent)
    store.index.add(path=str(root / "link" / "victim.wav"), state="complete",
                    started=1000.0, campaign="c")
    return store, victim, tmp_path


def test_purge_never_deletes_outside_the_root(store_and_victim) -> None:
    store, victim, _ = store_and_victim
    assert store.purge([RetentionRule(1.0)], now=10_000_000.0) == []
    assert victim.read_bytes() == b"RIFF host file"


def test_export_never_copies_a_host_file(store_and_victim) -> None:
    store, victim, tmp_path = store_and_victim
    out = store.export(tmp_path / "export", store.index.all())
    assert out["files"] == 0 and not list((tmp_path / "export").rglob("*.wav"))
    assert victim.read_bytes() == b"RIFF host file"


def test_recover_never_renames_outside_the_root(store_and_victim) -> None:
    store, victim, _ = store_and_victim
    part = victim.with_name("victim2.wav.part")
    part.write_bytes(b"RIFF....WAVE")
    store.index.add(path=str(victim.with_name("victim2.wav")), state="recording")
    store.recover()
    assert part.exists() and not victim.with_name("victim2.wav").exists()


def test_a_manifest_naming_files_outside_is_refused(tmp_path: Path) -> None:
    backup = tmp_path / "backup"
    (backup / "files").mkdir(parents=True)
    (backup / "manifest.json").write_text(json.dumps({"spec": "1.0", "recordings": [
        {"file": "files/../../escaped.wav", "sha256": "0" * 64}]}))
    store = RecordingStore(tmp_path / "root")
    with pytest.raises(RecordingError, match="outside its files/ and the recordings root"):
        store.restore(backup)
    assert not (tmp_path / "escaped.wav").exists()
