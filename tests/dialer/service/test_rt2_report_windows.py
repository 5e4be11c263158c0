"""A report's time window that cannot hold a call is refused, not answered with an
empty report read as "no calls" (second red-team pass, issue 15).

Before: ``since`` after ``until`` (CLI and API), or ``since=nan``, answered 200 with
no rows; ``GET /api/reports/daily?date=9999-12-31`` was a 500 (OverflowError)."""

from __future__ import annotations

from pathlib import Path

import pytest
from qa_data_kit import seeded_db
from web_kit import client, login

from trunkline.cli import main


def test_the_api_refuses_windows_that_hold_nothing(tmp_path: Path) -> None:
    seeded_db(tmp_path)
    with client(tmp_path) as c:
        login(c, "root")
        for query, words in (
                ("since=2026-12-01&until=2026-11-01", "must be before until"),
                ("since=100&until=100", "must be before until"),
                ("since=nan", "is not a time"),
                ("until=inf", "is not a time")):
            r = c.get(f"/api/reports/campaign?{query}")
            assert r.status_code == 422 and words in r.json()["message"], (query, r.text)
        for day in ("9999-12-31", "0001-01-01"):
            r = c.get(f"/api/reports/daily?date={day}")
            assert r.status_code == 422 and "expected a day from" in r.json()["message"]
        assert c.get("/api/reports/campaign?since=2026-11-01&until=2026-12-01"
                     ).status_code == 200
        assert c.get("/api/reports/daily?date=2026-11-30").status_code == 200


@pytest.mark.parametrize("by", ["campaign", "call"])
def test_the_cli_refuses_since_after_until(tmp_path: Path, capsys, by: str) -> None:
    db = str(tmp_path / "d.sqlite")
    assert main(["dialer", "campaign", "create", "sales", "--db", db]) == 0
    assert main(["dialer", "report", "--by", by, "--since", "2026-12-01", "--until",
                 "2026-11-01", "--db", db]) == 1
    assert "--since 2026-12-01 must be before --until 2026-11-01" in capsys.readouterr().err
