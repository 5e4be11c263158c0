"""The per-hour report shows every hour of the calling windows (issue 18 item 4): a zero
row for each hour with no call, in the rows the charts draw, in their CSV and XLSX, and in
the printable daily report; the hours a window touches, across time zones (whole and
half-hour offsets, past midnight), checked minute by minute by hypothesis."""

from __future__ import annotations

import csv
import io
from datetime import date, datetime
from zoneinfo import ZoneInfo

from campaign_testkit import T0, at, finished_call, open_store
from hypothesis import given
from hypothesis import strategies as st
from openpyxl import load_workbook

from trunkline.dialer.campaigns.strategies import Strategy, Windows
from trunkline.dialer.reporting import charts, daily, export, hours
from trunkline.dialer.store import Store

#: Weekdays 09:00-12:00 and 14:00-18:00, weekends 10:00-11:00 (Shanghai).
WINDOWS = Windows.from_dict({"default": ["09:00-12:00", "14:00-18:00"],
                             "sat": ["10:00-11:00"], "sun": ["10:00-11:00"]})
DAY = {"since": at(2025, 6, 4, 0, 0), "until": at(2025, 6, 5, 0, 0)}


def _store(calls: tuple[float, ...] = (), talk: float = 20.0) -> Store:
    store = open_store(strategy=Strategy(windows=WINDOWS), contacts=10)
    for ended in calls:
        finished_call(store, ended, agent="li", talk=talk)
    return store


def test_window_hours_in_the_campaigns_zone() -> None:
    assert hours.window_hours(WINDOWS, "Asia/Shanghai", "Asia/Shanghai", T0) == \
        {9, 10, 11, 14, 15, 16, 17}
    part = Windows.from_dict({"default": ["09:30-09:40", "12:59-13:01"]})
    assert hours.window_hours(part, "Asia/Shanghai", "Asia/Shanghai", T0) == {9, 12, 13}


def test_window_hours_moved_to_the_reports_zone() -> None:
    nine_to_nine = Windows.from_dict({"default": ["09:00-21:00"]})
    # New York in June is UTC-4, Shanghai UTC+8: 09:00-21:00 there is 21:00-09:00 here
    assert hours.window_hours(nine_to_nine, "America/New_York", "Asia/Shanghai", T0) == \
        {21, 22, 23, *range(0, 9)}
    # India is UTC+5:30: 09:00-10:00 there is 11:30-12:30 in Shanghai, two hours touched
    one = Windows.from_dict({"default": ["09:00-10:00"]})
    assert hours.window_hours(one, "Asia/Kolkata", "Asia/Shanghai", T0) == {11, 12}
    # in January New York is UTC-5: the same window is an hour later in Shanghai
    winter = at(2025, 1, 8, 10, 0)
    assert hours.window_hours(one, "America/New_York", "Asia/Shanghai", winter) == {22}


ZONES = ("Asia/Shanghai", "Asia/Kolkata", "America/New_York", "Europe/London",
         "Australia/Adelaide", "Asia/Kathmandu")


@given(st.lists(st.tuples(st.integers(0, 1439), st.integers(1, 1440)), min_size=1,
                max_size=4),
       st.sampled_from(ZONES), st.sampled_from(ZONES))
