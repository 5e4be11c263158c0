"""Reports with occupancy: agent sessions in the store, attributed per agent, campaign, hour.

Times are hand-picked around T0 (Wednesday 2025-06-04 10:00 in Shanghai) so every
expected value below can be checked on paper: a call's talk is the ``talk`` seconds
before it ended, its wrap-up the ``wrap`` seconds after.
"""

from __future__ import annotations

import csv
import io
import json
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from campaign_testkit import ALWAYS, SHANGHAI, T0, at, mobile, open_store
from campaign_testkit import finished_call as _call
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from trunkline.cli import main
from trunkline.dialer.campaigns import reports
from trunkline.dialer.campaigns.strategies import Strategy
from trunkline.dialer.pacing.compliance import window_index
from trunkline.dialer.store import (
    NewContact,
    Store,
)
from trunkline.dialer.vocab import Regime

H = 3600.0
MIN = 60.0


def _by(rows: list[dict], *keys: str) -> dict[Any, dict]:
    """Rows by one column's value, or by a tuple of several."""
    if len(keys) == 1:
        return {r[keys[0]]: r for r in rows}
    return {tuple(r[k] for k in keys): r for r in rows}


def _two_agents(path: str = ":memory:") -> Store:
    """a1 logged in 09:30-11:30, a2 10:00-11:00; three calls with agents, one without.

    Busy time: a1 [09:40, 09:55) and [09:55, 10:10), a2 [10:10, 10:40).
    """
    store = open_store(path, contacts=5)
    s1 = store.open_agent_session("a1", ["sales"], T0 - 30 * MIN)
    s2 = store.open_agent_session("a2", ["sales"], T0)
    _call(store, T0 - 10 * MIN, agent="a1", talk=600, wrap=300)    # ends 09:50
    _call(store, T0 + 5 * MIN, agent="a1", talk=600, wrap=300)     # ends 10:05
    _call(store, T0 + 20 * MIN, outcome="no_answer")               # no agent
    _call(store, T0 + 30 * MIN, agent="a2", talk=1200, wrap=600)   # ends 10:30
    store.close_agent_session(s2, T0 + H)
    store.close_agent_session(s1, T0 + 90 * MIN)
    return store


def test_occupancy_per_agent_with_hand_computed_values() -> None:
    rows = _by(reports.report(_two_agents(), by="agent", now=T0 + 3 * H), "agent")
    assert rows["a1"]["logged_in_h"] == 2.0
    assert rows["a1"]["occupancy"] == 0.25          # (900 + 900) / 7200
    assert rows["a2"]["logged_in_h"] == 1.0
    assert rows["a2"]["occupancy"] == 0.5           # 1800 / 3600
    assert rows["-"]["occupancy"] is None           # calls no agent took: no session
    assert rows["-"]["logged_in_h"] is None
    assert rows["a1"]["avg_talk"] == 600 and rows["a1"]["connects"] == 2  # kept keys


def test_occupancy_per_campaign_and_hour_across_hour_boundaries() -> None:
    store = _two_agents()
    (row,) = reports.report(store, now=T0 + 3 * H)
    assert row["logged_in_h"] == 3.0
    assert row["occupancy"] == round(3600 / 10800, 4)
    assert (row["dials"], row["connects"], row["contacts"], row["penetration"]) == \
        (4, 3, 5, 0.8)
    by_hour = reports.report(store, by="hour", now=T0 + 3 * H)
    assert [r["hour"] for r in by_hour] == [9, 10, 11]   # in order: 9 before 10
    hours = _by(by_hour, "hour")
    # 09:30-10:00: a1 only; busy 900 s of the first call, 300 s of the second's talk
    assert hours[9]["logged_in_h"] == 0.5
    assert hours[9]["occupancy"] == round(1200 / 1800, 4)
    # 10:00-11:00: a1 and a2; busy 600 s (a1's talk + wrap after 10:00) + 1800 s (a2)
    assert hours[10]["logged_in_h"] == 2.0
    assert hours[10]["occupancy"] == round(2400 / 7200, 4)
    # 11:00-11:30: a1 idle. A row with no calls: occupancy 0, not None
    assert (hours[11]["dials"], hours[11]["logged_in_h"],
            hours[11]["occupancy"]) == (0, 0.5, 0.0)
    # calls count in the hour they ended; the list penetration gained per hour adds up
    assert [hours[h]["dials"] for h in (9, 10, 11)] == [1, 3, 0]
    assert [hours[h]["new_contacts"] for h in (9, 10, 11)] == [1, 3, 0]
    assert [hours[h]["penetration_added"] for h in (9, 10, 11)] == [0.2, 0.6, 0.0]
    # the same session time in another zone's hours: London is UTC+1, Shanghai UTC+8
    london = _by(reports.report(store, by="hour", now=T0 + 3 * H,
                                time_zone="Europe/London"), "hour")
    assert sorted(london) == [2, 3, 4]
    assert london[3]["occupancy"] == hours[10]["occupancy"]


