"""``trunkline dialer campaign|import|dnc|report`` end to end on a temporary database."""

from __future__ import annotations

import json

from trunkline.cli import main


def test_import_dnc_and_report_from_the_command_line(tmp_path, capsys) -> None:
    db = str(tmp_path / "d.sqlite")
    strategy = tmp_path / "s.toml"
    strategy.write_text('[strategy]\nmax_attempts = 3\n[strategy.windows]\n'
                        'default = ["09:00-21:00"]\nholidays = ["2025-10-01"]\n')
    assert main(["dialer", "campaign", "create", "sales", "--strategy", str(strategy),
                 "--db", db]) == 0
    csv_file = tmp_path / "l.csv"
    csv_file.write_bytes("姓名,电话\n甲,13800138000\n乙,999\n".encode("gbk"))
    capsys.readouterr()
    assert main(["dialer", "import", "--campaign", "sales", str(csv_file), "--json",
                 "--db", db]) == 3        # imported, a row refused
    summary = json.loads(capsys.readouterr().out)
    assert (summary["added"], summary["rejected"]) == (1, 1)
    assert summary["errors"][0]["line"] == 3
    assert main(["dialer", "dnc", "add", "13800138000", "--db", db]) == 0
    assert main(["dialer", "dnc", "check", "+8613800138000", "--db", db]) == 1
    capsys.readouterr()
    assert main(["dialer", "report", "--format", "json", "--db", db]) == 0
    assert json.loads(capsys.readouterr().out) == []


def test_bad_strategy_file_is_a_config_error(tmp_path, capsys) -> None:
    strategy = tmp_path / "s.toml"
    strategy.write_text("[strategy]\ncolour = 1\n")
    assert main(["dialer", "campaign", "create", "x", "--strategy", str(strategy),
                 "--db", str(tmp_path / "d.sqlite")]) == 1
    assert "unknown strategy keys: colour" in capsys.readouterr().err
