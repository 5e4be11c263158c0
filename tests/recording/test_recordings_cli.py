"""``trunkline recordings ...`` on a store, without a gateway."""

from __future__ import annotations

import json
import time
from pathlib import Path

from recording_kit import fake_recording

from trunkline.gateway.recording.archive import RecordingStore


def test_recordings_cli(tmp_path: Path, capsys) -> None:
    import trunkline.cli as cli

    store = RecordingStore(tmp_path)
    fake_recording(store, "x", time.time() - 100 * 86400, "spring")
    fake_recording(store, "y", time.time(), "autumn")
    assert cli.main(["recordings", "--root", str(tmp_path), "search", "--campaign",
                     "spring", "--json"]) == 0
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [r["campaign"] for r in rows] == ["spring"]
    assert cli.main(["recordings", "--root", str(tmp_path), "purge", "--days", "30"]) == 0
    assert "deleted" in capsys.readouterr().out
    assert cli.main(["recordings", "--root", str(tmp_path), "purge"]) == 1
    assert "needs --days" in capsys.readouterr().err
    assert cli.main(["recordings", "--root", str(tmp_path), "verify"]) == 0
