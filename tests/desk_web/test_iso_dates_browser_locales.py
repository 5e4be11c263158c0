"""Dates on the console are shown and taken as ISO YYYY-MM-DD whatever the browser's
locale (date-box.js): the Chinese page on an en-US browser (where Chromium's own
<input type=date> wrote 10/01/2026) and the English page on a zh-CN browser. Against
``trunkline dialer serve --virtual`` in headless Chromium: the report's day and a
campaign's holiday are read as the operator sees them, typed in loose forms, picked from
the calendar (drawn in the page's language), refused in the page's language when they
are not dates (nothing sent), and checked in what reaches the service; the times the
page shows (the floor's stamp, a list's import time) are ISO and 24-hour too."""

from __future__ import annotations

import re
import time
from contextlib import closing
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

import httpx
import pytest
from desk_browser_kit import browser, chromium_missing, console_page, make_db, served

from trunkline.dialer.service.passwords import hash_password
from trunkline.dialer.store import Store

pytestmark = pytest.mark.slow

ADMIN, ADMIN_PASSWORD = "root", "root-password-1"
ISO = r"^\d{4}-\d{2}-\d{2}$"


def _db(folder: Path) -> Path:
    db = make_db(folder)
    with Store(db) as store:
        store.add_user(ADMIN, "admin", hash_password(ADMIN_PASSWORD), now=time.time())
    return db


def _page(chromium: Any, url: str, browser_locale: str, page_lang: str) -> Any:
    """The console as the admin, in ``page_lang`` chosen by the user (remembered as the
    language picker remembers it) on a browser of ``browser_locale``."""
    page = console_page(chromium, url, browser_locale, user=ADMIN, password=ADMIN_PASSWORD)
    page.evaluate("(lang) => localStorage.setItem('trunkline.lang', lang)", page_lang)
    page.reload()
    page.wait_for_selector("body[data-ready='1']", timeout=30_000)
    assert page.get_attribute("html", "lang") == page_lang
    assert page.evaluate("navigator.language") == browser_locale
    return page


def _report_days(page: Any) -> list[tuple[str, str]]:
    """(since, until) of each report request the page sent so far."""
    return [(q["since"][0], q["until"][0]) for q in
            (parse_qs(urlparse(u).query) for u in page.sent if "/api/reports/hour?" in u)]


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> Any:
    why = chromium_missing()
    if why:
        pytest.skip(why)
    with served(_db(tmp_path_factory.mktemp("iso-dates"))) as url, browser() as chromium:
        yield url, chromium


def test_zh_page_on_an_en_us_browser_reports_an_iso_day(service: Any) -> None:
    from playwright.sync_api import expect

    url, chromium = service
    page = _page(chromium, url, "en-US", "zh-CN")
    page.sent = []
    page.on("request", lambda r: page.sent.append(r.url))
    # the floor's stamp: a 24-hour time, not the browser's 1:21:32 AM
    expect(page.locator("#updated")).to_have_text(re.compile(r"^更新于 \d{2}:\d{2}:\d{2}"))
    page.click("[data-testid=tab-reports]")
    box = page.locator("[data-testid=report-date]")
    expect(box).to_have_value(re.compile(ISO))    # today, as YYYY-MM-DD
    assert box.get_attribute("type") == "text"
    # typed the Chinese way, then left: written out as ISO, and that day is asked for
    box.fill("2026年10月1日")
    box.press("Tab")
    expect(box).to_have_value("2026-10-01")
    page.click("[data-testid=report-show]")
    page.wait_for_selector("[data-testid=reports][data-state=ready]", timeout=15_000)
    assert _report_days(page)[-1] == ("2026-10-01", "2026-10-02")
    assert "date=2026-10-01" in page.get_attribute("[data-testid=report-daily]", "href")
    # the calendar is the page's: its month in Chinese, Monday first; a day picked by mouse
    page.click("[data-testid=report-date-pick]")
    calendar = page.locator("[data-testid=report-date-calendar]")
    expect(calendar.locator("[data-testid=date-pop-title]")).to_have_text("2026年10月")
    assert calendar.locator("thead th").all_inner_texts() == list("一二三四五六日")
    assert calendar.locator("[data-date='2026-10-01']").get_attribute("aria-pressed") == "true"
    assert calendar.locator("tbody tr").first.locator("button").first \
        .get_attribute("data-date") == "2026-09-28"               # the Monday before
    calendar.locator("[data-testid=date-pop-next]").click()
    expect(calendar.locator("[data-testid=date-pop-title]")).to_have_text("2026年11月")
    calendar.locator("[data-date='2026-11-15']").click()
    expect(calendar).to_have_count(0)
    expect(box).to_have_value("2026-11-15")
    # the arrow keys step the part under the caret: the day, then the month
    box.click()
    box.press("End")
    box.press("ArrowUp")
    expect(box).to_have_value("2026-11-16")
    box.evaluate("b => b.setSelectionRange(6, 6)")
    box.press("ArrowDown")
    expect(box).to_have_value("2026-10-16")
    # not a date: said in Chinese under the form, and nothing asked for
    asked = len(_report_days(page))
    box.fill("2026-02-30")
    box.press("Tab")
    error = page.locator("[data-testid=report-date-error]")
    expect(error).to_have_text("日期：“2026-02-30”不是有效日期，请按 年-月-日 填写，"
                               "即 YYYY-MM-DD（如 2026-10-01）")
    page.click("[data-testid=report-show]")
    page.wait_for_timeout(300)
    assert len(_report_days(page)) == asked
    box.fill("2026-10-16")
    page.click("[data-testid=report-show]")
    expect(error).to_be_hidden()
    page.wait_for_function("() => document.querySelector('[data-testid=reports]')"
                           ".dataset.state === 'ready'")
    assert _report_days(page)[-1] == ("2026-10-16", "2026-10-17")
    assert page.errors == []


