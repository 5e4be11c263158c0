"""The ISO date box's pure parts (date-box.js) in headless Chromium's own engine, against
references written again in Python from its rules: ``parseDate`` reads any text as the
reference does (year first, four digits; "-", "/", "." or 年月日 between the parts, or
YYYYMMDD; full-width digits; no day the month lacks), ``stepDate`` moves a date as
Python's calendar arithmetic does, and ``monthGrid`` is the six Monday-first weeks
around a month. A disposition's date field (desk-form.js) on the Chinese page of an
en-US browser takes loose forms, sends ISO and refuses in Chinese. Served from the
source folder through Playwright's request routing (no server); hypothesis draws the
texts and dates."""

from __future__ import annotations

import calendar
import re
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from desk_browser_kit import browser, chromium_missing
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

STATIC = Path(__file__).resolve().parents[2] / "dialer" / "service" / "static"
ORIGIN = "http://dates.test"

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def page() -> Iterator[Any]:
    why = chromium_missing()
    if why:
        pytest.skip(why)
    with browser() as chromium:
        tab = chromium.new_page(locale="en-US")

        def serve(route: Any) -> None:
            name = route.request.url.removeprefix(f"{ORIGIN}/")
            path = STATIC / name
            if name.endswith(".js") and path.is_file():
                route.fulfill(body=path.read_bytes(), content_type="text/javascript")
            else:
                route.fulfill(body="<!doctype html><title>t</title>", content_type="text/html")

        tab.route(f"{ORIGIN}/**", serve)
        tab.goto(f"{ORIGIN}/")
        tab.evaluate("async () => { window.D = await import('/date-box.js'); }")
        yield tab


FULL_WIDTH = str.maketrans("０１２３４５６７８９－／．", "0123456789-/.")


def _date(text: str) -> str | None:
    """What the date boxes take, written again from their rules."""
    t = text.strip().translate(FULL_WIDTH)
    m = (re.fullmatch(r"([0-9]{4})\s*[-/.年]\s*([0-9]{1,2})\s*[-/.月]\s*([0-9]{1,2})\s*日?", t)
         or re.fullmatch(r"([0-9]{4})([0-9]{2})([0-9]{2})", t))
    if not m:
        return None
    try:
        return date(int(m[1]), int(m[2]), int(m[3])).isoformat()
    except ValueError:
        return None


dates = st.dates(date(1, 1, 1), date(9999, 12, 31))


@settings(max_examples=40, deadline=None, suppress_health_check=[
    HealthCheck.function_scoped_fixture])
@given(texts=st.lists(st.text(alphabet="0123456789-/.年月日 ０９－a", max_size=12), max_size=40),
       days=st.lists(dates, min_size=1, max_size=20))
def test_the_date_box_reads_dates_as_the_reference_does(
        page: Any, texts: list[str], days: list[date]) -> None:
    assert page.evaluate("(ts) => ts.map((t) => D.parseDate(t))", texts) == [
        _date(t) for t in texts]
    # every way of writing a day gives it as YYYY-MM-DD
    spellings = [[d.isoformat(), f"{d.year:04d}/{d.month}/{d.day}",
                  f"{d.year:04d}{d.month:02d}{d.day:02d}",
                  f"{d.year:04d}年{d.month}月{d.day}日", f" {d.year:04d}.{d.month:02d}.{d.day} ",
                  d.isoformat().translate(str.maketrans("0123456789-", "０１２３４５６７８９－"))]
                 for d in days]
    got = page.evaluate("(ss) => ss.map((s) => s.map((t) => D.parseDate(t)))", spellings)
    assert got == [[d.isoformat()] * 6 for d in days]


def _months(d: date, n: int) -> date | None:
    total = d.year * 12 + d.month - 1 + n
    year, month = divmod(total, 12)
    if not 1 <= year <= 9999:
        return None
    return date(year, month + 1, min(d.day, calendar.monthrange(year, month + 1)[1]))


def _days(d: date, n: int) -> date | None:
    try:
        return d + timedelta(days=n)
    except OverflowError:
        return None


@settings(max_examples=40, deadline=None, suppress_health_check=[
    HealthCheck.function_scoped_fixture])
