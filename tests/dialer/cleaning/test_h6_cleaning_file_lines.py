"""A misspelt key in a cleaning campaign's ``[cleaning]`` table is refused at its line.

It was refused as ``clean.toml: [cleaning]: unknown settings concurency`` with no line,
where every other key of a campaign file is refused as ``FILE:LINE:`` (docs/campaigns.md).
"""

from __future__ import annotations

from pathlib import Path

from trunkline.cli import main
from trunkline.dialer.store import Store


def test_a_misspelt_cleaning_key_is_refused_at_its_line(tmp_path: Path, capsys) -> None:
    db = tmp_path / "dialer.sqlite"
    spec = tmp_path / "clean.toml"
    spec.write_text('[strategy]\ntime_zone = "Asia/Shanghai"\n'
                    "[cleaning]\nrate = 2\nconcurency = 4\n", encoding="utf-8")
    assert main(["dialer", "clean", "create", "sc", "--strategy", str(spec),
                 "--db", str(db)]) == 1
    err = capsys.readouterr().err
    assert f"{spec}:5: [cleaning]: unknown settings concurency; known: concurrency," in err
    with Store(db) as store:
        assert "sc" not in store.campaigns()


def test_an_option_out_of_range_is_refused_naming_the_option(tmp_path: Path, capsys) -> None:
    db = tmp_path / "dialer.sqlite"
    assert main(["dialer", "clean", "create", "sc", "--rate", "0", "--db", str(db)]) == 1
    assert "error: --rate 0.0: rate must be in [0.01, 100], got 0.0" in capsys.readouterr().err
    assert main(["dialer", "clean", "create", "sc", "--db", str(db)]) == 0
    capsys.readouterr()
    assert main(["dialer", "clean", "run", "--campaign", "sc", "--virtual",
                 "--trunk-per-minute", "0", "--db", str(db)]) == 1
    assert ("error: --trunk-per-minute 0: trunk_per_minute must be a whole number in "
            "[1, 6000], got 0") in capsys.readouterr().err
