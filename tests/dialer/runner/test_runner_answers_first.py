"""A step's events: the answered calls' (and the agents' legs') first, each call's own
events in their order (dialer/runner/base.py, answers_first)."""

from __future__ import annotations

from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from trunkline.dialer.runner.base import answers_first

EVENTS = st.lists(st.fixed_dictionaries({
    "call": st.one_of(st.none(), st.integers(1, 6)),
    "event": st.sampled_from(["call.state", "amd", "dtmf", "sms.status"]),
    "state": st.sampled_from(["ringing", "answered", "hungup"]),
    "n": st.integers()}), max_size=30)


def _first_calls(events: list[dict[str, Any]], urgent: set[int]) -> set[Any]:
    return {e["call"] for e in events if e["call"] is not None and (
        e["event"] == "amd" or (e["event"] == "call.state" and e["state"] == "answered")
        or e["call"] in urgent)}


@given(EVENTS, st.sets(st.integers(1, 6), max_size=2))
def test_answered_calls_go_first_and_each_call_keeps_its_order(
        events: list[dict[str, Any]], urgent: set[int]) -> None:
    got = answers_first(events, urgent)
    assert sorted(map(id, got)) == sorted(map(id, events))   # the same events
    first = _first_calls(events, urgent)
    k = sum(1 for e in events if e["call"] in first)
    assert all(e["call"] in first for e in got[:k])
    for call in {e["call"] for e in events}:   # a call's own events keep their order
        assert [e["n"] for e in got if e["call"] == call] \
            == [e["n"] for e in events if e["call"] == call]
    rest = [e for e in events if e["call"] not in first]
    assert got[k:] == rest


def test_an_answer_behind_hang_ups_comes_first() -> None:
    events = [{"event": "call.state", "call": 1, "state": "hungup"},
              {"event": "call.state", "call": 2, "state": "hungup"},
              {"event": "amd", "call": 3, "result": "human"}]
    assert [e["call"] for e in answers_first(events)] == [3, 1, 2]
    assert answers_first(events[:2]) == events[:2]
