"""Every hour of the calling day in the per-hour report (issue 18 item 4).

The CLI's ``report --by hour`` has a row for an hour only when something happened in it
(a call ended, an agent was logged in). A chart drawn from those rows closes up the
gaps: 09:00 sits next to 14:00 and a dead morning does not show. The reporting layer
(the API's ``hour`` rows, so the console's charts, their CSV and XLSX, the day's
workbook and the printable daily report) therefore gives each campaign a row for every
hour from the first to the last hour of its calling windows, with zeros where nothing
happened; an hour outside the windows that had calls (a manual call, a window changed
during the day) widens the axis rather than being dropped. The exports carry the same
rows as the charts on purpose: a spreadsheet charted or summed per hour must show the
same gaps, and one row per hour lines up days side by side.

Windows are minutes of the local day in the campaign's time zone (``Strategy.
time_zone``; a contact whose number says another zone is called in its own, which this
axis does not follow: those calls still appear through the hours that have data). The
report may be in another zone (the browser's): the windows are moved by the difference
of the two zones' UTC offsets at ``at`` (the report's start), so an axis across a
clock change can be an hour off at one end. A window moved past midnight in the report's
zone is folded into the day, so the axis then runs from the small hours to the late ones.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from trunkline.dialer.campaigns import reports
from trunkline.dialer.campaigns.strategies import Windows
from trunkline.dialer.errors import StoreError
from trunkline.dialer.store import Store


def window_hours(windows: Windows, campaign_zone: str, report_zone: str, at: float
                 ) -> set[int]:
    """Local hours of day (0-23, in ``report_zone``) that any weekday's window touches.

    A window ``[start, end)`` in minutes touches hour ``h`` when it overlaps
    ``[60 h, 60 h + 60)``."""
    shift = 0
    if campaign_zone != report_zone:
        offset = [datetime.fromtimestamp(at, ZoneInfo(z)).utcoffset() for z in
                  (campaign_zone, report_zone)]
        assert offset[0] is not None and offset[1] is not None
        shift = round((offset[1] - offset[0]).total_seconds() / 60)
    hours: set[int] = set()
    for ranges in windows.days:
        for start, end in ranges:
            a, b = start + shift, end + shift
            # a point every 60 minutes from the start, and the last minute, fall in every
            # hour the window touches; % 24 folds what the shift moved past midnight
            hours.update(((m // 60) % 24) for m in (*range(a, b, 60), b - 1))
    return hours


def axis(window: set[int], data: Iterable[int]) -> list[int]:
    """The hours a chart shows: from the first to the last of the window's hours and the
    hours with data, every hour between included (the gaps are the point)."""
    every = window | set(data)
    return list(range(min(every), max(every) + 1)) if every else []


def zero_row(campaign: str, hour: int, contacts: int) -> dict[str, Any]:
    """An hour with nothing in it, with the columns of the ``hour`` report's rows (counts
    0, rates and averages None: a rate of no calls is not 0 %)."""
    row = reports._row({"campaign": campaign, "hour": hour}, {}, [], [], None)
    row["new_contacts"] = 0
    row["penetration_added"] = 0.0 if contacts else None
    return row


def fill(store: Store, rows: list[dict[str, Any]], *, campaign: str | None,
         time_zone: str, at: float) -> list[dict[str, Any]]:
    """``rows`` of the ``hour`` report with a zero row for each hour of the axis that has
    none, per campaign (the campaigns with rows, and ``campaign`` when one is asked for,
    so a quiet day of one campaign still shows its calling hours), ordered by campaign
    and hour. ``at``: an instant of the report's period (the zones' offsets then)."""
    names = {r["campaign"] for r in rows} | ({campaign} if campaign else set())
    out = list(rows)
    for name in sorted(names):
        try:
            strategy = store.strategy(name)
        except StoreError:  # a name only old rows know: its hours with data are all
            continue
        have = {r["hour"] for r in rows if r["campaign"] == name}
        hours = window_hours(strategy.windows, strategy.time_zone, time_zone, at)
        missing = [h for h in axis(hours, have) if h not in have]
        if missing:
            contacts = reports._contact_counts(store, name)[0]
            out.extend(zero_row(name, h, contacts) for h in missing)
    out.sort(key=lambda r: (r["campaign"], r["hour"]))
    return out
