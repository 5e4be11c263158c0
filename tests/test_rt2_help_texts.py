"""Every ``--help`` of every subcommand formats, and shows what the operator should type
(second red-team pass, issue 15).

argparse %-formats an argument's ``help`` but a parser's ``description`` and ``epilog``
only when they hold ``%(prog)``, so a ``%%`` written there is printed as two: ``trunkline
users add --help`` told operators to pipe ``printf '%%s\\n' "$PW"``, which sets the
password to the two characters ``%s`` (refused as too short, so nobody got in), and
``trunkline demo --help`` spoke of a "3 %% abandon target"."""

from __future__ import annotations

import argparse
from collections.abc import Iterator

from trunkline.cli import build_parser


def _parsers(parser: argparse.ArgumentParser, path: tuple[str, ...]
             ) -> Iterator[tuple[tuple[str, ...], argparse.ArgumentParser]]:
    yield path, parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                yield from _parsers(sub, (*path, name))


def test_no_help_text_shows_a_doubled_percent_sign() -> None:
    seen = 0
    for path, parser in _parsers(build_parser(), ("trunkline",)):
        text = parser.format_help()     # also: every help formats without an error
        seen += 1
        bad = [line for line in text.splitlines() if "%%" in line or "%(" in line]
        assert not bad, f"{' '.join(path)} --help: {bad}"
    assert seen > 50      # the walk reached the subcommands' subcommands


def test_users_add_example_pipes_the_password_itself() -> None:
    parsers = dict(_parsers(build_parser(), ("trunkline",)))
    text = parsers[("trunkline", "users", "add")].format_help()
    assert "printf '%s\\n' \"$PW\" | trunkline users add" in text