@given(days=st.lists(dates, min_size=1, max_size=20), n=st.sampled_from([-1, 1]))
def test_arrows_step_a_day_month_or_year_as_the_calendar_does(
        page: Any, days: list[date], n: int) -> None:
    got = page.evaluate(
        "([ds, n]) => ds.map((d) => ['d', 'm', 'y'].map((p) => D.stepDate(d, p, n)))",
        [[d.isoformat() for d in days], n])
    want = [[(x.isoformat() if x else None) for x in (_days(d, n), _months(d, n),
                                                      _months(d, 12 * n))] for d in days]
    assert got == want


@settings(max_examples=30, deadline=None, suppress_health_check=[
    HealthCheck.function_scoped_fixture])
@given(month=st.dates(date(2, 1, 1), date(9998, 12, 1)).map(lambda d: d.replace(day=1)))
def test_a_calendar_page_is_six_monday_first_weeks_around_its_month(
        page: Any, month: date) -> None:
    grid = page.evaluate("([y, m]) => D.monthGrid(y, m)", [month.year, month.month])
    first = month - timedelta(days=month.weekday())
    assert grid == [(first + timedelta(days=i)).isoformat() for i in range(42)]


def test_a_disposition_date_field_on_the_zh_page_of_an_en_us_browser(page: Any) -> None:
    page.evaluate("""async () => {
        const { I18n } = await import('/i18n.js');
        const { STRINGS } = await import('/strings.js');
        const { DispositionForm } = await import('/desk-form.js');
        window.I = new I18n(STRINGS);
        I.set('zh-CN');
        const box = document.createElement('div');
        document.body.replaceChildren(box);
        window.F = new DispositionForm(box, I);
        F.build({code: 'promise', fields: [
            {name: 'date', kind: 'date', label: '承诺日期', required: true}]});
    }""")
    assert page.evaluate("navigator.language") == "en-US"
    field = page.locator("[data-testid=field-date]")
    assert field.get_attribute("type") == "text"
    field.fill("2026/12/1")
    field.press("Tab")
    assert field.input_value() == "2026-12-01"
    assert page.evaluate("() => [F.refuseBadDates(), F.values()]") == [
        False, {"date": "2026-12-01"}]
    page.click("[data-testid=field-date-pick]")
    assert page.inner_text("[data-testid=date-pop-title]") == "2026年12月"
    page.click("[data-date='2026-12-15']")
    assert field.input_value() == "2026-12-15"
    # by keyboard: the chosen day has the focus; a week on, a day back, a month on, pick
    page.click("[data-testid=field-date-pick]")
    for key in ("ArrowDown", "ArrowLeft", "PageDown"):
        page.keyboard.press(key)
    assert page.inner_text("[data-testid=date-pop-title]") == "2027年1月"
    page.keyboard.press("Enter")
    assert field.input_value() == "2027-01-21"
    assert page.locator("[data-testid=field-date-calendar]").count() == 0
    field.fill("12/15/2026")                 # what the browser's own field would show
    assert page.evaluate("() => F.refuseBadDates()") is True
    assert page.inner_text("[data-testid=error-date]") == (
        "承诺日期：“12/15/2026”不是有效日期，请按 年-月-日 填写，即 YYYY-MM-DD（如 2026-10-01）")
    page.evaluate("() => I.set('en')")


@settings(max_examples=30, deadline=None, suppress_health_check=[
    HealthCheck.function_scoped_fixture])
@given(epochs=st.lists(st.integers(0, 4_102_444_800), min_size=1, max_size=20),
       zone=st.sampled_from(["Asia/Shanghai", "America/New_York", "UTC", "Asia/Kolkata"]))
def test_shown_times_are_iso_in_any_zone_as_python_writes_them(
        page: Any, epochs: list[int], zone: str) -> None:
    """when.js: the times the pages show (recordings, lists, alarms, the desk's history)
    are "YYYY-MM-DD HH:MM:SS" and 24-hour, as Python's zoneinfo gives them, on an en-US
    browser (toLocaleString() wrote 12/4/2026, 1:21:32 AM)."""
    from datetime import datetime
    from zoneinfo import ZoneInfo

    page.evaluate("async () => { window.W = await import('/when.js'); }")
    got = page.evaluate("([es, zone]) => es.map((e) => [W.isoDateTime(e, {zone}), "
                        "W.isoTime(e, {zone, seconds: false})])", [epochs, zone])
    want = [[datetime.fromtimestamp(e, ZoneInfo(zone)).strftime("%Y-%m-%d %H:%M:%S"),
             datetime.fromtimestamp(e, ZoneInfo(zone)).strftime("%H:%M")] for e in epochs]
    assert got == want
