"""The 2 s abandon limit on the emulated card, counted from the moment each regime names
(issue 15, item 3): Ofcom from the answer, the TSR from the end of the greeting.

Both delays are measured on every bridged call, stored with the attempt and printed in
the run's summary. Virtual time; a handful of numbers.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from runner_kit import WatchedGateway, make_store

from trunkline.dialer.campaigns import reports
from trunkline.dialer.pacing.engine import quiet_logger
from trunkline.dialer.runner.campaign_runner import CampaignRunner

RANGES = (("1381", 3, "human"),)
TICK = 0.05  # the runner's and the card's granularity in these runs, with margin


def run(tmp_path: Path, regime: str) -> tuple[CampaignRunner, object, object]:
    store = make_store(tmp_path, ranges=RANGES, config={
        "mode": "progressive", "regime": regime, "ring_timeout": 20.0})
    gateway = WatchedGateway(tmp_path / "dialer.sqlite")
    runner = CampaignRunner(store, "sales", gateway, agents=[71, 72, 73], group="pri",
                            engine_log=quiet_logger())
    try:
        summary = runner.run(seconds=900)
    finally:
        gateway.close()
    assert summary.finished and gateway.watch.dial_violations == []
    return runner, summary, store


def test_uk_connects_within_two_seconds_of_the_answer(tmp_path: Path) -> None:
    runner, summary, store = run(tmp_path, "uk")
    assert summary.connects + summary.abandoned == summary.live >= 3
    assert runner.connections
    for c in runner.connections:
        # answer detection is cut at the limit: the caller hears the agent in 2 s
        assert c.answered_at is not None
        assert c.after_answer <= 2.0 + TICK, c
    for _, start, abandoned_at in runner.abandons:
        assert start is not None and abandoned_at - start <= 2.0 + TICK
    assert summary.max_after_answer is not None and summary.max_after_answer <= 2.0 + TICK
    rows = {r["attempt"]: r for r in store.agent_delays("sales")}
    bridged = [r for r in rows.values() if r["answer_to_agent_s"] is not None]
    assert len(bridged) == summary.connects
    assert all(r["answer_to_agent_s"] <= 2.0 + TICK for r in bridged)
    d = summary.as_dict()
    assert d["max_answer_to_agent_s"] <= 2.0 + TICK
    # the campaign report says the same from the store
    (row,) = reports.report(store, by="campaign", campaign="sales")
    assert row["max_answer_to_agent_s"] == max(r["answer_to_agent_s"] for r in bridged)
    assert row["max_answer_to_agent_s"] == pytest.approx(d["max_answer_to_agent_s"], abs=0.01)
    assert "Ofcom's measure" in "\n".join(summary.lines())


def test_us_measures_from_the_end_of_the_greeting(tmp_path: Path) -> None:
    runner, summary, store = run(tmp_path, "us")
    assert runner.connections
    greeted = [c for c in runner.connections if c.greeting_ended_at is not None]
    assert greeted, "the emulated people say a short hello: its end is known"
    for c in greeted:
        assert c.answered_at is not None
        assert c.answered_at <= c.greeting_ended_at <= c.live_at
        assert c.after_greeting <= 2.0 + TICK
        assert c.after_greeting <= c.after_answer
    # the two measures differ: counted from the answer, a US bridge can pass 2 s
    assert max(c.after_answer for c in runner.connections) > 2.0
    rows = [r for r in store.agent_delays("sales") if r["greeting_to_agent_s"] is not None]
    assert rows and all(r["greeting_to_agent_s"] <= r["answer_to_agent_s"] for r in rows)
    assert summary.as_dict()["max_greeting_to_agent_s"] == pytest.approx(
        max(c.after_greeting for c in runner.connections), abs=0.01)
