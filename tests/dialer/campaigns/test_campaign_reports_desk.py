"""Reports of the agent desk's records: time per state and pause reason (clipped to the
period), paused hours on agent rows, and dispositions per campaign and code."""

from __future__ import annotations

import csv
import io
from pathlib import Path

from trunkline.cli import main
from trunkline.dialer.campaigns import reports
from trunkline.dialer.store import NewContact, Store

T0 = 1_749_000_000.0


def make(tmp_path: Path) -> Store:
    store = Store(tmp_path / "r.sqlite")
    store.create_campaign("loans", now=T0)
    store.add_list("loans", "l", [NewContact("+8613800138000", {})], now=T0)
    store.open_agent_session("a1", ["loans"], T0)
    for state, reason, start, end in [("paused", "login", 0, 60), ("ready", "", 60, 100),
                                      ("talking", "", 100, 400), ("wrap_up", "", 400, 430),
                                      ("paused", "lunch", 430, 2230),
                                      ("paused", "break", 2230, 2530)]:
        store.log_agent_state("a1", state, reason, T0 + start, T0 + end)
    store.log_agent_state("a2", "paused", "lunch", T0, T0 + 600)
    contact = store.query("SELECT id FROM contact")[0][0]
    for i, (code, auto) in enumerate([("promise", False), ("promise", False),
                                      ("wrap_timeout", True)]):
        store.record_disposition(campaign="loans", contact=contact, agent=f"a{1 + i % 2}",
                                 code=code, fields={}, notes="", at=T0 + 500 + i,
                                 automatic=auto)
    return store


def test_time_per_state_and_pause_reason(tmp_path: Path) -> None:
    store = make(tmp_path)
    rows = reports.report(store, by="state", since=T0 + 30, until=T0 + 2330)
    got = {(r["agent"], r["state"], r["reason"]): r["seconds"] for r in rows}
    assert got == {("a1", "paused", "login"): 30.0, ("a1", "ready", ""): 40.0,
                   ("a1", "talking", ""): 300.0, ("a1", "wrap_up", ""): 30.0,
                   ("a1", "paused", "lunch"): 1800.0, ("a1", "paused", "break"): 100.0,
                   ("a2", "paused", "lunch"): 570.0}
    lunch = next(r for r in rows if r["agent"] == "a1" and r["reason"] == "lunch")
    assert lunch["share"] == round(1800 / 2300, 4) and lunch["stretches"] == 1
    agents = reports.report(store, by="agent", now=T0 + 2530)
    a1 = next(r for r in agents if r.get("agent") == "a1")
    assert a1["paused_h"] == round((60 + 1800 + 300) / 3600, 3)


def test_dispositions_per_code(tmp_path: Path) -> None:
    store = make(tmp_path)
    rows = reports.report(store, by="disposition", campaign="loans")
    assert rows == [
        {"campaign": "loans", "code": "promise", "count": 2, "automatic": 0, "agents": 2},
        {"campaign": "loans", "code": "wrap_timeout", "count": 1, "automatic": 1,
         "agents": 1}]
    assert reports.report(store, by="disposition", since=T0 + 502) == [rows[1]]


def test_report_by_state_from_the_command_line(tmp_path: Path, capsys) -> None:
    make(tmp_path).close()
    assert main(["dialer", "report", "--db", str(tmp_path / "r.sqlite"), "--by", "state",
                 "--format", "csv"]) == 0
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert {(r["agent"], r["reason"]) for r in rows if r["state"] == "paused"} == {
        ("a1", "login"), ("a1", "lunch"), ("a1", "break"), ("a2", "lunch")}
