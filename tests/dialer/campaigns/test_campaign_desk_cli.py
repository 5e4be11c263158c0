"""The agent desk's configuration from the command line: the collections example of
docs/agent-desk.md creates a campaign with its dispositions and script, the site's pause
codes are loaded and shown, and bad files are refused naming what is wrong."""

from __future__ import annotations

import re
from pathlib import Path

from trunkline.cli import main
from trunkline.dialer.desk.outputs import ContactCard
from trunkline.dialer.desk.script import render
from trunkline.dialer.store import Store

DOC = Path(__file__).resolve().parents[3] / "docs" / "agent-desk.md"


def toml_blocks() -> list[str]:
    return re.findall(r"```toml\n(.*?)```", DOC.read_text(encoding="utf-8"), re.S)


def test_the_collections_example_of_the_docs(tmp_path: Path) -> None:
    pause_file, campaign_file = (tmp_path / "pause.toml", tmp_path / "loans.toml")
    pause_file.write_text(toml_blocks()[0], encoding="utf-8")
    campaign_file.write_text(toml_blocks()[1], encoding="utf-8")
    db = str(tmp_path / "d.sqlite")
    assert main(["dialer", "campaign", "create", "loans", "--strategy", str(campaign_file),
                 "--db", db]) == 0
    store = Store(db)
    desk = store.desk_config("loans")
    assert [d.code for d in desk.dispositions] == ["promise", "refuse", "callback",
                                                   "wrong_party", "wrap_timeout"]
    promise = desk.disposition("promise")
    assert promise.check({"amount": "2,000", "date": "2025-07-15", "reason": "失业"}) == {
        "amount": {"amount": "2000.00", "currency": "CNY"}, "date": "2025-07-15",
        "reason": "失业"}
    card = ContactCard("1", "loans", "+8613800138000", fields={"name": "张三", "debt": "2000"})
    text = render(desk.script, card.values())
    assert "张三先生/女士" in text and "欠款金额2000元" in text and "[agent_id?]" in text
    store.close()
    assert main(["dialer", "pause-codes", "--set", str(pause_file), "--db", db]) == 0
    assert [p.code for p in Store(db).pause_codes()] == ["break", "lunch", "coaching"]


def test_bad_desk_files_are_refused_naming_the_key(tmp_path: Path, capsys) -> None:
    db = str(tmp_path / "d.sqlite")
    bad = tmp_path / "bad.toml"
    bad.write_text('[desk]\n[[desk.disposition]]\ncode = "p"\n'
                   '[[desk.disposition.field]]\nname = "amount"\nkind = "monney"\n',
                   encoding="utf-8")
    assert main(["dialer", "campaign", "create", "loans", "--strategy", str(bad),
                 "--db", db]) != 0
    assert "bad.toml: [desk] disposition 1 ('p') field 1: field 'amount': kind 'monney' " \
        "is not one of text, number, money, date, choice, bool" in capsys.readouterr().err
    assert not Path(db).exists() or Store(db).campaigns() == []
    codes = tmp_path / "codes.toml"
    codes.write_text('[[pause_code]]\ncode = "nap"\nlimit = -5\n', encoding="utf-8")
    assert main(["dialer", "pause-codes", "--set", str(codes), "--db", db]) != 0
    assert "pause_code 1: pause code 'nap': limit must be in" in capsys.readouterr().err
