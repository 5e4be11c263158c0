"""``dialer campaign create`` refuses an unknown [campaign] key with one message naming
the file, the key's own line, the key and what is expected (issue 15). It said
``c.toml:2: [campaign] mode: [campaign]: unknown settings foo`` (the table twice, the
line of whichever known key the list of known ones happened to mention)."""

from __future__ import annotations

from pathlib import Path

import pytest

from trunkline.cli import main


def _create(tmp_path: Path, text: str,
            capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    spec = tmp_path / "c.toml"
    spec.write_text(text, encoding="utf-8")
    code = main(["dialer", "campaign", "create", "c", "--strategy", str(spec),
                 "--db", str(tmp_path / "d.sqlite")])
    out, err = capsys.readouterr()
    return code, out, err


def test_an_unknown_key_is_named_once_at_its_own_line(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = _create(tmp_path, '[campaign]\nmode = "predictive"\nratioo = 2\nfoo = 1\n',
                        capsys)
    assert code == 1
    assert (f"{tmp_path / 'c.toml'}:3: [campaign] ratioo: unknown setting (also unknown: "
            "foo); did you mean ratio? expected one of abandon_after, ") in err
    assert err.count("[campaign]") == 1 and "mode" not in err.split("expected")[0]
    assert "saved" not in out


def test_known_keys_still_save(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    spec = tmp_path / "c.toml"
    spec.write_text('[campaign]\nmode = "predictive"\nratio = 2\n', encoding="utf-8")
    assert main(["dialer", "campaign", "create", "c", "--strategy", str(spec),
                 "--db", str(tmp_path / "d.sqlite")]) == 0
    assert "campaign 'c' saved" in capsys.readouterr().out
