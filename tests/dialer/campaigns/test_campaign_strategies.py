"""Windows in the contact's zone across DST, holidays, limits, retries, best time."""

from __future__ import annotations

from zoneinfo import ZoneInfo

import pytest
from campaign_testkit import ALWAYS, T0, at, open_store

from trunkline.dialer.campaigns.strategies import (
    NEXT_DAY,
    HourOfWeekStats,
    Strategy,
    Windows,
    best_time_after,
    hour_of_week,
    limit_block,
)
from trunkline.dialer.store import NewContact

LONDON = ZoneInfo("Europe/London")
NEW_YORK = ZoneInfo("America/New_York")
SHANGHAI = ZoneInfo("Asia/Shanghai")
WEEKDAYS_9_TO_5 = Windows.from_dict({
    "mon": ["09:00-17:00"], "tue": ["09:00-17:00"], "wed": ["09:00-17:00"],
    "thu": ["09:00-17:00"], "fri": ["09:00-17:00"], "sat": ["10:00-12:00"]})


def test_window_follows_local_time_across_the_spring_dst_change() -> None:
    # UK clocks go forward 01:00 UTC on Sunday 30 March 2025; Monday 09:00 BST = 08:00 UTC
    saturday_noon = at(2025, 3, 29, 12, 0, tz="Europe/London")
    opens = WEEKDAYS_9_TO_5.next_open(saturday_noon, LONDON)
    assert opens == at(2025, 3, 31, 9, 0, tz="Europe/London")
    assert opens - saturday_noon == (12 + 24 + 9 - 1) * 3600  # one hour was skipped


def test_window_follows_local_time_across_the_autumn_dst_change() -> None:
    # US clocks go back on Sunday 2 November 2025; Monday 09:00 EST = 14:00 UTC
    friday_evening = at(2025, 10, 31, 18, 0, tz="America/New_York")
    opens = WEEKDAYS_9_TO_5.next_open(friday_evening, NEW_YORK)
    assert opens == at(2025, 11, 1, 10, 0, tz="America/New_York")  # Saturday window
    monday = WEEKDAYS_9_TO_5.next_open(at(2025, 11, 1, 12, 30, tz="America/New_York"),
                                       NEW_YORK)
    assert monday == at(2025, 11, 3, 9, 0, tz="America/New_York")
    assert WEEKDAYS_9_TO_5.is_open(monday, NEW_YORK)
    assert not WEEKDAYS_9_TO_5.is_open(monday - 1, NEW_YORK)


def test_window_start_inside_the_skipped_hour_opens_right_after_the_gap() -> None:
    windows = Windows.from_dict({"default": ["01:30-03:00"]})
    sunday_start = at(2025, 3, 30, 0, 0, tz="Europe/London")
    opens = windows.next_open(sunday_start, LONDON)
    assert opens == at(2025, 3, 30, 2, 0, tz="Europe/London")  # 01:30 does not exist


def test_the_same_instant_is_open_for_one_contact_and_closed_for_another() -> None:
    instant = at(2025, 6, 4, 10, 0, tz="Asia/Shanghai")  # 03:00 in London
    windows = Windows()
    assert windows.is_open(instant, SHANGHAI)
    assert not windows.is_open(instant, LONDON)
    store = open_store(strategy=Strategy(windows=windows))
    store.add_list("sales", "l", [NewContact("+442079460000", {}, "Europe/London"),
                                  NewContact("+8613800138000", {}, "Asia/Shanghai")], now=T0)
    assert store.claim_next("sales", instant).number == "+8613800138000"
    assert store.claim_next("sales", instant) is None
    assert store.contact(1)["next_at"] == at(2025, 6, 4, 9, 0, tz="Europe/London")


def test_holidays_are_skipped_in_local_dates() -> None:
    windows = Windows.from_dict({"default": ["09:00-21:00"],
                                 "holidays": ["2025-10-01", "2025-10-02"]})
    opens = windows.next_open(at(2025, 9, 30, 22, 0), SHANGHAI)
    assert opens == at(2025, 10, 3, 9, 0)


def test_retries_by_outcome_and_next_day() -> None:
    strategy = Strategy()
    now = at(2025, 6, 4, 10, 0)
    assert strategy.next_attempt("busy", 1, now, SHANGHAI) == now + 600
    assert strategy.next_attempt("no_answer", 1, now, SHANGHAI) == now + 7200
    assert strategy.retries["machine"] == NEXT_DAY
    assert strategy.next_attempt("machine", 1, now, SHANGHAI) == at(2025, 6, 5, 9, 0)
    assert strategy.next_attempt("busy", 1, at(2025, 6, 4, 20, 55), SHANGHAI) \
        == at(2025, 6, 5, 9, 0)  # the retry falls outside the window: next opening
    assert strategy.next_attempt("human", 1, now, SHANGHAI) is None
    assert strategy.next_attempt("busy", 5, now, SHANGHAI) is None  # max attempts


def test_limits_per_local_day_and_week() -> None:
    strategy = Strategy(max_per_day=2, max_per_week=3)
    wed = at(2025, 6, 4, 15, 0)
    assert limit_block(strategy, wed, SHANGHAI, [wed - 3600]) is None
    assert limit_block(strategy, wed, SHANGHAI, [wed - 3600, wed - 60]) == at(2025, 6, 5, 0, 0)
    monday = at(2025, 6, 2, 10, 0)
    assert limit_block(strategy, wed, SHANGHAI, [monday, wed - 3600, wed - 60]) \
        == at(2025, 6, 9, 0, 0)


def test_limits_are_enforced_at_claim() -> None:
    store = open_store(strategy=Strategy(windows=ALWAYS, max_per_day=1, max_per_week=5,
                                         retries={"busy": 60.0}), contacts=1)
    claim = store.claim_next("sales", T0)
    store.mark_dialing(claim.attempt, T0)
    store.record_outcome(claim.attempt, "busy", T0 + 5)
    assert store.claim_next("sales", T0 + 120) is None
    assert store.claim_next("sales", at(2025, 6, 5, 0, 0)) is not None


def test_best_time_prefers_the_learned_hour() -> None:
    stats = HourOfWeekStats()
    wed = at(2025, 6, 4, 10, 0)
    for h in range(168):
        stats.add(h, live=False, weight=10)
    good = hour_of_week(at(2025, 6, 4, 16, 0), SHANGHAI)  # Wednesday 16:00-17:00
    stats.add(good, live=True, weight=50)
    when = best_time_after(wed, SHANGHAI, Windows(), stats)
    assert when == at(2025, 6, 4, 16, 0)
    strategy = Strategy(best_time=True)
    assert strategy.next_attempt("no_answer", 1, wed, SHANGHAI, stats) == at(2025, 6, 4, 16, 0)


def test_strategy_round_trips_and_rejects_unknown_keys() -> None:
    strategy = Strategy.from_dict({"max_attempts": 3, "windows": {"mon": ["08:00-12:00"]},
                                   "retries": {"busy": 300}})
    assert Strategy.from_dict(strategy.to_dict()) == strategy
    with pytest.raises(ValueError, match="unknown strategy keys: colour"):
        Strategy.from_dict({"colour": "red"})
    with pytest.raises(ValueError, match="not a time"):
        Windows.from_dict({"mon": ["9-17"]})
