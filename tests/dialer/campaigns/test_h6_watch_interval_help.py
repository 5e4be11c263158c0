"""``dialer watch --help`` says what ``--interval`` is (issue 15: it had no help text)."""

from __future__ import annotations

import pytest

from trunkline.cli import main


def test_interval_has_help(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["dialer", "watch", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert "--interval S seconds between passes over ROOT (default 10" in text


def test_interval_must_be_positive(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["dialer", "watch", "root", "--interval", "0"])
    assert "expected a number > 0, got '0'" in capsys.readouterr().err
