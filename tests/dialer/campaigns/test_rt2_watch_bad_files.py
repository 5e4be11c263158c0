"""A watched folder keeps taking lists whatever is dropped in it (second red-team pass,
issue 15).

Before: one file without a number column stopped ``dialer watch`` with an error, and
again at every restart, so no list of any campaign was taken until someone found and
removed it; ``LIST.CSV`` (as Windows hosts name files) and a folder misspelt for its
campaign were passed over for ever without a word."""

from __future__ import annotations

import json
import os
from pathlib import Path

from campaign_testkit import T0, open_store

from trunkline.cli import main
from trunkline.dialer.campaigns.lists import watch_once

GOOD = "name,phone\nok,13800138000\n"


def _drop(folder: Path, name: str, text: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(text, encoding="utf-8")
    os.utime(path, (T0 - 60, T0 - 60))
    return path


def test_a_bad_file_is_set_aside_and_the_next_one_imported(tmp_path: Path) -> None:
    folder = tmp_path / "in" / "sales"
    bad = _drop(folder, "0-no-number.csv", "name,foo\nx,1\n")
    _drop(folder, "1-good.csv", GOOD)
    store = open_store()
    reports = watch_once(store, tmp_path / "in", now=T0)
    assert [r.added for r in reports] == [0, 1]
    assert "no number column" in (reports[0].failed or "") and reports[1].failed is None
    assert not bad.exists()
    archive = folder / "archive"
    stamp = int(T0)
    assert (archive / f"0-no-number.{stamp}.failed.csv").read_text() == "name,foo\nx,1\n"
    assert "no number column" in (archive / f"0-no-number.{stamp}.error.txt").read_text()
    assert watch_once(store, tmp_path / "in", now=T0 + 10) == []   # not taken again


def test_an_upper_case_extension_is_a_list(tmp_path: Path) -> None:
    folder = tmp_path / "in" / "sales"
    _drop(folder, "客户.CSV", GOOD)
    store = open_store()
    assert [r.added for r in watch_once(store, tmp_path / "in", now=T0)] == [1]
    assert (folder / "archive" / f"客户.{int(T0)}.CSV").exists()


def test_a_folder_for_no_campaign_is_said_once(tmp_path: Path, capsys) -> None:
    _drop(tmp_path / "in" / "slaes", "june.csv", GOOD)
    _drop(tmp_path / "in" / "sales", "bad.csv", "name\nx\n")
    db = tmp_path / "d.sqlite"
    open_store(db).close()
    # 1: a folder's lists and a file were not imported (the exit rule of the imports)
    assert main(["dialer", "watch", "--once", "--db", str(db), str(tmp_path / "in")]) == 1
    err = capsys.readouterr().err
    assert "no campaign named 'slaes' for this folder's 1 list(s) (known: sales)" in err
    assert "bad.csv:1: no number column" in err and "Traceback" not in err
    assert (tmp_path / "in" / "slaes" / "june.csv").exists()     # left for the operator


def test_a_pass_exits_as_an_import_does(tmp_path: Path, capsys) -> None:
    """``watch --once`` (a cron job's pass) exits by the imports' rule: it exited 0
    whatever the pass met."""
    db = tmp_path / "d.sqlite"
    open_store(db).close()
    root = str(tmp_path / "in")
    (tmp_path / "in").mkdir()
    assert main(["dialer", "watch", "--once", "--db", str(db), root]) == 0   # nothing ready
    _drop(tmp_path / "in" / "sales", "good.csv", GOOD)
    assert main(["dialer", "watch", "--once", "--db", str(db), root]) == 0
    _drop(tmp_path / "in" / "sales", "some-bad.csv", "phone\n13812345670\n1234567\n")
    assert main(["dialer", "watch", "--once", "--db", str(db), root]) == 3
    _drop(tmp_path / "in" / "sales", "no-number.csv", "name,foo\nx,1\n")
    _drop(tmp_path / "in" / "sales", "z-good.csv", "phone\n13812345671\n")
    assert main(["dialer", "watch", "--once", "--db", str(db), root]) == 1
    out = capsys.readouterr().out.splitlines()
    assert [json.loads(line)["added"] for line in out] == [1, 1, 0, 1]