def test_period_clips_sessions_and_busy_time() -> None:
    store = _two_agents()
    (row,) = reports.report(store, by="campaign", since=T0, until=T0 + H, now=T0 + 3 * H)
    # 10:00-11:00 only: a1 and a2 each 1 h; busy 600 + 1800; calls ended 10:05-10:30
    assert (row["logged_in_h"], row["occupancy"], row["dials"]) == \
        (2.0, round(2400 / 7200, 4), 3)


def _two_campaigns() -> Store:
    store = open_store(contacts=4)
    store.create_campaign("debt", Strategy(windows=ALWAYS), now=T0)
    store.add_list("debt", "d", [NewContact(mobile(100 + i), {}) for i in range(4)], now=T0)
    session = store.open_agent_session("a1", ["sales", "debt"], T0)
    _call(store, T0 + 40 * MIN, agent="a1", talk=1500, wrap=300)                     # 10:15-10:45
    _call(store, T0 + H + 5 * MIN, agent="a1", talk=300, wrap=300)                   # 11:00-11:10
    _call(store, T0 + H + 40 * MIN, agent="a1", talk=900, wrap=300, campaign="debt")  # 11:25-11:45
    store.close_agent_session(session, T0 + 3 * H)
    return store


def test_an_agent_in_two_campaigns_shares_each_hour_by_its_talk_and_wrap() -> None:
    store = _two_campaigns()
    rows = _by(reports.report(store, by="agent", now=T0 + 4 * H), "campaign", "agent")
    # 10-11: all sales (1800 busy); 11-12: sales 600, debt 1200 -> 1200 s / 2400 s;
    # 12-13: no calls, split evenly. sales 3600+1200+1800, debt 2400+1800
    sales, debt = rows[("sales", "a1")], rows[("debt", "a1")]
    assert sales["logged_in_h"] == round(6600 / H, 3)
    assert sales["occupancy"] == round(2400 / 6600, 4)
    assert debt["logged_in_h"] == round(4200 / H, 3)
    assert debt["occupancy"] == round(1200 / 4200, 4)
    # counted once: the campaigns' logged-in time adds up to the session
    assert sales["logged_in_h"] + debt["logged_in_h"] == pytest.approx(3.0, abs=1e-3)
    hours = _by(reports.report(store, by="hour", now=T0 + 4 * H), "campaign", "hour")
    assert hours[("sales", 10)]["occupancy"] == 0.5   # the whole hour went to sales
    assert ("debt", 10) not in hours                   # no calls, no time in that hour
    assert hours[("sales", 11)]["occupancy"] == hours[("debt", 11)]["occupancy"] == 0.5
    assert hours[("sales", 12)]["logged_in_h"] == hours[("debt", 12)]["logged_in_h"] == 0.5
    only = reports.report(store, by="agent", campaign="debt", now=T0 + 4 * H)
    assert [(r["campaign"], r["occupancy"]) for r in only] == [("debt", debt["occupancy"])]


def test_rows_without_session_data_report_none_not_zero() -> None:
    store = open_store(contacts=2)
    _call(store, T0, agent="a1", talk=60, wrap=10)
    for by in ("campaign", "agent", "hour"):
        (row,) = reports.report(store, by=by)
        assert row["occupancy"] is None and row["logged_in_h"] is None, by


