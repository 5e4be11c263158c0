"""A run's summary: its JSON and its lines, and how both are printed."""

from __future__ import annotations

import json

import pytest

from trunkline.dialer.runner.summary import Connection, RunSummary, print_run


def summary(**changes) -> RunSummary:
    values = dict(campaign="sales", mode="predictive", started=1000.0, ended=4600.04,
                  agents=4, dials=30, live=8, connects=7, abandoned=1, machines=5,
                  refused=2, outcomes={"human": 7, "abandoned": 1, "busy": 4},
                  max_after_live=0.123, max_after_answer=1.987, max_after_greeting=1.5,
                  finished=True)
    values.update(changes)
    return RunSummary(**values)


def test_a_connection_is_timed_from_the_live_answer_and_from_the_line_answer() -> None:
    c = Connection(1, 10, "agent-71", 5, "13800000000", answered_at=100.0, live_at=101.5,
                   bridged_at=101.75)
    assert (c.after_live, c.after_answer) == (0.25, 1.75)
    assert c.after_greeting == 1.75      # the greeting's end unknown: the answer stands in
    greeted = Connection(1, 10, "agent-71", 5, "13800000000", answered_at=100.0,
                         live_at=101.5, bridged_at=101.75, greeting_ended_at=100.8)
    assert greeted.after_greeting == pytest.approx(0.95)
    unanswered = Connection(1, 10, "agent-71", 5, "13800000000", None, 101.5, 101.75)
    assert unanswered.after_answer == 0.25


def test_the_summary_as_json() -> None:
    d = summary().as_dict()
    assert d == {
        "campaign": "sales", "mode": "predictive", "seconds": 3600.0, "agents": 4,
        "dials": 30, "live_answers": 8, "connects": 7, "abandoned": 1,
        "abandon_rate": 0.125, "machines": 5, "refused_dnc": 2,
        "outcomes": {"abandoned": 1, "busy": 4, "human": 7},
        "max_live_to_agent_s": 0.12, "max_answer_to_agent_s": 1.99,
        "max_greeting_to_agent_s": 1.5, "machine_messages_left": 0, "list_finished": True}
    empty = summary(live=0, abandoned=0, max_after_live=None, max_after_answer=None)
    assert empty.abandon_rate == 0.0
    assert empty.as_dict()["max_live_to_agent_s"] is None
    two = {"sales": {"dials": 20, "live": 5, "abandoned": 1, "abandon_rate": 0.2},
           "loans": {"dials": 10, "live": 3, "abandoned": 0, "abandon_rate": 0.0}}
    assert summary(by_campaign=two).as_dict()["campaigns"] == two
    assert "campaigns" not in summary(by_campaign={"sales": two["sales"]}).as_dict()


def test_the_summary_lines() -> None:
    lines = summary(messages_left=3, by_campaign={
        "sales": {"dials": 20, "live": 5, "abandoned": 1, "abandon_rate": 0.2},
        "loans": {"dials": 10, "live": 3, "abandoned": 0, "abandon_rate": 0.0}}).lines()
    assert lines == [
        "campaign sales (predictive): 3600.0 s, 4 agents",
        "dials 30, live answers 8, connects 7, abandoned 1 (abandon rate 12.50 %)",
        "outcomes: abandoned 1, busy 4, human 7; messages left on machines 3",
        "live answer to agent: at most 0.12 s (line answer to agent, Ofcom's measure: "
        "at most 1.99 s; greeting end to agent, the TSR's measure: at most 1.5 s)",
        "list finished",
        "  sales: dials 20, live 5, abandoned 1 (20.00 %)",
        "  loans: dials 10, live 3, abandoned 0 (0.00 %)",
    ]
    assert summary(outcomes={}, finished=False).lines()[2:5:2] == [
        "outcomes: none", "list not finished"]


@pytest.mark.parametrize("as_json", [False, True])
def test_print_run_prints_the_summary_then_at_most_ten_problems(capsys, as_json) -> None:
    problems = [f"cannot hang up call {i}" for i in range(12)]
    assert print_run(summary(), problems, as_json) == 0
    out, err = capsys.readouterr()
    if as_json:
        assert json.loads(out) == summary().as_dict()
    else:
        assert out.splitlines() == summary().lines()
    assert err.splitlines() == [f"trunkline: warning: {p}" for p in problems[:10]]
