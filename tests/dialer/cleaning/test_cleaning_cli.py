"""``trunkline dialer clean create|run|report|apply`` through the real entry point."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from cleaning_kit import e164, numbers, write_list

from trunkline.cli import main
from trunkline.dialer.store import Store

RANGES = (("1381", 1, "live"), ("137", 1, "live"), ("134", 1, "powered_off"),
          ("133", 1, "unreachable"), ("130", 2, "invalid"))
START = "2025-06-04T10:00+08:00"


@pytest.fixture
def db(tmp_path: Path) -> Path:
    """A database with campaign 'sales' (imported from CSV) and cleaning campaign 'sc'."""
    path = tmp_path / "dialer.sqlite"
    assert main(["dialer", "campaign", "create", "sales", "--db", str(path)]) == 0
    assert main(["dialer", "import", "--campaign", "sales", str(write_list(tmp_path, RANGES)),
                 "--db", str(path)]) == 0
    assert main(["dialer", "clean", "create", "sc", "--from-campaign", "sales",
                 "--retries", "0", "--rate", "4", "--db", str(path)]) == 0
    return path


def run(db: Path, *args: str) -> int:
    return main(["dialer", "clean", *args, "--db", str(db)])


def test_create_run_report_apply(db: Path, tmp_path: Path, capsys) -> None:
    capsys.readouterr()
    assert run(db, "run", "--campaign", "sc", "--virtual", "--start", START, "--group", "pri",
               "--json") == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["list_finished"] and summary["dials"] == 6
    assert summary["classes"] == {"invalid": 2, "barred": 0, "powered_off": 1,
                                  "unreachable": 1, "unknown": 0, "live": 2}
    assert summary["answered_before_release"] == 0

    assert run(db, "report", "--campaign", "sc", "--format", "json") == 0
    counts = json.loads(capsys.readouterr().out)
    assert counts["contacts"] == counts["classified"] == 6
    assert counts["classes"]["invalid"] == 2

    out = tmp_path / "bad.csv"
    assert run(db, "report", "--campaign", "sc", "--numbers", "--class",
               "invalid,powered_off", "--format", "csv", "--output", str(out)) == 0
    rows = list(csv.DictReader(io.StringIO(out.read_text(encoding="utf-8-sig"))))
    expected = {e164(n): cls for n, cls in numbers(RANGES)
                if cls in ("invalid", "powered_off")}
    # E.164 numbers are marked as text for spreadsheets (trunkline.csvsafe): a leading
    # '+' would otherwise be taken for a formula and the number lose its '+'.
    assert all(r["number"].startswith("'+") for r in rows)
    assert {r["number"][1:]: r["class"] for r in rows} == expected
    # over PRI the SIT comes first, then the announcement that decides
    assert {r["evidence"] for r in rows} == {"SIT (ITU), announcement invalid_number",
                                            "announcement powered_off"}
    assert all(r["name"] and r["last_called"].startswith("2025-06-04T10:00") for r in rows)

    assert run(db, "report", "--campaign", "sc", "--numbers") == 0
    table = capsys.readouterr().out
    assert "announcement unreachable" in table and "cause 17 (User busy)" in table

    assert run(db, "apply", "--campaign", "sc", "--to", "sales", "--dry-run") == 0
    assert "would remove 2 numbers (invalid 2, barred 0)" in capsys.readouterr().out
    with Store(db) as store:
        assert store.query("SELECT COUNT(*) FROM dnc")[0][0] == 0
    assert run(db, "apply", "--campaign", "sc", "--to", "sales", "--json") == 0
    result = json.loads(capsys.readouterr().out)
    assert result["removed"] == {"invalid": 2, "barred": 0}
    assert result["dnc_added"] == result["contacts_blocked"] == 2
    with Store(db) as store:
        states = dict(store.query("SELECT number, state FROM contact c JOIN campaign k ON "
                                  "k.id=c.campaign_id WHERE k.name='sales'"))
    assert {n for n, s in states.items() if s == "dnc"} == \
        {n for n, c in expected.items() if c == "invalid"}


def test_dialer_run_refuses_a_cleaning_campaign(db: Path, capsys) -> None:
    capsys.readouterr()
    assert main(["dialer", "run", "--campaign", "sc", "--virtual", "--db", str(db)]) == 1
    err = capsys.readouterr().err
    assert "trunkline: error: campaign 'sc' is a list-cleaning campaign" in err
    assert "trunkline dialer clean run --campaign sc" in err


@pytest.mark.parametrize(("args", "message"), [
    (["run", "--campaign", "nope", "--virtual"], "no campaign 'nope' (known: sales, sc)"),
    (["run", "--campaign", "sales", "--virtual"],
     "campaign 'sales' is not a list-cleaning campaign"),
    (["run", "--campaign", "sc", "--start", START], "--network and --start go with --virtual"),
    (["run", "--campaign", "sc", "--virtual", "--rate", "0"],
     "rate must be in [0.01, 100], got 0.0"),
    (["run", "--campaign", "sc", "--virtual", "--group", "nope"],
     "the gateway has no channel group 'nope'"),
    (["apply", "--campaign", "sc", "--to", "sales", "--remove", "invalid,bogus"],
     "unknown class 'bogus'; removable classes: invalid, barred, powered_off, unreachable, "
     "unknown"),
    (["apply", "--campaign", "sc", "--to", "sales", "--remove", "live"],
     "'live' numbers cannot be removed"),
    (["apply", "--campaign", "sales", "--to", "sc"],
     "campaign 'sales' is not a list-cleaning campaign"),
    (["apply", "--campaign", "sc", "--to", "nope"], "no campaign 'nope'"),
    (["apply", "--campaign", "sc", "--to", "sc"], "not the cleaning campaign 'sc' itself"),
    (["create", "sales", "--from-campaign", "sc"],
     "campaign 'sales' already exists and is not a list-cleaning campaign"),
    (["create", "x", "--from-campaign", "nope"], "no campaign 'nope'"),
    (["create", "x", "--retries", "11"], "retries must be a whole number in [0, 10], got 11"),
    (["report", "--campaign", "sc", "--numbers", "--class", "nice"], "unknown class 'nice'"),
    (["report", "--campaign", "sales"], "campaign 'sales' is not a list-cleaning campaign"),
])
def test_bad_input_gets_a_clear_error(db: Path, capsys, args: list[str], message: str) -> None:
    capsys.readouterr()
    assert run(db, *args) == 1
    err = capsys.readouterr().err
    assert err.startswith("trunkline: error: ")
    assert message in err


def test_create_takes_settings_from_a_strategy_file(tmp_path: Path, db: Path, capsys) -> None:
    spec = tmp_path / "clean.toml"
    spec.write_text('[strategy]\ntime_zone = "Asia/Shanghai"\n'
                    '[strategy.windows]\ndefault = ["10:00-20:00"]\n'
                    '[cleaning]\nrate = 2.5\nretries = 1\n', encoding="utf-8")
    assert run(db, "create", "sc2", "--from-campaign", "sales", "--strategy", str(spec),
               "--concurrency", "4") == 0
    assert "6 contacts copied from 'sales'" in capsys.readouterr().out
    with Store(db) as store:
        config = store.campaign_config("sc2")
        assert config == {"type": "cleaning", "cleaning": {
            "concurrency": 4, "rate": 2.5, "retries": 1, "retry_after": 600.0,
            "listen": 30.0, "sit_wait": 8.0, "trunk_per_minute": 60, "trunk_min_gap": 0.0}}
        assert store.strategy("sc2").to_dict()["windows"]["wed"] == ["10:00-20:00"]
    spec.write_text("[cleaning]\nspeed = 3\n", encoding="utf-8")
    assert run(db, "create", "sc3", "--strategy", str(spec)) == 1
    assert "unknown settings speed" in capsys.readouterr().err


def test_help_says_the_default_classes_and_why(capsys) -> None:
    with pytest.raises(SystemExit):
        main(["dialer", "clean", "apply", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert "Default classes: invalid,barred" in text
    assert "powered_off and unreachable are usually temporary" in text
