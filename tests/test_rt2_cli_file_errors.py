"""A file the user named that cannot be written or read ends any command with one line
naming the file and exit 1, not a traceback (second red-team pass, issue 15).

Before: ``trunkline dialer report --output /no/such/folder/r.csv`` (or ``--output`` onto a
folder) printed a FileNotFoundError / IsADirectoryError traceback."""

from __future__ import annotations

import argparse
import sys

import pytest

from trunkline.cli import main


@pytest.fixture
def db(tmp_path) -> str:
    path = str(tmp_path / "d.sqlite")
    assert main(["dialer", "campaign", "create", "sales", "--db", path]) == 0
    return path


@pytest.mark.parametrize("where", ["missing/r.csv", "."])
def test_report_output_that_cannot_be_written(tmp_path, db, capsys, where) -> None:
    target = tmp_path / where
    capsys.readouterr()
    assert main(["dialer", "report", "--format", "csv", "--output", str(target),
                 "--db", db]) == 1
    err = capsys.readouterr().err
    assert err.startswith(f"trunkline: error: {target}: "), err
    assert "Traceback" not in err and err.count("\n") == 1


def _command_raising(monkeypatch, error: OSError) -> None:
    """``main`` runs a command whose handler raises ``error``."""
    def handler(args: argparse.Namespace) -> int:
        raise error

    parser = argparse.ArgumentParser()
    parser.set_defaults(handler=handler, log_level="warning")
    monkeypatch.setattr("trunkline.cli.build_parser", lambda: parser)


def test_a_broken_pipe_is_still_not_an_error(monkeypatch) -> None:
    """The file-error rule sits beside the BrokenPipeError one and must not take it."""
    _command_raising(monkeypatch, BrokenPipeError(32, "Broken pipe"))
    monkeypatch.setattr(sys, "stderr", open("/dev/null", "w"))  # noqa: SIM115 (main closes it)
    assert main([]) == 0


def test_an_oserror_naming_no_file_keeps_its_traceback(monkeypatch) -> None:
    _command_raising(monkeypatch, ConnectionRefusedError(111, "Connection refused"))
    with pytest.raises(ConnectionRefusedError):
        main([])


def test_import_of_a_folder_says_it_is_a_folder(tmp_path, db, capsys) -> None:
    """It said 'no such file' of a folder that was there."""
    capsys.readouterr()
    assert main(["dialer", "import", "--campaign", "sales", str(tmp_path), "--db", db]) == 1
    assert f"{tmp_path}: is a folder, not a list file" in capsys.readouterr().err


def test_archive_errors_carry_the_prefix_every_command_uses(db, capsys) -> None:
    """'dialer campaign archive nosuch' said 'error: ...', unlike every other command."""
    capsys.readouterr()
    assert main(["dialer", "campaign", "archive", "nosuch", "--db", db]) == 1
    assert capsys.readouterr().err.startswith("trunkline: error: no campaign 'nosuch'")
