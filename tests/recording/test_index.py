"""The SQLite index: rows, searches, the deletion log, consistent copies."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from trunkline.errors import ConfigError
from trunkline.gateway.recording.errors import RecordingError
from trunkline.gateway.recording.index import COLUMNS, RecordingIndex


def _index(tmp_path: Path) -> RecordingIndex:
    index = RecordingIndex(tmp_path / "index.sqlite")
    index.add(path="/r/a.wav", call_id=1, campaign="spring", agent_name="Li Lei",
              customer="13812345678", started=100.0, state="complete", outcome="human")
    index.add(path="/r/b.wav", call_id=2, campaign="spring", agent_name="Han Meimei",
              customer="13912345678", started=200.0, pauses=[[1.0, 2.5]])
    index.add(path="/r/c.wav", call_id=3, campaign="autumn", started=300.0,
              state="failed", error="disk full")
    return index


def _paths(rows: list[dict]) -> list[str]:
    return [r["path"] for r in rows]


def test_rows_round_trip_and_update(tmp_path: Path) -> None:
    index = _index(tmp_path)
    row = index.get("/r/b.wav")
    assert set(row) == set(COLUMNS)
    assert row["state"] == "recording" and row["pauses"] == [[1.0, 2.5]]  # the default state
    index.update(Path("/r/b.wav"), state="complete", duration=12.5, pauses=[[1, 2], [3, 4]],
                 not_a_column="ignored")
    row = index.get("/r/b.wav")
    assert row["state"] == "complete" and row["duration"] == 12.5
    assert row["pauses"] == [[1, 2], [3, 4]]
    assert index.get("/r/none.wav") is None
    index.close()


def test_search_filters_newest_first(tmp_path: Path) -> None:
    index = _index(tmp_path)
    assert _paths(index.search()) == ["/r/c.wav", "/r/b.wav", "/r/a.wav"]
    assert _paths(index.search(campaign="spring")) == ["/r/b.wav", "/r/a.wav"]
    assert _paths(index.search(agent_name="Lei")) == ["/r/a.wav"]  # substring
    assert _paths(index.search(customer="1391")) == ["/r/b.wav"]  # substring
    assert _paths(index.search(since=150.0, until=300.0)) == ["/r/b.wav"]
    assert _paths(index.search(call=3)) == _paths(index.search(call_id=3)) == ["/r/c.wav"]
    assert _paths(index.search(state="failed", campaign=None)) == ["/r/c.wav"]  # None: any
    assert _paths(index.search(limit=1)) == ["/r/c.wav"]
    with pytest.raises(ConfigError, match="cannot search recordings by 'colour'"):
        index.search(colour="red")
    index.close()


def test_deletions_are_logged_and_copies_are_consistent(tmp_path: Path) -> None:
    index = _index(tmp_path)
    row = index.get("/r/a.wav")
    index.log_deletion(row, "*:30d", 1000.0)
    assert index.get("/r/a.wav") is None and len(index.all()) == 2
    (entry,) = index.deletions()
    assert entry["path"] == "/r/a.wav" and entry["rule"] == "*:30d"
    assert entry["recording"] == row["id"] and entry["deleted_at"] == 1000.0
    index.backup_to(tmp_path / "copy.sqlite")
    copy = sqlite3.connect(str(tmp_path / "copy.sqlite"))
    try:
        assert copy.execute("SELECT count(*) FROM recordings").fetchone() == (2,)
        assert copy.execute("SELECT count(*) FROM deletions").fetchone() == (1,)
    finally:
        copy.close()
    index.close()


def test_an_index_that_cannot_be_opened_is_a_clear_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(RecordingError, match="cannot open the recording index"):
        RecordingIndex(blocker / "index.sqlite")
