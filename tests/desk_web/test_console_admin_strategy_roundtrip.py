"""The Admin tab's strategy editors translate between the strategy's ``windows`` and
``retries`` and rows of inputs (console-admin-strategy.js). Property: for any strategy the
service can store, rows made from it and read back give the same strategy, as the
service reads it (``Strategy.from_dict``), so opening and saving a campaign changes
nothing, both through the pure translations and through the editor's own inputs (the
24-hour time boxes, console-admin-clock.js); and delays shown in a unit come back as the
same seconds. The time boxes' parser agrees with a reference (the same rules written in
Python) on any text, and typing into a box by keyboard (loose forms, arrows, a wrong
time) ends as the strategy's "HH:MM" or a refusal in the page's language. The module runs in
headless Chromium (its real engine), served from the source folder through Playwright's
request routing (no server needed); hypothesis draws the strategies."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from desk_browser_kit import browser, chromium_missing
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from trunkline.dialer.campaigns.strategies import NEXT_DAY, Strategy

STATIC = Path(__file__).resolve().parents[2] / "dialer" / "service" / "static"
ORIGIN = "http://admin.test"
DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
OUTCOMES = ("busy", "no_answer", "machine", "congestion", "unreachable", "abandoned", "error")

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def page() -> Iterator[Any]:
    why = chromium_missing()
    if why:
        pytest.skip(why)
    with browser() as chromium:
        tab = chromium.new_page()

        def serve(route: Any) -> None:
            name = route.request.url.removeprefix(f"{ORIGIN}/")
            path = STATIC / name
            if name.endswith(".js") and path.is_file():
                route.fulfill(body=path.read_bytes(), content_type="text/javascript")
            else:  # an empty page of the origin, for the modules to be imported into
                route.fulfill(body="<!doctype html><title>t</title>", content_type="text/html")

        tab.route(f"{ORIGIN}/**", serve)
        tab.goto(f"{ORIGIN}/")
        tab.evaluate("""async () => {
            window.S = await import('/console-admin-strategy.js');
            window.C = await import('/console-admin-clock.js');
            const { I18n } = await import('/i18n.js');
            const { CONSOLE_STRINGS } = await import('/console-strings.js');
            window.I = new I18n(CONSOLE_STRINGS);
        }""")
        yield tab


def _minutes(m: int) -> str:
    return f"{m // 60:02d}:{m % 60:02d}"


@st.composite
def windows(draw: st.DrawFn) -> dict[str, Any]:
    spec: dict[str, Any] = {}
    for day in DAYS:
        cuts = sorted(draw(st.sets(st.integers(0, 24 * 60), max_size=6)))
        ranges = [(a, b) for a, b in zip(cuts[::2], cuts[1::2], strict=False) if a < b]
        spec[day] = [f"{_minutes(a)}-{_minutes(b)}" for a, b in ranges]
    spec["holidays"] = sorted(draw(st.sets(st.dates().map(lambda d: d.isoformat()),
                                           max_size=3)))
    return spec


delays = st.one_of(st.just(NEXT_DAY), st.integers(0, 7 * 86_400).map(float),
                   st.floats(0, 86_400, allow_nan=False).map(lambda x: round(x, 3)))


@settings(max_examples=60, deadline=None, suppress_health_check=[
    HealthCheck.function_scoped_fixture])
@given(spec=windows(), retries=st.dictionaries(st.sampled_from(OUTCOMES), delays))
def test_rows_read_back_give_the_same_strategy(page: Any, spec: dict[str, Any],
                                               retries: dict[str, Any]) -> None:
    stored = Strategy.from_dict({"windows": spec, "retries": retries}).to_dict()
    back = page.evaluate(
        "([w, r]) => [S.rowsToWindows(S.windowsToRows(w)), S.rowsToRetries("
        "S.retriesToRows(r).map(([o, a, u]) => [o, a, u]))]",
        [stored["windows"], stored["retries"]])
    assert back[0] == stored["windows"]
    assert back[1] == stored["retries"]
    # through the editor's inputs: the time boxes (and date pickers) as the page builds them
    assert page.evaluate("(w) => S.windowsEditor(I, w).read()", stored["windows"]
                         ) == stored["windows"]
    again = Strategy.from_dict({"windows": back[0], "retries": back[1]})
    assert again.to_dict() == stored


@pytest.mark.parametrize(("seconds", "row"), [
    (600.0, ["10", "min"]), (7200.0, ["2", "h"]), (90.0, ["90", "s"]), (0.0, ["0", "s"]),
    (NEXT_DAY, ["", NEXT_DAY]), (1.5, ["1.5", "s"]), (86_400.0, ["24", "h"])])
def test_a_delay_is_shown_in_its_largest_whole_unit(page: Any, seconds: Any,
                                                    row: list[str]) -> None:
    assert page.evaluate("(v) => S.delayToRow(v)", seconds) == row
    assert page.evaluate("([a, u]) => S.rowToDelay(a, u)", row) == seconds


def test_default_windows_fill_every_day_and_typed_text_goes_as_typed(page: Any) -> None:
    rows = page.evaluate("() => S.rowsToWindows(S.windowsToRows("
                         "{default: ['09:00-12:00'], sun: []}))")
    assert rows == {**{d: ["09:00-12:00"] for d in DAYS[:6]}, "sun": [], "holidays": []}
    # Not a number: sent as typed, for the service to refuse in its own words.
    assert page.evaluate("() => S.rowToDelay('ten', 'min')") == "ten"
    assert page.evaluate("() => S.rowToDelay('1,5', 'h')") == 5400


FULL_WIDTH = str.maketrans("０１２３４５６７８９：", "0123456789:")


def _clock(text: str) -> str | None:
    """What the time boxes take, written again from their rules: H, HH, HMM, HHMM, H:MM
    or HH:MM (full-width digits and colon, or a dot, as a colon), 00:00-23:59 or 24:00."""
    t = text.strip().translate(FULL_WIDTH).replace(".", ":")
    m = re.fullmatch(r"([0-9]{1,2}):([0-9]{2})", t) or re.fullmatch(r"([0-9]{1,2})([0-9]{2})", t)
    hm = (m[1], m[2]) if m else ((t, "0") if re.fullmatch(r"[0-9]{1,2}", t) else None)
    if hm is None:
        return None
    h, mi = int(hm[0]), int(hm[1])
    return f"{h:02d}:{mi:02d}" if (h <= 23 and mi <= 59) or (h, mi) == (24, 0) else None


@settings(max_examples=40, deadline=None, suppress_health_check=[
    HealthCheck.function_scoped_fixture])
@given(texts=st.lists(st.text(alphabet="0123456789:.： ０９-a", max_size=6), max_size=40),
       minutes=st.lists(st.integers(0, 24 * 60), min_size=1, max_size=20))
def test_the_time_box_reads_24_hour_times_as_the_reference_does(
        page: Any, texts: list[str], minutes: list[int]) -> None:
    assert page.evaluate("(ts) => ts.map((t) => C.parseClock(t))", texts) == [
        _clock(t) for t in texts]
    # every way of writing a time of day gives it as HH:MM
    spellings = [[f"{h:02d}:{mi:02d}", f"{h}:{mi:02d}", f"{h}{mi:02d}", f" {h:02d}：{mi:02d} ",
                  f"{h}.{mi:02d}"] for h, mi in (divmod(m, 60) for m in minutes)]
    got = page.evaluate("(ss) => ss.map((s) => s.map((t) => C.parseClock(t)))", spellings)
    assert got == [[_minutes(m)] * 5 for m in minutes]
    # arrows: a minute or an hour on, round the clock (24:00 is the next day's 00:00)
    steps = page.evaluate(
        "(ms) => ms.map((m) => [C.stepClock(m, 'm', 1), C.stepClock(m, 'h', -1)])",
        [_minutes(m) for m in minutes])
    assert steps == [[_minutes((m + 1) % 1440), _minutes((m - 60) % 1440)] for m in minutes]


def test_times_typed_into_the_editor_by_keyboard(page: Any) -> None:
    """The calling windows' editor on a zh-CN page: a time typed loosely ends as HH:MM on
    leaving the box, the arrow keys step the hour or minute under the caret, a time that
    is not one is named in Chinese and kept from being sent, and Monday copies."""
    page.evaluate("""() => {
        I.set('zh-CN');
        window.E = S.windowsEditor(I, {mon: ['09:00-12:00'], tue: [], wed: [], thu: [], fri: [],
                                       sat: [], sun: [], holidays: []});
        document.body.replaceChildren(E.node);
    }""")
    start, end = "[data-testid=adm-window-mon-start]", "[data-testid=adm-window-mon-end]"
    assert page.get_attribute(start, "type") == "text"   # not the browser's AM/PM picker
    assert "24 小时制" in (page.get_attribute(start, "aria-label") or "")
    page.click(start, click_count=3)
    page.keyboard.type("830")
    page.keyboard.press("Tab")
    assert page.input_value(start) == "08:30"
    page.keyboard.press("Home")                           # now in the end box: 12:00
    page.keyboard.press("ArrowUp")                        # the hour
    page.keyboard.press("End")
    page.keyboard.press("ArrowDown")                      # the minute
    assert page.input_value(end) == "12:59"
    page.keyboard.press("Control+A")
    page.keyboard.type("25:00")
    page.keyboard.press("Tab")
    error = page.text_content("[data-testid=adm-window-error]") or ""
    assert "星期一，结束" in error and "25:00" in error and "24 小时制" in error
    assert page.get_attribute(end, "aria-invalid") is not None
    refused = page.evaluate("() => { try { E.read(); return null; } "
                            "catch (e) { return [e.key, e.message]; } }")
    assert refused == ["strategy.windows", error]
    page.fill(end, "2000")
    page.dispatch_event(end, "change")
    assert page.text_content("[data-testid=adm-window-error]") == ""
    page.click("[data-testid=adm-window-copy]")
    windows = page.evaluate("() => E.read()")
    assert [windows[d] for d in DAYS] == [["08:30-20:00"]] * 7
    page.evaluate("() => I.set('en')")
