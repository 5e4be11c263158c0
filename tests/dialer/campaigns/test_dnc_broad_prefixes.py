"""A DNC prefix broader than a country code and three digits needs confirming (issue 15,
"what a careful operator would find in their first week"): ``+8*`` typed for ``+86400*``
barred every number beginning 8 (China, Vietnam, Japan, Korea...) without a word.

Refused in every way in (argument, file line, API, the store itself), naming the entry
and what it would bar; accepted with ``--allow-broad-prefix`` / ``allow_broad_prefix``;
entries stored before the rule stay, are marked ``broad`` by ``dnc list`` and can be
removed without confirming."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from campaign_testkit import T0, mobile, open_store
from hypothesis import given
from hypothesis import strategies as st

from trunkline.cli import main
from trunkline.dialer.campaigns.dnc import import_dnc, parse_entries
from trunkline.dialer.campaigns.dnc_prefixes import (
    MIN_NATIONAL_DIGITS,
    BroadPrefixError,
    broad_prefix_reason,
)
from trunkline.dialer.campaigns.numbers import country_code


@pytest.mark.parametrize(("entry", "bars"), [
    ("+*", "every number;"),
    ("+8*", "every country code beginning 8"),
    ("+88*", "every country code beginning 88"),
    ("+86*", "every number of country code +86"),
    ("+861*", "every number of +86 beginning 1"),
    ("+8613*", "every number of +86 beginning 13"),
    ("+1*", "country code +1"),
    ("+180*", "+1 beginning 80"),
    ("+852*", "country code +852"),
])
def test_broad_prefixes_are_named_with_what_they_would_bar(entry: str, bars: str) -> None:
    reason = broad_prefix_reason(entry)
    assert reason is not None and repr(entry) in reason and bars in reason
    assert "--allow-broad-prefix" in reason


@pytest.mark.parametrize("entry", ["+86138*", "+86400*", "+1800*", "+44870*", "+852123*",
                                   "+8613800138000"])
def test_ranges_and_numbers_are_not_broad(entry: str) -> None:
    assert broad_prefix_reason(entry) is None


@given(st.text("0123456789", max_size=12))
def test_broad_exactly_when_fewer_than_three_digits_follow_the_country_code(
        digits: str) -> None:
    code = country_code(digits)
    broad = code is None or len(digits) - len(code) < MIN_NATIONAL_DIGITS
    assert (broad_prefix_reason(f"+{digits}*") is not None) == broad


def test_the_store_refuses_a_broad_prefix_unconfirmed_and_adds_nothing() -> None:
    store = open_store(contacts=2)
    with pytest.raises(BroadPrefixError, match=r"'\+86\*' would bar every number"):
        store.add_dnc([mobile(0), "+86*"], now=T0)
    assert store.query("SELECT COUNT(*) FROM dnc")[0][0] == 0
    assert store.add_dnc(["+86*"], now=T0, allow_broad=True) == 1
    assert store.dnc_hit(mobile(1), "sales") == "dnc"


def test_a_file_line_is_refused_with_its_line_and_the_rest_added(tmp_path: Path) -> None:
    store = open_store()
    path = tmp_path / "dnc.csv"
    path.write_text("number,name\n13800138000,a\n+8*,typo for +86400*\n+86400*,service\n")
    result = import_dnc(store, path, now=T0)
    assert (result.added, [r.line for r in result.errors]) == (2, [3])
    assert "'+8*' would bar every number of every country code beginning 8" in \
        result.errors[0][1]
    again = import_dnc(store, path, now=T0, allow_broad=True)
    assert (again.added, again.already, again.errors) == (1, 2, [])


def test_cli_add_import_list_and_remove(tmp_path: Path, capsys) -> None:
    db = str(tmp_path / "d.sqlite")
    assert main(["dialer", "campaign", "create", "sales", "--db", db]) == 0
    capsys.readouterr()
    assert main(["dialer", "dnc", "add", "+86*", "13800138000", "--db", db]) == 3
    out = capsys.readouterr()
    assert "argument 1: prefix '+86*' would bar every number of country code +86" in out.err
    assert "1 added" in out.out
    path = tmp_path / "national.csv"
    path.write_text("+861*\n")
    assert main(["dialer", "dnc", "import", str(path), "--db", db]) == 3
    err = capsys.readouterr().err
    assert f"{path}:1: field 1 (number): prefix '+861*' would bar every number of +86 " \
           "beginning 1" in err
    assert main(["dialer", "dnc", "add", "+86*", "--allow-broad-prefix", "--db", db]) == 0
    capsys.readouterr()
    assert main(["dialer", "dnc", "list", "--prefixes", "--db", db]) == 0
    out = capsys.readouterr()
    assert "+86*" in out.out and "prefix, BROAD" in out.out and "13800138000" not in out.out
    assert "1 broad prefix(es)" in out.err
    assert main(["dialer", "dnc", "list", "--json", "--campaign", "sales", "--db", db]) == 0
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [(r["entry"], r["broad"]) for r in rows] == [("+86*", True),
                                                         ("+8613800138000", False)]
    assert main(["dialer", "dnc", "remove", "+86*", "--db", db]) == 0  # never refused
    assert "1 removed" in capsys.readouterr().out


def test_parse_entries_refuses_only_when_asked() -> None:
    assert parse_entries(["+8*"], allow_broad=True) == (["+8*"], [])
    entries, errors = parse_entries(["+8*"], confirm="allow_broad_prefix: true")
    assert entries == [] and "allow_broad_prefix: true lists it on purpose" in errors[0][1]
