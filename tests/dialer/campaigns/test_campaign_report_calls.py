"""`dialer report --by call`: each live answer's two delays to its agent, the measure of
each regime's 2 s rule (issue 15, item 3: "with both delays reported per call"; before,
the per-call figures were stored but every report showed only the worst per campaign)."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

from campaign_testkit import T0, open_store

from trunkline.cli import main


def answered(store, *, line: float, greeting: float | None, bridged: float | None) -> int:
    claim = store.claim_next("sales", T0)
    assert claim is not None
    assert store.mark_dialing(claim.attempt, T0, agent=None)
    store.mark_answered(claim.attempt, "human", line + 2.5, line_answered_at=line,
                        greeting_ended_at=greeting)
    if bridged is not None:
        store.mark_bridged(claim.attempt, "wang", bridged)
    return claim.attempt


def test_each_call_has_its_own_row_with_both_delays(tmp_path: Path, capsys) -> None:
    db = tmp_path / "d.sqlite"
    store = open_store(db, contacts=3)
    first = answered(store, line=T0 + 10, greeting=T0 + 11.2, bridged=T0 + 12.5)
    second = answered(store, line=T0 + 20, greeting=None, bridged=T0 + 21.0)
    abandoned = answered(store, line=T0 + 30, greeting=T0 + 31, bridged=None)
    store.close()
    assert main(["dialer", "report", "--by", "call", "--format", "json",
                 "--db", str(db)]) == 0
    rows = {r["attempt"]: r for r in json.loads(capsys.readouterr().out)}
    assert set(rows) == {first, second, abandoned}
    assert (rows[first]["answer_to_agent_s"], rows[first]["greeting_to_agent_s"]) == (2.5, 1.3)
    assert (rows[second]["answer_to_agent_s"], rows[second]["greeting_to_agent_s"]) == (1.0,
                                                                                        None)
    assert rows[abandoned]["answer_to_agent_s"] is None      # nobody was bridged
    assert main(["dialer", "report", "--by", "call", "--format", "csv",
                 "--db", str(db)]) == 0
    table = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert [r["answer_to_agent_s"] for r in table] == ["2.5", "1.0", ""]
    assert main(["dialer", "report", "--by", "call", "--db", str(db)]) == 0
    header = capsys.readouterr().out.splitlines()[0].split()
    assert {"answer_to_agent_s", "greeting_to_agent_s", "number"} <= set(header)


def test_an_unknown_campaign_is_an_error(tmp_path: Path, capsys) -> None:
    db = tmp_path / "d.sqlite"
    open_store(db).close()
    assert main(["dialer", "report", "--by", "call", "--campaign", "nope",
                 "--db", str(db)]) == 1
    assert "nope" in capsys.readouterr().err
