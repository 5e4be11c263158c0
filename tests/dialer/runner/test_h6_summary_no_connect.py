"""A run that put no call through to an agent says so, not "at most None s".

A live run outside the calling windows dials nothing; its summary read "live answer to
agent: at most None s (line answer to agent, Ofcom's measure: at most None s; ...)".
"""

from __future__ import annotations

from trunkline.dialer.runner.summary import RunSummary


def _summary(**changes: object) -> RunSummary:
    values: dict = dict(campaign="sales", mode="progressive", started=0.0, ended=72.1,
                        agents=2, dials=0, live=0, connects=0, abandoned=0, machines=0,
                        refused=0, outcomes={}, max_after_live=None, max_after_answer=None,
                        max_after_greeting=None, finished=False)
    values.update(changes)
    return RunSummary(**values)


def test_no_connection_is_said_in_words() -> None:
    lines = _summary().lines()
    assert lines[3] == "live answer to agent: no call was put through to an agent"
    assert not any("None" in line for line in lines)
    assert _summary().as_dict()["max_live_to_agent_s"] is None   # JSON unchanged


def test_an_unknown_moment_is_said_unknown() -> None:
    line = _summary(dials=1, live=1, connects=1, max_after_live=0.2,
                    max_after_greeting=0.9).lines()[3]
    assert line == ("live answer to agent: at most 0.2 s (line answer to agent, Ofcom's "
                    "measure: at most unknown; greeting end to agent, the TSR's measure: "
                    "at most 0.9 s)")