def test_window_hours_are_exactly_the_hours_a_window_minute_falls_in(
        spans: list[tuple[int, int]], campaign_zone: str, report_zone: str) -> None:
    ranges = tuple(sorted((a, b) for a, b in spans if a < b))
    windows = Windows((ranges,) * 7)
    got = hours.window_hours(windows, campaign_zone, report_zone, T0)
    offsets = [datetime.fromtimestamp(T0, ZoneInfo(z)).utcoffset() for z in
               (campaign_zone, report_zone)]
    assert offsets[0] is not None and offsets[1] is not None
    shift = int((offsets[1] - offsets[0]).total_seconds() // 60)
    # every minute of a window, moved by the zones' offset difference, lies in an hour
    # given, and every hour given holds such a minute
    assert got == {((m + shift) % 1440) // 60 for a, b in ranges for m in range(a, b)}


def test_the_axis_spans_the_window_and_the_hours_with_data() -> None:
    assert hours.axis({9, 10, 14}, []) == list(range(9, 15))
    assert hours.axis({9, 10}, [20]) == list(range(9, 21))  # a call outside the window
    assert hours.axis(set(), [7, 7]) == [7]
    assert hours.axis(set(), []) == []


def test_hour_rows_have_every_hour_of_the_window_with_zeros() -> None:
    store = _store((at(2025, 6, 4, 10, 20), at(2025, 6, 4, 10, 40), at(2025, 6, 4, 15, 5)))
    rows = charts.rows(store, "hour", campaign="sales", **DAY, now=DAY["until"])
    assert [r["hour"] for r in rows] == list(range(9, 18))  # 12:00 and 13:00 too
    assert [(r["hour"], r["dials"]) for r in rows if r["dials"]] == [(10, 2), (15, 1)]
    quiet = next(r for r in rows if r["hour"] == 12)
    assert (quiet["dials"], quiet["connects"], quiet["abandoned"], quiet["new_contacts"]) \
        == (0, 0, 0, 0)
    assert quiet["connect_rate"] is None and quiet["abandon_rate"] is None
    assert quiet["occupancy"] is None and quiet["penetration_added"] == 0.0
    assert set(quiet) == set(rows[1])                      # the same columns as a real row
    # the CSV and the XLSX of the chart are the same rows: the gaps are there too
    lines = list(csv.DictReader(io.StringIO(export.to_csv(rows))))
    assert [(int(r["hour"]), int(r["dials"])) for r in lines] == \
        [(r["hour"], r["dials"]) for r in rows]
    book = load_workbook(io.BytesIO(export.to_xlsx({"hour": rows})), read_only=True)
    sheet = list(book["hour"].iter_rows(values_only=True))
    assert [line[sheet[0].index("hour")] for line in sheet[1:]] == list(range(9, 18))
    # best hours to call still ranks only the hours that were dialled
    best = charts.rows(store, "best_hours", campaign="sales", **DAY)
    assert sorted(r["hour"] for r in best) == [10, 15]


def test_a_call_outside_the_window_widens_the_axis_and_a_quiet_day_shows_the_window(
        ) -> None:
    # dialled at 17:59:30, in the window; a long call that ended at 20:30
    store = _store((at(2025, 6, 4, 20, 30),), talk=9000.0)
    rows = charts.rows(store, "hour", campaign="sales", **DAY, now=DAY["until"])
    assert [r["hour"] for r in rows] == list(range(9, 21))
    quiet = {"since": at(2025, 6, 7, 0, 0), "until": at(2025, 6, 8, 0, 0)}  # a Saturday
    rows = charts.rows(store, "hour", campaign="sales", **quiet, now=quiet["until"])
    # no call that day: the union of the weekday and weekend windows, all zeros
    assert [r["hour"] for r in rows] == list(range(9, 18))
    assert all(r["dials"] == 0 for r in rows)
    # all campaigns: a campaign with no rows in the period is not filled in
    assert charts.rows(store, "hour", **quiet, now=quiet["until"]) == []


def test_the_daily_reports_hour_chart_has_every_hour() -> None:
    store = _store((at(2025, 6, 4, 10, 20), at(2025, 6, 4, 15, 5)))
    page = daily.render(store, date(2025, 6, 4), campaign="sales", now=DAY["until"])
    calls = page[page.index("Calls by hour"):page.index("Abandon rate by hour")]
    for h in range(9, 18):
        assert f">{h:02d}<" in calls, h


def test_rows_of_a_campaign_the_store_no_longer_knows_are_kept_as_they_are() -> None:
    store = _store()
    row = hours.zero_row("gone", 14, 0)
    assert hours.fill(store, [row], campaign=None, time_zone="Asia/Shanghai", at=T0) == \
        [row]
