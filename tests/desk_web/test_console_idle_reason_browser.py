"""A running campaign that dials nothing says why on the supervisor's floor, in the
page's language (issue 15, first week: outside its calling windows the console showed
'Running' with no dials and no word, and the reason 'dialer run' prints never reached
the service's pages). Headless Chromium against ``trunkline dialer serve --virtual``."""

from __future__ import annotations

import os
import re
import time
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from desk_browser_kit import (
    CAMPAIGN,
    ZONE,
    browser,
    chromium_missing,
    console_page,
    log_in,
    make_db,
    served,
    take_position,
)

from trunkline.dialer.campaigns.strategies import Strategy, Windows
from trunkline.dialer.store import Store

pytestmark = pytest.mark.slow


def test_the_floor_says_why_a_running_campaign_dials_nothing(tmp_path: Path) -> None:
    why = chromium_missing()
    if why:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"CI: the browser tests must run: {why}")
        pytest.skip(why)
    db = make_db(tmp_path)
    # today and the next two days are holidays where the campaign calls (a run across
    # midnight still meets one)
    today = datetime.now(ZoneInfo(ZONE)).date()
    holidays = [(today + timedelta(days=d)).isoformat() for d in range(3)]
    with Store(db) as store:
        store.create_campaign(CAMPAIGN, Strategy(
            windows=Windows.from_dict({"default": ["00:00-24:00"], "holidays": holidays}),
            max_attempts=3, time_zone=ZONE), config={"mode": "predictive"}, now=time.time())
    row = f"tr[data-campaign='{CAMPAIGN}']"
    with served(db) as url, browser() as chromium:
        page = console_page(chromium, url, "en-US")
        page.click(f"{row} [data-testid=campaign-start]")
        # an agent ready: the engine would dial, and its claims meet the holiday
        desk = chromium.new_page(locale="en-US")
        log_in(desk, url, "li")
        take_position(desk, "71")
        desk.click("[data-testid=ready]")
        desk.wait_for_selector("[data-testid=agent-state][data-state=ready]", timeout=15_000)
        idle = page.wait_for_selector(f"{row}[data-state='running'] [data-testid=campaign-idle]",
                                      timeout=20_000)
        text = idle.text_content() or ""
        holiday = re.search(r"a holiday \((\d{4}-\d\d-\d\d)\)", text)
        assert holiday and holiday.group(1) in holidays, text
        assert text.startswith("waiting: a holiday (") and f"({ZONE})" in text, text
        assert "the next opens " in text and "the first contact is due " in text, text
        assert idle.get_attribute("data-why") == "window"
        assert page.errors == []
        page.context.close()

        page = console_page(chromium, url, "zh-CN")
        idle = page.wait_for_selector(f"{row} [data-testid=campaign-idle]", timeout=20_000)
        text = idle.text_content() or ""
        assert text.startswith(
            f"等待中：节假日（{holiday.group(1)}），无呼叫时段（{ZONE}）；下一时段 "), text
        assert "第一个联系人" in text and "waiting" not in text, text
        # paused: the row says paused, and no reason under it
        page.click(f"{row} [data-testid=campaign-pause]")
        page.wait_for_selector(f"{row}[data-state='paused']", timeout=15_000)
        page.wait_for_selector(f"{row} [data-testid=campaign-idle]", state="detached",
                               timeout=5_000)
        assert page.errors == []