def test_en_page_on_a_zh_cn_browser_takes_an_iso_holiday(service: Any) -> None:
    from playwright.sync_api import expect

    url, chromium = service
    page = _page(chromium, url, "zh-CN", "en")
    page.click("[data-testid=tab-admin]")
    page.wait_for_selector("[data-testid=adm-campaign-new]")
    # a list's import time: ISO and 24-hour, not the zh-CN browser's 2026/12/4 01:21:32
    page.click("[data-testid=adm-section-lists]")
    page.select_option("[data-testid=adm-list-campaign]", "loans")
    row = page.locator("[data-testid=adm-lists] tbody tr").first
    row.wait_for()
    imported = row.locator("td").all_inner_texts()
    assert any(re.fullmatch(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}", c) for c in imported), imported
    page.click("[data-testid=adm-section-campaigns]")
    page.click("[data-testid=adm-campaign-edit]")
    page.wait_for_selector("[data-testid=adm-windows]")
    puts: list[dict[str, Any]] = []
    page.on("request", lambda r: puts.append(r.post_data_json)
            if r.method == "PUT" and r.url.endswith("/api/admin/campaigns/loans") else None)
    page.click("[data-testid=adm-holiday-add]")
    box = page.locator("[data-testid=adm-holiday]")
    # not a date (day before month, as a zh-CN browser's own field would take it): said in
    # English, nothing sent
    box.fill("10/01/2026")
    box.press("Tab")
    message = ('Holiday: "10/01/2026" is not a date; write it as year-month-day, '
               "YYYY-MM-DD (e.g. 2026-10-01)")
    expect(page.locator("[data-testid=adm-window-error]")).to_have_text(message)
    page.click("[data-testid=adm-campaign-save]")
    expect(page.locator("[data-testid=adm-strategy-windows-error]")).to_have_text(message)
    assert puts == []
    # an empty one added and left: named too
    box.fill("")
    page.click("[data-testid=adm-campaign-save]")
    expect(page.locator("[data-testid=adm-strategy-windows-error]")).to_contain_text(
        "Holiday: no date given")
    assert puts == []
    # typed with slashes, year first: written as ISO
    box.fill("2026/10/1")
    box.press("Tab")
    expect(box).to_have_value("2026-10-01")
    expect(page.locator("[data-testid=adm-window-error]")).to_be_hidden()
    # a second one picked from the calendar, in English, Monday first
    page.click("[data-testid=adm-holiday-add]")
    second = page.locator("[data-testid=adm-holiday]").nth(1)
    second.fill("2027-01-01")
    page.locator("[data-testid=adm-holiday-pick]").nth(1).click()
    calendar = page.locator("[data-testid=adm-holiday-calendar]")
    expect(calendar.locator("[data-testid=date-pop-title]")).to_have_text("January 2027")
    assert calendar.locator("thead th").all_inner_texts() == list("MTWTFSS")
    calendar.locator("[data-testid=date-pop-prev]").click()
    calendar.locator("[data-date='2026-12-31']").click()
    expect(second).to_have_value("2026-12-31")
    with page.expect_response(lambda r: r.url.endswith("/api/admin/campaigns/loans")
                              and r.request.method == "PUT") as saved:
        page.click("[data-testid=adm-campaign-save]")
    assert saved.value.ok, saved.value.status
    assert puts[-1]["strategy"]["windows"]["holidays"] == ["2026-10-01", "2026-12-31"]
    with closing(httpx.Client(base_url=url, timeout=30.0)) as api:
        api.post("/api/login", json={"name": ADMIN, "password": ADMIN_PASSWORD})
        stored = api.get("/api/admin/campaigns/loans").json()
    assert stored["strategy"]["windows"]["holidays"] == ["2026-10-01", "2026-12-31"]
    # shown again as stored, ISO, on reopening
    page.reload()
    page.wait_for_selector("body[data-ready='1']")
    page.click("[data-testid=tab-admin]")
    page.click("[data-testid=adm-campaign-edit]")
    page.wait_for_selector("[data-testid=adm-holiday]")
    assert page.locator("[data-testid=adm-holiday]").evaluate_all(
        "bs => bs.map(b => b.value)") == ["2026-10-01", "2026-12-31"]
    assert page.errors == []
