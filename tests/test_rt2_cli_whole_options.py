"""Ids and limits typed on the command line fit SQLite's integers, or are refused as a
usage error (second red-team pass, issue 15).

Before: ``recordings search --call 99999999999999999999`` (and ``--limit``, ``recordings
export --call``, ``dialer webhooks redeliver``, ``dialer campaign remove-list``) ended in
``OverflowError: Python int too large to convert to SQLite INTEGER``."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest

from trunkline.cli import main
from trunkline.cli_numbers import SQLITE_MAX, whole

HUGE = str(2**64)


@pytest.mark.parametrize("argv", [
    ["recordings", "--root", "{tmp}", "search", "--call", HUGE],
    ["recordings", "--root", "{tmp}", "search", "--limit", HUGE],
    ["recordings", "--root", "{tmp}", "export", "{tmp}/out", "--call", HUGE],
    ["dialer", "webhooks", "redeliver", HUGE, "--db", "{tmp}/d.sqlite"],
    ["dialer", "webhooks", "deliveries", "--limit", HUGE, "--db", "{tmp}/d.sqlite"],
    ["dialer", "campaign", "remove-list", HUGE, "--db", "{tmp}/d.sqlite"],
])
def test_a_huge_id_is_a_usage_error(tmp_path: Path, capsys, argv: list[str]) -> None:
    with pytest.raises(SystemExit) as caught:
        main([a.replace("{tmp}", str(tmp_path)) for a in argv])
    assert caught.value.code == 2
    err = capsys.readouterr().err
    assert "expected a whole number in [" in err and "Traceback" not in err


def test_whole_bounds() -> None:
    parse = whole(1)
    assert parse(str(SQLITE_MAX)) == SQLITE_MAX and parse("1") == 1
    for text in ("0", str(SQLITE_MAX + 1), "1.5", "x"):
        with pytest.raises(argparse.ArgumentTypeError):
            parse(text)