def test_abandon_rate_on_the_regulated_window_and_penetration() -> None:
    store = open_store(contacts=4)
    window = reports.regulated_window(store, "sales", T0 + 60)
    assert window == window_index(Regime.US, T0 + 60, start=T0) == 0
    for outcome in ("human", "human", "abandoned"):
        _call(store, T0 + 60, outcome=outcome, window=window)
    (row,) = reports.report(store, now=T0 + 120)
    assert (row["window"], row["window_abandon_rate"], row["abandon_rate"]) == \
        (0, round(1 / 3, 4), round(1 / 3, 4))
    assert (row["penetration"], row["finished"]) == (0.75, 0.5)  # abandoned: called again
    # UK: calendar days in the strategy's zone, AMD false positives on both sides
    store.create_campaign("uk", Strategy(windows=ALWAYS, time_zone="Europe/London"),
                          config={"regime": "uk", "amd_false_positive_rate": 0.5}, now=T0)
    store.add_list("uk", "l", [NewContact(mobile(50 + i), {}) for i in range(3)], now=T0)
    day = reports.regulated_window(store, "uk", T0)
    assert day == window_index(Regime.UK, T0, day_offset=3600.0)
    for outcome in ("human", "abandoned", "machine"):
        _call(store, T0 + 60, outcome=outcome, window=day, campaign="uk")
    (uk,) = reports.report(store, campaign="uk", now=T0 + 120)
    assert uk["window_abandon_rate"] == round((1 + 0.5) / (2 + 0.5), 4)
    assert reports.report(store, campaign="uk", now=T0 + 120,
                          windows={"uk": day + 1})[0]["window_abandon_rate"] == 0.0


def test_report_command_exports_occupancy_as_csv_and_json(tmp_path, capsys) -> None:
    db = str(tmp_path / "r.sqlite")
    _two_agents(db).close()
    target = tmp_path / "agents.csv"
    assert main(["dialer", "report", "--by", "agent", "--format", "csv", "--output",
                 str(target), "--db", db]) == 0
    rows = {r["agent"]: r for r in csv.DictReader(io.StringIO(target.read_text("utf-8")))}
    assert (rows["a1"]["logged_in_h"], rows["a1"]["occupancy"]) == ("2.0", "0.25")
    assert (rows["-"]["logged_in_h"], rows["-"]["occupancy"]) == ("", "")
    capsys.readouterr()
    assert main(["dialer", "report", "--by", "hour", "--format", "json", "--since",
                 "2025-06-04T10:00", "--until", "2025-06-04 11:00+08:00", "--db", db]) == 0
    (hour,) = json.loads(capsys.readouterr().out)
    assert (hour["hour"], hour["logged_in_h"], hour["occupancy"], hour["dials"]) == \
        (10, 2.0, round(2400 / 7200, 4), 3)
    assert main(["dialer", "report", "--db", db]) == 0
    table = capsys.readouterr().out.splitlines()
    header = table[0].split()
    assert {"occupancy", "logged_in_h", "window_abandon_rate", "penetration"} <= set(header)
    assert table[1].split()[header.index("occupancy")] == str(round(3600 / 10800, 4))
    assert main(["dialer", "report", "--since", "yesterday", "--db", db]) == 1
    assert "--since 'yesterday' is not an ISO 8601" in capsys.readouterr().err
    assert main(["dialer", "report", "--time-zone", "Mars/Olympus", "--db", db]) == 1
    assert "not a known time zone" in capsys.readouterr().err


def test_report_help_says_what_occupancy_is(capsys) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(["dialer", "report", "--help"])
    assert exit_.value.code == 0
    text = "".join(capsys.readouterr().out.split())  # however argparse wraps it
    assert "Occupancy=(talk+wrap-up)/logged-intime" in text


# -- properties ------------------------------------------------------------------------------

ZONES = ["Asia/Shanghai", "Europe/London", "America/New_York", "Asia/Kolkata",
         "Australia/Lord_Howe"]  # Lord Howe moves its clocks by 30 minutes


