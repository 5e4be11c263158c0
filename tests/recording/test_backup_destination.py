"""``recordings backup|export`` refuse a destination inside the recordings root, or one
holding it, links followed (issue 15, first-week operator findings): ``backup
$ROOT/backup`` copied the recordings into the folder it was protecting, where they were
lost with the same disk and piled up again at each backup."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from recording_kit import fake_recording

from trunkline import cli
from trunkline.gateway.recording.archive import RecordingStore
from trunkline.gateway.recording.errors import RecordingError


@pytest.fixture
def base(tmp_path: Path) -> Path:
    return tmp_path.resolve()   # paths in the messages are compared resolved


@pytest.fixture
def store(base: Path) -> RecordingStore:
    store = RecordingStore(base / "rec")
    fake_recording(store, "r1", 1e9, "c")
    return store


def _files(root: Path) -> set[Path]:
    return {p for p in root.rglob("*") if p.is_file()}


@pytest.mark.parametrize("where", ["rec/backup/today", "rec", "rec/2001"])
def test_a_destination_inside_the_root_is_refused(base: Path, store: RecordingStore,
                                                  where: str) -> None:
    before = _files(store.root)
    for action in (lambda d: store.backup(d), lambda d: store.export(d, store.index.all())):
        with pytest.raises(RecordingError, match="destination is inside the recordings "
                                                 "root " + re.escape(str(base / "rec"))):
            action(base / where)
    assert _files(store.root) == before and not (base / "rec" / "backup").exists()


def test_a_link_into_the_root_is_followed(base: Path, store: RecordingStore) -> None:
    (base / "rec" / "inner").mkdir()
    (base / "mnt").symlink_to(base / "rec" / "inner")
    with pytest.raises(RecordingError, match=r"mnt/new \(= .*rec/inner/new\): the backup "
                                             "destination is inside"):
        store.backup(base / "mnt" / "new")
    assert not (base / "rec" / "inner" / "new").exists()


def test_a_destination_holding_the_root_is_refused(base: Path,
                                                   store: RecordingStore) -> None:
    with pytest.raises(RecordingError, match="the backup destination holds the "
                                             "recordings root " + re.escape(str(base / "rec"))):
        store.backup(base)


def test_beside_the_root_still_works_and_the_cli_says_why(base: Path,
                                                          store: RecordingStore,
                                                          capsys) -> None:
    assert store.backup(base / "rec-backup")["files"] == 1   # a prefix, not a parent
    root = str(base / "rec")
    assert cli.main(["recordings", "--root", root, "backup", f"{root}/bk"]) == 1
    err = capsys.readouterr().err
    assert f"{root}/bk: the backup destination is inside the recordings root" in err
    assert "Traceback" not in err
