"""``dnc check`` answers for whole numbers of a campaign that exists (issue 15, "what a
careful operator would find in their first week").

Before: ``dnc check N --campaign typo`` checked the global list only and said
"allowed" (exit 0), ``dnc remove N --campaign typo`` said "0 removed"; ``dnc check
'+86*'`` took the prefix for a number no entry can match and said "allowed" though
``+86400*`` bars part of it; ``dnc check ""`` checked nothing and exited 0. Each is now
refused, naming what is wrong, in the CLI, the API and the store."""

from __future__ import annotations

from pathlib import Path

import pytest
from campaign_testkit import T0, mobile, open_store
from hypothesis import given
from hypothesis import strategies as st

from trunkline.cli import main
from trunkline.dialer.campaigns.dnc import parse_numbers
from trunkline.dialer.errors import StoreError


@pytest.fixture
def db(tmp_path: Path) -> str:
    path = str(tmp_path / "d.sqlite")
    assert main(["dialer", "campaign", "create", "sales", "--db", path]) == 0
    assert main(["dialer", "dnc", "add", "+86138*", "--campaign", "sales", "--db", path]) == 0
    return path


@pytest.mark.parametrize("action", [["check", "13800138000"], ["remove", "+86138*"],
                                    ["add", "13800138000"], ["list"]])
def test_an_unknown_campaign_is_named_and_nothing_is_checked(
        db: str, capsys: pytest.CaptureFixture[str], action: list[str]) -> None:
    capsys.readouterr()
    # 1 is "barred" for a check: a check that could not be made is 2, "no answer"
    status = 2 if action[0] == "check" else 1
    assert main(["dialer", "dnc", *action, "--campaign", "slaes", "--db", db]) == status
    out = capsys.readouterr()
    assert "no campaign 'slaes' (known: sales)" in out.err
    assert out.out == ""                       # no "allowed", no "0 removed"
    # the same number in the campaign that exists: barred by its own list
    assert main(["dialer", "dnc", "check", "13800138000", "--campaign", "sales",
                 "--db", db]) == 1


@pytest.mark.parametrize(("argument", "said"), [
    ("+86*", "'+86*' is a prefix, not a number: a check takes whole numbers (the "
             "prefix entries: trunkline dialer dnc list --prefixes)"),
    ("+86400*", "'+86400*' is a prefix, not a number"),
    ("", "'' holds no number"),
    ("# later", "'# later' holds no number (empty, or only a # comment)"),
    ("123", "a Chinese mobile number has 11 digits, got 3"),
])
def test_a_check_of_what_is_no_number_is_a_usage_error(
        db: str, capsys: pytest.CaptureFixture[str], argument: str, said: str) -> None:
    capsys.readouterr()
    assert main(["dialer", "dnc", "check", "13900139000", argument,
                 "--campaign", "sales", "--db", db]) == 2
    out = capsys.readouterr()
    assert f"argument 2: {said}" in out.err
    assert out.out == "+8613900139000: allowed\n"   # the good one still answered


@given(st.lists(st.text(max_size=14), max_size=6))
def test_every_argument_is_a_number_or_refused_on_its_own_line(lines: list[str]) -> None:
    numbers, errors = parse_numbers(lines)
    assert len(numbers) + len(errors) == len(lines)
    assert all(n.startswith("+") and n[1:].isdigit() for n in numbers)
    assert [r.line for r in errors] == sorted({r.line for r in errors})


def test_the_store_refuses_an_unknown_campaign_and_a_prefix() -> None:
    store = open_store(contacts=1)
    store.add_dnc([mobile(0)], now=T0, campaign="sales")
    assert store.dnc_hit(mobile(0), "sales") == "dnc"
    assert store.dnc_hit(mobile(0), "") is None
    with pytest.raises(StoreError, match="no campaign 'slaes'"):
        store.dnc_hit(mobile(0), "slaes")
    with pytest.raises(StoreError, match="no campaign 'slaes'"):
        store.remove_dnc([mobile(0)], campaign="slaes")
    for text in ("+86*", ""):
        with pytest.raises(ValueError, match="takes a whole number"):
            store.dnc_hit(text, "sales")


def test_a_check_that_cannot_be_made_is_no_answer(tmp_path: Path,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    folder = str(tmp_path)    # a folder given as the database
    assert main(["dialer", "dnc", "check", "13800138000", "--db", folder]) == 2
    assert "is a folder, not a campaign database file" in capsys.readouterr().err