@settings(max_examples=200, deadline=None)
@given(zone=st.sampled_from(ZONES),
       start=st.integers(int(at(2025, 3, 1)), int(at(2025, 11, 30))),
       length=st.floats(0, 3 * 86_400.0))
def test_property_hour_pieces_add_up_and_stay_in_one_local_hour(zone, start, length) -> None:
    tz = ZoneInfo(zone)
    pieces = list(reports.hour_pieces(start, start + length, tz))
    assert sum(b - a for a, b, _ in pieces) == pytest.approx(length, abs=1e-6)
    t = start
    for a, b, hour in pieces:
        assert a == t and b > a
        t = b
        assert datetime.fromtimestamp(a, tz).hour == hour
        assert datetime.fromtimestamp(max(a, b - 1e-3), tz).hour == hour
    if pieces:
        assert t == start + length


def test_hour_pieces_across_the_dst_changes() -> None:
    london = ZoneInfo("Europe/London")
    spring = list(reports.hour_pieces(at(2025, 3, 30, 0, 30, tz="Europe/London"),
                                      at(2025, 3, 30, 3, 0, tz="Europe/London"), london))
    assert [(h, b - a) for a, b, h in spring] == [(0, 1800.0), (2, 3600.0)]  # 01:xx skipped
    autumn = list(reports.hour_pieces(at(2025, 10, 26, 0, 30, tz="Europe/London"),
                                      at(2025, 10, 26, 2, 0, tz="Europe/London"), london))
    assert [(h, b - a) for a, b, h in autumn] == [(0, 1800.0), (1, 3600.0), (1, 3600.0)]


busy_call = st.tuples(st.floats(0, 1800), st.floats(0, 1200), st.floats(0, 600),
                      st.sampled_from(["sales", "debt"]))
session = st.tuples(st.floats(0, 4 * H), st.floats(1, 6 * H),
                    st.sampled_from([("sales",), ("debt",), ("sales", "debt")]),
                    st.lists(busy_call, max_size=6))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(agents=st.lists(st.lists(session, min_size=1, max_size=3), min_size=1, max_size=2),
       zone=st.sampled_from(ZONES))
def test_property_occupancy_is_within_0_and_1_when_calls_are_inside_sessions(agents,
                                                                             zone) -> None:
    store = open_store(contacts=40)
    store.create_campaign("debt", Strategy(windows=ALWAYS), now=T0)
    store.add_list("debt", "d", [NewContact(mobile(100 + i), {}) for i in range(40)], now=T0)
    logged = busy = 0.0
    for index, sessions in enumerate(agents):
        agent, t = f"a{index}", T0
        for gap, length, campaigns, calls in sessions:
            start, end = t + gap, t + gap + length
            sid = store.open_agent_session(agent, campaigns, start)
            pos = start
            for call_gap, talk, wrap, name in calls:
                lo = pos + call_gap
                if lo + talk + wrap > end:
                    break
                _call(store, lo + talk, agent=agent, talk=talk, wrap=wrap, campaign=name)
                busy += talk + wrap
                pos = lo + talk + wrap
            store.close_agent_session(sid, end)
            logged += length
            t = end
    now = T0 + 60 * H
    pieces = list(reports.occupancy_pieces(store, now=now, tz=ZoneInfo(zone)))
    assert sum(p.logged_in for p in pieces) == pytest.approx(logged, abs=1e-3)
    assert sum(p.busy for p in pieces) == pytest.approx(busy, abs=1e-3)
    assert all(0 <= p.busy <= p.logged_in + 1e-6 for p in pieces)
    for by in ("campaign", "agent", "hour"):
        rows = reports.report(store, by=by, now=now, time_zone=zone)
        assert all(0.0 <= r["occupancy"] <= 1.0 for r in rows if r["occupancy"] is not None)
        assert sum(r["logged_in_h"] or 0 for r in rows) == pytest.approx(logged / H,
                                                                        abs=0.002 * len(rows))


def test_shanghai_hours_of_t0() -> None:  # the fixtures above rely on it
    assert datetime.fromtimestamp(T0, SHANGHAI).hour == 10
