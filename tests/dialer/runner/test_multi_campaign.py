"""Several campaigns at once on one runner, one engine and one gateway (issue 7 item 6).

Two campaigns with their own lists share four agent positions: each position is at home
in one campaign and overflows into the other. Every number of both lists is dialled once,
under its own campaign, with the outcome the number plan gives it; each campaign's
abandon counters are its own.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from runner_kit import T0, WatchedGateway, make_store, numbers, write_wav

from trunkline.cli import main
from trunkline.dialer.campaigns.lists import import_file
from trunkline.dialer.campaigns.strategies import Strategy, Windows
from trunkline.dialer.pacing.engine import quiet_logger
from trunkline.dialer.runner.campaign_runner import CampaignRunner

SALES = (("1381", 6, "human"), ("137", 2, "busy"), ("139", 2, "machine"))
LOANS = (("13815", 5, "human"), ("1346", 2, "unreachable"), ("1305", 2, "invalid_number"))


def _two_campaigns(folder: Path):
    store = make_store(folder, ranges=SALES, config={"mode": "predictive",
                                                     "ring_timeout": 20.0})
    strategy = Strategy(windows=Windows.from_dict({"default": ["00:00-24:00"]}),
                        max_attempts=1)
    store.create_campaign("loans", strategy, config={"mode": "progressive",
                                                     "ring_timeout": 20.0}, now=T0)
    path = folder / "loans.csv"
    path.write_text("phone\n" + "\n".join(n for n, _ in numbers(LOANS)) + "\n")
    assert import_file(store, "loans", path, now=T0).added == len(numbers(LOANS))
    return store


@pytest.mark.slow
def test_two_campaigns_share_agents_and_keep_their_own_books(tmp_path: Path) -> None:
    store = _two_campaigns(tmp_path)
    gateway = WatchedGateway(tmp_path / "dialer.sqlite")
    runner = CampaignRunner(store, ["sales", "loans"], gateway, agents=[71, 72, 73, 74],
                            group="pri", engine_log=quiet_logger())
    try:
        summary = runner.run(seconds=3600)
    finally:
        gateway.close()
    assert summary.finished and runner.gateway_errors == []
    assert gateway.watch.dial_violations == []
    assert set(gateway.watch.originated.values()) == {1}

    levels = [runner._levels(leg) for leg in runner.agent_legs.values()]
    homes = [lv[0][0] for lv in levels]
    assert sorted(homes) == ["loans", "loans", "sales", "sales"]
    assert all(lv[1][1] == "overflow" for lv in levels)

    rows = store.query("SELECT k.name AS campaign, c.number, c.last_outcome FROM contact c "
                       "JOIN campaign k ON k.id = c.campaign_id")
    for campaign, listed in (("sales", SALES), ("loans", LOANS)):
        got = {r["number"]: r["last_outcome"] for r in rows if r["campaign"] == campaign}
        for number, expected in numbers(listed):
            allowed = {"human", "abandoned"} if expected == "human" else {expected}
            assert got["+86" + number] in allowed, (campaign, number, got["+86" + number])
        stats = runner.engine.stats(campaign)
        humans = sum(n for _, n, o in listed if o == "human")
        assert stats.live == humans
        assert summary.by_campaign[campaign]["live"] == humans
        window = runner.window_of(campaign, gateway.now())
        assert store.abandon_counts(campaign, window)[:2] == (stats.live, stats.abandoned)
    attempts = store.query("SELECT campaign_id, COUNT(*) AS n FROM attempt "
                           "GROUP BY campaign_id ORDER BY campaign_id")
    assert [r["n"] for r in attempts] == [len(numbers(SALES)), len(numbers(LOANS))]
    sessions = store.query("SELECT agent, ended_at FROM agent_session")
    assert len(sessions) == 4 and all(r["ended_at"] is not None for r in sessions)


@pytest.mark.slow
def test_dialer_run_takes_several_campaigns(tmp_path: Path, capsys) -> None:
    _two_campaigns(tmp_path).close()
    db = str(tmp_path / "dialer.sqlite")
    # regime us (the default) needs a recorded abandon message (abandon_message.py)
    # (--virtual: the in-process gateway's prompts folder is /, any absolute path plays)
    sorry = str(write_wav(tmp_path / "sorry.wav", seconds=1.0))
    code = main(["dialer", "run", "--campaign", "sales", "--campaign", "loans", "--db", db,
                 "--virtual", "--abandon-file", sorry, "--start", "2025-06-04T10:00+08:00",
                 "--agents", "71,72",
                 "--group", "pri", "--hours", "1", "--json"])
    assert code == 0
    summary = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert summary["list_finished"] is True
    assert set(summary["campaigns"]) == {"sales", "loans"}
    assert summary["dials"] == len(numbers(SALES)) + len(numbers(LOANS))
