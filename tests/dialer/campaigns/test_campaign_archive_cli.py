"""``trunkline dialer campaign archive|restore|archived|lists|remove-list``: the admin
area's DELETE routes from a shell, audited as ``cli:<user>``, refused while calls of the
campaign are in flight, the history kept; ``dialer run`` refuses an archived campaign."""

from __future__ import annotations

from pathlib import Path

import pytest
from campaign_testkit import ALWAYS, T0

from trunkline.cli import main
from trunkline.dialer.campaigns.strategies import Strategy
from trunkline.dialer.store import NewContact, Store


def test_archive_restore_and_remove_a_list(tmp_path: Path,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    db = str(tmp_path / "d.sqlite")
    with Store(db) as store:
        store.create_campaign("sales", Strategy(windows=ALWAYS, max_attempts=3), now=T0)
        store.add_list("sales", "june", [NewContact(f"+86138000000{i:02d}", {}, line=i)
                                         for i in range(2, 5)], now=T0)
        june = store.query("SELECT id FROM list")[0][0]
        claim = store.claim_next("sales", T0 + 60)
        assert claim is not None
        store.mark_dialing(claim.attempt, T0 + 60, call_ref="1")
    cli = ["--db", db]
    assert main(["dialer", "campaign", "archive", "sales", *cli]) == 1
    assert "1 call(s) in flight" in capsys.readouterr().err
    assert main(["dialer", "campaign", "remove-list", str(june), *cli]) == 1
    with Store(db) as store:
        store.record_outcome(claim.attempt, "busy", T0 + 70)
    assert main(["dialer", "campaign", "lists", "sales", *cli]) == 0
    assert "june" in capsys.readouterr().out
    assert main(["dialer", "campaign", "remove-list", str(june), *cli]) == 0
    assert "2 contacts never called deleted, 1 called before closed" in \
        capsys.readouterr().out
    assert main(["dialer", "campaign", "lists", "sales", *cli]) == 0
    assert "june" not in capsys.readouterr().out
    assert main(["dialer", "campaign", "archive", "sales", *cli]) == 0
    assert main(["dialer", "campaign", "archive", "sales", *cli]) == 1
    assert "archived already" in capsys.readouterr().err
    assert main(["dialer", "campaign", "archived", *cli]) == 0
    assert capsys.readouterr().out.startswith("sales ")
    assert main(["dialer", "run", "--campaign", "sales", "--virtual", *cli]) != 0
    assert "campaign 'sales' is archived: restore it first" in capsys.readouterr().err
    assert main(["dialer", "campaign", "restore", "sales", *cli]) == 0
    with Store(db) as store:
        assert store.active_campaigns() == ["sales"]
        assert store.query("SELECT COUNT(*) FROM attempt")[0][0] == 1   # history kept
        actions = [e.action for e in store.audit_entries()]   # newest first
        assert actions == ["campaign.restore", "campaign.archive", "list.remove"], actions
        assert all((e.user or "").startswith("cli") for e in store.audit_entries())
