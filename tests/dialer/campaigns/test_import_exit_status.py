"""``dialer import``, ``dnc import`` and ``dnc add`` exit by one rule (issue 15, "what a
careful operator would find in their first week"): 0 all taken, 3 taken with refusals
(even all refused), 1 nothing taken. Before, ``dialer import`` exited 0 when it refused
rows and ``dnc import`` 1: the same outcome read as success from one command and as
failure from the other, by a cron job that reads only the status."""

from __future__ import annotations

from pathlib import Path

import pytest

from trunkline.cli import main
from trunkline.dialer.campaigns import exit_status

GOOD, BAD = "13800138000", "12345"


@pytest.fixture
def db(tmp_path: Path) -> str:
    path = str(tmp_path / "d.sqlite")
    assert main(["dialer", "campaign", "create", "sales", "--db", path]) == 0
    return path


def _file(tmp_path: Path, name: str, *numbers: str) -> str:
    path = tmp_path / name
    path.write_text("number\n" + "".join(f"{n}\n" for n in numbers), encoding="utf-8")
    return str(path)


@pytest.mark.parametrize(("numbers", "status"), [
    ((GOOD,), exit_status.IMPORTED),
    ((GOOD, BAD), exit_status.IMPORTED_WITH_REFUSALS),
    ((BAD,), exit_status.IMPORTED_WITH_REFUSALS),
])
def test_both_imports_exit_alike(tmp_path: Path, db: str, numbers: tuple[str, ...],
                                 status: int) -> None:
    lst = _file(tmp_path, "list.csv", *numbers)
    assert main(["dialer", "import", "--campaign", "sales", lst, "--db", db]) == status
    dnc = _file(tmp_path, "dnc.csv", *numbers)
    assert main(["dialer", "dnc", "import", dnc, "--db", db]) == status
    assert main(["dialer", "dnc", "add", *numbers, "--db", db]) == status


def test_nothing_taken_is_1(tmp_path: Path, db: str, capsys: pytest.CaptureFixture[str]
                            ) -> None:
    missing = str(tmp_path / "missing.csv")
    assert main(["dialer", "import", "--campaign", "sales", missing, "--db", db]) == \
        exit_status.FAILED
    assert main(["dialer", "dnc", "import", missing, "--db", db]) == exit_status.FAILED
    lst = _file(tmp_path, "list.csv", GOOD)
    assert main(["dialer", "import", "--campaign", "nope", lst, "--db", db]) == \
        exit_status.FAILED
    assert main(["dialer", "import", "--campaign", "sales", lst, "--db", db]) == 0
    # the same list again: refused whole, nothing taken
    assert main(["dialer", "import", "--campaign", "sales", lst, "--db", db]) == \
        exit_status.FAILED
    assert "imported into 'sales' already" in capsys.readouterr().err


def test_help_says_the_rule(capsys: pytest.CaptureFixture[str]) -> None:
    for command in (["import"], ["dnc", "import"], ["dnc", "add"]):
        with pytest.raises(SystemExit):
            main(["dialer", *command, "--help"])
        said = " ".join(capsys.readouterr().out.split())
        assert "Exit status: 0 every entry taken; 3 taken, but some refused" in said


def test_dnc_import_reads_every_file_before_adding_any(tmp_path: Path, db: str,
                                                       capsys: pytest.CaptureFixture[str]
                                                       ) -> None:
    good = _file(tmp_path, "a.csv", GOOD)
    missing = str(tmp_path / "b.csv")
    assert main(["dialer", "dnc", "import", good, missing, "--db", db]) == exit_status.FAILED
    assert "b.csv: cannot read the file" in capsys.readouterr().err
    assert main(["dialer", "dnc", "check", GOOD, "--db", db]) == 0   # a.csv not added
