"""No option of any subcommand takes NaN, an infinity or a negative number for a time,
a rate or a speed (second red-team pass, issue 15).

Before: ``dialer tokens add --days nan`` made a token that never expires (SQLite stores
NaN as NULL; ``--days 0`` did the same); ``dialer watch --interval nan`` or ``-1`` ended
in a traceback from time.sleep. Options take ``trunkline.cli_numbers`` types; those left
with ``float`` are range-checked by their command against dialer/campaigns/bounds.py,
and are listed here with the check that proves it."""

from __future__ import annotations

import argparse
import math
from pathlib import Path

import pytest

from trunkline.cli import build_parser, main
from trunkline.cli_numbers import non_negative, positive
from trunkline.dialer.errors import StoreError
from trunkline.dialer.store import Store

#: float options their command range-checks itself (tests/dialer/service/
#: test_bounds_every_entry.py, and the cleaning settings' own tests)
CHECKED_BY_THE_COMMAND = {
    ("dialer", "run"): {"--hours", "--ratio", "--wrap-up", "--progress-every"},
    ("dialer", "serve"): {"--wrap-up", "--drain", "--idle-timeout"},
    ("dialer", "clean", "create"): {"--rate", "--trunk-min-gap", "--retry-after",
                                    "--listen"},
    ("dialer", "clean", "run"): {"--hours", "--progress-every", "--rate",
                                 "--trunk-min-gap", "--retry-after", "--listen"},
}


def _options() -> list[tuple[tuple[str, ...], argparse.Action]]:
    found: list[tuple[tuple[str, ...], argparse.Action]] = []

    def walk(parser: argparse.ArgumentParser, path: tuple[str, ...]) -> None:
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction):
                for name, sub in action.choices.items():
                    walk(sub, (*path, name))
            elif action.type is not None:
                found.append((path, action))

    walk(build_parser(), ())
    return found


def test_no_option_takes_a_bare_float_unless_its_command_checks_it() -> None:
    options = _options()
    bare = {(path, action.option_strings[0]) for path, action in options
            if action.type is float}
    allowed = {(path, option) for path, names in CHECKED_BY_THE_COMMAND.items()
               for option in names}
    assert bare - allowed == set()
    assert sum(action.type in (positive, non_negative) for _, action in options) > 15


@pytest.mark.parametrize("text", ["nan", "inf", "-inf", "-1", "1e999", "abc"])
def test_the_types_refuse(text: str) -> None:
    for kind in (positive, non_negative):
        with pytest.raises(argparse.ArgumentTypeError):
            kind(text)
    with pytest.raises(argparse.ArgumentTypeError):
        positive("0")
    assert non_negative("0") == 0.0 and positive("0.5") == 0.5


def test_a_token_asked_to_expire_always_does(tmp_path: Path, capsys) -> None:
    db = str(tmp_path / "d.sqlite")
    with Store(db) as store:
        store.add_user("adm", "admin", "not-a-real-hash", now=0.0)
    for days in ("nan", "0"):
        with pytest.raises(SystemExit):
            main(["dialer", "tokens", "add", "t", "--user", "adm", "--role", "admin",
                  "--days", days, "--db", db])
        assert "argument --days: expected a" in capsys.readouterr().err
    with Store(db) as store:
        for expires in (math.nan, math.inf):
            with pytest.raises(StoreError, match="finite"):
                store.create_token("t", user="adm", role="admin", now=1.0,
                                   expires_at=expires)
        assert store.query("SELECT COUNT(*) FROM api_token")[0][0] == 0


def test_watch_interval_nan_is_a_usage_error(tmp_path: Path, capsys) -> None:
    with pytest.raises(SystemExit) as caught:
        main(["dialer", "watch", str(tmp_path), "--interval", "nan"])
    assert caught.value.code == 2
    assert "argument --interval: expected a finite number" in capsys.readouterr().err
