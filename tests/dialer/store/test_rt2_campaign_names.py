"""What a new campaign may be called, checked where every way in meets: the store, the
CLI and the admin API (second red-team pass, issue 15).

Before: ``PUT /api/admin/campaigns/%00`` made a campaign whose name showed as nothing;
``dialer campaign create $'a\\nb'`` was saved and broke the CLI's tables; ``a/b`` could
be made on the command line but never reached through the API's paths."""

from __future__ import annotations

import unicodedata
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from trunkline.cli import main
from trunkline.dialer.errors import StoreError
from trunkline.dialer.store import Store
from trunkline.dialer.store.names import check_campaign_name

BAD = ["", "   ", " sales", "sales ", "a\nb", "a\x00b", "\x7f", "a\u200bb", "a\u202eb",
       "a/b", "a\\b", ".", "..", "x" * 201]
GOOD = ["sales", "销售 一部", "催收-2026.06", "Sales (June) #2", "x" * 200, "a.b_c@d"]


@pytest.mark.parametrize("name", BAD)
def test_a_bad_new_name_is_refused_and_nothing_stored(name: str) -> None:
    store = Store(":memory:")
    with pytest.raises(StoreError):
        store.create_campaign(name)
    assert store.campaigns() == []


@pytest.mark.parametrize("name", GOOD)
def test_a_good_name_is_taken(name: str) -> None:
    store = Store(":memory:")
    store.create_campaign(name)
    assert store.campaigns() == [name]


@given(st.text(max_size=40))
def test_every_accepted_name_is_one_printable_line(name: str) -> None:
    try:
        check_campaign_name(name)
    except StoreError:
        return
    assert name == name.strip() and 0 < len(name) <= 200
    assert not any(unicodedata.category(c) in ("Cc", "Cf", "Zl", "Zp") for c in name)
    assert "/" not in name and name not in (".", "..")


def test_a_campaign_stored_before_the_rule_is_still_updated() -> None:
    """Only new names are checked: a campaign made before keeps working."""
    store = Store(":memory:")
    with store.transaction() as db:
        db.execute("INSERT INTO campaign (name, strategy, config, created_at) "
                   "VALUES ('old/one', '{}', '{}', 0)")
    store.create_campaign("old/one", config={"mode": "progressive"})
    assert store.campaign_config("old/one") == {"mode": "progressive"}


def test_the_cli_names_the_character(tmp_path: Path, capsys) -> None:
    db = str(tmp_path / "d.sqlite")
    assert main(["dialer", "campaign", "create", "a\nb", "--db", db]) == 1
    assert "U+000A" in capsys.readouterr().err
    assert main(["dialer", "campaign", "create", "销售 一部", "--db", db]) == 0
